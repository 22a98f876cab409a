/* kefu-helper --fix and --firmware: one repair (kefu-agentd scan) or one firmware update
 * (kefu-agentd firmware apply --latest) the customer allows in a window. SPDX-License-Identifier: MIT */
#include "agentd/i18n.h"
#include "agentd/plugins/job.h"
#include "agentd/plugins/plugins.h"
#include "agentd/window/window.h"
#include "proto/base/escape.h"
#include "proto/plugin/manifest.h"
#include "proto/session/profile.h"

#include <dirent.h>
#include <gio/gunixinputstream.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* The words of one kind of window: a repair's or a firmware update's. */
struct fix_words {
	const char *working, *done, *failed;
};

struct fix {
	const char *check_id; /* a repair's check, or NULL */
	const char *device;   /* a firmware update's device, or NULL */
	const char *agentd_path;
	const struct fix_words *words;
	bool is_nothing_to_ask; /* a window that only tells: no Allow, no Deny */
	char title[512];        /* the check's title, or the device's name */
	char update_to[64];     /* the firmware version on offer */
	GtkWidget *window, *question, *result, *kept, *allow, *deny, *close, *spinner;
	GString *output;
	char chunk[4096];
	bool is_output_over, has_exited;
	int exit_status;
};

bool kf_window_fix_names(const char *name, const char *plugin_id, const char *check_id)
{
	size_t n = strlen(plugin_id);

	return strcmp(name, check_id) == 0 || (strncmp(name, plugin_id, n) == 0 && name[n] == '/' &&
					       strcmp(name + n + 1, check_id) == 0);
}

bool kf_window_fix_name_is_valid(const char *name)
{
	const char *slash = strchr(name, '/');
	char plugin[KF_PLUGIN_ID_MAX + 2];

	if (slash == NULL)
		return kf_plugin_id_is_valid(name);
	if ((size_t)(slash - name) > KF_PLUGIN_ID_MAX)
		return false;
	snprintf(plugin, sizeof(plugin), "%.*s", (int)(slash - name), name);
	return kf_plugin_id_is_valid(plugin) && kf_plugin_id_is_valid(slash + 1);
}

/* The check's plain words from the installed plugins' manifests ("" when not found). */
static void check_words(const char *check_id, char *title, size_t title_size, char *fix_words,
			size_t fix_size)
{
	struct kf_plugin_places places = {0};
	char buffer[PATH_MAX];

	title[0] = fix_words[0] = '\0';
	kf_plugin_places_default(&places, buffer, sizeof(buffer));
	for (size_t f = 0; f < places.n_folders && title[0] == '\0'; f++) {
		DIR *dir = opendir(places.folders[f]);
		struct dirent *entry;

		if (dir == NULL)
			continue;
		while ((entry = readdir(dir)) != NULL && title[0] == '\0') {
			struct kf_plugin_manifest *manifest;
			struct kf_error err;
			char path[PATH_MAX];

			if (entry->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", places.folders[f], entry->d_name);
			if (kf_agent_plugin_load(path, &manifest, &err) != KF_OK)
				continue;
			for (size_t c = 0; c < manifest->n_checks; c++) {
				const struct kf_plugin_check *check = &manifest->checks[c];

				if (!kf_window_fix_names(check_id, manifest->id, check->id))
					continue;
				kf_escape(check->title, strlen(check->title), title, title_size);
				if (check->fix != NULL)
					kf_escape(check->fix, strlen(check->fix), fix_words,
						  fix_size);
			}
			kf_plugin_manifest_free(manifest);
		}
		closedir(dir);
	}
}

static void on_output(GObject *stream, GAsyncResult *result, gpointer user);

static void read_more(struct fix *fix, GInputStream *stream)
{
	g_input_stream_read_async(stream, fix->chunk, sizeof(fix->chunk), G_PRIORITY_DEFAULT, NULL,
				  on_output, fix);
}

/*
 * The scan's answer (`scan --json`) in plain words: what came of the check, and where
 * the scan's own account of it is kept. The scan's words for its states are
 * identifiers; kf_plugin_state_words() says them in the customer's language.
 */
static void show_repair_result(struct fix *fix)
{
	json_t *answer = json_loadb(fix->output->str, fix->output->len, 0, NULL);
	json_t *check = json_array_get(json_object_get(answer, "checks"), 0);
	const char *state = json_string_value(json_object_get(check, "state"));
	const char *kept = json_string_value(json_object_get(answer, "summary"));
	char text[2048], safe[1024];

	if (state != NULL)
		/* TRANSLATORS: what the check looks at, then what came of it ("fixed"). */
		snprintf(text, sizeof(text), _("%s: %s"), fix->title, kf_plugin_state_words(state));
	else
		snprintf(text, sizeof(text), "%s",
			 _("The repair could not run. Nothing on this computer was changed by "
			   "it."));
	gtk_label_set_text(GTK_LABEL(fix->result), text);
	if (kept != NULL) {
		kf_escape(kept, strlen(kept), safe, sizeof(safe));
		snprintf(text, sizeof(text), _("What was done is kept in %s."), safe);
		gtk_label_set_text(GTK_LABEL(fix->kept), text);
		gtk_widget_show(fix->kept);
	}
	json_decref(answer);
}

/*
 * firmware apply's answer: the outcome in plain words, and below it, small and
 * selectable, what kefu's checks printed (for whoever helps the customer next).
 */
static void show_firmware_result(struct fix *fix)
{
	char text[1024], details[8192];

	if (fix->exit_status == 0)
		snprintf(text, sizeof(text), _("%s runs firmware %s now."), fix->title,
			 fix->update_to);
	else
		snprintf(text, sizeof(text), "%s",
			 _("kefu's checks stopped the update or found it did not take; what they "
			   "said is below."));
	gtk_label_set_text(GTK_LABEL(fix->result), text);
	kf_escape(fix->output->str, fix->output->len, details, sizeof(details));
	/* kf_escape keeps the text on one line; the tool's own lines read better. */
	for (char *p = strstr(details, "\\n"); p != NULL; p = strstr(p, "\\n")) {
		p[0] = ' ';
		p[1] = '\n';
	}
	gtk_label_set_text(GTK_LABEL(fix->kept), details);
	gtk_widget_show(fix->kept);
}

static void show_result(struct fix *fix)
{
	gtk_spinner_stop(GTK_SPINNER(fix->spinner));
	gtk_widget_hide(fix->spinner);
	gtk_label_set_text(GTK_LABEL(fix->question),
			   fix->exit_status == 0 ? fix->words->done : fix->words->failed);
	if (fix->device != NULL)
		show_firmware_result(fix);
	else
		show_repair_result(fix);
	gtk_widget_show(fix->close);
	gtk_widget_grab_focus(fix->close);
}

/* The result shows once both the output has ended and the program has exited. */
static void on_output(GObject *stream, GAsyncResult *result, gpointer user)
{
	struct fix *fix = user;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(stream), result, NULL);

	if (n > 0) {
		if (fix->output->len < 64 * 1024)
			g_string_append_len(fix->output, fix->chunk, n);
		read_more(fix, G_INPUT_STREAM(stream));
		return;
	}
	g_input_stream_close(G_INPUT_STREAM(stream), NULL, NULL);
	g_object_unref(stream);
	fix->is_output_over = true;
	if (fix->has_exited)
		show_result(fix);
}

static void on_repair_exit(GPid pid, gint status, gpointer user)
{
	struct fix *fix = user;

	g_spawn_close_pid(pid);
	fix->exit_status = g_spawn_check_wait_status(status, NULL) ? 0 : 1;
	fix->has_exited = true;
	if (fix->is_output_over)
		show_result(fix);
}

static void on_allow(GtkButton *button, gpointer user)
{
	struct fix *fix = user;
	/* Fixed words and the one checked name: nothing reaches a shell. */
	const char *repair[] = {fix->agentd_path, "scan",        "--fix",  "--yes",
				"--only",         fix->check_id, "--json", NULL};
	const char *update[] = {fix->agentd_path, "firmware", "apply", "--latest",
				fix->device,      "--yes",    NULL};
	const char **argv = fix->device != NULL ? update : repair;
	GError *error = NULL;
	GInputStream *stream;
	int out_fd;
	GPid pid;

	(void)button;
	gtk_widget_hide(fix->allow);
	gtk_widget_hide(fix->deny);
	gtk_label_set_text(GTK_LABEL(fix->question), fix->words->working);
	gtk_label_set_text(GTK_LABEL(fix->result),
			   _("This can take a minute. Please leave the computer on."));
	gtk_widget_show(fix->spinner);
	gtk_spinner_start(GTK_SPINNER(fix->spinner));
	if (!g_spawn_async_with_pipes(NULL, (gchar **)argv, NULL,
				      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
				      NULL, &pid, NULL, &out_fd, NULL, &error)) {
		g_string_truncate(fix->output, 0);
		g_error_free(error);
		fix->exit_status = 1;
		show_result(fix);
		return;
	}
	stream = g_unix_input_stream_new(out_fd, TRUE);
	read_more(fix, stream);
	g_child_watch_add(pid, on_repair_exit, fix);
}

static void on_deny(GtkButton *button, gpointer user)
{
	struct fix *fix = user;

	(void)button;
	fix->exit_status = 2;
	gtk_widget_destroy(fix->window);
}

/* A label of the helper's look: wrapped, left-aligned, in large type (css_class). */
static GtkWidget *text_label(const char *text, const char *css_class)
{
	GtkWidget *widget = gtk_label_new(text);

	gtk_label_set_line_wrap(GTK_LABEL(widget), TRUE);
	gtk_label_set_xalign(GTK_LABEL(widget), 0);
	gtk_label_set_max_width_chars(GTK_LABEL(widget), 48);
	if (css_class != NULL)
		gtk_style_context_add_class(gtk_widget_get_style_context(widget), css_class);
	return widget;
}

static GtkWidget *answer_button(const char *text, const char *name, const char *css_class)
{
	GtkWidget *button = gtk_button_new_with_label(text);

	kf_window_name(button, name);
	gtk_style_context_add_class(gtk_widget_get_style_context(button), "kefu-answer");
	if (css_class != NULL)
		gtk_style_context_add_class(gtk_widget_get_style_context(button), css_class);
	return button;
}

/* Accessible names of one kind of window, which the tests and screen readers find. */
struct fix_names {
	const char *question, *result, *kept, *allow, *deny;
};

/* The window of the helper's look under the organisation's name and logo (when a
 * support profile is installed; the repair or update itself needs none). */
static int run_window(struct fix *fix, const char *profile_path, const char *question,
		      const char *what, const struct fix_names *names)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
	struct kf_profile *profile = NULL;
	struct kf_error err;

	if (kf_profile_load(profile_path != NULL ? profile_path : kf_profile_default_path(),
			    &profile, &err) != KF_OK)
		profile = NULL;
	fix->exit_status = 2;
	fix->output = g_string_new(NULL);
	kf_window_style();
	fix->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(fix->window), _("kefu support helper"));
	gtk_window_set_default_size(GTK_WINDOW(fix->window), 520, 300);
	gtk_window_set_keep_above(GTK_WINDOW(fix->window), TRUE);
	gtk_container_set_border_width(GTK_CONTAINER(box), 20);
	g_signal_connect(fix->window, "destroy", G_CALLBACK(gtk_main_quit), NULL);
	fix->question = text_label(question, "kefu-question");
	kf_window_name(fix->question, names->question);
	fix->result = text_label(what, "kefu-big");
	kf_window_name(fix->result, names->result);
	fix->kept = text_label("", "kefu-muted");
	gtk_label_set_selectable(GTK_LABEL(fix->kept), TRUE);
	kf_window_name(fix->kept, names->kept);
	gtk_widget_set_no_show_all(fix->kept, TRUE);
	fix->spinner = gtk_spinner_new();
	gtk_widget_set_size_request(fix->spinner, 32, 32);
	kf_window_name(fix->spinner, fix->words->working);
	gtk_widget_set_no_show_all(fix->spinner, TRUE);
	fix->allow = answer_button(_("Allow"), names->allow, "suggested-action");
	fix->deny = answer_button(_("Deny"), names->deny, NULL);
	fix->close = answer_button(_("Close"), _("Close"), NULL);
	gtk_widget_set_no_show_all(fix->close, TRUE);
	g_signal_connect(fix->allow, "clicked", G_CALLBACK(on_allow), fix);
	g_signal_connect(fix->deny, "clicked", G_CALLBACK(on_deny), fix);
	g_signal_connect_swapped(fix->close, "clicked", G_CALLBACK(gtk_widget_destroy),
				 fix->window);
	gtk_box_pack_end(GTK_BOX(buttons), fix->allow, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(buttons), fix->deny, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(buttons), fix->close, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), kf_window_brand_new(profile), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), gtk_separator_new(GTK_ORIENTATION_HORIZONTAL), FALSE,
			   FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), fix->question, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), fix->spinner, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), fix->result, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), fix->kept, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(box), buttons, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(fix->window), box);
	gtk_widget_show_all(fix->window);
	if (fix->is_nothing_to_ask) {
		gtk_widget_hide(fix->allow);
		gtk_widget_hide(fix->deny);
		gtk_widget_show(fix->close);
		gtk_widget_grab_focus(fix->close);
	} else {
		/* The answer has the focus (Enter allows); no text starts selected. */
		gtk_widget_grab_focus(fix->allow);
	}
	kf_profile_free(profile);
	gtk_main();
	g_string_free(fix->output, TRUE);
	return fix->exit_status;
}

int kf_window_fix(const char *check_id, const char *agentd_path, const char *profile_path)
{
	const struct fix_words words = {_("Repairing..."), _("The repair is done."),
					_("The repair did not succeed.")};
	const struct fix_names names = {_("Repair"), _("What the repair does"),
					_("Where the repair's record is kept"),
					_("Allow the repair"), _("Deny the repair")};
	struct fix fix = {.check_id = check_id, .agentd_path = agentd_path, .words = &words};
	char fix_words[512], what[700], question[1200];

	check_words(check_id, fix.title, sizeof(fix.title), fix_words, sizeof(fix_words));
	if (fix.title[0] == '\0')
		snprintf(fix.title, sizeof(fix.title), "%s", check_id);
	snprintf(question, sizeof(question), _("Repair: %s?"), fix.title);
	if (fix_words[0] != '\0')
		snprintf(what, sizeof(what), _("What it does: %s"), fix_words);
	else
		snprintf(what, sizeof(what), "%s",
			 _("A repair of this computer's settings, as its troubleshooter "
			   "describes it."));
	return run_window(&fix, profile_path, question, what, &names);
}

bool kf_window_firmware_device_is_valid(const char *device)
{
	size_t len = strlen(device);

	if (len == 0 || len > 64 || device[0] == '-' || device[0] == '.')
		return false;
	return strspn(device,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

/*
 * The update `kefu-agentd firmware updates --json` offers the device now (the same signed
 * metadata and checks the daily check used), in plain words: "Install firmware 1.2.5 on
 * Emulated device (you have 1.2.2)?" and its release notes. false when none is offered.
 */
static bool firmware_words(struct fix *fix, char *question, size_t question_size, char *notes,
			   size_t notes_size)
{
	const char *device = fix->device;
	const char *argv[] = {fix->agentd_path, "firmware", "updates", "--json", NULL};
	gchar *out = NULL;
	gint status = -1;
	json_t *updates, *u;
	bool is_offered = false;
	size_t i;

	if (!g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
			  NULL, &status, NULL) ||
	    !g_spawn_check_wait_status(status, NULL)) {
		g_free(out);
		return false;
	}
	updates = json_loads(out, 0, NULL);
	g_free(out);
	json_array_foreach(updates, i, u)
	{
		const char *id = json_string_value(json_object_get(u, "device"));
		const char *name = json_string_value(json_object_get(u, "device_name"));
		const char *from = json_string_value(json_object_get(u, "from"));
		const char *to = json_string_value(json_object_get(u, "to"));
		const char *text = json_string_value(json_object_get(u, "description"));
		char name_words[256], from_words[64], to_words[64];

		if (is_offered || id == NULL || strcmp(id, device) != 0 || from == NULL ||
		    to == NULL)
			continue;
		if (name == NULL || name[0] == '\0')
			name = device;
		/* The device and the metadata are outside text: shown, never interpreted. */
		kf_escape(name, strlen(name), name_words, sizeof(name_words));
		kf_escape(from, strlen(from), from_words, sizeof(from_words));
		kf_escape(to, strlen(to), to_words, sizeof(to_words));
		snprintf(question, question_size, _("Install firmware %s on %s (you have %s)?"),
			 to_words, name_words, from_words);
		snprintf(fix->title, sizeof(fix->title), "%s", name_words);
		snprintf(fix->update_to, sizeof(fix->update_to), "%s", to_words);
		if (text != NULL)
			kf_escape(text, strlen(text), notes, notes_size);
		is_offered = true;
	}
	json_decref(updates);
	return is_offered;
}

int kf_window_fix_firmware(const char *device, const char *agentd_path, const char *profile_path)
{
	const struct fix_words words = {_("Installing the firmware update..."),
					_("The firmware update is installed."),
					_("The firmware update was not installed.")};
	const struct fix_names names = {_("Firmware update"), _("What the update does"),
					_("What kefu's checks said"), _("Allow the update"),
					_("Deny the update")};
	struct fix fix = {.device = device, .agentd_path = agentd_path, .words = &words};
	char question[1024], notes[1024] = "", text[2048];

	if (!firmware_words(&fix, question, sizeof(question), notes, sizeof(notes))) {
		snprintf(question, sizeof(question),
			 _("No firmware update is offered for the device %s now."), device);
		fix.is_nothing_to_ask = true;
		return run_window(&fix, profile_path, question,
				  _("Nothing was changed. kefu-agentd firmware updates lists the "
				    "updates there are."),
				  &names);
	}
	snprintf(text, sizeof(text), "%s%s%s", notes, notes[0] ? "\n\n" : "",
		 _("kefu checks the update's signature, the device and this computer first, "
		   "then writes the firmware and checks what the device runs. Keep the "
		   "computer on and the device connected until it is done."));
	return run_window(&fix, profile_path, question, text, &names);
}
