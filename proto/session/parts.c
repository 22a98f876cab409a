/* kefu: bodies larger than one control frame, carried in "part" messages. SPDX-License-Identifier: MIT */
#include "proto/session/parts.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The longest prefix of text[0..len) of at most max bytes that ends on a UTF-8 boundary. */
static size_t utf8_cut(const char *text, size_t len, size_t max)
{
	size_t cut = len < max ? len : max;

	while (cut > 0 && cut < len && ((unsigned char)text[cut] & 0xC0) == 0x80)
		cut--;
	return cut;
}

/*
 * Whether body keeps the value and string limits every single message is
 * decoded with (message.h). A large row's body can fit one frame in bytes and
 * still break them; the receiver would refuse it, so it goes in parts.
 */
static bool keeps_message_limits(json_t *value, size_t *values)
{
	const char *key;
	json_t *member;
	size_t index;

	/* 5 for the envelope: the message itself, v, type, id and re. */
	if (++*values + 5 > KF_MSG_MAX_VALUES)
		return false;
	if (json_is_string(value))
		return json_string_length(value) <= KF_MSG_MAX_STRING;
	json_object_foreach(value, key, member)
	{
		if (strlen(key) > KF_MSG_MAX_STRING || !keeps_message_limits(member, values))
			return false;
	}
	json_array_foreach(value, index, member)
	{
		if (!keeps_message_limits(member, values))
			return false;
	}
	return true;
}

int kf_parts_encode(struct kf_buf *out, const char *type, uint32_t *next_id, uint32_t re,
		    json_t *body, struct kf_error *err)
{
	const struct kf_msg_row *row = kf_msg_row_find(type);
	struct kf_error single;
	size_t len, offset = 0, parts, part = 0, start = out->len, values = 0;
	char *text;
	int r;

	if (row == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "cannot encode unknown message type '%s'",
				    type);
	r = kf_msg_encode(out, type, ++*next_id, re, body, &single);
	if (r == KF_OK && kf_msg_row_is_large(row) && body != NULL &&
	    !keeps_message_limits(body, &values)) {
		out->len = start;
		r = KF_ERR_TOO_LARGE;
	}
	if (r != KF_ERR_TOO_LARGE || !kf_msg_row_is_large(row)) {
		if (r != KF_OK && err != NULL)
			*err = single;
		return r;
	}
	text = json_dumps(body, JSON_COMPACT);
	if (text == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for a '%s' message", type);
	len = strlen(text);
	if (len > row->max_body) {
		free(text);
		return kf_error_set(err, KF_ERR_TOO_LARGE,
				    "a '%s' body of %zu bytes is over %zu bytes", type, len,
				    row->max_body);
	}
	/* Count first, so that every part can say how many there are. */
	for (parts = 0; offset < len; parts++)
		offset += utf8_cut(text + offset, len - offset, KF_PARTS_DATA);
	--*next_id; /* the single message was not sent */
	r = KF_OK;
	for (offset = 0; r == KF_OK && offset < len; part++) {
		size_t size = utf8_cut(text + offset, len - offset, KF_PARTS_DATA);
		json_t *piece = json_pack("{s:s, s:I, s:I, s:s%}", "type", type, "part",
					  (json_int_t)part + 1, "parts", (json_int_t)parts, "data",
					  text + offset, size);

		if (piece == NULL ||
		    (re != 0 && json_object_set_new(piece, "re", json_integer(re))))
			r = kf_error_set(err, KF_ERR_NOMEM, "out of memory for a '%s' message",
					 type);
		else
			r = kf_msg_encode(out, "part", ++*next_id, 0, piece, err);
		json_decref(piece);
		offset += size;
	}
	free(text);
	return r;
}

int kf_parts_is_open(const struct kf_parts_assembly *assembly)
{
	return assembly->row != NULL;
}

void kf_parts_reset(struct kf_parts_assembly *assembly)
{
	kf_buf_free(&assembly->text);
	memset(assembly, 0, sizeof(*assembly));
}

static int refuse(struct kf_parts_assembly *assembly, struct kf_msg *out, const char *code, int r)
{
	kf_parts_reset(assembly);
	out->error_code = code;
	return r;
}

int kf_parts_feed(struct kf_parts_assembly *assembly, enum kf_msg_party party,
		  const struct kf_msg *part, struct kf_msg *out, struct kf_error *err)
{
	json_t *type = json_object_get(part->body, "type");
	json_t *re = json_object_get(part->body, "re");
	json_t *data = json_object_get(part->body, "data");
	json_int_t number = json_integer_value(json_object_get(part->body, "part"));
	json_int_t parts = json_integer_value(json_object_get(part->body, "parts"));
	const struct kf_msg_row *row;
	json_t *body;
	int r;

	memset(out, 0, sizeof(*out));
	out->id = part->id;
	if (!json_is_string(type) || !json_is_string(data) ||
	    !json_is_integer(json_object_get(part->body, "part")) ||
	    !json_is_integer(json_object_get(part->body, "parts")) ||
	    (re != NULL && (!json_is_integer(re) || json_integer_value(re) < 1 ||
			    json_integer_value(re) > (json_int_t)KF_MSG_ID_MAX)))
		return refuse(assembly, out, KF_MSG_ERROR_BAD_MESSAGE,
			      kf_error_set(err, KF_ERR_INVALID,
					   "a part needs a type, a data string, its number and "
					   "how many parts there are"));
	row = kf_msg_row_find(json_string_value(type));
	if (row == NULL || !kf_msg_row_is_large(row) || !(row->sender & party))
		return refuse(assembly, out, KF_MSG_ERROR_BAD_MESSAGE,
			      kf_error_set(err, KF_ERR_INVALID,
					   "'%.32s' does not travel in parts from this side",
					   json_string_value(type)));
	if (parts < 1 || (size_t)parts > row->max_body / (KF_PARTS_DATA - 3) + 1)
		return refuse(assembly, out, KF_MSG_ERROR_TOO_LARGE,
			      kf_error_set(err, KF_ERR_TOO_LARGE,
					   "a '%s' body in %lld parts is over its limit", row->name,
					   (long long)parts));
	if (number == 1 && !kf_parts_is_open(assembly)) {
		assembly->row = row;
		assembly->parts = (unsigned)parts;
		assembly->re = re != NULL ? (uint32_t)json_integer_value(re) : 0;
	} else if (!kf_parts_is_open(assembly) || row != assembly->row ||
		   number != (json_int_t)assembly->received + 1 ||
		   (unsigned)parts != assembly->parts ||
		   (re != NULL ? (uint32_t)json_integer_value(re) : 0) != assembly->re) {
		return refuse(assembly, out, KF_MSG_ERROR_BAD_MESSAGE,
			      kf_error_set(err, KF_ERR_INVALID,
					   "part %lld of '%s' came out of order", (long long)number,
					   row->name));
	}
	if (json_string_length(data) > KF_PARTS_DATA ||
	    assembly->text.len + json_string_length(data) > row->max_body)
		return refuse(assembly, out, KF_MSG_ERROR_TOO_LARGE,
			      kf_error_set(err, KF_ERR_TOO_LARGE, "a '%s' body is over %zu bytes",
					   row->name, row->max_body));
	if (kf_buf_append(&assembly->text, json_string_value(data), json_string_length(data)) !=
	    KF_OK)
		return refuse(assembly, out, KF_MSG_ERROR_TOO_LARGE,
			      kf_error_set(err, KF_ERR_NOMEM, "out of memory for a '%s' body",
					   row->name));
	if (++assembly->received < assembly->parts)
		return 0;
	r = kf_msg_decode_body(row, (const char *)assembly->text.data, assembly->text.len, &body,
			       err);
	if (r != KF_OK)
		return refuse(assembly, out,
			      r == KF_ERR_TOO_LARGE ? KF_MSG_ERROR_TOO_LARGE
						    : KF_MSG_ERROR_BAD_MESSAGE,
			      r);
	out->version = KF_PROTO_VERSION;
	snprintf(out->type, sizeof(out->type), "%s", row->name);
	out->row = row;
	out->re = assembly->re;
	out->body = body;
	kf_parts_reset(assembly);
	return 1;
}
