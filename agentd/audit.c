/* kefu-agentd: the audit log on the customer's machine, JSON lines. SPDX-License-Identifier: MIT */
#include "agentd/audit.h"
#include "proto/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct kf_audit {
	int fd;
	char session[64];
	json_t *technician;
};

const char *kf_audit_default_path(char *buffer, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state != NULL && state[0] == '/')
		snprintf(buffer, size, "%s/kefu/audit.jsonl", state);
	else
		snprintf(buffer, size, "%s/.local/state/kefu/audit.jsonl", home ? home : "/tmp");
	return buffer;
}

/* This boot's id (the kernel's random boot_id), "" when it cannot be read. */
static void boot_id(char *out, size_t size)
{
	FILE *file = fopen("/proc/sys/kernel/random/boot_id", "re");

	out[0] = '\0';
	if (file == NULL)
		return;
	if (fgets(out, (int)size, file) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(file);
}

/*
 * When process pid started, in clock ticks since boot (field 22 of
 * /proc/PID/stat); 0 when it is not running. With the boot id it tells the
 * process apart from a later one that got the same pid.
 */
static unsigned long long process_start(long pid)
{
	char path[64], text[1024], *after_name;
	unsigned long long start = 0;
	FILE *file;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	file = fopen(path, "re");
	if (file == NULL)
		return 0;
	n = fread(text, 1, sizeof(text) - 1, file);
	fclose(file);
	text[n] = '\0';
	/* The name in parentheses may hold spaces: fields are counted after its end. */
	after_name = strrchr(text, ')');
	if (after_name == NULL ||
	    sscanf(after_name + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
		   "%*d %*d %*d %*d %llu",
		   &start) != 1)
		return 0;
	return start;
}

bool kf_audit_is_running(json_t *start)
{
	json_t *helper = json_object_get(start, "helper");
	json_int_t pid = json_integer_value(json_object_get(helper, "pid"));
	const char *boot = json_string_value(json_object_get(helper, "boot"));
	json_int_t started = json_integer_value(json_object_get(helper, "started"));
	char now[64];

	/* A start line without these was written by an older helper: it cannot be checked. */
	if (pid <= 0 || boot == NULL)
		return false;
	boot_id(now, sizeof(now));
	if (strcmp(now, boot) != 0)
		return false;
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return false;
	return started == 0 || process_start((long)pid) == (unsigned long long)started;
}

static void now_text(char *out, size_t size)
{
	struct timespec now;
	struct tm utc;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &utc);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
		 utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
		 (int)(now.tv_nsec / 1000000));
}

static int append_line(struct kf_audit *audit, json_t *line, int is_boundary, struct kf_error *err)
{
	char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t len;
	ssize_t written;

	if (text == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for the audit log");
	len = strlen(text);
	text[len] = '\n'; /* json_dumps leaves room: replace the NUL, write len + 1 */
	written = write(audit->fd, text, len + 1);
	free(text);
	if (written != (ssize_t)(len + 1))
		return kf_error_set(err, KF_ERR_IO, "cannot write the audit log: %s",
				    written < 0 ? strerror(errno) : "short write");
	if (is_boundary && fsync(audit->fd) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot flush the audit log: %s",
				    strerror(errno));
	return KF_OK;
}

static json_t *new_line(const char *session, const char *event)
{
	char time[64];

	now_text(time, sizeof(time));
	return json_pack("{s:s, s:s, s:s}", "time", time, "session", session, "event", event);
}

/*
 * Finds sessions with a start and no end (the agent was killed) and records that
 * they were interrupted. Unreadable lines (the one a crash cut) are skipped.
 */
static int mark_interrupted(struct kf_audit *audit, const char *path, struct kf_error *err)
{
	FILE *file = fopen(path, "re");
	json_t *open_sessions = json_object(), *value;
	char *line = NULL, last = '\n';
	size_t cap = 0;
	ssize_t n;
	const char *session;
	int r = KF_OK;

	if (file == NULL || open_sessions == NULL) {
		if (file != NULL)
			fclose(file);
		json_decref(open_sessions);
		return KF_OK;
	}
	while ((n = getline(&line, &cap, file)) > 0) {
		json_t *entry = json_loads(line, 0, NULL);
		const char *event, *id;

		last = line[n - 1];
		if (entry == NULL)
			continue;
		event = json_string_value(json_object_get(entry, "event"));
		id = json_string_value(json_object_get(entry, "session"));
		if (event != NULL && id != NULL) {
			/* Another helper may be sharing right now: its session is not cut. */
			if (strcmp(event, "session-start") == 0 && !kf_audit_is_running(entry))
				json_object_set_new(open_sessions, id, json_true());
			else if (strcmp(event, "session-end") == 0 ||
				 strcmp(event, "session-interrupted") == 0)
				json_object_del(open_sessions, id);
		}
		json_decref(entry);
	}
	free(line);
	fclose(file);
	/* A line cut by a crash must not swallow the next one. */
	if (last != '\n' && write(audit->fd, "\n", 1) != 1)
		r = kf_error_set(err, KF_ERR_IO, "cannot write the audit log");
	json_object_foreach(open_sessions, session, value)
	{
		json_t *entry = new_line(session, "session-interrupted");

		json_object_set_new(entry, "detail",
				    json_string("the helper stopped without ending this session"));
		if (r == KF_OK)
			r = append_line(audit, entry, 1, err);
		json_decref(entry);
	}
	json_decref(open_sessions);
	return r;
}

int kf_audit_open(const char *path, struct kf_audit **out, struct kf_error *err)
{
	char default_path[PATH_MAX];
	struct kf_audit *audit;
	int r;

	*out = NULL;
	if (path == NULL)
		path = kf_audit_default_path(default_path, sizeof(default_path));
	if (kf_fs_make_parents(path) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot create the folder for %s: %s", path,
				    strerror(errno));
	audit = calloc(1, sizeof(*audit));
	if (audit == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	audit->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (audit->fd < 0) {
		free(audit);
		return kf_error_set(err, KF_ERR_IO, "cannot open the audit log %s: %s", path,
				    strerror(errno));
	}
	snprintf(audit->session, sizeof(audit->session), "-");
	if ((r = mark_interrupted(audit, path, err)) != KF_OK) {
		kf_audit_close(audit);
		return r;
	}
	*out = audit;
	return KF_OK;
}

int kf_audit_session_start(struct kf_audit *audit, const char *session_id,
			   const char *technician_name, const char *organisation,
			   const char *fingerprint, struct kf_error *err)
{
	char boot[64];
	json_t *line;
	int r;

	snprintf(audit->session, sizeof(audit->session), "%s", session_id);
	json_decref(audit->technician);
	audit->technician = json_pack("{s:s, s:s, s:s}", "name", technician_name, "organisation",
				      organisation, "fingerprint", fingerprint);
	line = new_line(audit->session, "session-start");
	json_object_set(line, "technician", audit->technician);
	/* Who writes this session, so that a reader can tell when it was cut (kill -9). */
	boot_id(boot, sizeof(boot));
	json_object_set_new(line, "helper",
			    json_pack("{s:I, s:s, s:I}", "pid", (json_int_t)getpid(), "boot", boot,
				      "started", (json_int_t)process_start((long)getpid())));
	r = append_line(audit, line, 1, err);
	json_decref(line);
	return r;
}

int kf_audit_event(struct kf_audit *audit, const char *event, json_t *fields, struct kf_error *err)
{
	json_t *line = new_line(audit->session, event);
	int r;

	if (audit->technician != NULL)
		json_object_set(line, "technician", audit->technician);
	if (fields != NULL)
		json_object_update(line, fields);
	r = append_line(audit, line, 0, err);
	json_decref(line);
	return r;
}

int kf_audit_session_end(struct kf_audit *audit, const char *outcome, struct kf_error *err)
{
	json_t *line = new_line(audit->session, "session-end");
	int r;

	if (audit->technician != NULL)
		json_object_set(line, "technician", audit->technician);
	json_object_set_new(line, "outcome", json_string(outcome));
	r = append_line(audit, line, 1, err);
	json_decref(line);
	json_decref(audit->technician);
	audit->technician = NULL;
	snprintf(audit->session, sizeof(audit->session), "-");
	return r;
}

void kf_audit_close(struct kf_audit *audit)
{
	if (audit == NULL)
		return;
	if (audit->fd >= 0)
		close(audit->fd);
	json_decref(audit->technician);
	free(audit);
}
