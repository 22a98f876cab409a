/* kefu-agentd collector: device problems in the kernel log. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"
#include "agentd/tool.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KERNEL_LOG_CAP (4 * 1024 * 1024)
#define JOURNAL_CAP    (16 * 1024 * 1024) /* journal JSON is several times the text it holds */
#define KMSG_RECORD    8192               /* a read of /dev/kmsg returns one record, at most this */

/* A recorded tree's kernel log: dmesg or syslog text, or what `journalctl -k -b -o json` wrote. */
static const char *const tree_files[] = {"/var/log/dmesg", "/var/log/kern.log",
					 "/var/log/journal-kernel.json"};
#define TREE_JOURNAL 2

/* Why the live sources gave nothing, to tell the customer what to do. */
struct unread {
	bool is_journal_denied; /* no kernel messages, and this account may not read the system
				   journal */
	bool has_journalctl;
	int kmsg_error; /* KF_ERR_* of the kernel's own log */
	char kmsg_why[KF_ERROR_MESSAGE_SIZE];
};

/*
 * Where the live sources are. Tests point them at recordings: KEFU_KMSG at a
 * file in place of /dev/kmsg, KEFU_JOURNALCTL at a program in place of
 * journalctl. pkexec and sudo clear both, so an administrator's run reads the
 * real ones.
 */
static const char *source_path(const char *variable, const char *fallback)
{
	const char *path = getenv(variable);

	return path != NULL && path[0] != '\0' ? path : fallback;
}

/* Root and the groups systemd's journal files are readable by. */
static bool may_read_system_journal(void)
{
	static const char *const groups[] = {"adm", "systemd-journal", "wheel"};
	gid_t mine[256];
	int n = getgroups(256, mine), i;
	size_t g;

	if (geteuid() == 0)
		return true;
	for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		const struct group *entry = getgrnam(groups[g]);

		if (entry == NULL)
			continue;
		if (entry->gr_gid == getegid())
			return true;
		for (i = 0; i < n; i++) {
			if (mine[i] == entry->gr_gid)
				return true;
		}
	}
	return false;
}

/* A note for journal lines that held no entry: a recording or an output cut short. */
static void note_skipped(struct kf_collect_ctx *ctx, size_t skipped, const char *where)
{
	if (skipped > 0)
		kf_collect_note(ctx, "%s: skipped %zu %s that held no journal entry", where,
				skipped, skipped == 1 ? "line" : "lines");
}

/* Kernel messages of this boot from the journal, as kernel-log lines; KF_OK when there were some.
 */
static int read_journal(struct kf_collect_ctx *ctx, struct kf_buf *text, struct unread *unread)
{
	const char *argv[] = {source_path("KEFU_JOURNALCTL", "journalctl"),
			      "-k",
			      "-b",
			      "-o",
			      "json",
			      "--output-fields=MESSAGE,_SOURCE_MONOTONIC_TIMESTAMP,_TRANSPORT",
			      "--no-pager",
			      "-q",
			      NULL};
	struct kf_kernel_journal_stats stats = {0};
	struct kf_tool_result result;
	struct kf_error err = {0};
	struct kf_buf json = {0};
	int r;

	r = kf_tool_run(argv, ctx->tool_timeout_ms, JOURNAL_CAP, &json, &result, &err);
	unread->has_journalctl = r != KF_ERR_NOT_FOUND;
	if (r == KF_OK && result.exit_status == 0)
		r = kf_kernel_journal_text((const char *)json.data, json.len, KERNEL_LOG_CAP, text,
					   &stats);
	kf_buf_free(&json);
	if (r == KF_OK && result.exit_status == 0 && stats.entries > 0) {
		if (result.is_truncated || stats.is_truncated)
			kf_collect_note(ctx,
					"journal output cut at %d bytes; later messages were "
					"not read",
					JOURNAL_CAP);
		note_skipped(ctx, stats.skipped, "the journal");
		return KF_OK;
	}
	kf_buf_reset(text);
	if (r == KF_ERR_NOT_FOUND)
		kf_collect_note(ctx, "journalctl is not installed; reading the kernel's own log");
	else if (r != KF_OK)
		kf_collect_note(ctx, "journalctl: %s; reading the kernel's own log", err.message);
	else if (result.exit_status != 0)
		kf_collect_note(ctx,
				"journalctl exited with status %d; reading the kernel's own log",
				result.exit_status);
	else if (!may_read_system_journal()) {
		unread->is_journal_denied = true;
		kf_collect_note(ctx, "this account may not read the system journal (root and the "
				     "adm, systemd-journal and wheel groups may); reading the "
				     "kernel's own log");
	} else
		kf_collect_note(ctx, "the journal holds no kernel messages for this boot; reading "
				     "the kernel's own log");
	return r == KF_OK ? KF_ERR_NOT_FOUND : r;
}

/* Keeps each record's message line; drops the " KEY=VALUE" lines that follow it in /dev/kmsg. */
static void drop_continuation_lines(struct kf_buf *text)
{
	char *data = (char *)text->data;
	size_t in = 0, out = 0;

	while (in < text->len) {
		char *nl = memchr(data + in, '\n', text->len - in);
		size_t len = (nl ? (size_t)(nl - (data + in)) + 1 : text->len - in);

		if (data[in] != ' ') {
			memmove(data + out, data + in, len);
			out += len;
		}
		in += len;
	}
	text->len = out;
}

/*
 * The kernel's ring buffer through /dev/kmsg (or the file KEFU_KMSG names):
 * needs CAP_SYSLOG where kernel.dmesg_restrict is 1, as on Debian.
 */
static int read_kmsg(const char *path, struct kf_buf *text, bool *is_truncated,
		     struct kf_error *err)
{
	char *record = malloc(KMSG_RECORD);
	int fd, saved, r = KF_OK;

	*is_truncated = false;
	if (record == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		free(record);
		return kf_error_set(err,
				    saved == EACCES || saved == EPERM ? KF_ERR_DENIED
				    : saved == ENOENT                 ? KF_ERR_NOT_FOUND
								      : KF_ERR_IO,
				    "%s: %s", path, strerror(saved));
	}
	/* Each read is one record; EAGAIN is the end of what is there now. */
	while (r == KF_OK) {
		ssize_t got = read(fd, record, KMSG_RECORD);

		if (got == 0 || (got < 0 && errno == EAGAIN))
			break;
		if (got < 0 && (errno == EINTR || errno == EPIPE))
			continue; /* EPIPE: the record was overwritten while we read */
		if (got < 0) {
			saved = errno;
			r = kf_error_set(err, saved == EPERM ? KF_ERR_DENIED : KF_ERR_IO, "%s: %s",
					 path, strerror(saved));
		} else if (text->len + (size_t)got > KERNEL_LOG_CAP) {
			*is_truncated = true;
			break;
		} else if (kf_buf_append(text, record, (size_t)got) != KF_OK) {
			r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		}
	}
	close(fd);
	free(record);
	if (r == KF_OK)
		drop_continuation_lines(text);
	return r;
}

/* The command an administrator runs once, and the groups that let this user read the journal. */
static void not_checked_live(struct kf_collect_ctx *ctx, const struct unread *unread)
{
	char advice[PATH_MAX + 256], self[PATH_MAX], summary[512];
	const struct passwd *user = getpwuid(getuid());
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = '\0';
	if (unread->kmsg_error == KF_ERR_DENIED) {
		snprintf(summary, sizeof(summary),
			 "Device errors were not checked: this account may read neither the "
			 "kernel log nor the system journal.");
		if (unread->is_journal_denied && user != NULL)
			snprintf(advice, sizeof(advice),
				 "To check them, run `pkexec %s diag` once, or add %s to the adm "
				 "group (sudo adduser %s adm) and log in again.",
				 n > 0 ? self : "kefu-agentd", user->pw_name, user->pw_name);
		else
			snprintf(advice, sizeof(advice),
				 "To check them, run `pkexec %s diag` once.",
				 n > 0 ? self : "kefu-agentd");
		kf_report_add_not_checked(ctx->report, "kernel-log", "denied", summary, advice);
		return;
	}
	snprintf(summary, sizeof(summary),
		 "Device errors were not checked: the kernel log cannot be read (%s) and the "
		 "journal holds no kernel messages.",
		 unread->kmsg_why);
	kf_report_add_not_checked(ctx->report, "kernel-log", "unavailable", summary, NULL);
}

static int read_live(struct kf_collect_ctx *ctx, struct kf_buf *text, const char **source,
		     struct kf_error *err)
{
	const char *kmsg = source_path("KEFU_KMSG", "/dev/kmsg");
	struct unread unread = {0};
	struct kf_error kmsg_err = {0};
	bool is_truncated;

	if (read_journal(ctx, text, &unread) == KF_OK) {
		*source = "journal (journalctl -k -b)";
		return KF_OK;
	}
	unread.kmsg_error = read_kmsg(kmsg, text, &is_truncated, &kmsg_err);
	if (unread.kmsg_error == KF_OK) {
		if (is_truncated)
			kf_collect_note(ctx, "kernel log cut at %d bytes", KERNEL_LOG_CAP);
		*source = "kernel ring buffer (/dev/kmsg)";
		return KF_OK;
	}
	snprintf(unread.kmsg_why, sizeof(unread.kmsg_why), "%s", kmsg_err.message);
	not_checked_live(ctx, &unread);
	return kf_error_set(err, unread.kmsg_error, "cannot read the kernel log: %s",
			    kmsg_err.message);
}

/* A recorded tree keeps its kernel log as a file: text, or journal JSON. */
static int read_tree(struct kf_collect_ctx *ctx, struct kf_buf *text, const char **source,
		     bool *is_truncated, struct kf_error *err)
{
	struct kf_kernel_journal_stats stats;
	struct kf_error file_err = {0}, denied = {0};
	struct kf_buf json = {0};
	char summary[512];
	size_t i;
	int r;

	for (i = 0; i < sizeof(tree_files) / sizeof(tree_files[0]); i++) {
		struct kf_buf *into = i == TREE_JOURNAL ? &json : text;

		*is_truncated = false;
		kf_buf_reset(into);
		r = kf_sysfs_read_tail(ctx->root, tree_files[i],
				       i == TREE_JOURNAL ? JOURNAL_CAP : KERNEL_LOG_CAP, into,
				       is_truncated, &file_err);
		if (r == KF_ERR_DENIED && denied.message[0] == '\0')
			denied = file_err;
		if (r != KF_OK)
			continue;
		if (*is_truncated)
			kf_collect_note(
				ctx, "%s is larger than %d bytes; only its last %d bytes were read",
				tree_files[i], i == TREE_JOURNAL ? JOURNAL_CAP : KERNEL_LOG_CAP,
				i == TREE_JOURNAL ? JOURNAL_CAP : KERNEL_LOG_CAP);
		if (i == TREE_JOURNAL) {
			r = kf_kernel_journal_text((const char *)json.data, json.len,
						   KERNEL_LOG_CAP, text, &stats);
			kf_buf_free(&json);
			if (r != KF_OK)
				return kf_error_set(err, r, "out of memory");
			note_skipped(ctx, stats.skipped, tree_files[i]);
			*is_truncated = *is_truncated || stats.is_truncated;
		}
		*source = tree_files[i];
		return KF_OK;
	}
	if (denied.message[0] != '\0') {
		snprintf(summary, sizeof(summary),
			 "Device errors were not checked: the tree's kernel log cannot be read "
			 "(%s).",
			 denied.message);
		kf_report_add_not_checked(ctx->report, "kernel-log", "denied", summary, NULL);
		return kf_error_set(err, KF_ERR_DENIED, "the tree's kernel log cannot be read: %s",
				    denied.message);
	}
	snprintf(summary, sizeof(summary),
		 "Device errors were not checked: the tree holds no kernel log (%s, %s or %s).",
		 tree_files[0], tree_files[1], tree_files[2]);
	kf_report_add_not_checked(ctx->report, "kernel-log", "absent", summary, NULL);
	return kf_error_set(err, KF_ERR_NOT_FOUND, "no kernel log in the tree (%s, %s or %s)",
			    tree_files[0], tree_files[1], tree_files[2]);
}

int kf_collect_kernel_log(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	struct kf_kernel_events *events = &ctx->events;
	json_t *log = ctx->report->kernel_log, *list;
	struct kf_buf text = {0};
	const char *source = NULL;
	bool is_truncated = false;
	size_t i;
	int r;

	if (ctx->is_live)
		r = read_live(ctx, &text, &source, err);
	else
		r = read_tree(ctx, &text, &source, &is_truncated, err);
	if (r == KF_OK)
		kf_collect_keep_raw(ctx, "kernel.log", text.data, text.len, is_truncated);
	kf_json_set_str(log, "source", source);
	json_object_set_new(log, "checked", json_boolean(r == KF_OK));
	if (r == KF_OK)
		kf_kernel_log_parse((const char *)text.data, text.len, events);
	json_object_set_new(log, "lines", json_integer((json_int_t)events->lines));
	json_object_set_new(log, "bytes", json_integer((json_int_t)text.len));
	list = json_array();
	for (i = 0; i < events->count; i++) {
		const struct kf_kernel_event *ev = &events->items[i];
		json_t *item = json_object();

		kf_json_set_str(item, "kind", kf_kernel_event_kind_name(ev->kind));
		kf_json_set_str(item, "device", ev->device);
		kf_json_set_str(item, "driver", ev->driver);
		kf_json_set_str(item, "detail", ev->detail);
		json_object_set_new(item, "count", json_integer(ev->count));
		kf_json_set_str(item, "line", ev->line);
		json_array_append_new(list, item);
	}
	json_object_set_new(log, "events", list);
	json_object_set_new(log, "events_dropped", json_integer((json_int_t)events->dropped));
	if (events->dropped > 0)
		kf_collect_note(ctx, "%zu more kernel-log events were not kept (limit %d)",
				events->dropped, KF_KERNEL_EVENTS_MAX);
	kf_buf_free(&text);
	return r;
}
