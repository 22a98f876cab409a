/* kefu: a kf_stream over a connected socket. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_STREAM_SOCKET_H
#define KF_PROTO_STREAM_SOCKET_H

#include "proto/session/stream.h"

#include <uv.h>

/*
 * Wraps fd, a connected stream socket, as a kf_stream driven by loop. Used to
 * bridge a local end (the screen server's socketpair, a viewer's connection)
 * to a session stream. The stream owns fd from now on, and *out until
 * kf_stream_close (memory is released once the loop has run the close).
 */
int kf_stream_socket_new(uv_loop_t *loop, int fd, struct kf_stream **out, struct kf_error *err);

#endif
