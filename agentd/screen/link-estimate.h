/* kefu-agentd: a viewer's link, estimated from its updates' timings. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_LINK_ESTIMATE_H
#define KF_AGENTD_LINK_ESTIMATE_H

/*
 * A viewer asks for the next update once it has read the last one, so the time from
 * an update's last byte written to the viewer's next request is the update's time on
 * the link plus one round trip. Small updates (under KF_LINK_SMALL_BYTES) give the
 * round trip: the least of the last KF_LINK_ROUND_TRIPS. Large ones (at least
 * KF_LINK_SAMPLE_BYTES) give the throughput, smoothed (3/4 old, 1/4 new). A request
 * that came sooner than a round trip was on its way before the update reached the
 * viewer (a viewer that asks ahead, a refresh it asked for itself): it says nothing
 * about the link and is left out.
 *
 * Free of libvncserver, so that it can be tested on made-up timings.
 */
#define KF_LINK_SMALL_BYTES  4096
#define KF_LINK_SAMPLE_BYTES 16384
#define KF_LINK_ROUND_TRIPS  32

struct kf_link_estimate {
	double small_took[KF_LINK_ROUND_TRIPS]; /* seconds the last small updates took */
	int small_count;
	double throughput; /* bytes a second, smoothed; 0 until measured */
};

/*
 * One update of bytes, answered by the viewer's next request after took seconds.
 * Returns 1 when the throughput estimate changed.
 */
int kf_link_estimate_add(struct kf_link_estimate *link, int bytes, double took);

/* The least time a recent small update took; 0 while none has been seen. */
double kf_link_estimate_round_trip(const struct kf_link_estimate *link);

/*
 * The quality the estimate allows: -1 for lossless, else a Tight JPEG level 3-8, at
 * most asked_level. Lossless from 4 MB/s, and kept down to 3 MB/s when current_level
 * is already lossless, so that it does not flap.
 */
int kf_link_estimate_level(const struct kf_link_estimate *link, int current_level, int asked_level);

#endif
