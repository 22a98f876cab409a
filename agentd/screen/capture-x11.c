/* kefu-agentd: X11 capture (XShm, XDamage, XFixes, XRandR, XTest). SPDX-License-Identifier: MIT */
#include "agentd/screen/capture-x11.h"
#include "agentd/screen/tiles.h"

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/XTest.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/Xrandr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#define TILE          32
#define CLIPBOARD_MAX (1024 * 1024)
/* How often, and how long after, a refused clipboard conversion is asked again. */
#define CLIPBOARD_RETRIES  5
#define CLIPBOARD_RETRY_MS 100

struct x11_capture {
	struct kf_capture base;
	Display *display;
	Window root;
	int screen;
	int monitor;
	int is_damage_disabled;
	/* The shared area inside the root window. */
	int area_x, area_y;
	XShmSegmentInfo shm;
	XImage *scratch;
	struct kf_capture_frame frame;
	int has_damage, damage_event_base;
	Damage damage;
	XserverRegion damage_region;
	int is_damage_pending;
	int has_fixes, fixes_event_base;
	int is_cursor_changed;
	uint32_t *cursor_argb;
	int has_randr, randr_event_base;
	int is_resize_pending;
	int has_xtest;
	int buttons;
	uint8_t keys_down[256];
	/* Clipboard: a window of our own owns selections and asks for others'. */
	Window clip_window;
	Atom atom_clipboard, atom_utf8, atom_targets, atom_text, atom_property;
	char *clip_offered; /* what we own, from the viewer */
	size_t clip_offered_len;
	char *clip_received; /* what the desktop copied, for the viewer */
	size_t clip_received_len;
	/* A conversion the new owner refused (it may not be ready yet) is asked again. */
	Atom clip_asked;
	Time clip_asked_time;
	int clip_retries;
	struct timespec clip_retry_at;
	char description[192];
};

static int ignore_x_error(Display *display, XErrorEvent *event)
{
	/* A window that vanished between two requests is routine; Xlib's default exits. */
	(void)display;
	(void)event;
	return 0;
}

static void free_images(struct x11_capture *x)
{
	if (x->scratch != NULL) {
		XShmDetach(x->display, &x->shm);
		XSync(x->display, False);
		x->scratch->data = NULL;
		XDestroyImage(x->scratch);
		x->scratch = NULL;
	}
	if (x->shm.shmaddr != NULL && x->shm.shmaddr != (char *)-1)
		shmdt(x->shm.shmaddr);
	x->shm.shmaddr = NULL;
	free(x->frame.pixels);
	x->frame.pixels = NULL;
}

/* Finds the shared area: monitor N from XRandR, or the whole root window. */
static int find_area(struct x11_capture *x, int *ax, int *ay, int *aw, int *ah,
		     struct kf_error *err)
{
	XWindowAttributes attributes;
	if (!XGetWindowAttributes(x->display, x->root, &attributes))
		return kf_error_set(err, KF_ERR_IO, "cannot read the X root window's size");
	*ax = 0;
	*ay = 0;
	*aw = attributes.width;
	*ah = attributes.height;
	if (x->monitor < 0)
		return 0;
	if (!x->has_randr)
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "the X server has no XRandR, so monitors cannot be told apart; "
				    "share the whole desktop instead");
	int count = 0;
	XRRMonitorInfo *monitors = XRRGetMonitors(x->display, x->root, True, &count);
	if (monitors == NULL || x->monitor >= count) {
		if (monitors != NULL)
			XRRFreeMonitors(monitors);
		return kf_error_set(
			err, KF_ERR_NOT_FOUND,
			"monitor %d does not exist (this desktop has %d, numbered from 0)",
			x->monitor, count);
	}
	XRRMonitorInfo *m = &monitors[x->monitor];
	*ax = m->x;
	*ay = m->y;
	*aw = m->width;
	*ah = m->height;
	XRRFreeMonitors(monitors);
	if (*ax < 0 || *ay < 0 || *ax + *aw > attributes.width || *ay + *ah > attributes.height ||
	    *aw <= 0 || *ah <= 0)
		return kf_error_set(err, KF_ERR_INVALID, "monitor %d lies outside the desktop",
				    x->monitor);
	return 0;
}

static int grab_into_scratch(struct x11_capture *x, int rx, int ry, int rw, int rh)
{
	/*
	 * One segment sized for the whole area serves grabs of any rectangle:
	 * the server writes rw pixels per padded line, so the image header is
	 * reshaped to match before each request.
	 */
	x->scratch->width = rw;
	x->scratch->height = rh;
	x->scratch->bytes_per_line = ((rw * x->scratch->bits_per_pixel + 31) / 32) * 4;
	return XShmGetImage(x->display, x->root, x->scratch, x->area_x + rx, x->area_y + ry,
			    AllPlanes)
		       ? 0
		       : -1;
}

static int setup_images(struct x11_capture *x, struct kf_error *err)
{
	int ax, ay, aw, ah;
	int rc = find_area(x, &ax, &ay, &aw, &ah, err);
	if (rc != 0)
		return rc;
	free_images(x);
	Visual *visual = DefaultVisual(x->display, x->screen);
	int depth = DefaultDepth(x->display, x->screen);
	if (visual->class != TrueColor && visual->class != DirectColor)
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "the X display uses a colour-mapped visual; screen sharing "
				    "needs a true-colour display (depth 16 or 24)");
	x->scratch = XShmCreateImage(x->display, visual, depth, ZPixmap, NULL, &x->shm, aw, ah);
	if (x->scratch == NULL)
		return kf_error_set(err, KF_ERR_IO, "XShmCreateImage failed");
	x->shm.shmid =
		shmget(IPC_PRIVATE, (size_t)x->scratch->bytes_per_line * ah, IPC_CREAT | 0600);
	if (x->shm.shmid < 0) {
		XDestroyImage(x->scratch);
		x->scratch = NULL;
		return kf_error_set(err, KF_ERR_IO, "cannot create a shared memory segment");
	}
	x->shm.shmaddr = x->scratch->data = shmat(x->shm.shmid, NULL, 0);
	x->shm.readOnly = False;
	/* Marked for removal at once, so that a crash leaves no segment behind. */
	shmctl(x->shm.shmid, IPC_RMID, NULL);
	if (x->shm.shmaddr == (char *)-1) {
		x->scratch->data = NULL;
		XDestroyImage(x->scratch);
		x->scratch = NULL;
		return kf_error_set(err, KF_ERR_IO, "cannot attach a shared memory segment");
	}
	if (!XShmAttach(x->display, &x->shm)) {
		free_images(x);
		return kf_error_set(err, KF_ERR_IO,
				    "the X server refused the shared memory segment");
	}
	x->area_x = ax;
	x->area_y = ay;
	struct kf_capture_frame *f = &x->frame;
	f->width = aw;
	f->height = ah;
	f->bits_per_pixel = x->scratch->bits_per_pixel;
	f->depth = depth;
	f->stride = x->scratch->bytes_per_line;
	f->red_mask = (uint32_t)visual->red_mask;
	f->green_mask = (uint32_t)visual->green_mask;
	f->blue_mask = (uint32_t)visual->blue_mask;
	f->is_big_endian = x->scratch->byte_order == MSBFirst;
	f->pixels = calloc((size_t)f->stride, (size_t)ah);
	if (f->pixels == NULL) {
		free_images(x);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for a %dx%d frame", aw, ah);
	}
	if (grab_into_scratch(x, 0, 0, aw, ah) != 0) {
		free_images(x);
		return kf_error_set(err, KF_ERR_IO, "XShmGetImage failed on the X root window");
	}
	memcpy(f->pixels, x->scratch->data, (size_t)f->stride * ah);
	return 0;
}

/*
 * Grabs one damaged rectangle and keeps of it only the tiles that changed
 * (tiles.c): every pixel not reported is a pixel the server need not encode.
 */
static void refresh_rect(struct x11_capture *x, int rx, int ry, int rw, int rh,
			 struct kf_capture_changes *changes)
{
	if (rw <= 0 || rh <= 0 || grab_into_scratch(x, rx, ry, rw, rh) != 0)
		return;
	struct kf_capture_frame *f = &x->frame;
	struct kf_tile_frame frame = {.pixels = f->pixels,
				      .width = f->width,
				      .height = f->height,
				      .stride = (size_t)f->stride,
				      .bytes_per_pixel = f->bits_per_pixel / 8};
	struct kf_rect_list changed = {.rects = changes->rects,
				       .count = changes->rect_count,
				       .capacity = KF_CAPTURE_MAX_RECTS};
	kf_tiles_refresh(&frame, (const uint8_t *)x->scratch->data,
			 (size_t)x->scratch->bytes_per_line, (struct kf_rect){rx, ry, rw, rh}, TILE,
			 &changed);
	changes->rect_count = changed.count;
}

/* Without XDamage: grab everything and compare all of it. */
static void refresh_by_tiles(struct x11_capture *x, struct kf_capture_changes *changes)
{
	refresh_rect(x, 0, 0, x->frame.width, x->frame.height, changes);
}

static void refresh_damage(struct x11_capture *x, struct kf_capture_changes *changes)
{
	XDamageSubtract(x->display, x->damage, None, x->damage_region);
	int count = 0;
	XRectangle *rects = XFixesFetchRegion(x->display, x->damage_region, &count);
	if (rects == NULL)
		return;
	if (count > KF_CAPTURE_MAX_RECTS / 2) {
		/* Many small rectangles: one bounding box costs fewer round trips. */
		int x1 = rects[0].x, y1 = rects[0].y, x2 = x1 + rects[0].width,
		    y2 = y1 + rects[0].height;
		for (int i = 1; i < count; i++) {
			if (rects[i].x < x1)
				x1 = rects[i].x;
			if (rects[i].y < y1)
				y1 = rects[i].y;
			if (rects[i].x + rects[i].width > x2)
				x2 = rects[i].x + rects[i].width;
			if (rects[i].y + rects[i].height > y2)
				y2 = rects[i].y + rects[i].height;
		}
		rects[0] = (XRectangle){(short)x1, (short)y1, (unsigned short)(x2 - x1),
					(unsigned short)(y2 - y1)};
		count = 1;
	}
	for (int i = 0; i < count; i++) {
		/* Root coordinates, clipped to the shared area. */
		int rx = rects[i].x - x->area_x, ry = rects[i].y - x->area_y;
		int rw = rects[i].width, rh = rects[i].height;
		if (rx < 0) {
			rw += rx;
			rx = 0;
		}
		if (ry < 0) {
			rh += ry;
			ry = 0;
		}
		if (rx + rw > x->frame.width)
			rw = x->frame.width - rx;
		if (ry + rh > x->frame.height)
			rh = x->frame.height - ry;
		refresh_rect(x, rx, ry, rw, rh, changes);
	}
	XFree(rects);
}

static void answer_selection_request(struct x11_capture *x, XSelectionRequestEvent *request)
{
	XSelectionEvent reply = {.type = SelectionNotify,
				 .display = request->display,
				 .requestor = request->requestor,
				 .selection = request->selection,
				 .target = request->target,
				 .property = None,
				 .time = request->time};
	Atom property = request->property != None ? request->property : request->target;
	if (x->clip_offered != NULL && request->target == x->atom_targets) {
		Atom targets[] = {x->atom_targets, x->atom_utf8, XA_STRING, x->atom_text};
		XChangeProperty(x->display, request->requestor, property, XA_ATOM, 32,
				PropModeReplace, (unsigned char *)targets, 4);
		reply.property = property;
	} else if (x->clip_offered != NULL &&
		   (request->target == x->atom_utf8 || request->target == XA_STRING ||
		    request->target == x->atom_text)) {
		XChangeProperty(x->display, request->requestor, property, request->target, 8,
				PropModeReplace, (unsigned char *)x->clip_offered,
				(int)x->clip_offered_len);
		reply.property = property;
	}
	XSendEvent(x->display, request->requestor, False, 0, (XEvent *)&reply);
}

static void read_selection(struct x11_capture *x, struct kf_capture_changes *changes)
{
	Atom type;
	int format;
	unsigned long count, remaining;
	unsigned char *data = NULL;
	if (XGetWindowProperty(x->display, x->clip_window, x->atom_property, 0, CLIPBOARD_MAX / 4,
			       True, AnyPropertyType, &type, &format, &count, &remaining,
			       &data) != Success)
		return;
	if (data != NULL && format == 8 && (type == x->atom_utf8 || type == XA_STRING)) {
		char *copy = malloc(count + 1);
		if (copy != NULL) {
			memcpy(copy, data, count);
			copy[count] = '\0';
			free(x->clip_received);
			x->clip_received = copy;
			x->clip_received_len = count;
			changes->clipboard = copy;
			changes->clipboard_len = count;
		}
	}
	if (data != NULL)
		XFree(data);
}

static void handle_event(struct x11_capture *x, XEvent *event, struct kf_capture_changes *changes)
{
	if (x->has_damage && event->type == x->damage_event_base + XDamageNotify) {
		x->is_damage_pending = 1;
	} else if (x->has_fixes && event->type == x->fixes_event_base + XFixesCursorNotify) {
		x->is_cursor_changed = 1;
	} else if (x->has_fixes && event->type == x->fixes_event_base + XFixesSelectionNotify) {
		XFixesSelectionNotifyEvent *notify = (XFixesSelectionNotifyEvent *)event;
		if (notify->owner != None && notify->owner != x->clip_window) {
			x->clip_asked = notify->selection;
			x->clip_asked_time = notify->timestamp;
			x->clip_retries = 0;
			x->clip_retry_at.tv_sec = 0;
			XConvertSelection(x->display, notify->selection, x->atom_utf8,
					  x->atom_property, x->clip_window, notify->timestamp);
		}
	} else if (x->has_randr && event->type == x->randr_event_base + RRScreenChangeNotify) {
		XRRUpdateConfiguration(event);
		x->is_resize_pending = 1;
	} else if (event->type == SelectionRequest) {
		answer_selection_request(x, &event->xselectionrequest);
	} else if (event->type == SelectionNotify) {
		if (event->xselection.property != None) {
			x->clip_asked = None;
			read_selection(x, changes);
		} else if (x->clip_asked != None && x->clip_retries < CLIPBOARD_RETRIES) {
			x->clip_retries++;
			clock_gettime(CLOCK_MONOTONIC, &x->clip_retry_at);
			x->clip_retry_at.tv_nsec += CLIPBOARD_RETRY_MS * 1000000L;
			if (x->clip_retry_at.tv_nsec >= 1000000000L) {
				x->clip_retry_at.tv_sec++;
				x->clip_retry_at.tv_nsec -= 1000000000L;
			}
		} else {
			x->clip_asked = None;
		}
	} else if (event->type == SelectionClear) {
		/* Someone else copied: our offer is over. */
	}
}

static int x11_fd(struct kf_capture *capture)
{
	struct x11_capture *x = (struct x11_capture *)capture;
	return ConnectionNumber(x->display);
}

static bool x11_has_queued(struct kf_capture *capture)
{
	struct x11_capture *x = (struct x11_capture *)capture;
	/*
	 * A round trip (XQueryPointer, XShmGetImage, the cursor) reads the events that
	 * came with its reply into Xlib's queue: the socket then looks idle, and the
	 * damage of a key press would wait for the next tick.
	 */
	return XEventsQueued(x->display, QueuedAlready) > 0;
}

static int x11_poll(struct kf_capture *capture, struct kf_capture_changes *changes,
		    struct kf_error *err)
{
	struct x11_capture *x = (struct x11_capture *)capture;
	memset(changes, 0, sizeof(*changes));
	while (XPending(x->display)) {
		XEvent event;
		XNextEvent(x->display, &event);
		handle_event(x, &event, changes);
	}
	if (x->clip_asked != None && x->clip_retry_at.tv_sec != 0) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > x->clip_retry_at.tv_sec ||
		    (now.tv_sec == x->clip_retry_at.tv_sec &&
		     now.tv_nsec >= x->clip_retry_at.tv_nsec)) {
			x->clip_retry_at.tv_sec = 0;
			XConvertSelection(x->display, x->clip_asked, x->atom_utf8, x->atom_property,
					  x->clip_window, x->clip_asked_time);
			XFlush(x->display);
		}
	}
	if (x->is_resize_pending) {
		x->is_resize_pending = 0;
		int ax, ay, aw, ah;
		if (find_area(x, &ax, &ay, &aw, &ah, err) != 0)
			return err ? err->code : KF_ERR_IO;
		if (aw != x->frame.width || ah != x->frame.height || ax != x->area_x ||
		    ay != x->area_y) {
			int rc = setup_images(x, err);
			if (rc != 0)
				return rc;
			changes->is_resized = 1;
			x->is_damage_pending = 0;
			if (x->has_damage)
				XDamageSubtract(x->display, x->damage, None, None);
		}
	}
	if (!changes->is_resized) {
		if (!x->has_damage || x->is_damage_disabled)
			refresh_by_tiles(x, changes);
		else if (x->is_damage_pending) {
			x->is_damage_pending = 0;
			refresh_damage(x, changes);
		}
	}
	Window root_return, child;
	int root_x = 0, root_y = 0, win_x, win_y;
	unsigned int mask;
	if (XQueryPointer(x->display, x->root, &root_return, &child, &root_x, &root_y, &win_x,
			  &win_y, &mask)) {
		changes->cursor_x = root_x - x->area_x;
		changes->cursor_y = root_y - x->area_y;
	}
	changes->is_cursor_changed = x->is_cursor_changed;
	x->is_cursor_changed = 0;
	return 0;
}

static const struct kf_capture_frame *x11_frame(struct kf_capture *capture)
{
	return &((struct x11_capture *)capture)->frame;
}

static int x11_cursor(struct kf_capture *capture, struct kf_capture_cursor *cursor)
{
	struct x11_capture *x = (struct x11_capture *)capture;
	if (!x->has_fixes)
		return KF_ERR_UNSUPPORTED;
	XFixesCursorImage *image = XFixesGetCursorImage(x->display);
	if (image == NULL)
		return KF_ERR_IO;
	size_t count = (size_t)image->width * image->height;
	uint32_t *argb = malloc(count * sizeof(*argb) + 1);
	if (argb == NULL) {
		XFree(image);
		return KF_ERR_NOMEM;
	}
	/* XFixes hands 32-bit pixels in longs. */
	for (size_t i = 0; i < count; i++)
		argb[i] = (uint32_t)image->pixels[i];
	free(x->cursor_argb);
	x->cursor_argb = argb;
	cursor->argb = argb;
	cursor->width = image->width;
	cursor->height = image->height;
	cursor->hot_x = image->xhot;
	cursor->hot_y = image->yhot;
	XFree(image);
	return 0;
}

static void x11_pointer(struct kf_capture *capture, int buttons, int px, int py)
{
	struct x11_capture *x = (struct x11_capture *)capture;
	if (!x->has_xtest)
		return;
	XTestFakeMotionEvent(x->display, x->screen, x->area_x + px, x->area_y + py, CurrentTime);
	for (int bit = 0; bit < 8; bit++) {
		int was = (x->buttons >> bit) & 1, is = (buttons >> bit) & 1;
		if (was != is)
			XTestFakeButtonEvent(x->display, (unsigned)bit + 1, is, CurrentTime);
	}
	x->buttons = buttons;
	XFlush(x->display);
}

static void x11_key(struct kf_capture *capture, uint32_t keysym, int is_down)
{
	struct x11_capture *x = (struct x11_capture *)capture;
	if (!x->has_xtest)
		return;
	KeyCode code = XKeysymToKeycode(x->display, (KeySym)keysym);
	if (code == 0)
		return;
	if (!is_down && !x->keys_down[code])
		return;
	x->keys_down[code] = is_down ? 1 : 0;
	XTestFakeKeyEvent(x->display, code, is_down ? True : False, CurrentTime);
	XFlush(x->display);
}

static void x11_release_input(struct kf_capture *capture)
{
	struct x11_capture *x = (struct x11_capture *)capture;
	if (!x->has_xtest)
		return;
	for (int bit = 0; bit < 8; bit++)
		if ((x->buttons >> bit) & 1)
			XTestFakeButtonEvent(x->display, (unsigned)bit + 1, False, CurrentTime);
	x->buttons = 0;
	for (int code = 0; code < 256; code++)
		if (x->keys_down[code]) {
			XTestFakeKeyEvent(x->display, (unsigned)code, False, CurrentTime);
			x->keys_down[code] = 0;
		}
	XFlush(x->display);
}

static void x11_set_clipboard(struct kf_capture *capture, const char *text, size_t len)
{
	struct x11_capture *x = (struct x11_capture *)capture;
	if (len > CLIPBOARD_MAX)
		return;
	char *copy = malloc(len + 1);
	if (copy == NULL)
		return;
	memcpy(copy, text, len);
	copy[len] = '\0';
	free(x->clip_offered);
	x->clip_offered = copy;
	x->clip_offered_len = len;
	XSetSelectionOwner(x->display, x->atom_clipboard, x->clip_window, CurrentTime);
	XSetSelectionOwner(x->display, XA_PRIMARY, x->clip_window, CurrentTime);
	XFlush(x->display);
}

static const char *x11_describe(struct kf_capture *capture)
{
	return ((struct x11_capture *)capture)->description;
}

static void x11_free(struct kf_capture *capture)
{
	struct x11_capture *x = (struct x11_capture *)capture;
	if (x == NULL)
		return;
	if (x->display != NULL) {
		free_images(x);
		if (x->has_damage) {
			XDamageDestroy(x->display, x->damage);
			XFixesDestroyRegion(x->display, x->damage_region);
		}
		if (x->clip_window != None)
			XDestroyWindow(x->display, x->clip_window);
		XCloseDisplay(x->display);
	}
	free(x->cursor_argb);
	free(x->clip_offered);
	free(x->clip_received);
	free(x);
}

static const struct kf_capture_ops x11_ops = {
	.fd = x11_fd,
	.has_queued = x11_has_queued,
	.poll = x11_poll,
	.frame = x11_frame,
	.cursor = x11_cursor,
	.pointer = x11_pointer,
	.key = x11_key,
	.set_clipboard = x11_set_clipboard,
	.release_input = x11_release_input,
	.describe = x11_describe,
	.free = x11_free,
};

int kf_capture_x11_open(const struct kf_capture_options *options, struct kf_capture **out,
			struct kf_error *err)
{
	*out = NULL;
	const char *name = options->display ? options->display : getenv("DISPLAY");
	struct x11_capture *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	x->base.ops = &x11_ops;
	x->monitor = options->monitor;
	x->is_damage_disabled = options->is_damage_disabled;
	XSetErrorHandler(ignore_x_error);
	x->display = XOpenDisplay(name);
	if (x->display == NULL) {
		free(x);
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "cannot open the X display %s: screen sharing needs a running "
				    "X11 session you are logged in to",
				    name ? name : "(none)");
	}
	x->screen = DefaultScreen(x->display);
	x->root = RootWindow(x->display, x->screen);
	int major, minor, error_base;
	Bool pixmaps;
	if (!XShmQueryVersion(x->display, &major, &minor, &pixmaps)) {
		x11_free(&x->base);
		return kf_error_set(err, KF_ERR_UNSUPPORTED,
				    "the X display %s has no shared memory extension (MIT-SHM), "
				    "for example because it is remote: screen sharing works on "
				    "the local display only",
				    name);
	}
	x->has_randr = XRRQueryExtension(x->display, &x->randr_event_base, &error_base);
	x->has_fixes = XFixesQueryExtension(x->display, &x->fixes_event_base, &error_base);
	x->has_damage = x->has_fixes &&
			XDamageQueryExtension(x->display, &x->damage_event_base, &error_base);
	x->has_xtest = XTestQueryExtension(x->display, &error_base, &error_base, &major, &minor);
	int rc = setup_images(x, err);
	if (rc != 0) {
		x11_free(&x->base);
		return rc;
	}
	if (x->has_damage) {
		x->damage = XDamageCreate(x->display, x->root, XDamageReportNonEmpty);
		x->damage_region = XFixesCreateRegion(x->display, NULL, 0);
	}
	x->atom_clipboard = XInternAtom(x->display, "CLIPBOARD", False);
	x->atom_utf8 = XInternAtom(x->display, "UTF8_STRING", False);
	x->atom_targets = XInternAtom(x->display, "TARGETS", False);
	x->atom_text = XInternAtom(x->display, "TEXT", False);
	x->atom_property = XInternAtom(x->display, "KEFU_SELECTION", False);
	x->clip_window = XCreateSimpleWindow(x->display, x->root, -10, -10, 1, 1, 0, 0, 0);
	if (x->has_fixes) {
		XFixesSelectCursorInput(x->display, x->root, XFixesDisplayCursorNotifyMask);
		XFixesSelectSelectionInput(x->display, x->root, x->atom_clipboard,
					   XFixesSetSelectionOwnerNotifyMask);
		XFixesSelectSelectionInput(x->display, x->root, XA_PRIMARY,
					   XFixesSetSelectionOwnerNotifyMask);
		x->is_cursor_changed = 1;
	}
	if (x->has_randr)
		XRRSelectInput(x->display, x->root, RRScreenChangeNotifyMask);
	XFlush(x->display);
	snprintf(x->description, sizeof(x->description),
		 "X11 %s, %s %dx%d+%d+%d, %d bpp, changes by %s, cursor %s, input %s", name,
		 x->monitor < 0 ? "desktop" : "monitor", x->frame.width, x->frame.height, x->area_x,
		 x->area_y, x->frame.bits_per_pixel,
		 x->has_damage && !x->is_damage_disabled ? "XDamage"
							 : "tile comparison (no XDamage)",
		 x->has_fixes ? "XFixes" : "drawn by the viewer (no XFixes)",
		 x->has_xtest ? "XTest" : "unavailable (no XTest)");
	*out = &x->base;
	return 0;
}
