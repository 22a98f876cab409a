/* kefu-plugin: `lint` checks a plugin folder: manifest, step scripts, shellcheck.
 * SPDX-License-Identifier: MIT */
#include "diag-plugins/kefu-plugin/commands.h"
#include "proto/plugin/manifest.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Whether PROGRAM is an executable in one of the standard directories. */
static bool have_program(const char *name)
{
	static const char *const dirs[] = {"/usr/local/bin", "/usr/bin", "/bin", NULL};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; dirs[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

/* Runs shellcheck on one script; returns 0 when clean, 1 when it complains. */
static int run_shellcheck(const char *script)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 1;
	if (pid == 0) {
		execlp("shellcheck", "shellcheck", "-S", "warning", "--", script, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* Checks one step's script: present, regular, executable; shellcheck when installed. */
static int lint_step(const char *dir, const char *check, const char *what,
		     const struct kf_plugin_step *step, bool shellcheck)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, step->run);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: %s %s: %s is missing or not a regular file\n",
			KF_PLUGIN_PROGRAM, check, what, step->run);
		return 1;
	}
	if ((st.st_mode & 0111) == 0) {
		fprintf(stderr, "%s: %s %s: %s is not executable\n", KF_PLUGIN_PROGRAM, check, what,
			step->run);
		return 1;
	}
	if (shellcheck && run_shellcheck(path) != 0) {
		fprintf(stderr, "%s: %s %s: shellcheck found problems in %s\n", KF_PLUGIN_PROGRAM,
			check, what, step->run);
		return 1;
	}
	return 0;
}

int kf_plugin_cmd_lint(int argc, char **argv)
{
	struct kf_plugin_manifest *m;
	struct kf_error err;
	bool shellcheck = have_program("shellcheck");
	int problems = 0;
	size_t i, j;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s lint DIR\n", KF_PLUGIN_PROGRAM);
		return KF_EXIT_USAGE;
	}
	if (kf_plugin_manifest_load(argv[1], &m, &err) < 0)
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "%s", err.message);
	for (i = 0; i < m->n_checks; i++) {
		const struct kf_plugin_check *c = &m->checks[i];

		problems += lint_step(argv[1], c->id, "detect", &c->detect, shellcheck);
		for (j = 0; j < c->n_repairs; j++)
			problems += lint_step(argv[1], c->id, "repair", &c->repairs[j], shellcheck);
		if (c->has_verify)
			problems += lint_step(argv[1], c->id, "verify", &c->verify, shellcheck);
	}
	/* A language that leaves some words out is allowed (they are shown as written). */
	for (i = 0; i < m->n_translations; i++) {
		const struct kf_plugin_translation *t = &m->translations[i];

		if (t->name == NULL)
			printf("%s: %s leaves the name as written\n", m->id, t->language);
		for (j = 0; j < m->n_checks; j++) {
			bool is_title_left = t->titles[j] == NULL;
			bool is_fix_left = m->checks[j].fix != NULL && t->fixes[j] == NULL;

			if (is_title_left || is_fix_left)
				printf("%s: %s leaves the %s of check %s as written\n", m->id,
				       t->language,
				       is_title_left && is_fix_left ? "title and fix"
				       : is_title_left              ? "title"
								    : "fix",
				       m->checks[j].id);
		}
	}
	if (problems == 0)
		printf("%s %s: %zu checks, manifest and scripts ok%s\n", m->id, m->version,
		       m->n_checks,
		       shellcheck ? "" : " (shellcheck not installed, scripts not linted)");
	kf_plugin_manifest_free(m);
	return problems == 0 ? KF_EXIT_OK : KF_EXIT_FAILURE;
}
