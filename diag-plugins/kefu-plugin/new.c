/* kefu-plugin: `new` scaffolds a working plugin folder with fixtures and a test script.
 * SPDX-License-Identifier: MIT */
#include "diag-plugins/kefu-plugin/commands.h"
#include "proto/plugin/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The scaffold is a complete plugin: a setting in /etc/ID.conf that is switched
 * off is the problem, switching it on is the fix. Authors replace the logic and
 * keep the shape: exit codes, JSON lines, every path under $KEFU_ROOT.
 */
static const char detect_sh[] =
	"#!/bin/sh\n"
	"# kefu plugin @ID@: detect (also the verify step). Exit 0 healthy, 1 problem,\n"
	"# 2 not applicable here, 3 the script itself failed.\n"
	"conf=\"${KEFU_ROOT:-}/etc/@ID@.conf\"\n"
	"[ -f \"$conf\" ] || exit 2\n"
	"if grep -q '^enabled=no' \"$conf\"; then\n"
	"\techo '{\"type\":\"finding\",\"severity\":\"error\",\"summary\":\"@ID@ is switched "
	"off\",\"detail\":\"enabled=no in /etc/@ID@.conf\"}'\n"
	"\techo '{\"type\":\"result\",\"status\":\"problem\"}'\n"
	"\texit 1\n"
	"fi\n"
	"echo '{\"type\":\"result\",\"status\":\"ok\"}'\n"
	"exit 0\n";

static const char repair_sh[] =
	"#!/bin/sh\n"
	"# kefu plugin @ID@: repair. Exit 0 when done, 1 when it failed.\n"
	"conf=\"${KEFU_ROOT:-}/etc/@ID@.conf\"\n"
	"tmp=\"$conf.kefu-tmp\"\n"
	"[ -f \"$conf\" ] || exit 2\n"
	"if ! sed 's/^enabled=no/enabled=yes/' \"$conf\" >\"$tmp\"; then\n"
	"\trm -f \"$tmp\"\n"
	"\techo '{\"type\":\"result\",\"status\":\"failed\",\"summary\":\"could not write "
	"the setting\"}'\n"
	"\texit 1\n"
	"fi\n"
	"chmod --reference=\"$conf\" \"$tmp\" && mv \"$tmp\" \"$conf\"\n"
	"echo '{\"type\":\"result\",\"status\":\"fixed\",\"summary\":\"switched @ID@ on\"}'\n"
	"exit 0\n";

static const char test_sh[] =
	"#!/bin/sh\n"
	"# Tests plugin @ID@ against its fixture roots: the broken one is detected, repaired\n"
	"# and verified; the healthy one reports nothing. KEFU_PLUGIN names the tool.\n"
	"set -eu\n"
	"tool=\"${KEFU_PLUGIN:-kefu-plugin}\"\n"
	"here=$(cd \"$(dirname \"$0\")/..\" && pwd)\n"
	"work=$(mktemp -d)\n"
	"trap 'rm -rf \"$work\"' EXIT\n"
	"cp -R \"$here/tests/broken\" \"$work/broken\"\n"
	"if \"$tool\" test --root \"$work/broken\" \"$here\"; then\n"
	"\techo \"FAIL: the broken fixture was not detected\" >&2\n"
	"\texit 1\n"
	"fi\n"
	"\"$tool\" test --root \"$work/broken\" --fix \"$here\"\n"
	"\"$tool\" test --root \"$work/broken\" \"$here\"\n"
	"\"$tool\" test --root \"$here/tests/healthy\" \"$here\"\n"
	"echo \"@ID@: all tests passed\"\n";

static int write_text(const char *dir, const char *name, int mode, const char *format,
		      const char *id)
{
	char path[PATH_MAX];
	FILE *f;
	int fd;

	if (dir != NULL)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%s", name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	/* Templates name the plugin as @ID@. */
	for (const char *p = format; *p != '\0'; p++) {
		if (strncmp(p, "@ID@", 4) == 0) {
			fputs(id, f);
			p += 3;
		} else {
			fputc(*p, f);
		}
	}
	return fclose(f) == 0 && chmod(path, (mode_t)mode) == 0 ? 0 : -1;
}

/* DIR/tests/WHICH/etc/ID.conf with enabled=VALUE: a fixture root for `kefu-plugin test`. */
static int make_fixture(const char *dir, const char *which, const char *value, const char *id)
{
	char path[PATH_MAX], text[128];

	snprintf(path, sizeof(path), "%s/tests/%s", dir, which);
	if (mkdir(path, 0755) < 0)
		return -1;
	strncat(path, "/etc", sizeof(path) - strlen(path) - 1);
	if (mkdir(path, 0755) < 0)
		return -1;
	snprintf(text, sizeof(text), "# settings of @ID@\nenabled=%s\n", value);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s.conf", id);
	return write_text(NULL, path, 0644, text, id);
}

static int write_manifest(const char *dir, const char *id, const char *publisher)
{
	char path[PATH_MAX], title[128], name[128], fix[128], conf[128], *text;
	json_t *m;
	FILE *f;
	int r;

	if (snprintf(path, sizeof(path), "%s/plugin.json", dir) >= (int)sizeof(path))
		return -1;
	snprintf(name, sizeof(name), "%s switched off", id);
	snprintf(title, sizeof(title), "%s is switched off, so it does not work", id);
	snprintf(fix, sizeof(fix), "Switch %s on in /etc/%s.conf", id, id);
	snprintf(conf, sizeof(conf), "/etc/%s.conf", id);
	m = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:[{s:s}], s:[{s:s, s:s, s:s, s:{s:s, s:i},"
		      " s:[{s:s, s:i, s:{s:b, s:[s]}}], s:{s:s, s:i}}]}",
		      "format", 1, "id", id, "version", "0.1.0", "name", name, "description",
		      "Finds the setting that switches it off and switches it on again.",
		      "publisher", publisher != NULL ? publisher : "", "applies_to", "file", conf,
		      "checks", "id", "switched-off", "title", title, "fix", fix, "detect", "run",
		      "detect.sh", "timeout", 10, "repair", "run", "repair.sh", "timeout", 10,
		      "privileges", "root", 1, "writes", "/etc", "verify", "run", "detect.sh",
		      "timeout", 10);
	if (m == NULL)
		return -1;
	if (publisher == NULL)
		json_object_del(m, "publisher");
	text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(m);
	if (text == NULL)
		return -1;
	f = fopen(path, "wx");
	r = f != NULL && fprintf(f, "%s\n", text) > 0 ? 0 : -1;
	if (f != NULL && fclose(f) != 0)
		r = -1;
	free(text);
	return r;
}

int kf_plugin_cmd_new(int argc, char **argv)
{
	static const struct option options[] = {
		{"publisher", required_argument, NULL, 'p'},
		{"dir", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	const char *publisher = NULL, *parent = ".", *id;
	char dir[PATH_MAX], sub[PATH_MAX + 32];
	struct kf_plugin_manifest *m;
	struct kf_error err;
	int opt;
	size_t i;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'p')
			publisher = optarg;
		else if (opt == 'd')
			parent = optarg;
		else
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	id = argv[optind];
	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') ||
		      id[i] == '-'))
			break;
	if (id[0] < 'a' || id[0] > 'z' || id[i] != '\0' || i > KF_PLUGIN_ID_MAX)
		return kf_cli_fail(KF_PLUGIN_PROGRAM,
				   "\"%s\": a plugin id is 1-64 lower-case letters, digits and "
				   "'-', starting with a letter",
				   id);
	snprintf(dir, sizeof(dir), "%s/%s", parent, id);
	if (mkdir(dir, 0755) < 0)
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s: %s", dir,
				   errno == EEXIST ? "already exists" : strerror(errno));
	snprintf(sub, sizeof(sub), "%s/tests", dir);
	if (mkdir(sub, 0755) < 0 || write_manifest(dir, id, publisher) < 0 ||
	    write_text(dir, "detect.sh", 0755, detect_sh, id) < 0 ||
	    write_text(dir, "repair.sh", 0755, repair_sh, id) < 0 ||
	    write_text(sub, "run.sh", 0755, test_sh, id) < 0)
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s: cannot write the scaffold: %s", dir,
				   strerror(errno));
	if (make_fixture(dir, "broken", "no", id) < 0 ||
	    make_fixture(dir, "healthy", "yes", id) < 0)
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s: cannot write the fixtures: %s", dir,
				   strerror(errno));
	/* The scaffold must always be a valid plugin. */
	if (kf_plugin_manifest_load(dir, &m, &err) != KF_OK)
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s", err.message);
	kf_plugin_manifest_free(m);
	printf("%s: plugin %s with detect.sh, repair.sh (verify runs detect.sh again) and "
	       "tests/run.sh\n",
	       dir, id);
	printf("next: %s lint %s && %s/tests/run.sh\n", KF_PLUGIN_PROGRAM, dir, dir);
	if (publisher == NULL)
		printf("before packing, add \"publisher\" to plugin.json: the name of your signing "
		       "key in the support profile\n");
	return KF_EXIT_OK;
usage:
	fprintf(stderr, "usage: %s new --publisher NAME [--dir PARENT] ID\n", KF_PLUGIN_PROGRAM);
	return KF_EXIT_USAGE;
}
