/* kefu: reads a Microsoft cabinet (.cab, as LVFS ships firmware) into memory, with limits. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_CABINET_H
#define KF_PROTO_CABINET_H

#include <stddef.h>
#include <stdint.h>

#include "proto/base/error.h"

/* Defaults for the limits below: generous for firmware, small enough for a helper's memory. */
#define KF_CABINET_MAX_MEMBERS     64
#define KF_CABINET_MAX_MEMBER_SIZE ((size_t)256 * 1024 * 1024)
#define KF_CABINET_MAX_TOTAL_SIZE  ((size_t)512 * 1024 * 1024)
#define KF_CABINET_MAX_NAME        255

struct kf_cabinet_limits {
	size_t max_members;
	size_t max_member_size; /* uncompressed bytes of one member */
	size_t max_total_size;  /* uncompressed bytes of all members together */
};

struct kf_cabinet_member {
	char *name;    /* a plain file name: no folders, never "." or ".." */
	uint8_t *data; /* NULL when the reader was told not to keep this member */
	size_t size;   /* bytes read, or declared when not kept */
};

struct kf_cabinet {
	struct kf_cabinet_member *members;
	size_t count;
};

/*
 * Says how many bytes of the member name a reader may keep in memory: 0 streams the
 * member past without keeping it (its name and declared size are still listed); a
 * member declaring more than a non-zero answer is refused with KF_ERR_TOO_LARGE.
 */
typedef size_t kf_cabinet_keep_fn(const char *name, void *arg);

/*
 * Reads every member of the cabinet at path (uncompressed or MSZIP folders, through
 * libarchive) into memory. Refused with KF_ERR_INVALID: anything that is not a
 * cabinet, a member name with a folder separator, "." or "..", control characters or
 * over KF_CABINET_MAX_NAME bytes, and two members whose names differ only in case;
 * with KF_ERR_TOO_LARGE: more members or bytes than limits allow (NULL for the
 * defaults), judged first from the cabinet's own table of members (CFFILE) before
 * libarchive decompresses a single byte, and again while reading. The caller owns
 * *cabinet; free it with kf_cabinet_free().
 */
int kf_cabinet_read_file(const char *path, const struct kf_cabinet_limits *limits,
			 struct kf_cabinet **cabinet, struct kf_error *err);

/*
 * The same, keeping in memory only what keep (with arg) asks for; the other members
 * are decompressed in small blocks and dropped, never held whole.
 */
int kf_cabinet_read_file_keeping(const char *path, const struct kf_cabinet_limits *limits,
				 kf_cabinet_keep_fn *keep, void *arg, struct kf_cabinet **cabinet,
				 struct kf_error *err);

/* The same for a cabinet already in memory (data stays the caller's). */
int kf_cabinet_read_memory(const uint8_t *data, size_t size, const struct kf_cabinet_limits *limits,
			   struct kf_cabinet **cabinet, struct kf_error *err);

/* The member named name (exact match), or NULL. The cabinet keeps ownership. */
const struct kf_cabinet_member *kf_cabinet_find(const struct kf_cabinet *cabinet, const char *name);

void kf_cabinet_free(struct kf_cabinet *cabinet);

#endif
