/* kefu-agentd: the kefu://join link a support page offers, read strictly. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_JOIN_URL_H
#define KF_AGENTD_JOIN_URL_H

#include "proto/base/error.h"
#include "proto/session/profile.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * kefu://join[/][?FIELD=VALUE[&FIELD=VALUE]...], at most KF_JOIN_URL_MAX bytes.
 * The fields, each at most once, all optional:
 *   org    the organisation the link is for; must be the installed profile's
 *   relay  a relay host name; must be one the installed profile lists
 *   case   the organisation's case number (letters, digits, - and _), shown and
 *          kept in the summary
 * Anything else is refused: another scheme or host, a user, port or fragment, an
 * unknown or repeated field, a character outside A-Z a-z 0-9 - . _ ~ % + = & / ? :
 * (so no quotes, spaces, $, backticks or semicolons), bad percent-encoding, and
 * decoded bytes that are control characters (NUL among them) or invalid UTF-8.
 * Nothing in a link is ever a command, an option, a path, a relay or a CA of its
 * own: it can only pick among what the installed profile already trusts.
 */
#define KF_JOIN_URL_MAX 2048

struct kf_join_url {
	char organisation[129]; /* "" when not given */
	char relay[254];
	char case_number[33];
};

/* Reads url (len bytes; NUL bytes inside are refused). On error err says why in one line. */
int kf_join_url_parse(const char *url, size_t len, struct kf_join_url *out, struct kf_error *err);

/*
 * Checks a parsed link against the installed profile: its organisation, and its
 * relay among the profile's (then *relay_index is that relay's; else unchanged).
 */
int kf_join_url_check(const struct kf_join_url *url, const struct kf_profile *profile,
		      unsigned *relay_index, struct kf_error *err);

#endif
