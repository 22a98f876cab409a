/* kefu: the message table: every control message type, who sends it, the grant it needs and its limits. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_MESSAGES_H
#define KF_PROTO_MESSAGES_H

#include "proto/base/error.h"

#include <stddef.h>

/*
 * The vocabulary of protocol version 1, written once. The decoder refuses a
 * type that has no row; the control channel refuses a type the other side may
 * not send and bodies over the row's limits; the agent checks the row's
 * capability before any handler runs; both programs register their handlers
 * by type (struct kf_msg_handlers). proto/session/PROTOCOL.md describes the
 * bodies; a test keeps that page and this table in step.
 */

enum kf_capability {
	KF_CAP_NONE = -1, /* a message that needs no grant */
	KF_CAP_VIEW,      /* see the screen */
	KF_CAP_CONTROL,   /* keyboard, mouse, clipboard */
	KF_CAP_DIAGNOSE,  /* collect reports, run detect steps */
	KF_CAP_REPAIR,    /* run repair steps */
	KF_CAP_FIRMWARE,  /* update firmware */
	KF_CAP_FILES,     /* send or fetch files */
	KF_CAP_HISTORY,   /* read the customer's support journal and support ID */
	KF_CAP_COUNT,
};

/* "view", "control", ...; "none" for KF_CAP_NONE. */
const char *kf_capability_name(enum kf_capability capability);

/* Parses a capability name; KF_ERR_INVALID for anything else ("none" included). */
int kf_capability_parse(const char *name, enum kf_capability *capability);

/* Who may send a message: a bit per party. */
enum kf_msg_party {
	KF_PARTY_AGENT = 1,
	KF_PARTY_CONSOLE = 2,
	KF_PARTY_BOTH = KF_PARTY_AGENT | KF_PARTY_CONSOLE,
};

enum kf_msg_type {
	KF_MSG_HELLO,
	KF_MSG_PING,
	KF_MSG_PONG,
	KF_MSG_CHAT,
	KF_MSG_END,
	KF_MSG_ERROR,
	KF_MSG_PART,
	KF_MSG_PROOF_SHARE,
	KF_MSG_PROOF_REPLY,
	KF_MSG_PROOF_CONFIRM,
	KF_MSG_CONSENT_REQUEST,
	KF_MSG_CONSENT_ANSWER,
	KF_MSG_CONSENT_REVOKED,
	KF_MSG_CONSENT_RELEASE,
	KF_MSG_DIAG_REQUEST,
	KF_MSG_DIAG_REPORT,
	KF_MSG_PLUGINS_REQUEST,
	KF_MSG_PLUGINS_LIST,
	KF_MSG_PLUGIN_RUN,
	KF_MSG_PLUGIN_REPAIR,
	KF_MSG_PLUGIN_STARTED,
	KF_MSG_PLUGIN_RESULT,
	KF_MSG_FIRMWARE_LIST,
	KF_MSG_FIRMWARE_DEVICES,
	KF_MSG_FIRMWARE_PROGRESS,
	KF_MSG_FIRMWARE_RESULT,
	KF_MSG_DRIVERS_REQUEST,
	KF_MSG_DRIVERS_LIST,
	KF_MSG_DRIVERS_CHANGE,
	KF_MSG_DRIVERS_PROGRESS,
	KF_MSG_DRIVERS_RESULT,
	KF_MSG_HISTORY_REQUEST,
	KF_MSG_HISTORY_JOURNAL,
	KF_MSG_FIRMWARE_LATEST,
	KF_MSG_SCREEN_ENDED,
	KF_MSG_TYPE_COUNT,
};

/*
 * A body fits one control frame unless its row allows more: then the control
 * channel carries it in "part" messages (PROTOCOL.md, "Large bodies") and the
 * receiver assembles at most max_body bytes of the body's JSON text before it
 * decodes it with the row's value and string limits.
 */
struct kf_msg_row {
	enum kf_msg_type type;
	const char *name;
	enum kf_msg_party sender;
	enum kf_capability capability; /* checked by the agent before the handler runs */
	size_t max_body;               /* bytes of the body's JSON text */
	size_t max_values;             /* values in the body, all levels */
	size_t max_string;             /* bytes of one string or key */
	const char *summary;           /* one line for PROTOCOL.md and error messages */
};

/* The row of type name, or NULL when this version has no such type. */
const struct kf_msg_row *kf_msg_row_find(const char *name);

/* The row of type (type < KF_MSG_TYPE_COUNT). */
const struct kf_msg_row *kf_msg_row_of(enum kf_msg_type type);

/* Whether a body of this type can be larger than one control frame. */
int kf_msg_row_is_large(const struct kf_msg_row *row);

struct kf_msg;

/*
 * A program's handlers, one slot per type (OpenSSH's dispatch table is the
 * model). A type without a handler is answered "unexpected" by the dispatcher's
 * caller. user is the program's session object.
 */
typedef void kf_msg_handler_fn(void *user, const struct kf_msg *msg);

struct kf_msg_handlers {
	kf_msg_handler_fn *handlers[KF_MSG_TYPE_COUNT];
};

/* Sets the handler of type (NULL removes it). */
void kf_msg_handlers_set(struct kf_msg_handlers *table, enum kf_msg_type type,
			 kf_msg_handler_fn *handler);

/*
 * Runs the handler registered for msg's type: KF_OK when one ran,
 * KF_ERR_UNSUPPORTED when none is registered (err says which type).
 */
int kf_msg_dispatch(const struct kf_msg_handlers *table, void *user, const struct kf_msg *msg,
		    struct kf_error *err);

#endif
