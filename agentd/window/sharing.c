/* kefu-helper: the frame, the bar and the notification that say the screen is watched. SPDX-License-Identifier: MIT */
#include "agentd/i18n.h"
#include "agentd/window/window.h"

#include <X11/extensions/Xrandr.h>
#include <gdk/gdkx.h>
#include <stdio.h>

/* How thick the coloured frame around each shared monitor is, in pixels. */
#define FRAME_WIDTH  6
#define MONITORS_MAX 16

struct kf_sharing {
	void (*on_stop)(void *user);
	void *user;
	GPtrArray *frames; /* one per shared monitor while shown */
	GtkWidget *bar, *bar_label;
	int monitor; /* the shared monitor (XRandR's numbering), or -1: all of them */
	gulong monitors_changed;
	GDBusConnection *bus;
	guint notification_id;
	guint action_subscription;
	GCancellable *cancellable;
	bool is_shown;
};

static const char frame_css[] = "window.kefu-sharing-frame { background-color: #e01b24; }"
				"window.kefu-sharing-bar { background-color: #e01b24; }"
				"window.kefu-sharing-bar > box > label { color: white; "
				"font-weight: bold; font-size: 120%; }"
				"window.kefu-sharing-bar button label { color: #1e1e1e; "
				"font-weight: bold; }";

static void on_bar_stop(GtkButton *button, gpointer user)
{
	struct kf_sharing *sharing = user;

	(void)button;
	sharing->on_stop(sharing->user);
}

/* title names the X11 window (for programs); name is what a screen reader says. */
static GtkWidget *popup(const char *title, const char *name, const char *css_class)
{
	GtkWidget *window = gtk_window_new(GTK_WINDOW_POPUP);

	/* Override-redirect: above every window, full-screen ones included, with no window
	 * manager able to move, hide or stack anything over it. */
	gtk_window_set_title(GTK_WINDOW(window), title);
	kf_window_name(window, name);
	gtk_style_context_add_class(gtk_widget_get_style_context(window), css_class);
	return window;
}

struct kf_sharing *kf_sharing_new(void (*on_stop)(void *user), void *user)
{
	struct kf_sharing *sharing = g_new0(struct kf_sharing, 1);
	GtkCssProvider *css = gtk_css_provider_new();
	GtkWidget *box, *button;

	sharing->on_stop = on_stop;
	sharing->user = user;
	gtk_css_provider_load_from_data(css, frame_css, -1, NULL);
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css),
						  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(css);
	sharing->frames = g_ptr_array_new_with_free_func((GDestroyNotify)gtk_widget_destroy);
	sharing->bar = popup("kefu sharing bar", _("Your screen is shared"), "kefu-sharing-bar");
	box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	gtk_container_set_border_width(GTK_CONTAINER(box), 8);
	sharing->bar_label = gtk_label_new("");
	button = gtk_button_new_with_label(_("Stop sharing"));
	kf_window_name(button, _("Stop sharing"));
	g_signal_connect(button, "clicked", G_CALLBACK(on_bar_stop), sharing);
	gtk_box_pack_start(GTK_BOX(box), sharing->bar_label, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(box), button, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(sharing->bar), box);
	sharing->bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL);
	sharing->cancellable = g_cancellable_new();
	return sharing;
}

static void shape_frame(GtkWidget *frame, const GdkRectangle *area)
{
	cairo_rectangle_int_t outer = {0, 0, area->width, area->height};
	cairo_rectangle_int_t inner = {FRAME_WIDTH, FRAME_WIDTH, area->width - 2 * FRAME_WIDTH,
				       area->height - 2 * FRAME_WIDTH};
	cairo_region_t *ring = cairo_region_create_rectangle(&outer);
	cairo_region_t *nothing = cairo_region_create();
	GdkWindow *window = gtk_widget_get_window(frame);

	/* Only the ring is drawn, and no part of it takes a click: the customer's
	 * pointer goes through to what is below, on the frame too. */
	cairo_region_subtract_rectangle(ring, &inner);
	gdk_window_shape_combine_region(window, ring, 0, 0);
	gdk_window_input_shape_combine_region(window, nothing, 0, 0);
	cairo_region_destroy(ring);
	cairo_region_destroy(nothing);
}

static void on_notification_action(GDBusConnection *bus, const gchar *sender, const gchar *path,
				   const gchar *interface, const gchar *signal,
				   GVariant *parameters, gpointer user)
{
	struct kf_sharing *sharing = user;
	const gchar *action;
	guint32 id;

	(void)bus;
	(void)sender;
	(void)path;
	(void)interface;
	(void)signal;
	g_variant_get(parameters, "(u&s)", &id, &action);
	if (sharing->is_shown && id == sharing->notification_id && g_strcmp0(action, "stop") == 0)
		sharing->on_stop(sharing->user);
}

static void on_notified(GObject *bus, GAsyncResult *result, gpointer user)
{
	GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(bus), result, NULL);
	struct kf_sharing *sharing = user;

	/* No notification server (or the sharing is gone, the call cancelled): the frame
	 * and the bar are the whole indicator. */
	if (reply == NULL)
		return;
	g_variant_get(reply, "(u)", &sharing->notification_id);
	g_variant_unref(reply);
	if (!sharing->is_shown)
		kf_sharing_hide(sharing);
}

static void notify(struct kf_sharing *sharing, const char *text)
{
	GVariantBuilder actions, hints;

	if (sharing->bus == NULL)
		return;
	if (sharing->action_subscription == 0)
		sharing->action_subscription = g_dbus_connection_signal_subscribe(
			sharing->bus, "org.freedesktop.Notifications",
			"org.freedesktop.Notifications", "ActionInvoked",
			"/org/freedesktop/Notifications", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
			on_notification_action, sharing, NULL);
	g_variant_builder_init(&actions, G_VARIANT_TYPE("as"));
	g_variant_builder_add(&actions, "s", "stop");
	g_variant_builder_add(&actions, "s", _("Stop sharing"));
	g_variant_builder_init(&hints, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&hints, "{sv}", "resident", g_variant_new_boolean(TRUE));
	g_variant_builder_add(&hints, "{sv}", "urgency", g_variant_new_byte(2));
	g_variant_builder_add(&hints, "{sv}", "desktop-entry", g_variant_new_string("kefu-helper"));
	g_dbus_connection_call(sharing->bus, "org.freedesktop.Notifications",
			       "/org/freedesktop/Notifications", "org.freedesktop.Notifications",
			       "Notify",
			       g_variant_new("(susssasa{sv}i)", "kefu", (guint32)0, "",
					     _("Your screen is shared"), text, &actions, &hints, 0),
			       G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000,
			       sharing->cancellable, on_notified, sharing);
}

/* A ring round one monitor, clicks going through it. */
static GtkWidget *frame_new(const GdkRectangle *area)
{
	GtkWidget *frame =
		popup("kefu sharing frame", _("Your screen is shared"), "kefu-sharing-frame");

	gtk_window_move(GTK_WINDOW(frame), area->x, area->y);
	gtk_window_resize(GTK_WINDOW(frame), area->width, area->height);
	gtk_widget_set_size_request(frame, area->width, area->height);
	gtk_widget_realize(frame);
	shape_frame(frame, area);
	gtk_widget_show_all(frame);
	return frame;
}

/*
 * The desktop's monitors as the screen share numbers them (XRandR's list, the one
 * `--monitor N` of agentd/screen counts in), in the window's coordinates; primary
 * is the primary monitor's index (-1: none). Elsewhere than X11, GDK's list.
 */
static int desktop_monitors(GdkRectangle areas[MONITORS_MAX], int *primary)
{
	GdkDisplay *display = gdk_display_get_default();
	int count = 0;

	*primary = -1;
	if (GDK_IS_X11_DISPLAY(display)) {
		int scale = gdk_window_get_scale_factor(gdk_get_default_root_window()), n = 0;
		XRRMonitorInfo *monitors =
			XRRGetMonitors(GDK_DISPLAY_XDISPLAY(display),
				       gdk_x11_get_default_root_xwindow(), True, &n);

		for (int i = 0; monitors != NULL && i < n && count < MONITORS_MAX; i++) {
			areas[count] = (GdkRectangle){monitors[i].x / scale, monitors[i].y / scale,
						      monitors[i].width / scale,
						      monitors[i].height / scale};
			if (monitors[i].primary)
				*primary = count;
			count++;
		}
		if (monitors != NULL)
			XRRFreeMonitors(monitors);
		if (count > 0)
			return count;
	}
	for (int i = 0; i < gdk_display_get_n_monitors(display) && count < MONITORS_MAX; i++) {
		GdkMonitor *monitor = gdk_display_get_monitor(display, i);

		gdk_monitor_get_geometry(monitor, &areas[count]);
		if (monitor == gdk_display_get_primary_monitor(display))
			*primary = count;
		count++;
	}
	return count;
}

/*
 * A frame round every shared monitor (each of them when the whole desktop is
 * shared) and the bar at the top of the one the customer looks at most: the
 * primary monitor when it is shared, else the first shared one.
 */
static void place(struct kf_sharing *sharing)
{
	GdkRectangle areas[MONITORS_MAX], bar_area = {0, 0, 0, 0};
	int primary, count = desktop_monitors(areas, &primary), width, height;
	bool has_bar = false;

	g_ptr_array_set_size(sharing->frames, 0);
	for (int i = 0; i < count; i++) {
		if (sharing->monitor >= 0 && i != sharing->monitor)
			continue;
		g_ptr_array_add(sharing->frames, frame_new(&areas[i]));
		if (!has_bar || i == primary) {
			bar_area = areas[i];
			has_bar = true;
		}
	}
	if (!has_bar) {
		/* The shared monitor is gone (or there is none): the whole screen is framed. */
		GdkWindow *root = gdk_get_default_root_window();

		bar_area = (GdkRectangle){0, 0, gdk_window_get_width(root),
					  gdk_window_get_height(root)};
		g_ptr_array_add(sharing->frames, frame_new(&bar_area));
	}
	gtk_widget_show_all(sharing->bar);
	gtk_window_get_size(GTK_WINDOW(sharing->bar), &width, &height);
	gtk_window_move(GTK_WINDOW(sharing->bar), bar_area.x + (bar_area.width - width) / 2,
			bar_area.y + FRAME_WIDTH);
}

/* Monitors plugged in, out or rearranged while the screen is shared: the frames follow. */
static void on_monitors_changed(GdkScreen *screen, gpointer user)
{
	struct kf_sharing *sharing = user;

	(void)screen;
	if (sharing->is_shown)
		place(sharing);
}

void kf_sharing_show(struct kf_sharing *sharing, const char *technician, int monitor)
{
	char text[256];

	sharing->is_shown = true;
	sharing->monitor = monitor;
	snprintf(text, sizeof(text), _("%s can see your screen"), technician);
	gtk_label_set_text(GTK_LABEL(sharing->bar_label), text);
	if (sharing->monitors_changed == 0)
		sharing->monitors_changed =
			g_signal_connect(gdk_screen_get_default(), "monitors-changed",
					 G_CALLBACK(on_monitors_changed), sharing);
	place(sharing);
	notify(sharing, text);
}

void kf_sharing_hide(struct kf_sharing *sharing)
{
	sharing->is_shown = false;
	g_ptr_array_set_size(sharing->frames, 0);
	gtk_widget_hide(sharing->bar);
	if (sharing->bus != NULL && sharing->notification_id != 0) {
		g_dbus_connection_call(sharing->bus, "org.freedesktop.Notifications",
				       "/org/freedesktop/Notifications",
				       "org.freedesktop.Notifications", "CloseNotification",
				       g_variant_new("(u)", sharing->notification_id), NULL,
				       G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL, NULL);
		sharing->notification_id = 0;
	}
}

void kf_sharing_free(struct kf_sharing *sharing)
{
	if (sharing == NULL)
		return;
	kf_sharing_hide(sharing);
	if (sharing->monitors_changed != 0)
		g_signal_handler_disconnect(gdk_screen_get_default(), sharing->monitors_changed);
	g_cancellable_cancel(sharing->cancellable);
	g_object_unref(sharing->cancellable);
	if (sharing->action_subscription != 0)
		g_dbus_connection_signal_unsubscribe(sharing->bus, sharing->action_subscription);
	if (sharing->bus != NULL) {
		g_dbus_connection_flush_sync(sharing->bus, NULL, NULL);
		g_object_unref(sharing->bus);
	}
	g_ptr_array_free(sharing->frames, TRUE);
	gtk_widget_destroy(sharing->bar);
	g_free(sharing);
}
