/* kefu test tool: a Wayland client that shows a known picture. SPDX-License-Identifier: MIT */
/*
 *   wl-draw
 *       Runs under a Wayland compositor (GTK 3, GDK_BACKEND=wayland): a
 *       fullscreen window showing the pattern of 32x32 blocks whose colour at
 *       block (bx, by) is ((bx*40 + by*7) % 256, (by*40 + bx*11) % 256,
 *       (bx*by*13 + 60) % 256). Prints "ready W H" once the pattern is on the
 *       screen. Reads commands on stdin, one a line:
 *         fill X Y W H RRGGBB   paints a rectangle over the picture ("ok" once drawn)
 *         clear                 back to the pattern alone ("ok" once drawn)
 *       and reports what it receives: "key NAME" for each key press (the
 *       keysym's name), "button N X Y" for each button press.
 *       EOF on stdin ends it.
 *   wl-draw workload --picture FILE
 *       The workload of x-draw workload, as a Wayland client can draw it: a
 *       fullscreen black window with a 100x100 square moving 12,5 pixels a
 *       frame and, every 4th frame, a strip of text at the bottom scrolling up
 *       one line; a key or button press turns the 33x33 block at 1,1 from black
 *       to white and back. It draws once a frame of the compositor's (60 a
 *       second on a 60 Hz monitor), damaging only what changed. Its picture is
 *       kept in FILE (tests/tools/shown-picture.h), which SIGUSR1 pauses and
 *       SIGUSR2 resumes; prints "ready W H" once it is on the screen and runs
 *       until killed.
 * Exit status: 0 done, 1 no Wayland display (or FILE cannot be written), 2 usage.
 */
#include "tests/tools/shown-picture.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <gtk/gtk.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_FILLS 64

struct fill {
	int x, y, width, height;
	double r, g, b;
};

static struct fill fills[MAX_FILLS];
static int fill_count;
static int is_ready, is_answer_pending;
static GtkWidget *area;

static gboolean on_draw(GtkWidget *widget, cairo_t *cr, void *user)
{
	(void)user;
	int width = gtk_widget_get_allocated_width(widget);
	int height = gtk_widget_get_allocated_height(widget);
	cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
	for (int by = 0; by * 32 < height; by++)
		for (int bx = 0; bx * 32 < width; bx++) {
			cairo_set_source_rgb(cr, ((bx * 40 + by * 7) % 256) / 255.0,
					     ((by * 40 + bx * 11) % 256) / 255.0,
					     ((bx * by * 13 + 60) % 256) / 255.0);
			cairo_rectangle(cr, bx * 32, by * 32, 32, 32);
			cairo_fill(cr);
		}
	for (int i = 0; i < fill_count; i++) {
		cairo_set_source_rgb(cr, fills[i].r, fills[i].g, fills[i].b);
		cairo_rectangle(cr, fills[i].x, fills[i].y, fills[i].width, fills[i].height);
		cairo_fill(cr);
	}
	return FALSE;
}

/* After the compositor took the frame: what was drawn is on the screen. */
static void on_after_paint(GdkFrameClock *clock, void *user)
{
	(void)clock;
	(void)user;
	GdkWindow *window = gtk_widget_get_window(area);
	GdkMonitor *monitor =
		window ? gdk_display_get_monitor_at_window(gdk_display_get_default(), window)
		       : NULL;
	GdkRectangle screen = {0, 0, 0, 0};
	if (monitor != NULL)
		gdk_monitor_get_geometry(monitor, &screen);
	/* Ready once fullscreen: the first frames may come before the compositor's resize. */
	if (!is_ready && screen.width > 0 && gtk_widget_get_allocated_width(area) == screen.width &&
	    gtk_widget_get_allocated_height(area) == screen.height) {
		is_ready = 1;
		printf("ready %d %d\n", gtk_widget_get_allocated_width(area),
		       gtk_widget_get_allocated_height(area));
		fflush(stdout);
	} else if (is_answer_pending) {
		is_answer_pending = 0;
		printf("ok\n");
		fflush(stdout);
	}
}

static gboolean on_key(GtkWidget *widget, GdkEventKey *event, void *user)
{
	(void)widget;
	(void)user;
	const char *name = gdk_keyval_name(event->keyval);
	printf("key %s\n", name ? name : "unknown");
	fflush(stdout);
	return TRUE;
}

static gboolean on_button(GtkWidget *widget, GdkEventButton *event, void *user)
{
	(void)widget;
	(void)user;
	printf("button %u %d %d\n", event->button, (int)event->x, (int)event->y);
	fflush(stdout);
	return TRUE;
}

/* Where the seat's pointer and keyboard are, as the compositor tells this client. */
static gboolean on_crossing(GtkWidget *widget, GdkEventCrossing *event, void *user)
{
	(void)widget;
	(void)user;
	if (event->detail != GDK_NOTIFY_INFERIOR) {
		printf("pointer %s\n", event->type == GDK_ENTER_NOTIFY ? "in" : "out");
		fflush(stdout);
	}
	return FALSE;
}

static gboolean on_focus(GtkWidget *widget, GdkEventFocus *event, void *user)
{
	(void)widget;
	(void)user;
	printf("keyboard %s\n", event->in ? "in" : "out");
	fflush(stdout);
	return FALSE;
}

static gboolean on_scroll(GtkWidget *widget, GdkEventScroll *event, void *user)
{
	(void)widget;
	(void)user;
	static const char *names[] = {"up", "down", "left", "right", "smooth"};
	printf("scroll %s\n", names[event->direction <= 4 ? event->direction : 4]);
	fflush(stdout);
	return TRUE;
}

static gboolean on_stdin(GIOChannel *channel, GIOCondition condition, void *user)
{
	(void)condition;
	(void)user;
	char *line = NULL;
	gsize length;
	GIOStatus status = g_io_channel_read_line(channel, &line, &length, NULL, NULL);
	if (status == G_IO_STATUS_EOF || status == G_IO_STATUS_ERROR) {
		gtk_main_quit();
		return FALSE;
	}
	if (line == NULL)
		return TRUE;
	int x, y, w, h;
	unsigned colour;
	if (sscanf(line, "fill %d %d %d %d %6x", &x, &y, &w, &h, &colour) == 5 &&
	    fill_count < MAX_FILLS) {
		fills[fill_count++] = (struct fill){x,
						    y,
						    w,
						    h,
						    ((colour >> 16) & 255) / 255.0,
						    ((colour >> 8) & 255) / 255.0,
						    (colour & 255) / 255.0};
		is_answer_pending = 1;
		gtk_widget_queue_draw(area);
	} else if (strncmp(line, "clear", 5) == 0) {
		fill_count = 0;
		is_answer_pending = 1;
		gtk_widget_queue_draw(area);
	} else {
		printf("error: unknown command\n");
		fflush(stdout);
	}
	g_free(line);
	return TRUE;
}

/* ---- the workload ---- */

struct workload {
	const char *path;
	cairo_surface_t *picture; /* drawn here, shown by on_workload_draw */
	struct kf_shown_picture *shown;
	size_t map_size;
	int width, height;
	int x, y, dx, dy, text_top, line;
	unsigned frame;
	/* Changes drawn into the picture and how many of them the compositor was given. */
	unsigned long drawn, handed;
	unsigned handed_frames;
	int is_pause_asked, is_paused;
};

static struct workload workload = {.x = 100, .y = 150, .dx = 12, .dy = 5};

static void fill(cairo_t *cr, int x, int y, int width, int height, int r, int g, int b)
{
	cairo_set_source_rgb(cr, r / 255.0, g / 255.0, b / 255.0);
	cairo_rectangle(cr, x, y, width, height);
	cairo_fill(cr);
}

static int workload_open_picture(struct workload *w, int width, int height)
{
	int stride = cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, width);
	w->map_size = KF_SHOWN_PICTURE_OFFSET + (size_t)stride * height;
	int fd = open(w->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)w->map_size) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	void *map = mmap(NULL, w->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	w->shown = map;
	memcpy(w->shown->magic, KF_SHOWN_PICTURE_MAGIC, sizeof(w->shown->magic));
	w->shown->width = (uint32_t)width;
	w->shown->height = (uint32_t)height;
	w->shown->stride = (uint32_t)stride;
	w->picture =
		cairo_image_surface_create_for_data((unsigned char *)map + KF_SHOWN_PICTURE_OFFSET,
						    CAIRO_FORMAT_RGB24, width, height, stride);
	w->width = width;
	w->height = height;
	w->text_top = height - 200;
	cairo_t *cr = cairo_create(w->picture);
	fill(cr, 0, 0, width, height, 0, 0, 0);
	cairo_destroy(cr);
	cairo_surface_flush(w->picture);
	w->drawn++;
	return 0;
}

/* The strip under text_top moves up one line of 16 pixels, as x-draw's XCopyArea moves it. */
static void workload_scroll(struct workload *w)
{
	cairo_surface_flush(w->picture);
	unsigned char *data = cairo_image_surface_get_data(w->picture);
	int stride = cairo_image_surface_get_stride(w->picture);
	memmove(data + (size_t)w->text_top * stride, data + (size_t)(w->text_top + 16) * stride,
		(size_t)184 * stride);
	cairo_surface_mark_dirty(w->picture);
	cairo_t *cr = cairo_create(w->picture);
	fill(cr, 0, w->height - 16, w->width, 16, 0, 0, 0);
	char text[160];
	snprintf(text, sizeof(text),
		 "line %06d: the quick brown fox jumps over the lazy dog 0123456789", w->line++);
	cairo_set_source_rgb(cr, 200 / 255.0, 200 / 255.0, 200 / 255.0);
	cairo_select_font_face(cr, "monospace", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, 12);
	cairo_move_to(cr, 8, w->height - 4);
	cairo_show_text(cr, text);
	cairo_destroy(cr);
	cairo_surface_flush(w->picture);
	gtk_widget_queue_draw_area(area, 0, w->text_top, w->width, 200);
}

/* One frame of x-draw's workload: the square's old place erased, its new one drawn. */
static void workload_step(struct workload *w)
{
	cairo_t *cr = cairo_create(w->picture);
	fill(cr, w->x, w->y, 100, 100, 0, 0, 0);
	gtk_widget_queue_draw_area(area, w->x, w->y, 100, 100);
	w->x += w->dx;
	w->y += w->dy;
	if (w->x < 80 || w->x + 100 > w->width) {
		w->dx = -w->dx;
		w->x += 2 * w->dx;
	}
	if (w->y < 80 || w->y + 100 > w->text_top) {
		w->dy = -w->dy;
		w->y += 2 * w->dy;
	}
	fill(cr, w->x, w->y, 100, 100, 230, 120, 20);
	cairo_destroy(cr);
	cairo_surface_flush(w->picture);
	gtk_widget_queue_draw_area(area, w->x, w->y, 100, 100);
	if (w->frame % 4 == 0)
		workload_scroll(w);
	w->frame++;
	w->drawn++;
}

static gboolean on_workload_tick(GtkWidget *widget, GdkFrameClock *clock, void *user)
{
	(void)clock;
	(void)user;
	struct workload *w = &workload;
	if (w->picture == NULL) {
		int width = gtk_widget_get_allocated_width(widget);
		int height = gtk_widget_get_allocated_height(widget);
		GdkWindow *window = gtk_widget_get_window(widget);
		GdkMonitor *monitor = window ? gdk_display_get_monitor_at_window(
						       gdk_display_get_default(), window)
					     : NULL;
		GdkRectangle screen = {0, 0, 0, 0};
		if (monitor != NULL)
			gdk_monitor_get_geometry(monitor, &screen);
		/* The first frames may come before the compositor made the window fullscreen. */
		if (screen.width == 0 || width != screen.width || height != screen.height ||
		    height < 400)
			return G_SOURCE_CONTINUE;
		if (workload_open_picture(w, width, height) != 0) {
			fprintf(stderr, "wl-draw: cannot write %s\n", w->path);
			exit(1);
		}
		gtk_widget_queue_draw(widget);
		return G_SOURCE_CONTINUE;
	}
	if (w->is_pause_asked && !w->is_paused && w->handed == w->drawn) {
		w->is_paused = 1;
		__atomic_store_n(&w->shown->state, KF_SHOWN_PICTURE_PAUSED, __ATOMIC_RELEASE);
	}
	if (!w->is_pause_asked && w->is_paused) {
		w->is_paused = 0;
		__atomic_store_n(&w->shown->state, KF_SHOWN_PICTURE_RUNNING, __ATOMIC_RELEASE);
	}
	if (!w->is_pause_asked)
		workload_step(w);
	return G_SOURCE_CONTINUE;
}

static gboolean on_workload_draw(GtkWidget *widget, cairo_t *cr, void *user)
{
	(void)widget;
	(void)user;
	if (workload.picture == NULL) {
		cairo_set_source_rgb(cr, 0, 0, 0);
	} else {
		cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
		cairo_set_source_surface(cr, workload.picture, 0, 0);
	}
	cairo_paint(cr);
	return FALSE;
}

/* GDK has committed the frame to the compositor by now: what was drawn is the compositor's. */
static void on_workload_after_paint(GdkFrameClock *clock, void *user)
{
	(void)clock;
	(void)user;
	struct workload *w = &workload;
	if (w->picture == NULL || w->handed == w->drawn)
		return;
	if (w->handed == 0) {
		printf("ready %d %d\n", w->width, w->height);
		fflush(stdout);
	}
	w->handed = w->drawn;
	w->shown->frames = w->frame;
}

static gboolean on_workload_input(GtkWidget *widget, GdkEvent *event, void *user)
{
	(void)widget;
	(void)event;
	(void)user;
	struct workload *w = &workload;
	if (w->picture == NULL)
		return TRUE;
	w->shown->inputs++;
	w->shown->marker = !w->shown->marker;
	cairo_t *cr = cairo_create(w->picture);
	int level = w->shown->marker ? 255 : 0;
	fill(cr, 1, 1, 33, 33, level, level, level);
	cairo_destroy(cr);
	cairo_surface_flush(w->picture);
	gtk_widget_queue_draw_area(area, 1, 1, 33, 33);
	w->drawn++;
	return TRUE;
}

static gboolean on_pause_signal(void *user)
{
	workload.is_pause_asked = user != NULL;
	return G_SOURCE_CONTINUE;
}

static int run_workload(void)
{
	GtkWidget *window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	area = gtk_drawing_area_new();
	gtk_container_add(GTK_CONTAINER(window), area);
	g_signal_connect(area, "draw", G_CALLBACK(on_workload_draw), NULL);
	gtk_widget_add_events(window, GDK_KEY_PRESS_MASK | GDK_BUTTON_PRESS_MASK);
	g_signal_connect(window, "key-press-event", G_CALLBACK(on_workload_input), NULL);
	g_signal_connect(window, "button-press-event", G_CALLBACK(on_workload_input), NULL);
	g_signal_connect(window, "destroy", G_CALLBACK(gtk_main_quit), NULL);
	g_unix_signal_add(SIGUSR1, on_pause_signal, &workload);
	g_unix_signal_add(SIGUSR2, on_pause_signal, NULL);
	gtk_window_fullscreen(GTK_WINDOW(window));
	gtk_widget_show_all(window);
	gtk_widget_add_tick_callback(area, on_workload_tick, NULL, NULL);
	g_signal_connect(gtk_widget_get_frame_clock(window), "after-paint",
			 G_CALLBACK(on_workload_after_paint), NULL);
	gtk_main();
	return 0;
}

int main(int argc, char **argv)
{
	int is_workload =
		argc == 4 && strcmp(argv[1], "workload") == 0 && strcmp(argv[2], "--picture") == 0;
	if (argc != 1 && !is_workload) {
		fprintf(stderr, "usage: wl-draw [workload --picture FILE]\n");
		return 2;
	}
	gdk_set_allowed_backends("wayland");
	if (!gtk_init_check(&argc, &argv)) {
		fprintf(stderr, "wl-draw: cannot connect to a Wayland display\n");
		return 1;
	}
	if (is_workload) {
		workload.path = argv[3];
		return run_workload();
	}
	GtkWidget *window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	area = gtk_drawing_area_new();
	gtk_container_add(GTK_CONTAINER(window), area);
	g_signal_connect(area, "draw", G_CALLBACK(on_draw), NULL);
	gtk_widget_add_events(window, GDK_KEY_PRESS_MASK | GDK_BUTTON_PRESS_MASK | GDK_SCROLL_MASK |
					      GDK_ENTER_NOTIFY_MASK | GDK_LEAVE_NOTIFY_MASK |
					      GDK_FOCUS_CHANGE_MASK);
	g_signal_connect(window, "key-press-event", G_CALLBACK(on_key), NULL);
	g_signal_connect(window, "enter-notify-event", G_CALLBACK(on_crossing), NULL);
	g_signal_connect(window, "leave-notify-event", G_CALLBACK(on_crossing), NULL);
	g_signal_connect(window, "focus-in-event", G_CALLBACK(on_focus), NULL);
	g_signal_connect(window, "focus-out-event", G_CALLBACK(on_focus), NULL);
	g_signal_connect(window, "button-press-event", G_CALLBACK(on_button), NULL);
	g_signal_connect(window, "scroll-event", G_CALLBACK(on_scroll), NULL);
	g_signal_connect(window, "destroy", G_CALLBACK(gtk_main_quit), NULL);
	gtk_window_fullscreen(GTK_WINDOW(window));
	gtk_widget_show_all(window);
	GdkFrameClock *clock = gtk_widget_get_frame_clock(window);
	g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), NULL);
	GIOChannel *in = g_io_channel_unix_new(0);
	g_io_add_watch(in, G_IO_IN | G_IO_HUP, on_stdin, NULL);
	gtk_main();
	return 0;
}
