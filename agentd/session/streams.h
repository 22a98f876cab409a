/* kefu-agentd: a session's further streams (the screen), admitted and bridged. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_STREAMS_H
#define KF_AGENTD_STREAMS_H

#include "proto/base/error.h"
#include "proto/session/stream.h"

#include <jansson.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/*
 * After set-up, the technician's console opens further channels through the relay
 * for the screen and for files. Each one must speak TLS with the session's technician
 * certificate and then prove it belongs to this session (proto/session/stream-token.h);
 * is_allowed, the consent check, is asked right before the screen flows. A
 * proven screen stream is bridged to the screen server (agentd/screen/screen.h) through
 * a socketpair: nothing on this machine listens.
 */
struct kf_agent_streams;

struct kf_agent_streams_callbacks {
	/* Whether the customer allows purpose ("screen", "files", "firmware") now; err says why. */
	int (*is_allowed)(void *user, const char *purpose, struct kf_error *err);
	/*
	 * What happened: "screen-viewer", "screen-viewer-left", "stream-refused",
	 * "screen-asking" (the desktop may show its own dialog now), "screen-lost"
	 * (the desktop ended the share), "screen-open-cancelled" (view stopped while
	 * the screen opened).
	 */
	void (*on_event)(void *user, const char *what, const char *detail);
	/*
	 * A file was sent or fetched, or failed (agentd/session/files.h says what fields
	 * hold); purpose is "files", or "firmware" for an update saved privately.
	 */
	void (*on_file)(void *user, const char *purpose, int status, json_t *fields);
	/*
	 * The technician asks for a copy of path (really real_path, size bytes; is_secret:
	 * a known secret): nothing is read until kf_agent_streams_answer_fetch(id).
	 */
	void (*on_fetch_ask)(void *user, uint32_t id, const char *path, const char *real_path,
			     uint64_t size, bool is_secret);
	/* Fetch id got no answer within the fetch timeout and was refused. */
	void (*on_fetch_expired)(void *user, uint32_t id, const char *path);
};

struct kf_agent_streams *kf_agent_streams_new(uv_loop_t *loop, SSL_CTX *tls_context,
					      struct kf_stream *control_tls,
					      const char *technician_fingerprint,
					      const struct kf_agent_streams_callbacks *callbacks,
					      void *user);

/* A channel that arrived during the session; the streams own it from now on. */
void kf_agent_streams_attach(struct kf_agent_streams *streams, struct kf_stream *channel);

/* Keyboard, pointer and clipboard on the shared screen: on with control, off without. */
void kf_agent_streams_set_input(struct kf_agent_streams *streams, int is_allowed);

/* Ends every screen stream at once (view taken back). */
void kf_agent_streams_stop_screen(struct kf_agent_streams *streams);

/*
 * Ends every file transfer at once (files taken back), or every firmware upload
 * (is_firmware: firmware taken back); partial files are removed.
 */
void kf_agent_streams_stop_files(struct kf_agent_streams *streams, int is_firmware);

/* The answer to on_fetch_ask: the file goes, or the fetch fails with why. */
int kf_agent_streams_answer_fetch(struct kf_agent_streams *streams, uint32_t id, bool is_allowed,
				  const char *why, struct kf_error *err);

/* How long a fetch waits for the customer's answer (0: no limit). */
void kf_agent_streams_set_fetch_timeout(struct kf_agent_streams *streams, unsigned timeout_ms);

/* The monitor a screen stream shows from now on (XRandR's number); -1 (the default): all. */
void kf_agent_streams_set_monitor(struct kf_agent_streams *streams, int monitor);

/* Whether the screen is being shown now. */
int kf_agent_streams_is_sharing(const struct kf_agent_streams *streams);

void kf_agent_streams_free(struct kf_agent_streams *streams);

/*
 * Removes what a helper killed during a transfer may have left: hidden files
 * on their way in the downloads folder (only where O_TMPFILE is missing) and
 * private update folders whose helper is gone. Run before a session begins.
 */
void kf_agent_streams_sweep(void);

#endif
