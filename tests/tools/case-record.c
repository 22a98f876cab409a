/* kefu test tool: records the case read on stdin (JSON) in a case store, as a session's end does. SPDX-License-Identifier: MIT */
#include "console/cases/store.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>

/*
 * Usage: case-record LOCATION < case.json
 * Prints the case number, or "queued" when the database could not be reached and
 * the case waits in the spool ($XDG_STATE_HOME/kefu/console/spool.sqlite).
 */
int main(int argc, char **argv)
{
	struct kf_error err;
	json_error_t parse;
	json_t *record;
	int64_t id;

	if (argc != 2) {
		fprintf(stderr, "usage: case-record LOCATION < case.json\n");
		return 2;
	}
	if ((record = json_loadf(stdin, 0, &parse)) == NULL) {
		fprintf(stderr, "case-record: %s\n", parse.text);
		return 1;
	}
	if (kf_case_store_record_or_queue(argv[1], NULL, record, &id, &err) != KF_OK) {
		fprintf(stderr, "case-record: %s\n", err.message);
		json_decref(record);
		return 1;
	}
	json_decref(record);
	if (id == 0)
		printf("queued\n");
	else
		printf("%" PRId64 "\n", id);
	return 0;
}
