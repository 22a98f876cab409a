/* kefu test tool: an agent or console end of the SSH transport, for relay tests. SPDX-License-Identifier: MIT */
/*
 *   relay-peer agent   HOST PORT USER PINFILE
 *       Connects with a fresh key, asks the relay to listen, prints "listening PORT",
 *       and echoes every byte that arrives on every channel back to its sender.
 *   relay-peer console HOST PORT USER KEYFILE PINFILE TARGET_PORT echo TEXT
 *       Opens a channel to TARGET_PORT, sends TEXT, prints "echo: TEXT" from the reply.
 *   relay-peer console HOST PORT USER KEYFILE PINFILE TARGET_PORT bulk MEGABYTES
 *       Opens a bulk channel and a control channel; sends MEGABYTES on the bulk one
 *       while pinging on the control one, and prints how many pings came back before
 *       the bulk echo finished, the bulk throughput and the slowest ping.
 * With TLS=CA_PEM (agent) or TLS=CERT:KEY (console) in the environment, every channel
 * carries TLS 1.3 as in a real session (proto/session/tls-stream.h).
 * Failures print "failed: MESSAGE" and exit 1.
 */
#include "proto/base/buffer.h"
#include "proto/session/ssh-transport.h"
#include "proto/session/tls-stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct peer {
	uv_loop_t *loop;
	struct kf_ssh *ssh;
	struct kf_ssh_key *key;
	int exit_code;
	const char *mode;
	const char *text;
	size_t bulk_bytes;
	uint16_t target_port;
	/* console, bulk mode */
	struct kf_stream *bulk, *control, *echo;
	size_t bulk_sent, bulk_echoed;
	uint64_t bulk_started, bulk_finished;
	int pings_sent, pings_during_bulk, pings_total;
	uint64_t ping_sent_at, slowest_ping;
	uv_timer_t ping_timer;
	struct kf_buf echo_text;
	SSL_CTX *tls;
	int is_server;
};

static void finish(struct peer *peer, int code)
{
	peer->exit_code = code;
	uv_stop(peer->loop);
}

static void fail(struct peer *peer, const char *message)
{
	printf("failed: %s\n", message);
	fflush(stdout);
	finish(peer, 1);
}

/* ---- agent ---- */

static void agent_on_read(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	(void)user;
	kf_stream_write(stream, data, len, NULL);
	/* Echoing must not outrun the relay: stop reading while much is queued. */
	if (kf_stream_pending(stream) >= KF_STREAM_HIGH_WATER)
		kf_stream_read_pause(stream, 1);
}

static void agent_on_drain(struct kf_stream *stream, void *user)
{
	(void)user;
	kf_stream_read_pause(stream, 0);
}

static void agent_on_end(struct kf_stream *stream, int status, const struct kf_error *err,
			 void *user)
{
	(void)status;
	(void)err;
	(void)user;
	kf_stream_shutdown(stream);
}

static void set_echo(struct kf_stream *stream)
{
	stream->on_read = agent_on_read;
	stream->on_drain = agent_on_drain;
	stream->on_end = agent_on_end;
}

static void agent_on_handshake(struct kf_stream *tls, const struct kf_error *err, void *user)
{
	(void)user;
	if (err != NULL) {
		printf("failed: %s\n", err->message);
		fflush(stdout);
		return;
	}
	set_echo(tls);
}

static void agent_on_channel(struct kf_ssh *ssh, struct kf_stream *channel, void *user)
{
	struct peer *peer = user;
	struct kf_stream *tls;

	(void)ssh;
	if (peer->tls == NULL) {
		set_echo(channel);
		return;
	}
	if (kf_tls_stream_new(peer->tls, 0, channel, agent_on_handshake, peer, &tls, NULL) != KF_OK)
		kf_stream_close(channel);
}

static void agent_on_listening(struct kf_ssh *ssh, uint16_t port, void *user)
{
	(void)ssh;
	(void)user;
	printf("listening %u\n", port);
	fflush(stdout);
}

static void on_ready(struct kf_ssh *ssh, void *user);

static void on_failed(struct kf_ssh *ssh, const struct kf_error *err, void *user)
{
	(void)ssh;
	fail(user, err->message);
}

/* ---- console ---- */

static void echo_on_read(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	struct peer *peer = user;

	(void)stream;
	kf_buf_append(&peer->echo_text, data, len);
	if (peer->echo_text.len >= strlen(peer->text)) {
		printf("echo: %.*s\n", (int)peer->echo_text.len, (char *)peer->echo_text.data);
		fflush(stdout);
		finish(peer, 0);
	}
}

static void send_ping(struct peer *peer)
{
	peer->ping_sent_at = uv_hrtime();
	peer->pings_sent++;
	kf_stream_write(peer->control, "p", 1, NULL);
}

static void ping_on_read(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	struct peer *peer = user;
	uint64_t took = uv_hrtime() - peer->ping_sent_at;

	(void)stream;
	(void)data;
	(void)len;
	if (took > peer->slowest_ping)
		peer->slowest_ping = took;
	peer->pings_total++;
	if (peer->bulk_finished == 0)
		peer->pings_during_bulk++;
}

static void on_ping_timer(uv_timer_t *timer)
{
	struct peer *peer = timer->data;

	if (peer->pings_total == peer->pings_sent)
		send_ping(peer);
}

static void fill_bulk(struct peer *peer)
{
	static uint8_t chunk[64 * 1024];

	while (peer->bulk_sent < peer->bulk_bytes &&
	       kf_stream_pending(peer->bulk) < KF_STREAM_HIGH_WATER) {
		size_t len = peer->bulk_bytes - peer->bulk_sent;

		if (len > sizeof(chunk))
			len = sizeof(chunk);
		kf_stream_write(peer->bulk, chunk, len, NULL);
		peer->bulk_sent += len;
	}
}

static void bulk_on_drain(struct kf_stream *stream, void *user)
{
	(void)stream;
	fill_bulk(user);
}

static void bulk_on_read(struct kf_stream *stream, const uint8_t *data, size_t len, void *user)
{
	struct peer *peer = user;

	(void)stream;
	(void)data;
	peer->bulk_echoed += len;
	if (peer->bulk_echoed < peer->bulk_bytes)
		return;
	peer->bulk_finished = uv_hrtime();
	{
		double seconds = (double)(peer->bulk_finished - peer->bulk_started) / 1e9;

		printf("bulk %zu bytes each way in %.3f s: %.1f MB/s\n", peer->bulk_bytes, seconds,
		       2.0 * (double)peer->bulk_bytes / seconds / 1e6);
		printf("pings during bulk %d, slowest %.1f ms\n", peer->pings_during_bulk,
		       (double)peer->slowest_ping / 1e6);
	}
	fflush(stdout);
	finish(peer, 0);
}

static void on_end_fail(struct kf_stream *stream, int status, const struct kf_error *err,
			void *user)
{
	(void)stream;
	fail(user, status == KF_OK ? "the channel ended early: the relay or the other end closed it"
				   : err->message);
}

static void use_stream(struct peer *peer, struct kf_stream *stream);

static void console_on_handshake(struct kf_stream *tls, const struct kf_error *err, void *user)
{
	if (err != NULL) {
		fail(user, err->message);
		return;
	}
	use_stream(user, tls);
}

static void on_open(struct kf_ssh *ssh, struct kf_stream *stream, const struct kf_error *err,
		    void *user)
{
	struct peer *peer = user;
	struct kf_stream *tls;

	(void)ssh;
	if (stream == NULL) {
		fail(peer, err->message);
		return;
	}
	if (peer->tls == NULL) {
		use_stream(peer, stream);
		return;
	}
	if (kf_tls_stream_new(peer->tls, 1, stream, console_on_handshake, peer, &tls, NULL) !=
	    KF_OK)
		fail(peer, "TLS could not start");
}

static void use_stream(struct peer *peer, struct kf_stream *stream)
{
	stream->user = peer;
	stream->on_end = on_end_fail;
	if (strcmp(peer->mode, "echo") == 0) {
		peer->echo = stream;
		stream->on_read = echo_on_read;
		kf_stream_write(stream, peer->text, strlen(peer->text), NULL);
	} else if (peer->control == NULL) {
		peer->control = stream;
		stream->on_read = ping_on_read;
		if (kf_ssh_open(peer->ssh, "localhost", peer->target_port, on_open, peer, NULL) !=
		    KF_OK)
			fail(peer, "cannot open the bulk channel");
	} else {
		peer->bulk = stream;
		stream->on_read = bulk_on_read;
		stream->on_drain = bulk_on_drain;
		peer->bulk_started = uv_hrtime();
		send_ping(peer);
		uv_timer_start(&peer->ping_timer, on_ping_timer, 5, 5);
		fill_bulk(peer);
	}
}

static void on_ready(struct kf_ssh *ssh, void *user)
{
	struct peer *peer = user;
	struct kf_error err;

	if (strcmp(peer->mode, "agent") == 0) {
		if (kf_ssh_listen(ssh, &err) != KF_OK)
			fail(peer, err.message);
		return;
	}
	if (kf_ssh_open(ssh, "localhost", peer->target_port, on_open, peer, &err) != KF_OK)
		fail(peer, err.message);
}

static char *read_line(const char *path)
{
	static char line[1024];
	FILE *file = fopen(path, "r");

	if (file == NULL || fgets(line, sizeof(line), file) == NULL) {
		fprintf(stderr, "relay-peer: cannot read %s\n", path);
		exit(2);
	}
	fclose(file);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

int main(int argc, char **argv)
{
	struct peer peer = {0};
	struct kf_ssh_options options = {0};
	struct kf_ssh_callbacks callbacks = {
		.on_ready = on_ready,
		.on_failed = on_failed,
		.on_listening = agent_on_listening,
		.on_channel = agent_on_channel,
	};
	const char *pin;
	struct kf_error err;

	if (argc == 6 && strcmp(argv[1], "agent") == 0) {
		peer.mode = "agent";
		if (kf_ssh_key_generate(&peer.key, "kefu-agent", &err) != KF_OK) {
			printf("failed: %s\n", err.message);
			return 1;
		}
		pin = read_line(argv[5]);
	} else if (argc == 10 && strcmp(argv[1], "console") == 0) {
		peer.mode = argv[8];
		peer.target_port = (uint16_t)atoi(argv[7]);
		if (strcmp(peer.mode, "echo") == 0)
			peer.text = argv[9];
		else if (strcmp(peer.mode, "bulk") == 0)
			peer.bulk_bytes = (size_t)atoi(argv[9]) * 1000 * 1000;
		else
			goto usage;
		if (kf_ssh_key_load(&peer.key, argv[5], &err) != KF_OK) {
			printf("failed: %s\n", err.message);
			return 1;
		}
		pin = read_line(argv[6]);
	} else {
		goto usage;
	}
	if (getenv("TLS") != NULL) {
		char setting[1024], *colon;
		struct kf_error tls_error;

		snprintf(setting, sizeof(setting), "%s", getenv("TLS"));
		colon = strchr(setting, ':');
		if (colon != NULL) {
			*colon = '\0';
			peer.tls = kf_tls_server_context(setting, colon + 1, &tls_error);
		} else {
			FILE *file = fopen(setting, "r");
			static char pem[65536];
			size_t n = file ? fread(pem, 1, sizeof(pem) - 1, file) : 0;

			if (file != NULL)
				fclose(file);
			pem[n] = '\0';
			peer.tls = kf_tls_client_context(pem, &tls_error);
		}
		if (peer.tls == NULL) {
			printf("failed: %s\n", tls_error.message);
			return 1;
		}
	}
	peer.loop = uv_default_loop();
	uv_timer_init(peer.loop, &peer.ping_timer);
	peer.ping_timer.data = &peer;
	options.host = argv[2];
	options.port = (uint16_t)atoi(argv[3]);
	options.user = argv[4];
	options.key = peer.key;
	options.host_keys = &pin;
	options.host_key_count = 1;
	options.keepalive_seconds = 1;
	options.timeout_ms = 5000;
	if (kf_ssh_connect(peer.loop, &options, &callbacks, &peer, &peer.ssh, &err) != KF_OK) {
		printf("failed: %s\n", err.message);
		return 1;
	}
	uv_run(peer.loop, UV_RUN_DEFAULT);
	if (peer.control != NULL)
		kf_stream_close(peer.control);
	if (peer.bulk != NULL)
		kf_stream_close(peer.bulk);
	if (peer.echo != NULL)
		kf_stream_close(peer.echo);
	kf_ssh_close(peer.ssh);
	uv_close((uv_handle_t *)&peer.ping_timer, NULL);
	uv_run(peer.loop, UV_RUN_DEFAULT);
	kf_ssh_key_free(peer.key);
	kf_buf_free(&peer.echo_text);
	SSL_CTX_free(peer.tls);
	return peer.exit_code;
usage:
	fprintf(stderr, "usage: relay-peer agent HOST PORT USER PINFILE\n"
			"       relay-peer console HOST PORT USER KEYFILE PINFILE TARGET_PORT "
			"echo TEXT|bulk MB\n");
	return 2;
}
