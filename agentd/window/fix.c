/* kefu-helper --fix: one repair the customer allows in a window, run by kefu-agentd scan. SPDX-License-Identifier: MIT */
#include "agentd/i18n.h"
#include "agentd/plugins/job.h"
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

struct fix {
	const char *check_id;
	const char *agentd_path;
	char title[512];
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
			if (kf_plugin_manifest_load(path, &manifest, &err) != KF_OK)
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
static void show_result(struct fix *fix)
{
	json_t *answer = json_loadb(fix->output->str, fix->output->len, 0, NULL);
	json_t *check = json_array_get(json_object_get(answer, "checks"), 0);
	const char *state = json_string_value(json_object_get(check, "state"));
	const char *kept = json_string_value(json_object_get(answer, "summary"));
	char text[2048], safe[1024];

	gtk_spinner_stop(GTK_SPINNER(fix->spinner));
	gtk_widget_hide(fix->spinner);
	gtk_label_set_text(GTK_LABEL(fix->question), fix->exit_status == 0
							     ? _("The repair is done.")
							     : _("The repair did not succeed."));
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
	gtk_widget_show(fix->close);
	gtk_widget_grab_focus(fix->close);
	json_decref(answer);
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
	/* Fixed words and the one checked id: nothing reaches a shell. */
	const char *argv[] = {fix->agentd_path, "scan",        "--fix",  "--yes",
			      "--only",         fix->check_id, "--json", NULL};
	GError *error = NULL;
	GInputStream *stream;
	int out_fd;
	GPid pid;

	(void)button;
	gtk_widget_hide(fix->allow);
	gtk_widget_hide(fix->deny);
	gtk_label_set_text(GTK_LABEL(fix->question), _("Repairing..."));
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

int kf_window_fix(const char *check_id, const char *agentd_path, const char *profile_path)
{
	struct fix fix = {.check_id = check_id, .agentd_path = agentd_path, .exit_status = 2};
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
	char words[512], what[700], question[1200];
	struct kf_profile *profile = NULL;
	struct kf_error err;

	/* The organisation's name and logo when a support profile is installed; the repair
	 * itself needs none. */
	if (kf_profile_load(profile_path != NULL ? profile_path : kf_profile_default_path(),
			    &profile, &err) != KF_OK)
		profile = NULL;
	check_words(check_id, fix.title, sizeof(fix.title), words, sizeof(words));
	if (fix.title[0] == '\0')
		snprintf(fix.title, sizeof(fix.title), "%s", check_id);
	snprintf(question, sizeof(question), _("Repair: %s?"), fix.title);
	fix.output = g_string_new(NULL);
	kf_window_style();
	fix.window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(fix.window), _("kefu support helper"));
	gtk_window_set_default_size(GTK_WINDOW(fix.window), 520, 300);
	gtk_window_set_keep_above(GTK_WINDOW(fix.window), TRUE);
	gtk_container_set_border_width(GTK_CONTAINER(box), 20);
	g_signal_connect(fix.window, "destroy", G_CALLBACK(gtk_main_quit), NULL);
	fix.question = text_label(question, "kefu-question");
	kf_window_name(fix.question, _("Repair"));
	if (words[0] != '\0')
		snprintf(what, sizeof(what), _("What it does: %s"), words);
	else
		snprintf(what, sizeof(what), "%s",
			 _("A repair of this computer's settings, as its troubleshooter "
			   "describes it."));
	fix.result = text_label(what, "kefu-big");
	kf_window_name(fix.result, _("What the repair does"));
	fix.kept = text_label("", "kefu-muted");
	gtk_label_set_selectable(GTK_LABEL(fix.kept), TRUE);
	kf_window_name(fix.kept, _("Where the repair's record is kept"));
	gtk_widget_set_no_show_all(fix.kept, TRUE);
	fix.spinner = gtk_spinner_new();
	gtk_widget_set_size_request(fix.spinner, 32, 32);
	kf_window_name(fix.spinner, _("Repairing..."));
	gtk_widget_set_no_show_all(fix.spinner, TRUE);
	fix.allow = answer_button(_("Allow"), _("Allow the repair"), "suggested-action");
	fix.deny = answer_button(_("Deny"), _("Deny the repair"), NULL);
	fix.close = answer_button(_("Close"), _("Close"), NULL);
	gtk_widget_set_no_show_all(fix.close, TRUE);
	g_signal_connect(fix.allow, "clicked", G_CALLBACK(on_allow), &fix);
	g_signal_connect(fix.deny, "clicked", G_CALLBACK(on_deny), &fix);
	g_signal_connect_swapped(fix.close, "clicked", G_CALLBACK(gtk_widget_destroy), fix.window);
	gtk_box_pack_end(GTK_BOX(buttons), fix.allow, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(buttons), fix.deny, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(buttons), fix.close, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), kf_window_brand_new(profile), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), gtk_separator_new(GTK_ORIENTATION_HORIZONTAL), FALSE,
			   FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), fix.question, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), fix.spinner, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), fix.result, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), fix.kept, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(box), buttons, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(fix.window), box);
	gtk_widget_show_all(fix.window);
	/* The answer has the focus (Enter allows); no text starts selected. */
	gtk_widget_grab_focus(fix.allow);
	kf_profile_free(profile);
	gtk_main();
	g_string_free(fix.output, TRUE);
	return fix.exit_status;
}
