/* kefu-console: the team's case store, one interface over SQLite and PostgreSQL. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_CASES_STORE_H
#define KF_CONSOLE_CASES_STORE_H

#include "proto/base/error.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A case is one session with a customer and what happened in it: the case number,
 * the customer's support ID, the organisation, the computer, the technicians who
 * worked on it, the problems found, the actions, the advice, the technicians'
 * notes, tags, a status (open, waiting, solved) and the session's journal.
 *
 * Where the cases live is a location: a SQLite file path (the default, one file on
 * the technician's machine) or a postgresql:// URI for a team (libpq; the password
 * comes from libpq's password file, PGPASSFILE or ~/.pgpass, never from the URI we
 * are given on a command line). Both run the same numbered migrations when opened.
 */
struct kf_case_store;

/* The newest schema version the migrations reach. */
#define KF_CASE_SCHEMA_VERSION 2

/*
 * Opens the store at location (a path or a postgresql:// URI) and migrates it to
 * KF_CASE_SCHEMA_VERSION. A PostgreSQL store then writes the cases queued in the
 * local spool while it was unreachable. The caller owns *store (kf_case_store_free).
 * An unreachable server returns KF_ERR_CLOSED.
 */
int kf_case_store_open(const char *location, struct kf_case_store **store, struct kf_error *err);
void kf_case_store_free(struct kf_case_store *store);

/* "sqlite" or "postgresql". */
const char *kf_case_store_backend(const struct kf_case_store *store);

/* The schema version the store is at. */
int kf_case_store_version(struct kf_case_store *store, int *version, struct kf_error *err);

/*
 * Records one case. record holds the strings session, support_id, technician,
 * organisation, computer, started, ended, outcome, status, advice, history, and
 * the arrays problems, actions (strings) and journal ({time, kind, text}). A case
 * of the same session is not written twice. Returns the case number in *id.
 */
int kf_case_store_record(struct kf_case_store *store, json_t *record, int64_t *id,
			 struct kf_error *err);

/* A note by author, a tag, a status ("open", "waiting" or "solved"), a technician. */
int kf_case_store_note(struct kf_case_store *store, int64_t id, const char *author,
		       const char *text, struct kf_error *err);
int kf_case_store_tag(struct kf_case_store *store, int64_t id, const char *tag,
		      struct kf_error *err);
int kf_case_store_status(struct kf_case_store *store, int64_t id, const char *status,
			 struct kf_error *err);

/* The whole case as JSON, owned by the caller; KF_ERR_NOT_FOUND when there is none. */
int kf_case_store_get(struct kf_case_store *store, int64_t id, json_t **out, struct kf_error *err);

/*
 * Lists of cases, newest first, as an array of {id, started, technician, support_id,
 * status, outcome, advice}, owned by the caller: the latest limit cases, those whose
 * words match text (full-text search), or those of one support ID.
 */
int kf_case_store_latest(struct kf_case_store *store, int limit, json_t **out,
			 struct kf_error *err);
int kf_case_store_search(struct kf_case_store *store, const char *text, json_t **out,
			 struct kf_error *err);
int kf_case_store_customer(struct kf_case_store *store, const char *support_id, json_t **out,
			   struct kf_error *err);

/* Whether status is one of the three states. */
int kf_case_status_is_valid(const char *status);

/*
 * The store's location: $KEFU_CASES_DATABASE, else "database = ..." in the console's
 * configuration file (config_path), else the default SQLite file. Writes into buffer.
 */
const char *kf_case_store_location(const char *config_path, char *buffer, size_t size,
				   struct kf_error *err);

/*
 * Records a case in the store at location; when a PostgreSQL server cannot be
 * reached, queues it in the local spool instead (*id is then 0) to be written the
 * next time the store opens. spool_path NULL means the default.
 */
int kf_case_store_record_or_queue(const char *location, const char *spool_path, json_t *record,
				  int64_t *id, struct kf_error *err);

#endif
