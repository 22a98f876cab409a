/* kefu: error codes and messages shared by every library module. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_ERROR_H
#define KF_PROTO_ERROR_H

/*
 * Library code returns 0 or one of these negative codes and, when the caller
 * passes a struct kf_error, a one-line message saying what went wrong. Libraries
 * never print; the program's edge prints the message once.
 */
enum kf_err {
	KF_OK = 0,
	KF_ERR_INVALID = -1,     /* malformed input */
	KF_ERR_TOO_LARGE = -2,   /* input over a documented limit */
	KF_ERR_NOMEM = -3,       /* out of memory */
	KF_ERR_IO = -4,          /* a system call failed */
	KF_ERR_UNSUPPORTED = -5, /* unknown type, version or feature */
	KF_ERR_DENIED = -6,      /* not permitted (consent, policy, trust) */
	KF_ERR_TIMEOUT = -7,     /* a bounded wait ran out */
	KF_ERR_CLOSED = -8,      /* the peer or stream went away */
	KF_ERR_AUTH = -9,        /* a signature, certificate, key or proof did not verify */
	KF_ERR_NOT_FOUND = -10,  /* a named thing does not exist */
	KF_ERR_STATE = -11,      /* the call does not fit the object's current state */
};

#define KF_ERROR_MESSAGE_SIZE 256

struct kf_error {
	int code;
	char message[KF_ERROR_MESSAGE_SIZE];
};

/*
 * Records code and a printf-style message in err (which may be NULL) and
 * returns code, so that callers can write `return kf_error_set(err, ...)`.
 */
int kf_error_set(struct kf_error *err, int code, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* Resets err to "no error". */
void kf_error_clear(struct kf_error *err);

/* A stable lower-case name for code ("invalid", "too-large", ...), for logs and replies. */
const char *kf_err_name(int code);

#endif
