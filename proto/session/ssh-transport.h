/* kefu: the SSH connection to the relay, driven by libuv; channels as kf_streams. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_SSH_TRANSPORT_H
#define KF_PROTO_SSH_TRANSPORT_H

#include "proto/base/error.h"
#include "proto/session/ssh-key.h"
#include "proto/session/stream.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/*
 * One SSH connection to a relay (a stock OpenSSH server). The agent asks the relay
 * to listen on its localhost at a port the relay picks and receives the connections
 * that arrive there as channels; the console opens a channel to that port. Each
 * channel is a kf_stream (proto/session/stream.h) with SSH's own per-channel flow control,
 * so several streams of one session never block each other.
 *
 * libssh2 runs non-blocking on the caller's libuv loop. The relay's host key must
 * match one of the pinned keys before anything else is sent; algorithms are fixed
 * to modern ones (see ssh-transport.c). The library never prints.
 */
struct kf_ssh;

struct kf_ssh_options {
	const char *host;
	uint16_t port;
	const char *user;
	/* Borrowed until on_ready or on_failed. */
	const struct kf_ssh_key *key;
	/* Pinned relay host keys, "ssh-ed25519 AAAA..." lines; at least one. Copied. */
	const char *const *host_keys;
	size_t host_key_count;
	/* Limit for connecting, the handshake and authentication; 0 means 10 s. */
	unsigned timeout_ms;
	/* Keepalive interval; the relay is declared gone after 3 unanswered. 0 means 5 s. */
	unsigned keepalive_seconds;
};

struct kf_ssh_callbacks {
	/* Connected, host key verified, authenticated. */
	void (*on_ready)(struct kf_ssh *ssh, void *user);
	/*
	 * The connection failed or was lost: fires once, after every open channel got
	 * on_end. The caller then calls kf_ssh_close().
	 */
	void (*on_failed)(struct kf_ssh *ssh, const struct kf_error *err, void *user);
	/* kf_ssh_listen() succeeded: the relay listens on its localhost at port. */
	void (*on_listening)(struct kf_ssh *ssh, uint16_t port, void *user);
	/* A connection arrived at the forwarded port. The callee owns the stream. */
	void (*on_channel)(struct kf_ssh *ssh, struct kf_stream *channel, void *user);
};

/*
 * Starts connecting. On success *ssh is the caller's, to be released with
 * kf_ssh_close(); the outcome arrives as on_ready or on_failed.
 */
int kf_ssh_connect(uv_loop_t *loop, const struct kf_ssh_options *options,
		   const struct kf_ssh_callbacks *callbacks, void *user, struct kf_ssh **ssh,
		   struct kf_error *err);

/* After on_ready: asks the relay to listen on "localhost", port 0 (the relay picks). */
int kf_ssh_listen(struct kf_ssh *ssh, struct kf_error *err);

typedef void (*kf_ssh_open_cb)(struct kf_ssh *ssh, struct kf_stream *stream,
			       const struct kf_error *err, void *user);

/*
 * After on_ready: opens a channel to host:port as seen from the relay. on_open
 * receives the stream (the callee owns it) or NULL and the reason.
 */
int kf_ssh_open(struct kf_ssh *ssh, const char *host, uint16_t port, kf_ssh_open_cb on_open,
		void *user, struct kf_error *err);

/*
 * Ends the connection at once and releases it; no callback of the connection fires
 * afterwards. Streams the caller still holds fail their writes with KF_ERR_CLOSED
 * and must still be closed with kf_stream_close(). Safe inside any callback.
 */
void kf_ssh_close(struct kf_ssh *ssh);

/* "SHA256:..." of the relay's host key as seen in this connection ("" before the handshake). */
const char *kf_ssh_host_key_fingerprint(const struct kf_ssh *ssh);

#endif
