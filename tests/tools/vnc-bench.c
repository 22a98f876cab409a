/* kefu test tool: a libvncclient that measures, snapshots, types. SPDX-License-Identifier: MIT */
/*
 *   vnc-bench measure HOST:PORT [--password P] [--seconds N] [--keys K]
 *                     [(--display D | --picture FILE) --workload-pid PID [--checks C]]
 *       Prints one JSON line: time to the first complete frame, updates,
 *       pixels and bytes per second over N seconds (and updates_total: every
 *       update of the connection), and the input-to-pixel
 *       latency (mean, p50, p95) of K key presses (each toggles the 33x33
 *       block at 1,1 of the x-draw workload between black and white). With --display, it then stops
 * the workload (SIGSTOP) C times (default 10) at random moments, waits for its picture to match the
 *       display's, and adds the share of the pixels changed on the display
 *       that reached it and the difference left at the end. With --picture
 *       FILE instead of --display, the truth is the picture a Wayland client
 *       shares in FILE (wl-draw workload, tests/tools/shown-picture.h), paused
 *       with SIGUSR1 and resumed with SIGUSR2 instead of SIGSTOP and SIGCONT.
 *   vnc-bench follow HOST:PORT [--password P] --display D [--area WxH+X+Y]
 *       Stays connected and compares its picture with the X display's root
 *       window (or the area of it the server shares): prints "ready W H" after
 *       the first frame, then answers each "check MS" on stdin, once the two
 *       match or MS milliseconds have passed, with "diff N size WxH x WxH
 *       ms T box X,Y,W,H" (N differing pixels, the viewer's and the display's
 *       size, the time it took, the box around what differs). The cursor is
 *       left out of both: the server sends it as a pseudo-encoding and X
 *       leaves it out of its images. "quit" or EOF ends it. Without --display
 *       (a Wayland desktop has no X picture to compare with) it answers only
 *       "save MS FILE.ppm": reads updates for MS milliseconds, writes its own
 *       picture as a binary PPM and prints "saved W H".
 *   Every mode takes [--encodings "tight zrle copyrect raw"] [--quality 0-9]: the
 *       encodings the viewer offers, best first (default "zrle hextile zlib copyrect raw"),
 *       and the JPEG quality level it asks for (default none: lossless only).
 *   vnc-bench snapshot HOST:PORT [--password P] --out FILE.ppm
 *       Writes the first complete frame as a binary PPM (lossless encodings).
 *   vnc-bench input HOST:PORT [--password P] [--click X,Y]... [--text TEXT] [--cut TEXT]
 *       Clicks (each --click in turn, up to 64, sent without waiting), types TEXT (one
 *       key press and release per character) and/or
 *       sends TEXT as the viewer's clipboard, then lingers 0.5 s and exits.
 *   vnc-bench watch HOST:PORT [--password P] [--seconds N]
 *       Prints "update" for every update, "size W H" when the size changes,
 *       "cursor W H" for each cursor shape and "cut TEXT" for the server's
 *       clipboard until the server closes or N seconds pass; exit 0 if closed.
 * Exit status: 0 done, 1 failed (cannot connect, refused, closed early), 2 usage.
 */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/keysym.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <rfb/rfbclient.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tests/tools/shown-picture.h"

struct bench {
	const char *password;
	const char *encodings; /* NULL: lossless, "zrle hextile zlib copyrect raw" */
	int quality;           /* JPEG quality level 0-9 the viewer asks for, or -1: none */
	double started;
	double first_frame;
	long updates;
	long long pixels;
	int is_watching;
	int shown_width, shown_height;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long bytes_read(void)
{
	/* Everything this process read: the RFB stream is nearly all of it. */
	FILE *file = fopen("/proc/self/io", "r");
	long long value = 0;
	char key[64];
	long long number;
	if (file == NULL)
		return 0;
	while (fscanf(file, "%63s %lld", key, &number) == 2)
		if (strcmp(key, "rchar:") == 0)
			value = number;
	fclose(file);
	return value;
}

static void quiet_log(const char *format, ...)
{
	(void)format;
}

static struct bench *bench_of(rfbClient *client)
{
	return rfbClientGetClientData(client, (void *)bench_of);
}

static char *get_password(rfbClient *client)
{
	struct bench *bench = bench_of(client);
	return strdup(bench->password ? bench->password : "");
}

static void got_update(rfbClient *client, int x, int y, int w, int h)
{
	(void)x;
	(void)y;
	bench_of(client)->pixels += (long long)w * h;
}

static void finished_update(rfbClient *client)
{
	struct bench *bench = bench_of(client);
	if (bench->first_frame == 0)
		bench->first_frame = now() - bench->started;
	bench->updates++;
	if (bench->is_watching) {
		if (client->width != bench->shown_width || client->height != bench->shown_height) {
			bench->shown_width = client->width;
			bench->shown_height = client->height;
			printf("size %d %d\n", client->width, client->height);
		}
		printf("update\n");
		fflush(stdout);
	}
}

static void got_cut_text(rfbClient *client, const char *text, int len)
{
	/* Only a watcher reports it: measure's one line of figures must stay alone. */
	if (!bench_of(client)->is_watching)
		return;
	printf("cut %.*s\n", len, text);
	fflush(stdout);
}

static void got_cursor(rfbClient *client, int xhot, int yhot, int width, int height,
		       int bytes_per_pixel)
{
	(void)xhot;
	(void)yhot;
	(void)bytes_per_pixel;
	if (bench_of(client)->is_watching) {
		printf("cursor %d %d\n", width, height);
		fflush(stdout);
	}
}

static rfbClient *connect_to(const char *target, struct bench *bench)
{
	char host[256];
	const char *colon = strrchr(target, ':');
	if (colon == NULL || (size_t)(colon - target) >= sizeof(host)) {
		fprintf(stderr, "vnc-bench: target must be HOST:PORT\n");
		return NULL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - target), target);
	rfbClient *client = rfbGetClient(8, 3, 4);
	rfbClientSetClientData(client, (void *)bench_of, bench);
	free(client->serverHost); /* rfbGetClient put an empty string there */
	client->serverHost = strdup(host);
	client->serverPort = atoi(colon + 1);
	client->GetPassword = get_password;
	client->GotFrameBufferUpdate = got_update;
	client->FinishedFrameBufferUpdate = finished_update;
	client->GotXCutText = got_cut_text;
	client->GotCursorShape = got_cursor;
	/* Lossless unless asked: the pixels must be the server's pixels. */
	client->appData.encodingsString =
		bench->encodings ? bench->encodings : "zrle hextile zlib copyrect raw";
	client->appData.enableJPEG = bench->quality >= 0 ? TRUE : FALSE;
	if (bench->quality >= 0)
		client->appData.qualityLevel = bench->quality;
	client->appData.useRemoteCursor = TRUE;
	client->canHandleNewFBSize = TRUE;
	bench->started = now();
	if (!rfbInitClient(client, NULL, NULL)) {
		fprintf(stderr, "vnc-bench: cannot connect to %s (refused or wrong password)\n",
			target);
		return NULL;
	}
	return client;
}

/* Handles messages until deadline; returns 0, or -1 when the server closed. */
static int pump(rfbClient *client, double deadline)
{
	while (now() < deadline) {
		/* A message already read into libvncclient's buffer never makes the socket ready.
		 */
		int n = client->buffered > 0 ? 1 : WaitForMessage(client, 10000);
		if (n < 0)
			return -1;
		if (n > 0 && !HandleRFBServerMessage(client))
			return -1;
	}
	return 0;
}

static uint32_t pixel_at(rfbClient *client, int x, int y)
{
	uint32_t pixel;
	memcpy(&pixel, client->frameBuffer + ((size_t)y * client->width + x) * 4, 4);
	return pixel & 0xffffff;
}

/* Light or dark: the key's block toggles between black and white, which JPEG keeps apart. */
static int is_light_at(rfbClient *client, int x, int y)
{
	uint32_t p = pixel_at(client, x, y);
	return (p & 0xff) + (p >> 8 & 0xff) + (p >> 16 & 0xff) > 384;
}

/*
 * The X display the server shares, read back to judge the viewer's picture; or
 * the picture a Wayland client shows, shared by it in a file.
 */
struct desktop {
	Display *display;
	const struct kf_shown_picture *shown;
	size_t shown_size;
	Window root;
	int is_area_fixed;
	int area_x, area_y, area_width, area_height;
	uint32_t masks[3];
	uint32_t *rgb; /* the last grab, 0xRRGGBB */
	int width, height;
};

struct difference {
	long count;
	int x1, y1, x2, y2; /* the box around the differing pixels */
};

static int desktop_open(struct desktop *desktop, const char *name, const char *area)
{
	memset(desktop, 0, sizeof(*desktop));
	if (area != NULL) {
		if (sscanf(area, "%dx%d+%d+%d", &desktop->area_width, &desktop->area_height,
			   &desktop->area_x, &desktop->area_y) != 4 ||
		    desktop->area_width <= 0 || desktop->area_height <= 0) {
			fprintf(stderr, "vnc-bench: --area must be WxH+X+Y\n");
			return -1;
		}
		desktop->is_area_fixed = 1;
	}
	desktop->display = XOpenDisplay(name);
	if (desktop->display == NULL) {
		fprintf(stderr, "vnc-bench: cannot open the X display %s\n", name);
		return -1;
	}
	int screen = DefaultScreen(desktop->display);
	desktop->root = RootWindow(desktop->display, screen);
	Visual *visual = DefaultVisual(desktop->display, screen);
	desktop->masks[0] = (uint32_t)visual->red_mask;
	desktop->masks[1] = (uint32_t)visual->green_mask;
	desktop->masks[2] = (uint32_t)visual->blue_mask;
	return 0;
}

static int desktop_open_picture(struct desktop *desktop, const char *path)
{
	memset(desktop, 0, sizeof(*desktop));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size < KF_SHOWN_PICTURE_OFFSET) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "vnc-bench: cannot read the picture file %s\n", path);
		return -1;
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		fprintf(stderr, "vnc-bench: cannot map the picture file %s\n", path);
		return -1;
	}
	const struct kf_shown_picture *shown = map;
	if (memcmp(shown->magic, KF_SHOWN_PICTURE_MAGIC, sizeof(shown->magic)) != 0 ||
	    shown->width == 0 || shown->height == 0 || shown->width > 16384 ||
	    shown->height > 16384 || shown->stride < shown->width * 4 ||
	    KF_SHOWN_PICTURE_OFFSET + (size_t)shown->stride * shown->height > (size_t)st.st_size) {
		munmap(map, (size_t)st.st_size);
		fprintf(stderr, "vnc-bench: %s is not a picture file of wl-draw workload\n", path);
		return -1;
	}
	desktop->shown = shown;
	desktop->shown_size = (size_t)st.st_size;
	return 0;
}

static int is_picture_paused(const struct desktop *desktop)
{
	return __atomic_load_n(&desktop->shown->state, __ATOMIC_ACQUIRE) == KF_SHOWN_PICTURE_PAUSED;
}

static void desktop_close(struct desktop *desktop)
{
	if (desktop->shown != NULL)
		munmap((void *)desktop->shown, desktop->shown_size);
	desktop->shown = NULL;
	if (desktop->display != NULL)
		XCloseDisplay(desktop->display);
	free(desktop->rgb);
	desktop->display = NULL;
	desktop->rgb = NULL;
}

/* Any channel mask scaled to 8 bits. */
static uint32_t channel(unsigned long pixel, uint32_t mask)
{
	int shift = __builtin_ctz(mask);
	uint32_t max = mask >> shift;
	return (uint32_t)(((pixel & mask) >> shift) * 255 / max);
}

/* The client's picture as it is now: cairo's RGB24 is 0x00RRGGBB already. */
static int picture_grab(struct desktop *desktop)
{
	const struct kf_shown_picture *shown = desktop->shown;
	int width = (int)shown->width, height = (int)shown->height;
	uint32_t *rgb = realloc(desktop->rgb, (size_t)width * (size_t)height * sizeof(*rgb));
	if (rgb == NULL)
		return -1;
	desktop->rgb = rgb;
	desktop->width = width;
	desktop->height = height;
	const uint8_t *pixels = (const uint8_t *)shown + KF_SHOWN_PICTURE_OFFSET;
	for (int row = 0; row < height; row++) {
		const uint32_t *line = (const uint32_t *)(pixels + (size_t)row * shown->stride);
		for (int column = 0; column < width; column++)
			rgb[(size_t)row * width + column] = line[column] & 0xffffff;
	}
	return 0;
}

static int desktop_grab(struct desktop *desktop)
{
	if (desktop->shown != NULL)
		return picture_grab(desktop);
	int x = desktop->area_x, y = desktop->area_y;
	int width = desktop->area_width, height = desktop->area_height;
	if (!desktop->is_area_fixed) {
		XWindowAttributes attributes;
		if (!XGetWindowAttributes(desktop->display, desktop->root, &attributes))
			return -1;
		width = attributes.width;
		height = attributes.height;
	}
	XImage *image = XGetImage(desktop->display, desktop->root, x, y, (unsigned)width,
				  (unsigned)height, AllPlanes, ZPixmap);
	if (image == NULL)
		return -1;
	uint32_t *rgb = realloc(desktop->rgb, (size_t)width * (size_t)height * sizeof(*rgb));
	if (rgb == NULL) {
		XDestroyImage(image);
		return -1;
	}
	desktop->rgb = rgb;
	desktop->width = width;
	desktop->height = height;
	for (int row = 0; row < height; row++)
		for (int column = 0; column < width; column++) {
			unsigned long p = XGetPixel(image, column, row);
			rgb[(size_t)row * width + column] = channel(p, desktop->masks[0]) << 16 |
							    channel(p, desktop->masks[1]) << 8 |
							    channel(p, desktop->masks[2]);
		}
	XDestroyImage(image);
	return 0;
}

/* The viewer's pixel as 0xRRGGBB (our format has red in the low byte). */
static uint32_t viewer_rgb(rfbClient *client, int x, int y)
{
	uint32_t p = pixel_at(client, x, y);
	return (p & 0xff) << 16 | (p & 0xff00) | ((p >> 16) & 0xff);
}

static void compare(rfbClient *client, const struct desktop *desktop, struct difference *out)
{
	*out = (struct difference){0, desktop->width, desktop->height, -1, -1};
	if (client->width != desktop->width || client->height != desktop->height) {
		/* A picture of the wrong size is wrong everywhere. */
		*out = (struct difference){(long)desktop->width * desktop->height, 0, 0,
					   desktop->width - 1, desktop->height - 1};
		return;
	}
	for (int y = 0; y < desktop->height; y++)
		for (int x = 0; x < desktop->width; x++) {
			if (viewer_rgb(client, x, y) ==
			    desktop->rgb[(size_t)y * desktop->width + x])
				continue;
			out->count++;
			if (x < out->x1)
				out->x1 = x;
			if (y < out->y1)
				out->y1 = y;
			if (x > out->x2)
				out->x2 = x;
			if (y > out->y2)
				out->y2 = y;
		}
}

/*
 * Reads updates until the viewer's picture equals the display's or timeout
 * seconds pass; the display is read again each time, so a picture still
 * settling is waited for. Returns -1 when the server closed or X failed.
 */
static int converge(rfbClient *client, struct desktop *desktop, double timeout,
		    struct difference *difference, double *took)
{
	double started = now();
	for (;;) {
		if (pump(client, now() + 0.002) != 0 || desktop_grab(desktop) != 0)
			return -1;
		compare(client, desktop, difference);
		*took = now() - started;
		if (difference->count == 0 || *took >= timeout)
			return 0;
		if (pump(client, now() + 0.02) != 0)
			return -1;
	}
}

static void print_difference(const rfbClient *client, const struct desktop *desktop,
			     const struct difference *d, double took)
{
	printf("diff %ld size %dx%d x %dx%d ms %.0f box %d,%d,%d,%d\n", d->count, client->width,
	       client->height, desktop->width, desktop->height, took * 1000, d->count ? d->x1 : 0,
	       d->count ? d->y1 : 0, d->count ? d->x2 - d->x1 + 1 : 0,
	       d->count ? d->y2 - d->y1 + 1 : 0);
	fflush(stdout);
}

static int wait_first_frame(rfbClient *client, struct bench *bench, double seconds)
{
	double deadline = now() + seconds;
	while (bench->first_frame == 0 && now() < deadline)
		if (pump(client, now() + 0.01) != 0)
			return -1;
	return bench->first_frame == 0 ? -1 : 0;
}

static int write_ppm(rfbClient *client, const char *out);

static int follow(rfbClient *client, struct bench *bench, struct desktop *desktop)
{
	if (wait_first_frame(client, bench, 20) != 0)
		return 1;
	printf("ready %d %d\n", client->width, client->height);
	fflush(stdout);
	char line[128];
	size_t len = 0;
	for (;;) {
		struct pollfd fds[2] = {{.fd = 0, .events = POLLIN},
					{.fd = client->sock, .events = POLLIN}};
		if (client->buffered == 0 && poll(fds, 2, 100) < 0 && errno != EINTR)
			return 1;
		if (client->buffered > 0 || (fds[1].revents & (POLLIN | POLLHUP)))
			if (!HandleRFBServerMessage(client))
				return 1;
		if (!(fds[0].revents & (POLLIN | POLLHUP)))
			continue;
		char c;
		ssize_t n = read(0, &c, 1);
		if (n <= 0)
			return 0;
		if (c != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = c;
			continue;
		}
		line[len] = '\0';
		len = 0;
		int ms, at;
		if (strcmp(line, "quit") == 0)
			return 0;
		if (sscanf(line, "save %d %n", &ms, &at) == 1 && ms >= 0 && ms <= 600000 &&
		    line[at] != '\0') {
			if (pump(client, now() + ms / 1000.0) != 0 ||
			    write_ppm(client, line + at) != 0)
				return 1;
			printf("saved %d %d\n", client->width, client->height);
			fflush(stdout);
		} else if (desktop->display != NULL && sscanf(line, "check %d", &ms) == 1 &&
			   ms >= 0 && ms <= 600000) {
			struct difference difference;
			double took;
			if (converge(client, desktop, ms / 1000.0, &difference, &took) != 0)
				return 1;
			print_difference(client, desktop, &difference, took);
		} else {
			printf("error unknown command '%s'\n", line);
			fflush(stdout);
		}
	}
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of n sorted values. */
static double percentile(const double *sorted, int n, int percent)
{
	if (n == 0)
		return -1;
	int rank = (percent * n + 99) / 100;
	return sorted[rank < 1 ? 0 : rank - 1];
}

struct delivery {
	long long changed, lost;
	long final_diff;
	struct difference final;  /* where the last difference lies */
	int pointer_x, pointer_y; /* and where the pointer was then */
	int checks;
	double settle_ms_max;
};

/*
 * Stops the workload: an X client is stopped outright (the X server holds what it
 * drew), a Wayland client is asked to pause once its last frame is the compositor's,
 * and is waited for (at most 2 s, reading the viewer's updates meanwhile).
 */
static int workload_pause(rfbClient *client, const struct desktop *desktop, pid_t workload)
{
	if (desktop->shown == NULL)
		return kill(workload, SIGSTOP);
	kill(workload, SIGUSR1);
	double deadline = now() + 2;
	while (!is_picture_paused(desktop) && now() < deadline)
		if (pump(client, now() + 0.002) != 0)
			return -1;
	return is_picture_paused(desktop) ? 0 : -1;
}

static void workload_resume(const struct desktop *desktop, pid_t workload)
{
	if (desktop->shown == NULL) {
		kill(workload, SIGCONT);
		return;
	}
	kill(workload, SIGUSR2);
	/* Running again before the next pause is asked for, so the two signals never merge. */
	double deadline = now() + 2;
	while (is_picture_paused(desktop) && now() < deadline)
		usleep(1000);
}

/*
 * At random moments stops the workload, lets the viewer catch up and counts
 * the pixels the display changed since the last stop that the viewer does not
 * show: a change the server never reported stays missing however long it waits.
 */
static int measure_delivery(rfbClient *client, struct desktop *desktop, pid_t workload, int checks,
			    struct delivery *out)
{
	const double settle = 1.5;
	*out = (struct delivery){0};
	uint32_t *before = NULL;
	size_t before_count = 0;
	unsigned seed = 20261202;
	int rc = 0;
	for (int i = 0; i <= checks && rc == 0; i++) {
		if (i > 0) {
			workload_resume(desktop, workload);
			if (pump(client, now() + 0.1 + (rand_r(&seed) % 500) / 1000.0) != 0) {
				rc = -1;
				break;
			}
		}
		/* What the workload had sent before it stopped reaches the display first. */
		if (workload_pause(client, desktop, workload) != 0 ||
		    pump(client, now() + 0.05) != 0) {
			rc = -1;
			break;
		}
		struct difference difference;
		double took;
		if (converge(client, desktop, settle, &difference, &took) != 0) {
			rc = -1;
			break;
		}
		size_t count = (size_t)desktop->width * desktop->height;
		if (i > 0 && before_count == count && client->width == desktop->width &&
		    client->height == desktop->height) {
			for (size_t p = 0; p < count; p++) {
				if (desktop->rgb[p] == before[p])
					continue;
				out->changed++;
				int x = (int)(p % desktop->width), y = (int)(p / desktop->width);
				if (viewer_rgb(client, x, y) != desktop->rgb[p])
					out->lost++;
			}
			out->checks++;
		}
		if (took * 1000 > out->settle_ms_max)
			out->settle_ms_max = took * 1000;
		out->final_diff = difference.count;
		out->final = difference;
		Window root, child;
		int window_x, window_y;
		unsigned mask;
		if (desktop->display == NULL ||
		    !XQueryPointer(desktop->display, desktop->root, &root, &child, &out->pointer_x,
				   &out->pointer_y, &window_x, &window_y, &mask))
			out->pointer_x = out->pointer_y = -1;
		out->pointer_x -= desktop->area_x;
		out->pointer_y -= desktop->area_y;
		uint32_t *copy = realloc(before, count * sizeof(*copy));
		if (copy == NULL) {
			rc = -1;
			break;
		}
		before = copy;
		before_count = count;
		memcpy(before, desktop->rgb, count * sizeof(*copy));
	}
	workload_resume(desktop, workload);
	free(before);
	return rc;
}

#define MAX_PRESSES 1000

static int closed_during(const char *what)
{
	fprintf(stderr, "vnc-bench: the connection ended (or X failed) during %s\n", what);
	return 1;
}

static int measure(rfbClient *client, struct bench *bench, double seconds, int keys,
		   struct desktop *desktop, pid_t workload, int checks)
{
	while (bench->first_frame == 0)
		if (pump(client, now() + 0.01) != 0)
			return closed_during("the first frame");
	long updates0 = bench->updates;
	long long pixels0 = bench->pixels, bytes0 = bytes_read();
	double t0 = now();
	if (pump(client, t0 + seconds) != 0)
		return closed_during("the throughput measurement");
	double elapsed = now() - t0;
	long updates = bench->updates - updates0;
	long long pixels = bench->pixels - pixels0, bytes = bytes_read() - bytes0;
	static double latencies[MAX_PRESSES];
	double latency_sum = 0;
	int latency_count = 0;
	for (int i = 0; i < keys && i < MAX_PRESSES; i++) {
		int before = is_light_at(client, 10, 10);
		double sent = now();
		SendKeyEvent(client, XK_space, TRUE);
		SendKeyEvent(client, XK_space, FALSE);
		while (now() - sent < 2.0 && is_light_at(client, 10, 10) == before)
			if (pump(client, now() + 0.001) != 0)
				return closed_during("the key presses");
		if (is_light_at(client, 10, 10) != before) {
			latencies[latency_count] = (now() - sent) * 1000;
			latency_sum += latencies[latency_count++];
		}
		pump(client, now() + 0.05 + (i % 5) * 0.013);
	}
	qsort(latencies, (size_t)latency_count, sizeof(*latencies), compare_doubles);
	struct delivery delivery = {0};
	if ((desktop->display != NULL || desktop->shown != NULL) &&
	    measure_delivery(client, desktop, workload, checks, &delivery) != 0)
		return closed_during("the pixel comparisons");
	printf("{\"first_frame_ms\": %.2f, \"updates_per_s\": %.2f, \"pixels_per_s\": %.0f, "
	       "\"bytes_per_s\": %.0f, \"latency_ms\": %.2f, \"latency_p50_ms\": %.2f, "
	       "\"latency_p95_ms\": %.2f, \"latency_samples\": %d, \"presses\": %d, "
	       "\"width\": %d, \"height\": %d, \"updates_total\": %ld",
	       bench->first_frame * 1000, updates / elapsed, pixels / elapsed, bytes / elapsed,
	       latency_count ? latency_sum / latency_count : -1.0,
	       percentile(latencies, latency_count, 50), percentile(latencies, latency_count, 95),
	       latency_count, keys, client->width, client->height, bench->updates);
	if (desktop->display != NULL || desktop->shown != NULL)
		printf(", \"checks\": %d, \"changed_pixels\": %lld, \"lost_pixels\": %lld, "
		       "\"delivered_share\": %.6f, \"final_diff\": %ld, \"final_box\": [%d, %d, "
		       "%d, %d], \"pointer\": [%d, %d], \"settle_ms_max\": %.0f",
		       delivery.checks, delivery.changed, delivery.lost,
		       delivery.changed ? 1.0 - (double)delivery.lost / delivery.changed : -1.0,
		       delivery.final_diff, delivery.final_diff ? delivery.final.x1 : 0,
		       delivery.final_diff ? delivery.final.y1 : 0,
		       delivery.final_diff ? delivery.final.x2 - delivery.final.x1 + 1 : 0,
		       delivery.final_diff ? delivery.final.y2 - delivery.final.y1 + 1 : 0,
		       delivery.pointer_x, delivery.pointer_y, delivery.settle_ms_max);
	printf("}\n");
	return 0;
}

static int snapshot(rfbClient *client, struct bench *bench, const char *out)
{
	double deadline = now() + 20;
	while (bench->first_frame == 0 && now() < deadline)
		if (pump(client, now() + 0.01) != 0)
			return 1;
	if (bench->first_frame == 0)
		return 1;
	return write_ppm(client, out);
}

/* The viewer's picture as a binary PPM, written whole or not at all. */
static int write_ppm(rfbClient *client, const char *out)
{
	char temp[4096];
	snprintf(temp, sizeof(temp), "%s.tmp", out);
	FILE *file = fopen(temp, "wb");
	if (file == NULL)
		return 1;
	fprintf(file, "P6\n%d %d\n255\n", client->width, client->height);
	for (int y = 0; y < client->height; y++)
		for (int x = 0; x < client->width; x++) {
			uint32_t p = pixel_at(client, x, y);
			/* Our format: red in the low byte (shift 0), as rfbGetClient(8,3,4) asks.
			 */
			unsigned char rgb[3] = {(unsigned char)(p & 0xff), (unsigned char)(p >> 8),
						(unsigned char)(p >> 16)};
			fwrite(rgb, 1, 3, file);
		}
	if (fclose(file) != 0 || rename(temp, out) != 0)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: vnc-bench measure|snapshot|input|watch|follow HOST:PORT "
				"[options]\n");
		return 2;
	}
	const char *mode = argv[1], *target = argv[2], *out = NULL, *text = NULL, *cut = NULL;
	const char *clicks[64], *display = NULL, *area = NULL, *picture = NULL;
	int click_count = 0;
	double seconds = 5;
	int keys = 0, checks = 10;
	pid_t workload = 0;
	struct bench bench = {.quality = -1};
	for (int i = 3; i < argc; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (value == NULL) {
			fprintf(stderr, "vnc-bench: %s needs a value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--password") == 0)
			bench.password = value;
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(value);
		else if (strcmp(argv[i], "--keys") == 0)
			keys = atoi(value);
		else if (strcmp(argv[i], "--display") == 0)
			display = value;
		else if (strcmp(argv[i], "--picture") == 0)
			picture = value;
		else if (strcmp(argv[i], "--area") == 0)
			area = value;
		else if (strcmp(argv[i], "--workload-pid") == 0)
			workload = (pid_t)atoi(value);
		else if (strcmp(argv[i], "--checks") == 0)
			checks = atoi(value);
		else if (strcmp(argv[i], "--encodings") == 0)
			bench.encodings = value;
		else if (strcmp(argv[i], "--quality") == 0)
			bench.quality = atoi(value);
		else if (strcmp(argv[i], "--out") == 0)
			out = value;
		else if (strcmp(argv[i], "--text") == 0)
			text = value;
		else if (strcmp(argv[i], "--cut") == 0)
			cut = value;
		else if (strcmp(argv[i], "--click") == 0 && click_count == 64) {
			fprintf(stderr, "vnc-bench: at most 64 --click\n");
			return 2;
		} else if (strcmp(argv[i], "--click") == 0)
			clicks[click_count++] = value;
		else {
			fprintf(stderr, "vnc-bench: unknown option %s\n", argv[i]);
			return 2;
		}
		i++;
	}
	if (keys < 0 || checks < 0 || bench.quality < -1 || bench.quality > 9 ||
	    (strcmp(mode, "measure") == 0 && display != NULL && workload <= 0)) {
		fprintf(stderr, "vnc-bench: measure --display needs --workload-pid; counts "
				"cannot be negative; --quality is 0-9\n");
		return 2;
	}
	struct desktop desktop = {0};
	if (display != NULL && desktop_open(&desktop, display, area) != 0)
		return 1;
	if (picture != NULL && (display != NULL || strcmp(mode, "measure") != 0 || workload <= 0)) {
		fprintf(stderr, "vnc-bench: --picture is for measure, with --workload-pid and "
				"without --display\n");
		desktop_close(&desktop);
		return 2;
	}
	if (picture != NULL && desktop_open_picture(&desktop, picture) != 0)
		return 1;
	rfbClientLog = quiet_log;
	rfbClientErr = quiet_log;
	bench.is_watching = strcmp(mode, "watch") == 0;
	rfbClient *client = connect_to(target, &bench);
	if (client == NULL) {
		desktop_close(&desktop);
		return 1;
	}
	int rc = 0;
	if (strcmp(mode, "measure") == 0) {
		rc = measure(client, &bench, seconds, keys, &desktop, workload, checks);
	} else if (strcmp(mode, "follow") == 0) {
		rc = follow(client, &bench, &desktop);
	} else if (strcmp(mode, "snapshot") == 0 && out != NULL) {
		rc = snapshot(client, &bench, out);
	} else if (strcmp(mode, "input") == 0) {
		pump(client, now() + 0.2);
		for (int i = 0; i < click_count; i++) {
			int x, y;
			if (sscanf(clicks[i], "%d,%d", &x, &y) != 2)
				continue;
			SendPointerEvent(client, x, y, 0);
			SendPointerEvent(client, x, y, 1);
			SendPointerEvent(client, x, y, 0);
		}
		for (const char *c = text; c != NULL && *c; c++) {
			SendKeyEvent(client, (uint32_t)(unsigned char)*c, TRUE);
			SendKeyEvent(client, (uint32_t)(unsigned char)*c, FALSE);
		}
		if (cut != NULL)
			SendClientCutText(client, (char *)cut, (int)strlen(cut));
		rc = pump(client, now() + 0.5) == 0 ? 0 : 1;
	} else if (strcmp(mode, "watch") == 0) {
		rc = pump(client, now() + seconds) == 0 ? 1 : 0;
	} else {
		fprintf(stderr, "vnc-bench: unknown mode or missing --out\n");
		rc = 2;
	}
	/* libvncclient leaves the framebuffer and the cursor's shape to its user. */
	free(client->frameBuffer);
	free(client->rcSource);
	free(client->rcMask);
	rfbClientCleanup(client);
	desktop_close(&desktop);
	return rc;
}
