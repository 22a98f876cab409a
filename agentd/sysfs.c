/* kefu-agentd: reading sysfs and procfs under a root prefix. SPDX-License-Identifier: MIT */
#include "agentd/sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kf_sysfs_path(const char *root, const char *path, char *out, size_t cap)
{
	int n;

	if (strcmp(root, "/") == 0)
		root = "";
	n = snprintf(out, cap, "%s%s%s", root, path[0] == '/' ? "" : "/", path);
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			out[0] = '\0';
		return KF_ERR_TOO_LARGE;
	}
	return KF_OK;
}

static int errno_code(int error)
{
	switch (error) {
	case ENOENT:
	case ENOTDIR:
		return KF_ERR_NOT_FOUND;
	case EACCES:
	case EPERM:
		return KF_ERR_DENIED;
	default:
		return KF_ERR_IO;
	}
}

int kf_sysfs_read_file(const char *root, const char *path, size_t cap, struct kf_buf *out,
		       bool *is_truncated, struct kf_error *err)
{
	char full[PATH_MAX];
	struct stat st;
	size_t start = out->len;
	int fd, r;

	if (is_truncated != NULL)
		*is_truncated = false;
	if (kf_sysfs_path(root, path, full, sizeof(full)) != KF_OK)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "path too long: %s", path);
	fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int saved = errno;
		return kf_error_set(err, errno_code(saved), "cannot read %s: %s", path,
				    strerror(saved));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return kf_error_set(err, KF_ERR_UNSUPPORTED, "not a regular file: %s", path);
	}
	for (;;) {
		ssize_t got;
		size_t room = cap - (out->len - start);

		if (room == 0) {
			char probe;
			/* One byte more tells a file that fits exactly from one that was cut. */
			got = read(fd, &probe, 1);
			if (got > 0 && is_truncated != NULL)
				*is_truncated = true;
			break;
		}
		if (room > 65536)
			room = 65536;
		if ((r = kf_buf_reserve(out, room)) != KF_OK) {
			close(fd);
			return kf_error_set(err, r, "out of memory reading %s", path);
		}
		got = read(fd, out->data + out->len, room);
		if (got < 0) {
			int saved = errno;
			if (saved == EINTR)
				continue;
			close(fd);
			/* Some sysfs attributes exist but refuse to be read (EIO, ENODEV...). */
			return kf_error_set(err, errno_code(saved), "cannot read %s: %s", path,
					    strerror(saved));
		}
		if (got == 0)
			break;
		out->len += (size_t)got;
	}
	close(fd);
	return KF_OK;
}

int kf_sysfs_read_tail(const char *root, const char *path, size_t cap, struct kf_buf *out,
		       bool *is_truncated, struct kf_error *err)
{
	char full[PATH_MAX];
	struct stat st;
	size_t start = out->len;
	off_t skip;
	int r;

	if (kf_sysfs_path(root, path, full, sizeof(full)) == KF_OK && stat(full, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size > (off_t)cap) {
		int fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		ssize_t got = 0;

		if (fd < 0)
			return kf_sysfs_read_file(root, path, cap, out, is_truncated, err);
		skip = st.st_size - (off_t)cap;
		if ((r = kf_buf_reserve(out, cap)) != KF_OK) {
			close(fd);
			return kf_error_set(err, r, "out of memory reading %s", path);
		}
		while ((size_t)got < cap) {
			ssize_t n = pread(fd, out->data + out->len + got, cap - (size_t)got,
					  skip + got);
			if (n <= 0)
				break;
			got += n;
		}
		close(fd);
		out->len += (size_t)got;
		/* Drop the partial first line. */
		if (got > 0) {
			uint8_t *nl = memchr(out->data + start, '\n', (size_t)got);
			if (nl != NULL) {
				size_t cut = (size_t)(nl - (out->data + start)) + 1;
				memmove(out->data + start, out->data + start + cut,
					out->len - start - cut);
				out->len -= cut;
			}
		}
		if (is_truncated != NULL)
			*is_truncated = true;
		return KF_OK;
	}
	return kf_sysfs_read_file(root, path, cap, out, is_truncated, err);
}

static bool is_continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t kf_text_sanitize(char *text, size_t len)
{
	kf_text_sanitize_count(text, len);
	return len;
}

size_t kf_text_sanitize_count(char *text, size_t len)
{
	size_t i = 0, replaced = 0;

	while (i < len) {
		unsigned char c = (unsigned char)text[i];
		size_t need, k;
		unsigned long cp;

		if (c < 0x80) {
			if (c == '\0' || (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
				text[i] = '?';
				replaced++;
			}
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			text[i++] = '?';
			replaced++;
			continue;
		}
		if (i + need >= len) {
			/* The sequence runs past the end. */
			text[i++] = '?';
			replaced++;
			continue;
		}
		for (k = 1; k <= need; k++) {
			if (!is_continuation((unsigned char)text[i + k]))
				break;
			cp = (cp << 6) | ((unsigned char)text[i + k] & 0x3f);
		}
		if (k <= need || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			text[i++] = '?';
			replaced++;
			continue;
		}
		i += need + 1;
	}
	return replaced;
}

int kf_sysfs_read_attr(const char *root, const char *path, char *out, size_t cap)
{
	return kf_sysfs_read_attr_checked(root, path, out, cap, NULL);
}

int kf_sysfs_read_attr_checked(const char *root, const char *path, char *out, size_t cap,
			       unsigned *changes)
{
	struct kf_buf buf = {0};
	bool is_truncated = false;
	size_t len;
	int r;

	out[0] = '\0';
	if (changes != NULL)
		*changes = 0;
	r = kf_sysfs_read_file(root, path, cap - 1, &buf, &is_truncated, NULL);
	if (r != KF_OK) {
		kf_buf_free(&buf);
		return r;
	}
	len = buf.len;
	/* An attribute is one value: stop at the first newline, drop trailing blanks. */
	if (len > 0) {
		char *nl = memchr(buf.data, '\n', len);
		if (nl != NULL)
			len = (size_t)(nl - (char *)buf.data);
	}
	while (len > 0 && (buf.data[len - 1] == ' ' || buf.data[len - 1] == '\t' ||
			   buf.data[len - 1] == '\0' || buf.data[len - 1] == '\r'))
		len--;
	if (len > 0)
		memcpy(out, buf.data, len);
	out[len] = '\0';
	if (kf_text_sanitize_count(out, len) > 0 && changes != NULL)
		*changes |= KF_SYSFS_REPLACED;
	/* Only the first line is the value: a cut after it changed nothing. */
	if (is_truncated && memchr(buf.data, '\n', buf.len) == NULL && changes != NULL)
		*changes |= KF_SYSFS_CUT;
	kf_buf_free(&buf);
	return KF_OK;
}

int kf_sysfs_attr(const char *root, const char *dir, const char *name, char *out, size_t cap)
{
	return kf_sysfs_attr_checked(root, dir, name, out, cap, NULL);
}

int kf_sysfs_attr_checked(const char *root, const char *dir, const char *name, char *out,
			  size_t cap, unsigned *changes)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (changes != NULL)
		*changes = 0;
	if (n < 0 || (size_t)n >= sizeof(path)) {
		out[0] = '\0';
		return KF_ERR_TOO_LARGE;
	}
	return kf_sysfs_read_attr_checked(root, path, out, cap, changes);
}

int kf_sysfs_attr_hex(const char *root, const char *dir, const char *name, unsigned long *value)
{
	char text[64], *end;
	int r;

	if ((r = kf_sysfs_attr(root, dir, name, text, sizeof(text))) != KF_OK)
		return r;
	if (text[0] == '\0')
		return KF_ERR_INVALID;
	errno = 0;
	*value = strtoul(text, &end, 16);
	if (errno != 0 || end == text || *end != '\0')
		return KF_ERR_INVALID;
	return KF_OK;
}

static int read_link(const char *root, const char *dir, const char *name, char *target, size_t cap)
{
	char path[PATH_MAX], full[PATH_MAX];
	ssize_t n;
	int w = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (w < 0 || (size_t)w >= sizeof(path))
		return KF_ERR_TOO_LARGE;
	if (kf_sysfs_path(root, path, full, sizeof(full)) != KF_OK)
		return KF_ERR_TOO_LARGE;
	n = readlink(full, target, cap - 1);
	if (n < 0)
		return errno_code(errno);
	target[n] = '\0';
	return KF_OK;
}

int kf_sysfs_link_name(const char *root, const char *dir, const char *name, char *out, size_t cap)
{
	char target[PATH_MAX], full[PATH_MAX], resolved[PATH_MAX];
	struct stat st;
	const char *base;
	size_t len;
	int r;

	out[0] = '\0';
	if ((r = read_link(root, dir, name, target, sizeof(target))) != KF_OK)
		return r;
	len = strlen(target);
	while (len > 1 && target[len - 1] == '/')
		target[--len] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= cap || base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0)
		return KF_ERR_INVALID;
	/* "driver -> driver" would otherwise name a driver "driver". */
	snprintf(full, sizeof(full), "%s/%s", dir, name);
	if (kf_sysfs_path(root, full, resolved, sizeof(resolved)) == KF_OK &&
	    stat(resolved, &st) != 0 && errno == ELOOP)
		return KF_ERR_INVALID;
	memcpy(out, base, strlen(base) + 1);
	kf_text_sanitize(out, strlen(out));
	return KF_OK;
}

void kf_sysfs_normalize(char *path)
{
	char *out = path, *in = path;

	/* Component by component: skip ".", pop on "..", collapse slashes. */
	while (*in != '\0') {
		char *end;
		size_t len;

		while (*in == '/')
			in++;
		if (*in == '\0')
			break;
		end = strchr(in, '/');
		len = end ? (size_t)(end - in) : strlen(in);
		if (len == 1 && in[0] == '.') {
			/* nothing */
		} else if (len == 2 && in[0] == '.' && in[1] == '.') {
			while (out > path && *(out - 1) != '/')
				out--;
			if (out > path)
				out--;
		} else {
			*out++ = '/';
			memmove(out, in, len);
			out += len;
		}
		in += len;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

int kf_sysfs_link_path(const char *root, const char *dir, const char *name, char *out, size_t cap)
{
	char target[PATH_MAX];
	int r, n;

	out[0] = '\0';
	if ((r = read_link(root, dir, name, target, sizeof(target))) != KF_OK)
		return r;
	if (target[0] == '/')
		n = snprintf(out, cap, "%s", target);
	else
		n = snprintf(out, cap, "%s/%s", dir, target);
	if (n < 0 || (size_t)n >= cap) {
		out[0] = '\0';
		return KF_ERR_TOO_LARGE;
	}
	kf_sysfs_normalize(out);
	kf_text_sanitize(out, strlen(out));
	return KF_OK;
}

bool kf_sysfs_exists(const char *root, const char *path)
{
	char full[PATH_MAX];
	struct stat st;

	if (kf_sysfs_path(root, path, full, sizeof(full)) != KF_OK)
		return false;
	return lstat(full, &st) == 0;
}

int kf_uevent_parse(const char *text, size_t len, kf_uevent_fn fn, void *data)
{
	const char *p = text, *end = text + len;
	int count = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		const char *eq = memchr(p, '=', (size_t)(line_end - p));

		if (eq != NULL && eq > p && (size_t)(eq - p) < 64) {
			char key[64], value[KF_ATTR_SIZE];
			size_t key_len = (size_t)(eq - p);
			size_t value_len = (size_t)(line_end - eq - 1);

			if (value_len >= sizeof(value))
				value_len = sizeof(value) - 1;
			memcpy(key, p, key_len);
			key[key_len] = '\0';
			memcpy(value, eq + 1, value_len);
			value[value_len] = '\0';
			kf_text_sanitize(key, key_len);
			kf_text_sanitize(value, value_len);
			fn(key, value, data);
			count++;
		}
		p = line_end + 1;
	}
	return count;
}
