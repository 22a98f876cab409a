/* kefu-agentd: a session's further streams (the screen), admitted and bridged. SPDX-License-Identifier: MIT */
#include "agentd/session/streams.h"
#include "agentd/session/files.h"
#include "agentd/screen/capture.h"
#include "agentd/screen/screen.h"
#include "proto/session/stream-bridge.h"
#include "proto/session/stream-socket.h"
#include "proto/session/stream-token.h"
#include "proto/session/file-transfer.h"
#include "proto/session/tls-stream.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_STREAMS 8
/* A stream must be proven and serving within this time of opening, or it is closed. */
#define STREAM_START_TIMEOUT_MS 15000
#define SWEEP_INTERVAL_MS       1000
/* A viewer waiting for the screen says its 12-byte RFB version, and nothing more. */
#define SCREEN_EARLY_MAX 64

struct side_stream {
	struct kf_agent_streams *streams;
	struct kf_stream *tls; /* until bridged */
	struct kf_stream_bridge *bridge;
	struct kf_agent_file *file; /* a "files" or "firmware" stream, once proven */
	int is_firmware;
	char firmware_dir[4096]; /* the private folder of an update on its way */
	uint8_t preamble[KF_STREAM_PREAMBLE_SIZE];
	size_t have;
	uint64_t opened_at; /* uv_now() when the channel arrived */
	uint32_t fetch_id;  /* the fetch waiting for the customer, 0 when none */
	uint64_t asked_at;  /* uv_now() when the customer was asked */
	char fetch_path[4096];
	int is_waiting_screen; /* a proven screen stream, waiting for the screen to open */
	/* What the viewer sent meanwhile (its RFB version), for the screen once it is open. */
	uint8_t early[SCREEN_EARLY_MAX];
	size_t early_len;
	int is_used;
};

/*
 * The screen being opened on a thread of its own: on Wayland the open waits for
 * the customer's answer in the desktop's dialog (up to two minutes), and the
 * session's loop must go on meanwhile (chat, Stop, revocations, keepalives).
 * The thread reports through done; the opening is freed in done's close callback.
 */
struct screen_opening {
	uv_async_t done;
	struct kf_agent_streams *streams;
	pthread_t thread;
	struct kf_capture_cancel cancel;
	struct kf_screen_options options;
	/* Written by the thread, read on the loop after it is joined. */
	struct kf_screen *screen;
	struct kf_error err;
	int rc;
	/* The loop's own. */
	int is_cancelled; /* the view was stopped while it opened */
};

struct kf_agent_streams {
	uv_loop_t *loop;
	SSL_CTX *tls_context;
	struct kf_stream *control_tls;
	char technician[65];
	struct kf_agent_streams_callbacks callbacks;
	void *user;
	struct kf_screen *screen;
	int is_input_allowed;
	int monitor;       /* the screen stream's monitor; -1: the whole desktop */
	uv_timer_t *sweep; /* its own allocation: libuv may hold it after we are freed */
	/* The screen's thread says "input refused" through this; same allocation rule. */
	uv_async_t *refused;
	/* ... and "the desktop ended the capture" through this. */
	uv_async_t *lost;
	struct screen_opening *opening; /* NULL when no screen is being opened */
	/*
	 * The desktop's restore token (Wayland's ScreenCast portal): a later view in
	 * this session reopens without asking; it is wiped with the session.
	 */
	char restore_token[256];
	struct side_stream slots[MAX_STREAMS];
	uint32_t last_fetch_id;
	unsigned fetch_timeout_ms;
};

static void slot_release(struct side_stream *slot)
{
	if (slot->tls != NULL)
		kf_stream_close(slot->tls);
	if (slot->bridge != NULL)
		kf_stream_bridge_close(slot->bridge);
	if (slot->file != NULL)
		kf_agent_file_stop(slot->file, "the stream was stopped");
	memset(slot, 0, sizeof(*slot));
}

static void event(struct kf_agent_streams *streams, const char *what, const char *detail)
{
	if (streams->callbacks.on_event != NULL)
		streams->callbacks.on_event(streams->user, what, detail);
}

static void refuse(struct side_stream *slot, const char *why)
{
	event(slot->streams, "stream-refused", why);
	slot_release(slot);
}

static void bridge_closed(void *user)
{
	struct side_stream *slot = user;

	/* The bridge frees itself; only forget it. */
	slot->bridge = NULL;
	event(slot->streams, "screen-viewer-left", "");
	memset(slot, 0, sizeof(*slot));
}

/* On the screen's thread: hand the news to the loop. */
static void screen_input_refused(void *user)
{
	struct kf_agent_streams *streams = user;

	uv_async_send(streams->refused);
}

static void on_input_refused(uv_async_t *async)
{
	struct kf_agent_streams *streams = async->data;

	if (streams != NULL)
		event(streams, "input-refused", "keyboard, mouse or clipboard without control");
}

/* On the screen's thread: the desktop ended the capture; the loop says so. */
static void screen_lost(const char *why, void *user)
{
	struct kf_agent_streams *streams = user;

	(void)why; /* the screen keeps it: the loop reads it there */
	uv_async_send(streams->lost);
}

/*
 * A screen whose desktop ended the capture serves nobody again: it is told once
 * and dropped, so that the next view opens the desktop anew (and asks again).
 */
static void forget_lost_screen(struct kf_agent_streams *streams)
{
	char why[256];

	if (streams->screen == NULL || !kf_screen_is_lost(streams->screen, why, sizeof(why)))
		return;
	kf_screen_free(streams->screen);
	streams->screen = NULL;
	event(streams, "screen-lost", why);
}

static void on_screen_lost(uv_async_t *async)
{
	struct kf_agent_streams *streams = async->data;

	if (streams != NULL)
		forget_lost_screen(streams);
}

/* A proven screen stream and an open screen: attach it through a socketpair. */
static void attach_viewer(struct side_stream *slot)
{
	struct kf_agent_streams *streams = slot->streams;
	struct kf_stream *local;
	struct kf_error err;
	int pair[2];

	slot->is_waiting_screen = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
		refuse(slot, "no socketpair for the screen");
		return;
	}
	if (kf_screen_attach(streams->screen, pair[0], &err) != KF_OK) {
		close(pair[1]);
		refuse(slot, err.message);
		return;
	}
	if (kf_stream_socket_new(streams->loop, pair[1], &local, &err) != KF_OK) {
		refuse(slot, err.message);
		return;
	}
	/* Nothing else writes to the screen's socket yet: these bytes come first. */
	if (slot->early_len > 0 &&
	    kf_stream_write(local, slot->early, slot->early_len, &err) != KF_OK) {
		kf_stream_close(local);
		refuse(slot, err.message);
		return;
	}
	slot->bridge = kf_stream_bridge_new(slot->tls, local, bridge_closed, slot);
	slot->tls = NULL;
	if (slot->bridge == NULL) {
		memset(slot, 0, sizeof(*slot));
		return;
	}
	event(streams, "screen-viewer", kf_screen_describe(streams->screen));
}

static void *open_screen(void *arg)
{
	struct screen_opening *opening = arg;

	kf_error_clear(&opening->err);
	opening->rc = kf_screen_new(&opening->options, &opening->screen, &opening->err);
	uv_async_send(&opening->done);
	return NULL;
}

static void on_opening_closed(uv_handle_t *handle)
{
	struct screen_opening *opening = handle->data;

	kf_capture_cancel_destroy(&opening->cancel);
	free(opening);
}

/* Joins the opening's thread and frees it; returns the screen it opened (NULL if none). */
static struct kf_screen *finish_opening(struct screen_opening *opening)
{
	struct kf_screen *screen = opening->rc == KF_OK ? opening->screen : NULL;

	pthread_join(opening->thread, NULL);
	opening->streams->opening = NULL;
	opening->done.data = opening;
	uv_close((uv_handle_t *)&opening->done, on_opening_closed);
	return screen;
}

static void start_opening(struct kf_agent_streams *streams);

/* On the loop: the opening's thread is done. */
static void on_opened(uv_async_t *async)
{
	struct screen_opening *opening = async->data;
	struct kf_agent_streams *streams = opening->streams;
	int is_cancelled = opening->is_cancelled;
	char why[sizeof(opening->err.message)];
	struct kf_screen *screen;
	struct kf_error err;
	int is_waiting = 0;

	snprintf(why, sizeof(why), "%s", opening->err.message);
	screen = finish_opening(opening);
	if (is_cancelled) {
		/* Freeing the screen closes the desktop's session, should it have started. */
		kf_screen_free(screen);
		event(streams, "screen-open-cancelled",
		      screen == NULL
			      ? why
			      : "the view was stopped; the desktop's screen cast was closed");
		/* A view asked for after the stop opens the screen anew. */
		for (int i = 0; i < MAX_STREAMS; i++)
			is_waiting |= streams->slots[i].is_waiting_screen;
		if (is_waiting)
			start_opening(streams);
		return;
	}
	streams->screen = screen;
	if (screen != NULL)
		kf_screen_set_input(screen, streams->is_input_allowed);
	for (int i = 0; i < MAX_STREAMS; i++) {
		struct side_stream *slot = &streams->slots[i];

		if (!slot->is_waiting_screen)
			continue;
		if (screen == NULL)
			refuse(slot, why);
		/* The grant is checked again where the screen starts to flow. */
		else if (!streams->callbacks.is_allowed(streams->user, "screen", &err))
			refuse(slot, err.message);
		else
			attach_viewer(slot);
	}
}

static void start_opening(struct kf_agent_streams *streams)
{
	struct screen_opening *opening = calloc(1, sizeof(*opening));
	struct kf_error err;

	if (opening == NULL || kf_capture_cancel_init(&opening->cancel, &err) != KF_OK) {
		free(opening);
		goto fail;
	}
	opening->streams = streams;
	opening->options = (struct kf_screen_options){
		.monitor = streams->monitor,
		.is_input_allowed = streams->is_input_allowed,
		.on_input_refused = screen_input_refused,
		.on_lost = screen_lost,
		.user = streams,
		.cancel = &opening->cancel,
		.restore_token = streams->restore_token,
		.restore_token_size = sizeof(streams->restore_token),
	};
	if (uv_async_init(streams->loop, &opening->done, on_opened) != 0) {
		kf_capture_cancel_destroy(&opening->cancel);
		free(opening);
		goto fail;
	}
	opening->done.data = opening;
	if (pthread_create(&opening->thread, NULL, open_screen, opening) != 0) {
		opening->done.data = opening;
		uv_close((uv_handle_t *)&opening->done, on_opening_closed);
		goto fail;
	}
	streams->opening = opening;
	return;
fail:
	for (int i = 0; i < MAX_STREAMS; i++)
		if (streams->slots[i].is_waiting_screen)
			refuse(&streams->slots[i], "cannot start opening the screen");
}

static void on_waiting_read(struct kf_stream *tls, const uint8_t *data, size_t len, void *user)
{
	struct side_stream *slot = user;

	(void)tls;
	if (len > sizeof(slot->early) - slot->early_len) {
		refuse(slot, "a viewer sent more than its greeting before the screen opened");
		return;
	}
	memcpy(slot->early + slot->early_len, data, len);
	slot->early_len += len;
}

/*
 * A proven screen stream: served at once when the screen is open, else it waits
 * while the screen opens (the desktop may be asking the customer).
 */
static void serve_screen(struct side_stream *slot)
{
	struct kf_agent_streams *streams = slot->streams;

	forget_lost_screen(streams);
	if (streams->screen != NULL) {
		attach_viewer(slot);
		return;
	}
	slot->is_waiting_screen = 1;
	slot->tls->on_read = on_waiting_read;
	if (streams->opening == NULL) {
		start_opening(streams);
		/* On Wayland the desktop shows a dialog of its own: the customer is told first. */
		if (streams->opening != NULL && kf_capture_is_wayland())
			event(streams, "screen-asking", "");
	}
}

static void file_done(struct kf_agent_file *file, int status, json_t *fields, void *user)
{
	struct side_stream *slot = user;

	(void)file;
	/* An update that did not arrive leaves nothing: its part is gone, so is its folder. */
	if (slot->is_firmware && status != KF_OK)
		rmdir(slot->firmware_dir);
	if (slot->streams->callbacks.on_file != NULL)
		slot->streams->callbacks.on_file(slot->streams->user,
						 slot->is_firmware ? "firmware" : "files", status,
						 fields);
}

static void file_closed(struct kf_agent_file *file, void *user)
{
	struct side_stream *slot = user;

	(void)file;
	/* The file freed itself with its stream; only forget it. */
	memset(slot, 0, sizeof(*slot));
}

/* Where updates on their way get their private folders: $TMPDIR or /tmp. */
static const char *firmware_parent(void)
{
	const char *tmpdir = getenv("TMPDIR");

	return tmpdir != NULL && tmpdir[0] == '/' ? tmpdir : "/tmp";
}

/* Empties and removes one private update folder left by a helper that is gone. */
static void remove_firmware_folder(const char *path)
{
	DIR *folder = opendir(path);
	struct dirent *entry;
	char inside[PATH_MAX];

	if (folder == NULL)
		return;
	while ((entry = readdir(folder)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(inside, sizeof(inside), "%s/%s", path, entry->d_name) <
		    sizeof(inside))
			unlink(inside);
	}
	closedir(folder);
	rmdir(path);
}

/*
 * The private update folders are named "kefu-firmware-PID-XXXXXX": one whose
 * helper was killed (during the upload, or while the update was checked) is
 * ours to remove once that process is gone. Folders of other users, and of
 * helpers still running, are left alone.
 */
static void sweep_firmware_folders(void)
{
	const char *parent = firmware_parent();
	DIR *folder = opendir(parent);
	struct dirent *entry;
	char path[PATH_MAX];
	struct stat st;

	if (folder == NULL)
		return;
	while ((entry = readdir(folder)) != NULL) {
		const char *rest;
		char *end;
		long pid;

		if (strncmp(entry->d_name, "kefu-firmware-", 14) != 0)
			continue;
		rest = entry->d_name + 14;
		pid = strtol(rest, &end, 10);
		if (end == rest || *end != '-' || pid <= 0 ||
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent, entry->d_name) >=
			    sizeof(path) ||
		    lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
			continue;
		remove_firmware_folder(path);
	}
	closedir(folder);
}

void kf_agent_streams_sweep(void)
{
	char dir[4096];

	kf_file_sink_sweep(kf_agent_download_dir(dir, sizeof(dir)));
	sweep_firmware_folders();
}

/* The core asks before any file leaves: the session and the customer answer by id. */
static void ask_fetch(struct kf_agent_file *file, const char *path, const char *real_path,
		      uint64_t size, bool is_secret, void *user)
{
	struct side_stream *slot = user;
	struct kf_agent_streams *streams = slot->streams;

	if (streams->callbacks.on_fetch_ask == NULL) {
		kf_agent_file_answer(file, false, "this helper cannot ask the customer");
		return;
	}
	slot->fetch_id = ++streams->last_fetch_id;
	if (slot->fetch_id == 0)
		slot->fetch_id = ++streams->last_fetch_id;
	slot->asked_at = uv_now(streams->loop);
	snprintf(slot->fetch_path, sizeof(slot->fetch_path), "%s", path);
	streams->callbacks.on_fetch_ask(streams->user, slot->fetch_id, path, real_path, size,
					is_secret);
}

int kf_agent_streams_answer_fetch(struct kf_agent_streams *streams, uint32_t id, bool is_allowed,
				  const char *why, struct kf_error *err)
{
	for (int i = 0; i < MAX_STREAMS && id != 0; i++) {
		struct side_stream *slot = &streams->slots[i];

		if (slot->fetch_id != id || !kf_agent_file_is_asking(slot->file))
			continue;
		slot->fetch_id = 0;
		kf_agent_file_answer(slot->file, is_allowed, why);
		return KF_OK;
	}
	return kf_error_set(err, KF_ERR_STATE, "that file is no longer waiting");
}

void kf_agent_streams_set_monitor(struct kf_agent_streams *streams, int monitor)
{
	streams->monitor = monitor;
}

void kf_agent_streams_set_fetch_timeout(struct kf_agent_streams *streams, unsigned timeout_ms)
{
	streams->fetch_timeout_ms = timeout_ms;
}

/*
 * A proven "files" or "firmware" stream; bytes that came with the preamble are
 * the start of its header. Files go to the downloads folder; an update goes to
 * a private folder of its own, for the firmware command to check and install.
 */
static void serve_file(struct side_stream *slot, const char *purpose, const uint8_t *rest,
		       size_t rest_len)
{
	char dir[4096];
	const char *where;
	struct kf_stream *tls = slot->tls;
	struct kf_agent_streams *streams = slot->streams;

	slot->is_firmware = strcmp(purpose, "firmware") == 0;
	if (slot->is_firmware) {
		sweep_firmware_folders();
		snprintf(dir, sizeof(dir), "%s/kefu-firmware-%ld-XXXXXX", firmware_parent(),
			 (long)getpid());
		where = mkdtemp(dir);
		snprintf(slot->firmware_dir, sizeof(slot->firmware_dir), "%s", dir);
	} else {
		where = kf_agent_download_dir(dir, sizeof(dir));
	}
	slot->tls = NULL;
	slot->file = kf_agent_file_serve(tls, streams->loop, where, file_done, file_closed,
					 slot->is_firmware ? NULL : ask_fetch, slot);
	if (slot->file == NULL) {
		memset(slot, 0, sizeof(*slot));
		event(streams, "stream-refused", "no folder to save the file in");
		return;
	}
	if (rest_len > 0)
		tls->on_read(tls, rest, rest_len, tls->user);
}

static void on_preamble_read(struct kf_stream *tls, const uint8_t *data, size_t len, void *user)
{
	struct side_stream *slot = user;
	struct kf_agent_streams *streams = slot->streams;
	char purpose[KF_STREAM_PURPOSE_SIZE + 1];
	struct kf_error err;
	size_t take = KF_STREAM_PREAMBLE_SIZE - slot->have;

	(void)tls;
	if (len < take)
		take = len;
	memcpy(slot->preamble + slot->have, data, take);
	slot->have += take;
	if (slot->have < KF_STREAM_PREAMBLE_SIZE)
		return;
	if (kf_stream_token_check(streams->control_tls, slot->preamble, purpose, &err) != KF_OK) {
		refuse(slot, err.message);
		return;
	}
	if (strcmp(purpose, "screen") != 0 && strcmp(purpose, "files") != 0 &&
	    strcmp(purpose, "firmware") != 0) {
		refuse(slot, "a stream for something this helper does not offer");
		return;
	}
	if (strcmp(purpose, "screen") == 0 && len > take) {
		/* A viewer speaks only after the server's greeting: nothing may follow yet. */
		refuse(slot, "a stream sent more than its preamble");
		return;
	}
	/* The check sits here, where the screen or the file would start to flow. */
	if (!streams->callbacks.is_allowed(streams->user, purpose, &err)) {
		refuse(slot, err.message);
		return;
	}
	if (strcmp(purpose, "screen") == 0)
		serve_screen(slot);
	else
		serve_file(slot, purpose, data + take, len - take);
}

static void on_side_end(struct kf_stream *tls, int status, const struct kf_error *err, void *user)
{
	(void)tls;
	(void)status;
	refuse(user, err != NULL ? err->message : "the stream closed before it started");
}

static void on_side_handshake(struct kf_stream *tls, const struct kf_error *err, void *user)
{
	struct side_stream *slot = user;
	struct kf_tls_identity peer;
	struct kf_error failure;

	if (err != NULL) {
		refuse(slot, err->message);
		return;
	}
	/* Only the technician of this session, with the same certificate. */
	if (kf_tls_stream_peer_identity(tls, &peer, &failure) != KF_OK ||
	    strcmp(peer.fingerprint, slot->streams->technician) != 0) {
		refuse(slot, "a stream from another certificate than the session's");
		return;
	}
	tls->on_read = on_preamble_read;
	tls->on_end = on_side_end;
	tls->user = slot;
}

/* Channels that stall in the TLS handshake or before their token would hold a slot forever. */
static void on_sweep(uv_timer_t *timer)
{
	struct kf_agent_streams *streams = timer->data;
	uint64_t now = uv_now(streams->loop);

	for (int i = 0; i < MAX_STREAMS; i++) {
		struct side_stream *slot = &streams->slots[i];
		/* A stream waiting for the screen waits as long as the desktop's dialog. */
		if (slot->is_used && slot->bridge == NULL && slot->file == NULL &&
		    !slot->is_waiting_screen && now - slot->opened_at >= STREAM_START_TIMEOUT_MS)
			refuse(slot, "a stream did not start in time");
		/* A fetch the customer did not answer in time is refused, as a request is. */
		if (slot->is_used && slot->fetch_id != 0 && kf_agent_file_is_asking(slot->file) &&
		    streams->fetch_timeout_ms != 0 &&
		    now - slot->asked_at >= streams->fetch_timeout_ms) {
			uint32_t id = slot->fetch_id;

			slot->fetch_id = 0;
			if (streams->callbacks.on_fetch_expired != NULL)
				streams->callbacks.on_fetch_expired(streams->user, id,
								    slot->fetch_path);
			kf_agent_file_answer(slot->file, false,
					     "the customer did not answer in time");
		}
	}
}

static void on_handle_closed(uv_handle_t *handle)
{
	free(handle);
}

struct kf_agent_streams *kf_agent_streams_new(uv_loop_t *loop, SSL_CTX *tls_context,
					      struct kf_stream *control_tls,
					      const char *technician_fingerprint,
					      const struct kf_agent_streams_callbacks *callbacks,
					      void *user)
{
	struct kf_agent_streams *streams = calloc(1, sizeof(*streams));

	if (streams == NULL)
		return NULL;
	streams->loop = loop;
	streams->monitor = -1;
	streams->tls_context = tls_context;
	streams->control_tls = control_tls;
	snprintf(streams->technician, sizeof(streams->technician), "%s", technician_fingerprint);
	streams->callbacks = *callbacks;
	streams->user = user;
	streams->sweep = malloc(sizeof(*streams->sweep));
	streams->refused = malloc(sizeof(*streams->refused));
	streams->lost = malloc(sizeof(*streams->lost));
	if (streams->sweep == NULL || streams->refused == NULL || streams->lost == NULL ||
	    uv_async_init(loop, streams->refused, on_input_refused) != 0) {
		free(streams->sweep);
		free(streams->refused);
		free(streams->lost);
		free(streams);
		return NULL;
	}
	if (uv_async_init(loop, streams->lost, on_screen_lost) != 0) {
		free(streams->lost);
		free(streams->sweep);
		streams->refused->data = NULL;
		uv_close((uv_handle_t *)streams->refused, on_handle_closed);
		free(streams);
		return NULL;
	}
	streams->refused->data = streams;
	uv_unref((uv_handle_t *)streams->refused);
	streams->lost->data = streams;
	uv_unref((uv_handle_t *)streams->lost);
	uv_timer_init(loop, streams->sweep);
	streams->sweep->data = streams;
	uv_timer_start(streams->sweep, on_sweep, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS);
	/* The session's own handles keep the loop running, not this check. */
	uv_unref((uv_handle_t *)streams->sweep);
	return streams;
}

void kf_agent_streams_attach(struct kf_agent_streams *streams, struct kf_stream *channel)
{
	struct side_stream *slot = NULL;

	for (int i = 0; i < MAX_STREAMS && slot == NULL; i++)
		if (!streams->slots[i].is_used)
			slot = &streams->slots[i];
	if (slot == NULL) {
		kf_stream_close(channel);
		event(streams, "stream-refused", "too many streams");
		return;
	}
	slot->is_used = 1;
	slot->streams = streams;
	slot->opened_at = uv_now(streams->loop);
	if (kf_tls_stream_new(streams->tls_context, 0, channel, on_side_handshake, slot, &slot->tls,
			      NULL) != KF_OK) {
		kf_stream_close(channel);
		memset(slot, 0, sizeof(*slot));
	}
}

void kf_agent_streams_set_input(struct kf_agent_streams *streams, int is_allowed)
{
	streams->is_input_allowed = is_allowed;
	if (streams->screen != NULL)
		kf_screen_set_input(streams->screen, is_allowed);
}

void kf_agent_streams_stop_screen(struct kf_agent_streams *streams)
{
	/*
	 * A screen still opening is given up: its thread closes what it asked the
	 * desktop for (the dialog goes), and what it opened anyway is freed unused.
	 */
	if (streams->opening != NULL && !streams->opening->is_cancelled) {
		streams->opening->is_cancelled = 1;
		kf_capture_cancel_fire(&streams->opening->cancel);
	}
	/* Returns once no further byte of the screen can reach the console. */
	if (streams->screen != NULL)
		kf_screen_stop(streams->screen);
	for (int i = 0; i < MAX_STREAMS; i++)
		if (streams->slots[i].is_used && streams->slots[i].file == NULL)
			slot_release(&streams->slots[i]);
}

void kf_agent_streams_stop_files(struct kf_agent_streams *streams, int is_firmware)
{
	for (int i = 0; i < MAX_STREAMS; i++)
		if (streams->slots[i].file != NULL &&
		    streams->slots[i].is_firmware == is_firmware) {
			/* The file reports through its slot, so the slot is cleared after. */
			kf_agent_file_stop(streams->slots[i].file,
					   is_firmware ? "the customer took 'firmware' back"
						       : "the customer took 'files' back");
			memset(&streams->slots[i], 0, sizeof(streams->slots[i]));
		}
}

int kf_agent_streams_is_sharing(const struct kf_agent_streams *streams)
{
	for (int i = 0; i < MAX_STREAMS; i++)
		if (streams->slots[i].bridge != NULL)
			return 1;
	return 0;
}

void kf_agent_streams_free(struct kf_agent_streams *streams)
{
	if (streams == NULL)
		return;
	kf_agent_streams_stop_screen(streams);
	kf_agent_streams_stop_files(streams, 0);
	kf_agent_streams_stop_files(streams, 1);
	/* The opening was given up above; its thread ends within a portal call's timeout. */
	if (streams->opening != NULL)
		kf_screen_free(finish_opening(streams->opening));
	/* After the screen's thread is gone nothing sends to the asyncs any more. */
	kf_screen_free(streams->screen);
	streams->refused->data = NULL;
	uv_close((uv_handle_t *)streams->refused, on_handle_closed);
	streams->lost->data = NULL;
	uv_close((uv_handle_t *)streams->lost, on_handle_closed);
	OPENSSL_cleanse(streams->restore_token, sizeof(streams->restore_token));
	uv_close((uv_handle_t *)streams->sweep, on_handle_closed);
	free(streams);
}
