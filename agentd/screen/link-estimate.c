/* kefu-agentd: a viewer's link, estimated from its updates' timings. SPDX-License-Identifier: MIT */
#include "agentd/screen/link-estimate.h"

#include <stddef.h>

#define LOSSLESS_BYTES_PER_S      4.0e6
#define KEEP_LOSSLESS_BYTES_PER_S 3.0e6

double kf_link_estimate_round_trip(const struct kf_link_estimate *link)
{
	int known =
		link->small_count < KF_LINK_ROUND_TRIPS ? link->small_count : KF_LINK_ROUND_TRIPS;
	double round_trip = 0;

	for (int i = 0; i < known; i++)
		if (i == 0 || link->small_took[i] < round_trip)
			round_trip = link->small_took[i];
	return round_trip;
}

int kf_link_estimate_add(struct kf_link_estimate *link, int bytes, double took)
{
	if (bytes < KF_LINK_SMALL_BYTES) {
		link->small_took[link->small_count++ % KF_LINK_ROUND_TRIPS] = took;
		if (link->small_count >= 2 * KF_LINK_ROUND_TRIPS)
			link->small_count -= KF_LINK_ROUND_TRIPS; /* the same slots, no overflow */
		return 0;
	}
	if (bytes < KF_LINK_SAMPLE_BYTES)
		return 0;
	double round_trip = kf_link_estimate_round_trip(link);
	if (link->small_count > 0 && took < round_trip)
		return 0;
	/*
	 * What is left after the round trip is the time the bytes took on the link; when
	 * that is lost in the round trip's noise, the sample only says "at least".
	 */
	double busy = took - round_trip;
	if (busy < took / 4)
		busy = took / 4;
	double sample = bytes / (busy > 0.0005 ? busy : 0.0005);
	link->throughput = link->throughput == 0 ? sample : link->throughput * 0.75 + sample * 0.25;
	return 1;
}

int kf_link_estimate_level(const struct kf_link_estimate *link, int current_level, int asked_level)
{
	static const struct {
		double bytes_per_s;
		int level;
	} steps[] = {{2.0e6, 8}, {1.0e6, 7}, {5.0e5, 6}, {2.5e5, 5}, {1.25e5, 4}};
	int level = 3;

	if (link->throughput >= LOSSLESS_BYTES_PER_S ||
	    (current_level < 0 && link->throughput >= KEEP_LOSSLESS_BYTES_PER_S))
		return -1;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (link->throughput >= steps[i].bytes_per_s) {
			level = steps[i].level;
			break;
		}
	return level < asked_level ? level : asked_level;
}
