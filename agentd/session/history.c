/* kefu-agentd: the customer's support journal in a session, only with the "history" grant. SPDX-License-Identifier: MIT */
#include "agentd/journal/journal.h"
#include "agentd/session/session-private.h"
#include "agentd/i18n.h"
#include "proto/base/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * A copy of exactly what the technician was sent, kept for the customer
 * (kefu-agentd journal --shared SESSION), written whole before it is sent.
 */
static int keep_copy(const char *session_id, json_t *body, char *path, size_t size,
		     struct kf_error *err)
{
	char dir[4096], *text = json_dumps(body, JSON_INDENT(2));
	struct kf_fs_file file;
	size_t length;
	int r = KF_OK;

	if (text == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	snprintf(path, size, "%s/%s.json", kf_journal_shared_dir(dir, sizeof(dir)), session_id);
	length = strlen(text);
	if (kf_fs_make_parents(path) != 0 || kf_fs_create(path, 0600, &file) != 0) {
		r = kf_error_set(err, KF_ERR_IO, "cannot keep a copy in %s", path);
	} else if (write(file.fd, text, length) != (ssize_t)length ||
		   kf_fs_publish(&file, path, 1) != 0) {
		kf_fs_discard(&file);
		r = kf_error_set(err, KF_ERR_IO, "cannot keep a copy in %s", path);
	}
	free(text);
	return r;
}

/*
 * history.request: the grant was checked by the dispatch; the journal is computed
 * from the audit log now, so the technician reads what the customer can read.
 */
void kf_agent_session_on_history_request(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	char path[4200];
	struct kf_error err;
	json_t *body = kf_journal_share_body(NULL, time(NULL), session->session_id, &err);
	int r;

	if (body == NULL) {
		kf_control_send_error(session->core.control, msg->id, "failed", err.message, NULL);
		return;
	}
	/* Nothing is sent that the customer could not read back afterwards. */
	r = keep_copy(session->session_id, body, path, sizeof(path), &err);
	if (r == KF_OK)
		r = kf_control_send(session->core.control, "history.journal", msg->id, body, NULL,
				    &err);
	if (r != KF_OK) {
		kf_control_send_error(session->core.control, msg->id, "failed", err.message, NULL);
	} else {
		kf_agent_session_audit(
			session, "history-shared",
			json_pack("{s:s, s:I, s:s}", "support_id",
				  json_string_value(json_object_get(body, "support_id")), "entries",
				  (json_int_t)json_array_size(json_object_get(body, "journal")),
				  "copy", path));
		kf_summary_note(session->summary, "access",
				_("The technician read your support ID and support journal "
				  "(kefu-agentd journal --shared %s shows what was shared)"),
				session->session_id);
	}
	json_decref(body);
}

void kf_agent_session_summary_case(struct kf_agent_session *session, json_t *case_number)
{
	char id[KF_SUPPORT_ID_SIZE] = "";
	struct kf_error err;
	json_int_t number = json_is_integer(case_number) ? json_integer_value(case_number) : 0;

	/* The support ID is the customer's own: their summary always shows it. */
	if (kf_support_id_get(NULL, id, &err) != KF_OK)
		id[0] = '\0';
	kf_summary_set_case(session->summary, number > 0 ? (long long)number : 0, id);
}
