/* kefu-helper: the frame, the bar and the notification that say the screen is watched. SPDX-License-Identifier: MIT */
#include "agentd/i18n.h"
#include "agentd/window/window.h"

#include <stdio.h>

/* How thick the coloured frame around the shared monitor is, in pixels. */
#define FRAME_WIDTH 6

struct kf_sharing {
	void (*on_stop)(void *user);
	void *user;
	GtkWidget *frame, *bar, *bar_label;
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
	sharing->frame =
		popup("kefu sharing frame", _("Your screen is shared"), "kefu-sharing-frame");
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

/* The monitor the screen share shows: the primary one, else the first. */
static void shared_monitor(GdkRectangle *area)
{
	GdkDisplay *display = gdk_display_get_default();
	GdkMonitor *monitor = gdk_display_get_primary_monitor(display);

	if (monitor == NULL)
		monitor = gdk_display_get_monitor(display, 0);
	gdk_monitor_get_geometry(monitor, area);
}

static void shape_frame(struct kf_sharing *sharing, const GdkRectangle *area)
{
	cairo_rectangle_int_t outer = {0, 0, area->width, area->height};
	cairo_rectangle_int_t inner = {FRAME_WIDTH, FRAME_WIDTH, area->width - 2 * FRAME_WIDTH,
				       area->height - 2 * FRAME_WIDTH};
	cairo_region_t *ring = cairo_region_create_rectangle(&outer);
	cairo_region_t *nothing = cairo_region_create();
	GdkWindow *window = gtk_widget_get_window(sharing->frame);

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

void kf_sharing_show(struct kf_sharing *sharing, const char *technician)
{
	char text[256];
	GdkRectangle area;
	int width, height;

	sharing->is_shown = true;
	snprintf(text, sizeof(text), _("%s can see your screen"), technician);
	gtk_label_set_text(GTK_LABEL(sharing->bar_label), text);
	shared_monitor(&area);
	gtk_window_move(GTK_WINDOW(sharing->frame), area.x, area.y);
	gtk_window_resize(GTK_WINDOW(sharing->frame), area.width, area.height);
	gtk_widget_set_size_request(sharing->frame, area.width, area.height);
	gtk_widget_realize(sharing->frame);
	shape_frame(sharing, &area);
	gtk_widget_show_all(sharing->frame);
	gtk_widget_show_all(sharing->bar);
	gtk_window_get_size(GTK_WINDOW(sharing->bar), &width, &height);
	gtk_window_move(GTK_WINDOW(sharing->bar), area.x + (area.width - width) / 2,
			area.y + FRAME_WIDTH);
	notify(sharing, text);
}

void kf_sharing_hide(struct kf_sharing *sharing)
{
	sharing->is_shown = false;
	gtk_widget_hide(sharing->frame);
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
	g_cancellable_cancel(sharing->cancellable);
	g_object_unref(sharing->cancellable);
	if (sharing->action_subscription != 0)
		g_dbus_connection_signal_unsubscribe(sharing->bus, sharing->action_subscription);
	if (sharing->bus != NULL) {
		g_dbus_connection_flush_sync(sharing->bus, NULL, NULL);
		g_object_unref(sharing->bus);
	}
	gtk_widget_destroy(sharing->frame);
	gtk_widget_destroy(sharing->bar);
	g_free(sharing);
}
