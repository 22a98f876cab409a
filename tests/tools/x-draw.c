/* kefu test tool: known pixels and workloads on an X display. SPDX-License-Identifier: MIT */
/*
 *   x-draw [--display D] pattern
 *       A full-screen window of 32x32 solid blocks; block (bx, by) has colour
 *       red (bx*40+by*7)%256, green (by*40+bx*11)%256, blue (bx*by*13+60)%256.
 *   x-draw [--display D] workload [--fps N] [--video WxH]
 *       A full-screen window with a 100x100 square moving N times a second
 *       (default 60) and a line of text scrolling up; with --video, also a
 *       WxH picture of gradients and grain (as "photo" below) near the top
 *       right, a new one every 4th frame, as a video plays; a key or button press
 *       turns the 33x33 block at 1,1 from black to white and back (for
 *       input-to-pixel latency; odd on purpose, as most changes on a desktop
 *       are not aligned to anything).
 *   x-draw [--display D] rects
 *       Draws on the root window itself, over any window on it (so that it
 *       covers a screen that grows and whatever is shown), what stdin says, one command a line,
 * each answered "ok" once the X server has done it: "fill X Y W H RRGGBB" (a solid rectangle),
 *       "photo X Y W H SEED" (a picture of smooth gradients and grain, as photographs
 *       and video have: what lossy encodings are for), "pointer X Y" (moves the pointer),
 *       "cursor N" (the root window's cursor
 *       becomes glyph N of the cursor font), "quit". EOF quits.
 * Prints "ready" once the window is on the screen; runs until killed.
 */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/cursorfont.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned long rgb(Display *display, int r, int g, int b)
{
	Visual *visual = DefaultVisual(display, DefaultScreen(display));
	unsigned long pixel = 0;
	unsigned long masks[3] = {visual->red_mask, visual->green_mask, visual->blue_mask};
	int values[3] = {r, g, b};
	for (int i = 0; i < 3; i++) {
		unsigned long mask = masks[i];
		int shift = __builtin_ctzl(mask);
		unsigned long max = mask >> shift;
		pixel |= ((unsigned long)values[i] * max / 255) << shift;
	}
	return pixel;
}

static Window open_window(Display *display, long events)
{
	int screen = DefaultScreen(display);
	XSetWindowAttributes attributes = {.override_redirect = True,
					   .background_pixel = BlackPixel(display, screen),
					   .event_mask =
						   events | ExposureMask | StructureNotifyMask};
	Window window = XCreateWindow(
		display, RootWindow(display, screen), 0, 0, (unsigned)DisplayWidth(display, screen),
		(unsigned)DisplayHeight(display, screen), 0, CopyFromParent, InputOutput,
		CopyFromParent, CWOverrideRedirect | CWBackPixel | CWEventMask, &attributes);
	XMapRaised(display, window);
	for (;;) {
		XEvent event;
		XNextEvent(display, &event);
		if (event.type == Expose)
			break;
	}
	return window;
}

static void draw_pattern(Display *display, Window window, GC gc)
{
	int screen = DefaultScreen(display);
	int width = DisplayWidth(display, screen), height = DisplayHeight(display, screen);
	for (int by = 0; by * 32 < height; by++)
		for (int bx = 0; bx * 32 < width; bx++) {
			XSetForeground(display, gc,
				       rgb(display, (bx * 40 + by * 7) % 256,
					   (by * 40 + bx * 11) % 256, (bx * by * 13 + 60) % 256));
			XFillRectangle(display, window, gc, bx * 32, by * 32, 32, 32);
		}
	XSync(display, False);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void draw_photo(Display *display, Window root, GC gc, int x0, int y0, int w, int h,
		       unsigned seed);

static int run_workload(Display *display, int fps, int video_width, int video_height)
{
	int screen = DefaultScreen(display);
	int width = DisplayWidth(display, screen), height = DisplayHeight(display, screen);
	Window window = open_window(display, ButtonPressMask | KeyPressMask);
	GC gc = XCreateGC(display, window, 0, NULL);
	unsigned long black = rgb(display, 0, 0, 0), white = rgb(display, 255, 255, 255);
	unsigned long square = rgb(display, 230, 120, 20), text = rgb(display, 200, 200, 200);
	int text_top = height - 200, line = 0, marker = 0;
	int x = 100, y = 150, dx = 12, dy = 5;
	XSetForeground(display, gc, black);
	XFillRectangle(display, window, gc, 0, 0, (unsigned)width, (unsigned)height);
	XSync(display, False);
	printf("ready\n");
	fflush(stdout);
	double next = now();
	for (int frame = 0;; frame++) {
		while (XPending(display)) {
			XEvent event;
			XNextEvent(display, &event);
			if (event.type == ButtonPress || event.type == KeyPress) {
				marker = !marker;
				XSetForeground(display, gc, marker ? white : black);
				XFillRectangle(display, window, gc, 1, 1, 33, 33);
			}
		}
		/* The square: erase the old place, draw the new one. */
		XSetForeground(display, gc, black);
		XFillRectangle(display, window, gc, x, y, 100, 100);
		x += dx;
		y += dy;
		if (x < 80 || x + 100 > width) {
			dx = -dx;
			x += 2 * dx;
		}
		if (y < 80 || y + 100 > text_top) {
			dy = -dy;
			y += 2 * dy;
		}
		XSetForeground(display, gc, square);
		XFillRectangle(display, window, gc, x, y, 100, 100);
		if (video_width > 0 && frame % 4 == 2)
			draw_photo(display, window, gc, width - video_width - 40, 60, video_width,
				   video_height, (unsigned)frame);
		/* The text: every 4th frame scroll the strip up one line and write a new one. */
		if (frame % 4 == 0) {
			XCopyArea(display, window, window, gc, 0, text_top + 16, (unsigned)width,
				  184, 0, text_top);
			XSetForeground(display, gc, black);
			XFillRectangle(display, window, gc, 0, height - 16, (unsigned)width, 16);
			char buffer[160];
			snprintf(
				buffer, sizeof(buffer),
				"line %06d: the quick brown fox jumps over the lazy dog 0123456789",
				line++);
			XSetForeground(display, gc, text);
			XDrawString(display, window, gc, 8, height - 4, buffer,
				    (int)strlen(buffer));
		}
		XFlush(display);
		next += 1.0 / fps;
		double wait = next - now();
		if (wait > 0)
			usleep((useconds_t)(wait * 1e6));
		else
			next = now();
	}
	return 0;
}

/* Smooth colour ramps with a little grain: every pixel differs from its neighbours. */
static void draw_photo(Display *display, Window root, GC gc, int x0, int y0, int w, int h,
		       unsigned seed)
{
	XImage *image =
		XGetImage(display, root, x0, y0, (unsigned)w, (unsigned)h, AllPlanes, ZPixmap);
	if (image == NULL)
		return;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			seed = seed * 1103515245u + 12345u;
			int grain = (int)((seed >> 16) % 17) - 8;
			int r = (x * 255 / (w > 1 ? w - 1 : 1) + grain) & 0xff;
			int g = (y * 255 / (h > 1 ? h - 1 : 1) + grain) & 0xff;
			int b = ((x + y) * 127 / (w + h) + 64 + grain) & 0xff;
			XPutPixel(image, x, y, rgb(display, r, g, b));
		}
	XPutImage(display, root, gc, image, 0, 0, x0, y0, (unsigned)w, (unsigned)h);
	XDestroyImage(image);
}

static int run_rects(Display *display)
{
	Window root = DefaultRootWindow(display);
	GC gc = XCreateGC(display, root, 0, NULL);
	/* Over any window too, as a screen's content changes whoever draws it. */
	XSetSubwindowMode(display, gc, IncludeInferiors);
	printf("ready\n");
	fflush(stdout);
	char line[256];
	while (fgets(line, sizeof(line), stdin) != NULL) {
		int x, y, w, h, glyph;
		unsigned colour;
		if (sscanf(line, "fill %d %d %d %d %x", &x, &y, &w, &h, &colour) == 5 && w > 0 &&
		    h > 0) {
			XSetForeground(display, gc,
				       rgb(display, (int)(colour >> 16) & 0xff,
					   (int)(colour >> 8) & 0xff, (int)colour & 0xff));
			XFillRectangle(display, root, gc, x, y, (unsigned)w, (unsigned)h);
		} else if (sscanf(line, "photo %d %d %d %d %u", &x, &y, &w, &h, &colour) == 5 &&
			   w > 0 && h > 0 && w <= 4096 && h <= 4096) {
			draw_photo(display, root, gc, x, y, w, h, colour);
		} else if (sscanf(line, "pointer %d %d", &x, &y) == 2) {
			XWarpPointer(display, None, root, 0, 0, 0, 0, x, y);
		} else if (sscanf(line, "cursor %d", &glyph) == 1 && glyph >= 0 &&
			   glyph < XC_num_glyphs) {
			XDefineCursor(display, root, XCreateFontCursor(display, (unsigned)glyph));
		} else if (strcmp(line, "quit\n") == 0) {
			break;
		} else {
			printf("error %s", line);
			fflush(stdout);
			continue;
		}
		XSync(display, False);
		printf("ok\n");
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = NULL, *mode = NULL;
	int fps = 60, video_width = 0, video_height = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--display") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--video") == 0 && i + 1 < argc) {
			if (sscanf(argv[++i], "%dx%d", &video_width, &video_height) != 2 ||
			    video_width <= 0 || video_height <= 0 || video_width > 4096 ||
			    video_height > 4096) {
				fprintf(stderr, "x-draw: --video must be WxH\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--fps") == 0 && i + 1 < argc)
			fps = atoi(argv[++i]);
		else
			mode = argv[i];
	}
	if (mode == NULL || fps <= 0) {
		fprintf(stderr, "usage: x-draw [--display D] pattern|workload|rects [--fps N]\n");
		return 2;
	}
	Display *display = XOpenDisplay(name);
	if (display == NULL) {
		fprintf(stderr, "x-draw: cannot open the display\n");
		return 1;
	}
	if (strcmp(mode, "workload") == 0)
		return run_workload(display, fps, video_width, video_height);
	if (strcmp(mode, "rects") == 0)
		return run_rects(display);
	if (strcmp(mode, "pattern") != 0) {
		fprintf(stderr, "x-draw: unknown mode '%s'\n", mode);
		return 2;
	}
	Window window = open_window(display, 0);
	GC gc = XCreateGC(display, window, 0, NULL);
	draw_pattern(display, window, gc);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		XEvent event;
		XNextEvent(display, &event);
		if (event.type == Expose && event.xexpose.count == 0)
			draw_pattern(display, window, gc);
	}
}
