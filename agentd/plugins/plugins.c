/* kefu-agentd: `plugins install` verifies a signed plugin package and installs it;
 * `plugins list` shows what is installed. SPDX-License-Identifier: MIT */
#include "agentd/plugins/plugins.h"
#include "agentd/audit.h"
#include "agentd/commands.h"
#include "agentd/i18n.h"
#include "proto/base/base64.h"
#include "proto/base/fs.h"
#include "proto/plugin/package.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *kf_agent_plugins_dir(char *buffer, size_t size)
{
	const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (data != NULL && data[0] == '/')
		snprintf(buffer, size, "%s/kefu/plugins", data);
	else if (home != NULL && home[0] == '/')
		snprintf(buffer, size, "%s/.local/share/kefu/plugins", home);
	else
		return NULL;
	return buffer;
}

bool kf_agent_plugin_is_trusted(const char *dir, const struct kf_package_publisher *trusted,
				size_t n_trusted, const char *trust_problem, char *why,
				size_t why_size)
{
	static const struct kf_package_publisher none;
	const char *name = strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir;
	enum kf_package_reason reason;
	struct kf_package *listed = NULL;
	struct kf_error err;

	if (kf_package_open_installed(dir, KF_PLUGIN_PACKAGE_KIND,
				      trusted != NULL ? trusted : &none,
				      trusted != NULL ? n_trusted : 0, &kf_plugin_package_limits,
				      false, NULL, &reason, &err) == KF_OK)
		return true;
	if (why == NULL)
		return false;
	if (reason == KF_PACKAGE_UNKNOWN_PUBLISHER && trust_problem != NULL)
		snprintf(why, why_size, "%s is not run: %s", name, trust_problem);
	else if (reason == KF_PACKAGE_UNKNOWN_PUBLISHER &&
		 kf_package_check_installed(dir, &kf_plugin_package_limits, &listed, NULL) == KF_OK)
		snprintf(why, why_size,
			 "%s is not run: its publisher \"%s\" is no longer trusted by the support "
			 "profile",
			 name, listed->publisher);
	else
		snprintf(why, why_size, "%s is not run: %s", name, err.message);
	kf_package_free(listed);
	return false;
}

int kf_agent_plugins_trust(const char *path, struct kf_profile **profile,
			   struct kf_package_publisher **trusted, size_t *n_trusted, char *problem,
			   size_t problem_size)
{
	struct kf_error err;
	int r;

	*profile = NULL;
	*trusted = NULL;
	*n_trusted = 0;
	if ((r = kf_profile_load(path, profile, &err)) != KF_OK ||
	    (r = kf_plugin_package_trust(*profile, trusted, n_trusted, &err)) != KF_OK) {
		snprintf(problem, problem_size,
			 "installed plugins run only with a support profile naming their "
			 "publisher (%s)",
			 err.message);
		kf_profile_free(*profile);
		*profile = NULL;
		return r;
	}
	return KF_OK;
}

#define STAGE_PREFIX "kefu-plugin-step-"

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw);

/*
 * A stage is named with the process that made it ("kefu-plugin-step-PID-XXXXXX").
 * Stages of this user whose process is gone (killed before it could clean up) are
 * removed before a new one is made, so that they never pile up in /tmp.
 */
static void sweep_stages(void)
{
	DIR *tmp = opendir("/tmp");
	struct dirent *entry;
	char path[PATH_MAX];
	struct stat st;

	if (tmp == NULL)
		return;
	while ((entry = readdir(tmp)) != NULL) {
		char *end;
		long pid;

		if (strncmp(entry->d_name, STAGE_PREFIX, strlen(STAGE_PREFIX)) != 0)
			continue;
		pid = strtol(entry->d_name + strlen(STAGE_PREFIX), &end, 10);
		if (end == entry->d_name + strlen(STAGE_PREFIX) || *end != '-' || pid <= 0 ||
		    pid == (long)getpid() || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		snprintf(path, sizeof(path), "/tmp/%s", entry->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
			nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	closedir(tmp);
}

int kf_agent_plugin_stage(const char *dir, const char *id,
			  const struct kf_package_publisher *trusted, size_t n_trusted, char *stage,
			  size_t stage_size, char *copy, size_t copy_size, struct kf_error *err)
{
	struct kf_package *pkg = NULL;
	enum kf_package_reason reason;
	int r;

	stage[0] = '\0';
	r = kf_package_open_installed(dir, KF_PLUGIN_PACKAGE_KIND, trusted, n_trusted,
				      &kf_plugin_package_limits, true, &pkg, &reason, err);
	if (r == KF_OK && strcmp(pkg->id, id) != 0)
		r = kf_error_set(err, KF_ERR_INVALID, "the package in it is %.64s", pkg->id);
	else if (r == KF_OK)
		r = kf_plugin_package_check(pkg, NULL, &reason, err);
	if (r == KF_OK) {
		sweep_stages();
		snprintf(stage, stage_size, "/tmp/" STAGE_PREFIX "%ld-XXXXXX", (long)getpid());
		if (mkdtemp(stage) == NULL) {
			stage[0] = '\0';
			r = kf_error_set(err, KF_ERR_IO, "cannot make a private folder: %s",
					 strerror(errno));
		} else if (snprintf(copy, copy_size, "%s/%s", stage, pkg->id) >= (int)copy_size) {
			r = kf_error_set(err, KF_ERR_INVALID, "path too long");
		} else {
			r = kf_package_install(pkg, copy, err);
		}
		if (r != KF_OK)
			kf_agent_plugin_unstage(stage);
	}
	kf_package_free(pkg);
	return r;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

void kf_agent_plugin_unstage(const char *stage)
{
	if (stage != NULL && stage[0] != '\0')
		nftw(stage, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int kf_agent_plugins_report(const char *root, const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execl("/proc/self/exe", KF_AGENTD_PROGRAM, "diag", "--root", root, "--output", path,
		      (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) > 1)
		return -1;
	return 0;
}

/* Appends one line to the customer's audit log; a log that cannot be written is not fatal. */
static void audit(const char *event, json_t *fields)
{
	struct kf_audit *log;

	if (kf_audit_open(NULL, &log, NULL) == KF_OK) {
		kf_audit_event(log, event, fields, NULL);
		kf_audit_close(log);
	}
	json_decref(fields);
}

/*
 * What is installed at dest may be replaced by pkg: not by an older version
 * without downgrade, nor by another publisher's plugin of the same id without
 * replace. Prints the refusal and audits it.
 */
static bool may_replace(const char *file, const char *dest, const struct kf_package *pkg,
			bool downgrade, bool replace)
{
	struct kf_package *old = NULL;
	struct kf_error err;
	const char *reason = NULL;
	char detail[512];

	if (kf_package_read_installed_list(dest, &kf_plugin_package_limits, &old, &err) != KF_OK)
		return true; /* nothing of ours there: the install replaces it whole */
	if (!replace && strcmp(old->publisher, pkg->publisher) != 0) {
		reason = "other-publisher";
		snprintf(detail, sizeof(detail),
			 "%s is installed from \"%s\"; this package is from \"%s\" (--replace "
			 "installs it instead)",
			 pkg->id, old->publisher, pkg->publisher);
	} else if (!downgrade && kf_package_version_compare(pkg->version, old->version) < 0) {
		reason = "older-version";
		snprintf(detail, sizeof(detail),
			 "%s %s is installed; this package is the older %s (--downgrade installs "
			 "it)",
			 pkg->id, old->version, pkg->version);
	}
	kf_package_free(old);
	if (reason == NULL)
		return true;
	audit("plugin-refused",
	      json_pack("{s:s, s:s, s:s}", "file", file, "reason", reason, "detail", detail));
	fprintf(stderr, "%s: %s: refused: %s: %s\n", KF_AGENTD_PROGRAM, file, reason, detail);
	return false;
}

static int install(int argc, char **argv)
{
	static const struct option options[] = {
		{"profile", required_argument, NULL, 'p'},
		{"dir", required_argument, NULL, 'd'},
		{"downgrade", no_argument, NULL, 'D'},
		{"replace", no_argument, NULL, 'R'},
		{NULL, 0, NULL, 0},
	};
	const char *profile_path = kf_profile_default_path(), *dir = NULL;
	bool downgrade = false, replace = false;
	char default_dir[PATH_MAX], dest[PATH_MAX], probe[PATH_MAX + 4];
	struct kf_package_publisher *trusted = NULL;
	struct kf_profile *profile = NULL;
	struct kf_package *pkg = NULL;
	enum kf_package_reason reason = KF_PACKAGE_OK;
	struct kf_error err;
	size_t n_trusted = 0;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'p')
			profile_path = optarg;
		else if (opt == 'd')
			dir = optarg;
		else if (opt == 'D')
			downgrade = true;
		else if (opt == 'R')
			replace = true;
		else
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	if (dir == NULL && (dir = kf_agent_plugins_dir(default_dir, sizeof(default_dir))) == NULL)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "no HOME or XDG_DATA_HOME: give --dir DIR");
	if (kf_profile_load(profile_path, &profile, &err) != KF_OK ||
	    kf_plugin_package_trust(profile, &trusted, &n_trusted, &err) != KF_OK) {
		kf_profile_free(profile);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
	}
	/* The whole verdict is reached in memory; the disk is touched only after it. */
	r = kf_plugin_package_open(argv[optind], trusted, n_trusted, &pkg, &reason, &err);
	free(trusted);
	kf_profile_free(profile);
	if (r != KF_OK) {
		audit("plugin-refused",
		      json_pack("{s:s, s:s, s:s}", "file", argv[optind], "reason",
				kf_package_reason_name(reason), "detail", err.message));
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s: refused: %s", argv[optind], err.message);
	}
	snprintf(probe, sizeof(probe), "%s/x", dir);
	if (snprintf(dest, sizeof(dest), "%s/%s", dir, pkg->id) >= (int)sizeof(dest)) {
		kf_package_free(pkg);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s: path too long", dir);
	}
	if (!may_replace(argv[optind], dest, pkg, downgrade, replace)) {
		kf_package_free(pkg);
		return KF_EXIT_FAILURE;
	}
	if (kf_fs_make_parents(probe) < 0)
		r = kf_error_set(&err, KF_ERR_IO, "%s: cannot create the plugin folder", dir);
	else
		r = kf_package_install(pkg, dest, &err);
	if (r == KF_OK) {
		char *key = kf_base64_encode(pkg->key, sizeof(pkg->key));

		audit("plugin-installed",
		      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "file", argv[optind], "plugin",
				pkg->id, "version", pkg->version, "publisher", pkg->publisher,
				"key", key != NULL ? key : "", "dir", dest));
		printf("installed plugin %s %s from \"%s\" into %s (%zu files)\n", pkg->id,
		       pkg->version, pkg->publisher, dest, pkg->n_files);
		free(key);
	}
	kf_package_free(pkg);
	return r == KF_OK ? KF_EXIT_OK : kf_cli_fail(KF_AGENTD_PROGRAM, "%s", err.message);
usage:
	fprintf(stderr,
		"usage: %s plugins install [--profile FILE] [--dir DIR] [--downgrade] [--replace] "
		"FILE.kefupkg\n",
		KF_AGENTD_PROGRAM);
	return KF_EXIT_USAGE;
}

static int list(int argc, char **argv)
{
	static const struct option options[] = {
		{"dir", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"profile", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *profile_path = kf_profile_default_path();
	char default_dir[PATH_MAX], problem[KF_ERROR_MESSAGE_SIZE + 128];
	struct kf_package_publisher *trusted = NULL;
	struct kf_profile *profile = NULL;
	size_t n_trusted = 0;
	bool trust_loaded;
	struct dirent **names;
	bool json = false;
	json_t *out = json_array();
	int opt, n, i;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'd')
			dir = optarg;
		else if (opt == 'j')
			json = true;
		else if (opt == 'p')
			profile_path = optarg;
		else {
			json_decref(out);
			fprintf(stderr,
				"usage: %s plugins list [--dir DIR] [--profile FILE] [--json]\n",
				KF_AGENTD_PROGRAM);
			return KF_EXIT_USAGE;
		}
	}
	if (dir == NULL && (dir = kf_agent_plugins_dir(default_dir, sizeof(default_dir))) == NULL) {
		json_decref(out);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "no HOME or XDG_DATA_HOME: give --dir DIR");
	}
	trust_loaded = kf_agent_plugins_trust(profile_path, &profile, &trusted, &n_trusted, problem,
					      sizeof(problem)) == KF_OK;
	n = scandir(dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		char path[PATH_MAX];
		char why[KF_ERROR_MESSAGE_SIZE + PATH_MAX];
		struct kf_package *pkg = NULL;
		struct kf_error err;
		json_t *entry;

		if (names[i]->d_name[0] == '.' || snprintf(path, sizeof(path), "%s/%s", dir,
							   names[i]->d_name) >= (int)sizeof(path)) {
			free(names[i]);
			continue;
		}
		if (kf_package_check_installed(path, &kf_plugin_package_limits, &pkg, &err) ==
		    KF_OK) {
			bool runs = kf_agent_plugin_is_trusted(path, trusted, n_trusted,
							       trust_loaded ? NULL : problem, why,
							       sizeof(why));

			entry = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "plugin", pkg->id,
					  "version", pkg->version, "publisher", pkg->publisher,
					  "dir", path, "intact", 1, "trusted", runs);
			if (!runs)
				json_object_set_new(entry, "problem", json_string(why));
			if (!json && runs)
				printf("%-32s %-12s %s\n", pkg->id, pkg->version, pkg->publisher);
			else if (!json)
				printf("%-32s NOT RUN: %s\n", pkg->id, why);
		} else {
			entry = json_pack("{s:s, s:s, s:b, s:b, s:s}", "plugin", names[i]->d_name,
					  "dir", path, "intact", 0, "trusted", 0, "problem",
					  err.message);
			if (!json)
				printf("%-32s NOT RUN: %s\n", names[i]->d_name, err.message);
		}
		json_array_append_new(out, entry);
		kf_package_free(pkg);
		free(names[i]);
	}
	if (n > 0)
		free(names);
	if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (json_array_size(out) == 0) {
		printf("No plugins installed in %s.\n", dir);
	}
	json_decref(out);
	free(trusted);
	kf_profile_free(profile);
	return KF_EXIT_OK;
}

int kf_agent_cmd_plugins(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "install") == 0)
		return install(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return list(argc - 1, argv + 1);
	fprintf(stderr, "usage: %s plugins install|list ...\n", KF_AGENTD_PROGRAM);
	return KF_EXIT_USAGE;
}

int kf_agent_plugin_load(const char *dir, struct kf_plugin_manifest **out, struct kf_error *err)
{
	int r = kf_plugin_manifest_load(dir, out, err);

	if (r == 0)
		kf_plugin_manifest_localize(*out, kf_i18n_language());
	return r;
}
