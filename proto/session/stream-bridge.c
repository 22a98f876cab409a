/* kefu: two kf_streams joined end to end, with back-pressure both ways. SPDX-License-Identifier: MIT */
#include "proto/session/stream-bridge.h"

#include <stdlib.h>

struct kf_stream_bridge {
	struct kf_stream *side[2];
	void (*on_closed)(void *user);
	void *user;
	int is_closed;
	int depth;
};

static int index_of(struct kf_stream_bridge *bridge, struct kf_stream *stream)
{
	return bridge->side[0] == stream ? 0 : 1;
}

static void bridge_close(struct kf_stream_bridge *bridge, int is_notified)
{
	if (bridge->is_closed)
		return;
	bridge->is_closed = 1;
	kf_stream_close(bridge->side[0]);
	kf_stream_close(bridge->side[1]);
	if (is_notified && bridge->on_closed != NULL)
		bridge->on_closed(bridge->user);
	if (bridge->depth == 0)
		free(bridge);
}

static void leave(struct kf_stream_bridge *bridge)
{
	if (--bridge->depth == 0 && bridge->is_closed)
		free(bridge);
}

static void on_read(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	struct kf_stream_bridge *bridge = user;
	struct kf_stream *other = bridge->side[1 - index_of(bridge, stream)];

	bridge->depth++;
	if (kf_stream_write(other, data, len, NULL) != KF_OK)
		bridge_close(bridge, 1);
	else if (kf_stream_pending(other) >= KF_STREAM_HIGH_WATER)
		kf_stream_read_pause(stream, 1);
	leave(bridge);
}

static void on_drain(struct kf_stream *stream, void *user)
{
	struct kf_stream_bridge *bridge = user;

	kf_stream_read_pause(bridge->side[1 - index_of(bridge, stream)], 0);
}

static void on_end(struct kf_stream *stream, int status, const struct kf_error *err, void *user)
{
	struct kf_stream_bridge *bridge = user;

	(void)stream;
	(void)status;
	(void)err;
	bridge->depth++;
	bridge_close(bridge, 1);
	leave(bridge);
}

struct kf_stream_bridge *kf_stream_bridge_new(struct kf_stream *a, struct kf_stream *b,
					      void (*on_closed)(void *user), void *user)
{
	struct kf_stream_bridge *bridge = calloc(1, sizeof(*bridge));

	if (bridge == NULL) {
		kf_stream_close(a);
		kf_stream_close(b);
		return NULL;
	}
	bridge->side[0] = a;
	bridge->side[1] = b;
	bridge->on_closed = on_closed;
	bridge->user = user;
	for (int i = 0; i < 2; i++) {
		bridge->side[i]->on_read = on_read;
		bridge->side[i]->on_drain = on_drain;
		bridge->side[i]->on_end = on_end;
		bridge->side[i]->user = bridge;
	}
	return bridge;
}

void kf_stream_bridge_close(struct kf_stream_bridge *bridge)
{
	if (bridge != NULL)
		bridge_close(bridge, 0);
}
