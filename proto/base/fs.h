/* kefu: small file-system helpers shared by the programs. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FS_H
#define KF_PROTO_FS_H

/*
 * Creates every missing folder above path (not path itself), each private to the
 * user (0700), like `mkdir -p "$(dirname path)"`. Returns 0 or -1 with errno set.
 */
int kf_fs_make_parents(const char *path);

/*
 * A file written whole or not at all: kf_fs_create opens an unnamed file
 * (O_TMPFILE) in the folder that will hold path, so that a writer killed before
 * kf_fs_publish leaves nothing behind. Where the file system has no O_TMPFILE, it
 * falls back to a named "path.tmp-XXXXXX" beside it. kf_fs_publish syncs the file
 * and gives it its name: replacing what was there (is_replace, one rename) or
 * failing with EEXIST when path exists. Both return 0 or -1 with errno set;
 * kf_fs_discard closes and forgets a file that is not wanted.
 */
struct kf_fs_file {
	int fd;
	char temp[4096]; /* the named fallback, or "" */
};

int kf_fs_create(const char *path, unsigned mode, struct kf_fs_file *file);
int kf_fs_publish(struct kf_fs_file *file, const char *path, int is_replace);
void kf_fs_discard(struct kf_fs_file *file);

#endif
