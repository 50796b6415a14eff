/* SPDX-License-Identifier: MIT */
#pragma once

#include <mqlink/ipc.h>

#include "cli.h"

/*
 * Handles "-D COMMAND NAME VALUE" (user-property: "NAME KEY VALUE") as
 * mosquitto_pub does: getopt gave COMMAND (it must be "publish"); NAME and
 * the values are argv[*optind...], and *optind is moved past them. Sets the
 * property in f, pointing into argv. Returns 0, or EXIT_USAGE after
 * printing why (unknown name, missing or bad value, given twice, more than
 * MQL_IPC_USER_PROPS_MAX user properties).
 */
int pub_property(const struct cli *cli, struct mql_ipc_frame *f, const char *command, int argc,
                 char **argv, int *optind);
