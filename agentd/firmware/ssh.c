/* kefu-agentd: SSH appliances with blocking libssh2: host key check, login, commands, SFTP.
 * SPDX-License-Identifier: MIT */
#include "agentd/firmware/ssh.h"
#include "proto/session/ssh-key.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/*
 * Strongest first. Appliances run older SSH servers than relays, so RSA host keys
 * signed with SHA-2 are accepted here; SHA-1 (ssh-rsa), DSA, CBC and arcfour are not.
 */
#define KEX_ALGORITHMS                                                                             \
	"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp521,ecdh-sha2-nistp384,"    \
	"ecdh-sha2-nistp256,diffie-hellman-group16-sha512,diffie-hellman-group14-sha256"
#define HOST_KEY_ALGORITHMS                                                                        \
	"ssh-ed25519,ecdsa-sha2-nistp521,ecdsa-sha2-nistp384,ecdsa-sha2-nistp256,rsa-sha2-512,"    \
	"rsa-sha2-256"
#define CIPHERS      "aes256-ctr,aes192-ctr,aes128-ctr"
#define MACS         "hmac-sha2-512,hmac-sha2-256"
#define UPLOAD_CHUNK (32 * 1024)

struct kf_fw_ssh {
	int fd;
	LIBSSH2_SESSION *session;
	LIBSSH2_SFTP *sftp;
	unsigned timeout_ms;
	char fingerprint[64];
	const char *password; /* for keyboard-interactive, during login only */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;

static void init_libssh2(void)
{
	init_result = libssh2_init(0);
}

int kf_fw_ssh_parse_target(const char *text, struct kf_fw_ssh_target *t, struct kf_error *err)
{
	const char *at = strrchr(text, '@'), *host, *colon = NULL, *end;
	size_t user_len, host_len;

	memset(t, 0, sizeof(*t));
	t->port = KF_FW_SSH_PORT;
	if (at == NULL || at == text)
		return kf_error_set(err, KF_ERR_INVALID,
				    "--ssh wants USER@HOST[:PORT], for example admin@192.0.2.7");
	user_len = (size_t)(at - text);
	host = at + 1;
	if (*host == '[') {
		end = strchr(host, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return kf_error_set(err, KF_ERR_INVALID,
					    "--ssh: an IPv6 address goes in []");
		colon = end[1] == ':' ? end + 1 : NULL;
		host++;
		host_len = (size_t)(end - host);
	} else {
		colon = strchr(host, ':');
		host_len = colon != NULL ? (size_t)(colon - host) : strlen(host);
	}
	if (colon != NULL) {
		char *stop;
		long port = strtol(colon + 1, &stop, 10);

		if (colon[1] == '\0' || *stop != '\0' || port < 1 || port > 65535)
			return kf_error_set(err, KF_ERR_INVALID, "--ssh: the port must be 1-65535");
		t->port = (uint16_t)port;
	}
	if (user_len >= sizeof(t->user) || host_len == 0 || host_len >= sizeof(t->host))
		return kf_error_set(err, KF_ERR_INVALID, "--ssh: the user or host is too long");
	memcpy(t->user, text, user_len);
	memcpy(t->host, host, host_len);
	for (size_t i = 0; i < user_len; i++)
		if ((unsigned char)t->user[i] <= ' ' || t->user[i] == 0x7f)
			return kf_error_set(err, KF_ERR_INVALID,
					    "--ssh: the user name is not valid");
	return KF_OK;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects a TCP socket to host:port within timeout_ms, trying each address in turn. */
static int connect_tcp(const struct kf_fw_ssh_target *t, unsigned timeout_ms, int *out,
		       struct kf_error *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list, *ai;
	char port[8];
	long long deadline = now_ms() + timeout_ms;
	int r, saved = ETIMEDOUT;

	snprintf(port, sizeof(port), "%u", t->port);
	if ((r = getaddrinfo(t->host, port, &hints, &list)) != 0)
		return kf_error_set(err, KF_ERR_NOT_FOUND, "cannot find the device %s: %s", t->host,
				    gai_strerror(r));
	for (ai = list; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				ai->ai_protocol);
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		socklen_t len = sizeof(saved);
		int one = 1, left = (int)(deadline - now_ms());

		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			saved = errno;
			close(fd);
			continue;
		}
		if (left <= 0 || poll(&pfd, 1, left) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &saved, &len) != 0 || saved != 0) {
			if (saved == 0)
				saved = ETIMEDOUT;
			close(fd);
			continue;
		}
		/* libssh2 runs blocking, bounded by libssh2_session_set_timeout. */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		freeaddrinfo(list);
		*out = fd;
		return KF_OK;
	}
	freeaddrinfo(list);
	return kf_error_set(err, saved == ETIMEDOUT ? KF_ERR_TIMEOUT : KF_ERR_CLOSED,
			    "cannot reach the device %s port %u: %s", t->host, t->port,
			    strerror(saved));
}

static const char *last_error(LIBSSH2_SESSION *session)
{
	char *message = NULL;

	libssh2_session_last_error(session, &message, NULL, 0);
	return message != NULL ? message : "unknown error";
}

static int set_preferences(LIBSSH2_SESSION *session)
{
	int r = libssh2_session_method_pref(session, LIBSSH2_METHOD_KEX, KEX_ALGORITHMS) |
		libssh2_session_method_pref(session, LIBSSH2_METHOD_CRYPT_CS, CIPHERS) |
		libssh2_session_method_pref(session, LIBSSH2_METHOD_CRYPT_SC, CIPHERS) |
		libssh2_session_method_pref(session, LIBSSH2_METHOD_MAC_CS, MACS) |
		libssh2_session_method_pref(session, LIBSSH2_METHOD_MAC_SC, MACS) |
		libssh2_session_method_pref(session, LIBSSH2_METHOD_COMP_CS, "none") |
		libssh2_session_method_pref(session, LIBSSH2_METHOD_COMP_SC, "none");

	return r |
	       libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, HOST_KEY_ALGORITHMS);
}

static void answer_prompts(const char *name, int name_len, const char *instruction,
			   int instruction_len, int num_prompts,
			   const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
			   LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract)
{
	struct kf_fw_ssh *ssh = *abstract;

	(void)name, (void)name_len, (void)instruction, (void)instruction_len, (void)prompts;
	/* Every prompt gets the password once: appliances ask "Password:" this way. */
	for (int i = 0; i < num_prompts; i++) {
		responses[i].text = ssh->password != NULL ? strdup(ssh->password) : NULL;
		responses[i].length =
			responses[i].text != NULL ? (unsigned int)strlen(responses[i].text) : 0;
	}
}

static int check_host_key(struct kf_fw_ssh *ssh, const struct kf_fw_ssh_options *o,
			  struct kf_error *err)
{
	size_t len = 0;
	int type = 0;
	const char *key = libssh2_session_hostkey(ssh->session, &len, &type);

	if (key == NULL)
		return kf_error_set(err, KF_ERR_AUTH, "the device showed no host key");
	kf_ssh_key_fingerprint((const uint8_t *)key, len, ssh->fingerprint,
			       sizeof(ssh->fingerprint));
	if (o->fingerprint != NULL) {
		if (strcmp(o->fingerprint, ssh->fingerprint) != 0)
			return kf_error_set(err, KF_ERR_AUTH,
					    "The device's host key is %s, not the expected %.64s: "
					    "this may not be your device. Nothing was sent.",
					    ssh->fingerprint, o->fingerprint);
		return KF_OK;
	}
	if (o->confirm == NULL)
		return kf_error_set(err, KF_ERR_DENIED,
				    "The device's host key is %s. Check it on the device and pass "
				    "--host-key-fingerprint %s to go on.",
				    ssh->fingerprint, ssh->fingerprint);
	if (!o->confirm(o->confirm_data, ssh->fingerprint))
		return kf_error_set(err, KF_ERR_DENIED,
				    "The device's host key %s was not confirmed. Nothing was sent.",
				    ssh->fingerprint);
	return KF_OK;
}

static int log_in(struct kf_fw_ssh *ssh, const struct kf_fw_ssh_options *o, struct kf_error *err)
{
	const char *user = o->target->user, *password = NULL;
	unsigned int user_len = (unsigned int)strlen(user);
	char *methods = libssh2_userauth_list(ssh->session, user, user_len);
	int r = -1;

	if (methods == NULL && libssh2_userauth_authenticated(ssh->session))
		return KF_OK; /* the device accepts the user without credentials */
	if (methods == NULL)
		return kf_error_set(err, KF_ERR_CLOSED, "the device ended the login: %s",
				    last_error(ssh->session));
	if (o->identity == NULL && o->get_password != NULL &&
	    (strstr(methods, "password") != NULL ||
	     strstr(methods, "keyboard-interactive") != NULL) &&
	    (password = o->get_password(o->password_data)) == NULL)
		return kf_error_set(err, KF_ERR_DENIED, "No password was given for the device.");
	if (o->identity != NULL && strstr(methods, "publickey") != NULL)
		r = libssh2_userauth_publickey_fromfile_ex(ssh->session, user, user_len, NULL,
							   o->identity, NULL);
	else if (password != NULL && strstr(methods, "password") != NULL)
		r = libssh2_userauth_password_ex(ssh->session, user, user_len, password,
						 (unsigned int)strlen(password), NULL);
	else if (password != NULL && strstr(methods, "keyboard-interactive") != NULL) {
		ssh->password = password;
		r = libssh2_userauth_keyboard_interactive_ex(ssh->session, user, user_len,
							     answer_prompts);
		ssh->password = NULL;
	} else
		return kf_error_set(err, KF_ERR_AUTH,
				    "the device does not accept this way of logging in (it offers "
				    "%.100s)",
				    methods);
	if (r == LIBSSH2_ERROR_TIMEOUT)
		return kf_error_set(err, KF_ERR_TIMEOUT, "the device did not answer the login");
	if (r != 0)
		return kf_error_set(err, KF_ERR_AUTH,
				    "The device refused the login of %s: wrong %s.", user,
				    o->identity != NULL ? "key" : "password");
	return KF_OK;
}

int kf_fw_ssh_connect(const struct kf_fw_ssh_options *o, struct kf_fw_ssh **out,
		      struct kf_error *err)
{
	struct kf_fw_ssh *ssh;
	int r;

	*out = NULL;
	pthread_once(&init_once, init_libssh2);
	if (init_result != 0)
		return kf_error_set(err, KF_ERR_UNSUPPORTED, "libssh2 did not start");
	ssh = calloc(1, sizeof(*ssh));
	if (ssh == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	ssh->fd = -1;
	ssh->timeout_ms = o->timeout_ms != 0 ? o->timeout_ms : KF_FW_SSH_TIMEOUT_MS;
	if ((r = connect_tcp(o->target, ssh->timeout_ms, &ssh->fd, err)) != KF_OK)
		goto fail;
	ssh->session = libssh2_session_init_ex(NULL, NULL, NULL, ssh);
	if (ssh->session == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "cannot start an SSH session");
		goto fail;
	}
	libssh2_session_set_blocking(ssh->session, 1);
	libssh2_session_set_timeout(ssh->session, (long)ssh->timeout_ms);
	if (set_preferences(ssh->session) != 0) {
		r = kf_error_set(err, KF_ERR_UNSUPPORTED,
				 "libssh2 lacks the SSH algorithms kefu uses");
		goto fail;
	}
	if (libssh2_session_handshake(ssh->session, ssh->fd) != 0) {
		r = kf_error_set(err, KF_ERR_CLOSED, "the SSH handshake with %s failed: %s",
				 o->target->host, last_error(ssh->session));
		goto fail;
	}
	if ((r = check_host_key(ssh, o, err)) != KF_OK || (r = log_in(ssh, o, err)) != KF_OK)
		goto fail;
	*out = ssh;
	return KF_OK;
fail:
	kf_fw_ssh_close(ssh);
	return r;
}

const char *kf_fw_ssh_fingerprint(const struct kf_fw_ssh *ssh)
{
	return ssh->fingerprint;
}

int kf_fw_ssh_run(struct kf_fw_ssh *ssh, const char *command, unsigned timeout_ms, char **out,
		  int *exit_status, struct kf_error *err)
{
	LIBSSH2_CHANNEL *channel;
	char *buf = malloc(KF_FW_SSH_OUTPUT_MAX + 1), discard[4096];
	size_t used = 0;
	int r = KF_OK;

	*out = NULL;
	*exit_status = -1;
	if (buf == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	libssh2_session_set_timeout(ssh->session, (long)timeout_ms);
	channel = libssh2_channel_open_session(ssh->session);
	if (channel == NULL) {
		free(buf);
		libssh2_session_set_timeout(ssh->session, (long)ssh->timeout_ms);
		return kf_error_set(err, KF_ERR_CLOSED, "cannot open a channel to the device: %s",
				    last_error(ssh->session));
	}
	if (libssh2_channel_exec(channel, command) != 0) {
		r = kf_error_set(err, KF_ERR_CLOSED, "the device did not run %s: %s", command,
				 last_error(ssh->session));
		goto out;
	}
	for (;;) {
		ssize_t n = libssh2_channel_read(channel, buf + used, KF_FW_SSH_OUTPUT_MAX - used);

		if (n > 0) {
			used += (size_t)n;
			if (used == KF_FW_SSH_OUTPUT_MAX) {
				r = kf_error_set(err, KF_ERR_TOO_LARGE,
						 "the device printed more than %d bytes",
						 KF_FW_SSH_OUTPUT_MAX);
				goto out;
			}
			continue;
		}
		/* What the command says on stderr is for the device's own log; drain it. */
		while (libssh2_channel_read_stderr(channel, discard, sizeof(discard)) > 0)
			;
		if (n == 0 && libssh2_channel_eof(channel))
			break;
		if (n == LIBSSH2_ERROR_TIMEOUT) {
			r = kf_error_set(err, KF_ERR_TIMEOUT,
					 "the device did not finish %s in %u s", command,
					 timeout_ms / 1000);
			goto out;
		}
		if (n < 0) {
			r = kf_error_set(err, KF_ERR_CLOSED, "the connection to the device ended");
			goto out;
		}
	}
	if (libssh2_channel_close(channel) == 0 && libssh2_channel_wait_closed(channel) == 0)
		*exit_status = libssh2_channel_get_exit_status(channel);
out:
	libssh2_channel_free(channel);
	libssh2_session_set_timeout(ssh->session, (long)ssh->timeout_ms);
	buf[used] = '\0';
	*out = buf;
	return r;
}

int kf_fw_ssh_info(struct kf_fw_ssh *ssh, const char *id, struct kf_fw_device **device,
		   struct kf_error *err)
{
	char *out = NULL;
	int status, r = kf_fw_ssh_run(ssh, "kefu-fw-info", ssh->timeout_ms, &out, &status, err);

	*device = NULL;
	if (r == KF_OK && status != 0)
		r = kf_error_set(err, KF_ERR_STATE, "kefu-fw-info on the device failed (status %d)",
				 status);
	if (r == KF_OK)
		r = kf_fw_device_from_info(out, strlen(out), id, device, err);
	free(out);
	return r;
}

int kf_fw_ssh_upload(struct kf_fw_ssh *ssh, const char *remote_path, const uint8_t *data,
		     size_t size, kf_fw_progress_fn progress, void *progress_data,
		     struct kf_error *err)
{
	LIBSSH2_SFTP_HANDLE *file;
	size_t sent = 0;
	int r = KF_OK;

	if (ssh->sftp == NULL && (ssh->sftp = libssh2_sftp_init(ssh->session)) == NULL)
		return kf_error_set(err, KF_ERR_UNSUPPORTED, "the device offers no SFTP: %s",
				    last_error(ssh->session));
	file = libssh2_sftp_open_ex(ssh->sftp, remote_path, (unsigned int)strlen(remote_path),
				    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0600,
				    LIBSSH2_SFTP_OPENFILE);
	if (file == NULL)
		return kf_error_set(err, KF_ERR_IO, "cannot create %s on the device: %s",
				    remote_path, last_error(ssh->session));
	while (sent < size) {
		size_t want = size - sent < UPLOAD_CHUNK ? size - sent : UPLOAD_CHUNK;
		ssize_t n = libssh2_sftp_write(file, (const char *)data + sent, want);

		if (n <= 0) {
			r = kf_error_set(
				err, n == LIBSSH2_ERROR_TIMEOUT ? KF_ERR_TIMEOUT : KF_ERR_CLOSED,
				"uploading to the device failed after %zu of %zu bytes: %s", sent,
				size, last_error(ssh->session));
			break;
		}
		sent += (size_t)n;
		if (progress != NULL)
			progress(progress_data, sent, size);
	}
	if (libssh2_sftp_close_handle(file) != 0 && r == KF_OK)
		r = kf_error_set(err, KF_ERR_IO, "the device could not store %s", remote_path);
	return r;
}

void kf_fw_ssh_remove(struct kf_fw_ssh *ssh, const char *remote_path)
{
	if (ssh->sftp == NULL && (ssh->sftp = libssh2_sftp_init(ssh->session)) == NULL)
		return;
	libssh2_sftp_unlink_ex(ssh->sftp, remote_path, (unsigned int)strlen(remote_path));
}

void kf_fw_ssh_close(struct kf_fw_ssh *ssh)
{
	if (ssh == NULL)
		return;
	if (ssh->session != NULL) {
		/* A short bound: the device may already be restarting. */
		libssh2_session_set_timeout(ssh->session, 2000);
		if (ssh->sftp != NULL)
			libssh2_sftp_shutdown(ssh->sftp);
		libssh2_session_disconnect(ssh->session, "kefu is done");
		libssh2_session_free(ssh->session);
	}
	if (ssh->fd >= 0)
		close(ssh->fd);
	free(ssh);
}

int kf_fw_ssh_password_read(const char *prompt, bool from_stdin, char **password,
			    struct kf_error *err)
{
	char *buf = calloc(1, KF_FW_SSH_PASSWORD_MAX);
	struct termios saved, quiet;
	bool echo_off = false;
	size_t len = 0;
	int fd = STDIN_FILENO;

	*password = NULL;
	if (buf == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	/* Kept out of swap while it lives; failing to lock is not fatal. */
	mlock(buf, KF_FW_SSH_PASSWORD_MAX);
	if (!from_stdin) {
		fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			kf_fw_ssh_password_free(buf);
			return kf_error_set(err, KF_ERR_DENIED,
					    "No terminal to ask for the device's password on; pass "
					    "--password-stdin or --identity KEY.");
		}
		if (write(fd, prompt, strlen(prompt)) < 0) {
			/* The prompt is a courtesy; reading still works. */
		}
		if (tcgetattr(fd, &saved) == 0) {
			quiet = saved;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
		}
	}
	/* Byte by byte with read(2): no stdio buffer keeps a copy of the password. */
	while (len < KF_FW_SSH_PASSWORD_MAX - 1) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			break;
		buf[len++] = c;
	}
	buf[len] = '\0';
	if (!from_stdin) {
		if (echo_off)
			tcsetattr(fd, TCSAFLUSH, &saved);
		if (write(fd, "\n", 1) < 0) {
			/* As above. */
		}
		close(fd);
	}
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0) {
		kf_fw_ssh_password_free(buf);
		return kf_error_set(err, KF_ERR_DENIED, "No password was given for the device.");
	}
	*password = buf;
	return KF_OK;
}

void kf_fw_ssh_password_free(char *password)
{
	if (password == NULL)
		return;
	OPENSSL_cleanse(password, KF_FW_SSH_PASSWORD_MAX);
	munlock(password, KF_FW_SSH_PASSWORD_MAX);
	free(password);
}
