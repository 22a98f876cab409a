/* kefu: ending a program's libuv loop cleanly. SPDX-License-Identifier: MIT */
#include "proto/base/loop.h"

#include <signal.h>
#include <stddef.h>

/* How long children that were asked to stop get to exit before they are killed. */
#define CHILD_EXIT_WAIT_MS 3000

static void close_all_but_children(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (!uv_is_closing(handle) && uv_handle_get_type(handle) != UV_PROCESS)
		uv_close(handle, NULL);
}

static void kill_and_close(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (uv_is_closing(handle))
		return;
	if (uv_handle_get_type(handle) == UV_PROCESS)
		uv_process_kill((uv_process_t *)handle, SIGKILL);
	uv_close(handle, NULL);
}

static void on_wait_over(uv_timer_t *timer)
{
	uv_stop(timer->loop);
}

void kf_loop_close(uv_loop_t *loop)
{
	uv_timer_t wait;

	/*
	 * Children (a viewer, websockify) are watched until they exit, so that the
	 * objects that started them see their exit and release themselves; the
	 * wait does not keep the loop running by itself.
	 */
	uv_walk(loop, close_all_but_children, NULL);
	uv_timer_init(loop, &wait);
	uv_timer_start(&wait, on_wait_over, CHILD_EXIT_WAIT_MS, 0);
	uv_unref((uv_handle_t *)&wait);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_walk(loop, kill_and_close, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
}
