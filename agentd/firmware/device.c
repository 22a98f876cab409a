/* kefu-agentd: the client side of proto/firmware/DEVICE.md: info, write, read back, restart. SPDX-License-Identifier: MIT */
#include "agentd/firmware/device.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_MAX     (64 * 1024)
#define CHUNK         (64 * 1024)
#define TIMEOUT_S     30  /* any one request */
#define STORE_TIMEOUT 300 /* the device checking and storing a whole image */

static void set_timeout(int fd, int seconds)
{
	struct timeval tv = {.tv_sec = seconds};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int connect_device(const char *path, int *out, struct kf_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return kf_error_set(err, KF_ERR_INVALID, "the device socket path is too long");
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kf_error_set(err, KF_ERR_IO, "cannot make a socket: %s", strerror(errno));
	set_timeout(fd, TIMEOUT_S);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int saved = errno;
		close(fd);
		return kf_error_set(err, KF_ERR_CLOSED, "the device does not answer (%s)",
				    strerror(saved));
	}
	*out = fd;
	return KF_OK;
}

static int send_all(int fd, const void *data, size_t len, struct kf_error *err)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return kf_error_set(err, KF_ERR_CLOSED, "the device stopped answering");
		p += n;
		len -= (size_t)n;
	}
	return KF_OK;
}

static int send_request(int fd, json_t *request, struct kf_error *err)
{
	char *text = json_dumps(request, JSON_COMPACT);
	size_t len;
	int r;

	json_decref(request);
	if (text == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	len = strlen(text);
	text[len] = '\n';
	r = send_all(fd, text, len + 1, err);
	free(text);
	return r;
}

/* Reads one reply line; a reply with "ok": false becomes KF_ERR_DENIED with its sentence. */
static int read_reply(int fd, json_t **out, struct kf_error *err)
{
	char *buf = malloc(REPLY_MAX + 1), *newline = NULL;
	size_t used = 0;
	json_t *reply;
	const char *sentence;

	*out = NULL;
	if (buf == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	/* Byte by byte, so that nothing after the line is consumed; replies are short. */
	while (newline == NULL && used < REPLY_MAX) {
		ssize_t n = read(fd, buf + used, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return kf_error_set(err, KF_ERR_CLOSED, "the device stopped answering");
		}
		if (buf[used] == '\n')
			newline = buf + used;
		used++;
	}
	if (newline == NULL) {
		free(buf);
		return kf_error_set(err, KF_ERR_TOO_LARGE, "the device's answer is too long");
	}
	*newline = '\0';
	reply = json_loads(buf, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (!json_is_object(reply)) {
		json_decref(reply);
		return kf_error_set(err, KF_ERR_INVALID, "the device's answer is not JSON");
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		sentence = json_string_value(json_object_get(reply, "error"));
		kf_error_set(err, KF_ERR_DENIED, "the device refused: %.200s",
			     sentence != NULL ? sentence : "no reason given");
		json_decref(reply);
		return KF_ERR_DENIED;
	}
	*out = reply;
	return KF_OK;
}

static int ask(const char *path, json_t *request, json_t **reply, struct kf_error *err)
{
	int fd, r = connect_device(path, &fd, err);

	if (r != KF_OK) {
		json_decref(request);
		return r;
	}
	r = send_request(fd, request, err);
	if (r == KF_OK)
		r = read_reply(fd, reply, err);
	close(fd);
	return r;
}

static char *dup_string(json_t *object, const char *key)
{
	const char *value = json_string_value(json_object_get(object, key));

	return value != NULL ? strndup(value, 256) : NULL;
}

void kf_fw_device_free(struct kf_fw_device *device)
{
	if (device == NULL)
		return;
	for (size_t i = 0; i < device->instance_id_count; i++)
		free(device->instance_ids[i]);
	free(device->instance_ids);
	free(device->guids);
	free(device->id);
	free(device->socket_path);
	free(device->name);
	free(device->vendor);
	free(device->version);
	free(device->boot_id);
	free(device->image_sha256);
	free(device);
}

static int fill(struct kf_fw_device *d, json_t *info, struct kf_error *err)
{
	json_t *ids = json_object_get(info, "instance_ids"), *value;
	json_int_t capacity = json_integer_value(json_object_get(info, "capacity"));
	const char *activation = json_string_value(json_object_get(info, "activation"));
	size_t i;

	d->name = dup_string(info, "name");
	d->vendor = dup_string(info, "vendor");
	d->version = dup_string(info, "version");
	d->boot_id = dup_string(info, "boot_id");
	d->image_sha256 = dup_string(info, "image_sha256");
	d->format = kf_fw_version_format_from_string(
		json_string_value(json_object_get(info, "version_format")));
	d->is_busy = json_is_true(json_object_get(info, "busy"));
	d->capacity = capacity > 0 ? (uint64_t)capacity : 0;
	d->activates_on_host_reboot = activation != NULL && strcmp(activation, "host-reboot") == 0;
	if (d->name == NULL || d->version == NULL || d->version[0] == '\0' || d->boot_id == NULL)
		return kf_error_set(err, KF_ERR_INVALID,
				    "the device %s does not say its name, version and boot id",
				    d->id);
	if (!json_is_array(ids) || json_array_size(ids) == 0 ||
	    json_array_size(ids) > KF_FW_DEVICE_MAX_IDS)
		return kf_error_set(err, KF_ERR_INVALID, "the device %s lists no instance IDs",
				    d->id);
	d->instance_ids = calloc(json_array_size(ids), sizeof(char *));
	d->guids = calloc(json_array_size(ids), sizeof(*d->guids));
	if (d->instance_ids == NULL || d->guids == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	json_array_foreach(ids, i, value)
	{
		const char *text = json_string_value(value);
		int r;

		if (text == NULL || *text == '\0')
			return kf_error_set(err, KF_ERR_INVALID,
					    "the device %s lists an empty instance ID", d->id);
		d->instance_ids[i] = strndup(text, 256);
		if (d->instance_ids[i] == NULL)
			return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		d->instance_id_count++;
		/* fwupd accepts a GUID in place of an instance ID and uses it as it is. */
		if (kf_fw_guid_is_valid(text)) {
			for (int c = 0; c < KF_FW_GUID_STRING_SIZE; c++)
				d->guids[i][c] = (char)tolower((unsigned char)text[c]);
		} else if ((r = kf_fw_guid_from_instance_id(text, d->guids[i], err)) != KF_OK)
			return r;
	}
	return KF_OK;
}

int kf_fw_device_open(const char *socket_path, const char *id, struct kf_fw_device **out,
		      struct kf_error *err)
{
	struct kf_fw_device *d = calloc(1, sizeof(*d));
	json_t *info = NULL;
	int r;

	*out = NULL;
	if (d == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	d->id = strdup(id);
	d->socket_path = strdup(socket_path);
	if (d->id == NULL || d->socket_path == NULL)
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	else if ((r = ask(socket_path, json_pack("{s:s}", "op", "info"), &info, err)) == KF_OK)
		r = fill(d, info, err);
	json_decref(info);
	if (r != KF_OK) {
		kf_fw_device_free(d);
		return r;
	}
	*out = d;
	return KF_OK;
}

int kf_fw_device_from_info(const char *text, size_t len, const char *id, struct kf_fw_device **out,
			   struct kf_error *err)
{
	struct kf_fw_device *d;
	json_t *info;
	int r;

	*out = NULL;
	if (len > REPLY_MAX)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "the device's answer is too long");
	info = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(info)) {
		json_decref(info);
		return kf_error_set(err, KF_ERR_INVALID, "the device's answer is not JSON");
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL || (d->id = strdup(id)) == NULL)
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	else
		r = fill(d, info, err);
	json_decref(info);
	if (r != KF_OK) {
		kf_fw_device_free(d);
		return r;
	}
	*out = d;
	return KF_OK;
}

void kf_fw_device_list_free(struct kf_fw_device **devices, size_t count)
{
	for (size_t i = 0; i < count; i++)
		kf_fw_device_free(devices[i]);
	free(devices);
}

int kf_fw_device_list(const char *dir, struct kf_fw_device ***out, size_t *count,
		      size_t *unreachable, struct kf_error *err)
{
	struct dirent **names;
	struct kf_fw_device **devices = calloc(KF_FW_DEVICE_MAX, sizeof(*devices));
	int n;

	*out = NULL;
	*count = 0;
	*unreachable = 0;
	if (devices == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		*out = devices;
		return KF_OK;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		char path[PATH_MAX], id[NAME_MAX + 1];

		if (name[0] != '.' && len > 5 && strcmp(name + len - 5, ".sock") == 0 &&
		    *count < KF_FW_DEVICE_MAX &&
		    snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path)) {
			snprintf(id, sizeof(id), "%.*s", (int)(len - 5), name);
			if (kf_fw_device_open(path, id, &devices[*count], NULL) == KF_OK)
				(*count)++;
			else
				(*unreachable)++;
		}
		free(names[i]);
	}
	free(names);
	*out = devices;
	return KF_OK;
}

bool kf_fw_device_matches(const struct kf_fw_device *device, const struct kf_fw_metainfo *metainfo)
{
	for (size_t i = 0; i < metainfo->guid_count; i++)
		for (size_t j = 0; j < device->instance_id_count; j++)
			if (strcmp(metainfo->guids[i], device->guids[j]) == 0)
				return true;
	return false;
}

int kf_fw_device_write(const struct kf_fw_device *device, const uint8_t *image, size_t size,
		       const char *sha256_hex, kf_fw_progress_fn progress, void *data,
		       struct kf_error *err)
{
	json_t *reply = NULL;
	size_t sent = 0;
	int fd, r = connect_device(device->socket_path, &fd, err);

	if (r != KF_OK)
		return r;
	r = send_request(fd,
			 json_pack("{s:s, s:I, s:s}", "op", "write", "size", (json_int_t)size,
				   "sha256", sha256_hex),
			 err);
	if (r == KF_OK)
		r = read_reply(fd, &reply, err);
	json_decref(reply);
	reply = NULL;
	while (r == KF_OK && sent < size) {
		size_t n = size - sent < CHUNK ? size - sent : CHUNK;
		r = send_all(fd, image + sent, n, err);
		sent += n;
		if (r == KF_OK && progress != NULL)
			progress(data, sent, size);
	}
	if (r == KF_OK) {
		set_timeout(fd, STORE_TIMEOUT);
		r = read_reply(fd, &reply, err);
	}
	json_decref(reply);
	close(fd);
	return r;
}

int kf_fw_device_read_back(const struct kf_fw_device *device, char sha256_hex[65], uint64_t *size,
			   struct kf_error *err)
{
	json_t *reply = NULL;
	const char *sha;
	int r = ask(device->socket_path, json_pack("{s:s}", "op", "checksum"), &reply, err);

	if (r != KF_OK)
		return r;
	sha = json_string_value(json_object_get(reply, "sha256"));
	if (sha == NULL || strlen(sha) != 64) {
		json_decref(reply);
		return kf_error_set(err, KF_ERR_INVALID, "the device gave no checksum");
	}
	for (int i = 0; i < 65; i++)
		sha256_hex[i] = (char)tolower((unsigned char)sha[i]);
	*size = (uint64_t)json_integer_value(json_object_get(reply, "size"));
	json_decref(reply);
	return KF_OK;
}

int kf_fw_device_restart(const struct kf_fw_device *device, struct kf_error *err)
{
	json_t *reply = NULL;
	int r = ask(device->socket_path, json_pack("{s:s}", "op", "restart"), &reply, err);

	json_decref(reply);
	return r;
}
