/* kefu: how the technician's console tells the agent's screen server to adapt its quality. SPDX-License-Identifier: MIT */
#ifndef KF_SESSION_SCREEN_QUALITY_H
#define KF_SESSION_SCREEN_QUALITY_H

/*
 * A pseudo-encoding of kefu's own, which only the console's view adds to the
 * viewer's SetEncodings (`view --quality auto`, the default) and only when the
 * viewer offers Tight and asks for a JPEG quality level. It tells the agent's
 * server that this viewer's quality may follow the link: lossless while the link
 * keeps up, Tight with JPEG at a measured quality (never above the viewer's own
 * level) when it does not, and a lossless refresh of what was sent lossy once the
 * screen is still. A server that does not know it ignores it, as RFB wants.
 * The value spells "kefQ" in ASCII.
 */
#define KF_RFB_ENCODING_ADAPTIVE_QUALITY ((int32_t)0x6b656651)

#endif
