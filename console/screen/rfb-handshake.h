/* kefu-console: the RFB handshake messages the view reads. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_RFB_HANDSHAKE_H
#define KF_CONSOLE_RFB_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Each parser looks at the first len bytes of in and returns how many bytes the
 * message took (> 0), 0 when more bytes are needed, or KF_ERR_INVALID when the
 * bytes cannot be that message. None keeps a pointer into in.
 */

/* "RFB 003.00N\n": *minor is 3, 7 or 8 (newer minors read as 8, others as 3). */
int kf_rfb_read_version(const uint8_t *in, size_t len, int *minor);

/* A 3.7/3.8 security type list; invalid when empty or without wanted_type. */
int kf_rfb_read_security_types(const uint8_t *in, size_t len, uint8_t wanted_type);

/* A SecurityResult; invalid unless it says OK. */
int kf_rfb_read_security_result(const uint8_t *in, size_t len);

/* ServerInit (24 bytes and a name of at most name_max bytes). */
int kf_rfb_read_server_init(const uint8_t *in, size_t len, uint32_t name_max);

#endif
