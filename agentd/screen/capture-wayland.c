/* kefu-agentd: Wayland capture (ScreenCast portal, PipeWire). SPDX-License-Identifier: MIT */
#include "agentd/screen/capture-wayland.h"
#include "agentd/screen/input-queue.h"
#include "agentd/screen/tiles.h"

#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <pipewire/pipewire.h>
#include <spa/buffer/meta.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define TILE          32
#define PORTAL_BUS    "org.freedesktop.portal.Desktop"
#define PORTAL_PATH   "/org/freedesktop/portal/desktop"
#define IFACE_CAST    "org.freedesktop.portal.ScreenCast"
#define IFACE_REMOTE  "org.freedesktop.portal.RemoteDesktop"
#define IFACE_REQUEST "org.freedesktop.portal.Request"
#define IFACE_SESSION "org.freedesktop.portal.Session"
/* How long the customer has to answer the desktop's dialog, and the first frame to come. */
#define DIALOG_TIMEOUT_MS 120000
#define CALL_TIMEOUT_MS   10000
#define FRAME_TIMEOUT_MS  10000
#define CURSOR_MAX        256
/* RemoteDesktop device types and ScreenCast source types and cursor modes. */
#define DEVICE_KEYBOARD   1u
#define DEVICE_POINTER    2u
#define SOURCE_MONITOR    1u
#define CURSOR_EMBEDDED   2u
#define CURSOR_METADATA   4u
#define PERSIST_TRANSIENT 1u
/* Linux input event codes for the buttons (linux/input-event-codes.h). */
#define BTN_LEFT_CODE   0x110
#define BTN_RIGHT_CODE  0x111
#define BTN_MIDDLE_CODE 0x112

struct wayland_capture {
	struct kf_capture base;
	GMainContext *context;
	GDBusConnection *bus;
	struct kf_capture_cancel *cancel; /* the caller's, during the open only */
	char *restore_token;              /* the caller's, during the open only */
	size_t restore_token_size;
	char *session; /* the portal session's object path */
	guint closed_subscription;
	int is_remote; /* a RemoteDesktop session: input can be sent */
	uint32_t node;
	uint32_t cast_version, remote_version;
	int is_damage_disabled;
	int wake; /* eventfd: PipeWire's thread says something arrived */
	struct pw_thread_loop *loop;
	struct pw_context *pw_context;
	struct pw_core *core;
	struct pw_stream *stream;
	struct spa_hook stream_listener;
	/* Shared with PipeWire's thread, under the thread loop's lock. */
	uint32_t format;
	uint8_t *staging; /* the stream's latest picture, width * 4 bytes a line */
	int staging_width, staging_height;
	struct kf_rect pending[KF_CAPTURE_MAX_RECTS];
	int pending_count;
	int is_full_pending;
	int frames;
	int cursor_x, cursor_y;
	uint32_t cursor_staging[CURSOR_MAX * CURSOR_MAX];
	int cursor_width, cursor_height, cursor_hot_x, cursor_hot_y;
	int is_cursor_pending;
	int is_stream_lost;
	int is_damage_seen;
	/* The screen thread's side. */
	struct kf_capture_frame frame;
	uint32_t cursor_argb[CURSOR_MAX * CURSOR_MAX];
	int is_closed;
	int buttons;                  /* the viewer's button mask, as last sent */
	struct kf_input_queue *input; /* a RemoteDesktop session's: input can be sent */
	char description[256];
};

static GVariant *empty_options(void)
{
	return g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
}

static int dbus_error(struct kf_error *err, const char *what, GError *error)
{
	int rc = kf_error_set(err, KF_ERR_UNSUPPORTED, "%s: %s", what,
			      error ? error->message : "no answer");
	if (error)
		g_error_free(error);
	return rc;
}

/* A portal property, or 0 when the interface is missing. */
static uint32_t portal_u32(GDBusConnection *bus, const char *iface, const char *name)
{
	GVariant *reply = g_dbus_connection_call_sync(
		bus, PORTAL_BUS, PORTAL_PATH, "org.freedesktop.DBus.Properties", "Get",
		g_variant_new("(ss)", iface, name), G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE,
		CALL_TIMEOUT_MS, NULL, NULL);
	if (reply == NULL)
		return 0;
	GVariant *value;
	g_variant_get(reply, "(v)", &value);
	uint32_t result = g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)
				  ? g_variant_get_uint32(value)
				  : 0;
	g_variant_unref(value);
	g_variant_unref(reply);
	return result;
}

struct response {
	int is_done;
	uint32_t code;
	GVariant *results;
};

static void on_response(GDBusConnection *bus, const char *sender, const char *path,
			const char *iface, const char *signal, GVariant *parameters, void *user)
{
	(void)bus;
	(void)sender;
	(void)path;
	(void)iface;
	(void)signal;
	struct response *response = user;
	if (response->is_done)
		return;
	g_variant_get(parameters, "(u@a{sv})", &response->code, &response->results);
	response->is_done = 1;
}

static gboolean on_timeout(void *user)
{
	*(int *)user = 1;
	return G_SOURCE_REMOVE;
}

static gboolean on_cancelled(int fd, GIOCondition condition, void *user)
{
	(void)fd;
	(void)condition;
	*(int *)user = 1;
	return G_SOURCE_REMOVE;
}

static int cancelled_error(struct kf_error *err)
{
	return kf_error_set(err, KF_ERR_CLOSED,
			    "the view was stopped before the desktop's screen sharing dialog was "
			    "answered; the desktop's request was closed");
}

/* Closes an object the portal made for us (a Request, a Session): its dialog goes with it. */
static void close_portal_object(GDBusConnection *bus, const char *path, const char *iface)
{
	GVariant *reply =
		g_dbus_connection_call_sync(bus, PORTAL_BUS, path, iface, "Close", NULL, NULL,
					    G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, NULL);
	if (reply)
		g_variant_unref(reply);
}

/*
 * Calls a portal method that answers through a Request object's Response
 * signal. options must hold the handle_token "kefu<counter>"; *results is the
 * answer's vardict on success (the caller unrefs it).
 */
static int portal_request(struct wayland_capture *w, const char *iface, const char *method,
			  GVariant *parameters, const char *token, int timeout_ms,
			  GVariant **results, struct kf_error *err)
{
	*results = NULL;
	if (w->cancel != NULL && kf_capture_cancel_is_fired(w->cancel))
		return cancelled_error(err);
	char sender[128];
	snprintf(sender, sizeof(sender), "%s", g_dbus_connection_get_unique_name(w->bus) + 1);
	for (char *c = sender; *c; c++)
		if (*c == '.')
			*c = '_';
	char path[256];
	snprintf(path, sizeof(path), PORTAL_PATH "/request/%s/%s", sender, token);
	struct response response = {0};
	guint subscription = g_dbus_connection_signal_subscribe(
		w->bus, PORTAL_BUS, IFACE_REQUEST, "Response", path, NULL,
		G_DBUS_SIGNAL_FLAGS_NO_MATCH_RULE, on_response, &response, NULL);
	/* The match rule is added by hand so that it is in place before the call. */
	char rule[512];
	snprintf(rule, sizeof(rule),
		 "type='signal',sender='" PORTAL_BUS "',interface='" IFACE_REQUEST
		 "',member='Response',path='%s'",
		 path);
	GVariant *added = g_dbus_connection_call_sync(
		w->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		"AddMatch", g_variant_new("(s)", rule), NULL, G_DBUS_CALL_FLAGS_NONE,
		CALL_TIMEOUT_MS, NULL, NULL);
	if (added)
		g_variant_unref(added);
	GError *error = NULL;
	GVariant *reply = g_dbus_connection_call_sync(
		w->bus, PORTAL_BUS, PORTAL_PATH, iface, method, parameters, G_VARIANT_TYPE("(o)"),
		G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);
	int rc = 0;
	if (reply == NULL) {
		char what[128];
		snprintf(what, sizeof(what), "the desktop portal refused %s", method);
		rc = dbus_error(err, what, error);
	} else {
		g_variant_unref(reply);
		int is_late = 0, is_cancelled = 0;
		GSource *timer = g_timeout_source_new((guint)timeout_ms);
		g_source_set_callback(timer, on_timeout, &is_late, NULL);
		g_source_attach(timer, w->context);
		GSource *cancel = NULL;
		if (w->cancel != NULL) {
			/* Another thread stops the view: the wait ends at once, not at the answer.
			 */
			cancel = g_unix_fd_source_new(w->cancel->fd, G_IO_IN);
			g_source_set_callback(cancel, G_SOURCE_FUNC(on_cancelled), &is_cancelled,
					      NULL);
			g_source_attach(cancel, w->context);
		}
		while (!response.is_done && !is_late && !is_cancelled)
			g_main_context_iteration(w->context, TRUE);
		g_source_destroy(timer);
		g_source_unref(timer);
		if (cancel != NULL) {
			g_source_destroy(cancel);
			g_source_unref(cancel);
		}
		if (!response.is_done && is_cancelled) {
			/* Closing the request takes the desktop's dialog down with it. */
			close_portal_object(w->bus, path, IFACE_REQUEST);
			rc = cancelled_error(err);
		} else if (!response.is_done)
			rc = kf_error_set(err, KF_ERR_TIMEOUT,
					  "the desktop portal did not answer %s in %d s", method,
					  timeout_ms / 1000);
		else if (response.code == 1)
			rc = kf_error_set(err, KF_ERR_DENIED,
					  "the customer declined the desktop's screen sharing "
					  "dialog");
		else if (response.code != 0)
			rc = kf_error_set(err, KF_ERR_UNSUPPORTED,
					  "the desktop portal could not %s (it answered %u)",
					  method, response.code);
	}
	g_dbus_connection_signal_unsubscribe(w->bus, subscription);
	GVariant *removed = g_dbus_connection_call_sync(
		w->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		"RemoveMatch", g_variant_new("(s)", rule), NULL, G_DBUS_CALL_FLAGS_NONE,
		CALL_TIMEOUT_MS, NULL, NULL);
	if (removed)
		g_variant_unref(removed);
	if (rc == 0)
		*results = response.results;
	else if (response.results)
		g_variant_unref(response.results);
	return rc;
}

static void on_session_closed(GDBusConnection *bus, const char *sender, const char *path,
			      const char *iface, const char *signal, GVariant *parameters,
			      void *user)
{
	(void)bus;
	(void)sender;
	(void)path;
	(void)iface;
	(void)signal;
	(void)parameters;
	((struct wayland_capture *)user)->is_closed = 1;
}

static void wake_screen(struct wayland_capture *w)
{
	uint64_t one = 1;
	ssize_t n = write(w->wake, &one, sizeof(one));
	(void)n; /* a counter that is already set wakes the thread just the same */
}

/* ---- PipeWire's thread ---- */

static void on_state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state,
			     const char *error)
{
	(void)old;
	(void)error;
	struct wayland_capture *w = data;
	if (state == PW_STREAM_STATE_ERROR || state == PW_STREAM_STATE_UNCONNECTED) {
		w->is_stream_lost = 1;
		wake_screen(w);
	}
	pw_thread_loop_signal(w->loop, false);
}

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
	struct wayland_capture *w = data;
	if (param == NULL || id != SPA_PARAM_Format)
		return;
	struct spa_video_info_raw info;
	if (spa_format_video_raw_parse(param, &info) < 0 || info.size.width == 0 ||
	    info.size.height == 0 || info.size.width > 16384 || info.size.height > 16384)
		return;
	int width = (int)info.size.width, height = (int)info.size.height;
	if (width != w->staging_width || height != w->staging_height) {
		uint8_t *staging = calloc((size_t)width * 4, (size_t)height);
		if (staging == NULL) {
			w->is_stream_lost = 1;
			wake_screen(w);
			return;
		}
		free(w->staging);
		w->staging = staging;
		w->staging_width = width;
		w->staging_height = height;
	}
	w->format = info.format;
	w->is_full_pending = 1;
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[4];
	int stride = width * 4;
	params[0] = spa_pod_builder_add_object(
		&b, SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers, SPA_PARAM_BUFFERS_buffers,
		SPA_POD_CHOICE_RANGE_Int(8, 2, 16), SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(1),
		SPA_PARAM_BUFFERS_size, SPA_POD_Int(stride * height), SPA_PARAM_BUFFERS_stride,
		SPA_POD_Int(stride), SPA_PARAM_BUFFERS_dataType,
		SPA_POD_CHOICE_FLAGS_Int((1 << SPA_DATA_MemPtr) | (1 << SPA_DATA_MemFd)));
	params[1] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
					       SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Header),
					       SPA_PARAM_META_size,
					       SPA_POD_Int(sizeof(struct spa_meta_header)));
	params[2] = spa_pod_builder_add_object(
		&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta, SPA_PARAM_META_type,
		SPA_POD_Id(SPA_META_VideoDamage), SPA_PARAM_META_size,
		SPA_POD_CHOICE_RANGE_Int(sizeof(struct spa_meta_region) * 16,
					 sizeof(struct spa_meta_region) * 1,
					 sizeof(struct spa_meta_region) * 16));
	size_t cursor_size = sizeof(struct spa_meta_cursor) + sizeof(struct spa_meta_bitmap) +
			     (size_t)64 * 64 * 4;
	params[3] = spa_pod_builder_add_object(
		&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta, SPA_PARAM_META_type,
		SPA_POD_Id(SPA_META_Cursor), SPA_PARAM_META_size,
		SPA_POD_CHOICE_RANGE_Int((int)cursor_size, (int)sizeof(struct spa_meta_cursor),
					 (int)cursor_size));
	pw_stream_update_params(w->stream, params, 4);
}

/* Copies rect of the buffer's picture into staging, turning the pixel order into the frame's. */
static void copy_rect(struct wayland_capture *w, const uint8_t *src, int src_stride,
		      struct kf_rect r)
{
	for (int y = r.y; y < r.y + r.height; y++)
		memcpy(w->staging + ((size_t)y * w->staging_width + r.x) * 4,
		       src + (size_t)y * src_stride + (size_t)r.x * 4, (size_t)r.width * 4);
}

static int clip_rect(struct wayland_capture *w, struct kf_rect *r)
{
	if (r->x < 0) {
		r->width += r->x;
		r->x = 0;
	}
	if (r->y < 0) {
		r->height += r->y;
		r->y = 0;
	}
	if (r->x + r->width > w->staging_width)
		r->width = w->staging_width - r->x;
	if (r->y + r->height > w->staging_height)
		r->height = w->staging_height - r->y;
	return r->width > 0 && r->height > 0;
}

/*
 * A buffer without damage (mutter 43 sends none) is compared here with the last
 * one, so that only the tiles that changed are copied and handed on, rather than
 * the whole picture to be compared again on the screen thread.
 */
static void refresh_changed_tiles(struct wayland_capture *w, const uint8_t *src, int stride,
				  struct kf_rect_list *pending)
{
	struct kf_tile_frame last = {.pixels = w->staging,
				     .width = w->staging_width,
				     .height = w->staging_height,
				     .stride = (size_t)w->staging_width * 4,
				     .bytes_per_pixel = 4};
	kf_tiles_refresh_all(&last, src, (size_t)stride, TILE, pending);
}

static void take_cursor(struct wayland_capture *w, struct spa_buffer *buffer)
{
	struct spa_meta_cursor *cursor =
		spa_buffer_find_meta_data(buffer, SPA_META_Cursor, sizeof(*cursor));
	if (cursor == NULL || !spa_meta_cursor_is_valid(cursor))
		return;
	w->cursor_x = cursor->position.x;
	w->cursor_y = cursor->position.y;
	if (cursor->bitmap_offset < sizeof(*cursor))
		return;
	struct spa_meta_bitmap *bitmap =
		SPA_PTROFF(cursor, cursor->bitmap_offset, struct spa_meta_bitmap);
	int width = (int)bitmap->size.width, height = (int)bitmap->size.height;
	if (width <= 0 || height <= 0 || width > CURSOR_MAX || height > CURSOR_MAX ||
	    bitmap->offset < sizeof(*bitmap) || bitmap->stride < width * 4)
		return;
	const uint8_t *pixels = SPA_PTROFF(bitmap, bitmap->offset, uint8_t);
	int is_rgba = bitmap->format == SPA_VIDEO_FORMAT_RGBA;
	int is_argb = bitmap->format == SPA_VIDEO_FORMAT_ARGB;
	for (int y = 0; y < height; y++)
		for (int x = 0; x < width; x++) {
			const uint8_t *p = pixels + (size_t)y * bitmap->stride + (size_t)x * 4;
			uint32_t r, g, bl, a;
			if (is_rgba) {
				r = p[0], g = p[1], bl = p[2], a = p[3];
			} else if (is_argb) {
				a = p[0], r = p[1], g = p[2], bl = p[3];
			} else { /* BGRA, what mutter sends */
				bl = p[0], g = p[1], r = p[2], a = p[3];
			}
			w->cursor_staging[y * width + x] = a << 24 | r << 16 | g << 8 | bl;
		}
	w->cursor_width = width;
	w->cursor_height = height;
	w->cursor_hot_x = cursor->hotspot.x;
	w->cursor_hot_y = cursor->hotspot.y;
	w->is_cursor_pending = 1;
}

static void on_process(void *data)
{
	struct wayland_capture *w = data;
	struct pw_buffer *pw_buffer = pw_stream_dequeue_buffer(w->stream);
	if (pw_buffer == NULL)
		return;
	struct spa_buffer *buffer = pw_buffer->buffer;
	struct spa_meta_header *header =
		spa_buffer_find_meta_data(buffer, SPA_META_Header, sizeof(*header));
	struct spa_data *d = &buffer->datas[0];
	int is_corrupted = header != NULL && (header->flags & SPA_META_HEADER_FLAG_CORRUPTED);
	take_cursor(w, buffer);
	if (!is_corrupted && d->data != NULL && d->chunk->size > 0 && w->staging != NULL) {
		int stride = d->chunk->stride > 0 ? d->chunk->stride : w->staging_width * 4;
		const uint8_t *src = SPA_PTROFF(d->data, d->chunk->offset, uint8_t);
		if ((size_t)d->chunk->offset + (size_t)stride * (w->staging_height - 1) +
			    (size_t)w->staging_width * 4 <=
		    d->maxsize) {
			struct kf_rect_list pending = {.rects = w->pending,
						       .count = w->pending_count,
						       .capacity = KF_CAPTURE_MAX_RECTS};
			int regions = 0;
			struct spa_meta *damage =
				spa_buffer_find_meta(buffer, SPA_META_VideoDamage);
			if (damage != NULL && !w->is_full_pending) {
				struct spa_meta_region *region;
				spa_meta_for_each(region, damage)
				{
					if (!spa_meta_region_is_valid(region))
						break;
					struct kf_rect r = {region->region.position.x,
							    region->region.position.y,
							    (int)region->region.size.width,
							    (int)region->region.size.height};
					regions++;
					if (!clip_rect(w, &r))
						continue;
					copy_rect(w, src, stride, r);
					kf_rect_list_add(&pending, r);
				}
				if (regions > 0)
					w->is_damage_seen = 1;
			}
			if (regions == 0 && !w->is_full_pending) {
				refresh_changed_tiles(w, src, stride, &pending);
			} else if (regions == 0) {
				struct kf_rect all = {0, 0, w->staging_width, w->staging_height};
				copy_rect(w, src, stride, all);
				pending.count = 0;
				kf_rect_list_add(&pending, all);
				w->is_full_pending = 0;
			}
			w->pending_count = pending.count;
			w->frames++;
		}
	}
	pw_stream_queue_buffer(w->stream, pw_buffer);
	wake_screen(w);
	pw_thread_loop_signal(w->loop, false);
}

static const struct pw_stream_events stream_events = {
	PW_VERSION_STREAM_EVENTS,
	.state_changed = on_state_changed,
	.param_changed = on_param_changed,
	.process = on_process,
};

/* ---- the screen thread's side ---- */

static void set_frame_format(struct wayland_capture *w)
{
	struct kf_capture_frame *f = &w->frame;
	f->bits_per_pixel = 32;
	f->depth = 24;
	f->is_big_endian = 0;
	f->green_mask = 0x0000ff00;
	if (w->format == SPA_VIDEO_FORMAT_RGBx || w->format == SPA_VIDEO_FORMAT_RGBA) {
		f->red_mask = 0x000000ff;
		f->blue_mask = 0x00ff0000;
	} else {
		f->red_mask = 0x00ff0000;
		f->blue_mask = 0x000000ff;
	}
}

/* Takes the staging picture as the frame at its size; under the loop's lock. */
static int take_whole_frame(struct wayland_capture *w)
{
	size_t size = (size_t)w->staging_width * 4 * w->staging_height;
	uint8_t *pixels = malloc(size);
	if (pixels == NULL)
		return KF_ERR_NOMEM;
	memcpy(pixels, w->staging, size);
	free(w->frame.pixels);
	w->frame.pixels = pixels;
	w->frame.width = w->staging_width;
	w->frame.height = w->staging_height;
	w->frame.stride = w->staging_width * 4;
	set_frame_format(w);
	w->pending_count = 0;
	return 0;
}

static int wayland_fd(struct kf_capture *capture)
{
	return ((struct wayland_capture *)capture)->wake;
}

static int wayland_poll(struct kf_capture *capture, struct kf_capture_changes *changes,
			struct kf_error *err)
{
	struct wayland_capture *w = (struct wayland_capture *)capture;
	memset(changes, 0, sizeof(*changes));
	uint64_t count;
	ssize_t n = read(w->wake, &count, sizeof(count));
	(void)n; /* nothing to read is the common case of a tick */
	/* The portal's signals (the session closed by the desktop) and answers arrive here. */
	while (g_main_context_iteration(w->context, FALSE)) {
	}
	pw_thread_loop_lock(w->loop);
	if (w->is_closed || w->is_stream_lost) {
		int is_session_closed = w->is_closed;
		w->is_closed = 1;
		pw_thread_loop_unlock(w->loop);
		return kf_error_set(err, KF_ERR_CLOSED, "the desktop ended the screen cast (%s)",
				    is_session_closed ? "its portal session closed"
						      : "its PipeWire stream ended");
	}
	if (w->staging_width != w->frame.width || w->staging_height != w->frame.height ||
	    (w->frames > 0 && w->frame.pixels == NULL)) {
		int rc = take_whole_frame(w);
		pw_thread_loop_unlock(w->loop);
		if (rc != 0)
			return kf_error_set(err, rc, "out of memory for the new screen size");
		changes->is_resized = 1;
		pw_thread_loop_lock(w->loop);
	} else {
		set_frame_format(w);
		struct kf_tile_frame frame = {.pixels = w->frame.pixels,
					      .width = w->frame.width,
					      .height = w->frame.height,
					      .stride = (size_t)w->frame.stride,
					      .bytes_per_pixel = 4};
		struct kf_rect_list changed = {.rects = changes->rects,
					       .capacity = KF_CAPTURE_MAX_RECTS};
		if (w->is_damage_disabled && w->pending_count > 0) {
			w->pending_count = 1;
			w->pending[0] = (struct kf_rect){0, 0, w->frame.width, w->frame.height};
		}
		for (int i = 0; i < w->pending_count; i++) {
			struct kf_rect r = w->pending[i];
			kf_tiles_refresh(&frame,
					 w->staging + (size_t)r.y * w->frame.stride +
						 (size_t)r.x * 4,
					 (size_t)w->frame.stride, r, TILE, &changed);
		}
		changes->rect_count = changed.count;
		w->pending_count = 0;
	}
	changes->cursor_x = w->cursor_x;
	changes->cursor_y = w->cursor_y;
	if (w->is_cursor_pending) {
		changes->is_cursor_changed = 1;
		w->is_cursor_pending = 0;
	}
	pw_thread_loop_unlock(w->loop);
	return 0;
}

static const struct kf_capture_frame *wayland_frame(struct kf_capture *capture)
{
	return &((struct wayland_capture *)capture)->frame;
}

static int wayland_cursor(struct kf_capture *capture, struct kf_capture_cursor *cursor)
{
	struct wayland_capture *w = (struct wayland_capture *)capture;
	pw_thread_loop_lock(w->loop);
	int width = w->cursor_width, height = w->cursor_height;
	memcpy(w->cursor_argb, w->cursor_staging, (size_t)width * height * 4);
	cursor->argb = w->cursor_argb;
	cursor->width = width;
	cursor->height = height;
	cursor->hot_x = w->cursor_hot_x;
	cursor->hot_y = w->cursor_hot_y;
	pw_thread_loop_unlock(w->loop);
	return width > 0 && height > 0 ? 0 : KF_ERR_UNSUPPORTED;
}

/*
 * The input queue's thread: one event to the portal, answered before the next goes
 * (input-queue.h says why). The portal answers in about a millisecond; INPUT_TIMEOUT_MS
 * bounds a stuck one, and RELEASE_TIMEOUT_MS the wait for the releases after control
 * is taken back.
 */
#define INPUT_TIMEOUT_MS   1000
#define RELEASE_TIMEOUT_MS 3000

static void deliver_input(void *user, const struct kf_input_event *event)
{
	struct wayland_capture *w = user;
	const char *method;
	GVariant *parameters;
	switch (event->kind) {
	case KF_INPUT_MOVE:
		method = "NotifyPointerMotionAbsolute";
		parameters = g_variant_new("(o@a{sv}udd)", w->session, empty_options(), w->node,
					   (double)event->x, (double)event->y);
		break;
	case KF_INPUT_BUTTON:
		method = "NotifyPointerButton";
		parameters = g_variant_new("(o@a{sv}iu)", w->session, empty_options(),
					   (int32_t)event->code, event->is_down ? 1u : 0u);
		break;
	case KF_INPUT_SCROLL:
		method = "NotifyPointerAxisDiscrete";
		parameters = g_variant_new("(o@a{sv}ui)", w->session, empty_options(), event->code,
					   (int32_t)event->steps);
		break;
	default:
		method = "NotifyKeyboardKeysym";
		parameters = g_variant_new("(o@a{sv}iu)", w->session, empty_options(),
					   (int32_t)event->code, event->is_down ? 1u : 0u);
		break;
	}
	GError *error = NULL;
	GVariant *reply = g_dbus_connection_call_sync(
		w->bus, PORTAL_BUS, PORTAL_PATH, IFACE_REMOTE, method, parameters, NULL,
		G_DBUS_CALL_FLAGS_NONE, INPUT_TIMEOUT_MS, NULL, &error);
	if (reply != NULL)
		g_variant_unref(reply);
	if (error != NULL) /* input the portal refused is dropped, as X11 drops what XTest
			    * cannot map */
		g_error_free(error);
}

static void wayland_pointer(struct kf_capture *capture, int buttons, int x, int y)
{
	static const unsigned codes[3] = {BTN_LEFT_CODE, BTN_MIDDLE_CODE, BTN_RIGHT_CODE};
	struct wayland_capture *w = (struct wayland_capture *)capture;
	if (w->input == NULL || w->is_closed)
		return;
	kf_input_queue_push(w->input,
			    &(struct kf_input_event){.kind = KF_INPUT_MOVE, .x = x, .y = y});
	for (int bit = 0; bit < 7; bit++) {
		int was = (w->buttons >> bit) & 1, is = (buttons >> bit) & 1;
		if (was == is)
			continue;
		if (bit < 3)
			kf_input_queue_push(w->input,
					    &(struct kf_input_event){.kind = KF_INPUT_BUTTON,
								     .code = codes[bit],
								     .is_down = is});
		else if (is) /* RFB buttons 4 and 5 scroll up and down, 6 and 7 left and right */
			kf_input_queue_push(
				w->input,
				&(struct kf_input_event){.kind = KF_INPUT_SCROLL,
							 .code = bit < 5 ? 0u : 1u,
							 .steps = (bit == 3 || bit == 5) ? -1 : 1});
	}
	w->buttons = buttons;
}

static void wayland_key(struct kf_capture *capture, uint32_t keysym, int is_down)
{
	struct wayland_capture *w = (struct wayland_capture *)capture;
	if (w->input == NULL || w->is_closed)
		return;
	kf_input_queue_push(
		w->input,
		&(struct kf_input_event){.kind = KF_INPUT_KEY, .code = keysym, .is_down = is_down});
}

static void wayland_release_input(struct kf_capture *capture)
{
	struct wayland_capture *w = (struct wayland_capture *)capture;
	if (w->input == NULL)
		return;
	kf_input_queue_release(w->input, RELEASE_TIMEOUT_MS);
	w->buttons = 0;
}

static void wayland_set_clipboard(struct kf_capture *capture, const char *text, size_t len)
{
	/* The Clipboard portal is newer than what Debian 12 ships: describe() says so. */
	(void)capture;
	(void)text;
	(void)len;
}

static const char *wayland_describe(struct kf_capture *capture)
{
	return ((struct wayland_capture *)capture)->description;
}

static void wayland_free(struct kf_capture *capture)
{
	struct wayland_capture *w = (struct wayland_capture *)capture;
	if (w == NULL)
		return;
	kf_input_queue_free(w->input); /* before the bus it sends on goes */
	if (w->loop != NULL)
		pw_thread_loop_stop(w->loop);
	if (w->stream != NULL)
		pw_stream_destroy(w->stream);
	if (w->core != NULL)
		pw_core_disconnect(w->core);
	if (w->pw_context != NULL)
		pw_context_destroy(w->pw_context);
	if (w->loop != NULL)
		pw_thread_loop_destroy(w->loop);
	if (w->bus != NULL) {
		if (w->closed_subscription)
			g_dbus_connection_signal_unsubscribe(w->bus, w->closed_subscription);
		/* Ending kefu's share ends the desktop's too. */
		if (w->session != NULL)
			close_portal_object(w->bus, w->session, IFACE_SESSION);
		g_dbus_connection_close_sync(w->bus, NULL, NULL);
		g_object_unref(w->bus);
	}
	if (w->context != NULL)
		g_main_context_unref(w->context);
	if (w->wake >= 0)
		close(w->wake);
	g_free(w->session);
	free(w->staging);
	free(w->frame.pixels);
	free(w);
}

static const struct kf_capture_ops wayland_ops = {
	.fd = wayland_fd,
	.poll = wayland_poll,
	.frame = wayland_frame,
	.cursor = wayland_cursor,
	.pointer = wayland_pointer,
	.key = wayland_key,
	.set_clipboard = wayland_set_clipboard,
	.release_input = wayland_release_input,
	.describe = wayland_describe,
	.free = wayland_free,
};

static int connect_bus(GDBusConnection **out, struct kf_error *err)
{
	/* GLib would otherwise start a bus of its own through dbus-launch. */
	const char *env = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	char bus_path[512] = "";
	if (runtime != NULL)
		snprintf(bus_path, sizeof(bus_path), "%s/bus", runtime);
	if ((env == NULL || *env == '\0') && (bus_path[0] == '\0' || access(bus_path, F_OK) != 0))
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "this is a Wayland session without a session bus, so without "
				    "the desktop portal that shares the screen; log in normally "
				    "(or with an X11 session) to share the screen");
	GError *error = NULL;
	char *address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SESSION, NULL, &error);
	if (address == NULL)
		return dbus_error(err, "no session bus, so no desktop portal", error);
	*out = g_dbus_connection_new_for_address_sync(
		address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_free(address);
	if (*out == NULL)
		return dbus_error(err, "cannot connect to the session bus", error);
	g_dbus_connection_set_exit_on_close(*out, FALSE);
	return 0;
}

static int create_session(struct wayland_capture *w, struct kf_error *err)
{
	const char *iface = w->is_remote ? IFACE_REMOTE : IFACE_CAST;
	GVariantBuilder options;
	g_variant_builder_init(&options, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&options, "{sv}", "handle_token", g_variant_new_string("kefu1"));
	g_variant_builder_add(&options, "{sv}", "session_handle_token",
			      g_variant_new_string("kefu"));
	GVariant *results;
	int rc = portal_request(w, iface, "CreateSession", g_variant_new("(a{sv})", &options),
				"kefu1", CALL_TIMEOUT_MS, &results, err);
	if (rc != 0)
		return rc;
	const char *session = NULL;
	if (!g_variant_lookup(results, "session_handle", "&s", &session)) {
		g_variant_unref(results);
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "the desktop portal gave no session for the screen cast");
	}
	w->session = g_strdup(session);
	g_variant_unref(results);
	w->closed_subscription = g_dbus_connection_signal_subscribe(
		w->bus, PORTAL_BUS, IFACE_SESSION, "Closed", w->session, NULL,
		G_DBUS_SIGNAL_FLAGS_NONE, on_session_closed, w, NULL);
	if (w->is_remote) {
		g_variant_builder_init(&options, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&options, "{sv}", "handle_token",
				      g_variant_new_string("kefu2"));
		g_variant_builder_add(&options, "{sv}", "types",
				      g_variant_new_uint32(DEVICE_KEYBOARD | DEVICE_POINTER));
		rc = portal_request(w, IFACE_REMOTE, "SelectDevices",
				    g_variant_new("(oa{sv})", w->session, &options), "kefu2",
				    CALL_TIMEOUT_MS, &results, err);
		if (rc != 0)
			return rc;
		g_variant_unref(results);
	}
	uint32_t cursor_modes = portal_u32(w->bus, IFACE_CAST, "AvailableCursorModes");
	g_variant_builder_init(&options, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&options, "{sv}", "handle_token", g_variant_new_string("kefu3"));
	g_variant_builder_add(&options, "{sv}", "types", g_variant_new_uint32(SOURCE_MONITOR));
	g_variant_builder_add(&options, "{sv}", "multiple", g_variant_new_boolean(FALSE));
	if (cursor_modes & CURSOR_METADATA)
		g_variant_builder_add(&options, "{sv}", "cursor_mode",
				      g_variant_new_uint32(CURSOR_METADATA));
	else if (cursor_modes & CURSOR_EMBEDDED)
		g_variant_builder_add(&options, "{sv}", "cursor_mode",
				      g_variant_new_uint32(CURSOR_EMBEDDED));
	/* Restore tokens belong to ScreenCast sessions (RemoteDesktop's come with version 2). */
	if (!w->is_remote && w->cast_version >= 4) {
		g_variant_builder_add(&options, "{sv}", "persist_mode",
				      g_variant_new_uint32(PERSIST_TRANSIENT));
		if (w->restore_token != NULL && w->restore_token[0])
			g_variant_builder_add(&options, "{sv}", "restore_token",
					      g_variant_new_string(w->restore_token));
	}
	rc = portal_request(w, IFACE_CAST, "SelectSources",
			    g_variant_new("(oa{sv})", w->session, &options), "kefu3",
			    CALL_TIMEOUT_MS, &results, err);
	if (rc != 0)
		return rc;
	g_variant_unref(results);
	return 0;
}

static int start_session(struct wayland_capture *w, struct kf_error *err)
{
	GVariantBuilder options;
	g_variant_builder_init(&options, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&options, "{sv}", "handle_token", g_variant_new_string("kefu4"));
	GVariant *results;
	int rc = portal_request(w, w->is_remote ? IFACE_REMOTE : IFACE_CAST, "Start",
				g_variant_new("(osa{sv})", w->session, "", &options), "kefu4",
				DIALOG_TIMEOUT_MS, &results, err);
	if (rc != 0)
		return rc;
	GVariant *streams = g_variant_lookup_value(results, "streams", G_VARIANT_TYPE("a(ua{sv})"));
	const char *token = NULL;
	if (g_variant_lookup(results, "restore_token", "&s", &token) && w->restore_token != NULL &&
	    strlen(token) < w->restore_token_size)
		snprintf(w->restore_token, w->restore_token_size, "%s", token);
	uint32_t devices = 0;
	if (w->is_remote && g_variant_lookup(results, "devices", "u", &devices) &&
	    !(devices & DEVICE_POINTER) && !(devices & DEVICE_KEYBOARD))
		w->is_remote = 0; /* the customer allowed viewing only */
	int has_stream = streams != NULL && g_variant_n_children(streams) > 0;
	if (has_stream) {
		GVariant *props;
		g_variant_get_child(streams, 0, "(u@a{sv})", &w->node, &props);
		g_variant_unref(props);
	}
	if (streams)
		g_variant_unref(streams);
	g_variant_unref(results);
	if (!has_stream)
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "the desktop portal started a screen cast without a stream");
	return 0;
}

static int open_pipewire(struct wayland_capture *w, struct kf_error *err)
{
	GUnixFDList *fds = NULL;
	GError *error = NULL;
	GVariant *reply = g_dbus_connection_call_with_unix_fd_list_sync(
		w->bus, PORTAL_BUS, PORTAL_PATH, IFACE_CAST, "OpenPipeWireRemote",
		g_variant_new("(o@a{sv})", w->session, empty_options()), G_VARIANT_TYPE("(h)"),
		G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &fds, NULL, &error);
	if (reply == NULL)
		return dbus_error(err, "the desktop portal gave no PipeWire connection", error);
	int handle;
	g_variant_get(reply, "(h)", &handle);
	g_variant_unref(reply);
	int fd = fds ? g_unix_fd_list_get(fds, handle, NULL) : -1;
	if (fds)
		g_object_unref(fds);
	if (fd < 0)
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "the desktop portal gave no PipeWire connection");
	pw_init(NULL, NULL);
	w->loop = pw_thread_loop_new("kefu-screen", NULL);
	if (w->loop == NULL) {
		close(fd);
		return kf_error_set(err, KF_ERR_NOMEM, "cannot create PipeWire's loop");
	}
	w->pw_context = pw_context_new(pw_thread_loop_get_loop(w->loop), NULL, 0);
	if (w->pw_context == NULL || pw_thread_loop_start(w->loop) != 0) {
		close(fd);
		return kf_error_set(err, KF_ERR_IO, "cannot start PipeWire's loop");
	}
	pw_thread_loop_lock(w->loop);
	w->core = pw_context_connect_fd(w->pw_context, fd, NULL, 0);
	if (w->core == NULL) {
		pw_thread_loop_unlock(w->loop);
		return kf_error_set(err, KF_ERR_IO, "cannot connect to PipeWire: %s",
				    strerror(errno));
	}
	w->stream =
		pw_stream_new(w->core, "kefu screen",
			      pw_properties_new(PW_KEY_MEDIA_TYPE, "Video", PW_KEY_MEDIA_CATEGORY,
						"Capture", PW_KEY_MEDIA_ROLE, "Screen", NULL));
	if (w->stream == NULL) {
		pw_thread_loop_unlock(w->loop);
		return kf_error_set(err, KF_ERR_IO, "cannot create a PipeWire stream");
	}
	pw_stream_add_listener(w->stream, &w->stream_listener, &stream_events, w);
	uint8_t buffer[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	const struct spa_pod *params[1];
	params[0] = spa_pod_builder_add_object(
		&b, SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat, SPA_FORMAT_mediaType,
		SPA_POD_Id(SPA_MEDIA_TYPE_video), SPA_FORMAT_mediaSubtype,
		SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw), SPA_FORMAT_VIDEO_format,
		SPA_POD_CHOICE_ENUM_Id(5, SPA_VIDEO_FORMAT_BGRx, SPA_VIDEO_FORMAT_BGRx,
				       SPA_VIDEO_FORMAT_RGBx, SPA_VIDEO_FORMAT_BGRA,
				       SPA_VIDEO_FORMAT_RGBA),
		SPA_FORMAT_VIDEO_size,
		SPA_POD_CHOICE_RANGE_Rectangle(&SPA_RECTANGLE(1920, 1080), &SPA_RECTANGLE(1, 1),
					       &SPA_RECTANGLE(16384, 16384)),
		SPA_FORMAT_VIDEO_framerate,
		SPA_POD_CHOICE_RANGE_Fraction(&SPA_FRACTION(60, 1), &SPA_FRACTION(0, 1),
					      &SPA_FRACTION(240, 1)));
	int rc = pw_stream_connect(w->stream, PW_DIRECTION_INPUT, w->node,
				   PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS, params,
				   1);
	if (rc < 0) {
		pw_thread_loop_unlock(w->loop);
		return kf_error_set(err, KF_ERR_IO, "cannot connect to the screen's stream: %s",
				    strerror(-rc));
	}
	/* The first picture, so that the frame has its size and content from the start. */
	struct timespec deadline;
	pw_thread_loop_get_time(w->loop, &deadline, (int64_t)FRAME_TIMEOUT_MS * 1000000);
	while (w->frames == 0 && !w->is_stream_lost)
		if (pw_thread_loop_timed_wait_full(w->loop, &deadline) != 0)
			break;
	if (w->frames == 0) {
		pw_thread_loop_unlock(w->loop);
		return kf_error_set(err, KF_ERR_TIMEOUT, "the screen cast sent no picture in %d s",
				    FRAME_TIMEOUT_MS / 1000);
	}
	rc = take_whole_frame(w);
	pw_thread_loop_unlock(w->loop);
	if (rc != 0)
		return kf_error_set(err, rc, "out of memory for the screen");
	return 0;
}

static const char *desktop_name(void)
{
	const char *desktop = getenv("XDG_CURRENT_DESKTOP");
	return desktop && *desktop ? desktop : "unknown";
}

int kf_capture_wayland_open(const struct kf_capture_options *options, struct kf_capture **out,
			    struct kf_error *err)
{
	*out = NULL;
	struct wayland_capture *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	w->base.ops = &wayland_ops;
	w->is_damage_disabled = options->is_damage_disabled;
	w->cancel = options->cancel;
	w->restore_token = options->restore_token;
	w->restore_token_size = options->restore_token_size;
	w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->context = g_main_context_new();
	if (w->wake < 0) {
		wayland_free(&w->base);
		return kf_error_set(err, KF_ERR_IO, "eventfd: %s", strerror(errno));
	}
	/* Signals for this capture are delivered in its own context, iterated by poll(). */
	g_main_context_push_thread_default(w->context);
	int rc = connect_bus(&w->bus, err);
	if (rc == 0) {
		w->cast_version = portal_u32(w->bus, IFACE_CAST, "version");
		w->remote_version = portal_u32(w->bus, IFACE_REMOTE, "version");
		uint32_t devices = portal_u32(w->bus, IFACE_REMOTE, "AvailableDeviceTypes");
		w->is_remote = w->remote_version >= 1 && (devices & DEVICE_POINTER) &&
			       (devices & DEVICE_KEYBOARD);
		if (w->cast_version == 0)
			rc = kf_error_set(
				err, KF_ERR_UNSUPPORTED,
				"this Wayland desktop (%s) has no ScreenCast portal: install "
				"xdg-desktop-portal with the desktop's backend "
				"(xdg-desktop-portal-gnome, -kde or -wlr), or log in with an X11 "
				"session",
				desktop_name());
	}
	if (rc == 0)
		rc = create_session(w, err);
	if (rc == 0)
		rc = start_session(w, err);
	if (rc == 0)
		rc = open_pipewire(w, err);
	if (rc == 0 && w->cancel != NULL && kf_capture_cancel_is_fired(w->cancel))
		rc = cancelled_error(err);
	if (rc == 0 && w->is_remote)
		rc = kf_input_queue_start(&w->input, deliver_input, w, err);
	w->cancel = NULL;
	w->restore_token = NULL;
	g_main_context_pop_thread_default(w->context);
	if (rc != 0) {
		wayland_free(&w->base);
		return rc;
	}
	snprintf(w->description, sizeof(w->description),
		 "Wayland (%s), monitor %dx%d through the ScreenCast portal v%u and PipeWire "
		 "node %u, changes by %s, input %s, clipboard unavailable (no Clipboard portal)",
		 desktop_name(), w->frame.width, w->frame.height, w->cast_version, w->node,
		 w->is_damage_disabled ? "tile comparison" : "PipeWire damage and tiles",
		 w->is_remote ? "through the RemoteDesktop portal" : "unavailable (view only)");
	(void)options->monitor; /* the customer picks the monitor in the desktop's dialog */
	*out = &w->base;
	return 0;
}

int kf_capture_wayland_check(char *text, size_t size, struct kf_error *err)
{
	GDBusConnection *bus;
	int rc = connect_bus(&bus, err);
	if (rc != 0)
		return rc;
	uint32_t cast = portal_u32(bus, IFACE_CAST, "version");
	uint32_t remote = portal_u32(bus, IFACE_REMOTE, "version");
	uint32_t clipboard = portal_u32(bus, "org.freedesktop.portal.Clipboard", "version");
	uint32_t devices = portal_u32(bus, IFACE_REMOTE, "AvailableDeviceTypes");
	uint32_t sources = portal_u32(bus, IFACE_CAST, "AvailableSourceTypes");
	g_dbus_connection_close_sync(bus, NULL, NULL);
	g_object_unref(bus);
	const char *display = getenv("WAYLAND_DISPLAY");
	if (cast == 0 || !(sources & SOURCE_MONITOR))
		return kf_error_set(
			err, KF_ERR_UNSUPPORTED,
			"this is a Wayland session (%s, WAYLAND_DISPLAY=%s) without a "
			"ScreenCast portal that can share a monitor: install xdg-desktop-portal "
			"and the desktop's backend (xdg-desktop-portal-gnome, -kde or -wlr), "
			"or log in with an X11 session",
			desktop_name(), display ? display : "unset");
	int has_input = remote >= 1 && (devices & DEVICE_POINTER) && (devices & DEVICE_KEYBOARD);
	char remote_text[96], clip[96], persist[512];
	/*
	 * Restore tokens came with ScreenCast v4 and RemoteDesktop v2; a control
	 * session is a RemoteDesktop one, which cannot use ScreenCast's.
	 */
	if (has_input && remote < 2)
		snprintf(persist, sizeof(persist),
			 "none (RemoteDesktop v%u has no restore tokens: they need v2); kefu keeps "
			 "the desktop's sharing session open until the kefu session ends, so "
			 "viewing again asks nothing, and a new kefu session asks again",
			 remote);
	else if (has_input)
		snprintf(persist, sizeof(persist),
			 "none used (RemoteDesktop v%u has restore tokens; kefu does not keep "
			 "them); kefu keeps the desktop's sharing session open until the kefu "
			 "session ends, and a new kefu session asks again",
			 remote);
	else if (cast >= 4)
		snprintf(persist, sizeof(persist),
			 "transient (ScreenCast v%u restore tokens, kept in memory for the kefu "
			 "session only): viewing again in the same session asks nothing, a new "
			 "kefu session asks again",
			 cast);
	else
		snprintf(persist, sizeof(persist),
			 "none (ScreenCast v%u has no restore tokens: they need v4); kefu keeps "
			 "the desktop's sharing session open until the kefu session ends",
			 cast);
	if (remote == 0)
		snprintf(remote_text, sizeof(remote_text), "missing");
	else
		snprintf(remote_text, sizeof(remote_text), "v%u%s", remote,
			 has_input ? "" : ", without pointer and keyboard");
	if (clipboard)
		snprintf(clip, sizeof(clip), "the Clipboard portal v%u is not used yet", clipboard);
	else
		snprintf(clip, sizeof(clip), "unavailable (this portal has no Clipboard portal)");
	snprintf(text, size,
		 "Wayland (%s, WAYLAND_DISPLAY=%s): view available, control %s\n"
		 "  ScreenCast portal v%u%s\n"
		 "  RemoteDesktop portal %s\n"
		 "  clipboard %s\n"
		 "  persist: %s\n"
		 "  the desktop asks the customer in its own dialog after 'view' is allowed in "
		 "kefu, and the customer picks the monitor there",
		 desktop_name(), display ? display : "unset",
		 has_input ? "available" : "unavailable (no RemoteDesktop portal: view only)", cast,
		 cast >= 4 ? " (restore tokens)" : "", remote_text, clip, persist);
	return 0;
}
