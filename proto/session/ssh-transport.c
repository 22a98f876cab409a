/* kefu: the SSH connection to the relay, driven by libuv; channels as kf_streams. SPDX-License-Identifier: MIT */
#include "proto/session/ssh-transport.h"
#include "proto/base/buffer.h"

#include <errno.h>
#include <stdbool.h>
#include <libssh2.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Algorithms supported by libssh2 1.10 and OpenSSH 9.x. Left out on purpose: CBC
 * ciphers, arcfour, 3des, SHA-1 MACs and key exchanges, ssh-rsa and DSA host keys.
 * libssh2's own defaults still offer those. libssh2 1.10 has neither AES-GCM nor
 * chacha20-poly1305, so the SSH layer is AES-CTR with an HMAC (encrypt-and-MAC, as
 * OpenSSH's non-etm modes). AES-128 comes first: its security margin is ample and
 * libssh2 encrypts one 16-byte block per call, where the 10 rounds against 14 show.
 * HMAC-SHA-256 comes first: with the SHA extensions of current x86 and ARM CPUs it is
 * about twice as fast as SHA-512, and it was the largest cost of a bulk transfer.
 * Everything the session carries is also inside TLS 1.3 end to end; this layer
 * protects the relay's credentials and the session's metadata.
 */
#define KEX_ALGORITHMS                                                                             \
	"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp521,ecdh-sha2-nistp384,"    \
	"ecdh-sha2-nistp256"
#define HOST_KEY_ALGORITHMS                                                                        \
	"ssh-ed25519,ecdsa-sha2-nistp521,ecdsa-sha2-nistp384,ecdsa-sha2-nistp256"
#define CIPHERS     "aes128-ctr,aes256-ctr,aes192-ctr"
#define MACS        "hmac-sha2-256,hmac-sha2-512"
#define COMPRESSION "none"

#define DEFAULT_TIMEOUT_MS    10000
#define DEFAULT_KEEPALIVE_S   5
#define KEEPALIVES_UNANSWERED 3
#define READ_CHUNK            (64 * 1024)
#define WRITE_CHUNK           (32 * 1024)
/*
 * How much one channel may read in one turn of the loop: a fast bulk stream must
 * leave room for timers and the other channels (the control stream's pings).
 */
#define READ_BUDGET (256 * 1024)

enum ssh_state {
	STATE_RESOLVING,
	STATE_CONNECTING,
	STATE_HANDSHAKE,
	STATE_AUTH,
	STATE_READY,
	STATE_FAILED,
};

/*
 * OpenSSH's sshd turns Nagle's algorithm off on a connection (TCP_NODELAY) only once
 * a session on it has started a command. Until then sshd holds each small write, a
 * key press or a few changed tiles, until the previous segment is acknowledged: on a
 * 40 ms home link that was a third of the time from a key press to the changed pixel.
 * So once the connection has what it came for (the agent's listener, the console's
 * first channel), it opens a session and asks for a command; the relay's
 * ForceCommand runs nologin instead, which ends at once, and the channel is closed.
 * No terminal is asked for. A relay that refuses (MaxSessions 0) keeps Nagle, and
 * everything else works as before.
 */
enum interactive_state {
	INTERACTIVE_WANTED,
	INTERACTIVE_OPENING,
	INTERACTIVE_COMMAND,
	INTERACTIVE_CLOSING,
	INTERACTIVE_DONE,
};

struct ssh_channel;

struct ssh_open_request {
	struct ssh_open_request *next;
	char *host;
	uint16_t port;
	kf_ssh_open_cb on_open;
	void *user;
};

struct kf_ssh {
	uv_loop_t *loop;
	struct kf_ssh_callbacks callbacks;
	void *user;
	enum ssh_state state;
	char *host;
	uint16_t port;
	char *username;
	const struct kf_ssh_key *key;
	uint8_t (*pins)[KF_SSH_KEY_BLOB_MAX];
	size_t *pin_lengths;
	size_t pin_count;
	unsigned timeout_ms;
	unsigned keepalive_seconds;
	char fingerprint[64];

	uv_getaddrinfo_t resolver;
	int is_resolving;
	int fd;
	uv_poll_t poll;
	int is_poll_started;
	int poll_events;
	uv_timer_t timer; /* deadline while connecting, keepalives once ready */
	/*
	 * Runs the driver once on the next loop turn after a write or a request. An idle
	 * handle rather than a zero timer: a timer re-armed from its own callback runs
	 * again before the loop looks at the clock, starving every other timer.
	 */
	uv_idle_t kick;
	int open_handles;
	uint64_t last_received;

	LIBSSH2_SESSION *session;
	int wants_listen;
	LIBSSH2_LISTENER *listener;
	struct ssh_open_request *opens;
	struct ssh_channel *channels;
	enum interactive_state interactive;
	LIBSSH2_CHANNEL *interactive_channel;

	int depth;        /* > 0 while the driver or a notification runs */
	int is_closing;   /* kf_ssh_close() was called */
	int is_destroyed; /* libssh2 released, handles closing */
	uint8_t read_buffer[READ_CHUNK];
};

struct ssh_channel {
	struct kf_stream stream; /* first: the stream pointer is the channel pointer */
	struct ssh_channel *next;
	struct kf_ssh *ssh; /* NULL once the connection is gone */
	LIBSSH2_CHANNEL *lib;
	struct kf_buf out;
	int is_paused;
	int is_high; /* pending went above KF_STREAM_HIGH_WATER since the last drain */
	int wants_eof;
	int is_eof_sent;
	int is_ended;       /* on_end fired */
	int is_user_closed; /* kf_stream_close() was called */
};

static const struct kf_stream_ops channel_ops;

static pthread_once_t libssh2_once = PTHREAD_ONCE_INIT;
static int libssh2_init_result;

static void init_libssh2(void)
{
	libssh2_init_result = libssh2_init(0);
}

static void ssh_drive(struct kf_ssh *ssh);
static void on_kick(uv_idle_t *idle);
static void on_poll(uv_poll_t *poll, int status, int events);
static void ssh_fail(struct kf_ssh *ssh, int code, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* libssh2's description of its last error, for messages. */
static const char *last_error(struct kf_ssh *ssh)
{
	char *message = NULL;

	if (ssh->session == NULL)
		return "no session";
	libssh2_session_last_error(ssh->session, &message, NULL, 0);
	return message != NULL && message[0] != '\0' ? message : "unknown error";
}

static void schedule(struct kf_ssh *ssh)
{
	if (!ssh->is_destroyed && !uv_is_active((uv_handle_t *)&ssh->kick))
		uv_idle_start(&ssh->kick, on_kick);
}

/* A socket-level failure ends the whole connection, whichever call saw it first. */
static int session_is_dead(struct kf_ssh *ssh)
{
	switch (libssh2_session_last_errno(ssh->session)) {
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
		return 1;
	}
	return 0;
}

/* ---- channels as kf_streams ---- */

static void channel_end(struct ssh_channel *channel, int status, const struct kf_error *err)
{
	if (channel->is_ended || channel->is_user_closed)
		return;
	channel->is_ended = 1;
	if (channel->stream.on_end != NULL)
		channel->stream.on_end(&channel->stream, status, err, channel->stream.user);
}

static int channel_write(struct kf_stream *stream, const void *data, size_t len,
			 struct kf_error *err)
{
	struct ssh_channel *channel = (struct ssh_channel *)stream;

	if (channel->ssh == NULL || channel->lib == NULL || channel->is_ended || channel->wants_eof)
		return kf_error_set(err, KF_ERR_CLOSED, "the relay connection is closed");
	if (kf_buf_append(&channel->out, data, len) != KF_OK)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for outgoing data");
	if (channel->out.len >= KF_STREAM_HIGH_WATER)
		channel->is_high = 1;
	schedule(channel->ssh);
	return KF_OK;
}

static size_t channel_pending(const struct kf_stream *stream)
{
	return ((const struct ssh_channel *)stream)->out.len;
}

static void channel_read_pause(struct kf_stream *stream, int paused)
{
	struct ssh_channel *channel = (struct ssh_channel *)stream;

	channel->is_paused = paused;
	if (!paused && channel->ssh != NULL)
		schedule(channel->ssh);
}

static void channel_shutdown(struct kf_stream *stream)
{
	struct ssh_channel *channel = (struct ssh_channel *)stream;

	channel->wants_eof = 1;
	if (channel->ssh != NULL)
		schedule(channel->ssh);
}

static void channel_free(struct ssh_channel *channel)
{
	kf_buf_free(&channel->out);
	free(channel);
}

static void channel_close(struct kf_stream *stream)
{
	struct ssh_channel *channel = (struct ssh_channel *)stream;

	channel->is_user_closed = 1;
	if (channel->ssh == NULL) {
		/* The connection is gone and no driver walks its channels any more. */
		channel_free(channel);
		return;
	}
	schedule(channel->ssh);
}

static const struct kf_stream_ops channel_ops = {
	.write = channel_write,
	.pending = channel_pending,
	.read_pause = channel_read_pause,
	.shutdown = channel_shutdown,
	.close = channel_close,
};

static struct ssh_channel *channel_new(struct kf_ssh *ssh, LIBSSH2_CHANNEL *lib)
{
	struct ssh_channel *channel = calloc(1, sizeof(*channel));

	if (channel == NULL)
		return NULL;
	channel->stream.ops = &channel_ops;
	channel->ssh = ssh;
	channel->lib = lib;
	channel->next = ssh->channels;
	ssh->channels = channel;
	return channel;
}

/*
 * Moves a channel's data: writes what is queued, reads what arrived, sends EOF,
 * and takes a closed channel down. Returns 1 when the channel is finished and can
 * be unlinked and freed.
 */
static int channel_drive(struct kf_ssh *ssh, struct ssh_channel *channel)
{
	struct kf_error err;
	size_t budget = READ_BUDGET;
	ssize_t n;

	if (channel->is_user_closed) {
		/*
		 * Like a socket's close: what was written still goes out (a last error
		 * message, TLS's close_notify), then EOF and close, without waiting for the
		 * peer's answer. The user hears nothing more from this channel.
		 */
		while (channel->lib != NULL && channel->out.len > 0 && !channel->is_ended) {
			size_t len =
				channel->out.len < WRITE_CHUNK ? channel->out.len : WRITE_CHUNK;

			n = libssh2_channel_write(channel->lib, (const char *)channel->out.data,
						  len);
			if (n == LIBSSH2_ERROR_EAGAIN)
				return 0;
			if (n < 0)
				break;
			kf_buf_consume(&channel->out, (size_t)n);
		}
		if (channel->lib != NULL && !channel->is_eof_sent && !channel->is_ended) {
			if (libssh2_channel_send_eof(channel->lib) == LIBSSH2_ERROR_EAGAIN)
				return 0;
			channel->is_eof_sent = 1;
		}
		if (channel->lib != NULL) {
			int r = libssh2_channel_close(channel->lib);

			if (r == LIBSSH2_ERROR_EAGAIN)
				return 0;
			libssh2_channel_free(channel->lib);
			channel->lib = NULL;
		}
		return 1;
	}
	if (channel->is_ended)
		return 0;

	/*
	 * libssh2 takes at most one packet per call: what it took is dropped from the
	 * queue once, not after each packet, so the rest is moved once per turn.
	 */
	size_t sent = 0;
	while (sent < channel->out.len) {
		size_t left = channel->out.len - sent;

		n = libssh2_channel_write(channel->lib, (const char *)channel->out.data + sent,
					  left < WRITE_CHUNK ? left : WRITE_CHUNK);
		if (n == LIBSSH2_ERROR_EAGAIN)
			break;
		if (n < 0) {
			kf_buf_consume(&channel->out, sent);
			kf_error_set(&err, KF_ERR_CLOSED, "writing to the relay failed: %s",
				     last_error(ssh));
			channel_end(channel, KF_ERR_CLOSED, &err);
			return 0;
		}
		sent += (size_t)n;
	}
	kf_buf_consume(&channel->out, sent);
	if (channel->out.len == 0 && channel->is_high) {
		channel->is_high = 0;
		if (channel->stream.on_drain != NULL)
			channel->stream.on_drain(&channel->stream, channel->stream.user);
		if (channel->is_user_closed || channel->is_ended)
			return 0;
	}
	if (channel->wants_eof && !channel->is_eof_sent && channel->out.len == 0) {
		int r = libssh2_channel_send_eof(channel->lib);

		if (r == 0)
			channel->is_eof_sent = 1;
		else if (r != LIBSSH2_ERROR_EAGAIN)
			channel->is_eof_sent = 1; /* the peer is gone; reading will tell */
	}

	while (!channel->is_paused) {
		if (budget == 0) {
			schedule(ssh);
			break;
		}
		n = libssh2_channel_read(channel->lib, (char *)ssh->read_buffer,
					 sizeof(ssh->read_buffer));
		if (n == LIBSSH2_ERROR_EAGAIN)
			break;
		if (n > 0) {
			budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
			if (channel->stream.on_read != NULL)
				channel->stream.on_read(&channel->stream, ssh->read_buffer,
							(size_t)n, channel->stream.user);
			if (channel->is_user_closed || channel->is_ended || ssh->is_closing)
				return 0;
			continue;
		}
		if (n == 0 && !libssh2_channel_eof(channel->lib))
			break;
		/* A dead relay also looks like EOF: it must read as the failure it is. */
		if (session_is_dead(ssh)) {
			ssh_fail(ssh, KF_ERR_CLOSED, "lost the connection to the relay: %s",
				 last_error(ssh));
			return 0;
		}
		if (n == 0) {
			channel_end(channel, KF_OK, NULL);
		} else {
			kf_error_set(&err, KF_ERR_CLOSED, "reading from the relay failed: %s",
				     last_error(ssh));
			channel_end(channel, KF_ERR_CLOSED, &err);
		}
		break;
	}
	return 0;
}

/* ---- the connection ---- */

static int host_key_is_pinned(struct kf_ssh *ssh)
{
	size_t len = 0;
	int type = 0;
	const char *key = libssh2_session_hostkey(ssh->session, &len, &type);

	if (key == NULL)
		return 0;
	kf_ssh_key_fingerprint((const uint8_t *)key, len, ssh->fingerprint,
			       sizeof(ssh->fingerprint));
	for (size_t i = 0; i < ssh->pin_count; i++)
		if (ssh->pin_lengths[i] == len && memcmp(ssh->pins[i], key, len) == 0)
			return 1;
	return 0;
}

static int set_preferences(LIBSSH2_SESSION *session)
{
	return libssh2_session_method_pref(session, LIBSSH2_METHOD_KEX, KEX_ALGORITHMS) |
	       libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, HOST_KEY_ALGORITHMS) |
	       libssh2_session_method_pref(session, LIBSSH2_METHOD_CRYPT_CS, CIPHERS) |
	       libssh2_session_method_pref(session, LIBSSH2_METHOD_CRYPT_SC, CIPHERS) |
	       libssh2_session_method_pref(session, LIBSSH2_METHOD_MAC_CS, MACS) |
	       libssh2_session_method_pref(session, LIBSSH2_METHOD_MAC_SC, MACS) |
	       libssh2_session_method_pref(session, LIBSSH2_METHOD_COMP_CS, COMPRESSION) |
	       libssh2_session_method_pref(session, LIBSSH2_METHOD_COMP_SC, COMPRESSION);
}

static void update_poll(struct kf_ssh *ssh)
{
	int events = 0;

	if (ssh->is_destroyed || ssh->fd < 0 || ssh->state == STATE_FAILED)
		return;
	if (ssh->state == STATE_CONNECTING) {
		events = UV_WRITABLE;
	} else {
		int directions = libssh2_session_block_directions(ssh->session);

		/* Always read: keepalive answers, channel data and the relay going away. */
		events = UV_READABLE;
		if (directions & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			events |= UV_WRITABLE;
	}
	if (events != ssh->poll_events || !ssh->is_poll_started) {
		ssh->poll_events = events;
		ssh->is_poll_started = 1;
		uv_poll_start(&ssh->poll, events, on_poll);
	}
}

static void handle_closed(uv_handle_t *handle)
{
	struct kf_ssh *ssh = handle->data;

	if (--ssh->open_handles == 0)
		free(ssh);
}

/* Releases libssh2 and the socket, detaches channels, and closes the libuv handles. */
static void ssh_destroy(struct kf_ssh *ssh)
{
	struct ssh_channel *channel, *next;
	struct ssh_open_request *open, *next_open;

	if (ssh->is_destroyed)
		return;
	ssh->is_destroyed = 1;
	/*
	 * Non-blocking, libssh2 may give up half-way through freeing a channel or the
	 * session; blocking with a short timeout lets it finish, and a dead relay fails
	 * at once anyway.
	 */
	if (ssh->session != NULL) {
		libssh2_session_set_blocking(ssh->session, 1);
		libssh2_session_set_timeout(ssh->session, 1000);
	}
	for (channel = ssh->channels; channel != NULL; channel = next) {
		next = channel->next;
		if (channel->lib != NULL)
			libssh2_channel_free(channel->lib);
		channel->lib = NULL;
		channel->ssh = NULL;
		if (channel->is_user_closed)
			channel_free(channel);
	}
	ssh->channels = NULL;
	if (ssh->interactive_channel != NULL)
		libssh2_channel_free(ssh->interactive_channel);
	ssh->interactive_channel = NULL;
	for (open = ssh->opens; open != NULL; open = next_open) {
		next_open = open->next;
		free(open->host);
		free(open);
	}
	ssh->opens = NULL;
	if (ssh->listener != NULL)
		libssh2_channel_forward_cancel(ssh->listener);
	if (ssh->session != NULL) {
		libssh2_session_disconnect(ssh->session, "kefu session ended");
		libssh2_session_free(ssh->session);
		ssh->session = NULL;
	}
	/* A lookup in flight still calls back: it holds the memory until then. */
	if (ssh->is_resolving) {
		ssh->open_handles++;
		uv_cancel((uv_req_t *)&ssh->resolver);
	}
	free(ssh->host);
	free(ssh->username);
	free(ssh->pins);
	free(ssh->pin_lengths);
	ssh->open_handles += 3;
	uv_close((uv_handle_t *)&ssh->timer, handle_closed);
	uv_close((uv_handle_t *)&ssh->kick, handle_closed);
	if (ssh->fd >= 0) {
		uv_close((uv_handle_t *)&ssh->poll, handle_closed);
		close(ssh->fd);
		ssh->fd = -1;
	} else {
		ssh->open_handles--;
	}
}

static void ssh_fail(struct kf_ssh *ssh, int code, const char *format, ...)
{
	struct ssh_channel *channel;
	struct kf_error err;
	va_list args;

	if (ssh->state == STATE_FAILED || ssh->is_closing)
		return;
	ssh->state = STATE_FAILED;
	err.code = code;
	va_start(args, format);
	vsnprintf(err.message, sizeof(err.message), format, args);
	va_end(args);
	uv_timer_stop(&ssh->timer);
	if (ssh->is_poll_started)
		uv_poll_stop(&ssh->poll);
	ssh->depth++;
	for (channel = ssh->channels; channel != NULL; channel = channel->next)
		channel_end(channel, KF_ERR_CLOSED, &err);
	if (!ssh->is_closing && ssh->callbacks.on_failed != NULL)
		ssh->callbacks.on_failed(ssh, &err, ssh->user);
	ssh->depth--;
	if (ssh->is_closing && ssh->depth == 0)
		ssh_destroy(ssh);
}

static void on_keepalive(uv_timer_t *timer)
{
	struct kf_ssh *ssh = timer->data;
	uint64_t silent_ms = uv_now(ssh->loop) - ssh->last_received;
	int next = 0;

	if (silent_ms > (uint64_t)ssh->keepalive_seconds * 1000 * KEEPALIVES_UNANSWERED) {
		ssh_fail(ssh, KF_ERR_TIMEOUT, "the relay stopped answering (nothing for %llu s)",
			 (unsigned long long)(silent_ms / 1000));
		return;
	}
	if (libssh2_keepalive_send(ssh->session, &next) != 0 &&
	    libssh2_session_last_errno(ssh->session) != LIBSSH2_ERROR_EAGAIN) {
		ssh_fail(ssh, KF_ERR_CLOSED, "lost the connection to the relay: %s",
			 last_error(ssh));
		return;
	}
	update_poll(ssh);
}

static void on_deadline(uv_timer_t *timer)
{
	struct kf_ssh *ssh = timer->data;

	ssh_fail(ssh, KF_ERR_TIMEOUT, "could not reach the relay %s port %u within %u s", ssh->host,
		 ssh->port, ssh->timeout_ms / 1000);
}

static void become_ready(struct kf_ssh *ssh)
{
	ssh->state = STATE_READY;
	ssh->key = NULL;
	uv_timer_stop(&ssh->timer);
	libssh2_keepalive_config(ssh->session, 1, ssh->keepalive_seconds);
	uv_timer_start(&ssh->timer, on_keepalive, (uint64_t)ssh->keepalive_seconds * 1000,
		       (uint64_t)ssh->keepalive_seconds * 1000);
	if (ssh->callbacks.on_ready != NULL)
		ssh->callbacks.on_ready(ssh, ssh->user);
}

/* Advances connecting, handshake and authentication; returns 1 once ready. */
static int drive_setup(struct kf_ssh *ssh)
{
	int r, so_error = 0;
	socklen_t len = sizeof(so_error);

	switch (ssh->state) {
	case STATE_CONNECTING:
		if (getsockopt(ssh->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 ||
		    so_error == EINPROGRESS)
			return 0;
		if (so_error != 0) {
			ssh_fail(ssh, KF_ERR_IO, "cannot connect to the relay %s port %u: %s",
				 ssh->host, ssh->port, strerror(so_error));
			return 0;
		}
		ssh->state = STATE_HANDSHAKE;
		__attribute__((fallthrough));
	case STATE_HANDSHAKE:
		r = libssh2_session_handshake(ssh->session, ssh->fd);
		if (r == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (r != 0) {
			ssh_fail(ssh, KF_ERR_IO, "SSH handshake with the relay failed: %s",
				 last_error(ssh));
			return 0;
		}
		if (!host_key_is_pinned(ssh)) {
			ssh_fail(ssh, KF_ERR_AUTH,
				 "the relay's host key %s is not the one in the support profile; "
				 "refusing to continue",
				 ssh->fingerprint);
			return 0;
		}
		ssh->state = STATE_AUTH;
		__attribute__((fallthrough));
	case STATE_AUTH:
		r = libssh2_userauth_publickey_frommemory(
			ssh->session, ssh->username, strlen(ssh->username), ssh->key->public_line,
			strlen(ssh->key->public_line), ssh->key->private_text,
			ssh->key->private_len, NULL);
		if (r == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (r != 0) {
			ssh_fail(ssh, KF_ERR_AUTH, "the relay did not accept this key for '%s': %s",
				 ssh->username, last_error(ssh));
			return 0;
		}
		become_ready(ssh);
		return ssh->state == STATE_READY;
	case STATE_READY:
		return 1;
	default:
		return 0;
	}
}

/* Whether the relay closed the connection: end of stream or an error, not "no data yet". */
static bool socket_has_ended(int fd)
{
	char byte;
	ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void drive_listen(struct kf_ssh *ssh)
{
	LIBSSH2_CHANNEL *lib;
	int bound_port = 0;

	if (ssh->wants_listen && ssh->listener == NULL) {
		ssh->listener = libssh2_channel_forward_listen_ex(ssh->session, "localhost", 0,
								  &bound_port, 16);
		if (ssh->listener == NULL) {
			if (libssh2_session_last_errno(ssh->session) != LIBSSH2_ERROR_EAGAIN)
				ssh_fail(ssh, KF_ERR_DENIED,
					 "the relay refused to listen for this session: %s",
					 last_error(ssh));
			return;
		}
		ssh->wants_listen = 0;
		if (ssh->callbacks.on_listening != NULL)
			ssh->callbacks.on_listening(ssh, (uint16_t)bound_port, ssh->user);
	}
	while (ssh->listener != NULL && !ssh->is_closing && ssh->state == STATE_READY) {
		struct ssh_channel *channel;

		lib = libssh2_channel_forward_accept(ssh->listener);
		if (lib == NULL) {
			int code = libssh2_session_last_errno(ssh->session);

			/*
			 * libssh2 1.10 says "Channel not found" (CHANNEL_UNKNOWN) whenever its
			 * read loop stopped without EAGAIN, for instance on a packet handled
			 * during a key re-exchange under heavy traffic, and no connection was
			 * queued: nothing to accept yet, not a lost relay. The same answer
			 * hides an end of the connection, so the socket is asked directly.
			 */
			if (code == LIBSSH2_ERROR_CHANNEL_UNKNOWN && !socket_has_ended(ssh->fd))
				return;
			if (code != LIBSSH2_ERROR_EAGAIN)
				ssh_fail(ssh, KF_ERR_CLOSED,
					 "lost the relay while waiting for a connection: %s",
					 last_error(ssh));
			return;
		}
		channel = channel_new(ssh, lib);
		if (channel == NULL) {
			libssh2_channel_free(lib);
			return;
		}
		if (ssh->callbacks.on_channel != NULL)
			ssh->callbacks.on_channel(ssh, &channel->stream, ssh->user);
		else
			channel->is_user_closed = 1;
	}
}

static void drive_opens(struct kf_ssh *ssh)
{
	/* libssh2 1.10 keeps one channel open in progress per connection, of any kind. */
	if (ssh->interactive == INTERACTIVE_OPENING)
		return;
	while (ssh->opens != NULL && !ssh->is_closing && ssh->state == STATE_READY) {
		struct ssh_open_request *open = ssh->opens;
		struct ssh_channel *channel;
		struct kf_error err;
		LIBSSH2_CHANNEL *lib;

		/* One at a time: a request that would block stays first in the queue. */
		lib = libssh2_channel_direct_tcpip_ex(ssh->session, open->host, open->port,
						      "127.0.0.1", 0);
		if (lib == NULL && libssh2_session_last_errno(ssh->session) == LIBSSH2_ERROR_EAGAIN)
			return;
		ssh->opens = open->next;
		if (lib == NULL) {
			kf_error_set(&err, KF_ERR_NOT_FOUND,
				     "the relay could not connect to %s port %u: %s", open->host,
				     open->port, last_error(ssh));
			open->on_open(ssh, NULL, &err, open->user);
		} else if ((channel = channel_new(ssh, lib)) == NULL) {
			libssh2_channel_free(lib);
			kf_error_set(&err, KF_ERR_NOMEM, "out of memory for a channel");
			open->on_open(ssh, NULL, &err, open->user);
		} else {
			open->on_open(ssh, &channel->stream, NULL, open->user);
		}
		free(open->host);
		free(open);
	}
}

/* Asks the relay to treat the connection as interactive (see enum interactive_state). */
static void drive_interactive(struct kf_ssh *ssh)
{
	int r;

	if (ssh->is_closing || ssh->state != STATE_READY)
		return;
	switch (ssh->interactive) {
	case INTERACTIVE_WANTED:
		/* What the connection is for goes first; opens go one at a time. */
		if (ssh->wants_listen || ssh->opens != NULL)
			return;
		__attribute__((fallthrough));
	case INTERACTIVE_OPENING:
		ssh->interactive_channel = libssh2_channel_open_session(ssh->session);
		if (ssh->interactive_channel == NULL) {
			r = libssh2_session_last_errno(ssh->session);
			ssh->interactive =
				r == LIBSSH2_ERROR_EAGAIN ? INTERACTIVE_OPENING : INTERACTIVE_DONE;
			return;
		}
		ssh->interactive = INTERACTIVE_COMMAND;
		__attribute__((fallthrough));
	case INTERACTIVE_COMMAND:
		/* ForceCommand replaces it; a relay without one runs the shell's exit. */
		if (libssh2_channel_exec(ssh->interactive_channel, "exit") == LIBSSH2_ERROR_EAGAIN)
			return;
		break;
	case INTERACTIVE_CLOSING:
		break;
	case INTERACTIVE_DONE:
		return;
	}
	/* Frees what the command wrote too: nothing reads it. */
	ssh->interactive = INTERACTIVE_CLOSING;
	if (libssh2_channel_free(ssh->interactive_channel) == LIBSSH2_ERROR_EAGAIN)
		return;
	ssh->interactive_channel = NULL;
	ssh->interactive = INTERACTIVE_DONE;
}

static void drive_channels(struct kf_ssh *ssh)
{
	struct ssh_channel **link = &ssh->channels;

	while (*link != NULL && !ssh->is_closing && ssh->state == STATE_READY) {
		struct ssh_channel *channel = *link;

		if (channel_drive(ssh, channel)) {
			*link = channel->next;
			channel_free(channel);
		} else {
			link = &channel->next;
		}
	}
}

static void ssh_drive(struct kf_ssh *ssh)
{
	if (ssh->is_destroyed || ssh->state == STATE_FAILED)
		return;
	ssh->depth++;
	if (drive_setup(ssh) && !ssh->is_closing) {
		drive_listen(ssh);
		drive_opens(ssh);
		drive_interactive(ssh);
		drive_channels(ssh);
		if (ssh->state == STATE_READY && !ssh->is_closing && session_is_dead(ssh))
			ssh_fail(ssh, KF_ERR_CLOSED, "lost the connection to the relay: %s",
				 last_error(ssh));
	}
	ssh->depth--;
	if (ssh->is_closing && ssh->depth == 0) {
		ssh_destroy(ssh);
		return;
	}
	update_poll(ssh);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
	struct kf_ssh *ssh = poll->data;

	/* While connecting, the socket's own error says best why (refused, unreachable). */
	if (status < 0 && ssh->state != STATE_CONNECTING) {
		ssh_fail(ssh, KF_ERR_IO, "the connection to the relay failed: %s",
			 uv_strerror(status));
		return;
	}
	if (events & UV_READABLE) {
		ssh->last_received = uv_now(ssh->loop);
		/*
		 * Acknowledge at once. sshd leaves Nagle on for connections without a
		 * terminal, so a delayed acknowledgement here would hold back its next
		 * small packet (a keystroke, a screen update) by up to 40 ms. Linux
		 * clears this flag by itself, hence setting it on every read.
		 */
		int one = 1;
		setsockopt(ssh->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	}
	ssh_drive(ssh);
}

static void on_kick(uv_idle_t *idle)
{
	uv_idle_stop(idle);
	ssh_drive(idle->data);
}

static void on_resolved(uv_getaddrinfo_t *request, int status, struct addrinfo *result)
{
	struct kf_ssh *ssh = request->data;
	int fd, one = 1;

	ssh->is_resolving = 0;
	if (ssh->is_destroyed) {
		uv_freeaddrinfo(result);
		if (--ssh->open_handles == 0)
			free(ssh);
		return;
	}
	if (status < 0 || result == NULL) {
		uv_freeaddrinfo(result);
		ssh_fail(ssh, KF_ERR_NOT_FOUND, "cannot find the relay %s: %s", ssh->host,
			 uv_strerror(status));
		return;
	}
	fd = socket(result->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		uv_freeaddrinfo(result);
		ssh_fail(ssh, KF_ERR_IO, "cannot make a socket: %s", strerror(errno));
		return;
	}
	/* Small control messages must not wait for Nagle: measured 22 ms per round trip. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, result->ai_addr, result->ai_addrlen) != 0 && errno != EINPROGRESS) {
		int saved = errno;

		uv_freeaddrinfo(result);
		close(fd);
		ssh_fail(ssh, KF_ERR_IO, "cannot connect to the relay %s port %u: %s", ssh->host,
			 ssh->port, strerror(saved));
		return;
	}
	uv_freeaddrinfo(result);
	ssh->fd = fd;
	uv_poll_init_socket(ssh->loop, &ssh->poll, fd);
	ssh->poll.data = ssh;
	ssh->state = STATE_CONNECTING;
	ssh->is_poll_started = 1;
	ssh->poll_events = UV_WRITABLE;
	uv_poll_start(&ssh->poll, UV_WRITABLE, on_poll);
}

int kf_ssh_connect(uv_loop_t *loop, const struct kf_ssh_options *options,
		   const struct kf_ssh_callbacks *callbacks, void *user, struct kf_ssh **out,
		   struct kf_error *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct kf_ssh *ssh;
	char service[8];
	int r;

	*out = NULL;
	pthread_once(&libssh2_once, init_libssh2);
	if (libssh2_init_result != 0)
		return kf_error_set(err, KF_ERR_IO, "libssh2 could not start");
	if (options->host == NULL || options->user == NULL || options->key == NULL ||
	    options->host_key_count == 0)
		return kf_error_set(err, KF_ERR_INVALID,
				    "a relay needs a host, a user, a key and a pinned host key");
	ssh = calloc(1, sizeof(*ssh));
	if (ssh == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for a connection");
	ssh->fd = -1;
	ssh->loop = loop;
	ssh->callbacks = *callbacks;
	ssh->user = user;
	ssh->key = options->key;
	ssh->port = options->port;
	ssh->timeout_ms = options->timeout_ms ? options->timeout_ms : DEFAULT_TIMEOUT_MS;
	ssh->keepalive_seconds =
		options->keepalive_seconds ? options->keepalive_seconds : DEFAULT_KEEPALIVE_S;
	ssh->host = strdup(options->host);
	ssh->username = strdup(options->user);
	ssh->pins = calloc(options->host_key_count, sizeof(*ssh->pins));
	ssh->pin_lengths = calloc(options->host_key_count, sizeof(*ssh->pin_lengths));
	if (ssh->host == NULL || ssh->username == NULL || ssh->pins == NULL ||
	    ssh->pin_lengths == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory for a connection");
		goto fail;
	}
	for (size_t i = 0; i < options->host_key_count; i++) {
		if ((r = kf_ssh_key_parse_public(options->host_keys[i], ssh->pins[i],
						 &ssh->pin_lengths[i], err)) != KF_OK)
			goto fail;
	}
	ssh->pin_count = options->host_key_count;
	ssh->session = libssh2_session_init();
	if (ssh->session == NULL || set_preferences(ssh->session) != 0) {
		r = kf_error_set(err, KF_ERR_IO, "libssh2 could not set up a session");
		goto fail;
	}
	libssh2_session_set_blocking(ssh->session, 0);

	uv_timer_init(loop, &ssh->timer);
	uv_idle_init(loop, &ssh->kick);
	ssh->timer.data = ssh->kick.data = ssh;
	ssh->resolver.data = ssh;
	snprintf(service, sizeof(service), "%u", options->port);
	r = uv_getaddrinfo(loop, &ssh->resolver, on_resolved, ssh->host, service, &hints);
	if (r < 0) {
		kf_error_set(err, KF_ERR_NOT_FOUND, "cannot look up the relay %s: %s", ssh->host,
			     uv_strerror(r));
		r = KF_ERR_NOT_FOUND;
		ssh_destroy(ssh);
		return r;
	}
	ssh->is_resolving = 1;
	ssh->last_received = uv_now(loop);
	uv_timer_start(&ssh->timer, on_deadline, ssh->timeout_ms, 0);
	*out = ssh;
	return KF_OK;
fail:
	if (ssh->session != NULL)
		libssh2_session_free(ssh->session);
	free(ssh->host);
	free(ssh->username);
	free(ssh->pins);
	free(ssh->pin_lengths);
	free(ssh);
	return r;
}

int kf_ssh_listen(struct kf_ssh *ssh, struct kf_error *err)
{
	if (ssh->state != STATE_READY)
		return kf_error_set(err, KF_ERR_STATE, "not connected to the relay");
	if (ssh->listener != NULL || ssh->wants_listen)
		return kf_error_set(err, KF_ERR_STATE, "already listening");
	ssh->wants_listen = 1;
	schedule(ssh);
	return KF_OK;
}

int kf_ssh_open(struct kf_ssh *ssh, const char *host, uint16_t port, kf_ssh_open_cb on_open,
		void *user, struct kf_error *err)
{
	struct ssh_open_request *open, **tail;

	if (ssh->state != STATE_READY)
		return kf_error_set(err, KF_ERR_STATE, "not connected to the relay");
	open = calloc(1, sizeof(*open));
	if (open == NULL || (open->host = strdup(host)) == NULL) {
		free(open);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for a channel");
	}
	open->port = port;
	open->on_open = on_open;
	open->user = user;
	for (tail = &ssh->opens; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = open;
	schedule(ssh);
	return KF_OK;
}

void kf_ssh_close(struct kf_ssh *ssh)
{
	if (ssh == NULL || ssh->is_closing)
		return;
	ssh->is_closing = 1;
	if (ssh->depth == 0)
		ssh_destroy(ssh);
}

const char *kf_ssh_host_key_fingerprint(const struct kf_ssh *ssh)
{
	return ssh->fingerprint;
}
