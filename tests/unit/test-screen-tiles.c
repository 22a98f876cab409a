/* kefu: unit tests for the tile comparison that refines screen damage.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentd/screen/tiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TILE 32

/* An odd-sized desktop: its last column and row of tiles are partial. */
#define SCREEN_WIDTH  333
#define SCREEN_HEIGHT 251

enum change {
	CHANGE_ALL,          /* every pixel of the damage */
	CHANGE_LAST_PIXEL,   /* only the damage's bottom-right pixel */
	CHANGE_FIRST_PIXEL,  /* only its top-left pixel */
	CHANGE_RIGHT_COLUMN, /* only its rightmost column */
	CHANGE_BOTTOM_ROW,   /* only its bottom row */
	CHANGE_SCATTERED,    /* about one pixel in 97 */
	CHANGE_CHECKERED,    /* every other tile, so that runs start and end often */
	CHANGE_NOTHING,      /* damaged, but redrawn with the same pixels */
};

struct picture {
	uint8_t *pixels;
	int width, height, bytes_per_pixel;
	size_t stride;
};

static uint32_t next_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

static struct picture picture_new(int width, int height, int bytes_per_pixel, uint32_t seed)
{
	/* Lines padded as X pads them, so that strides are never assumed to be width. */
	struct picture p = {.width = width, .height = height, .bytes_per_pixel = bytes_per_pixel};
	p.stride = ((size_t)width * bytes_per_pixel + 7) / 8 * 8 + 8;
	p.pixels = malloc(p.stride * (size_t)height);
	assert_non_null(p.pixels);
	for (size_t i = 0; i < p.stride * (size_t)height; i++)
		p.pixels[i] = (uint8_t)next_random(&seed);
	return p;
}

static struct picture picture_copy(const struct picture *from)
{
	struct picture p = *from;
	p.pixels = malloc(p.stride * (size_t)p.height);
	assert_non_null(p.pixels);
	memcpy(p.pixels, from->pixels, p.stride * (size_t)p.height);
	return p;
}

static uint8_t *pixel(const struct picture *p, int x, int y)
{
	return p->pixels + (size_t)y * p->stride + (size_t)x * (size_t)p->bytes_per_pixel;
}

static int is_same_pixel(const struct picture *a, const struct picture *b, int x, int y)
{
	return memcmp(pixel(a, x, y), pixel(b, x, y), (size_t)a->bytes_per_pixel) == 0;
}

static void invert_pixel(struct picture *p, int x, int y)
{
	uint8_t *at = pixel(p, x, y);
	for (int i = 0; i < p->bytes_per_pixel; i++)
		at[i] = (uint8_t)~at[i];
}

static int is_inside(struct kf_rect r, int x, int y)
{
	return x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
}

static int is_changed_here(enum change change, struct kf_rect d, int x, int y, uint32_t *seed)
{
	switch (change) {
	case CHANGE_ALL:
		return 1;
	case CHANGE_LAST_PIXEL:
		return x == d.x + d.width - 1 && y == d.y + d.height - 1;
	case CHANGE_FIRST_PIXEL:
		return x == d.x && y == d.y;
	case CHANGE_RIGHT_COLUMN:
		return x == d.x + d.width - 1;
	case CHANGE_BOTTOM_ROW:
		return y == d.y + d.height - 1;
	case CHANGE_SCATTERED:
		return next_random(seed) % 97 == 0;
	case CHANGE_CHECKERED:
		return (((x - d.x) / TILE + (y - d.y) / TILE) & 1) == 0;
	case CHANGE_NOTHING:
		return 0;
	}
	return 0;
}

/*
 * Refreshes damage d of a frame from a desktop where change happened (and
 * where pixels outside d changed too, which the damage does not cover), then
 * checks what the comparison reported and what it left in the frame. Returns
 * the number of rectangles reported.
 */
static int check_damage(int width, int height, int bytes_per_pixel, struct kf_rect d,
			enum change change, int capacity)
{
	char where[160];
	snprintf(where, sizeof(where), "%dx%d damage %dx%d+%d+%d change %d capacity %d", width,
		 height, d.width, d.height, d.x, d.y, (int)change, capacity);
	uint32_t seed = (uint32_t)(d.x * 7919 + d.y * 104729 + d.width * 31 + d.height + 1);
	struct picture old = picture_new(width, height, bytes_per_pixel, seed);
	struct picture desktop = picture_copy(&old);
	for (int y = 0; y < height; y++)
		for (int x = 0; x < width; x++) {
			int is_damaged = is_inside(d, x, y);
			if ((is_damaged && is_changed_here(change, d, x, y, &seed)) ||
			    (!is_damaged && (x + y) % 5 == 0))
				invert_pixel(&desktop, x, y);
		}
	/* The grab: the damaged rectangle of the desktop at its origin, lines padded. */
	size_t grab_stride = (size_t)d.width * (size_t)bytes_per_pixel + 12;
	uint8_t *grab = calloc(grab_stride, (size_t)d.height);
	assert_non_null(grab);
	for (int row = 0; row < d.height; row++)
		memcpy(grab + (size_t)row * grab_stride, pixel(&desktop, d.x, d.y + row),
		       (size_t)d.width * (size_t)bytes_per_pixel);

	struct picture kept = picture_copy(&old);
	struct kf_tile_frame frame = {.pixels = kept.pixels,
				      .width = width,
				      .height = height,
				      .stride = kept.stride,
				      .bytes_per_pixel = bytes_per_pixel};
	struct kf_rect rects[KF_CAPTURE_MAX_RECTS];
	struct kf_rect_list changed = {.rects = rects, .capacity = capacity};
	kf_tiles_refresh(&frame, grab, grab_stride, d, TILE, &changed);

	for (int i = 0; i < changed.count; i++) {
		struct kf_rect r = rects[i];
		if (r.width <= 0 || r.height <= 0 || r.x < d.x || r.y < d.y ||
		    r.x + r.width > d.x + d.width || r.y + r.height > d.y + d.height)
			fail_msg("%s: rectangle %dx%d+%d+%d reaches outside the damage", where,
				 r.width, r.height, r.x, r.y);
	}
	int changed_pixels = 0;
	for (int y = 0; y < height; y++)
		for (int x = 0; x < width; x++) {
			if (!is_inside(d, x, y)) {
				if (!is_same_pixel(&kept, &old, x, y))
					fail_msg("%s: pixel %d,%d outside the damage was written",
						 where, x, y);
				continue;
			}
			if (!is_same_pixel(&kept, &desktop, x, y))
				fail_msg("%s: pixel %d,%d was not copied into the frame", where, x,
					 y);
			if (is_same_pixel(&old, &desktop, x, y))
				continue;
			changed_pixels++;
			int is_reported = 0;
			for (int i = 0; i < changed.count && !is_reported; i++)
				is_reported = is_inside(rects[i], x, y);
			if (!is_reported)
				fail_msg("%s: changed pixel %d,%d is in no reported rectangle",
					 where, x, y);
		}
	if (changed_pixels == 0 && changed.count != 0)
		fail_msg("%s: nothing changed but %d rectangles were reported", where,
			 changed.count);
	free(grab);
	free(old.pixels);
	free(desktop.pixels);
	free(kept.pixels);
	return changed.count;
}

static const int sizes[] = {1, 31, 32, 33, 100, SCREEN_WIDTH};

static void every_width_and_height_reports_every_changed_pixel(void **state)
{
	(void)state;
	for (size_t w = 0; w < sizeof(sizes) / sizeof(*sizes); w++)
		for (size_t h = 0; h < sizeof(sizes) / sizeof(*sizes); h++) {
			int width = sizes[w],
			    height = sizes[h] > SCREEN_HEIGHT ? SCREEN_HEIGHT : sizes[h];
			/* At the origin, at odd places, and against the right and bottom edges. */
			int xs[] = {0, 1, 17, SCREEN_WIDTH - width};
			int ys[] = {0, 3, 33, SCREEN_HEIGHT - height};
			for (int i = 0; i < 4; i++)
				for (int change = CHANGE_ALL; change <= CHANGE_NOTHING; change++) {
					int x = xs[i] + width > SCREEN_WIDTH ? 0 : xs[i];
					int y = ys[i] + height > SCREEN_HEIGHT ? 0 : ys[i];
					check_damage(SCREEN_WIDTH, SCREEN_HEIGHT, 4,
						     (struct kf_rect){x, y, width, height},
						     (enum change)change, KF_CAPTURE_MAX_RECTS);
				}
		}
}

static void a_run_that_reaches_the_right_edge_is_reported(void **state)
{
	(void)state;
	/* 33 wide: one full tile and one of a single column, the one that changed. */
	assert_int_equal(check_damage(SCREEN_WIDTH, SCREEN_HEIGHT, 4, (struct kf_rect){5, 7, 33, 9},
				      CHANGE_RIGHT_COLUMN, KF_CAPTURE_MAX_RECTS),
			 1);
	/* A whole changed damage is one run per row of tiles, not one per tile. */
	assert_int_equal(check_damage(SCREEN_WIDTH, SCREEN_HEIGHT, 4,
				      (struct kf_rect){0, 0, SCREEN_WIDTH, 100}, CHANGE_ALL,
				      KF_CAPTURE_MAX_RECTS),
			 4);
}

static void an_unchanged_redraw_reports_nothing(void **state)
{
	(void)state;
	assert_int_equal(check_damage(SCREEN_WIDTH, SCREEN_HEIGHT, 4,
				      (struct kf_rect){0, 0, SCREEN_WIDTH, SCREEN_HEIGHT},
				      CHANGE_NOTHING, KF_CAPTURE_MAX_RECTS),
			 0);
}

static void sixteen_and_eight_bit_pixels_are_compared_by_their_bytes(void **state)
{
	(void)state;
	for (int bytes = 1; bytes <= 2; bytes++)
		for (size_t w = 0; w < sizeof(sizes) / sizeof(*sizes); w++) {
			int width = sizes[w];
			check_damage(SCREEN_WIDTH, SCREEN_HEIGHT, bytes,
				     (struct kf_rect){SCREEN_WIDTH - width, SCREEN_HEIGHT - 33,
						      width, 33},
				     CHANGE_SCATTERED, KF_CAPTURE_MAX_RECTS);
			check_damage(SCREEN_WIDTH, SCREEN_HEIGHT, bytes,
				     (struct kf_rect){SCREEN_WIDTH - width, 1, width, 31},
				     CHANGE_LAST_PIXEL, KF_CAPTURE_MAX_RECTS);
		}
}

static void a_full_list_widens_its_last_rectangle_instead_of_dropping(void **state)
{
	(void)state;
	/* A checkerboard of tiles over the whole desktop is far more runs than three. */
	assert_int_equal(check_damage(SCREEN_WIDTH, SCREEN_HEIGHT, 4,
				      (struct kf_rect){1, 1, SCREEN_WIDTH - 1, SCREEN_HEIGHT - 1},
				      CHANGE_CHECKERED, 3),
			 3);
	struct kf_rect rects[2];
	struct kf_rect_list list = {.rects = rects, .capacity = 2};
	kf_rect_list_add(&list, (struct kf_rect){0, 0, 1, 1});
	kf_rect_list_add(&list, (struct kf_rect){10, 10, 5, 5});
	kf_rect_list_add(&list, (struct kf_rect){2, 30, 4, 2});
	assert_int_equal(list.count, 2);
	assert_int_equal(rects[1].x, 2);
	assert_int_equal(rects[1].y, 10);
	assert_int_equal(rects[1].width, 13);
	assert_int_equal(rects[1].height, 22);
}

static void damage_outside_the_frame_changes_nothing(void **state)
{
	(void)state;
	uint8_t pixels[4 * 4 * 4] = {0}, grab[4 * 4 * 4];
	memset(grab, 0xff, sizeof(grab));
	struct kf_tile_frame frame = {
		.pixels = pixels, .width = 4, .height = 4, .stride = 16, .bytes_per_pixel = 4};
	struct kf_rect rects[4];
	struct kf_rect_list list = {.rects = rects, .capacity = 4};
	kf_tiles_refresh(&frame, grab, 16, (struct kf_rect){2, 2, 3, 1}, TILE, &list);
	kf_tiles_refresh(&frame, grab, 16, (struct kf_rect){-1, 0, 2, 2}, TILE, &list);
	kf_tiles_refresh(&frame, grab, 16, (struct kf_rect){0, 0, 0, 2}, TILE, &list);
	kf_tiles_refresh(&frame, grab, 16, (struct kf_rect){0, 0, 2, 2}, 0, &list);
	assert_int_equal(list.count, 0);
	for (size_t i = 0; i < sizeof(pixels); i++)
		assert_int_equal(pixels[i], 0);
}

/*
 * A whole new picture with the given pixels inverted, refreshed into a frame of
 * the old one without any damage: the frame must become the picture, and every
 * pixel that changed must lie in a reported rectangle on the frame's tile grid.
 * Returns the number of rectangles reported.
 */
static int check_whole_picture(const int (*points)[2], int count)
{
	struct picture old = picture_new(SCREEN_WIDTH, SCREEN_HEIGHT, 4, 20261203);
	struct picture fresh = picture_copy(&old);
	/* Another stride than the frame's, its padding unlike the frame's. */
	size_t stride = (size_t)SCREEN_WIDTH * 4 + 20;
	uint8_t *picture = malloc(stride * SCREEN_HEIGHT);
	assert_non_null(picture);
	memset(picture, 0x5a, stride * SCREEN_HEIGHT);
	for (int i = 0; i < count; i++)
		invert_pixel(&fresh, points[i][0], points[i][1]);
	for (int row = 0; row < SCREEN_HEIGHT; row++)
		memcpy(picture + (size_t)row * stride, pixel(&fresh, 0, row),
		       (size_t)SCREEN_WIDTH * 4);
	struct picture kept = picture_copy(&old);
	struct kf_tile_frame frame = {.pixels = kept.pixels,
				      .width = SCREEN_WIDTH,
				      .height = SCREEN_HEIGHT,
				      .stride = kept.stride,
				      .bytes_per_pixel = 4};
	struct kf_rect rects[KF_CAPTURE_MAX_RECTS];
	struct kf_rect_list changed = {.rects = rects, .capacity = KF_CAPTURE_MAX_RECTS};
	kf_tiles_refresh_all(&frame, picture, stride, TILE, &changed);
	for (int i = 0; i < changed.count; i++)
		if (rects[i].x % TILE != 0 || rects[i].y % TILE != 0)
			fail_msg("rectangle %dx%d+%d+%d is off the tile grid", rects[i].width,
				 rects[i].height, rects[i].x, rects[i].y);
	for (int y = 0; y < SCREEN_HEIGHT; y++)
		for (int x = 0; x < SCREEN_WIDTH; x++)
			if (!is_same_pixel(&kept, &fresh, x, y))
				fail_msg("pixel %d,%d was not copied into the frame", x, y);
	for (int i = 0; i < count; i++) {
		int is_reported = 0;
		for (int r = 0; r < changed.count && !is_reported; r++)
			is_reported = is_inside(rects[r], points[i][0], points[i][1]);
		if (!is_reported)
			fail_msg("changed pixel %d,%d is in no reported rectangle", points[i][0],
				 points[i][1]);
	}
	free(picture);
	free(old.pixels);
	free(fresh.pixels);
	free(kept.pixels);
	return changed.count;
}

static void a_picture_without_damage_reports_every_changed_pixel(void **state)
{
	(void)state;
	/* The first and last lines and columns of bands, and the short band at the bottom. */
	static const int points[][2] = {
		{0, 0},
		{SCREEN_WIDTH - 1, TILE - 1},
		{5, TILE},
		{SCREEN_WIDTH - 1, 2 * TILE - 1},
		{TILE, 3 * TILE + 17},
		{0, SCREEN_HEIGHT - 1},
		{SCREEN_WIDTH - 1, SCREEN_HEIGHT - 1},
	};
	int count = (int)(sizeof(points) / sizeof(*points));
	for (int i = 0; i < count; i++)
		/* One pixel alone is one tile, whichever band it is in. */
		assert_int_equal(check_whole_picture(&points[i], 1), 1);
	/* All of them: one tile each, none lost to the bands passed over. */
	assert_int_equal(check_whole_picture(points, count), count);
	assert_int_equal(check_whole_picture(points, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_width_and_height_reports_every_changed_pixel),
		cmocka_unit_test(a_run_that_reaches_the_right_edge_is_reported),
		cmocka_unit_test(an_unchanged_redraw_reports_nothing),
		cmocka_unit_test(sixteen_and_eight_bit_pixels_are_compared_by_their_bytes),
		cmocka_unit_test(a_full_list_widens_its_last_rectangle_instead_of_dropping),
		cmocka_unit_test(damage_outside_the_frame_changes_nothing),
		cmocka_unit_test(a_picture_without_damage_reports_every_changed_pixel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
