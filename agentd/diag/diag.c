/* kefu-agentd diag: diagnostics report, summary and bundle. SPDX-License-Identifier: MIT */
#include "agentd/diag/bundle.h"
#include "agentd/diag/collect.h"
#include "agentd/commands.h"
#include "agentd/diag/report.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct kf_command diag_command = {"diag", KF_AGENTD_DIAG_USAGE, KF_AGENTD_DIAG_SUMMARY,
					       kf_agent_cmd_diag};

/* Writes text to path through a temporary file and a rename: never a half-written file. */
static int write_atomically(const char *path, const char *text, size_t len)
{
	char temp[PATH_MAX];
	FILE *file;
	int n = snprintf(temp, sizeof(temp), "%s.tmp.%ld", path, (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(temp))
		return KF_ERR_TOO_LARGE;
	file = fopen(temp, "wx");
	if (file == NULL)
		return KF_ERR_IO;
	if (fwrite(text, 1, len, file) != len || fflush(file) != 0 || fclose(file) != 0) {
		unlink(temp);
		return KF_ERR_IO;
	}
	if (rename(temp, path) != 0) {
		unlink(temp);
		return KF_ERR_IO;
	}
	return KF_OK;
}

int kf_agent_cmd_diag(int argc, char **argv)
{
	static const struct option options[] = {
		{"root", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"output", required_argument, NULL, 'o'},
		{"bundle", required_argument, NULL, 'b'},
		{"no-redact", no_argument, NULL, 'n'},
		{"map", required_argument, NULL, 'm'},
		{"resolve", required_argument, NULL, 'd'},
		{"ids-dir", required_argument, NULL, 'i'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct kf_collect_ctx ctx;
	struct kf_bundle_options bundle = {0};
	const char *root = "/", *output = NULL;
	bool is_json = false;
	struct stat st;
	char *text;
	int opt, code = KF_EXIT_OK;

	memset(&ctx, 0, sizeof(ctx));
	ctx.tool_timeout_ms = KF_TOOL_TIMEOUT_MS;
	bundle.is_redacted = true;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			root = optarg;
			break;
		case 'j':
			is_json = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'b':
			bundle.path = optarg;
			break;
		case 'n':
			bundle.is_redacted = false;
			break;
		case 'm':
			bundle.map_path = optarg;
			break;
		case 'd':
			ctx.resolve_name = optarg;
			break;
		case 'i':
			ctx.ids_dir = optarg;
			break;
		case 't': {
			char *end;
			long value = strtol(optarg, &end, 10);
			if (*end != '\0' || value < 1 || value > 600000)
				return kf_cli_fail(
					KF_AGENTD_PROGRAM,
					"diag: --timeout wants milliseconds (1..600000)");
			ctx.tool_timeout_ms = (int)value;
			break;
		}
		case 'h':
			printf("usage: %s diag %s\n%s\n", KF_AGENTD_PROGRAM, KF_AGENTD_DIAG_USAGE,
			       KF_AGENTD_DIAG_SUMMARY);
			return KF_EXIT_OK;
		default:
			return kf_cli_usage(KF_AGENTD_PROGRAM, &diag_command);
		}
	}
	if (optind != argc)
		return kf_cli_usage(KF_AGENTD_PROGRAM, &diag_command);
	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
		return kf_cli_fail(KF_AGENTD_PROGRAM, "diag: --root %s is not a directory", root);

	ctx.root = root;
	ctx.is_live = strcmp(root, "/") == 0;
	ctx.report = kf_report_new();
	if (ctx.report == NULL)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "diag: out of memory");
	kf_collect_all(&ctx);

	if (bundle.path != NULL) {
		struct kf_error err = {0};
		char map_used[PATH_MAX] = "";
		if (kf_bundle_write(&bundle, ctx.report, ctx.raw, ctx.raw_count, map_used,
				    sizeof(map_used), &err) != KF_OK) {
			code = kf_cli_fail(KF_AGENTD_PROGRAM, "diag: %s", err.message);
			goto out;
		}
		fprintf(stderr, "Wrote %s (%s).\n", bundle.path,
			bundle.is_redacted ? "redacted" : "NOT redacted");
		if (map_used[0] != '\0')
			fprintf(stderr, "The key to the pseudonyms stays on this computer: %s\n",
				map_used);
	}
	if (is_json || output != NULL) {
		text = kf_report_dump(ctx.report);
		if (text == NULL) {
			code = kf_cli_fail(KF_AGENTD_PROGRAM, "diag: out of memory");
			goto out;
		}
		if (output != NULL && write_atomically(output, text, strlen(text)) != KF_OK)
			code = kf_cli_fail(KF_AGENTD_PROGRAM, "diag: cannot write %s: %s", output,
					   strerror(errno));
		if (is_json)
			puts(text);
		free(text);
	}
	if (!is_json)
		kf_report_print_summary(ctx.report, stdout);
out:
	kf_collect_ctx_release(&ctx);
	kf_report_free(ctx.report);
	return code;
}
