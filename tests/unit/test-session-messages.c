/* kefu: unit tests for the message table, large bodies in parts and the control channel's sender rule. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/session/control.h"
#include "proto/session/frame.h"
#include "proto/session/message.h"
#include "proto/session/messages.h"
#include "proto/session/parts.h"
#include "tests/unit/fixtures.h"
#include "tests/unit/memory-stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void every_row_sits_at_its_type_and_names_are_unique(void **state)
{
	(void)state;
	for (int i = 0; i < KF_MSG_TYPE_COUNT; i++) {
		const struct kf_msg_row *row = kf_msg_row_of((enum kf_msg_type)i);

		assert_non_null(row);
		assert_int_equal(row->type, i);
		assert_ptr_equal(kf_msg_row_find(row->name), row);
		assert_true(strlen(row->name) <= KF_MSG_TYPE_MAX);
		assert_true(row->sender & KF_PARTY_BOTH);
		assert_true(row->max_body >= KF_MSG_MAX_SIZE);
		assert_true(kf_msg_type_is_known(row->name));
	}
	assert_null(kf_msg_row_of(KF_MSG_TYPE_COUNT));
	assert_null(kf_msg_row_find("diag.reports"));
	assert_false(kf_msg_type_is_known(""));
}

static void only_console_requests_need_a_capability(void **state)
{
	(void)state;
	/* A grant guards what the technician asks for, never what the agent tells. */
	for (int i = 0; i < KF_MSG_TYPE_COUNT; i++) {
		const struct kf_msg_row *row = kf_msg_row_of((enum kf_msg_type)i);

		if (row->capability != KF_CAP_NONE)
			assert_int_equal(row->sender, KF_PARTY_CONSOLE);
	}
	assert_int_equal(kf_msg_row_find("diag.request")->capability, KF_CAP_DIAGNOSE);
	assert_int_equal(kf_msg_row_find("plugins.request")->capability, KF_CAP_DIAGNOSE);
	assert_int_equal(kf_msg_row_find("plugin.run")->capability, KF_CAP_DIAGNOSE);
	assert_int_equal(kf_msg_row_find("plugin.repair")->capability, KF_CAP_REPAIR);
	assert_int_equal(kf_msg_row_find("firmware.list")->capability, KF_CAP_FIRMWARE);
	assert_int_equal(kf_msg_row_find("consent.request")->capability, KF_CAP_NONE);
}

static void capability_names_round_trip(void **state)
{
	enum kf_capability capability;

	(void)state;
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		assert_int_equal(
			kf_capability_parse(kf_capability_name((enum kf_capability)i), &capability),
			KF_OK);
		assert_int_equal(capability, i);
	}
	assert_string_equal(kf_capability_name(KF_CAP_NONE), "none");
	assert_int_equal(kf_capability_parse("none", &capability), KF_ERR_INVALID);
	assert_int_equal(kf_capability_parse("View", &capability), KF_ERR_INVALID);
	assert_string_equal(kf_capability_name(KF_CAP_COUNT), "unknown");
}

/* The rows of PROTOCOL.md's message table: "| `name` | sender | capability | limit |". */
static void protocol_page_lists_every_row_as_the_table_says(void **state)
{
	char path[4096];
	const char *source = getenv("KEFU_SOURCE_DIR");
	size_t len, rows_seen = 0;
	char *text, *line;
	static const char *const senders[] = {[KF_PARTY_AGENT] = "agent",
					      [KF_PARTY_CONSOLE] = "console",
					      [KF_PARTY_BOTH] = "both"};

	(void)state;
	snprintf(path, sizeof(path), "%s/proto/session/PROTOCOL.md", source ? source : ".");
	text = (char *)read_whole_file(path, &len);
	assert_non_null(text);
	for (line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char name[64], sender[16], capability[16];
		const struct kf_msg_row *row;

		if (sscanf(line, "| `%63[^`]` | %15s | %15s |", name, sender, capability) != 3 ||
		    (strcmp(sender, "agent") != 0 && strcmp(sender, "console") != 0 &&
		     strcmp(sender, "both") != 0))
			continue;
		row = kf_msg_row_find(name);
		if (row == NULL)
			fail_msg("PROTOCOL.md lists '%s', which the table does not have", name);
		assert_string_equal(sender, senders[row->sender]);
		assert_string_equal(capability, row->capability == KF_CAP_NONE
							? "-"
							: kf_capability_name(row->capability));
		rows_seen++;
	}
	free(text);
	assert_int_equal(rows_seen, KF_MSG_TYPE_COUNT);
}

/* Splits out into frames and decodes each as a message; returns how many. */
static size_t decode_frames(const struct kf_buf *out, struct kf_msg *msgs, size_t max)
{
	struct kf_frame_decoder *decoder = kf_frame_decoder_new(0);
	const uint8_t *data = out->data;
	size_t len = out->len, count = 0, consumed;
	struct kf_frame frame;
	struct kf_error err;
	int r;

	assert_non_null(decoder);
	while (len > 0) {
		r = kf_frame_decoder_feed(decoder, data, len, &consumed, &frame, &err);
		assert_true(r >= 0);
		data += consumed;
		len -= consumed;
		if (r == 1) {
			assert_true(frame.length <= KF_MSG_MAX_SIZE);
			assert_true(count < max);
			assert_int_equal(
				kf_msg_decode(frame.payload, frame.length, &msgs[count], &err),
				KF_OK);
			count++;
		}
	}
	kf_frame_decoder_free(decoder);
	return count;
}

/* A report-like body of at least size bytes of JSON text. */
static json_t *large_body(size_t size, const char *filler)
{
	json_t *devices = json_array();
	char text[256];

	for (size_t i = 0, total = 0; total < size; i++) {
		/* Each entry's JSON is the text plus about 40 bytes of keys and numbers. */
		total += (size_t)snprintf(text, sizeof(text), "%s device %zu %s", filler, i,
					  filler) +
			 40;
		json_array_append_new(devices, json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i,
							 "name", text, "driver", "e1000e"));
	}
	return json_pack("{s:{s:o}}", "report", "devices", devices);
}

#define MAX_PARTS 2048

static void round_trip(json_t *body)
{
	static struct kf_msg msgs[MAX_PARTS];
	struct kf_parts_assembly assembly = {0};
	struct kf_buf out = {0};
	struct kf_msg whole;
	struct kf_error err;
	uint32_t next_id = 40;
	size_t count;
	int r = 0;

	assert_int_equal(kf_parts_encode(&out, "diag.report", &next_id, 7, body, &err), KF_OK);
	count = decode_frames(&out, msgs, MAX_PARTS);
	assert_true(count > 1);
	assert_int_equal(next_id, 40 + count);
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(msgs[i].type, "part");
		assert_int_equal(msgs[i].id, 41 + i);
		r = kf_parts_feed(&assembly, KF_PARTY_AGENT, &msgs[i], &whole, &err);
		assert_int_equal(r, i + 1 < count ? 0 : 1);
		if (r == 0)
			kf_msg_clear(&whole);
		kf_msg_clear(&msgs[i]);
	}
	assert_string_equal(whole.type, "diag.report");
	assert_ptr_equal(whole.row, kf_msg_row_find("diag.report"));
	assert_int_equal(whole.re, 7);
	assert_int_equal(whole.id, next_id);
	assert_true(json_equal(whole.body, body));
	assert_false(kf_parts_is_open(&assembly));
	kf_msg_clear(&whole);
	kf_buf_free(&out);
}

static void megabyte_report_crosses_in_parts_that_each_fit_a_frame(void **state)
{
	json_t *body = large_body(1024 * 1024, "Intel Corporation Ethernet Connection");

	(void)state;
	round_trip(body);
	json_decref(body);
}

static void quotes_and_multibyte_text_survive_the_cuts(void **state)
{
	/* Every quote doubles when escaped; a three-byte character may straddle a cut. */
	json_t *quotes = large_body(300 * 1024, "\"\"\"\\\\\"\"\"\"\"\"\"\\\\\"\"\"\"");
	json_t *euros = large_body(300 * 1024, "€€€€€€€€€€€€€€€€€€€€€€€€€ 网卡 ✓");

	(void)state;
	round_trip(quotes);
	round_trip(euros);
	json_decref(quotes);
	json_decref(euros);
}

static void small_body_is_one_plain_message(void **state)
{
	struct kf_msg msgs[2];
	struct kf_buf out = {0};
	uint32_t next_id = 0;
	json_t *body = json_pack("{s:{s:[]}}", "report", "devices");

	(void)state;
	assert_int_equal(kf_parts_encode(&out, "diag.report", &next_id, 3, body, NULL), KF_OK);
	assert_int_equal(decode_frames(&out, msgs, 2), 1);
	assert_string_equal(msgs[0].type, "diag.report");
	assert_int_equal(msgs[0].id, 1);
	assert_int_equal(next_id, 1);
	kf_msg_clear(&msgs[0]);
	kf_buf_free(&out);
	json_decref(body);
}

static void large_body_of_a_small_type_is_refused_by_the_sender(void **state)
{
	struct kf_buf out = {0};
	struct kf_error err;
	uint32_t next_id = 0;
	json_t *body = large_body(128 * 1024, "chat");

	(void)state;
	assert_int_equal(kf_parts_encode(&out, "chat", &next_id, 0, body, &err), KF_ERR_TOO_LARGE);
	assert_int_equal(out.len, 0);
	assert_int_equal(kf_parts_encode(&out, "no.such", &next_id, 0, body, &err), KF_ERR_INVALID);
	json_decref(body);
}

/* A hand-made part message as a hostile peer would send it. */
static void forge_part(struct kf_msg *msg, uint32_t id, const char *type, json_int_t part,
		       json_int_t parts, const char *data)
{
	memset(msg, 0, sizeof(*msg));
	msg->version = KF_PROTO_VERSION;
	snprintf(msg->type, sizeof(msg->type), "part");
	msg->row = kf_msg_row_find("part");
	msg->id = id;
	msg->body = json_pack("{s:s, s:I, s:I, s:s}", "type", type, "part", part, "parts", parts,
			      "data", data);
}

/* Feeds one forged part; returns what kf_parts_feed returned and the answer's code. */
static int feed_forged(struct kf_parts_assembly *assembly, enum kf_msg_party party,
		       const char *type, json_int_t part, json_int_t parts, const char *data,
		       const char **code)
{
	struct kf_msg msg, whole;
	struct kf_error err;
	int r;

	forge_part(&msg, (uint32_t)part + 100, type, part, parts, data);
	r = kf_parts_feed(assembly, party, &msg, &whole, &err);
	*code = whole.error_code;
	kf_msg_clear(&whole);
	kf_msg_clear(&msg);
	return r;
}

static void parts_from_the_wrong_side_or_of_small_types_are_refused(void **state)
{
	struct kf_parts_assembly assembly = {0};
	const char *code;

	(void)state;
	/* A console must not push a report to the agent, nor parts of a small type. */
	assert_true(feed_forged(&assembly, KF_PARTY_CONSOLE, "diag.report", 1, 2, "{", &code) < 0);
	assert_string_equal(code, KF_MSG_ERROR_BAD_MESSAGE);
	assert_true(feed_forged(&assembly, KF_PARTY_CONSOLE, "consent.request", 1, 2, "{", &code) <
		    0);
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "chat", 1, 2, "{", &code) < 0);
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "part", 1, 2, "{", &code) < 0);
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "nope", 1, 2, "{", &code) < 0);
	assert_false(kf_parts_is_open(&assembly));
}

static void parts_out_of_order_or_changing_count_are_refused(void **state)
{
	struct kf_parts_assembly assembly = {0};
	const char *code;

	(void)state;
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "diag.report", 2, 3, "{", &code) < 0);
	assert_int_equal(feed_forged(&assembly, KF_PARTY_AGENT, "diag.report", 1, 3, "{", &code),
			 0);
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "diag.report", 3, 3, "}", &code) < 0);
	assert_false(kf_parts_is_open(&assembly));
	assert_int_equal(feed_forged(&assembly, KF_PARTY_AGENT, "diag.report", 1, 3, "{", &code),
			 0);
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "diag.report", 2, 4, "}", &code) < 0);
	assert_int_equal(feed_forged(&assembly, KF_PARTY_AGENT, "diag.report", 1, 2, "{", &code),
			 0);
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "plugin.result", 2, 2, "}", &code) < 0);
	assert_false(kf_parts_is_open(&assembly));
	kf_parts_reset(&assembly);
}

static void more_parts_than_the_row_allows_are_refused_before_joining(void **state)
{
	struct kf_parts_assembly assembly = {0};
	const struct kf_msg_row *row = kf_msg_row_find("firmware.devices");
	json_int_t too_many = (json_int_t)(row->max_body / (KF_PARTS_DATA - 3)) + 2;
	const char *code;

	(void)state;
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "firmware.devices", 1, too_many, "{",
				&code) < 0);
	assert_string_equal(code, KF_MSG_ERROR_TOO_LARGE);
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "firmware.devices", 1, 0, "{", &code) <
		    0);
}

static void joined_text_over_max_body_is_refused(void **state)
{
	struct kf_parts_assembly assembly = {0};
	const struct kf_msg_row *row = kf_msg_row_find("firmware.devices");
	size_t parts = row->max_body / (KF_PARTS_DATA - 3) + 1;
	char *data = malloc(KF_PARTS_DATA + 1);
	const char *code = NULL;
	int r = 0;

	(void)state;
	memset(data, ' ', KF_PARTS_DATA);
	data[KF_PARTS_DATA] = '\0';
	for (size_t i = 1; i <= parts && r == 0; i++)
		r = feed_forged(&assembly, KF_PARTY_AGENT, "firmware.devices", (json_int_t)i,
				(json_int_t)parts, data, &code);
	assert_true(r < 0);
	assert_string_equal(code, KF_MSG_ERROR_TOO_LARGE);
	assert_int_equal(assembly.text.len, 0);
	free(data);
}

static void joined_text_must_be_one_object_within_the_row_limits(void **state)
{
	struct kf_parts_assembly assembly = {0};
	const char *code;

	(void)state;
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "diag.report", 1, 1, "[1,2]", &code) <
		    0);
	assert_string_equal(code, KF_MSG_ERROR_BAD_MESSAGE);
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "diag.report", 1, 1, "{\"a\":1,\"a\":2}",
				&code) < 0);
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "diag.report", 1, 1, "{\"a\":", &code) <
		    0);
	/* 17 levels with the envelope's two: deeper than any single message may nest. */
	assert_true(feed_forged(&assembly, KF_PARTY_AGENT, "diag.report", 1, 1,
				"{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}", &code) < 0);
	assert_string_equal(code, KF_MSG_ERROR_TOO_LARGE);
}

static void count_handled(void *user, const struct kf_msg *msg)
{
	(void)msg;
	*(int *)user += 1;
}

static void dispatch_runs_the_registered_handler_only(void **state)
{
	struct kf_msg_handlers table = {0};
	struct kf_msg msg = {0};
	struct kf_error err;
	int count = 0;

	(void)state;
	kf_msg_handlers_set(&table, KF_MSG_PING, count_handled);
	msg.row = kf_msg_row_of(KF_MSG_PING);
	assert_int_equal(kf_msg_dispatch(&table, &count, &msg, &err), KF_OK);
	assert_int_equal(count, 1);
	msg.row = kf_msg_row_of(KF_MSG_CHAT);
	snprintf(msg.type, sizeof(msg.type), "chat");
	assert_int_equal(kf_msg_dispatch(&table, &count, &msg, &err), KF_ERR_UNSUPPORTED);
	assert_non_null(strstr(err.message, "chat"));
	kf_msg_handlers_set(&table, KF_MSG_PING, NULL);
	msg.row = kf_msg_row_of(KF_MSG_PING);
	assert_int_equal(kf_msg_dispatch(&table, &count, &msg, &err), KF_ERR_UNSUPPORTED);
	assert_int_equal(count, 1);
}

/* ---- the control channel: two ends over memory streams ---- */

struct end {
	struct kf_control *control;
	int messages;
	char last_type[KF_MSG_TYPE_MAX + 1];
	char last_error[64];
	json_t *last_body;
	int closed;
};

static void end_on_message(struct kf_control *control, const struct kf_msg *msg, void *user)
{
	struct end *end = user;

	(void)control;
	end->messages++;
	snprintf(end->last_type, sizeof(end->last_type), "%s", msg->type);
	json_decref(end->last_body);
	end->last_body = json_incref(msg->body);
	if (strcmp(msg->type, "error") == 0)
		snprintf(end->last_error, sizeof(end->last_error), "%s",
			 json_string_value(json_object_get(msg->body, "code")));
}

static void end_on_closed(struct kf_control *control, int status, const struct kf_error *err,
			  void *user)
{
	(void)control;
	(void)status;
	(void)err;
	((struct end *)user)->closed = 1;
}

struct pair {
	struct kf_stream *agent_stream, *console_stream;
	struct end agent, console;
};

static void pair_open(struct pair *p)
{
	static const struct kf_control_callbacks callbacks = {end_on_message, end_on_closed};

	memset(p, 0, sizeof(*p));
	memory_stream_pair(&p->agent_stream, &p->console_stream);
	assert_int_equal(kf_control_new(p->agent_stream, KF_PARTY_AGENT, &callbacks, &p->agent,
					&p->agent.control, NULL),
			 KF_OK);
	assert_int_equal(kf_control_new(p->console_stream, KF_PARTY_CONSOLE, &callbacks,
					&p->console, &p->console.control, NULL),
			 KF_OK);
}

static void pair_close(struct pair *p)
{
	kf_control_free(p->agent.control);
	kf_control_free(p->console.control);
	json_decref(p->agent.last_body);
	json_decref(p->console.last_body);
}

static void control_carries_a_large_report_whole(void **state)
{
	struct pair p;
	json_t *body = large_body(2 * 1024 * 1024, "Realtek Semiconductor Co., Ltd. RTL8111");

	(void)state;
	pair_open(&p);
	assert_int_equal(kf_control_send(p.agent.control, "diag.report", 5, body, NULL, NULL),
			 KF_OK);
	memory_stream_pump(p.agent_stream, p.console_stream);
	assert_int_equal(p.console.messages, 1);
	assert_string_equal(p.console.last_type, "diag.report");
	assert_true(json_equal(p.console.last_body, body));
	assert_int_equal(p.agent.messages, 0); /* nothing was refused */
	json_decref(body);
	pair_close(&p);
}

static void control_carries_a_small_report_of_many_values(void **state)
{
	struct pair p;
	json_t *modules = json_array(), *body;

	(void)state;
	/* Under 64 KiB of text, but more values than one message may carry: parts, too. */
	for (int i = 0; i < 6000; i++)
		json_array_append_new(modules, json_integer(i % 10));
	body = json_pack("{s:{s:o}}", "report", "modules", modules);
	pair_open(&p);
	assert_int_equal(kf_control_send(p.agent.control, "diag.report", 5, body, NULL, NULL),
			 KF_OK);
	memory_stream_pump(p.agent_stream, p.console_stream);
	assert_int_equal(p.console.messages, 1);
	assert_string_equal(p.console.last_type, "diag.report");
	assert_true(json_equal(p.console.last_body, body));
	json_decref(body);
	pair_close(&p);
}

static void control_refuses_types_the_other_side_may_not_send(void **state)
{
	struct pair p;
	struct kf_buf forged = {0};

	(void)state;
	pair_open(&p);
	/* The sender's own check stops a program bug... */
	assert_int_equal(kf_control_send(p.agent.control, "diag.request", 0, NULL, NULL, NULL),
			 KF_ERR_INVALID);
	assert_int_equal(kf_control_send(p.console.control, "diag.report", 0, NULL, NULL, NULL),
			 KF_ERR_INVALID);
	/* ...and the receiver's stops a hostile agent asking the console for a repair. */
	assert_int_equal(kf_msg_encode(&forged, "plugin.repair", 9, 0, NULL, NULL), KF_OK);
	assert_int_equal(kf_stream_write(p.agent_stream, forged.data, forged.len, NULL), KF_OK);
	memory_stream_pump(p.agent_stream, p.console_stream);
	assert_int_equal(p.console.messages, 0);
	assert_int_equal(p.agent.messages, 1);
	assert_string_equal(p.agent.last_error, KF_MSG_ERROR_UNEXPECTED);
	kf_buf_free(&forged);
	pair_close(&p);
}

static void message_between_parts_abandons_the_body(void **state)
{
	struct pair p;
	static struct kf_msg msgs[MAX_PARTS];
	struct kf_buf out = {0}, ping = {0};
	uint32_t next_id = 0;
	json_t *body = large_body(200 * 1024, "interleaved");
	size_t count;

	(void)state;
	pair_open(&p);
	assert_int_equal(kf_parts_encode(&out, "diag.report", &next_id, 0, body, NULL), KF_OK);
	count = decode_frames(&out, msgs, MAX_PARTS);
	for (size_t i = 0; i < count; i++)
		kf_msg_clear(&msgs[i]);
	assert_true(count > 2);
	/* The first part, a ping, then the rest: the report never arrives, the ping does. */
	assert_int_equal(kf_msg_encode(&ping, "ping", 999, 0, NULL, NULL), KF_OK);
	{
		size_t first = KF_FRAME_HEADER_SIZE;

		first += (size_t)out.data[1] << 24 | (size_t)out.data[2] << 16 |
			 (size_t)out.data[3] << 8 | out.data[4];
		kf_stream_write(p.agent_stream, out.data, first, NULL);
		kf_stream_write(p.agent_stream, ping.data, ping.len, NULL);
		kf_stream_write(p.agent_stream, out.data + first, out.len - first, NULL);
	}
	memory_stream_pump(p.agent_stream, p.console_stream);
	assert_int_equal(p.console.messages, 1);
	assert_string_equal(p.console.last_type, "ping");
	assert_true(p.agent.messages >= 1);
	assert_string_equal(p.agent.last_error, KF_MSG_ERROR_BAD_MESSAGE);
	kf_buf_free(&out);
	kf_buf_free(&ping);
	json_decref(body);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_row_sits_at_its_type_and_names_are_unique),
		cmocka_unit_test(only_console_requests_need_a_capability),
		cmocka_unit_test(capability_names_round_trip),
		cmocka_unit_test(protocol_page_lists_every_row_as_the_table_says),
		cmocka_unit_test(megabyte_report_crosses_in_parts_that_each_fit_a_frame),
		cmocka_unit_test(quotes_and_multibyte_text_survive_the_cuts),
		cmocka_unit_test(small_body_is_one_plain_message),
		cmocka_unit_test(large_body_of_a_small_type_is_refused_by_the_sender),
		cmocka_unit_test(parts_from_the_wrong_side_or_of_small_types_are_refused),
		cmocka_unit_test(parts_out_of_order_or_changing_count_are_refused),
		cmocka_unit_test(more_parts_than_the_row_allows_are_refused_before_joining),
		cmocka_unit_test(joined_text_over_max_body_is_refused),
		cmocka_unit_test(joined_text_must_be_one_object_within_the_row_limits),
		cmocka_unit_test(dispatch_runs_the_registered_handler_only),
		cmocka_unit_test(control_carries_a_large_report_whole),
		cmocka_unit_test(control_carries_a_small_report_of_many_values),
		cmocka_unit_test(control_refuses_types_the_other_side_may_not_send),
		cmocka_unit_test(message_between_parts_abandons_the_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
