/* kefu-agentd: the summary `scan --fix` leaves: what was found, fixed and verified.
 * SPDX-License-Identifier: MIT */
#include "agentd/plugins/scan-summary.h"
#include "proto/base/buffer.h"
#include "proto/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void append(struct kf_buf *out, const char *text)
{
	kf_buf_append(out, text, strlen(text));
}

/* Plugin text is shown as it is: escape what Markdown would turn into markup. */
static void append_markdown(struct kf_buf *out, const char *text)
{
	for (const char *c = text != NULL ? text : ""; *c != '\0'; c++) {
		if (strchr("\\`*_[]<>#|", *c) != NULL)
			kf_buf_append(out, "\\", 1);
		kf_buf_append(out, *c == '\n' ? " " : c, 1);
	}
}

static const char *text_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Which section a check's state belongs to; the order of sections in the file. */
enum section { FIXED, PROBLEM, FAILED, HEALTHY, N_SECTIONS };

static enum section section_of(const char *state)
{
	if (strcmp(state, "fixed") == 0)
		return FIXED;
	if (strncmp(state, "problem", 7) == 0)
		return PROBLEM;
	if (strcmp(state, "check-failed") == 0)
		return FAILED;
	return HEALTHY; /* healthy, not-applicable */
}

static void append_check(struct kf_buf *md, const json_t *check)
{
	const char *state = text_of(check, "state"), *fix = text_of(check, "fix");
	const json_t *steps = json_object_get(check, "steps"), *step;
	size_t i;

	append(md, "- **");
	append_markdown(md, text_of(check, "title"));
	append(md, "** (");
	append_markdown(md, text_of(check, "plugin"));
	append(md, ")\n");
	json_array_foreach(steps, i, step)
	{
		const char *phase = text_of(step, "step"), *outcome = text_of(step, "outcome");
		const char *finding = text_of(json_object_get(step, "finding"), "summary");

		if (phase == NULL || outcome == NULL)
			continue;
		append(md, "  - ");
		if (strcmp(phase, "detect") == 0)
			append(md, strcmp(outcome, "problem") == 0 ? "Found" : "Checked");
		else if (strcmp(phase, "repair") == 0)
			append(md, strcmp(outcome, "ok") == 0 ? "Repaired" : "Repair failed");
		else
			append(md, strcmp(outcome, "ok") == 0 ? "Verified: fixed"
							      : "Verified: still broken");
		if (finding != NULL) {
			append(md, ": ");
			append_markdown(md, finding);
		}
		append(md, "\n");
	}
	if (fix != NULL && strcmp(state, "fixed") != 0) {
		append(md, "  - Fix offered: ");
		append_markdown(md, fix);
		append(md, "\n");
	}
	json_array_foreach(json_object_get(check, "changes"), i, step)
	{
		append(md, "  - Changed: ");
		append_markdown(md, text_of(step, "path"));
		append(md, " (");
		append_markdown(md, text_of(step, "change"));
		append(md, "; `kefu-agentd scan --undo ");
		append_markdown(md, text_of(check, "check"));
		append(md, "` puts it back)\n");
	}
	if (strncmp(state, "problem ", 8) == 0) {
		append(md, "  - Not fixed: ");
		append_markdown(md, state + 8);
		append(md, "\n");
	}
}

static void build(const json_t *checks, const char *root, time_t now, struct kf_buf *md)
{
	static const char *const titles[N_SECTIONS] = {"Fixed and verified", "Still a problem",
						       "Could not be checked", NULL};
	char when[64], line[256];
	size_t counts[N_SECTIONS] = {0}, i;
	const json_t *check;
	struct tm local;

	localtime_r(&now, &local);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &local);
	json_array_foreach(checks, i, check)
		counts[section_of(text_of(check, "state") ? text_of(check, "state") : "")]++;
	append(md, "# Scan summary\n\nScan of `");
	append_markdown(md, root);
	snprintf(line, sizeof(line),
		 "` on %s: %zu fixed, %zu still a problem, %zu could not be checked, %zu "
		 "healthy.\n",
		 when, counts[FIXED], counts[PROBLEM], counts[FAILED], counts[HEALTHY]);
	append(md, line);
	for (int s = 0; s < HEALTHY; s++) {
		if (counts[s] == 0)
			continue;
		append(md, "\n## ");
		append(md, titles[s]);
		append(md, "\n\n");
		json_array_foreach(checks, i,
				   check) if (section_of(text_of(check, "state")
								 ? text_of(check, "state")
								 : "") == (enum section)s)
			append_check(md, check);
	}
	if (counts[FIXED] + counts[PROBLEM] + counts[FAILED] == 0)
		append(md, "\nNo problems were found.\n");
}

/* Writes content to a temp file in dir and links it as base.md (base-N.md if taken). */
static int write_new_file(const char *dir, const char *base, const struct kf_buf *content,
			  char *path, size_t path_size, struct kf_error *err)
{
	char temp[PATH_MAX];
	int fd, n;

	if (snprintf(temp, sizeof(temp), "%s/.%s.XXXXXX", dir, base) >= (int)sizeof(temp))
		return kf_error_set(err, KF_ERR_INVALID, "the folder %s is too long", dir);
	fd = mkstemp(temp);
	if (fd < 0)
		return kf_error_set(err, KF_ERR_IO, "cannot write in %s: %s", dir, strerror(errno));
	if (write(fd, content->data, content->len) != (ssize_t)content->len || fsync(fd) != 0 ||
	    close(fd) != 0) {
		unlink(temp);
		return kf_error_set(err, KF_ERR_IO, "cannot write in %s", dir);
	}
	for (n = 1; n < 100; n++) {
		int len = n == 1 ? snprintf(path, path_size, "%s/%s.md", dir, base)
				 : snprintf(path, path_size, "%s/%s-%d.md", dir, base, n);

		if (len >= (int)path_size)
			break;
		if (link(temp, path) == 0) {
			unlink(temp);
			return KF_OK;
		}
		if (errno != EEXIST)
			break;
	}
	unlink(temp);
	return kf_error_set(err, KF_ERR_IO, "cannot name the summary in %s", dir);
}

static void default_folder(char *folder, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state != NULL && state[0] == '/')
		snprintf(folder, size, "%s/kefu/scans", state);
	else
		snprintf(folder, size, "%s/.local/state/kefu/scans", home ? home : "/tmp");
}

int kf_scan_summary_write(const json_t *checks, const char *root, const char *dir, char *path,
			  size_t path_size, struct kf_error *err)
{
	char folder[PATH_MAX], folder_file[PATH_MAX + 2], base[64];
	struct kf_buf md = {0};
	time_t now = time(NULL);
	struct tm local;
	int r;

	if (dir == NULL) {
		default_folder(folder, sizeof(folder));
		dir = folder;
	}
	snprintf(folder_file, sizeof(folder_file), "%s/", dir);
	if (kf_fs_make_parents(folder_file) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
	localtime_r(&now, &local);
	strftime(base, sizeof(base), "scan-%Y%m%d-%H%M%S", &local);
	build(checks, root, now, &md);
	r = write_new_file(dir, base, &md, path, path_size, err);
	kf_buf_free(&md);
	return r;
}

int kf_scan_summary_record(const json_t *checks, const char *root, bool is_fix,
			   struct kf_error *err)
{
	char folder[PATH_MAX], path[PATH_MAX + 16], temp[PATH_MAX + 24], when[32];
	json_t *record, *tried = json_array(), *check;
	time_t now = time(NULL);
	struct tm utc;
	size_t i;
	int fd, r = KF_OK;

	default_folder(folder, sizeof(folder));
	snprintf(path, sizeof(path), "%s/last.json", folder);
	snprintf(temp, sizeof(temp), "%s/.last.json.XXXXXX", folder);
	gmtime_r(&now, &utc);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &utc);
	/* What was found and done, without the steps' output. */
	json_array_foreach(checks, i, check)
	{
		const char *state = text_of(check, "state");

		if (state != NULL && strcmp(state, "not-applicable") != 0)
			json_array_append_new(
				tried, json_pack("{s:s?, s:s?, s:s?, s:s, s:O*, s:s*}", "plugin",
						 text_of(check, "plugin"), "check",
						 text_of(check, "check"), "title",
						 text_of(check, "title"), "state", state, "changes",
						 json_object_get(check, "changes"), "undo",
						 text_of(check, "undo")));
	}
	record = json_pack("{s:s, s:s, s:b, s:o}", "when", when, "root", root, "fix", is_fix,
			   "checks", tried);
	if (kf_fs_make_parents(path) != 0 || (fd = mkstemp(temp)) < 0) {
		json_decref(record);
		return kf_error_set(err, KF_ERR_IO, "cannot write in %s: %s", folder,
				    strerror(errno));
	}
	if (json_dumpfd(record, fd, JSON_COMPACT) != 0 || fsync(fd) != 0 || close(fd) != 0 ||
	    rename(temp, path) != 0) {
		unlink(temp);
		r = kf_error_set(err, KF_ERR_IO, "cannot write %s", path);
	}
	json_decref(record);
	return r;
}

json_t *kf_scan_summary_last(void)
{
	char folder[PATH_MAX], path[PATH_MAX + 16];
	json_t *record;

	default_folder(folder, sizeof(folder));
	snprintf(path, sizeof(path), "%s/last.json", folder);
	record = json_load_file(path, 0, NULL);
	if (record != NULL && !json_is_object(record)) {
		json_decref(record);
		record = NULL;
	}
	return record != NULL ? record : json_null();
}
