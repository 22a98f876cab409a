/* kefu: the session code a customer reads to the technician. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_CODE_H
#define KF_PROTO_CODE_H

#include "proto/base/error.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Twelve digits, read aloud in three groups of four: "1234 5678 9012".
 *   digit 1       which relay of the support profile (0-9)
 *   digits 2-6    the port the relay forwards to the agent (00001-65535)
 *   digits 7-12   the secret the two sides prove to each other (proto/session/pake.h)
 * The relay and port are not secret: whoever can reach the relay could find them.
 * The secret never crosses the network, not even encrypted.
 */
#define KF_CODE_DIGITS        12
#define KF_CODE_SECRET_DIGITS 6
#define KF_CODE_TEXT_SIZE     16 /* "1234 5678 9012" and its NUL */

struct kf_code {
	unsigned relay_index;
	uint16_t port;
	char secret[KF_CODE_SECRET_DIGITS + 1];
};

/* A new code with a random secret for the given relay and port. */
int kf_code_make(struct kf_code *code, unsigned relay_index, uint16_t port, struct kf_error *err);

/* Writes "RPPP PPSS SSSS" into out (at least KF_CODE_TEXT_SIZE bytes). */
int kf_code_format(const struct kf_code *code, char *out, size_t size);

/* Reads a typed code: digits, with spaces or dashes anywhere between them. */
int kf_code_parse(const char *text, struct kf_code *code, struct kf_error *err);

#endif
