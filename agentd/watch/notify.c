/* kefu-agentd watch: alerts shown on the desktop (freedesktop Notifications, GDBus).
 * SPDX-License-Identifier: MIT */
#include "agentd/watch/notify.h"

#include <gio/gio.h>
#include <string.h>

#define NOTIFY_NAME "org.freedesktop.Notifications"
#define NOTIFY_PATH "/org/freedesktop/Notifications"
#define NOTIFY_CALL 5000 /* ms for the server to answer Notify */
#define NOTICES_MAX 8    /* the most notifications one run shows; the rest wait for --last */

struct notice {
	const struct kf_watch_found *found;
	guint32 id;
	const char *answer;
	json_t *ran;
};

struct waiting {
	struct notice notices[NOTICES_MAX];
	size_t count, open;
	const struct kf_watch_notify_options *options;
	struct kf_watch_run *run;
	GMainLoop *loop;
	guint timer; /* the wait's bound, 0 once it ran out */
};

/* Starts argv (the command's words plus extra, may be NULL); records what ran. */
static void run_command(struct waiting *w, struct notice *n, const char *command, const char *extra)
{
	GError *error = NULL;
	gchar **words = NULL;
	gint count = 0;
	GPtrArray *argv;
	json_t *ran;

	if (!g_shell_parse_argv(command, &count, &words, &error)) {
		kf_watch_note(w->run, "the command %s cannot be run: %s", command, error->message);
		g_error_free(error);
		return;
	}
	argv = g_ptr_array_new();
	ran = json_array();
	for (gint i = 0; i < count; i++) {
		g_ptr_array_add(argv, words[i]);
		json_array_append_new(ran, json_string(words[i]));
	}
	if (extra != NULL) {
		g_ptr_array_add(argv, (gpointer)extra);
		json_array_append_new(ran, json_string(extra));
	}
	g_ptr_array_add(argv, NULL);
	/* The window or browser it opens outlives this run: started, not waited for. */
	if (!g_spawn_async(NULL, (gchar **)argv->pdata, NULL,
			   G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, NULL,
			   &error)) {
		kf_watch_note(w->run, "%s could not be started: %s", words[0], error->message);
		g_error_free(error);
		json_decref(ran);
	} else {
		json_array_append_new(n->ran, ran);
	}
	g_ptr_array_free(argv, TRUE);
	g_strfreev(words);
}

/* The command "Fix now" runs for f and the word it adds, or NULL: no "Fix now". */
static const char *fix_of(const struct kf_watch_notify_options *o, const struct kf_watch_found *f,
			  const char **word)
{
	if (o->fix_command != NULL && f->check[0] != '\0') {
		*word = f->check;
		return o->fix_command;
	}
	if (o->firmware_command != NULL && f->device[0] != '\0') {
		*word = f->device;
		return o->firmware_command;
	}
	*word = NULL;
	return NULL;
}

static struct notice *notice_of(struct waiting *w, guint32 id)
{
	for (size_t i = 0; i < w->count; i++)
		if (w->notices[i].id == id && w->notices[i].id != 0)
			return &w->notices[i];
	return NULL;
}

static void answered(struct waiting *w, struct notice *n, const char *answer)
{
	if (strcmp(n->answer, "none") != 0)
		return;
	n->answer = answer;
	if (w->open > 0 && --w->open == 0)
		g_main_loop_quit(w->loop);
}

static void on_signal(GDBusConnection *bus, const gchar *sender, const gchar *path,
		      const gchar *interface, const gchar *signal, GVariant *parameters,
		      gpointer data)
{
	struct waiting *w = data;
	struct notice *n;
	guint32 id, reason;
	const gchar *action;
	const char *fix, *word;

	(void)bus;
	(void)sender;
	(void)path;
	(void)interface;
	if (strcmp(signal, "ActionInvoked") == 0 &&
	    g_variant_is_of_type(parameters, G_VARIANT_TYPE("(us)"))) {
		g_variant_get(parameters, "(u&s)", &id, &action);
		n = notice_of(w, id);
		if (n == NULL || strcmp(n->answer, "none") != 0)
			return;
		fix = fix_of(w->options, n->found, &word);
		if (strcmp(action, "fix") == 0 && fix != NULL) {
			run_command(w, n, fix, word);
			answered(w, n, "fix");
		} else if (strcmp(action, "help") == 0 && w->options->help_command != NULL) {
			run_command(w, n, w->options->help_command, NULL);
			answered(w, n, "help");
		} else if (strcmp(action, "later") == 0 || strcmp(action, "default") == 0) {
			answered(w, n, "later");
		}
	} else if (strcmp(signal, "NotificationClosed") == 0 &&
		   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(uu)"))) {
		g_variant_get(parameters, "(uu)", &id, &reason);
		n = notice_of(w, id);
		if (n != NULL)
			answered(w, n, "closed");
	}
}

static gboolean on_timeout(gpointer data)
{
	struct waiting *w = data;

	w->timer = 0;
	g_main_loop_quit(w->loop);
	return G_SOURCE_REMOVE;
}

static guint32 show(GDBusConnection *bus, struct waiting *w, const struct kf_watch_found *f)
{
	GVariantBuilder actions, hints;
	GError *error = NULL;
	GVariant *reply;
	guint32 id = 0;
	/* Servers with the body-markup capability read the body as markup: text stays text. */
	gchar *body = g_markup_escape_text(f->summary, -1);
	const char *word;

	g_variant_builder_init(&actions, G_VARIANT_TYPE("as"));
	if (fix_of(w->options, f, &word) != NULL) {
		g_variant_builder_add(&actions, "s", "fix");
		g_variant_builder_add(&actions, "s", "Fix now");
	}
	if (w->options->help_command != NULL) {
		g_variant_builder_add(&actions, "s", "help");
		g_variant_builder_add(&actions, "s", "Get help");
	}
	g_variant_builder_add(&actions, "s", "later");
	g_variant_builder_add(&actions, "s", "Not now");
	g_variant_builder_init(&hints, G_VARIANT_TYPE("a{sv}"));
	/* Urgency 1 (normal): it stays until answered on servers that keep critical ones. */
	g_variant_builder_add(&hints, "{sv}", "urgency", g_variant_new_byte(1));
	g_variant_builder_add(&hints, "{sv}", "desktop-entry", g_variant_new_string("kefu"));
	reply = g_dbus_connection_call_sync(
		bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_NAME, "Notify",
		g_variant_new("(susssasa{sv}i)", "kefu", 0, "dialog-warning",
			      "Your computer needs attention", body, &actions, &hints, -1),
		G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, NOTIFY_CALL, NULL, &error);
	g_free(body);
	if (reply == NULL) {
		kf_watch_note(w->run, "the notification was not shown: %s", error->message);
		g_error_free(error);
		return 0;
	}
	g_variant_get(reply, "(u)", &id);
	g_variant_unref(reply);
	return id;
}

json_t *kf_watch_notify(struct kf_watch_run *run, const struct kf_watch_notify_options *options)
{
	struct waiting w = {.options = options, .run = run};
	json_t *out = json_array();
	GDBusConnection *bus;
	GError *error = NULL;
	guint subscription;
	size_t i, left_out = 0;

	for (i = 0; i < run->n_found; i++) {
		if (!run->found[i].is_new)
			continue;
		if (w.count == NOTICES_MAX) {
			left_out++;
			continue;
		}
		w.notices[w.count++] = (struct notice){&run->found[i], 0, "none", json_array()};
	}
	if (w.count == 0)
		return out;
	if (left_out > 0)
		kf_watch_note(run,
			      "%zu more alerts were not shown; kefu-agentd watch --last lists "
			      "them",
			      left_out);
	bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
	if (bus == NULL) {
		kf_watch_note(run, "no desktop session to show the alerts in: %s", error->message);
		g_error_free(error);
	} else {
		w.loop = g_main_loop_new(NULL, FALSE);
		/*
		 * Only the server's own signals count: any other client of the session
		 * bus could send an ActionInvoked of its own to start a repair.
		 */
		subscription = g_dbus_connection_signal_subscribe(
			bus, NOTIFY_NAME, NOTIFY_NAME, NULL, NOTIFY_PATH, NULL,
			G_DBUS_SIGNAL_FLAGS_NONE, on_signal, &w, NULL);
		for (i = 0; i < w.count; i++) {
			w.notices[i].id = show(bus, &w, w.notices[i].found);
			if (w.notices[i].id != 0)
				w.open++;
		}
		if (w.open > 0 && options->wait_ms > 0) {
			w.timer = g_timeout_add(options->wait_ms, on_timeout, &w);
			g_main_loop_run(w.loop);
			if (w.timer != 0)
				g_source_remove(w.timer);
		}
		g_dbus_connection_signal_unsubscribe(bus, subscription);
		g_main_loop_unref(w.loop);
		g_object_unref(bus);
	}
	for (i = 0; i < w.count; i++)
		json_array_append_new(out, json_pack("{s:s, s:b, s:s, s:o}", "rule",
						     w.notices[i].found->rule, "shown",
						     w.notices[i].id != 0, "answer",
						     w.notices[i].answer, "ran", w.notices[i].ran));
	return out;
}
