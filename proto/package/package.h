/* kefu: signed packages (plugins now, firmware later): a tar archive holding a signed list of
 * file hashes and the files (diag-plugins/FORMAT.md "Packages"). SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_PACKAGE_H
#define KF_PROTO_PACKAGE_H

#include "proto/base/error.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KF_PACKAGE_FORMAT        1
#define KF_PACKAGE_MANIFEST_NAME "kefu-package.json" /* first member: the signed list */
#define KF_PACKAGE_SIGNATURE_NAME                                                                  \
	"kefu-package.sig"                /* second member: Ed25519 signature of the list */
#define KF_PACKAGE_FILES_PREFIX  "files/" /* every other member lives under it */
#define KF_PACKAGE_MANIFEST_MAX  (256 * 1024)
#define KF_PACKAGE_SIGNATURE_MAX 4096
#define KF_PACKAGE_PATH_MAX      255 /* bytes of a file's path inside the package */
#define KF_PACKAGE_DEPTH_MAX     8   /* folders above a file inside the package */
#define KF_PACKAGE_KEY_SIZE      32  /* raw Ed25519 public key */
#define KF_PACKAGE_SIG_SIZE      64  /* raw Ed25519 signature */
/* Signed bytes are this context string followed by the exact bytes of kefu-package.json. */
#define KF_PACKAGE_SIGN_CONTEXT "kefu package signature 1\n"

/* Why a package was refused; each has a stable name (kf_package_reason_name). */
enum kf_package_reason {
	KF_PACKAGE_OK = 0,
	KF_PACKAGE_NOT_AN_ARCHIVE,    /* not a tar archive at all */
	KF_PACKAGE_DAMAGED,           /* truncated or corrupt tar */
	KF_PACKAGE_NOT_A_PACKAGE,     /* a tar, but not laid out as a kefu package */
	KF_PACKAGE_UNSIGNED,          /* no signature member */
	KF_PACKAGE_BAD_SIGNATURE,     /* signature does not verify */
	KF_PACKAGE_UNKNOWN_PUBLISHER, /* signed by a key nobody trusts */
	KF_PACKAGE_BAD_MANIFEST,      /* the signed list is malformed or of another kind */
	KF_PACKAGE_UNSAFE_PATH,       /* absolute, "..", empty or odd path */
	KF_PACKAGE_LINK,              /* symbolic or hard link */
	KF_PACKAGE_SPECIAL_FILE,      /* device, fifo, socket or folder entry */
	KF_PACKAGE_TOO_LARGE,         /* a member, the total, the member count or the archive */
	KF_PACKAGE_DUPLICATE,         /* a name twice */
	KF_PACKAGE_NOT_IN_MANIFEST,   /* a file the signed list does not name */
	KF_PACKAGE_MISSING_FILE,      /* a file the signed list names is absent */
	KF_PACKAGE_HASH_MISMATCH,     /* a file's bytes or size differ from the signed list */
	KF_PACKAGE_CONTENT, /* the content does not fit its kind (checked by the caller) */
};

/* A stable lower-case name of a reason ("unsigned", "bad-signature", ...). */
const char *kf_package_reason_name(enum kf_package_reason reason);

/* Bounds applied while reading; each kind of package picks its own. */
struct kf_package_limits {
	size_t max_archive; /* bytes of the whole archive */
	size_t max_member;  /* bytes of one file */
	size_t max_total;   /* bytes of all files together */
	size_t max_files;   /* number of files (besides the list and the signature) */
};

/* A publisher whose signatures are accepted. name NULL: accept whatever name the list claims. */
struct kf_package_publisher {
	const char *name;
	uint8_t key[KF_PACKAGE_KEY_SIZE];
};

struct kf_package_file {
	char *path; /* relative, checked by kf_package_path_is_safe */
	size_t size;
	uint8_t sha256[32];
	bool executable;
	uint8_t *data; /* size bytes, owned by the package */
};

struct kf_package {
	char *kind, *id, *version, *publisher; /* from the signed list */
	bool is_signed;
	uint8_t key[KF_PACKAGE_KEY_SIZE]; /* the signer's public key, when is_signed */
	size_t n_files;
	struct kf_package_file *files; /* in the list's order (sorted by path) */
	uint8_t *manifest;             /* the exact bytes of kefu-package.json */
	size_t manifest_len;
	uint8_t *signature; /* the exact bytes of kefu-package.sig, NULL when unsigned */
	size_t signature_len;
};

/*
 * Reads a package held in memory and decides on it before anything touches disk:
 * the signature over the list is checked against the trusted publishers first,
 * then every member's path, type, size, presence and SHA-256. kind must match
 * the list's "kind". On success *out is owned by the caller (kf_package_free)
 * and holds every file's bytes. On refusal returns KF_ERR_AUTH (signature,
 * publisher), KF_ERR_TOO_LARGE or KF_ERR_INVALID, sets *reason when not NULL,
 * and err's message starts with the reason's name.
 */
int kf_package_verify(const uint8_t *data, size_t len, const char *kind,
		      const struct kf_package_publisher *trusted, size_t n_trusted,
		      const struct kf_package_limits *limits, struct kf_package **out,
		      enum kf_package_reason *reason, struct kf_error *err);

/*
 * The same checks without a signature: for the signing step, which signs the
 * list it has just checked against the files. A signature already present is
 * read but not checked. Never use it to decide whether to install.
 */
int kf_package_read_unsigned(const uint8_t *data, size_t len, const char *kind,
			     const struct kf_package_limits *limits, struct kf_package **out,
			     enum kf_package_reason *reason, struct kf_error *err);

void kf_package_free(struct kf_package *pkg);

/* Reads a whole file of at most max bytes into *data (caller frees). */
int kf_package_read_file(const char *path, size_t max, uint8_t **data, size_t *len,
			 struct kf_error *err);

/* Whether path may name a file inside a package (FORMAT.md "Packages": paths). */
bool kf_package_path_is_safe(const char *path);

/* What goes into a new package; files need path, size, executable and data. */
struct kf_package_spec {
	const char *kind, *id, *version, *publisher;
	size_t n_files;
	const struct kf_package_file *files;
};

/*
 * Builds a package in memory: the list with every file's SHA-256, its signature
 * by key when key is not NULL, and the files, deterministically (sorted names,
 * fixed times, owners and modes). *out (caller frees) holds *out_len bytes.
 */
int kf_package_build(const struct kf_package_spec *spec, EVP_PKEY *key, uint8_t **out,
		     size_t *out_len, struct kf_error *err);

/* Writes bytes to path atomically (temp file beside it, fsync, rename), mode 0644. */
int kf_package_save(const char *path, const uint8_t *data, size_t len, struct kf_error *err);

/*
 * Writes a verified package's files into the folder dest: first into a fresh
 * sibling folder, each file fsynced, then renamed into place (replacing a
 * previous dest whole). The signed list and signature are kept in dest as
 * .kefu-package.json and .kefu-package.sig. The parent folder is locked for the
 * whole install (waiting at most 30 s for another), and staging folders that a
 * killed install left there are removed first.
 */
int kf_package_install(const struct kf_package *pkg, const char *dest, struct kf_error *err);

/*
 * Whether the files of an installed folder still match its kept list
 * (.kefu-package.json), without looking at the signature (for showing what is
 * installed; kf_package_open_installed decides whether to run it): returns
 * KF_OK, or KF_ERR_INVALID naming the first difference. On success
 * *installed, when not NULL, holds the list (no data).
 */
int kf_package_check_installed(const char *dir, const struct kf_package_limits *limits,
			       struct kf_package **installed, struct kf_error *err);

/*
 * Reads an installed folder back and checks it as of now: its kept signature
 * (.kefu-package.sig) must verify with a key of trusted whose name is the
 * list's publisher (so a publisher taken out of the profile no longer counts),
 * the list must be of kind, and every listed file must be a regular file of
 * the listed size and SHA-256. Each file is read once, never through a final
 * link; with keep_data its checked bytes stay in *out, so a caller can copy
 * exactly what was checked. On success *out, when not NULL, is the caller's.
 * On refusal sets *reason (not-a-package, unsigned, bad-signature,
 * unknown-publisher, bad-manifest, missing-file, hash-mismatch) and err.
 */
int kf_package_open_installed(const char *dir, const char *kind,
			      const struct kf_package_publisher *trusted, size_t n_trusted,
			      const struct kf_package_limits *limits, bool keep_data,
			      struct kf_package **out, enum kf_package_reason *reason,
			      struct kf_error *err);

/*
 * Reads an installed folder's kept list only (no files, no signature): what
 * is installed there, to compare a new package with. *out is the caller's.
 */
int kf_package_read_installed_list(const char *dir, const struct kf_package_limits *limits,
				   struct kf_package **out, struct kf_error *err);

/*
 * Orders two package versions: -1, 0 or 1. Runs of digits compare by value
 * (1.10 is after 1.9, 2.0 after 1.99), everything else byte by byte.
 */
int kf_package_version_compare(const char *a, const char *b);

/* Ed25519 keys. */

/* Generates a key pair; the caller frees it with EVP_PKEY_free. */
EVP_PKEY *kf_package_key_generate(void);

/* Writes key as an unencrypted PKCS#8 PEM file of mode 0600; never replaces a file. */
int kf_package_key_save(EVP_PKEY *key, const char *path, struct kf_error *err);

/* Loads an Ed25519 private key from a PEM file; the read bytes are wiped. */
int kf_package_key_load(const char *path, EVP_PKEY **key, struct kf_error *err);

/* The base64 of the raw public key, as support profiles list it; the caller frees it. */
char *kf_package_key_public_base64(EVP_PKEY *key);

/* Decodes a base64 raw Ed25519 public key: KF_OK, or KF_ERR_INVALID when it is not 32 bytes of
 * base64 (callers say which key, so there is no err). */
int kf_package_key_decode(const char *base64, uint8_t key[KF_PACKAGE_KEY_SIZE]);

#endif
