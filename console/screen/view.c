/* kefu-console: the customer's screen on a loopback port: the RFB proxy a local viewer attaches to. SPDX-License-Identifier: MIT */
#include "console/screen/view.h"
#include "console/screen/rfb-handshake.h"
#include "console/screen/rfb-rewrite.h"
#include "console/screen/view-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <rfb/rfbproto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define HANDSHAKE_MAX   8192
#define SERVER_NAME_MAX 4096
/* Pause the agent's stream while this much is queued towards a slow viewer. */
#define VIEWER_HIGH_WATER (4u * 1024u * 1024u)
#define VIEWER_LOW_WATER  (1u * 1024u * 1024u)
/* After this many wrong passwords the token is retired and the port closed. */
#define MAX_FAILURES 20
/* A viewer gets this long from connecting to its first frame, and checks run this often. */
#define HANDSHAKE_TIMEOUT_MS 10000
/*
 * A viewer that passed the password waits this long for the agent's greeting: on
 * a Wayland desktop the agent first waits for the customer's answer in the
 * desktop's own sharing dialog (up to 120 s).
 */
#define AGENT_GREETING_TIMEOUT_MS 130000
#define SWEEP_INTERVAL_MS         1000

enum conn_state {
	VIEWER_VERSION,
	VIEWER_SECURITY,
	VIEWER_AUTH,
	VIEWER_INIT,
	AGENT_VERSION,
	AGENT_SECURITY,
	AGENT_RESULT,
	AGENT_INIT,
	RELAY,
};

struct conn {
	struct kf_view *view;
	struct conn *next;
	uv_tcp_t tcp;
	struct kf_stream *agent;
	enum conn_state state;
	uint64_t connected_at; /* uv_now() when the viewer connected */
	int minor;
	uint8_t challenge[CHALLENGESIZE];
	uint8_t in[HANDSHAKE_MAX];
	size_t in_len;
	uint8_t agent_in[24 + SERVER_NAME_MAX];
	size_t agent_in_len;
	size_t queued;
	struct kf_rfb_rewriter rewriter; /* the viewer's messages, with the technician's quality */
	struct kf_buf rewritten;
	int is_agent_paused;
	int is_counted;
	int is_closing;
	int is_close_after_write;
};

struct send_req {
	uv_write_t req;
	struct conn *conn;
	size_t len;
	uint8_t data[];
};

static void conn_close(struct conn *conn);

void kf_view_report(struct kf_view *view, const char *format, ...)
{
	if (view->options.on_event == NULL)
		return;
	char line[512];
	va_list args;
	va_start(args, format);
	vsnprintf(line, sizeof(line), format, args);
	va_end(args);
	view->options.on_event(line, view->options.user);
}

static void maybe_release(struct kf_view *view)
{
	if (!view->is_freeing || view->open_handles > 0)
		return;
	OPENSSL_cleanse(view->password, sizeof(view->password));
	free(view);
}

void kf_view_on_handle_closed(uv_handle_t *handle)
{
	struct kf_view *view = handle->data;
	view->open_handles--;
	maybe_release(view);
}

static void on_conn_closed(uv_handle_t *handle)
{
	struct conn *conn = handle->data;
	struct kf_view *view = conn->view;
	for (struct conn **p = &view->conns; *p != NULL; p = &(*p)->next)
		if (*p == conn) {
			*p = conn->next;
			break;
		}
	OPENSSL_cleanse(conn->challenge, sizeof(conn->challenge));
	kf_buf_free(&conn->rewritten);
	free(conn);
	view->open_handles--;
	maybe_release(view);
}

static void on_sent(uv_write_t *req, int status)
{
	struct send_req *send = (struct send_req *)req;
	struct conn *conn = send->conn;
	conn->queued -= send->len;
	free(send);
	if (conn->is_closing)
		return;
	if (status < 0 || (conn->is_close_after_write && conn->queued == 0)) {
		conn_close(conn);
		return;
	}
	if (conn->is_agent_paused && conn->queued < VIEWER_LOW_WATER && conn->agent != NULL) {
		conn->is_agent_paused = 0;
		kf_stream_read_pause(conn->agent, 0);
	}
}

static void conn_send(struct conn *conn, const void *data, size_t len)
{
	if (conn->is_closing || len == 0)
		return;
	struct send_req *send = malloc(sizeof(*send) + len);
	if (send == NULL) {
		conn_close(conn);
		return;
	}
	send->conn = conn;
	send->len = len;
	memcpy(send->data, data, len);
	uv_buf_t buf = uv_buf_init((char *)send->data, (unsigned)len);
	if (uv_write(&send->req, (uv_stream_t *)&conn->tcp, &buf, 1, on_sent) < 0) {
		free(send);
		conn_close(conn);
		return;
	}
	conn->queued += len;
	if (conn->queued >= VIEWER_HIGH_WATER && conn->agent != NULL && !conn->is_agent_paused) {
		conn->is_agent_paused = 1;
		kf_stream_read_pause(conn->agent, 1);
	}
}

static void conn_close(struct conn *conn)
{
	if (conn->is_closing)
		return;
	conn->is_closing = 1;
	if (conn->agent != NULL) {
		kf_stream_close(conn->agent);
		conn->agent = NULL;
	}
	if (conn->is_counted) {
		conn->is_counted = 0;
		conn->view->viewer_count--;
		kf_view_report(conn->view, "viewer disconnected; the screen stays shared at %s",
			       conn->view->address);
	}
	uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void consume(uint8_t *buf, size_t *len, size_t n)
{
	memmove(buf, buf + n, *len - n);
	*len -= n;
}

/* Refuses the viewer the way its protocol version expects, then closes. */
static void refuse_viewer(struct conn *conn, const char *reason)
{
	uint8_t head[8];
	put_u32(head, 1);
	if (conn->minor >= 8) {
		put_u32(head + 4, (uint32_t)strlen(reason));
		conn_send(conn, head, 8);
		conn_send(conn, reason, strlen(reason));
	} else {
		conn_send(conn, head, 4);
	}
	conn->is_close_after_write = 1;
	uv_read_stop((uv_stream_t *)&conn->tcp);
}

static void on_drain(struct kf_stream *stream, void *user);
static void on_viewer_read(uv_stream_t *handle, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);

/* What the viewer sent, on to the agent with the technician's quality in its encodings. */
static int relay_to_agent(struct conn *conn, const uint8_t *data, size_t len)
{
	struct kf_rfb_rewriter *rw = &conn->rewriter;
	int was_missing = rw->is_tight_missing, was_adaptive = rw->is_adaptive;
	kf_buf_reset(&conn->rewritten);
	if (conn->agent == NULL || kf_rfb_rewrite(rw, data, len, &conn->rewritten) != KF_OK ||
	    kf_stream_write(conn->agent, conn->rewritten.data, conn->rewritten.len, NULL) != KF_OK)
		return -1;
	if (rw->is_tight_missing && !was_missing)
		kf_view_report(conn->view, "the viewer offers no Tight encoding: its picture stays "
					   "lossless whatever the quality");
	if (rw->is_adaptive && !was_adaptive)
		kf_view_report(conn->view, "quality follows the link: lossless while it keeps up, "
					   "JPEG when it does not");
	return 0;
}

static void start_relay(struct conn *conn)
{
	conn->state = RELAY;
	kf_rfb_rewriter_init(&conn->rewriter, conn->view->options.quality);
	conn->is_counted = 1;
	conn->view->viewer_count++;
	kf_view_report(conn->view, "viewer connected");
	if (conn->agent_in_len > 0) {
		conn_send(conn, conn->agent_in, conn->agent_in_len);
		conn->agent_in_len = 0;
	}
	if (conn->in_len > 0 && conn->agent != NULL) {
		int rc = relay_to_agent(conn, conn->in, conn->in_len);
		conn->in_len = 0;
		if (rc != 0) {
			conn_close(conn);
			return;
		}
	}
	if (!conn->is_closing)
		uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_viewer_read);
}

/* The view is the agent's client until ServerInit, which goes to the viewer as is. */
static void agent_handshake(struct conn *conn)
{
	for (;;) {
		uint8_t *in = conn->agent_in;
		size_t len = conn->agent_in_len;
		int used;
		switch (conn->state) {
		case AGENT_VERSION: {
			int minor;
			/* Our version went out when the stream opened (see open_agent). */
			used = kf_rfb_read_version(in, len, &minor);
			/* We asked for 3.8: an older server's handshake would differ. */
			if (used > 0 && minor < 8)
				used = KF_ERR_INVALID;
			if (used > 0)
				conn->state = AGENT_SECURITY;
			break;
		}
		case AGENT_SECURITY:
			used = kf_rfb_read_security_types(in, len, rfbSecTypeNone);
			if (used > 0) {
				uint8_t choice = rfbSecTypeNone;
				kf_stream_write(conn->agent, &choice, 1, NULL);
				conn->state = AGENT_RESULT;
			}
			break;
		case AGENT_RESULT:
			used = kf_rfb_read_security_result(in, len);
			if (used > 0) {
				uint8_t shared = 1;
				kf_stream_write(conn->agent, &shared, 1, NULL);
				conn->state = AGENT_INIT;
			}
			break;
		case AGENT_INIT:
			used = kf_rfb_read_server_init(in, len, SERVER_NAME_MAX);
			if (used > 0) {
				conn_send(conn, in, (size_t)used);
				consume(in, &conn->agent_in_len, (size_t)used);
				start_relay(conn);
				return;
			}
			break;
		default:
			return;
		}
		if (used < 0) {
			conn_close(conn);
			return;
		}
		if (used == 0)
			return;
		consume(in, &conn->agent_in_len, (size_t)used);
	}
}

static void on_agent_read(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	(void)stream;
	struct conn *conn = user;
	if (conn->is_closing)
		return;
	if (conn->state == RELAY) {
		conn_send(conn, data, len);
		return;
	}
	if (len > sizeof(conn->agent_in) - conn->agent_in_len) {
		conn_close(conn);
		return;
	}
	memcpy(conn->agent_in + conn->agent_in_len, data, len);
	conn->agent_in_len += len;
	agent_handshake(conn);
}

static void on_agent_end(struct kf_stream *stream, int status, const struct kf_error *err,
			 void *user)
{
	(void)stream;
	(void)status;
	(void)err;
	struct conn *conn = user;
	/* The stream is done; the viewer's connection goes with it once flushed. */
	kf_stream_close(conn->agent);
	conn->agent = NULL;
	if (conn->queued == 0)
		conn_close(conn);
	else
		conn->is_close_after_write = 1;
}

static void on_drain(struct kf_stream *stream, void *user)
{
	(void)stream;
	struct conn *conn = user;
	if (!conn->is_closing && conn->state == RELAY)
		uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_viewer_read);
}

static void open_agent(struct conn *conn)
{
	struct kf_error err;
	kf_error_clear(&err);
	uv_read_stop((uv_stream_t *)&conn->tcp);
	if (conn->view->options.open_stream(conn->view->options.user, &conn->agent, &err) !=
	    KF_OK) {
		kf_view_report(conn->view, "cannot open the screen stream: %s", err.message);
		conn_close(conn);
		return;
	}
	conn->agent->on_read = on_agent_read;
	conn->agent->on_end = on_agent_end;
	conn->agent->on_drain = on_drain;
	conn->agent->user = conn;
	conn->state = AGENT_VERSION;
	/*
	 * The client's version is sent before the server's arrives: libvncserver
	 * first peeks up to 100 ms for a WebSocket request, and bytes already
	 * there end that wait at once. It then reads them as the usual reply.
	 */
	static const char version[] = "RFB 003.008\n";
	kf_stream_write(conn->agent, version, 12, NULL);
}

static int is_password_right(struct conn *conn, const uint8_t *response)
{
	uint8_t expected[CHALLENGESIZE];
	memcpy(expected, conn->challenge, sizeof(expected));
	rfbEncryptBytes(expected, conn->view->password);
	int is_right = CRYPTO_memcmp(expected, response, CHALLENGESIZE) == 0;
	OPENSSL_cleanse(expected, sizeof(expected));
	return is_right;
}

static void send_challenge(struct conn *conn)
{
	if (RAND_bytes(conn->challenge, sizeof(conn->challenge)) != 1) {
		conn_close(conn);
		return;
	}
	conn_send(conn, conn->challenge, sizeof(conn->challenge));
	conn->state = VIEWER_AUTH;
}

static void viewer_handshake(struct conn *conn)
{
	struct kf_view *view = conn->view;
	for (;;) {
		uint8_t *in = conn->in;
		size_t len = conn->in_len;
		switch (conn->state) {
		case VIEWER_VERSION: {
			int used = kf_rfb_read_version(in, len, &conn->minor);
			if (used == 0)
				return;
			if (used < 0) {
				conn_close(conn);
				return;
			}
			consume(in, &conn->in_len, (size_t)used);
			if (conn->minor == 3) {
				uint8_t type[4];
				put_u32(type, rfbVncAuth);
				conn_send(conn, type, 4);
				send_challenge(conn);
			} else {
				uint8_t types[2] = {1, rfbVncAuth};
				conn_send(conn, types, 2);
				conn->state = VIEWER_SECURITY;
			}
			break;
		}
		case VIEWER_SECURITY:
			if (len < 1)
				return;
			if (in[0] != rfbVncAuth) {
				refuse_viewer(conn, "this endpoint needs the view's password");
				return;
			}
			consume(in, &conn->in_len, 1);
			send_challenge(conn);
			break;
		case VIEWER_AUTH: {
			if (len < CHALLENGESIZE)
				return;
			int is_right = is_password_right(conn, in);
			consume(in, &conn->in_len, CHALLENGESIZE);
			if (!is_right) {
				view->failures++;
				kf_view_report(view,
					       "a viewer gave a wrong password (%d of %d allowed)",
					       view->failures, MAX_FAILURES);
				refuse_viewer(conn, "wrong password");
				if (view->failures >= MAX_FAILURES && view->is_listener_open) {
					view->is_listener_open = 0;
					view->open_handles++;
					uv_close((uv_handle_t *)&view->listener,
						 kf_view_on_handle_closed);
					kf_view_report(
						view,
						"too many wrong passwords: the view's port is "
						"closed");
				}
				return;
			}
			uint8_t ok[4] = {0, 0, 0, 0};
			conn_send(conn, ok, 4);
			conn->state = VIEWER_INIT;
			break;
		}
		case VIEWER_INIT:
			if (len < 1)
				return;
			consume(in, &conn->in_len, 1);
			open_agent(conn);
			return;
		default:
			return;
		}
	}
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)handle;
	(void)suggested;
	buf->base = malloc(65536);
	buf->len = buf->base ? 65536 : 0;
}

static void on_viewer_read(uv_stream_t *handle, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *conn = handle->data;
	if (nread < 0) {
		conn_close(conn);
	} else if (nread > 0 && !conn->is_closing) {
		if (conn->state == RELAY) {
			if (relay_to_agent(conn, (const uint8_t *)buf->base, (size_t)nread) != 0)
				conn_close(conn);
			else if (kf_stream_pending(conn->agent) >= KF_STREAM_HIGH_WATER)
				uv_read_stop(handle);
		} else if ((size_t)nread > sizeof(conn->in) - conn->in_len) {
			conn_close(conn);
		} else {
			memcpy(conn->in + conn->in_len, buf->base, (size_t)nread);
			conn->in_len += (size_t)nread;
			viewer_handshake(conn);
		}
	}
	free(buf->base);
}

/*
 * A viewer (or a port scanner) that connects and then stalls anywhere before
 * the relay starts would hold its connection and the agent's stream forever.
 */
static void on_sweep(uv_timer_t *timer)
{
	struct kf_view *view = timer->data;
	uint64_t now = uv_now(view->loop);
	struct conn *conn = view->conns;
	while (conn != NULL) {
		struct conn *next = conn->next;
		uint64_t allowed = conn->state == AGENT_VERSION ? AGENT_GREETING_TIMEOUT_MS
								: HANDSHAKE_TIMEOUT_MS;
		if (conn->state != RELAY && !conn->is_closing &&
		    now - conn->connected_at >= allowed) {
			kf_view_report(view,
				       "a viewer did not finish connecting within %d s; closed",
				       (int)(allowed / 1000));
			conn_close(conn);
		}
		conn = next;
	}
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct kf_view *view = listener->data;
	if (status < 0)
		return;
	struct conn *conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		return;
	conn->view = view;
	conn->connected_at = uv_now(view->loop);
	uv_tcp_init(view->loop, &conn->tcp);
	conn->tcp.data = conn;
	conn->next = view->conns;
	view->conns = conn;
	view->open_handles++;
	if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0) {
		conn_close(conn);
		return;
	}
	uv_tcp_nodelay(&conn->tcp, 1);
	static const char version[] = "RFB 003.008\n";
	conn_send(conn, version, 12);
	conn->state = VIEWER_VERSION;
	uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_viewer_read);
}

static int make_password(char *out, size_t size)
{
	static const char alphabet[] =
		"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_";
	size_t n = sizeof(alphabet) - 1, made = 0;
	while (made < size - 1) {
		unsigned char byte;
		if (RAND_bytes(&byte, 1) != 1)
			return KF_ERR_IO;
		/* Rejection keeps every character equally likely. */
		if (byte >= 256 - 256 % n)
			continue;
		out[made++] = alphabet[byte % n];
	}
	out[made] = '\0';
	return KF_OK;
}

static int write_password_file(struct kf_view *view, struct kf_error *err)
{
	const char *base = view->options.state_dir;
	if (base == NULL) {
		const char *runtime = getenv("XDG_RUNTIME_DIR");
		snprintf(view->dir, sizeof(view->dir), "%s/kefu-view-XXXXXX",
			 runtime && *runtime ? runtime : "/tmp");
		if (mkdtemp(view->dir) == NULL)
			return kf_error_set(err, KF_ERR_IO, "cannot create %s: %s", view->dir,
					    strerror(errno));
		view->is_dir_ours = 1;
	} else {
		snprintf(view->dir, sizeof(view->dir), "%s", base);
	}
	char temp[sizeof(view->password_file) + 8];
	snprintf(view->password_file, sizeof(view->password_file), "%s/view.passwd", view->dir);
	snprintf(temp, sizeof(temp), "%s.tmp", view->password_file);
	mode_t old = umask(077);
	int rc = rfbEncryptAndStorePasswd(view->password, temp);
	umask(old);
	if (rc != 0 || chmod(temp, 0600) != 0 || rename(temp, view->password_file) != 0) {
		unlink(temp);
		return kf_error_set(err, KF_ERR_IO, "cannot write the password file in %s",
				    view->dir);
	}
	return KF_OK;
}

int kf_view_new(uv_loop_t *loop, const struct kf_view_options *options, struct kf_view **out,
		struct kf_error *err)
{
	*out = NULL;
	if (options->open_stream == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "the view needs a way to open streams");
	struct kf_view *view = calloc(1, sizeof(*view));
	if (view == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	view->loop = loop;
	view->options = *options;
	int rc;
	if (make_password(view->password, sizeof(view->password)) != KF_OK) {
		free(view);
		return kf_error_set(err, KF_ERR_IO, "no randomness for the view's password");
	}
	rc = write_password_file(view, err);
	if (rc != KF_OK) {
		if (view->is_dir_ours)
			rmdir(view->dir);
		OPENSSL_cleanse(view->password, sizeof(view->password));
		free(view);
		return rc;
	}
	uv_tcp_init(loop, &view->listener);
	view->listener.data = view;
	view->is_listener_open = 1;
	struct sockaddr_in addr;
	uv_ip4_addr("127.0.0.1", options->port, &addr);
	int uv_rc = uv_tcp_bind(&view->listener, (const struct sockaddr *)&addr, 0);
	if (uv_rc == 0)
		uv_rc = uv_listen((uv_stream_t *)&view->listener, 8, on_connection);
	if (uv_rc != 0) {
		rc = kf_error_set(err, KF_ERR_IO, "cannot listen on 127.0.0.1:%d: %s",
				  options->port, uv_strerror(uv_rc));
		kf_view_free(view);
		return rc;
	}
	uv_timer_init(loop, &view->sweep);
	view->sweep.data = view;
	view->is_sweep_open = 1;
	uv_timer_start(&view->sweep, on_sweep, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS);
	int len = sizeof(addr);
	uv_tcp_getsockname(&view->listener, (struct sockaddr *)&addr, &len);
	view->port = ntohs(addr.sin_port);
	snprintf(view->address, sizeof(view->address), "127.0.0.1:%d", view->port);
	if (options->is_web) {
		rc = kf_view_start_web(view, err);
		if (rc != KF_OK) {
			kf_view_free(view);
			return rc;
		}
	}
	if (options->is_viewer_started)
		kf_view_start_viewer(view);
	*out = view;
	return KF_OK;
}

const char *kf_view_address(const struct kf_view *view)
{
	return view->address;
}

int kf_view_port(const struct kf_view *view)
{
	return view->port;
}

const char *kf_view_password(const struct kf_view *view)
{
	return view->password;
}

const char *kf_view_password_file(const struct kf_view *view)
{
	return view->password_file;
}

const char *kf_view_url(const struct kf_view *view)
{
	return view->url[0] ? view->url : NULL;
}

int kf_view_viewer_count(const struct kf_view *view)
{
	return view->viewer_count;
}

void kf_view_free(struct kf_view *view)
{
	if (view == NULL || view->is_freeing)
		return;
	view->is_freeing = 1;
	if (view->is_listener_open) {
		view->is_listener_open = 0;
		view->open_handles++;
		uv_close((uv_handle_t *)&view->listener, kf_view_on_handle_closed);
	}
	if (view->is_sweep_open) {
		view->is_sweep_open = 0;
		view->open_handles++;
		uv_close((uv_handle_t *)&view->sweep, kf_view_on_handle_closed);
	}
	for (struct conn *conn = view->conns; conn != NULL; conn = conn->next)
		conn_close(conn);
	/* Their exit callbacks close the handles. */
	if (view->is_web_running)
		uv_process_kill(&view->web, SIGTERM);
	if (view->is_viewer_running)
		uv_process_kill(&view->viewer, SIGTERM);
	if (view->password_file[0])
		unlink(view->password_file);
	if (view->is_dir_ours)
		rmdir(view->dir);
	maybe_release(view);
}
