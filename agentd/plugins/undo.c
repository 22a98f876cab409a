/* kefu-agentd: what a repair changed, kept so that `scan --undo` can put it back.
 * SPDX-License-Identifier: MIT */
#include "agentd/plugins/undo.h"
#include "agentd/audit.h"
#include "agentd/commands.h"
#include "proto/base/cli.h"
#include "proto/base/escape.h"
#include "proto/base/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define UNDO_DEPTH_MAX 64

struct undo_entry {
	char *path; /* inside the root, starting with '/' */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	off_t size;
	ino_t ino;
	struct timespec mtime;
	char sha256[65]; /* regular files up to KF_UNDO_HASH_FILE_MAX, else "" */
	char *target;    /* a link's target */
	unsigned char *content;
	size_t content_len;
	bool is_kept;
};

struct kf_undo_snapshot {
	struct undo_entry *entries;
	size_t n, size;
	size_t kept_total;
	bool is_truncated;
	const struct kf_plugin_privileges *privileges; /* the step's; outlive this */
	size_t hashed_total;
};

static void entry_free(struct undo_entry *e)
{
	free(e->path);
	free(e->target);
	free(e->content);
}

void kf_undo_snapshot_free(struct kf_undo_snapshot *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_free(&s->entries[i]);
	free(s->entries);
	free(s);
}

static void hex(const unsigned char *md, unsigned len, char *out)
{
	for (unsigned i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Reads a regular file once: its hash, and its bytes when small enough to keep. */
static void read_regular(const char *full, struct undo_entry *e, bool may_keep)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;
	/* Reading must not make a file look used (tmp cleaning goes by access time). */
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOATIME);
	EVP_MD_CTX *ctx;
	bool keep = may_keep && (size_t)e->size <= KF_UNDO_KEEP_FILE_MAX;
	size_t used = 0;
	ssize_t n;

	if (fd < 0 && errno == EPERM) /* O_NOATIME needs the owner or CAP_FOWNER */
		fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || (size_t)e->size > KF_UNDO_HASH_FILE_MAX) {
		if (fd >= 0)
			close(fd);
		return;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		close(fd);
		return;
	}
	if (keep)
		e->content = malloc((size_t)e->size + 1);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		if (e->content != NULL && used + (size_t)n <= (size_t)e->size) {
			memcpy(e->content + used, buf, (size_t)n);
			used += (size_t)n;
		} else if (e->content != NULL) { /* it grew while read: not kept */
			free(e->content);
			e->content = NULL;
		}
	}
	if (n == 0 && EVP_DigestFinal_ex(ctx, md, &md_len) == 1)
		hex(md, md_len, e->sha256);
	if (n != 0 || used != (size_t)e->size) {
		free(e->content);
		e->content = NULL;
	}
	e->content_len = used;
	e->is_kept = e->content != NULL;
	EVP_MD_CTX_free(ctx);
	close(fd);
}

static int add_entry(struct kf_undo_snapshot *s, const char *root, const char *rel,
		     const struct stat *st, bool may_keep)
{
	char full[PATH_MAX * 2];
	struct undo_entry *e;

	if (s->n >= KF_UNDO_ENTRIES_MAX) {
		s->is_truncated = true;
		return 0;
	}
	if (s->n == s->size) {
		size_t size = s->size ? 2 * s->size : 256;
		struct undo_entry *grown = realloc(s->entries, size * sizeof(*grown));

		if (grown == NULL)
			return KF_ERR_NOMEM;
		s->entries = grown;
		s->size = size;
	}
	e = &s->entries[s->n];
	memset(e, 0, sizeof(*e));
	e->path = strdup(rel);
	if (e->path == NULL)
		return KF_ERR_NOMEM;
	e->mode = st->st_mode;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->size = st->st_size;
	e->ino = st->st_ino;
	e->mtime = st->st_mtim;
	snprintf(full, sizeof(full), "%s%s", root, rel);
	if (S_ISREG(st->st_mode) &&
	    s->hashed_total + (size_t)st->st_size <= KF_UNDO_HASH_TOTAL_MAX) {
		read_regular(full, e, may_keep && s->kept_total < KF_UNDO_KEEP_TOTAL_MAX);
		s->kept_total += e->content_len;
		s->hashed_total += (size_t)st->st_size;
	} else if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(full, target, sizeof(target) - 1);

		target[n > 0 ? n : 0] = '\0';
		e->target = strdup(target);
	}
	s->n++;
	return 0;
}

/* Kernel state (sysfs, procfs, ...) is no file to keep: reading some of it has effects. */
static bool is_kernel_state(const char *path)
{
	struct statfs fs;

	if (statfs(path, &fs) != 0)
		return false;
	switch ((unsigned long)fs.f_type) {
	case 0x62656572UL: /* sysfs */
	case 0x9fa0UL:     /* proc */
	case 0x64626720UL: /* debugfs */
	case 0x74726163UL: /* tracefs */
	case 0x63677270UL: /* cgroup2 */
	case 0x27e0ebUL:   /* cgroup */
	case 0x73636673UL: /* securityfs */
	case 0x1cd1UL:     /* devpts */
		return true;
	default:
		return false;
	}
}

/* Everything under ROOT/REL, links not followed, within one file system. */
static int walk(struct kf_undo_snapshot *s, const char *root, const char *rel, dev_t dev, int depth,
		bool may_keep)
{
	char full[PATH_MAX * 2], child[PATH_MAX];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int r;

	snprintf(full, sizeof(full), "%s%s", root, rel);
	if (lstat(full, &st) != 0 || (depth == 0 && is_kernel_state(full)))
		return 0;
	if ((r = add_entry(s, root, rel, &st, may_keep)) != 0)
		return r;
	if (!S_ISDIR(st.st_mode) || depth >= UNDO_DEPTH_MAX || (dev != 0 && st.st_dev != dev))
		return 0;
	dir = opendir(full);
	if (dir == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL && r == 0) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (snprintf(child, sizeof(child), "%s%s%s", rel, strcmp(rel, "/") ? "/" : "",
			     d->d_name) >= (int)sizeof(child))
			continue;
		r = walk(s, root, child, st.st_dev, depth + 1, may_keep);
	}
	closedir(dir);
	return r;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct undo_entry *)a)->path, ((const struct undo_entry *)b)->path);
}

/* Sorted by path, each path once (nested `writes` paths list entries twice). */
static void sort_unique(struct kf_undo_snapshot *s)
{
	size_t out = 0;

	qsort(s->entries, s->n, sizeof(*s->entries), by_path);
	for (size_t i = 0; i < s->n; i++) {
		if (out > 0 && strcmp(s->entries[out - 1].path, s->entries[i].path) == 0) {
			entry_free(&s->entries[i]);
			continue;
		}
		s->entries[out++] = s->entries[i];
	}
	s->n = out;
}

static const char *root_prefix(const char *root)
{
	return strcmp(root, "/") == 0 ? "" : root;
}

static int take(const char *root, const struct kf_plugin_privileges *p, bool may_keep,
		struct kf_undo_snapshot **out)
{
	struct kf_undo_snapshot *s = calloc(1, sizeof(*s));
	int r = 0;

	if (s == NULL)
		return KF_ERR_NOMEM;
	for (size_t i = 0; i < p->n_writes && r == 0; i++)
		r = walk(s, root_prefix(root), p->writes[i], 0, 0, may_keep);
	if (r != 0) {
		kf_undo_snapshot_free(s);
		return r;
	}
	sort_unique(s);
	s->privileges = p;
	*out = s;
	return 0;
}

int kf_undo_snapshot_take(const char *root, const struct kf_plugin_step *step,
			  struct kf_undo_snapshot **out, struct kf_error *err)
{
	int r = take(root, &step->privileges, true, out);

	if (r != 0)
		return kf_error_set(err, r, "out of memory taking the state before a repair");
	return KF_OK;
}

static const char *type_of(mode_t mode)
{
	if (S_ISREG(mode))
		return "file";
	if (S_ISDIR(mode))
		return "folder";
	if (S_ISLNK(mode))
		return "link";
	return "other";
}

static json_t *state_json(const struct undo_entry *e)
{
	char mode[8];
	json_t *o;

	snprintf(mode, sizeof(mode), "%04o", (unsigned)(e->mode & 07777));
	o = json_pack("{s:s, s:s, s:I, s:I}", "type", type_of(e->mode), "mode", mode, "uid",
		      (json_int_t)e->uid, "gid", (json_int_t)e->gid);
	if (S_ISREG(e->mode)) {
		json_object_set_new(o, "size", json_integer((json_int_t)e->size));
		if (e->sha256[0] != '\0')
			json_object_set_new(o, "sha256", json_string(e->sha256));
	}
	if (e->target != NULL)
		json_object_set_new(o, "target", json_string(e->target));
	return o;
}

static bool same_content(const struct undo_entry *a, const struct undo_entry *b)
{
	if ((a->mode & S_IFMT) != (b->mode & S_IFMT))
		return false;
	if (S_ISREG(a->mode)) {
		if (a->sha256[0] != '\0' || b->sha256[0] != '\0')
			return strcmp(a->sha256, b->sha256) == 0;
		return a->size == b->size && a->ino == b->ino &&
		       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
	}
	if (S_ISLNK(a->mode))
		return a->target != NULL && b->target != NULL && strcmp(a->target, b->target) == 0;
	return true;
}

static bool same_owner_mode(const struct undo_entry *a, const struct undo_entry *b)
{
	return (a->mode & 07777) == (b->mode & 07777) && a->uid == b->uid && a->gid == b->gid;
}

static bool write_all(int fd, const unsigned char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* Keeps the bytes an entry had before the repair as FILES/NNNN. */
static bool keep_content(const char *record_dir, size_t index, const struct undo_entry *e)
{
	char path[PATH_MAX + 32];
	int fd;
	bool ok;

	snprintf(path, sizeof(path), "%s/files/%06zu", record_dir, index);
	if (kf_fs_make_parents(path) != 0)
		return false;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	ok = write_all(fd, e->content, e->content_len) && fsync(fd) == 0;
	return close(fd) == 0 && ok;
}

static bool write_json_file(const char *path, const json_t *value)
{
	char temp[PATH_MAX + 16];
	int fd;
	bool ok;

	snprintf(temp, sizeof(temp), "%s.XXXXXX", path);
	fd = mkstemp(temp);
	if (fd < 0)
		return false;
	ok = json_dumpfd(value, fd, JSON_INDENT(1)) == 0 && fsync(fd) == 0;
	ok = close(fd) == 0 && ok && rename(temp, path) == 0;
	if (!ok)
		unlink(temp);
	return ok;
}

static json_t *change_json(const char *path, const char *change, const struct undo_entry *before,
			   const struct undo_entry *after)
{
	json_t *c = json_pack("{s:s, s:s}", "path", path, "change", change);

	if (before != NULL)
		json_object_set_new(c, "before", state_json(before));
	if (after != NULL)
		json_object_set_new(c, "after", state_json(after));
	return c;
}

void kf_undo_state_dir(char *dir, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state != NULL && state[0] == '/')
		snprintf(dir, size, "%s/kefu/undo", state);
	else
		snprintf(dir, size, "%s/.local/state/kefu/undo", home ? home : "/tmp");
}

json_t *kf_undo_keep(const struct kf_undo_snapshot *before, const char *root, const char *state_dir,
		     const char *scan_id, const char *plugin, const char *check, size_t repair,
		     const char *title, char *record_dir, size_t record_size)
{
	struct kf_undo_snapshot *after = NULL;
	json_t *changes = json_array(), *record;
	size_t i = 0, j = 0, kept_index = 0;
	char path[PATH_MAX + 32], when[32];
	time_t now = time(NULL);
	struct tm utc;

	record_dir[0] = '\0';
	if (before == NULL || take(root, before->privileges, false, &after) != 0)
		return changes;
	snprintf(record_dir, record_size, "%s/%s/%s.%s.%zu", state_dir, scan_id, plugin, check,
		 repair + 1);
	while (i < before->n || j < after->n) {
		const struct undo_entry *b = i < before->n ? &before->entries[i] : NULL;
		const struct undo_entry *a = j < after->n ? &after->entries[j] : NULL;
		int cmp = b == NULL ? 1 : a == NULL ? -1 : strcmp(b->path, a->path);
		json_t *c = NULL;

		if (cmp < 0) {
			c = change_json(b->path, "removed", b, NULL);
			i++;
		} else if (cmp > 0) {
			c = change_json(a->path, "added", NULL, a);
			j++;
		} else {
			if (!same_content(b, a))
				c = change_json(b->path, "changed", b, a);
			else if (!same_owner_mode(b, a))
				c = change_json(b->path, "mode-or-owner", b, a);
			i++;
			j++;
		}
		if (c == NULL)
			continue;
		if (cmp <= 0 && b->is_kept && S_ISREG(b->mode)) {
			char name[16];

			snprintf(name, sizeof(name), "%06zu", kept_index);
			if (keep_content(record_dir, kept_index, b))
				json_object_set_new(c, "kept", json_string(name));
			kept_index++;
		}
		json_array_append_new(changes, c);
	}
	kf_undo_snapshot_free(after);
	if (json_array_size(changes) == 0) {
		record_dir[0] = '\0';
		return changes;
	}
	gmtime_r(&now, &utc);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &utc);
	record = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:b}", "format", 1, "scan",
			   scan_id, "when", when, "root", root, "plugin", plugin, "check", check,
			   "title", title != NULL ? title : check, "changes", changes, "truncated",
			   before->is_truncated);
	snprintf(path, sizeof(path), "%s/record.json", record_dir);
	if (kf_fs_make_parents(path) != 0 || !write_json_file(path, record))
		record_dir[0] = '\0';
	json_decref(record);
	return changes;
}

/* ---- scan --undo ---- */

struct found_record {
	char dir[PATH_MAX * 2];
	char scan[256];
	json_t *record;
};

static bool is_safe_path(const char *path)
{
	if (path == NULL || path[0] != '/' || strstr(path, "//") != NULL)
		return false;
	for (const char *p = path; (p = strstr(p, "/..")) != NULL; p += 3)
		if (p[3] == '/' || p[3] == '\0')
			return false;
	return strstr(path, "/./") == NULL;
}

/* The entry at ROOT/PATH now, as the snapshot would have it (no content kept). */
static bool current_entry(const char *root, const char *path, struct undo_entry *e)
{
	char full[PATH_MAX * 2];
	struct stat st;
	struct kf_undo_snapshot one = {0};

	snprintf(full, sizeof(full), "%s%s", root_prefix(root), path);
	if (lstat(full, &st) != 0)
		return false;
	if (add_entry(&one, root_prefix(root), path, &st, false) != 0 || one.n != 1) {
		for (size_t i = 0; i < one.n; i++)
			entry_free(&one.entries[i]);
		free(one.entries);
		return false;
	}
	*e = one.entries[0];
	free(one.entries);
	return true;
}

/* Whether the entry now is the state STATE describes (the repair's result). */
static bool matches_state(const struct undo_entry *e, const json_t *state)
{
	const char *type = json_string_value(json_object_get(state, "type"));
	const char *sha = json_string_value(json_object_get(state, "sha256"));
	const char *target = json_string_value(json_object_get(state, "target"));
	char mode[8];

	snprintf(mode, sizeof(mode), "%04o", (unsigned)(e->mode & 07777));
	if (type == NULL || strcmp(type, type_of(e->mode)) != 0)
		return false;
	if (sha != NULL && strcmp(sha, e->sha256) != 0)
		return false;
	if (target != NULL && (e->target == NULL || strcmp(target, e->target) != 0))
		return false;
	return strcmp(mode, json_string_value(json_object_get(state, "mode")) ?: "") == 0 &&
	       (json_int_t)e->uid == json_integer_value(json_object_get(state, "uid")) &&
	       (json_int_t)e->gid == json_integer_value(json_object_get(state, "gid"));
}

static mode_t mode_of(const json_t *state)
{
	const char *mode = json_string_value(json_object_get(state, "mode"));

	return mode != NULL ? (mode_t)strtoul(mode, NULL, 8) & 07777 : 0644;
}

/* Puts ROOT/PATH back to BEFORE (with the kept bytes for a file). Returns NULL or why not. */
static const char *put_back(const char *root, const char *path, const json_t *before,
			    const char *kept_file)
{
	const char *type = json_string_value(json_object_get(before, "type"));
	const char *target = json_string_value(json_object_get(before, "target"));
	uid_t uid = (uid_t)json_integer_value(json_object_get(before, "uid"));
	gid_t gid = (gid_t)json_integer_value(json_object_get(before, "gid"));
	char full[PATH_MAX * 2], temp[PATH_MAX * 2 + 32];
	unsigned char buf[65536];
	mode_t mode = mode_of(before);

	snprintf(full, sizeof(full), "%s%s", root_prefix(root), path);
	if (type == NULL)
		return "the record is damaged";
	if (strcmp(type, "folder") == 0) {
		if (mkdir(full, mode) != 0 && errno != EEXIST)
			return "the folder cannot be made again";
		if (chmod(full, mode) != 0 || lchown(full, uid, gid) != 0)
			return "its owner or permissions cannot be set";
		return NULL;
	}
	snprintf(temp, sizeof(temp), "%s.kefu-undo-XXXXXX", full);
	if (strcmp(type, "link") == 0) {
		int fd = mkstemp(temp); /* a fresh name, replaced by the link */

		if (fd < 0 || target == NULL)
			return fd < 0 ? "its folder cannot be written" : "the record is damaged";
		close(fd);
		unlink(temp);
		if (symlink(target, temp) != 0)
			return "the link cannot be made again";
		if (lchown(temp, uid, gid) != 0 || rename(temp, full) != 0) {
			unlink(temp);
			return "the link cannot be put back";
		}
		return NULL;
	}
	if (strcmp(type, "file") != 0)
		return "only files, folders and links are put back";
	if (kept_file == NULL)
		return "it was too large to be kept";
	{
		int in = open(kept_file, O_RDONLY | O_CLOEXEC), out;
		ssize_t n = 0;
		bool ok = in >= 0;

		out = ok ? mkstemp(temp) : -1;
		ok = out >= 0;
		while (ok && (n = read(in, buf, sizeof(buf))) > 0)
			ok = write_all(out, buf, (size_t)n);
		ok = ok && n == 0 && fchmod(out, mode) == 0 && fchown(out, uid, gid) == 0 &&
		     fsync(out) == 0;
		if (in >= 0)
			close(in);
		if (out >= 0 && close(out) != 0)
			ok = false;
		if (!ok || rename(temp, full) != 0) {
			if (out >= 0)
				unlink(temp);
			return "the kept copy cannot be written back";
		}
	}
	return NULL;
}

/* Removes what the repair added, when it is still as the repair left it. */
static const char *take_away(const char *root, const char *path, const json_t *after)
{
	const char *type = json_string_value(json_object_get(after, "type"));
	char full[PATH_MAX * 2];

	snprintf(full, sizeof(full), "%s%s", root_prefix(root), path);
	if (type != NULL && strcmp(type, "folder") == 0)
		return rmdir(full) == 0 ? NULL : "the folder is not empty";
	return unlink(full) == 0 ? NULL : "it cannot be removed";
}

static void note_left(json_t *left, const char *path, const char *why)
{
	json_array_append_new(left, json_pack("{s:s, s:s}", "path", path, "why", why));
}

/* Undoes one record's changes. Fills restored and left (paths and reasons). */
static void undo_record(const char *root, const char *dir, json_t *record, json_t *restored,
			json_t *left)
{
	json_t *changes = json_object_get(record, "changes"), *c;
	size_t i, n = json_array_size(changes);

	/* Files and folders come back parents first; what was added goes children first. */
	json_array_foreach(changes, i, c)
	{
		const char *path = json_string_value(json_object_get(c, "path"));
		const char *change = json_string_value(json_object_get(c, "change"));
		const char *kept = json_string_value(json_object_get(c, "kept"));
		json_t *after = json_object_get(c, "after");
		char kept_file[PATH_MAX + 32];
		struct undo_entry now;
		const char *why = NULL;
		bool exists;

		if (!is_safe_path(path) || change == NULL) {
			note_left(left, path != NULL ? path : "?", "the record is damaged");
			continue;
		}
		if (strcmp(change, "added") == 0)
			continue;
		exists = current_entry(root, path, &now);
		if (strcmp(change, "removed") == 0 ? exists
						   : !exists || !matches_state(&now, after))
			why = "it was changed again since the fix, so it is left as it is";
		if (exists)
			entry_free(&now);
		if (why == NULL && kept != NULL &&
		    (strspn(kept, "0123456789") != strlen(kept) || strlen(kept) > 8))
			why = "the record is damaged";
		snprintf(kept_file, sizeof(kept_file), "%s/files/%s", dir, kept ? kept : "");
		if (why == NULL)
			why = put_back(root, path, json_object_get(c, "before"),
				       kept != NULL ? kept_file : NULL);
		if (why == NULL)
			json_array_append_new(restored, json_string(path));
		else
			note_left(left, path, why);
	}
	for (i = n; i-- > 0;) {
		const char *path, *why = NULL;
		struct undo_entry now;

		c = json_array_get(changes, i);
		path = json_string_value(json_object_get(c, "path"));
		if (strcmp(json_string_value(json_object_get(c, "change")) ?: "", "added") != 0 ||
		    !is_safe_path(path))
			continue;
		if (!current_entry(root, path, &now))
			continue; /* already gone */
		if (!matches_state(&now, json_object_get(c, "after")))
			why = "it was changed again since the fix, so it is left as it is";
		entry_free(&now);
		if (why == NULL)
			why = take_away(root, path, json_object_get(c, "after"));
		if (why == NULL)
			json_array_append_new(restored, json_string(path));
		else
			note_left(left, path, why);
	}
}

/* Every record not yet undone for ROOT, newest scan first. The caller frees each record. */
static size_t list_records(const char *state_dir, const char *root, struct found_record *out,
			   size_t max)
{
	struct dirent **scans;
	int n_scans = scandir(state_dir, &scans, NULL, alphasort);
	size_t n = 0;

	for (int s = n_scans - 1; s >= 0; s--) {
		char scan_dir[PATH_MAX];
		struct dirent **names;
		int n_names;

		if (scans[s]->d_name[0] == '.' ||
		    snprintf(scan_dir, sizeof(scan_dir), "%s/%s", state_dir, scans[s]->d_name) >=
			    (int)sizeof(scan_dir)) {
			free(scans[s]);
			continue;
		}
		n_names = scandir(scan_dir, &names, NULL, alphasort);
		for (int k = 0; k < n_names; k++) {
			char path[PATH_MAX * 2];
			json_t *record;

			snprintf(path, sizeof(path), "%s/%s/record.json", scan_dir,
				 names[k]->d_name);
			record = names[k]->d_name[0] != '.' ? json_load_file(path, 0, NULL) : NULL;
			if (record != NULL && n < max && json_is_object(record) &&
			    json_object_get(record, "undone") == NULL &&
			    strcmp(json_string_value(json_object_get(record, "root")) ?: "",
				   root) == 0) {
				snprintf(out[n].dir, sizeof(out[n].dir), "%s/%s", scan_dir,
					 names[k]->d_name);
				snprintf(out[n].scan, sizeof(out[n].scan), "%s", scans[s]->d_name);
				out[n++].record = record;
			} else {
				json_decref(record);
			}
			free(names[k]);
		}
		if (n_names >= 0)
			free(names);
		free(scans[s]);
	}
	if (n_scans >= 0)
		free(scans);
	return n;
}

#define UNDO_RECORDS_MAX 512

int kf_undo_run(const char *root, const char *id, bool json)
{
	struct found_record *records = calloc(UNDO_RECORDS_MAX, sizeof(*records));
	char state_dir[PATH_MAX];
	json_t *done = json_array();
	const char *scan = NULL;
	struct kf_audit *log = NULL;
	size_t n, k;
	int code = KF_EXIT_OK;

	if (records == NULL)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "out of memory");
	kf_undo_state_dir(state_dir, sizeof(state_dir));
	n = list_records(state_dir, root, records, UNDO_RECORDS_MAX);
	if (kf_audit_open(NULL, &log, NULL) != KF_OK)
		log = NULL;
	for (k = 0; k < n; k++) {
		const json_t *r = records[k].record;
		const char *plugin = json_string_value(json_object_get(r, "plugin"));
		const char *check = json_string_value(json_object_get(r, "check"));
		const char *title = json_string_value(json_object_get(r, "title"));
		json_t *restored, *left, *entry, *fields;
		char summary[512], when[32];
		time_t now = time(NULL);
		struct tm utc;

		if (plugin == NULL || check == NULL)
			continue;
		if (id != NULL ? strcmp(id, plugin) != 0 && strcmp(id, check) != 0
			       : scan != NULL && strcmp(scan, records[k].scan) != 0)
			continue;
		if (scan == NULL)
			scan = records[k].scan; /* without an ID: the newest scan only */
		restored = json_array();
		left = json_array();
		undo_record(root, records[k].dir, records[k].record, restored, left);
		snprintf(summary, sizeof(summary),
			 "Undid the fix for \"%s\": %zu change%s put back%s", title ? title : check,
			 json_array_size(restored), json_array_size(restored) == 1 ? "" : "s",
			 json_array_size(left) ? ", some left as they are" : "");
		entry = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "plugin", plugin, "check",
				  check, "scan", records[k].scan, "summary", summary, "restored",
				  restored, "left", left);
		fields = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "summary", summary, "root",
				   root, "plugin", plugin, "check", check, "restored", restored,
				   "left", left);
		if (log != NULL)
			kf_audit_event(log, "scan-undo", fields, NULL);
		json_decref(fields);
		gmtime_r(&now, &utc);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &utc);
		json_object_set_new(records[k].record, "undone",
				    json_pack("{s:s, s:O, s:O}", "when", when, "restored", restored,
					      "left", left));
		{
			char path[PATH_MAX + 16];

			snprintf(path, sizeof(path), "%s/record.json", records[k].dir);
			if (!write_json_file(path, records[k].record))
				fprintf(stderr, "%s: %s: cannot mark the fix as undone\n",
					KF_AGENTD_PROGRAM, path);
		}
		if (json_array_size(left) > 0)
			code = KF_EXIT_FAILURE;
		json_array_append_new(done, entry);
		json_decref(restored);
		json_decref(left);
		if (id != NULL)
			break; /* the latest fix of that check only */
	}
	for (k = 0; k < n; k++)
		json_decref(records[k].record);
	free(records);
	if (log != NULL)
		kf_audit_close(log);
	if (json_array_size(done) == 0) {
		json_decref(done);
		if (id != NULL)
			return kf_cli_fail(KF_AGENTD_PROGRAM,
					   "no fix of %s changed anything that could be undone",
					   id);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "no fix left anything to undo");
	}
	if (json) {
		json_t *out = json_pack("{s:s, s:O}", "root", root, "undone", done);

		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(out);
	} else {
		json_t *entry, *v;
		size_t i, j;

		json_array_foreach(done, i, entry)
		{
			kf_terminal_print(stdout, "%s",
					  json_string_value(json_object_get(entry, "summary")));
			json_array_foreach(json_object_get(entry, "restored"), j, v)
				kf_terminal_print(stdout, "  put back: %s", json_string_value(v));
			json_array_foreach(json_object_get(entry, "left"), j, v)
				kf_terminal_print(stdout, "  left: %s (%s)",
						  json_string_value(json_object_get(v, "path")),
						  json_string_value(json_object_get(v, "why")));
		}
	}
	json_decref(done);
	return code;
}
