/* kefu-agentd: the diagnostics report in a session: for the technician, and for the plugins. SPDX-License-Identifier: MIT */
#include "agentd/session/session-private.h"
#include "agentd/diag/collect.h"
#include "agentd/i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Collects the whole report of the session's root into ctx; NULL report when out of memory. */
static void collect(struct kf_agent_session *session, struct kf_collect_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->root = kf_agent_session_root(session);
	ctx->is_live = strcmp(ctx->root, "/") == 0;
	ctx->tool_timeout_ms = KF_TOOL_TIMEOUT_MS;
	ctx->report = kf_report_new();
	if (ctx->report != NULL)
		kf_collect_all(ctx);
}

/*
 * diag.request: the report goes to the console as one diag.report message,
 * however large (the control channel cuts it into parts); its problems go
 * into the customer's summary.
 */
void kf_agent_session_on_diag_request(void *user, const struct kf_msg *msg)
{
	struct kf_agent_session *session = user;
	struct kf_collect_ctx ctx;
	struct kf_error err;
	json_t *problems, *body;
	int r;

	kf_agent_session_audit(session, "action-start",
			       json_pack("{s:s}", "action", "diagnostics report"));
	collect(session, &ctx);
	if (ctx.report == NULL) {
		kf_control_send_error(session->core.control, msg->id, "failed", "out of memory",
				      NULL);
		return;
	}
	problems = json_object_get(ctx.report->root, "problems");
	body = json_pack("{s:O}", "report", ctx.report->root);
	r = body != NULL ? kf_control_send(session->core.control, "diag.report", msg->id, body,
					   NULL, &err)
			 : kf_error_set(&err, KF_ERR_NOMEM, "out of memory for the report");
	json_decref(body);
	if (r != KF_OK)
		kf_control_send_error(session->core.control, msg->id,
				      r == KF_ERR_TOO_LARGE ? "too-large" : "failed", err.message,
				      NULL);
	kf_agent_session_audit(session, "action-finish",
			       json_pack("{s:s, s:s, s:I}", "action", "diagnostics report",
					 "result", r == KF_OK ? "ok" : "failed", "problems",
					 (json_int_t)json_array_size(problems)));
	kf_summary_note(session->summary, "action",
			_("The technician collected a diagnostics report"));
	for (size_t i = 0; i < json_array_size(problems); i++) {
		const char *summary =
			json_string_value(json_object_get(json_array_get(problems, i), "summary"));

		if (summary != NULL)
			kf_summary_note(session->summary, "finding", "%s", summary);
	}
	if (json_array_size(problems) == 0)
		kf_summary_note(session->summary, "finding", "%s",
				_("The diagnostics found no problem"));
	kf_collect_ctx_release(&ctx);
	kf_report_free(ctx.report);
}

int kf_agent_session_plugin_report(struct kf_agent_session *session, struct kf_error *err)
{
	struct kf_collect_ctx ctx;
	int fd;

	if (session->report != NULL)
		return KF_OK;
	collect(session, &ctx);
	if (ctx.report == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	snprintf(session->report_path, sizeof(session->report_path),
		 "/tmp/kefu-session-report-XXXXXX");
	fd = mkstemp(session->report_path);
	if (fd < 0 || json_dumpfd(ctx.report->root, fd, JSON_COMPACT) != 0) {
		if (fd >= 0) {
			close(fd);
			unlink(session->report_path);
		}
		session->report_path[0] = '\0';
		kf_collect_ctx_release(&ctx);
		kf_report_free(ctx.report);
		return kf_error_set(err, KF_ERR_IO, "the diagnostics report could not be written");
	}
	close(fd);
	session->report = json_incref(ctx.report->root);
	kf_collect_ctx_release(&ctx);
	kf_report_free(ctx.report);
	return KF_OK;
}

void kf_agent_session_diag_release(struct kf_agent_session *session)
{
	json_decref(session->report);
	session->report = NULL;
	if (session->report_path[0] != '\0')
		unlink(session->report_path);
	session->report_path[0] = '\0';
}
