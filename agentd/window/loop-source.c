/* kefu-helper: libuv's loop inside GLib's main loop, by libuv's backend fd. SPDX-License-Identifier: MIT */
#include "agentd/window/window.h"

/*
 * libuv's epoll fd becomes readable when any of its handles has work, and
 * uv_backend_timeout() says when its next timer is due: GLib polls the one fd
 * and sleeps until that time, then one non-blocking uv_run() does the work.
 * Nothing is polled on a clock and the session core stays on the main thread,
 * so no locks or queues are needed between the core and the window.
 */
struct uv_source {
	GSource base;
	uv_loop_t *loop;
	gpointer fd_tag;
};

static gboolean prepare(GSource *base, gint *timeout)
{
	struct uv_source *source = (struct uv_source *)base;

	uv_update_time(source->loop);
	*timeout = uv_backend_timeout(source->loop);
	return *timeout == 0;
}

static gboolean check(GSource *base)
{
	struct uv_source *source = (struct uv_source *)base;

	if (g_source_query_unix_fd(base, source->fd_tag) & G_IO_IN)
		return TRUE;
	uv_update_time(source->loop);
	return uv_backend_timeout(source->loop) == 0;
}

static gboolean dispatch(GSource *base, GSourceFunc callback, gpointer user)
{
	struct uv_source *source = (struct uv_source *)base;

	(void)callback;
	(void)user;
	uv_run(source->loop, UV_RUN_NOWAIT);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs uv_source_funcs = {
	.prepare = prepare,
	.check = check,
	.dispatch = dispatch,
};

GSource *kf_window_uv_source_new(uv_loop_t *loop)
{
	GSource *base = g_source_new(&uv_source_funcs, sizeof(struct uv_source));
	struct uv_source *source = (struct uv_source *)base;

	source->loop = loop;
	source->fd_tag = g_source_add_unix_fd(base, uv_backend_fd(loop), G_IO_IN);
	g_source_set_name(base, "libuv");
	return base;
}
