/* kefu test tool: an emulated firmware device (A/B slots, boot rule, power loss) speaking proto/firmware/DEVICE.md. SPDX-License-Identifier: MIT */
#include "proto/firmware/version.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

/*
 * The device's storage is two slot files, DIR/slot-a and DIR/slot-b. Each starts with
 * a header written only after the image behind it is complete, so a write cut at any
 * byte leaves that slot without a valid header or with an image whose hash does not
 * match. At power-on the device boots the valid slot with the highest sequence number.
 */
#define HEADER_SIZE   128
#define SLOT_MAGIC    "KFEMUSLT"
#define LINE_MAX_LEN  (64 * 1024)
#define CHUNK         (64 * 1024)
#define EXIT_POWER    75 /* the exit status of a power loss */
#define EXIT_STARTING 76 /* info while the appliance restarts */

struct slot_header {
	uint64_t seq, size;
	uint8_t sha256[32];
};

struct emu {
	const char *dir;
	json_t *descriptor;
	enum kf_fw_version_format format;
	uint64_t capacity;
	bool is_busy, reboots_with_host;
	long long power_loss_at; /* flash bytes this run may write; -1 for no limit */
	long long flash_written;
	int booted; /* 0 = slot a, 1 = slot b, -1 = nothing bootable */
	struct slot_header slots[2];
	bool slot_valid[2];
	int staged; /* the slot written last by this run, -1 if none */
	char version[64];
	char boot_id[33];
	/*
	 * As an SSH appliance (the info and update commands) each command is a new process,
	 * so the boot id lives in DIR/boot-id and a restart takes restart_seconds, during
	 * which DIR/starting-until makes info fail.
	 */
	bool is_appliance;
	int restart_seconds;
};

static void die(const char *message)
{
	fprintf(stderr, "fw-emu: %s\n", message);
	exit(1);
}

static void slot_path(const struct emu *emu, int slot, char *out, size_t size)
{
	snprintf(out, size, "%s/slot-%c", emu->dir, slot == 0 ? 'a' : 'b');
}

static void sha_hex(const uint8_t sha[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

/* The version an image carries: it starts with "0x" and up to 8 hex digits, as fwupd's fake
 * device's. */
static int image_version(const struct emu *emu, const uint8_t *image, size_t size, char *out,
			 size_t out_size)
{
	uint32_t value = 0;
	size_t i = 2;

	if (size < 3 || image[0] != '0' || image[1] != 'x')
		return -1;
	for (; i < size && i < 10; i++) {
		char c = (char)image[i];
		if (c >= '0' && c <= '9')
			value = value * 16 + (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			value = value * 16 + (uint32_t)(c - 'a' + 10);
		else
			break;
	}
	if (i == 2 || (i < size && image[i] != '\0' && image[i] != '\n'))
		return -1;
	return kf_fw_version_from_uint32(value, emu->format, out, out_size, NULL) == 0 ? 0 : -1;
}

/* Reads a slot's header and checks the image behind it; fills *header, returns true when it
 * verifies. */
static bool slot_verifies(const struct emu *emu, int slot, struct slot_header *header,
			  char *version, size_t version_size)
{
	char path[PATH_MAX];
	uint8_t raw[HEADER_SIZE], digest[32], *buf = NULL;
	int fd;
	bool ok = false;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t left, offset = HEADER_SIZE;
	uint8_t first[16] = {0};

	slot_path(emu, slot, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ctx == NULL)
		goto out;
	if (pread(fd, raw, HEADER_SIZE, 0) != HEADER_SIZE || memcmp(raw, SLOT_MAGIC, 8) != 0)
		goto out;
	memcpy(&header->seq, raw + 8, 8);
	memcpy(&header->size, raw + 16, 8);
	header->seq = le64toh(header->seq);
	header->size = le64toh(header->size);
	memcpy(header->sha256, raw + 24, 32);
	if (header->size == 0 || header->size > emu->capacity || (buf = malloc(CHUNK)) == NULL)
		goto out;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (left = header->size; left > 0;) {
		size_t want = left < CHUNK ? (size_t)left : CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)offset);
		if (n != (ssize_t)want)
			goto out;
		if (offset == HEADER_SIZE)
			memcpy(first, buf, want < sizeof(first) ? want : sizeof(first));
		EVP_DigestUpdate(ctx, buf, want);
		offset += want;
		left -= want;
	}
	EVP_DigestFinal_ex(ctx, digest, NULL);
	ok = memcmp(digest, header->sha256, 32) == 0 &&
	     image_version(emu, first,
			   header->size < sizeof(first) ? (size_t)header->size : sizeof(first),
			   version, version_size) == 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	EVP_MD_CTX_free(ctx);
	return ok;
}

static void write_state(const struct emu *emu, const char *name, const char *value)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", emu->dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", emu->dir, name);
	f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%s\n", value) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		die("cannot write the appliance's state");
}

static void unlink_state(const struct emu *emu, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", emu->dir, name);
	unlink(path);
}

static bool read_state(const struct emu *emu, const char *name, char *out, size_t size)
{
	char path[PATH_MAX];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", emu->dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	ok = fgets(out, (int)size, f) != NULL;
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	return ok && out[0] != '\0';
}

static bool read_boot_id(struct emu *emu)
{
	return read_state(emu, "boot-id", emu->boot_id, sizeof(emu->boot_id));
}

/* Power-on: boot the verified slot with the highest sequence number. */
static void boot(struct emu *emu)
{
	char versions[2][64] = {"", ""};
	uint8_t random[16];

	emu->booted = -1;
	for (int slot = 0; slot < 2; slot++) {
		emu->slot_valid[slot] = slot_verifies(emu, slot, &emu->slots[slot], versions[slot],
						      sizeof(versions[slot]));
		if (emu->slot_valid[slot] &&
		    (emu->booted < 0 || emu->slots[slot].seq > emu->slots[emu->booted].seq))
			emu->booted = slot;
	}
	snprintf(emu->version, sizeof(emu->version), "%s",
		 emu->booted >= 0 ? versions[emu->booted] : "");
	emu->staged = -1;
	if (emu->is_appliance && read_boot_id(emu))
		return;
	if (getrandom(random, sizeof(random), 0) != sizeof(random))
		die("no random numbers");
	for (int i = 0; i < 16; i++)
		snprintf(emu->boot_id + 2 * i, 3, "%02x", random[i]);
	if (emu->is_appliance)
		write_state(emu, "boot-id", emu->boot_id);
}

/* An appliance restarting: a new boot id, and info fails until it is up again. */
static void appliance_restart(struct emu *emu)
{
	char until[32];

	snprintf(until, sizeof(until), "%lld", (long long)time(NULL) + emu->restart_seconds);
	write_state(emu, "starting-until", until);
	unlink_state(emu, "boot-id");
}

/* Writes to the flash, or dies in the middle of it when the power-loss budget runs out. */
static void flash_write(struct emu *emu, int fd, const void *data, size_t len, off_t offset)
{
	if (emu->power_loss_at >= 0 && emu->flash_written + (long long)len > emu->power_loss_at) {
		size_t part = (size_t)(emu->power_loss_at - emu->flash_written);
		if (part > 0 && pwrite(fd, data, part, offset) != (ssize_t)part)
			die("cannot write the flash");
		if (emu->is_appliance)
			appliance_restart(emu); /* the power comes back and it starts again */
		_exit(EXIT_POWER);
	}
	if (pwrite(fd, data, len, offset) != (ssize_t)len)
		die("cannot write the flash");
	emu->flash_written += (long long)len;
}

static void load_descriptor(struct emu *emu)
{
	char path[PATH_MAX];
	json_error_t jerr;
	const char *format, *activation;

	snprintf(path, sizeof(path), "%s/device.json", emu->dir);
	emu->descriptor = json_load_file(path, 0, &jerr);
	if (emu->descriptor == NULL)
		die("no device.json (run fw-emu init first)");
	format = json_string_value(json_object_get(emu->descriptor, "version_format"));
	activation = json_string_value(json_object_get(emu->descriptor, "activation"));
	emu->format = kf_fw_version_format_from_string(format);
	emu->capacity = (uint64_t)json_integer_value(json_object_get(emu->descriptor, "capacity"));
	emu->reboots_with_host = activation != NULL && strcmp(activation, "host-reboot") == 0;
	if (emu->format == KF_FW_VERSION_UNKNOWN || emu->capacity == 0)
		die("device.json lacks version_format or capacity");
}

/* A connection: a line reader that can hand the bytes after the line to the image reader. */
struct conn {
	int fd;          /* requests and image bytes come from here */
	int out_fd;      /* replies go here */
	bool is_command; /* an appliance command: no "ready" reply, the image is a file */
	char buf[LINE_MAX_LEN + 1];
	size_t used;
};

static json_t *read_request(struct conn *c)
{
	for (;;) {
		char *newline = memchr(c->buf, '\n', c->used);
		ssize_t n;

		if (newline != NULL) {
			json_t *request;
			size_t line = (size_t)(newline - c->buf);
			*newline = '\0';
			request = json_loads(c->buf, 0, NULL);
			memmove(c->buf, newline + 1, c->used - line - 1);
			c->used -= line + 1;
			return request;
		}
		if (c->used == LINE_MAX_LEN)
			return NULL;
		n = read(c->fd, c->buf + c->used, LINE_MAX_LEN - c->used);
		if (n <= 0)
			return NULL;
		c->used += (size_t)n;
	}
}

static void reply(struct conn *c, json_t *answer)
{
	char *text = json_dumps(answer, JSON_COMPACT);
	size_t len;

	json_decref(answer);
	if (text == NULL)
		return;
	len = strlen(text);
	text[len] = '\n';
	if (write(c->out_fd, text, len + 1) < 0)
		fprintf(stderr, "fw-emu: the agent went away\n");
	free(text);
}

static void reply_error(struct conn *c, const char *sentence)
{
	reply(c, json_pack("{s:b, s:s}", "ok", 0, "error", sentence));
}

static void do_info(struct emu *emu, struct conn *c)
{
	json_t *answer = json_deep_copy(emu->descriptor);
	char sha[65];

	json_object_set_new(answer, "ok", json_true());
	json_object_set_new(answer, "version", json_string(emu->version));
	json_object_set_new(answer, "busy", json_boolean(emu->is_busy));
	json_object_set_new(answer, "boot_id", json_string(emu->boot_id));
	json_object_set_new(answer, "slot",
			    json_string(emu->booted == 0   ? "a"
					: emu->booted == 1 ? "b"
							   : "none"));
	if (emu->booted >= 0) {
		sha_hex(emu->slots[emu->booted].sha256, sha);
		json_object_set_new(answer, "image_sha256", json_string(sha));
	}
	reply(c, answer);
}

static void do_write(struct emu *emu, struct conn *c, json_t *request)
{
	json_int_t size = json_integer_value(json_object_get(request, "size"));
	const char *claimed = json_string_value(json_object_get(request, "sha256"));
	int slot = emu->booted == 0 ? 1 : 0, fd;
	char path[PATH_MAX], version[64], sha[65];
	uint8_t header[HEADER_SIZE] = {0}, first[16] = {0}, digest[32];
	uint64_t seq = 0, le;
	uint64_t received = 0;
	EVP_MD_CTX *ctx;

	if (emu->is_busy) {
		reply_error(c, "The device is busy.");
		return;
	}
	if (size <= 0 || (uint64_t)size > emu->capacity || claimed == NULL ||
	    strlen(claimed) != 64) {
		reply_error(c, "The image does not fit the device.");
		return;
	}
	slot_path(emu, slot, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ctx = EVP_MD_CTX_new();
	if (fd < 0 || ctx == NULL)
		die("cannot open a slot");
	if (!c->is_command)
		reply(c, json_pack("{s:b, s:b}", "ok", 1, "ready", 1));
	/* The old header goes first: from here on this slot does not boot until it is complete. */
	flash_write(emu, fd, header, HEADER_SIZE, 0);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while (received < (uint64_t)size) {
		uint8_t chunk[CHUNK];
		size_t want = (uint64_t)size - received < CHUNK
				      ? (size_t)((uint64_t)size - received)
				      : CHUNK;
		ssize_t n;

		if (c->used > 0) {
			n = (ssize_t)(c->used < want ? c->used : want);
			memcpy(chunk, c->buf, (size_t)n);
			memmove(c->buf, c->buf + n, c->used - (size_t)n);
			c->used -= (size_t)n;
		} else {
			n = read(c->fd, chunk, want);
			if (n <= 0)
				break;
		}
		if (received < sizeof(first))
			memcpy(first + received, chunk,
			       (size_t)n < sizeof(first) - received ? (size_t)n
								    : sizeof(first) - received);
		EVP_DigestUpdate(ctx, chunk, (size_t)n);
		flash_write(emu, fd, chunk, (size_t)n, (off_t)(HEADER_SIZE + received));
		received += (uint64_t)n;
	}
	EVP_DigestFinal_ex(ctx, digest, NULL);
	EVP_MD_CTX_free(ctx);
	sha_hex(digest, sha);
	if (received != (uint64_t)size) {
		close(fd);
		return; /* the agent went away; the slot stays invalid */
	}
	if (strcasecmp(sha, claimed) != 0) {
		close(fd);
		reply_error(c, "The image was damaged on its way to the device.");
		return;
	}
	if (image_version(emu, first, received < sizeof(first) ? received : sizeof(first), version,
			  sizeof(version)) < 0) {
		close(fd);
		reply_error(c, "The device does not accept this image.");
		return;
	}
	for (int i = 0; i < 2; i++)
		if (emu->slot_valid[i] && emu->slots[i].seq >= seq)
			seq = emu->slots[i].seq + 1;
	if (fsync(fd) != 0)
		die("cannot flush the flash");
	memcpy(header, SLOT_MAGIC, 8);
	le = htole64(seq);
	memcpy(header + 8, &le, 8);
	le = htole64((uint64_t)size);
	memcpy(header + 16, &le, 8);
	memcpy(header + 24, digest, 32);
	flash_write(emu, fd, header, HEADER_SIZE, 0);
	if (fsync(fd) != 0)
		die("cannot flush the flash");
	close(fd);
	emu->slot_valid[slot] =
		slot_verifies(emu, slot, &emu->slots[slot], version, sizeof(version));
	emu->staged = slot;
	reply(c, json_pack("{s:b}", "ok", 1));
}

static void do_checksum(struct emu *emu, struct conn *c)
{
	struct slot_header header;
	char version[64], sha[65];

	if (emu->staged < 0) {
		reply_error(c, "No image has been written since the device started.");
		return;
	}
	/* Read back from the flash, not from what this run remembers. */
	if (!slot_verifies(emu, emu->staged, &header, version, sizeof(version))) {
		reply_error(c, "The written image does not verify.");
		return;
	}
	sha_hex(header.sha256, sha);
	reply(c, json_pack("{s:b, s:s, s:I, s:s}", "ok", 1, "sha256", sha, "size",
			   (json_int_t)header.size, "version", version));
}

static _Noreturn void serve(struct emu *emu, const char *socket_path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct conn *c = calloc(1, sizeof(*c)); /* a device connection: not an appliance command */

	if (listener < 0 || c == NULL || strlen(socket_path) >= sizeof(addr.sun_path))
		die("cannot make the socket");
	strcpy(addr.sun_path, socket_path);
	unlink(socket_path);
	if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(listener, 4) != 0)
		die("cannot listen on the socket");
	boot(emu);
	fprintf(stderr, "fw-emu: running %s from slot %s\n", emu->version,
		emu->booted == 0   ? "a"
		: emu->booted == 1 ? "b"
				   : "none");
	for (;;) {
		json_t *request;
		const char *op;
		bool restart = false;

		c->fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		if (c->fd < 0)
			continue;
		c->out_fd = c->fd;
		c->used = 0;
		request = read_request(c);
		op = json_string_value(json_object_get(request, "op"));
		if (op == NULL)
			reply_error(c, "The device did not understand the request.");
		else if (strcmp(op, "info") == 0)
			do_info(emu, c);
		else if (strcmp(op, "write") == 0)
			do_write(emu, c, request);
		else if (strcmp(op, "checksum") == 0)
			do_checksum(emu, c);
		else if (strcmp(op, "restart") == 0 && emu->reboots_with_host)
			reply_error(c, "The new firmware starts when the computer restarts.");
		else if (strcmp(op, "restart") == 0) {
			reply(c, json_pack("{s:b}", "ok", 1));
			restart = true;
		} else
			reply_error(c, "The device did not understand the request.");
		json_decref(request);
		close(c->fd);
		if (restart) {
			boot(emu);
			fprintf(stderr, "fw-emu: restarted into %s\n", emu->version);
		}
	}
}

static int init(const char *dir, int argc, char **argv)
{
	static const struct option options[] = {
		{"version", required_argument, NULL, 'v'},
		{"format", required_argument, NULL, 'f'},
		{"instance-id", required_argument, NULL, 'i'},
		{"name", required_argument, NULL, 'n'},
		{"vendor", required_argument, NULL, 'V'},
		{"capacity", required_argument, NULL, 'c'},
		{"activation", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	json_t *ids = json_array(), *descriptor;
	const char *version = "0x1020002", *format = "triplet", *name = "Emulated device",
		   *vendor = "kefu", *activation = "restart";
	long long capacity = 1024 * 1024;
	char path[PATH_MAX];
	struct emu emu = {.dir = dir, .power_loss_at = -1};
	uint8_t *image;
	size_t len;
	int opt, fd;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'v')
			version = optarg;
		else if (opt == 'f')
			format = optarg;
		else if (opt == 'i')
			json_array_append_new(ids, json_string(optarg));
		else if (opt == 'n')
			name = optarg;
		else if (opt == 'V')
			vendor = optarg;
		else if (opt == 'c')
			capacity = atoll(optarg);
		else if (opt == 'a')
			activation = optarg;
		else
			die("init: unknown option");
	}
	if (json_array_size(ids) == 0)
		json_array_append_new(ids, json_string("b585990a-003e-5270-89d5-3705a17f9a43"));
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		die("cannot make the device folder");
	descriptor = json_pack("{s:s, s:s, s:o, s:s, s:I, s:s}", "name", name, "vendor", vendor,
			       "instance_ids", ids, "version_format", format, "capacity",
			       (json_int_t)capacity, "activation", activation);
	snprintf(path, sizeof(path), "%s/device.json", dir);
	if (descriptor == NULL || json_dump_file(descriptor, path, JSON_INDENT(2)) != 0)
		die("cannot write device.json");
	json_decref(descriptor);
	load_descriptor(&emu);
	/* The factory image in slot a: a header and the version text, as a flasher would leave it.
	 */
	len = strlen(version) + 1;
	image = calloc(1, HEADER_SIZE + len);
	if (image == NULL)
		die("out of memory");
	memcpy(image + HEADER_SIZE, version, len);
	{
		uint64_t le;
		memcpy(image, SLOT_MAGIC, 8);
		le = htole64(1);
		memcpy(image + 8, &le, 8);
		le = htole64(len);
		memcpy(image + 16, &le, 8);
		EVP_Digest(image + HEADER_SIZE, len, image + 24, NULL, EVP_sha256(), NULL);
	}
	for (int slot = 0; slot < 2; slot++) {
		slot_path(&emu, slot, path, sizeof(path));
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || (slot == 0 &&
			       write(fd, image, HEADER_SIZE + len) != (ssize_t)(HEADER_SIZE + len)))
			die("cannot write a slot");
		close(fd);
	}
	free(image);
	boot(&emu);
	if (emu.booted != 0)
		die("the version is not one this device format can carry");
	json_decref(emu.descriptor);
	return 0;
}

/* Writes an image of size bytes carrying version (0xHEX) for tests and benchmarks. */
static int make_image(const char *version, long long size, const char *out)
{
	FILE *f = fopen(out, "wb");
	size_t len = strlen(version) + 1;
	uint8_t block[4096];

	if (f == NULL || size < (long long)len)
		die("image: cannot write it (is the size too small?)");
	fwrite(version, 1, len, f);
	size -= (long long)len;
	for (long long i = 0; size > 0; i++) {
		size_t n = size < (long long)sizeof(block) ? (size_t)size : sizeof(block);
		for (size_t j = 0; j < n; j++)
			block[j] = (uint8_t)((i * 31 + (long long)j * 7) & 0xff);
		fwrite(block, 1, n, f);
		size -= (long long)n;
	}
	return fclose(f) == 0 ? 0 : 1;
}

/* kefu-fw-info of proto/firmware/DEVICE.md "Appliances over SSH": the info reply on stdout. */
static int appliance_info(struct emu *emu)
{
	struct conn c = {.fd = -1, .out_fd = STDOUT_FILENO, .is_command = true};
	char until[32];

	if (read_state(emu, "starting-until", until, sizeof(until))) {
		if (time(NULL) < atoll(until)) {
			fprintf(stderr, "fw-emu: the device is starting\n");
			return EXIT_STARTING;
		}
		unlink_state(emu, "starting-until");
	}
	boot(emu);
	do_info(emu, &c);
	return 0;
}

/* kefu-fw-update PATH SHA256: writes the image beside the running one, then restarts. */
static int appliance_update(struct emu *emu, const char *path, const char *sha256)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct stat st;
	json_t *request;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (c == NULL || fd < 0 || fstat(fd, &st) != 0) {
		printf("{\"ok\": false, \"error\": \"The image was not uploaded.\"}\n");
		return 1;
	}
	boot(emu);
	*c = (struct conn){.fd = fd, .out_fd = STDOUT_FILENO, .is_command = true};
	request = json_pack("{s:I, s:s}", "size", (json_int_t)st.st_size, "sha256", sha256);
	fflush(stdout);
	do_write(emu, c, request);
	json_decref(request);
	close(fd);
	if (emu->staged < 0) {
		free(c);
		return 1; /* do_write said why */
	}
	free(c);
	appliance_restart(emu);
	return 0;
}

static const char usage[] =
	"usage: fw-emu init DIR [--version 0xHEX] [--format F] [--instance-id ID]... [--name N]\n"
	"                       [--vendor V] [--capacity BYTES] [--activation "
	"restart|host-reboot]\n"
	"       fw-emu serve DIR --socket PATH [--power-loss-at BYTES] [--busy]\n"
	"       fw-emu boot DIR\n"
	"       fw-emu info DIR                        (an SSH appliance's kefu-fw-info)\n"
	"       fw-emu update DIR FILE SHA256 [--power-loss-at BYTES] [--restart-seconds S]\n"
	"       fw-emu image 0xHEX SIZE FILE\n";

int main(int argc, char **argv)
{
	static const struct option serve_options[] = {
		{"socket", required_argument, NULL, 's'},
		{"power-loss-at", required_argument, NULL, 'p'},
		{"busy", no_argument, NULL, 'b'},
		{NULL, 0, NULL, 0},
	};
	struct emu emu = {.power_loss_at = -1, .booted = -1, .staged = -1};
	const char *socket_path = NULL;
	int opt;

	if (argc >= 5 && strcmp(argv[1], "image") == 0)
		return make_image(argv[2], atoll(argv[3]), argv[4]);
	if (argc < 3) {
		fputs(usage, stderr);
		return 2;
	}
	emu.dir = argv[2];
	if (strcmp(argv[1], "init") == 0)
		return init(argv[2], argc - 2, argv + 2);
	load_descriptor(&emu);
	if (strcmp(argv[1], "boot") == 0) {
		char sha[65] = "";
		boot(&emu);
		if (emu.booted >= 0)
			sha_hex(emu.slots[emu.booted].sha256, sha);
		printf("{\"slot\": \"%s\", \"version\": \"%s\", \"verified\": %s, \"sha256\": "
		       "\"%s\"}\n",
		       emu.booted == 0   ? "a"
		       : emu.booted == 1 ? "b"
					 : "none",
		       emu.version, emu.booted >= 0 ? "true" : "false", sha);
		json_decref(emu.descriptor);
		return emu.booted >= 0 ? 0 : 1;
	}
	if (strcmp(argv[1], "info") == 0) {
		int code;

		emu.is_appliance = true;
		code = appliance_info(&emu);
		json_decref(emu.descriptor);
		return code;
	}
	if (strcmp(argv[1], "update") == 0 && argc >= 5) {
		static const struct option update_options[] = {
			{"power-loss-at", required_argument, NULL, 'p'},
			{"restart-seconds", required_argument, NULL, 'r'},
			{NULL, 0, NULL, 0},
		};
		emu.is_appliance = true;
		emu.restart_seconds = 2;
		signal(SIGPIPE, SIG_IGN);
		optind = 1;
		while ((opt = getopt_long(argc - 4, argv + 4, "", update_options, NULL)) != -1) {
			if (opt == 'p')
				emu.power_loss_at = atoll(optarg);
			else if (opt == 'r')
				emu.restart_seconds = atoi(optarg);
			else {
				fputs(usage, stderr);
				return 2;
			}
		}
		return appliance_update(&emu, argv[3], argv[4]);
	}
	if (strcmp(argv[1], "serve") != 0) {
		fputs(usage, stderr);
		return 2;
	}
	optind = 1;
	while ((opt = getopt_long(argc - 2, argv + 2, "", serve_options, NULL)) != -1) {
		if (opt == 's')
			socket_path = optarg;
		else if (opt == 'p')
			emu.power_loss_at = atoll(optarg);
		else if (opt == 'b')
			emu.is_busy = true;
		else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (socket_path == NULL) {
		fputs(usage, stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	serve(&emu, socket_path);
}
