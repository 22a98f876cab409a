/* kefu: ending a program's libuv loop cleanly. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_LOOP_H
#define KF_PROTO_LOOP_H

#include <uv.h>

/*
 * Closes every handle still open on loop, runs the loop until their close
 * callbacks have run, and closes the loop: nothing leaks at exit. Objects that
 * free themselves in a close callback must have started closing before this.
 * Child processes still running get up to 3 s to exit (their exit callbacks
 * run as usual), then are killed.
 */
void kf_loop_close(uv_loop_t *loop);

#endif
