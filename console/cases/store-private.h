/* kefu-console: what the case store's backends implement. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_CASES_STORE_PRIVATE_H
#define KF_CONSOLE_CASES_STORE_PRIVATE_H

#include "console/cases/store.h"

/* One row of a result: column values as text (NULL for SQL NULL). */
typedef int (*kf_case_row_fn)(void *context, const char *const *values, int columns);

/*
 * A backend is an SQL dialect and a way to run a statement. Statements are written
 * once, with '?' placeholders; parameters are always bound, never spliced in.
 */
struct kf_case_backend {
	const char *name;
	/* The migrations, migrations[0] taking version 0 to 1 and so on. */
	const char *const *migrations;
	int migration_count;
	/* Starts the transaction that serialises migrations between processes. */
	const char *begin_exclusive;
	/* Counts the tables named ? (0 or 1). */
	const char *table_exists;
	/* Ids of the cases whose words match ? (the text, already made a query). */
	const char *search;
	/* Replaces the search text of case ?1 by ?2: statements run in order. */
	const char *const *index;
	int index_count;
	/* Whether the search wants each word quoted (FTS5) rather than plain words. */
	int is_quoted_search;
	int (*exec)(struct kf_case_store *store, const char *sql, const char *const *params,
		    int count, kf_case_row_fn row, void *context, struct kf_error *err);
	void (*close)(struct kf_case_store *store);
};

struct kf_case_store {
	const struct kf_case_backend *backend;
	void *handle;
};

int kf_case_sqlite_open(const char *path, struct kf_case_store *store, struct kf_error *err);
int kf_case_postgresql_open(const char *uri, struct kf_case_store *store, struct kf_error *err);

/* Moves the cases queued in the spool at spool_path into store. */
int kf_case_spool_flush(struct kf_case_store *store, const char *spool_path, struct kf_error *err);
const char *kf_case_spool_default_path(char *buffer, size_t size);

#endif
