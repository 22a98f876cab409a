/* kefu-agentd: the screen share, an RFB server that never listens. SPDX-License-Identifier: MIT */
#include "agentd/screen/screen.h"
#include "agentd/screen/capture.h"
#include "agentd/screen/link-estimate.h"
#include "proto/session/screen-quality.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <rfb/rfb.h>
#include <rfb/rfbregion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_VIEWERS 16
/* How often the pointer position and (without XDamage) the tiles are looked at. */
#define TICK_MS 15
/*
 * Adaptive quality (a viewer whose console sent KF_RFB_ENCODING_ADAPTIVE_QUALITY):
 * each update's timing feeds the viewer's link estimate (link-estimate.h), and the
 * viewer gets the quality it allows: its own encoding losslessly on a fast link,
 * else Tight with JPEG at a level that falls with the throughput, never above the
 * viewer's own. What went out lossy is sent again losslessly once the screen has
 * been still for REFRESH_IDLE_MS.
 */
#define REFRESH_IDLE_MS 300

/* libvncserver's own map of Tight quality levels to JPEG quality and subsampling. */
static const int jpeg_quality[10] = {15, 29, 41, 42, 62, 77, 79, 86, 92, 100};
static const int jpeg_subsampling[10] = {1, 1, 1, 2, 2, 2, 0, 0, 0, 0};

/* One viewer's quality, hung on its rfbClient's clientData. */
struct quality {
	int is_adaptive;
	int asked_level;    /* the viewer's JPEG level */
	int asked_encoding; /* the encoding the viewer put first */
	int level;          /* in use: -1 lossless, else a Tight JPEG level */
	int is_refreshing;  /* the next update is the lossless refresh */
	sraRegionPtr lossy; /* sent with JPEG since the last refresh */
	int bytes_before;
	int sent_bytes;
	double sent_at;
	int is_awaiting; /* an update went out; its viewer's next request times it */
	struct kf_link_estimate link;
};

struct viewer {
	rfbClientPtr client;
	int shutdown_fd; /* our duplicate of the client's socket, for kf_screen_stop */
};

struct kf_screen {
	struct kf_capture *capture;
	rfbScreenInfoPtr rfb;
	pthread_t thread;
	int is_thread_started;
	int wake[2];
	void (*on_viewers)(int count, void *user);
	void (*on_input_refused)(void *user);
	void (*on_lost)(const char *why, void *user);
	void *user;
	double changed_at; /* when the screen last changed (the screen's thread only) */
	/* Everything below is shared with other threads, under lock. */
	pthread_mutex_t lock;
	int is_quitting;
	int is_input_allowed;
	int is_refusal_reported;
	int is_release_pending;
	int is_stop_pending;
	char lost[256]; /* why the desktop's capture ended ("" while it lives) */
	int attach_queue[MAX_VIEWERS];
	int attach_count;
	struct viewer viewers[MAX_VIEWERS];
	int viewer_count;
};

static void wake_thread(struct kf_screen *screen)
{
	char byte = 1;
	ssize_t n = write(screen->wake[1], &byte, 1);
	(void)n; /* a full pipe already wakes the thread */
}

static void set_pixel_format(struct kf_screen *screen, const struct kf_capture_frame *frame)
{
	rfbPixelFormat *format = &screen->rfb->serverFormat;
	format->bitsPerPixel = (uint8_t)frame->bits_per_pixel;
	format->depth = (uint8_t)frame->depth;
	format->bigEndian = frame->is_big_endian ? 1 : 0;
	format->trueColour = 1;
	format->redShift = (uint8_t)__builtin_ctz(frame->red_mask);
	format->greenShift = (uint8_t)__builtin_ctz(frame->green_mask);
	format->blueShift = (uint8_t)__builtin_ctz(frame->blue_mask);
	format->redMax = (uint16_t)(frame->red_mask >> format->redShift);
	format->greenMax = (uint16_t)(frame->green_mask >> format->greenShift);
	format->blueMax = (uint16_t)(frame->blue_mask >> format->blueShift);
	screen->rfb->paddedWidthInBytes = frame->stride;
}

static uint32_t pack_pixel(const rfbPixelFormat *format, uint32_t argb)
{
	uint32_t r = (argb >> 16) & 0xff, g = (argb >> 8) & 0xff, b = argb & 0xff;
	return ((r * format->redMax / 255) << format->redShift) |
	       ((g * format->greenMax / 255) << format->greenShift) |
	       ((b * format->blueMax / 255) << format->blueShift);
}

/* Turns the desktop's ARGB cursor into a rich cursor with alpha and a 1-bit fallback. */
static void update_cursor(struct kf_screen *screen)
{
	struct kf_capture_cursor image;
	if (screen->capture->ops->cursor(screen->capture, &image) != 0 || image.width <= 0 ||
	    image.height <= 0)
		return;
	int bytes = screen->rfb->serverFormat.bitsPerPixel / 8;
	int row_bits = (image.width + 7) / 8;
	size_t count = (size_t)image.width * image.height;
	rfbCursorPtr cursor = calloc(1, sizeof(*cursor));
	unsigned char *rich = calloc(count, (size_t)bytes);
	unsigned char *alpha = calloc(count, 1);
	unsigned char *mask = calloc((size_t)row_bits * image.height, 1);
	unsigned char *source = calloc((size_t)row_bits * image.height, 1);
	if (cursor == NULL || rich == NULL || alpha == NULL || mask == NULL || source == NULL) {
		free(cursor);
		free(rich);
		free(alpha);
		free(mask);
		free(source);
		return;
	}
	for (int y = 0; y < image.height; y++)
		for (int x = 0; x < image.width; x++) {
			size_t i = (size_t)y * image.width + x;
			uint32_t argb = image.argb[i];
			uint32_t pixel = pack_pixel(&screen->rfb->serverFormat, argb);
			if (screen->rfb->serverFormat.bigEndian)
				for (int k = 0; k < bytes; k++)
					rich[i * bytes + k] =
						(unsigned char)(pixel >> (8 * (bytes - 1 - k)));
			else
				memcpy(rich + i * bytes, &pixel, (size_t)bytes);
			alpha[i] = (unsigned char)(argb >> 24);
			unsigned bit = 0x80u >> (x % 8);
			if (alpha[i] > 0x40)
				mask[y * row_bits + x / 8] |= (unsigned char)bit;
			/* The 1-bit fallback: light pixels in the foreground colour (white). */
			if (((argb >> 16 & 0xff) + (argb >> 8 & 0xff) + (argb & 0xff)) > 384)
				source[y * row_bits + x / 8] |= (unsigned char)bit;
		}
	cursor->width = (unsigned short)image.width;
	cursor->height = (unsigned short)image.height;
	cursor->xhot = (unsigned short)image.hot_x;
	cursor->yhot = (unsigned short)image.hot_y;
	cursor->richSource = rich;
	cursor->alphaSource = alpha;
	cursor->alphaPreMultiplied = TRUE;
	cursor->mask = mask;
	cursor->source = source;
	cursor->foreRed = cursor->foreGreen = cursor->foreBlue = 0xffff;
	cursor->cleanup = cursor->cleanupSource = cursor->cleanupMask = TRUE;
	cursor->cleanupRichSource = TRUE;
	rfbSetCursor(screen->rfb, cursor);
}

static void move_cursor(struct kf_screen *screen, int x, int y)
{
	if (x == screen->rfb->cursorX && y == screen->rfb->cursorY)
		return;
	screen->rfb->cursorX = x;
	screen->rfb->cursorY = y;
	rfbClientIteratorPtr it = rfbGetClientIterator(screen->rfb);
	rfbClientPtr client;
	while ((client = rfbClientIteratorNext(it)) != NULL)
		client->cursorWasMoved = TRUE;
	rfbReleaseClientIterator(it);
}

/* RFB cut text is Latin-1; the desktop speaks UTF-8. */
static char *latin1_from_utf8(const char *text, size_t len, size_t *out_len)
{
	char *out = malloc(len + 1);
	size_t n = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x80) {
			out[n++] = (char)c;
		} else if ((c & 0xe0) == 0xc0 && i + 1 < len) {
			unsigned code = ((c & 0x1fu) << 6) | ((unsigned char)text[i + 1] & 0x3fu);
			out[n++] = code < 0x100 ? (char)code : '?';
			i++;
		} else if ((c & 0xc0) != 0x80) {
			out[n++] = '?';
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

static char *utf8_from_latin1(const char *text, size_t len, size_t *out_len)
{
	char *out = malloc(len * 2 + 1);
	size_t n = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x80) {
			out[n++] = (char)c;
		} else {
			out[n++] = (char)(0xc0 | (c >> 6));
			out[n++] = (char)(0x80 | (c & 0x3f));
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

/* With the lock held: input was dropped; say so once per period without input. */
static void refused_input(struct kf_screen *screen)
{
	if (screen->is_refusal_reported || screen->on_input_refused == NULL)
		return;
	screen->is_refusal_reported = 1;
	screen->on_input_refused(screen->user);
}

/* Input handlers run on the screen's thread with the lock held while they inject. */
static void on_key(rfbBool is_down, rfbKeySym keysym, rfbClientPtr client)
{
	struct kf_screen *screen = client->screen->screenData;
	pthread_mutex_lock(&screen->lock);
	if (screen->is_input_allowed)
		screen->capture->ops->key(screen->capture, (uint32_t)keysym, is_down ? 1 : 0);
	else
		refused_input(screen);
	pthread_mutex_unlock(&screen->lock);
}

static void on_pointer(int buttons, int x, int y, rfbClientPtr client)
{
	struct kf_screen *screen = client->screen->screenData;
	pthread_mutex_lock(&screen->lock);
	if (screen->is_input_allowed)
		screen->capture->ops->pointer(screen->capture, buttons, x, y);
	else if (buttons != 0) /* moving over the picture is not an action; a click is */
		refused_input(screen);
	pthread_mutex_unlock(&screen->lock);
}

static void on_cut_text(char *text, int len, rfbClientPtr client)
{
	struct kf_screen *screen = client->screen->screenData;
	size_t utf8_len;
	char *utf8 = utf8_from_latin1(text, (size_t)len, &utf8_len);
	if (utf8 == NULL)
		return;
	pthread_mutex_lock(&screen->lock);
	if (screen->is_input_allowed)
		screen->capture->ops->set_clipboard(screen->capture, utf8, utf8_len);
	else
		refused_input(screen);
	pthread_mutex_unlock(&screen->lock);
	free(utf8);
}

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_level(rfbClientPtr client, struct quality *q, int level)
{
	q->level = level;
	if (level < 0) {
		client->preferredEncoding = q->asked_encoding;
		client->tightQualityLevel = -1;
		client->turboQualityLevel = -1;
		client->turboSubsampLevel = TURBO_DEFAULT_SUBSAMP;
	} else {
		client->preferredEncoding = rfbEncodingTight;
		client->tightQualityLevel = level;
		client->turboQualityLevel = jpeg_quality[level];
		client->turboSubsampLevel = jpeg_subsampling[level];
	}
}

/* The level the measured throughput allows, at most the viewer's own. */
static int level_for(const struct quality *q)
{
	return kf_link_estimate_level(&q->link, q->level, q->asked_level);
}

/* SetEncodings carried kefu's marker: the viewer's quality may follow the link. */
static rfbBool on_adaptive_encoding(rfbClientPtr client, void **data, int encoding)
{
	(void)data;
	struct quality *q = client->clientData;
	if (encoding != KF_RFB_ENCODING_ADAPTIVE_QUALITY || q == NULL)
		return FALSE;
	/* The marker comes last: the viewer's own choices are already in place. */
	q->is_adaptive = client->tightQualityLevel >= 0 && client->tightQualityLevel <= 9;
	if (!q->is_adaptive)
		return TRUE;
	q->asked_level = client->tightQualityLevel;
	q->asked_encoding = client->preferredEncoding;
	/* Until measured, the viewer's own level: a slow link's first frame is the largest. */
	set_level(client, q, q->link.throughput > 0 ? level_for(q) : q->asked_level);
	return TRUE;
}

static int adaptive_encodings[] = {KF_RFB_ENCODING_ADAPTIVE_QUALITY, 0};
static rfbProtocolExtension adaptive_extension = {
	.pseudoEncodings = adaptive_encodings,
	.enablePseudoEncoding = on_adaptive_encoding,
};
static pthread_once_t adaptive_once = PTHREAD_ONCE_INIT;

static void register_adaptive(void)
{
	rfbRegisterProtocolExtension(&adaptive_extension);
}

static void on_display(rfbClientPtr client)
{
	struct quality *q = client->clientData;
	if (q == NULL)
		return;
	q->bytes_before = rfbStatGetSentBytes(client);
	if (q->is_adaptive && q->level >= 0 && client->preferredEncoding == rfbEncodingTight)
		sraRgnOr(q->lossy, client->modifiedRegion);
}

static void on_display_finished(rfbClientPtr client, int result)
{
	(void)result;
	struct quality *q = client->clientData;
	if (q == NULL || !q->is_adaptive)
		return;
	q->sent_bytes = rfbStatGetSentBytes(client) - q->bytes_before;
	q->sent_at = seconds_now();
	q->is_awaiting = 1;
	if (q->is_refreshing) {
		q->is_refreshing = 0;
		set_level(client, q, level_for(q));
	}
}

static void on_update_request(rfbClientPtr client, rfbFramebufferUpdateRequestMsg *request)
{
	(void)request;
	struct quality *q = client->clientData;
	if (q == NULL || !q->is_adaptive || !q->is_awaiting)
		return;
	q->is_awaiting = 0;
	if (kf_link_estimate_add(&q->link, q->sent_bytes, seconds_now() - q->sent_at) &&
	    !q->is_refreshing)
		set_level(client, q, level_for(q));
}

/* Once the screen is still: what each adaptive viewer got lossy, again losslessly. */
static void refresh_lossy(struct kf_screen *screen)
{
	rfbClientIteratorPtr it = rfbGetClientIterator(screen->rfb);
	rfbClientPtr client;
	while ((client = rfbClientIteratorNext(it)) != NULL) {
		struct quality *q = client->clientData;
		if (q == NULL || !q->is_adaptive || q->is_refreshing || sraRgnEmpty(q->lossy))
			continue;
		q->is_refreshing = 1;
		set_level(client, q, -1);
		sraRgnOr(client->modifiedRegion, q->lossy);
		sraRgnMakeEmpty(q->lossy);
	}
	rfbReleaseClientIterator(it);
}

static void on_client_gone(rfbClientPtr client)
{
	struct kf_screen *screen = client->screen->screenData;
	int count;
	struct quality *q = client->clientData;
	if (q != NULL) {
		sraRgnDestroy(q->lossy);
		free(q);
		client->clientData = NULL;
	}
	pthread_mutex_lock(&screen->lock);
	for (int i = 0; i < screen->viewer_count; i++) {
		if (screen->viewers[i].client != client)
			continue;
		close(screen->viewers[i].shutdown_fd);
		screen->viewers[i] = screen->viewers[--screen->viewer_count];
		break;
	}
	count = screen->viewer_count;
	pthread_mutex_unlock(&screen->lock);
	if (screen->on_viewers)
		screen->on_viewers(count, screen->user);
}

static void serve_queued(struct kf_screen *screen)
{
	int fds[MAX_VIEWERS];
	int count;
	pthread_mutex_lock(&screen->lock);
	count = screen->attach_count;
	memcpy(fds, screen->attach_queue, sizeof(int) * (size_t)count);
	screen->attach_count = 0;
	pthread_mutex_unlock(&screen->lock);
	for (int i = 0; i < count; i++) {
		int spare = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (spare < 0) {
			close(fds[i]);
			continue;
		}
		rfbClientPtr client = rfbNewClient(screen->rfb, fds[i]);
		if (client == NULL) {
			close(spare);
			continue;
		}
		client->clientGoneHook = on_client_gone;
		struct quality *q = calloc(1, sizeof(*q));
		if (q != NULL && (q->lossy = sraRgnCreate()) != NULL) {
			q->level = -1;
			client->clientData = q;
			client->clientFramebufferUpdateRequestHook = on_update_request;
		} else {
			free(q); /* the viewer is served, only without adaptive quality */
		}
		/* Only the threaded server holds new clients; ours serves them at once. */
		rfbStartOnHoldClient(client);
		int viewers;
		pthread_mutex_lock(&screen->lock);
		screen->viewers[screen->viewer_count++] = (struct viewer){client, spare};
		viewers = screen->viewer_count;
		pthread_mutex_unlock(&screen->lock);
		if (screen->on_viewers)
			screen->on_viewers(viewers, screen->user);
	}
}

static void apply_changes(struct kf_screen *screen, const struct kf_capture_changes *changes)
{
	if (changes->is_resized) {
		const struct kf_capture_frame *frame = screen->capture->ops->frame(screen->capture);
		rfbNewFramebuffer(screen->rfb, (char *)frame->pixels, frame->width, frame->height,
				  8, 3, frame->bits_per_pixel / 8);
		set_pixel_format(screen, frame);
		rfbMarkRectAsModified(screen->rfb, 0, 0, frame->width, frame->height);
	}
	for (int i = 0; i < changes->rect_count; i++) {
		const struct kf_rect *r = &changes->rects[i];
		rfbMarkRectAsModified(screen->rfb, r->x, r->y, r->x + r->width, r->y + r->height);
	}
	if (changes->is_cursor_changed)
		update_cursor(screen);
	move_cursor(screen, changes->cursor_x, changes->cursor_y);
	if (changes->clipboard != NULL) {
		pthread_mutex_lock(&screen->lock);
		int is_allowed = screen->is_input_allowed;
		pthread_mutex_unlock(&screen->lock);
		size_t len;
		char *latin1 = is_allowed ? latin1_from_utf8(changes->clipboard,
							     changes->clipboard_len, &len)
					  : NULL;
		if (latin1 != NULL) {
			rfbSendServerCutText(screen->rfb, latin1, (int)len);
			free(latin1);
		}
	}
}

static void *serve(void *arg)
{
	struct kf_screen *screen = arg;
	struct pollfd fds[2 + MAX_VIEWERS];
	for (;;) {
		int nfds = 0, viewers;
		fds[nfds++] = (struct pollfd){.fd = screen->wake[0], .events = POLLIN};
		int capture_fd = screen->capture->ops->fd(screen->capture);
		if (capture_fd >= 0)
			fds[nfds++] = (struct pollfd){.fd = capture_fd, .events = POLLIN};
		rfbClientIteratorPtr it = rfbGetClientIterator(screen->rfb);
		rfbClientPtr client;
		while ((client = rfbClientIteratorNext(it)) != NULL && nfds < 2 + MAX_VIEWERS)
			if (client->sock >= 0)
				fds[nfds++] = (struct pollfd){.fd = client->sock, .events = POLLIN};
		rfbReleaseClientIterator(it);
		pthread_mutex_lock(&screen->lock);
		viewers = screen->viewer_count;
		pthread_mutex_unlock(&screen->lock);
		/* With viewers, wake every tick for the pointer; without, only on events. */
		bool is_queued = screen->capture->ops->has_queued != NULL &&
				 screen->capture->ops->has_queued(screen->capture);
		poll(fds, (nfds_t)nfds, is_queued ? 0 : viewers > 0 ? TICK_MS : 1000);
		if (fds[0].revents & POLLIN) {
			char drain[64];
			while (read(screen->wake[0], drain, sizeof(drain)) > 0) {
			}
		}
		pthread_mutex_lock(&screen->lock);
		int is_quitting = screen->is_quitting;
		int is_release = screen->is_release_pending;
		screen->is_release_pending = 0;
		pthread_mutex_unlock(&screen->lock);
		if (is_quitting)
			break;
		if (is_release)
			screen->capture->ops->release_input(screen->capture);
		serve_queued(screen);
		struct kf_capture_changes changes;
		struct kf_error lost;
		kf_error_clear(&lost);
		pthread_mutex_lock(&screen->lock);
		int is_lost = screen->lost[0] != '\0';
		pthread_mutex_unlock(&screen->lock);
		int polled = is_lost ? KF_ERR_CLOSED
				     : screen->capture->ops->poll(screen->capture, &changes, &lost);
		if (polled == 0) {
			apply_changes(screen, &changes);
			if (changes.rect_count > 0 || changes.is_resized)
				screen->changed_at = seconds_now();
		} else if (polled == KF_ERR_CLOSED && !is_lost) {
			/* The desktop ended the capture (a Wayland portal session closed). */
			pthread_mutex_lock(&screen->lock);
			snprintf(screen->lost, sizeof(screen->lost), "%s", lost.message);
			pthread_mutex_unlock(&screen->lock);
			kf_screen_stop(screen);
			if (screen->on_lost != NULL)
				screen->on_lost(lost.message, screen->user);
		}
		if (!is_lost && seconds_now() - screen->changed_at >= REFRESH_IDLE_MS / 1000.0)
			refresh_lossy(screen);
		/* Reads what viewers sent and writes the updates they asked for. */
		while (rfbProcessEvents(screen->rfb, 0)) {
			/* Until nothing is pending: input is answered before the next tick. */
			struct pollfd again[MAX_VIEWERS];
			int count = 0;
			it = rfbGetClientIterator(screen->rfb);
			while ((client = rfbClientIteratorNext(it)) != NULL && count < MAX_VIEWERS)
				if (client->sock >= 0)
					again[count++] = (struct pollfd){.fd = client->sock,
									 .events = POLLIN};
			rfbReleaseClientIterator(it);
			if (count == 0 || poll(again, (nfds_t)count, 0) <= 0)
				break;
		}
	}
	return NULL;
}

int kf_screen_new(const struct kf_screen_options *options, struct kf_screen **out,
		  struct kf_error *err)
{
	*out = NULL;
	struct kf_screen *screen = calloc(1, sizeof(*screen));
	if (screen == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	screen->wake[0] = screen->wake[1] = -1;
	pthread_mutex_init(&screen->lock, NULL);
	screen->is_input_allowed = options->is_input_allowed;
	screen->on_viewers = options->on_viewers;
	screen->on_input_refused = options->on_input_refused;
	screen->on_lost = options->on_lost;
	screen->user = options->user;
	struct kf_capture_options capture_options = {
		.display = options->display,
		.monitor = options->monitor,
		.is_damage_disabled = options->is_damage_disabled,
		.cancel = options->cancel,
		.restore_token = options->restore_token,
		.restore_token_size = options->restore_token_size,
	};
	int rc = kf_capture_open(&capture_options, &screen->capture, err);
	if (rc != 0)
		goto fail;
	if (pipe2(screen->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = kf_error_set(err, KF_ERR_IO, "pipe: %s", strerror(errno));
		goto fail;
	}
	/* libvncserver logs to stderr by default; the program's edge does the talking. */
	rfbLogEnable(0);
	const struct kf_capture_frame *frame = screen->capture->ops->frame(screen->capture);
	int argc = 0;
	screen->rfb = rfbGetScreen(&argc, NULL, frame->width, frame->height, 8, 3,
				   frame->bits_per_pixel / 8);
	if (screen->rfb == NULL) {
		rc = kf_error_set(err, KF_ERR_NOMEM, "cannot create the RFB server");
		goto fail;
	}
	rfbScreenInfoPtr rfb = screen->rfb;
	rfb->screenData = screen;
	rfb->frameBuffer = (char *)frame->pixels;
	set_pixel_format(screen, frame);
	rfb->desktopName = "kefu";
	/* The customer's machine never listens: viewers arrive only through attach. */
	rfb->autoPort = FALSE;
	rfb->port = 0;
	rfb->ipv6port = 0;
	rfb->httpPort = 0;
	rfb->http6Port = 0;
	rfb->httpDir = NULL;
	rfb->inetdSock = RFB_INVALID_SOCKET;
	rfb->alwaysShared = TRUE;
	rfb->deferUpdateTime = 0;
	rfb->deferPtrUpdateTime = 0;
	rfb->handleEventsEagerly = TRUE;
	rfb->ignoreSIGPIPE = FALSE;
	rfb->displayHook = on_display;
	rfb->displayFinishedHook = on_display_finished;
	pthread_once(&adaptive_once, register_adaptive);
	rfb->kbdAddEvent = on_key;
	rfb->ptrAddEvent = on_pointer;
	rfb->setXCutText = on_cut_text;
	rfb->cursor = NULL;
	rfbInitServer(rfb);
	if (rfb->listenSock != RFB_INVALID_SOCKET || rfb->listen6Sock != RFB_INVALID_SOCKET) {
		rc = kf_error_set(err, KF_ERR_STATE, "the RFB server opened a port; refusing");
		goto fail;
	}
	if (pthread_create(&screen->thread, NULL, serve, screen) != 0) {
		rc = kf_error_set(err, KF_ERR_IO, "cannot start the screen thread");
		goto fail;
	}
	screen->is_thread_started = 1;
	*out = screen;
	return 0;
fail:
	kf_screen_free(screen);
	return rc;
}

int kf_screen_attach(struct kf_screen *screen, int fd, struct kf_error *err)
{
	pthread_mutex_lock(&screen->lock);
	if (screen->lost[0] != '\0') {
		int rc = kf_error_set(err, KF_ERR_CLOSED, "%s", screen->lost);
		pthread_mutex_unlock(&screen->lock);
		close(fd);
		return rc;
	}
	if (screen->attach_count + screen->viewer_count >= MAX_VIEWERS) {
		pthread_mutex_unlock(&screen->lock);
		close(fd);
		return kf_error_set(err, KF_ERR_TOO_LARGE, "already %d viewers", MAX_VIEWERS);
	}
	screen->attach_queue[screen->attach_count++] = fd;
	pthread_mutex_unlock(&screen->lock);
	wake_thread(screen);
	return 0;
}

void kf_screen_set_input(struct kf_screen *screen, int is_allowed)
{
	pthread_mutex_lock(&screen->lock);
	if (screen->is_input_allowed && !is_allowed)
		screen->is_release_pending = 1;
	screen->is_input_allowed = is_allowed ? 1 : 0;
	screen->is_refusal_reported = 0;
	pthread_mutex_unlock(&screen->lock);
	wake_thread(screen);
}

void kf_screen_stop(struct kf_screen *screen)
{
	pthread_mutex_lock(&screen->lock);
	/*
	 * Shutting the sockets down is immediate and safe from any thread: the
	 * screen's thread then sees end of stream and frees each viewer itself.
	 */
	for (int i = 0; i < screen->viewer_count; i++)
		shutdown(screen->viewers[i].shutdown_fd, SHUT_RDWR);
	for (int i = 0; i < screen->attach_count; i++)
		close(screen->attach_queue[i]);
	screen->attach_count = 0;
	pthread_mutex_unlock(&screen->lock);
	wake_thread(screen);
}

int kf_screen_is_lost(struct kf_screen *screen, char *why, size_t size)
{
	pthread_mutex_lock(&screen->lock);
	int is_lost = screen->lost[0] != '\0';
	if (is_lost && size > 0)
		snprintf(why, size, "%s", screen->lost);
	pthread_mutex_unlock(&screen->lock);
	return is_lost;
}

int kf_screen_viewer_count(struct kf_screen *screen)
{
	pthread_mutex_lock(&screen->lock);
	int count = screen->viewer_count;
	pthread_mutex_unlock(&screen->lock);
	return count;
}

const char *kf_screen_describe(const struct kf_screen *screen)
{
	return screen->capture->ops->describe(screen->capture);
}

void kf_screen_free(struct kf_screen *screen)
{
	if (screen == NULL)
		return;
	if (screen->is_thread_started) {
		kf_screen_stop(screen);
		pthread_mutex_lock(&screen->lock);
		screen->is_quitting = 1;
		pthread_mutex_unlock(&screen->lock);
		wake_thread(screen);
		pthread_join(screen->thread, NULL);
	}
	if (screen->rfb != NULL) {
		screen->on_viewers = NULL;
		screen->on_input_refused = NULL;
		screen->on_lost = NULL;
		rfbShutdownServer(screen->rfb, TRUE);
		rfbScreenCleanup(screen->rfb);
	}
	for (int i = 0; i < screen->attach_count; i++)
		close(screen->attach_queue[i]);
	for (int i = 0; i < screen->viewer_count; i++)
		close(screen->viewers[i].shutdown_fd);
	if (screen->capture != NULL)
		screen->capture->ops->free(screen->capture);
	if (screen->wake[0] >= 0)
		close(screen->wake[0]);
	if (screen->wake[1] >= 0)
		close(screen->wake[1]);
	pthread_mutex_destroy(&screen->lock);
	free(screen);
}
