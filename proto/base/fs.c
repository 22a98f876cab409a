/* kefu: small file-system helpers shared by the programs. SPDX-License-Identifier: MIT */
#include "proto/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kf_fs_make_parents(const char *path)
{
	char copy[PATH_MAX];

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *slash = strchr(copy + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST)
			return -1;
		*slash = '/';
	}
	return 0;
}

int kf_fs_create(const char *path, unsigned mode, struct kf_fs_file *file)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	file->temp[0] = '\0';
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path),
			  path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	file->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode & 07777);
	if (file->fd >= 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -1;
	if (snprintf(file->temp, sizeof(file->temp), "%s.tmp-XXXXXX", path) >=
	    (int)sizeof(file->temp)) {
		file->temp[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	file->fd = mkostemp(file->temp, O_CLOEXEC);
	if (file->fd < 0 || fchmod(file->fd, mode & 07777) < 0) {
		int saved = errno;

		kf_fs_discard(file);
		errno = saved;
		return -1;
	}
	return 0;
}

/* Names the unnamed file fd as path; never replaces. */
static int link_unnamed(int fd, const char *path)
{
	char self[64];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	/* No /proc: AT_EMPTY_PATH, which needs privilege. */
	return linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH);
}

int kf_fs_publish(struct kf_fs_file *file, const char *path, int is_replace)
{
	char name[PATH_MAX];
	int r = -1, saved;

	if (fsync(file->fd) < 0)
		goto out;
	if (file->temp[0] != '\0') {
		r = is_replace ? rename(file->temp, path) : link(file->temp, path);
		if (r == 0 && is_replace)
			file->temp[0] = '\0';
		goto out;
	}
	if (!is_replace) {
		r = link_unnamed(file->fd, path);
		goto out;
	}
	/* A name of its own for the moment of one rename over path. */
	for (int attempt = 0; attempt < 16; attempt++) {
		if (snprintf(name, sizeof(name), "%s.tmp-%ld-%d", path, (long)getpid(),
			     rand() & 0xffff) >= (int)sizeof(name)) {
			errno = ENAMETOOLONG;
			goto out;
		}
		if ((r = link_unnamed(file->fd, name)) == 0 || errno != EEXIST)
			break;
	}
	if (r == 0 && (r = rename(name, path)) < 0) {
		saved = errno;
		unlink(name);
		errno = saved;
	}
out:
	saved = errno;
	kf_fs_discard(file);
	errno = saved;
	return r;
}

void kf_fs_discard(struct kf_fs_file *file)
{
	if (file->fd >= 0)
		close(file->fd);
	file->fd = -1;
	if (file->temp[0] != '\0')
		unlink(file->temp);
	file->temp[0] = '\0';
}
