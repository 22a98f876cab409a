/* kefu: the command dispatcher every kefu program's main() uses. SPDX-License-Identifier: MIT */
#include "proto/base/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void print_commands(FILE *out, const char *program, const char *description,
			   const struct kf_command *commands)
{
	fprintf(out, "%s %s: %s\n\nusage: %s COMMAND [ARGS]\n\ncommands:\n", program, KF_VERSION,
		description, program);
	for (const struct kf_command *c = commands; c->name != NULL; c++)
		if (c->summary != NULL) /* internal commands have none and are not listed */
			fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\n'%s COMMAND --help' describes one command.\n", program);
}

int kf_cli_dispatch(const char *program, const char *description, const struct kf_command *commands,
		    int argc, char **argv)
{
	const char *name;

	if (argc < 2) {
		print_commands(stderr, program, description, commands);
		return KF_EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		print_commands(stdout, program, description, commands);
		return KF_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("%s %s\n", program, KF_VERSION);
		return KF_EXIT_OK;
	}
	for (const struct kf_command *c = commands; c->name != NULL; c++) {
		if (strcmp(name, c->name) != 0)
			continue;
		if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
			printf("usage: %s %s %s\n\n%s\n", program, c->name, c->usage,
			       c->summary != NULL ? c->summary : "(internal)");
			return KF_EXIT_OK;
		}
		return c->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command '%s' (try '%s help')\n", program, name, program);
	return KF_EXIT_USAGE;
}

int kf_cli_fail(const char *program, const char *format, ...)
{
	va_list args;

	fprintf(stderr, "%s: ", program);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
	return KF_EXIT_FAILURE;
}

int kf_cli_usage(const char *program, const struct kf_command *command)
{
	fprintf(stderr, "usage: %s %s %s\n", program, command->name, command->usage);
	return KF_EXIT_USAGE;
}
