/* kefu: unit tests for the support journal and its digest (agentd/journal/). SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/journal/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2026-12-02 10:00:00 UTC: three days after the session below. */
#define NOW ((time_t)1796205600)

static const char session_lines[] =
	"{\"time\":\"2026-11-29T10:00:00.000Z\",\"session\":\"aa11\",\"event\":\"session-start\","
	"\"technician\":{\"name\":\"Bob Li\",\"organisation\":\"Example Support\"}}\n"
	"{\"time\":\"2026-11-29T10:01:00.000Z\",\"session\":\"aa11\",\"event\":\"consent-answer\"}"
	"\n"
	"{\"time\":\"2026-11-29T10:20:00.000Z\",\"session\":\"aa11\",\"event\":\"session-summary\","
	"\"findings\":[\"printer queue stopped\"],\"actions\":[\"printer-queue: fixed\"],"
	"\"advice\":\"replace the USB cable\"}\n"
	"{\"time\":\"2026-11-29T10:20:01.000Z\",\"session\":\"aa11\",\"event\":\"session-end\","
	"\"outcome\":\"ended\"}\n";

static const char scan_problem[] =
	"{\"time\":\"2026-11-30T09:00:00.000Z\",\"event\":\"self-service-scan\",\"fix\":true,"
	"\"checks\":[{\"plugin\":\"printer-queue\",\"check\":\"q\",\"state\":\"fixed\"},"
	"{\"plugin\":\"disk\",\"check\":\"d\",\"state\":\"healthy\"}]}\n";

static char *digest_of(const char *text)
{
	char *digest = kf_journal_digest(text, strlen(text), NOW, NULL);

	assert_non_null(digest);
	return digest;
}

static void last_contact_names_the_technician_the_finding_and_the_advice(void **state)
{
	char text[4096], *digest;

	(void)state;
	snprintf(text, sizeof(text), "%s%s%s", session_lines, scan_problem, scan_problem);
	digest = digest_of(text);
	assert_string_equal(digest,
			    "Last contact 3 days ago with Bob Li (Example Support): printer "
			    "queue stopped; done: printer-queue: fixed; advice: replace "
			    "the USB cable. Since then: 2 self-service scans, the same "
			    "problem came back twice (printer-queue).");
	free(digest);
}

static void no_session_and_nothing_else_says_so(void **state)
{
	char *digest = digest_of("");

	(void)state;
	assert_string_equal(digest, "No earlier session with the support team. Nothing in the "
				    "journal.");
	free(digest);
	digest = digest_of(session_lines);
	assert_non_null(strstr(digest, "Nothing since then."));
	free(digest);
}

/* Events other wings write, and some no version knows yet. */
static void other_wings_events_are_counted_and_unknown_ones_left_out(void **state)
{
	char text[8192], *digest;
	json_t *journal, *entry;
	size_t i;

	(void)state;
	snprintf(text, sizeof(text),
		 "%s"
		 "{\"time\":\"2026-11-30T11:00:00Z\",\"event\":\"watch-alert\",\"summary\":\"The "
		 "disk is almost full\"}\n"
		 "{\"time\":\"2026-11-30T12:00:00Z\",\"event\":\"drivers-install\",\"packages\":"
		 "[\"printer-driver-gutenprint\"]}\n"
		 "{\"time\":\"2026-11-30T13:00:00Z\",\"event\":\"firmware-installed\",\"device\":"
		 "\"Dock\"}\n"
		 "{\"time\":\"2026-11-30T14:00:00Z\",\"event\":\"scan-undo\",\"summary\":\"Put the "
		 "printer settings back\"}\n"
		 "{\"time\":\"2026-11-30T15:00:00Z\",\"event\":\"watch-run\"}\n"
		 "{\"time\":\"2026-11-30T16:00:00Z\",\"event\":\"a-future-event\",\"summary\":"
		 "\"x\"}\n"
		 "not json at all\n[1,2]\n{\"event\":42}\n",
		 session_lines);
	digest = digest_of(text);
	assert_non_null(strstr(digest, "Since then: 3 changes (firmware, drivers, undone "
				       "repairs), 1 watch alert."));
	free(digest);
	journal = kf_journal_from_audit(text, strlen(text), NULL);
	assert_int_equal(json_array_size(journal), 5);
	json_array_foreach(journal, i, entry)
	{
		/* What the digest needs stays inside: no private field is shown or shared. */
		const char *key;
		json_t *value;

		json_object_foreach(entry, key, value) assert_true(key[0] != '_');
	}
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(journal, 1), "summary")),
		"The disk is almost full");
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(journal, 2), "summary")),
		"Driver packages installed: printer-driver-gutenprint");
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(journal, 3), "summary")),
		"Firmware installed: Dock");
	json_decref(journal);
}

static void the_asking_session_and_a_cut_one_are_told_apart(void **state)
{
	static const char running[] =
		"{\"time\":\"2026-12-02T09:59:00.000Z\",\"session\":\"bb22\",\"event\":"
		"\"session-start\",\"technician\":{\"name\":\"Alice "
		"Tan\",\"organisation\":\"X\"}}\n";
	char text[4096], *digest;
	json_t *journal;

	(void)state;
	snprintf(text, sizeof(text), "%s%s", session_lines, running);
	digest = kf_journal_digest(text, strlen(text), NOW, "bb22");
	assert_true(strncmp(digest, "Last contact 3 days ago with Bob Li", 35) == 0);
	free(digest);
	/* Seen from elsewhere, a session without an end reads as cut off. */
	journal = kf_journal_from_audit(text, strlen(text), NULL);
	assert_int_equal(json_array_size(journal), 2);
	assert_non_null(
		strstr(json_string_value(json_object_get(json_array_get(journal, 1), "summary")),
		       "cut off"));
	json_decref(journal);
}

static void support_id_is_made_once_kept_and_reset(void **state)
{
	char folder[] = "/tmp/kefu-support-id-XXXXXX", path[128], first[KF_SUPPORT_ID_SIZE],
	     again[KF_SUPPORT_ID_SIZE], fresh[KF_SUPPORT_ID_SIZE];
	struct kf_error err;
	struct stat st;
	FILE *file;

	(void)state;
	assert_non_null(mkdtemp(folder));
	snprintf(path, sizeof(path), "%s/kefu/support-id", folder);
	assert_int_equal(kf_support_id_get(path, first, &err), KF_OK);
	assert_int_equal(strlen(first), 17);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(kf_support_id_get(path, again, &err), KF_OK);
	assert_string_equal(first, again);
	assert_int_equal(kf_support_id_reset(path, fresh, &err), KF_OK);
	assert_string_not_equal(first, fresh);
	/* A file that does not hold an ID is refused, never sent as one. */
	file = fopen(path, "w");
	fputs("KF-0000-0000-000\x1b\n", file);
	fclose(file);
	assert_int_equal(kf_support_id_get(path, again, &err), KF_ERR_INVALID);
	unlink(path);
	snprintf(path, sizeof(path), "%s/kefu", folder);
	rmdir(path);
	rmdir(folder);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(last_contact_names_the_technician_the_finding_and_the_advice),
		cmocka_unit_test(no_session_and_nothing_else_says_so),
		cmocka_unit_test(other_wings_events_are_counted_and_unknown_ones_left_out),
		cmocka_unit_test(the_asking_session_and_a_cut_one_are_told_apart),
		cmocka_unit_test(support_id_is_made_once_kept_and_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
