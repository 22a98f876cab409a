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
 *       EOF on stdin ends it. Exit status: 0 done, 1 no Wayland display, 2 usage.
 */
#include <gtk/gtk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: wl-draw\n");
		return 2;
	}
	gdk_set_allowed_backends("wayland");
	if (!gtk_init_check(&argc, &argv)) {
		fprintf(stderr, "wl-draw: cannot connect to a Wayland display\n");
		return 1;
	}
	GtkWidget *window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	area = gtk_drawing_area_new();
	gtk_container_add(GTK_CONTAINER(window), area);
	g_signal_connect(area, "draw", G_CALLBACK(on_draw), NULL);
	gtk_widget_add_events(window, GDK_KEY_PRESS_MASK | GDK_BUTTON_PRESS_MASK | GDK_SCROLL_MASK);
	g_signal_connect(window, "key-press-event", G_CALLBACK(on_key), NULL);
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
