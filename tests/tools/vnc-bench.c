/* kefu test tool: a libvncclient that measures, snapshots, types. SPDX-License-Identifier: MIT */
/*
 *   vnc-bench measure HOST:PORT [--password P] [--seconds N] [--clicks K]
 *       Prints one JSON line: time to the first complete frame, updates,
 *       pixels and bytes per second over N seconds, and the input-to-pixel
 *       latency of K clicks (each toggles the 64x64 block at the top left of
 *       the x-draw workload between black and white).
 *   vnc-bench snapshot HOST:PORT [--password P] --out FILE.ppm
 *       Writes the first complete frame as a binary PPM (lossless encodings).
 *   vnc-bench input HOST:PORT [--password P] [--click X,Y] [--text TEXT] [--cut TEXT]
 *       Clicks, types TEXT (one key press and release per character) and/or
 *       sends TEXT as the viewer's clipboard, then lingers 0.5 s and exits.
 *   vnc-bench watch HOST:PORT [--password P] [--seconds N]
 *       Prints "update" for every update, "size W H" when the size changes,
 *       "cursor W H" for each cursor shape and "cut TEXT" for the server's
 *       clipboard until the server closes or N seconds pass; exit 0 if closed.
 * Exit status: 0 done, 1 failed (cannot connect, refused, closed early), 2 usage.
 */
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bench {
	const char *password;
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
	(void)client;
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
	/* Lossless only: the pixels must be the server's pixels. */
	client->appData.encodingsString = "zrle hextile zlib copyrect raw";
	client->appData.enableJPEG = FALSE;
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
		int n = WaitForMessage(client, 10000);
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

static int measure(rfbClient *client, struct bench *bench, double seconds, int clicks)
{
	while (bench->first_frame == 0)
		if (pump(client, now() + 0.01) != 0)
			return 1;
	long updates0 = bench->updates;
	long long pixels0 = bench->pixels, bytes0 = bytes_read();
	double t0 = now();
	if (pump(client, t0 + seconds) != 0)
		return 1;
	double elapsed = now() - t0;
	long updates = bench->updates - updates0;
	long long pixels = bench->pixels - pixels0, bytes = bytes_read() - bytes0;
	double latency_sum = 0;
	int latency_count = 0;
	for (int i = 0; i < clicks; i++) {
		uint32_t before = pixel_at(client, 10, 10);
		double sent = now();
		SendPointerEvent(client, client->width / 2, client->height / 2, 1);
		SendPointerEvent(client, client->width / 2, client->height / 2, 0);
		while (now() - sent < 2.0 && pixel_at(client, 10, 10) == before)
			if (pump(client, now() + 0.001) != 0)
				return 1;
		if (pixel_at(client, 10, 10) != before) {
			latency_sum += now() - sent;
			latency_count++;
		}
		pump(client, now() + 0.05);
	}
	printf("{\"first_frame_ms\": %.2f, \"updates_per_s\": %.2f, \"pixels_per_s\": %.0f, "
	       "\"bytes_per_s\": %.0f, \"latency_ms\": %s%.2f, \"latency_samples\": %d, "
	       "\"width\": %d, \"height\": %d}\n",
	       bench->first_frame * 1000, updates / elapsed, pixels / elapsed, bytes / elapsed, "",
	       latency_count ? latency_sum / latency_count * 1000 : -1.0, latency_count,
	       client->width, client->height);
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
		fprintf(stderr,
			"usage: vnc-bench measure|snapshot|input|watch HOST:PORT [options]\n");
		return 2;
	}
	const char *mode = argv[1], *target = argv[2], *out = NULL, *text = NULL, *cut = NULL;
	const char *click = NULL;
	double seconds = 5;
	int clicks = 0;
	struct bench bench = {0};
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
		else if (strcmp(argv[i], "--clicks") == 0)
			clicks = atoi(value);
		else if (strcmp(argv[i], "--out") == 0)
			out = value;
		else if (strcmp(argv[i], "--text") == 0)
			text = value;
		else if (strcmp(argv[i], "--cut") == 0)
			cut = value;
		else if (strcmp(argv[i], "--click") == 0)
			click = value;
		else {
			fprintf(stderr, "vnc-bench: unknown option %s\n", argv[i]);
			return 2;
		}
		i++;
	}
	rfbClientLog = quiet_log;
	rfbClientErr = quiet_log;
	bench.is_watching = strcmp(mode, "watch") == 0;
	rfbClient *client = connect_to(target, &bench);
	if (client == NULL)
		return 1;
	int rc = 0;
	if (strcmp(mode, "measure") == 0) {
		rc = measure(client, &bench, seconds, clicks);
	} else if (strcmp(mode, "snapshot") == 0 && out != NULL) {
		rc = snapshot(client, &bench, out);
	} else if (strcmp(mode, "input") == 0) {
		pump(client, now() + 0.2);
		int x, y;
		if (click != NULL && sscanf(click, "%d,%d", &x, &y) == 2) {
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
	return rc;
}
