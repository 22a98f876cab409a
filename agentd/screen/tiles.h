/* kefu-agentd: damage refined to the tiles that really changed. SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_TILES_H
#define KF_AGENTD_TILES_H

#include "agentd/screen/capture.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Platform damage is only a hint: a scroll damages a whole strip where only the
 * text moved, a redraw may change nothing. The capture grabs each damaged
 * rectangle and compares it with its frame tile by tile; this module is that
 * comparison, free of any platform so that it can be tested on made-up pixels.
 */

/* The rectangles a comparison reports, in an array the caller owns. */
struct kf_rect_list {
	struct kf_rect *rects;
	int count, capacity;
};

/*
 * Adds rect. When the list is full it grows the last rectangle to the bounding
 * box of both instead, so that no change is ever dropped (only sent wider).
 */
void kf_rect_list_add(struct kf_rect_list *list, struct kf_rect rect);

/* The picture a capture keeps: what every viewer has been told about. */
struct kf_tile_frame {
	uint8_t *pixels;
	int width, height;
	size_t stride;
	int bytes_per_pixel;
};

/*
 * Refreshes damage (frame coordinates, inside the frame) of frame from grab,
 * which holds that rectangle's new pixels at its origin, grab_stride bytes a
 * line. Tiles of tile x tile pixels are counted from the damage's top-left
 * corner; the last column and row of tiles are as narrow as the damage leaves
 * them. Every tile that differs is copied into the frame, and each run of
 * such tiles along a row of tiles is added to changed as one rectangle. A
 * damage rectangle outside the frame, empty, or a tile size below 1 changes
 * nothing.
 */
void kf_tiles_refresh(struct kf_tile_frame *frame, const uint8_t *grab, size_t grab_stride,
		      struct kf_rect damage, int tile, struct kf_rect_list *changed);

/*
 * Refreshes all of frame from picture, a whole new picture of the frame's size
 * (picture_stride bytes a line), when nothing says what changed (a Wayland
 * compositor that sends no damage). A band of one row of tiles whose lines all
 * equal the frame's is passed over a line at a time; a band that differs is
 * refreshed as kf_tiles_refresh does, its tiles counted from the frame's
 * top-left corner.
 */
void kf_tiles_refresh_all(struct kf_tile_frame *frame, const uint8_t *picture,
			  size_t picture_stride, int tile, struct kf_rect_list *changed);

#endif
