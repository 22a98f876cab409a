/* kefu-console: the viewer's RFB messages, with its encodings set to the technician's quality. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_RFB_REWRITE_H
#define KF_CONSOLE_RFB_REWRITE_H

#include "proto/base/buffer.h"

#include <stddef.h>
#include <stdint.h>

/*
 * The technician's choice (`view --quality`): auto (0, the default of a zeroed
 * kf_view_options), lossless, or JPEG level N 0-9 as KF_VIEW_QUALITY_JPEG(N).
 */
#define KF_VIEW_QUALITY_AUTO       0
#define KF_VIEW_QUALITY_LOSSLESS   1
#define KF_VIEW_QUALITY_JPEG(n)    (10 + (n))
#define KF_VIEW_QUALITY_LEVEL(q)   ((q)-10)
#define KF_VIEW_QUALITY_IS_JPEG(q) ((q) >= 10 && (q) <= 19)

/* The longest SetEncodings rewritten: more encodings than this pass as they are. */
#define KF_RFB_REWRITE_MAX_ENCODINGS 255

/*
 * Follows the messages a viewer sends its server, after the handshake, and
 * passes them on unchanged except SetEncodings, which gets the technician's
 * quality:
 *   lossless: every JPEG quality, fine quality and subsampling pseudo-encoding
 *             is dropped, so no server may send lossy pictures;
 *   0-9:      those are replaced by that JPEG quality level, and Tight, when the
 *             viewer offers it, moves first (a server picks the first encoding
 *             it knows);
 *   auto:     the viewer's list as it is, and when it offers Tight and asks for
 *             a quality level, kefu's adaptive-quality pseudo-encoding
 *             (proto/session/screen-quality.h) is added.
 * Message sizes are read from their headers; the bodies of clipboard and chat
 * messages stream through without being held. A message type this does not know
 * makes it pass everything after it unchanged (the agent's server closes on such
 * a type anyway).
 */
struct kf_rfb_rewriter {
	int quality;
	uint8_t msg[4 + 4 * KF_RFB_REWRITE_MAX_ENCODINGS];
	size_t msg_len;
	uint64_t pass_left;   /* bytes of a message body to pass unchanged */
	int is_lost;          /* an unknown message: everything passes from here */
	int is_tight_missing; /* the last SetEncodings could not be made lossy */
	int is_adaptive;      /* the last SetEncodings carried kefu's marker */
};

void kf_rfb_rewriter_init(struct kf_rfb_rewriter *rw, int quality);

/* Appends to out what the server is to receive for these bytes from the viewer. */
int kf_rfb_rewrite(struct kf_rfb_rewriter *rw, const uint8_t *data, size_t len, struct kf_buf *out);

/* Parses "auto", "lossless" or "0".."9"; returns 0, or -1 for anything else. */
int kf_view_quality_parse(const char *text, int *out);

#endif
