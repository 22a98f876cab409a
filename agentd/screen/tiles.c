/* kefu-agentd: damage refined to the tiles that really changed. SPDX-License-Identifier: MIT */
#include "agentd/screen/tiles.h"

#include <string.h>

void kf_rect_list_add(struct kf_rect_list *list, struct kf_rect rect)
{
	if (list->count < list->capacity) {
		list->rects[list->count++] = rect;
		return;
	}
	if (list->capacity <= 0)
		return;
	struct kf_rect *last = &list->rects[list->capacity - 1];
	int x1 = rect.x < last->x ? rect.x : last->x;
	int y1 = rect.y < last->y ? rect.y : last->y;
	int x2 = rect.x + rect.width > last->x + last->width ? rect.x + rect.width
							     : last->x + last->width;
	int y2 = rect.y + rect.height > last->y + last->height ? rect.y + rect.height
							       : last->y + last->height;
	*last = (struct kf_rect){x1, y1, x2 - x1, y2 - y1};
}

static int is_tile_changed(const struct kf_tile_frame *frame, const uint8_t *grab,
			   size_t grab_stride, const struct kf_rect *damage,
			   const struct kf_rect *tile)
{
	size_t bytes = (size_t)tile->width * (size_t)frame->bytes_per_pixel;
	for (int row = tile->y; row < tile->y + tile->height; row++) {
		const uint8_t *fresh = grab + (size_t)row * grab_stride +
				       (size_t)tile->x * (size_t)frame->bytes_per_pixel;
		const uint8_t *kept =
			frame->pixels + (size_t)(damage->y + row) * frame->stride +
			(size_t)(damage->x + tile->x) * (size_t)frame->bytes_per_pixel;
		if (memcmp(fresh, kept, bytes) != 0)
			return 1;
	}
	return 0;
}

static void copy_tile(struct kf_tile_frame *frame, const uint8_t *grab, size_t grab_stride,
		      const struct kf_rect *damage, const struct kf_rect *tile)
{
	size_t bytes = (size_t)tile->width * (size_t)frame->bytes_per_pixel;
	for (int row = tile->y; row < tile->y + tile->height; row++)
		memcpy(frame->pixels + (size_t)(damage->y + row) * frame->stride +
			       (size_t)(damage->x + tile->x) * (size_t)frame->bytes_per_pixel,
		       grab + (size_t)row * grab_stride +
			       (size_t)tile->x * (size_t)frame->bytes_per_pixel,
		       bytes);
}

void kf_tiles_refresh(struct kf_tile_frame *frame, const uint8_t *grab, size_t grab_stride,
		      struct kf_rect damage, int tile, struct kf_rect_list *changed)
{
	if (tile < 1 || damage.width <= 0 || damage.height <= 0 || damage.x < 0 || damage.y < 0 ||
	    damage.x + damage.width > frame->width || damage.y + damage.height > frame->height)
		return;
	for (int ty = 0; ty < damage.height; ty += tile) {
		int th = damage.height - ty < tile ? damage.height - ty : tile;
		int run_start = -1;
		for (int tx = 0; tx < damage.width; tx += tile) {
			/* Tile coordinates are relative to the damage, as the grab is. */
			struct kf_rect cell = {
				tx, ty, damage.width - tx < tile ? damage.width - tx : tile, th};
			if (is_tile_changed(frame, grab, grab_stride, &damage, &cell)) {
				copy_tile(frame, grab, grab_stride, &damage, &cell);
				if (run_start < 0)
					run_start = tx;
			} else if (run_start >= 0) {
				kf_rect_list_add(changed, (struct kf_rect){damage.x + run_start,
									   damage.y + ty,
									   tx - run_start, th});
				run_start = -1;
			}
		}
		/* A run that reaches the damage's right edge ends with the row. */
		if (run_start >= 0)
			kf_rect_list_add(changed,
					 (struct kf_rect){damage.x + run_start, damage.y + ty,
							  damage.width - run_start, th});
	}
}

void kf_tiles_refresh_all(struct kf_tile_frame *frame, const uint8_t *picture,
			  size_t picture_stride, int tile, struct kf_rect_list *changed)
{
	if (tile < 1)
		return;
	size_t line = (size_t)frame->width * (size_t)frame->bytes_per_pixel;
	for (int y = 0; y < frame->height; y += tile) {
		int height = frame->height - y < tile ? frame->height - y : tile;
		int is_changed = 0;
		for (int row = y; row < y + height && !is_changed; row++)
			is_changed = memcmp(picture + (size_t)row * picture_stride,
					    frame->pixels + (size_t)row * frame->stride, line) != 0;
		if (is_changed)
			kf_tiles_refresh(
				frame, picture + (size_t)y * picture_stride, picture_stride,
				(struct kf_rect){0, y, frame->width, height}, tile, changed);
	}
}
