/* kefu: signed packages: writing files, installing a package atomically into a folder and
 * checking an installed folder against its kept list. SPDX-License-Identifier: MIT */
#include "proto/base/fs.h"
#include "proto/package/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INSTALLED_MANIFEST  ".kefu-package.json"
#define INSTALLED_SIGNATURE ".kefu-package.sig"

/* Reading and writing files. */

int kf_package_read_file(const char *path, size_t max, uint8_t **data, size_t *len,
			 struct kf_error *err)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kf_error_set(err, errno == ENOENT ? KF_ERR_NOT_FOUND : KF_ERR_IO, "%s: %s",
				    path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return kf_error_set(err, KF_ERR_INVALID, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return kf_error_set(err, KF_ERR_TOO_LARGE, "%s: larger than %zu bytes", path, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return kf_error_set(err, KF_ERR_IO, "%s: short read", path);
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return KF_OK;
}

int kf_package_write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int kf_package_save(const char *path, const uint8_t *data, size_t len, struct kf_error *err)
{
	struct kf_fs_file file;

	/* Unnamed until whole: a writer killed half-way leaves nothing beside path. */
	if (kf_fs_create(path, 0644, &file) < 0)
		return kf_error_set(err, KF_ERR_IO, "%s: %s", path, strerror(errno));
	if (kf_package_write_all(file.fd, data, len) < 0 || kf_fs_publish(&file, path, 1) < 0) {
		int saved = errno;

		kf_fs_discard(&file);
		return kf_error_set(err, KF_ERR_IO, "%s: %s", path, strerror(saved));
	}
	return KF_OK;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Creates the folders above rel inside the folder fd (0755 each). */
static int make_folders(int dirfd, const char *rel)
{
	char copy[KF_PACKAGE_PATH_MAX + 1];
	char *slash;

	snprintf(copy, sizeof(copy), "%s", rel);
	for (slash = strchr(copy, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdirat(dirfd, copy, 0755) < 0 && errno != EEXIST)
			return -1;
		*slash = '/';
	}
	return 0;
}

static int write_file_at(int dirfd, const char *rel, const uint8_t *data, size_t len, int mode)
{
	int fd;

	if (make_folders(dirfd, rel) < 0)
		return -1;
	fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (kf_package_write_all(fd, data, len) < 0 || fchmod(fd, (mode_t)mode) < 0 ||
	    fsync(fd) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Installing. */

#define STAGING_MARK    ".new-" /* a staging folder is ".<name>.new-XXXXXX" */
#define LOCK_WAIT_STEPS 600     /* 50 ms each: half a minute for another install to finish */

/* Whether name is one of the staging folders kf_package_install makes. */
static bool is_staging_name(const char *name)
{
	size_t len = strlen(name), tail = strlen(STAGING_MARK) + 6;

	return name[0] == '.' && len > tail + 1 &&
	       strncmp(name + len - tail, STAGING_MARK, strlen(STAGING_MARK)) == 0;
}

/*
 * Every install into a folder holds the folder's lock while its staging folder exists,
 * so one found while holding the lock belongs to an install that died (killed, power
 * lost): its half-written files are removed rather than left hidden beside the plugins.
 */
static void sweep_leftovers(const char *parent, int parentfd)
{
	int fd = dup(parentfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *entry;

	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((entry = readdir(dir)) != NULL) {
		char path[PATH_MAX];
		struct stat st;

		if (!is_staging_name(entry->d_name) ||
		    fstatat(parentfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) ||
		    snprintf(path, sizeof(path), "%s/%s", parent, entry->d_name) >=
			    (int)sizeof(path))
			continue;
		remove_tree(path);
	}
	closedir(dir);
}

/* Takes the folder's install lock, waiting a bounded time for another install. */
static int lock_folder(int parentfd)
{
	const struct timespec step = {0, 50 * 1000 * 1000};

	for (int i = 0; i < LOCK_WAIT_STEPS; i++) {
		if (flock(parentfd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		nanosleep(&step, NULL);
	}
	errno = EWOULDBLOCK;
	return -1;
}

int kf_package_install(const struct kf_package *pkg, const char *dest, struct kf_error *err)
{
	char parent[PATH_MAX], tmp[PATH_MAX];
	const char *base = strrchr(dest, '/');
	struct stat st;
	size_t i;
	int dirfd = -1, parentfd = -1, saved;

	if (base == NULL || base[1] == '\0' || (size_t)(base - dest) >= sizeof(parent))
		return kf_error_set(err, KF_ERR_INVALID, "%s: not a folder path", dest);
	snprintf(parent, sizeof(parent), "%.*s", (int)(base - dest), dest);
	if (parent[0] == '\0')
		snprintf(parent, sizeof(parent), "/");
	if (snprintf(tmp, sizeof(tmp), "%s/.%s" STAGING_MARK "XXXXXX", parent, base + 1) >=
	    (int)sizeof(tmp))
		return kf_error_set(err, KF_ERR_INVALID, "%s: path too long", dest);
	parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parentfd < 0)
		return kf_error_set(err, KF_ERR_IO, "%s: %s", parent, strerror(errno));
	if (lock_folder(parentfd) < 0) {
		saved = errno;
		close(parentfd);
		return kf_error_set(err, KF_ERR_IO, "cannot install into %s: %s", dest,
				    saved == EWOULDBLOCK ? "another install there is still running"
							 : strerror(saved));
	}
	sweep_leftovers(parent, parentfd);
	if (mkdtemp(tmp) == NULL) {
		saved = errno;
		close(parentfd);
		return kf_error_set(err, KF_ERR_IO, "%s: %s", parent, strerror(saved));
	}
	dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		goto fail;
	for (i = 0; i < pkg->n_files; i++)
		if (write_file_at(dirfd, pkg->files[i].path, pkg->files[i].data, pkg->files[i].size,
				  pkg->files[i].executable ? 0755 : 0644) < 0)
			goto fail;
	if (write_file_at(dirfd, INSTALLED_MANIFEST, pkg->manifest, pkg->manifest_len, 0644) < 0 ||
	    (pkg->signature != NULL && write_file_at(dirfd, INSTALLED_SIGNATURE, pkg->signature,
						     pkg->signature_len, 0644) < 0) ||
	    fchmod(dirfd, 0755) < 0 || fsync(dirfd) < 0)
		goto fail;
	close(dirfd);
	dirfd = -1;
	if (lstat(dest, &st) == 0) {
		/* Swap old and new in one step, then remove the old files from their new place. */
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			goto fail;
		}
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_EXCHANGE) < 0)
			goto fail;
	} else if (rename(tmp, dest) < 0) {
		goto fail;
	}
	fsync(parentfd);
	remove_tree(tmp);
	close(parentfd); /* and with it the lock */
	return KF_OK;
fail:
	saved = errno;
	if (dirfd >= 0)
		close(dirfd);
	remove_tree(tmp);
	close(parentfd);
	return kf_error_set(err, KF_ERR_IO, "cannot install into %s: %s", dest, strerror(saved));
}

/* Installed folders. */

/*
 * Reads one installed file once, never through a final link, and checks it
 * against the list; with keep its bytes stay in f->data.
 */
static int read_installed_file(const char *dir, struct kf_package_file *f, bool keep,
			       enum kf_package_reason *reason, struct kf_error *err)
{
	char path[PATH_MAX];
	uint8_t *data = NULL, digest[32];
	size_t got = 0;
	struct stat st;
	int fd, r = KF_OK;

	if (snprintf(path, sizeof(path), "%s/%s", dir, f->path) >= (int)sizeof(path))
		return kf_package_refuse(err, reason, KF_PACKAGE_MISSING_FILE, KF_ERR_INVALID,
					 "%.128s: path too long", f->path);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (data = malloc(f->size + 1)) == NULL) {
		if (fd >= 0)
			close(fd);
		return kf_package_refuse(err, reason, KF_PACKAGE_MISSING_FILE, KF_ERR_INVALID,
					 "%.128s is missing or was changed", f->path);
	}
	/* One byte more than listed: a file that grew is noticed without reading it all. */
	while (got <= f->size) {
		ssize_t n = read(fd, data + got, f->size + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != f->size || EVP_Digest(data, got, digest, NULL, EVP_sha256(), NULL) != 1 ||
	    CRYPTO_memcmp(digest, f->sha256, 32) != 0)
		r = kf_package_refuse(err, reason, KF_PACKAGE_HASH_MISMATCH, KF_ERR_INVALID,
				      "%.128s was changed after installation", f->path);
	if (r == KF_OK && keep)
		f->data = data;
	else
		free(data);
	return r;
}

static int open_installed(const char *dir, const char *kind,
			  const struct kf_package_publisher *trusted, size_t n_trusted,
			  bool require_signature, const struct kf_package_limits *limits,
			  bool keep_data, struct kf_package **out, enum kf_package_reason *reason,
			  struct kf_error *err)
{
	struct kf_package *pkg = calloc(1, sizeof(*pkg));
	char path[PATH_MAX];
	size_t i;
	int r;

	if (out != NULL)
		*out = NULL;
	if (reason != NULL)
		*reason = KF_PACKAGE_OK;
	if (pkg == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/%s", dir, INSTALLED_MANIFEST);
	if ((r = kf_package_read_file(path, KF_PACKAGE_MANIFEST_MAX, &pkg->manifest,
				      &pkg->manifest_len, err)) != KF_OK) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_NOT_A_PACKAGE, KF_ERR_INVALID,
				      "%s: not an installed package (no readable %s)", dir,
				      INSTALLED_MANIFEST);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, INSTALLED_SIGNATURE);
	if (require_signature &&
	    kf_package_read_file(path, KF_PACKAGE_SIGNATURE_MAX, &pkg->signature,
				 &pkg->signature_len, err) != KF_OK) {
		r = kf_package_refuse(err, reason, KF_PACKAGE_UNSIGNED, KF_ERR_AUTH,
				      "%s: no readable signature (%s) was kept at installation",
				      dir, INSTALLED_SIGNATURE);
		goto out;
	}
	/* The same order as for an archive: the signature decides before the list is parsed. */
	if ((r = kf_package_accept_manifest(pkg, kind, trusted, n_trusted, require_signature,
					    limits, reason, err)) != KF_OK)
		goto out;
	for (i = 0; i < pkg->n_files && r == KF_OK; i++)
		r = read_installed_file(dir, &pkg->files[i], keep_data, reason, err);
out:
	if (r == KF_OK && out != NULL)
		*out = pkg;
	else
		kf_package_free(pkg);
	return r;
}

int kf_package_open_installed(const char *dir, const char *kind,
			      const struct kf_package_publisher *trusted, size_t n_trusted,
			      const struct kf_package_limits *limits, bool keep_data,
			      struct kf_package **out, enum kf_package_reason *reason,
			      struct kf_error *err)
{
	return open_installed(dir, kind, trusted, n_trusted, true, limits, keep_data, out, reason,
			      err);
}

int kf_package_read_installed_list(const char *dir, const struct kf_package_limits *limits,
				   struct kf_package **out, struct kf_error *err)
{
	struct kf_package *pkg = calloc(1, sizeof(*pkg));
	char path[PATH_MAX];
	int r;

	*out = NULL;
	if (pkg == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/%s", dir, INSTALLED_MANIFEST);
	if ((r = kf_package_read_file(path, KF_PACKAGE_MANIFEST_MAX, &pkg->manifest,
				      &pkg->manifest_len, err)) == KF_OK &&
	    (r = kf_package_parse_manifest(pkg->manifest, pkg->manifest_len, NULL, limits, pkg,
					   NULL, err)) == KF_OK)
		*out = pkg;
	else
		kf_package_free(pkg);
	return r;
}

int kf_package_version_compare(const char *a, const char *b)
{
	int order = strverscmp(a, b);

	return order < 0 ? -1 : order > 0;
}

int kf_package_check_installed(const char *dir, const struct kf_package_limits *limits,
			       struct kf_package **installed, struct kf_error *err)
{
	return open_installed(dir, NULL, NULL, 0, false, limits, false, installed, NULL, err);
}
