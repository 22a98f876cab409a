/* kefu-agentd: fwupd as a firmware backend: its JSON, its tools, its progress lines.
 * SPDX-License-Identifier: MIT */
#include "agentd/firmware/fwupd.h"
#include "agentd/tool.h"
#include "proto/base/buffer.h"
#include "proto/firmware/version.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *dup_field(json_t *object, const char *key)
{
	const char *value = json_string_value(json_object_get(object, key));

	return value != NULL ? strndup(value, 256) : NULL;
}

static void device_clear(struct kf_fwupd_device *d)
{
	free(d->id);
	free(d->name);
	free(d->version);
	free(d->version_format);
	for (size_t j = 0; j < d->guid_count; j++)
		free(d->guids[j]);
	free(d->guids);
	memset(d, 0, sizeof(*d));
}

void kf_fwupd_devices_free(struct kf_fwupd_device *devices, size_t count)
{
	for (size_t i = 0; devices != NULL && i < count; i++)
		device_clear(&devices[i]);
	free(devices);
}

static int fill(struct kf_fwupd_device *d, json_t *object)
{
	json_t *guids = json_object_get(object, "Guid"), *flags = json_object_get(object, "Flags");
	json_t *value;
	size_t i;

	d->id = dup_field(object, "DeviceId");
	d->name = dup_field(object, "Name");
	d->version = dup_field(object, "Version");
	d->version_format = dup_field(object, "VersionFormat");
	d->update_state = (int)json_integer_value(json_object_get(object, "UpdateState"));
	d->modified = (long long)json_integer_value(json_object_get(object, "Modified"));
	if (d->id == NULL)
		return KF_ERR_INVALID;
	if (json_is_array(guids) && json_array_size(guids) > 0 && json_array_size(guids) <= 256) {
		d->guids = calloc(json_array_size(guids), sizeof(char *));
		if (d->guids == NULL)
			return KF_ERR_NOMEM;
		json_array_foreach(guids, i, value)
		{
			char *guid = json_is_string(value) ? strndup(json_string_value(value), 64)
							   : NULL;

			if (guid == NULL)
				continue;
			for (char *p = guid; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
			d->guids[d->guid_count++] = guid;
		}
	}
	json_array_foreach(flags, i, value)
	{
		if (json_is_string(value) && strcmp(json_string_value(value), "updatable") == 0)
			d->is_updatable = true;
	}
	return KF_OK;
}

/*
 * fwupd's JSON (`--json` of get-devices or get-updates): its "Devices" array, within the
 * limits, in *list (NULL when fwupd lists none); *root holds it and is the caller's to free.
 * what names the list in errors.
 */
static int devices_array(const char *json, size_t len, const char *what, json_t **root,
			 json_t **list, struct kf_error *err)
{
	if (len > KF_FWUPD_OUTPUT_MAX)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "fwupd's %s is too long", what);
	*root = json_loadb(json, len, 0, NULL);
	*list = json_object_get(*root, "Devices");
	if (!json_is_object(*root) || (*list != NULL && !json_is_array(*list))) {
		json_decref(*root);
		return kf_error_set(err, KF_ERR_INVALID, "fwupd's %s is not its JSON", what);
	}
	if (json_array_size(*list) > KF_FWUPD_MAX_DEVICES) {
		json_decref(*root);
		return kf_error_set(err, KF_ERR_TOO_LARGE, "fwupd lists too many devices");
	}
	return KF_OK;
}

int kf_fwupd_parse_devices(const char *json, size_t len, struct kf_fwupd_device **out,
			   size_t *count, struct kf_error *err)
{
	json_t *root, *list, *value;
	struct kf_fwupd_device *devices;
	size_t i;
	int r;

	*out = NULL;
	*count = 0;
	if ((r = devices_array(json, len, "device list", &root, &list, err)) != KF_OK)
		return r;
	devices = calloc(json_array_size(list) + 1, sizeof(*devices));
	if (devices == NULL) {
		json_decref(root);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	json_array_foreach(list, i, value)
	{
		if (!json_is_object(value))
			continue;
		r = fill(&devices[*count], value);
		if (r == KF_ERR_NOMEM) {
			kf_fwupd_devices_free(devices, *count + 1);
			*count = 0;
			json_decref(root);
			return kf_error_set(err, r, "out of memory");
		}
		if (r == KF_OK)
			(*count)++;
		else
			device_clear(&devices[*count]); /* a device without an id is left out */
	}
	json_decref(root);
	*out = devices;
	return KF_OK;
}

const struct kf_fwupd_device *kf_fwupd_match(const struct kf_fwupd_device *devices, size_t count,
					     const struct kf_fw_metainfo *metainfo)
{
	for (size_t i = 0; i < count; i++) {
		if (!devices[i].is_updatable)
			continue;
		for (size_t j = 0; j < devices[i].guid_count; j++)
			for (size_t k = 0; k < metainfo->guid_count; k++)
				if (strcmp(devices[i].guids[j], metainfo->guids[k]) == 0)
					return &devices[i];
	}
	return NULL;
}

/* ---- running the tools ---- */

typedef void (*line_fn)(void *data, const char *line);

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Hands each complete line (ended by \n or \r, as progress bars redraw) to on_line. */
static void split_lines(struct kf_buf *pending, line_fn on_line, void *data)
{
	size_t start = 0;

	for (size_t i = 0; i < pending->len; i++) {
		if (pending->data[i] != '\n' && pending->data[i] != '\r')
			continue;
		pending->data[i] = '\0';
		if (i > start)
			on_line(data, (const char *)pending->data + start);
		start = i + 1;
	}
	kf_buf_consume(pending, start);
}

/*
 * Runs argv (environment inherited: fwupd reads its own variables) in its own process
 * group, stdin from /dev/null, stdout and stderr together. Keeps up to cap bytes of
 * output in out (NULL: none) and passes lines to on_line (NULL: none). Kills the group
 * after timeout_ms.
 */
static int run(const char *const argv[], int timeout_ms, size_t cap, struct kf_buf *out,
	       line_fn on_line, void *data, int *status, struct kf_error *err)
{
	struct kf_buf pending = {0};
	long long deadline = now_ms() + timeout_ms;
	int pipefd[2], r = KF_OK, wstatus = 0;
	pid_t pid;

	*status = -1;
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot make a pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return kf_error_set(err, KF_ERR_IO, "cannot start %s: %s", argv[0],
				    strerror(errno));
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		setpgid(0, 0);
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
		    dup2(pipefd[1], STDOUT_FILENO) < 0 || dup2(pipefd[1], STDERR_FILENO) < 0)
			_exit(127);
		setenv("LC_ALL", "C.UTF-8", 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	setpgid(pid, pid);
	close(pipefd[1]);
	for (;;) {
		struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
		long long left = deadline - now_ms();
		char chunk[4096];
		ssize_t n;

		if (left <= 0) {
			kill(-pid, SIGKILL);
			r = kf_error_set(err, KF_ERR_TIMEOUT, "%s did not finish in %d s", argv[0],
					 timeout_ms / 1000);
			break;
		}
		if (poll(&pfd, 1, (int)(left < 1000 ? left : 1000)) <= 0)
			continue;
		n = read(pipefd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out != NULL && out->len + (size_t)n <= cap)
			kf_buf_append(out, chunk, (size_t)n);
		else if (out != NULL) {
			kill(-pid, SIGKILL);
			r = kf_error_set(err, KF_ERR_TOO_LARGE, "%s printed too much", argv[0]);
			break;
		}
		if (on_line != NULL) {
			kf_buf_append(&pending, chunk, (size_t)n);
			split_lines(&pending, on_line, data);
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (r == KF_OK)
		*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	kf_buf_free(&pending);
	return r;
}

static int list_devices(const char *tool, const char *command, struct kf_fwupd_device **devices,
			size_t *count, struct kf_error *err)
{
	const char *argv[] = {tool, command, "--json", NULL};
	struct kf_buf out = {0};
	int status, r = run(argv, KF_FWUPD_QUERY_MS, KF_FWUPD_OUTPUT_MAX, &out, NULL, NULL, &status,
			    err);

	if (r == KF_OK && status != 0)
		r = kf_error_set(err, KF_ERR_STATE, "%s %s failed (status %d)", tool, command,
				 status);
	if (r == KF_OK)
		r = kf_fwupd_parse_devices((const char *)out.data, out.len, devices, count, err);
	kf_buf_free(&out);
	return r;
}

int kf_fwupd_open(char *tool, size_t size, struct kf_fwupd_device **devices, size_t *count,
		  struct kf_error *err)
{
	static const char *const tools[] = {"fwupdmgr", "fwupdtool"};
	bool found = false;

	*devices = NULL;
	*count = 0;
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if (!kf_tool_find(tools[i], tool, size))
			continue;
		found = true;
		if (list_devices(tool, "get-devices", devices, count, NULL) == KF_OK)
			return KF_OK;
	}
	tool[0] = '\0';
	return kf_error_set(err, KF_ERR_NOT_FOUND,
			    found ? "fwupd is installed but neither fwupdmgr nor fwupdtool answers"
				  : "fwupd is not installed");
}

struct install_progress {
	kf_fwupd_progress_fn progress;
	void *data;
	char last[256];
};

/* fwupd's progress lines read "Writing…: 75%" (with "..." in some locales). */
static void on_install_line(void *data, const char *line)
{
	struct install_progress *p = data;
	const char *colon = strrchr(line, ':');
	char phase[64];
	size_t len;
	int percent;

	snprintf(p->last, sizeof(p->last), "%s", line);
	if (colon == NULL || sscanf(colon + 1, " %d%%", &percent) != 1 || percent < 0 ||
	    percent > 100)
		return;
	len = (size_t)(colon - line);
	if (len >= 3 && strncmp(colon - 3, "\xe2\x80\xa6", 3) == 0)
		len -= 3;
	while (len > 0 && line[len - 1] == '.')
		len--;
	snprintf(phase, sizeof(phase), "%.*s", (int)len, line);
	if (p->progress != NULL && phase[0] != '\0')
		p->progress(p->data, phase, percent);
}

int kf_fwupd_install(const char *tool, const char *file, const char *device_id,
		     bool allow_reinstall, bool allow_older, kf_fwupd_progress_fn progress,
		     void *data, int *state, char *version, size_t version_size,
		     struct kf_error *err)
{
	const char *argv[8] = {tool, "install", file, device_id, "--no-reboot-check"};
	struct install_progress p = {progress, data, ""};
	struct kf_fwupd_device *history = NULL;
	const struct kf_fwupd_device *newest = NULL;
	size_t count = 0, n = 5;
	int status, r;

	*state = KF_FWUPD_STATE_UNKNOWN;
	version[0] = '\0';
	if (allow_reinstall)
		argv[n++] = "--allow-reinstall";
	if (allow_older)
		argv[n++] = "--allow-older";
	argv[n] = NULL;
	r = run(argv, KF_FWUPD_INSTALL_MS, 0, NULL, on_install_line, &p, &status, err);
	if (r != KF_OK)
		return r;
	if (status != 0)
		return kf_error_set(err, KF_ERR_DENIED, "fwupd failed (status %d): %.160s", status,
				    p.last[0] != '\0' ? p.last : "no message");
	if ((r = list_devices(tool, "get-history", &history, &count, err)) != KF_OK)
		return r;
	for (size_t i = 0; i < count; i++)
		if (strcmp(history[i].id, device_id) == 0 &&
		    (newest == NULL || history[i].modified >= newest->modified))
			newest = &history[i];
	if (newest == NULL)
		r = kf_error_set(err, KF_ERR_STATE, "fwupd keeps no record of the update");
	else {
		*state = newest->update_state;
		snprintf(version, version_size, "%s",
			 newest->version != NULL ? newest->version : "");
	}
	kf_fwupd_devices_free(history, count);
	return r;
}

/* ---- get-updates ---- */

static void update_clear(struct kf_fwupd_update *u)
{
	free(u->device_id);
	free(u->device_name);
	free(u->from);
	free(u->to);
	free(u->appstream_id);
	free(u->name);
	free(u->urgency);
	free(u->description);
	free(u->location);
	free(u->remote_id);
	memset(u, 0, sizeof(*u));
}

void kf_fwupd_updates_free(struct kf_fwupd_update *updates, size_t count)
{
	for (size_t i = 0; updates != NULL && i < count; i++)
		update_clear(&updates[i]);
	free(updates);
}

/* fwupd's release notes are AppStream markup (<p>, <li>): the text, one space between. */
static char *plain_text(const char *markup)
{
	static const struct {
		const char *entity, *text;
	} entities[] = {
		{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
	size_t n = 0, cap = strlen(markup) + 1;
	char *out = malloc(cap);
	bool in_tag = false, space = false;

	if (out == NULL)
		return NULL;
	for (const char *p = markup; *p != '\0'; p++) {
		if (in_tag) {
			in_tag = *p != '>';
			continue;
		}
		if (*p == '<' || isspace((unsigned char)*p)) {
			in_tag = *p == '<';
			space = n > 0;
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = false;
		if (*p == '&') {
			size_t e = 0;
			for (; e < sizeof(entities) / sizeof(entities[0]); e++)
				if (strncmp(p, entities[e].entity, strlen(entities[e].entity)) == 0)
					break;
			if (e < sizeof(entities) / sizeof(entities[0])) {
				out[n++] = entities[e].text[0];
				p += strlen(entities[e].entity) - 1;
				continue;
			}
		}
		out[n++] = *p;
	}
	out[n] = '\0';
	if (n == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The device's newest release: the first, unless kefu can tell a later one is newer. */
static json_t *newest_release(json_t *releases)
{
	json_t *best = NULL, *value;
	size_t i;

	json_array_foreach(releases, i, value)
	{
		const char *version = json_string_value(json_object_get(value, "Version"));
		int order;

		if (i >= KF_FWUPD_MAX_RELEASES)
			break;
		if (!json_is_object(value) || version == NULL)
			continue;
		if (best == NULL ||
		    (kf_fw_version_compare(version,
					   json_string_value(json_object_get(best, "Version")),
					   &order, NULL) == KF_OK &&
		     order > 0))
			best = value;
	}
	return best;
}

static int fill_update(struct kf_fwupd_update *u, json_t *device)
{
	json_t *rel = newest_release(json_object_get(device, "Releases"));
	json_t *locations;
	const char *notes;

	if (rel == NULL || json_string_value(json_object_get(device, "DeviceId")) == NULL)
		return KF_ERR_INVALID;
	locations = json_object_get(rel, "Locations");
	notes = json_string_value(json_object_get(rel, "Description"));
	u->device_id = dup_field(device, "DeviceId");
	u->device_name = dup_field(device, "Name");
	u->from = dup_field(device, "Version");
	u->to = dup_field(rel, "Version");
	u->appstream_id = dup_field(rel, "AppstreamId");
	u->name = dup_field(rel, "Name");
	u->urgency = dup_field(rel, "Urgency");
	u->remote_id = dup_field(rel, "RemoteId");
	if (json_is_string(json_array_get(locations, 0)))
		u->location = strndup(json_string_value(json_array_get(locations, 0)), 4096);
	else
		u->location = dup_field(rel, "Uri");
	if (notes != NULL)
		u->description = plain_text(notes);
	return u->device_id != NULL && u->to != NULL ? KF_OK : KF_ERR_NOMEM;
}

int kf_fwupd_parse_updates(const char *json, size_t len, struct kf_fwupd_update **out,
			   size_t *count, struct kf_error *err)
{
	json_t *root, *list, *value;
	struct kf_fwupd_update *updates;
	size_t i;
	int r;

	*out = NULL;
	*count = 0;
	if ((r = devices_array(json, len, "list of updates", &root, &list, err)) != KF_OK)
		return r;
	updates = calloc(json_array_size(list) + 1, sizeof(*updates));
	if (updates == NULL) {
		json_decref(root);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	json_array_foreach(list, i, value)
	{
		if (!json_is_object(value))
			continue;
		r = fill_update(&updates[*count], value);
		if (r == KF_ERR_NOMEM) {
			kf_fwupd_updates_free(updates, *count + 1);
			*count = 0;
			json_decref(root);
			return kf_error_set(err, r, "out of memory");
		}
		if (r == KF_OK)
			(*count)++;
		else
			update_clear(&updates[*count]);
	}
	json_decref(root);
	*out = updates;
	return KF_OK;
}

/* fwupdmgr's exit status when there is nothing to do (no update). */
#define FWUPD_EXIT_NOTHING_TO_DO 2

int kf_fwupd_get_updates(bool may_use_fwupdtool, char *tool, size_t size,
			 struct kf_fwupd_update **updates, size_t *count, struct kf_error *err)
{
	static const char *const tools[] = {"fwupdmgr", "fwupdtool"};

	*updates = NULL;
	*count = 0;
	for (size_t i = 0; i < (may_use_fwupdtool ? 2u : 1u); i++) {
		const char *argv[] = {tool, "get-updates", "--json", NULL};
		struct kf_buf out = {0};
		const char *start;
		int status, r;

		if (!kf_tool_find(tools[i], tool, size))
			continue;
		r = run(argv, KF_FWUPD_QUERY_MS, KF_FWUPD_OUTPUT_MAX, &out, NULL, NULL, &status,
			err);
		kf_buf_append(&out, "", 1);
		start = r == KF_OK ? strchr((const char *)out.data, '{') : NULL;
		if (r == KF_OK && start != NULL &&
		    (status == 0 || status == FWUPD_EXIT_NOTHING_TO_DO))
			r = kf_fwupd_parse_updates(
				start, out.len - 1 - (size_t)(start - (const char *)out.data),
				updates, count, err);
		else if (r == KF_OK && status == FWUPD_EXIT_NOTHING_TO_DO)
			r = KF_OK; /* "No updatable devices" said in words */
		else if (r == KF_OK)
			r = KF_ERR_NOT_FOUND;
		kf_buf_free(&out);
		/* A daemon that is not running is the usual case; fwupdtool may then answer. */
		if (r == KF_OK || r == KF_ERR_NOMEM || r == KF_ERR_TOO_LARGE || r == KF_ERR_INVALID)
			return r;
	}
	tool[0] = '\0';
	return kf_error_set(err, KF_ERR_NOT_FOUND, "fwupd does not answer here");
}
