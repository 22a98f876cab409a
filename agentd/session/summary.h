/* kefu-agentd: the session summary the customer keeps ("no second call"). SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_SUMMARY_H
#define KF_AGENTD_SUMMARY_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stddef.h>

/*
 * What happened in one session, in order: who helped and when, what was asked
 * and granted, what was found, what was run and changed with its result, and the
 * technician's closing advice. Written at the end as Markdown and as HTML that
 * needs nothing from outside, into $XDG_DATA_HOME/kefu/sessions/ (by default
 * ~/.local/share/kefu/sessions/).
 */
struct kf_summary;

struct kf_summary *kf_summary_new(const char *session_id, const char *technician,
				  const char *organisation);

/* Adds one entry; kind is "access", "finding", "action" or "chat". */
void kf_summary_note(struct kf_summary *summary, const char *kind, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

void kf_summary_set_advice(struct kf_summary *summary, const char *advice);

/* How to reach the organisation (the support profile's contact; NULL: none). */
void kf_summary_set_contact(struct kf_summary *summary, const char *contact);

/* The team's case number for the session (0: none) and the customer's support ID. */
void kf_summary_set_case(struct kf_summary *summary, long long case_number, const char *support_id);

/*
 * Writes NAME.md and NAME.html into dir (the default folder when NULL); their
 * paths go into md_path and html_path.
 */
int kf_summary_write(struct kf_summary *summary, const char *dir, char *md_path, char *html_path,
		     size_t path_size, struct kf_error *err);

/*
 * What the support journal keeps of the session: {"findings": [...], "actions":
 * [...], "advice": "..."}, the texts of its finding and action entries. The caller
 * owns the result.
 */
json_t *kf_summary_facts(const struct kf_summary *summary);

void kf_summary_free(struct kf_summary *summary);

#endif
