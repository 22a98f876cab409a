/* kefu test tool: a client that holds a session on the relay, as an attacker would. SPDX-License-Identifier: MIT */
/*
 *   ssh-hold HOST PORT USER terminal|command [KEYFILE]
 *       Logs in as USER with KEYFILE, or with a fresh Ed25519 key (the relay's agent
 *       account takes any), opens a session and asks for a pseudo-terminal
 *       ("terminal") or for a command ("command", sleep 600); then never closes the
 *       channel or the connection for 60 s. Prints "held" once the request is granted (or "refused:
 * WHAT"), then "closed by the relay after N s" when the relay ends the session, or "still open
 *       after 60 s". Blocking libssh2: it is a test client.
 */
#include "proto/session/ssh-key.h"

#include <arpa/inet.h>
#include <libssh2.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HOLD_SECONDS 60

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in address = {.sin_family = AF_INET};
	struct kf_ssh_key *key = NULL;
	struct kf_error err;
	LIBSSH2_SESSION *session;
	LIBSSH2_CHANNEL *channel;
	char buf[4096];
	int fd;

	if ((argc != 5 && argc != 6) ||
	    (strcmp(argv[4], "terminal") != 0 && strcmp(argv[4], "command") != 0)) {
		fprintf(stderr, "usage: ssh-hold HOST PORT USER terminal|command [KEYFILE]\n");
		return 2;
	}
	address.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) {
		fprintf(stderr, "ssh-hold: HOST must be an IPv4 address\n");
		return 2;
	}
	if ((argc == 6 ? kf_ssh_key_load(&key, argv[5], &err)
		       : kf_ssh_key_generate(&key, "ssh-hold", &err)) != KF_OK) {
		fprintf(stderr, "ssh-hold: %s\n", err.message);
		return 1;
	}
	if (libssh2_init(0) != 0) {
		fprintf(stderr, "ssh-hold: libssh2 would not start\n");
		return 1;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
		printf("refused: cannot connect\n");
		return 1;
	}
	session = libssh2_session_init();
	libssh2_session_set_timeout(session, 10000);
	if (libssh2_session_handshake(session, fd) != 0 ||
	    libssh2_userauth_publickey_frommemory(session, argv[3], strlen(argv[3]),
						  key->public_line, strlen(key->public_line),
						  key->private_text, key->private_len, NULL) != 0) {
		printf("refused: login\n");
		return 1;
	}
	channel = libssh2_channel_open_session(session);
	if (channel == NULL) {
		printf("refused: session\n");
		return 1;
	}
	if (strcmp(argv[4], "terminal") == 0 &&
	    libssh2_channel_request_pty(channel, "xterm") != 0) {
		printf("refused: terminal\n");
		return 1;
	}
	if (strcmp(argv[4], "command") == 0 && libssh2_channel_exec(channel, "sleep 600") != 0) {
		printf("refused: command\n");
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	/*
	 * Read whatever comes and never send a close: the relay alone may end the
	 * session. The connection stays until HOLD_SECONDS have passed.
	 */
	double started = now();
	int is_closed = 0;
	libssh2_session_set_timeout(session, 500);
	while (now() - started < HOLD_SECONDS) {
		ssize_t n = libssh2_channel_read(channel, buf, sizeof(buf));

		if (n > 0 || n == LIBSSH2_ERROR_TIMEOUT || n == LIBSSH2_ERROR_EAGAIN)
			continue;
		if (n < 0 && n != LIBSSH2_ERROR_CHANNEL_CLOSED) {
			printf("connection lost after %.0f s\n", now() - started);
			return 0;
		}
		/* End of the command's output, or the channel closed: wait for the close. */
		if (!is_closed && libssh2_channel_wait_closed(channel) == 0) {
			is_closed = 1;
			printf("closed by the relay after %.0f s\n", now() - started);
			fflush(stdout);
		}
		sleep(1);
	}
	if (is_closed)
		return 0;
	printf("still open after %d s\n", HOLD_SECONDS);
	return 0;
}
