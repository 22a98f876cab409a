/* kefu: small file-system helpers shared by the programs. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_FS_H
#define KF_PROTO_FS_H

/*
 * Creates every missing folder above path (not path itself), each private to the
 * user (0700), like `mkdir -p "$(dirname path)"`. Returns 0 or -1 with errno set.
 */
int kf_fs_make_parents(const char *path);

#endif
