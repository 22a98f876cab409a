/* kefu: the command dispatcher every kefu program's main() uses. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_CLI_H
#define KF_PROTO_CLI_H

#define KF_VERSION "0.1.0"

/* Exit codes shared by all kefu programs. */
enum kf_exit {
	KF_EXIT_OK = 0,
	KF_EXIT_FAILURE = 1, /* the command ran and failed; the message says why */
	KF_EXIT_USAGE = 2,   /* the command line was wrong */
};

struct kf_command {
	const char *name;
	const char *usage;   /* the arguments, e.g. "[--json] [--root DIR]" */
	const char *summary; /* one line for the command list; NULL: internal, not listed */
	/* argv[0] is the command's name; returns a kf_exit code. */
	int (*run)(int argc, char **argv);
};

/*
 * Runs the command named by argv[1] from the NULL-terminated table, or prints
 * the command list for "help", "--help" and "-h", and the version for
 * "--version". An unknown command is a one-line error and KF_EXIT_USAGE.
 */
int kf_cli_dispatch(const char *program, const char *description, const struct kf_command *commands,
		    int argc, char **argv);

/* Prints a one-line error "PROGRAM: MESSAGE" on stderr; returns KF_EXIT_FAILURE. */
int kf_cli_fail(const char *program, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Prints "usage: PROGRAM COMMAND USAGE" on stderr; returns KF_EXIT_USAGE. */
int kf_cli_usage(const char *program, const struct kf_command *command);

#endif
