/* kefu: ending a program's libuv loop cleanly. SPDX-License-Identifier: MIT */
#include "proto/loop.h"

#include <stddef.h>

static void close_handle(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

void kf_loop_close(uv_loop_t *loop)
{
	uv_walk(loop, close_handle, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
}
