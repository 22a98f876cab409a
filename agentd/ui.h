/* kefu-agentd: the one interface between the agent's core and the person at the computer. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_UI_H
#define KF_AGENTD_UI_H

#include "agentd/consent.h"
#include "proto/session/messages.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * What the customer is shown, as events of the session core (share.c and the
 * session in agentd/session/). A front end (the terminal in share-terminal.c, the
 * window in agentd/window/) implements these and answers through the kf_share_*
 * calls of agentd/session/share.h. A front end decides nothing: what a grant
 * allows is enforced in the core (grants.c, consent.c), whatever the front end
 * shows or sends. Text from the technician (names, reasons, chat) arrives as the
 * technician wrote it; each front end makes it safe for its own medium.
 *
 * Every callback may be NULL. user is the pointer given with the operations.
 */
struct kf_ui_ops {
	/* The helper starts connecting to the organisation's relay. */
	void (*connecting)(void *user, const char *organisation, const char *relay_host);
	/* A policy the computer follows, shown before anyone connects. */
	void (*policy)(void *user, const char *name, const char *description,
		       const enum kf_policy_rule rules[KF_CAP_COUNT]);
	/* A code to read to the technician (grouped digits), good once for lifetime_ms. */
	void (*code_shown)(void *user, const char *code, unsigned lifetime_ms,
			   const char *organisation);
	/* The code ran out before anyone used it; the helper ends. */
	void (*code_expired)(void *user);
	/* Someone tried a wrong code: failures of max_failures; at the last one a new code follows.
	 */
	void (*wrong_code)(void *user, int failures, int max_failures);
	/* A helper message that is neither a question nor an answer (a refused connection). */
	void (*notice)(void *user, const char *text);
	/* The technician proved the code: name and organisation from the certificate. */
	void (*technician_connected)(void *user, const char *name, const char *organisation);
	/*
	 * The technician asks for capability; no answer within timeout_ms (deadline_ms on
	 * the loop's clock, uv_now) means no. Answer with kf_share_answer().
	 */
	void (*consent_request)(void *user, enum kf_capability capability, const char *reason,
				uint64_t deadline_ms, unsigned timeout_ms);
	/* A request no longer waits: answered (by whom: source), refused by time-out. */
	void (*consent_settled)(void *user, enum kf_capability capability, bool is_granted,
				enum kf_consent_source source);
	/* A grant ended (taken back by the customer, given back, or with the session). */
	void (*grant_revoked)(void *user, enum kf_capability capability,
			      enum kf_consent_source source);
	/* The technician wants a copy of a file; answer with kf_share_answer_fetch(id). */
	void (*fetch_request)(void *user, uint32_t id, const char *path, const char *real_path,
			      uint64_t size, bool is_secret);
	void (*chat)(void *user, const char *text);
	/* The line that says who is connected and what is allowed, after each change. */
	void (*status)(void *user, const char *text);
	/* Something the technician did ("... sent you a file"). */
	void (*activity)(void *user, const char *text);
	/* The screen is shared from now (view granted) until view_ended. */
	void (*view_started)(void *user, const char *technician);
	void (*view_ended)(void *user);
	/*
	 * The session is over (is_orderly: the end was asked for, not a cut); advice is
	 * the technician's closing words ("" for none), summary_path the Markdown
	 * summary (HTML beside it) or NULL.
	 */
	void (*session_ended)(void *user, bool is_orderly, const char *reason, const char *advice,
			      const char *summary_path);
	/* The helper cannot go on (the relay refused, no code could be made). */
	void (*failed)(void *user, const char *text);
	/* Stopped before a technician came in. */
	void (*stopped)(void *user, const char *why);
};

#endif
