/* kefu: the JSON control-message envelope carried in control frames. SPDX-License-Identifier: MIT */
#include "proto/session/message.h"
#include "proto/base/json-fields.h"
#include "proto/session/frame.h"
#include "proto/session/messages.h"

#include <stdlib.h>
#include <string.h>

void kf_msg_clear(struct kf_msg *msg)
{
	json_decref(msg->body);
	memset(msg, 0, sizeof(*msg));
}

struct limit_walk {
	size_t values;
	size_t max_values;
	size_t max_string;
	struct kf_error *err;
};

/* Checks depth, string sizes and the number of values of a parsed message. */
static int check_limits(json_t *value, int depth, struct limit_walk *walk)
{
	const char *key;
	json_t *member;
	size_t index;
	int r;

	if (depth > KF_MSG_MAX_DEPTH)
		return kf_error_set(walk->err, KF_ERR_TOO_LARGE,
				    "message nests deeper than %d levels", KF_MSG_MAX_DEPTH);
	if (++walk->values > walk->max_values)
		return kf_error_set(walk->err, KF_ERR_TOO_LARGE, "message has more than %zu values",
				    walk->max_values);
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		json_object_foreach(value, key, member)
		{
			if (strlen(key) > walk->max_string)
				return kf_error_set(walk->err, KF_ERR_TOO_LARGE,
						    "message has a key longer than %zu bytes",
						    walk->max_string);
			if ((r = check_limits(member, depth + 1, walk)) != KF_OK)
				return r;
		}
		break;
	case JSON_ARRAY:
		json_array_foreach(value, index, member)
		{
			if ((r = check_limits(member, depth + 1, walk)) != KF_OK)
				return r;
		}
		break;
	case JSON_STRING:
		if (json_string_length(value) > walk->max_string)
			return kf_error_set(walk->err, KF_ERR_TOO_LARGE,
					    "message has a string longer than %zu bytes",
					    walk->max_string);
		break;
	default:
		break;
	}
	return KF_OK;
}

/* Reads an id field: absent is 0; anything but an integer in 1..2^32-1 is invalid. */
static int read_id(json_t *root, const char *name, uint32_t *out, struct kf_error *err)
{
	json_t *value = json_object_get(root, name);
	json_int_t number;

	*out = 0;
	if (value == NULL)
		return KF_OK;
	if (!json_is_integer(value))
		return kf_error_set(err, KF_ERR_INVALID, "message field '%s' is not an integer",
				    name);
	number = json_integer_value(value);
	if (number < 1 || number > (json_int_t)KF_MSG_ID_MAX)
		return kf_error_set(err, KF_ERR_INVALID, "message field '%s' is out of range",
				    name);
	*out = (uint32_t)number;
	return KF_OK;
}

int kf_msg_decode(const uint8_t *data, size_t len, struct kf_msg *msg, struct kf_error *err)
{
	struct limit_walk walk = {0, KF_MSG_MAX_VALUES, KF_MSG_MAX_STRING, err};
	const struct kf_msg_row *row;
	json_error_t json_error;
	static const char *const envelope_fields[] = {"v", "type", "id", "re", "body", NULL};
	json_t *root, *version, *type, *body;
	const char *key;
	int r;

	memset(msg, 0, sizeof(*msg));
	if (len > KF_MSG_MAX_SIZE) {
		msg->error_code = KF_MSG_ERROR_TOO_LARGE;
		return kf_error_set(err, KF_ERR_TOO_LARGE, "message of %zu bytes is over %d bytes",
				    len, KF_MSG_MAX_SIZE);
	}
	/*
	 * jansson checks UTF-8, rejects NUL in strings unless asked, and bounds its
	 * own recursion; duplicate keys would let two readers see different values.
	 */
	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &json_error);
	if (root == NULL) {
		msg->error_code = KF_MSG_ERROR_BAD_MESSAGE;
		return kf_error_set(err, KF_ERR_INVALID, "message is not valid JSON: %s",
				    json_error.text);
	}
	if (!json_is_object(root)) {
		r = kf_error_set(err, KF_ERR_INVALID, "message is not a JSON object");
		goto out;
	}
	/* Read the id first, so that every later failure can still be answered. */
	if ((r = read_id(root, "id", &msg->id, err)) != KF_OK)
		goto out;
	if ((r = check_limits(root, 1, &walk)) != KF_OK)
		goto out;
	if ((key = kf_json_unknown_field(root, envelope_fields)) != NULL) {
		r = kf_error_set(err, KF_ERR_INVALID, "message has an unknown field '%.64s'", key);
		goto out;
	}
	version = json_object_get(root, "v");
	if (version == NULL || !json_is_integer(version)) {
		r = kf_error_set(err, KF_ERR_INVALID, "message has no integer version field 'v'");
		goto out;
	}
	if (json_integer_value(version) != KF_PROTO_VERSION) {
		msg->error_code = KF_MSG_ERROR_UNSUPPORTED_VERSION;
		r = kf_error_set(err, KF_ERR_UNSUPPORTED,
				 "message has protocol version %lld; this side speaks %d",
				 (long long)json_integer_value(version), KF_PROTO_VERSION);
		goto out;
	}
	msg->version = KF_PROTO_VERSION;
	if (msg->id == 0) {
		r = kf_error_set(err, KF_ERR_INVALID, "message has no field 'id'");
		goto out;
	}
	if ((r = read_id(root, "re", &msg->re, err)) != KF_OK)
		goto out;
	type = json_object_get(root, "type");
	if (type == NULL || !json_is_string(type)) {
		r = kf_error_set(err, KF_ERR_INVALID, "message has no string field 'type'");
		goto out;
	}
	if (json_string_length(type) == 0 || json_string_length(type) > KF_MSG_TYPE_MAX) {
		r = kf_error_set(err, KF_ERR_INVALID,
				 "message type is empty or longer than %d bytes", KF_MSG_TYPE_MAX);
		goto out;
	}
	if ((row = kf_msg_row_find(json_string_value(type))) == NULL) {
		msg->error_code = KF_MSG_ERROR_UNKNOWN_TYPE;
		r = kf_error_set(err, KF_ERR_UNSUPPORTED, "unknown message type '%s'",
				 json_string_value(type));
		goto out;
	}
	memcpy(msg->type, json_string_value(type), json_string_length(type) + 1);
	msg->row = row;
	body = json_object_get(root, "body");
	if (body != NULL && !json_is_object(body)) {
		r = kf_error_set(err, KF_ERR_INVALID, "message field 'body' is not an object");
		goto out;
	}
	msg->body = body != NULL ? json_incref(body) : json_object();
	if (msg->body == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory for a message");
		goto out;
	}
	r = KF_OK;
out:
	if (r != KF_OK && msg->error_code == NULL)
		msg->error_code =
			r == KF_ERR_TOO_LARGE ? KF_MSG_ERROR_TOO_LARGE : KF_MSG_ERROR_BAD_MESSAGE;
	json_decref(root);
	return r;
}

int kf_msg_decode_body(const struct kf_msg_row *row, const char *text, size_t len, json_t **body,
		       struct kf_error *err)
{
	struct limit_walk walk = {0, row->max_values, row->max_string, err};
	json_error_t json_error;
	json_t *root;
	int r;

	*body = NULL;
	if (len > row->max_body)
		return kf_error_set(err, KF_ERR_TOO_LARGE,
				    "a '%s' body of %zu bytes is over %zu bytes", row->name, len,
				    row->max_body);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &json_error);
	if (root == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "a '%s' body is not valid JSON: %s",
				    row->name, json_error.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return kf_error_set(err, KF_ERR_INVALID, "a '%s' body is not an object", row->name);
	}
	/* The body sits at the envelope's second level, as in a single message. */
	if ((r = check_limits(root, 2, &walk)) != KF_OK) {
		json_decref(root);
		return r;
	}
	*body = root;
	return KF_OK;
}

int kf_msg_encode(struct kf_buf *out, const char *type, uint32_t id, uint32_t re, json_t *body,
		  struct kf_error *err)
{
	json_t *root;
	char *text = NULL;
	int r;

	if (id == 0)
		return kf_error_set(err, KF_ERR_INVALID, "a message needs a non-zero id");
	if (!kf_msg_type_is_known(type))
		return kf_error_set(err, KF_ERR_INVALID, "cannot encode unknown message type '%s'",
				    type);
	if (body != NULL && !json_is_object(body))
		return kf_error_set(err, KF_ERR_INVALID, "a message body must be an object");
	root = json_pack("{s:i, s:s, s:I}", "v", KF_PROTO_VERSION, "type", type, "id",
			 (json_int_t)id);
	if (root == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for a message");
	if ((re != 0 && json_object_set_new(root, "re", json_integer(re)) != 0) ||
	    json_object_set_new(root, "body", body != NULL ? json_incref(body) : json_object()) !=
		    0) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory for a message");
		goto out;
	}
	text = json_dumps(root, JSON_COMPACT);
	if (text == NULL) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory for a message");
		goto out;
	}
	if (strlen(text) > KF_MSG_MAX_SIZE) {
		r = kf_error_set(err, KF_ERR_TOO_LARGE, "message of %zu bytes is over %d bytes",
				 strlen(text), KF_MSG_MAX_SIZE);
		goto out;
	}
	r = kf_frame_encode(out, KF_FRAME_CONTROL, text, strlen(text), err);
out:
	free(text);
	json_decref(root);
	return r;
}

int kf_msg_encode_error(struct kf_buf *out, uint32_t id, uint32_t re, const char *code,
			const char *text, struct kf_error *err)
{
	json_t *body;
	int r;

	body = json_pack("{s:s, s:s}", "code", code, "message", text);
	if (body == NULL)
		return kf_error_set(err, KF_ERR_INVALID, "error text is not valid UTF-8");
	r = kf_msg_encode(out, "error", id, re, body, err);
	json_decref(body);
	return r;
}

int kf_msg_encode_error_for(struct kf_buf *out, uint32_t id, const struct kf_msg *failed,
			    const struct kf_error *decode_error, struct kf_error *err)
{
	const char *code = failed->error_code ? failed->error_code : KF_MSG_ERROR_BAD_MESSAGE;

	return kf_msg_encode_error(out, id, failed->id, code, decode_error->message, err);
}
