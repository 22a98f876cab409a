/* kefu-helper: the customer's window, the GTK front end of the session core. SPDX-License-Identifier: MIT */
#include "agentd/i18n.h"
#include "agentd/policy.h"
#include "agentd/journal/journal.h"
#include "agentd/window/window.h"
#include "proto/base/escape.h"

#include <stdio.h>
#include <string.h>

struct card {
	GtkWidget *frame, *countdown;
	uint64_t deadline_ms;
	enum kf_capability capability;
	uint32_t fetch_id;     /* 0: a capability request */
	GtkWidget *path_entry; /* a secret: its path typed back */
	struct kf_window *window;
};

struct kf_window {
	uv_loop_t *loop;
	struct share *share;
	const char *case_number;
	GtkWidget *window, *stack, *organisation;
	GtkWidget *code, *code_note, *notice, *policy, *spinner;
	char code_text[32];
	GtkWidget *technician, *timer, *watched, *requests, *allowed, *nothing_allowed, *status;
	GtkWidget *chat_view, *chat_entry;
	GtkWidget *grant_rows[KF_CAP_COUNT], *grant_switches[KF_CAP_COUNT];
	GList *cards;
	GtkWidget *ended, *advice, *summary_view, *summary_path, *summary_case, *contact;
	GtkWidget *failure;
	GtkWidget *stop, *close, *web_page;
	char summary_html[4096];
	struct kf_sharing *sharing;
	char technician_name[256];
	gint64 connected_at;
	guint tick;
	bool is_over;
	bool is_stopped_here; /* the customer pressed Stop or closed the window */
};

void kf_window_name(GtkWidget *widget, const char *name)
{
	atk_object_set_name(gtk_widget_get_accessible(widget), name);
}

/* Text from the technician, made safe to show: no controls, no reordering marks. */
static void safe_text(const char *in, char *out, size_t size)
{
	kf_escape(in, strlen(in), out, size);
}

static GtkWidget *label(const char *text, const char *css_class)
{
	GtkWidget *widget = gtk_label_new(text);

	gtk_label_set_line_wrap(GTK_LABEL(widget), TRUE);
	gtk_label_set_xalign(GTK_LABEL(widget), 0);
	gtk_label_set_max_width_chars(GTK_LABEL(widget), 52);
	if (css_class != NULL)
		gtk_style_context_add_class(gtk_widget_get_style_context(widget), css_class);
	return widget;
}

static const char window_css[] =
	".kefu-organisation { font-size: 160%; font-weight: bold; }"
	".kefu-code { font-family: monospace; font-size: 360%; font-weight: bold; "
	"letter-spacing: 2px; }"
	".kefu-big { font-size: 125%; }"
	".kefu-card { border: 2px solid #1c71d8; border-radius: 8px; padding: 10px; "
	"background-color: #f0f6ff; }"
	".kefu-watched { background-color: #e01b24; color: white; font-weight: bold; "
	"padding: 6px; }"
	".kefu-stop { font-size: 125%; font-weight: bold; }"
	".kefu-answer { font-size: 125%; font-weight: bold; padding: 6px 18px; }"
	".kefu-question { font-size: 140%; font-weight: bold; }"
	".kefu-muted { color: #5e5c64; }";

/* ---- the waiting page: the code ---- */

static void on_copy(GtkButton *button, gpointer user)
{
	struct kf_window *window = user;

	(void)button;
	gtk_clipboard_set_text(gtk_clipboard_get(GDK_SELECTION_CLIPBOARD), window->code_text, -1);
	gtk_label_set_text(GTK_LABEL(window->notice), _("The code is copied."));
}

static void on_stop(GtkButton *button, gpointer user)
{
	struct kf_window *window = user;

	(void)button;
	if (window->share == NULL || window->is_over) {
		gtk_widget_destroy(window->window);
		return;
	}
	window->is_stopped_here = true;
	kf_share_stop_everything(window->share, N_("the customer pressed Stop"));
}

static GtkWidget *waiting_page(struct kf_window *window)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
	GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	GtkWidget *spinner = gtk_spinner_new(), *copy, *cancel;

	window->code = gtk_label_new(_("Connecting..."));
	gtk_style_context_add_class(gtk_widget_get_style_context(window->code), "kefu-code");
	kf_window_name(window->code, _("Your code"));
	window->code_note = label("", "kefu-big");
	copy = gtk_button_new_with_label(_("Copy the code"));
	kf_window_name(copy, _("Copy the code"));
	g_signal_connect(copy, "clicked", G_CALLBACK(on_copy), window);
	gtk_spinner_start(GTK_SPINNER(spinner));
	kf_window_name(spinner, _("Waiting for the technician"));
	window->spinner = spinner;
	cancel = gtk_button_new_with_label(_("Cancel"));
	kf_window_name(cancel, _("Cancel"));
	g_signal_connect(cancel, "clicked", G_CALLBACK(on_stop), window);
	window->notice = label("", "kefu-muted");
	window->policy = label("", NULL);
	gtk_box_pack_start(GTK_BOX(box), label(_("Your code for the technician"), "kefu-big"),
			   FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->code, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->code_note, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(row), copy, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(row), spinner, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(row), label(_("Waiting for the technician..."), NULL), TRUE,
			   TRUE, 0);
	gtk_box_pack_end(GTK_BOX(row), cancel, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->notice, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->policy, FALSE, FALSE, 0);
	{
		char id[KF_SUPPORT_ID_SIZE], text[256];
		struct kf_error err;
		GtkWidget *support;

		/* The support ID stays here unless the customer allows 'history'. */
		if (kf_support_id_get(NULL, id, &err) == KF_OK) {
			snprintf(text, sizeof(text),
				 _("Your support ID: %s (a technician sees it only if you allow "
				   "your support history)"),
				 id);
			support = label(text, "kefu-muted");
			kf_window_name(support, _("Your support ID"));
			gtk_box_pack_start(GTK_BOX(box), support, FALSE, FALSE, 0);
		}
	}
	return box;
}

/* ---- the session page: requests, grants, chat ---- */

static void chat_append(struct kf_window *window, const char *who, const char *text)
{
	GtkTextBuffer *buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(window->chat_view));
	/* TRANSLATORS: a chat line: who wrote it, then their words. */
	const char *format = _("%s: %s"), *second;
	char safe[2048];
	GtkTextIter end;

	safe_text(text, safe, sizeof(safe));
	gtk_text_buffer_get_end_iter(buffer, &end);
	/* The name in bold where the translation puts the first %s, the words at the second. */
	if (strncmp(format, "%s", 2) != 0 || (second = strstr(format + 2, "%s")) == NULL ||
	    strcmp(second, "%s") != 0) {
		format = "%s: %s";
		second = format + 4;
	}
	if (who != NULL) {
		gtk_text_buffer_insert_with_tags_by_name(buffer, &end, who, -1, "who", NULL);
		gtk_text_buffer_insert(buffer, &end, format + 2, (gint)(second - format - 2));
	}
	gtk_text_buffer_insert(buffer, &end, safe, -1);
	gtk_text_buffer_insert(buffer, &end, "\n", -1);
	gtk_text_view_scroll_to_mark(GTK_TEXT_VIEW(window->chat_view),
				     gtk_text_buffer_get_insert(buffer), 0, FALSE, 0, 0);
}

static void on_send(GtkWidget *widget, gpointer user)
{
	struct kf_window *window = user;
	const char *text = gtk_entry_get_text(GTK_ENTRY(window->chat_entry));
	struct kf_error err;

	(void)widget;
	if (text[0] == '\0' || window->share == NULL)
		return;
	if (kf_share_chat(window->share, text, &err) != KF_OK) {
		chat_append(window, NULL, err.message);
		return;
	}
	chat_append(window, _("You"), text);
	gtk_entry_set_text(GTK_ENTRY(window->chat_entry), "");
}

static void on_switch(GObject *object, GParamSpec *spec, gpointer user)
{
	struct kf_window *window = user;
	bool is_on = gtk_switch_get_active(GTK_SWITCH(object));

	(void)spec;
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		if (window->grant_switches[i] != GTK_WIDGET(object))
			continue;
		/* A switch only takes back: a grant is given by answering a request. */
		if (!is_on && kf_share_is_granted(window->share, (enum kf_capability)i))
			kf_share_revoke(window->share, (enum kf_capability)i);
		else if (is_on && !kf_share_is_granted(window->share, (enum kf_capability)i))
			gtk_switch_set_active(GTK_SWITCH(object), FALSE);
	}
}

static void update_allowed(struct kf_window *window)
{
	bool is_any = false;

	for (int i = 0; i < KF_CAP_COUNT; i++) {
		bool is_granted = window->share != NULL &&
				  kf_share_is_granted(window->share, (enum kf_capability)i);

		gtk_widget_set_visible(window->grant_rows[i], is_granted);
		g_signal_handlers_block_by_func(window->grant_switches[i], on_switch, window);
		gtk_switch_set_active(GTK_SWITCH(window->grant_switches[i]), is_granted);
		g_signal_handlers_unblock_by_func(window->grant_switches[i], on_switch, window);
		is_any = is_any || is_granted;
	}
	gtk_widget_set_visible(window->nothing_allowed, !is_any);
}

static void on_tick_timer(struct kf_window *window)
{
	gint64 seconds = (g_get_monotonic_time() - window->connected_at) / G_USEC_PER_SEC;
	char text[64];

	snprintf(text, sizeof(text), _("Session time %02d:%02d"), (int)(seconds / 60),
		 (int)(seconds % 60));
	gtk_label_set_text(GTK_LABEL(window->timer), text);
}

static void update_countdown(struct card *card)
{
	uint64_t now = uv_now(card->window->loop);
	unsigned left =
		card->deadline_ms > now ? (unsigned)((card->deadline_ms - now + 999) / 1000) : 0;
	char text[160];

	snprintf(text, sizeof(text),
		 ngettext("No answer in %u second means no.", "No answer in %u seconds means no.",
			  left),
		 left);
	gtk_label_set_text(GTK_LABEL(card->countdown), text);
}

static gboolean on_tick(gpointer user)
{
	struct kf_window *window = user;

	if (window->connected_at != 0 && !window->is_over)
		on_tick_timer(window);
	for (GList *item = window->cards; item != NULL; item = item->next)
		update_countdown(item->data);
	return G_SOURCE_CONTINUE;
}

static GtkWidget *session_page(struct kf_window *window)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	GtkWidget *chat_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *scroll = gtk_scrolled_window_new(NULL, NULL), *send;
	GtkTextBuffer *buffer;

	window->technician = label("", "kefu-big");
	kf_window_name(window->technician, _("Your technician"));
	window->timer = gtk_label_new("");
	kf_window_name(window->timer, _("Session time"));
	window->watched = label("", "kefu-watched");
	gtk_widget_set_no_show_all(window->watched, TRUE);
	window->requests = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	window->allowed = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	window->nothing_allowed = label(_("Nothing is allowed yet."), "kefu-muted");
	gtk_box_pack_start(GTK_BOX(window->allowed), window->nothing_allowed, FALSE, FALSE, 0);
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
		GtkWidget *toggle = gtk_switch_new();
		char name[256];
		const char *words = _(kf_capability_plain((enum kf_capability)i));

		snprintf(name, sizeof(name), _("Allowed: %s"), words);
		kf_window_name(toggle, name);
		g_signal_connect(toggle, "notify::active", G_CALLBACK(on_switch), window);
		gtk_box_pack_start(GTK_BOX(row), label(words, NULL), TRUE, TRUE, 0);
		gtk_box_pack_end(GTK_BOX(row), toggle, FALSE, FALSE, 0);
		gtk_widget_show_all(row);
		gtk_widget_set_no_show_all(row, TRUE);
		window->grant_rows[i] = row;
		window->grant_switches[i] = toggle;
		gtk_box_pack_start(GTK_BOX(window->allowed), row, FALSE, FALSE, 0);
	}
	window->chat_view = gtk_text_view_new();
	gtk_text_view_set_editable(GTK_TEXT_VIEW(window->chat_view), FALSE);
	gtk_text_view_set_cursor_visible(GTK_TEXT_VIEW(window->chat_view), FALSE);
	gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(window->chat_view), GTK_WRAP_WORD_CHAR);
	kf_window_name(window->chat_view, _("Conversation"));
	buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(window->chat_view));
	gtk_text_buffer_create_tag(buffer, "who", "weight", PANGO_WEIGHT_BOLD, NULL);
	gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scroll), 110);
	gtk_container_add(GTK_CONTAINER(scroll), window->chat_view);
	window->chat_entry = gtk_entry_new();
	gtk_entry_set_placeholder_text(GTK_ENTRY(window->chat_entry),
				       _("Write to your technician"));
	kf_window_name(window->chat_entry, _("Message to your technician"));
	g_signal_connect(window->chat_entry, "activate", G_CALLBACK(on_send), window);
	send = gtk_button_new_with_label(_("Send"));
	kf_window_name(send, _("Send"));
	g_signal_connect(send, "clicked", G_CALLBACK(on_send), window);
	window->status = label("", "kefu-muted");
	gtk_box_pack_start(GTK_BOX(top), window->technician, TRUE, TRUE, 0);
	gtk_box_pack_end(GTK_BOX(top), window->timer, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), top, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->watched, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->requests, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box),
			   label(_("Allowed now (switch off to take back)"), "kefu-big"), FALSE,
			   FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->allowed, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), label(_("Chat"), "kefu-big"), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), scroll, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(chat_row), window->chat_entry, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(chat_row), send, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), chat_row, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->status, FALSE, FALSE, 0);
	return box;
}

static void card_remove(struct card *card)
{
	card->window->cards = g_list_remove(card->window->cards, card);
	gtk_widget_destroy(card->frame);
	g_free(card);
}

static struct card *find_card(struct kf_window *window, enum kf_capability capability,
			      uint32_t fetch_id)
{
	for (GList *item = window->cards; item != NULL; item = item->next) {
		struct card *card = item->data;

		if (card->fetch_id == fetch_id && (fetch_id != 0 || card->capability == capability))
			return card;
	}
	return NULL;
}

static void on_card_answer(GtkButton *button, gpointer user)
{
	struct card *card = user;
	struct kf_window *window = card->window;
	bool is_yes = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(button), "yes"));
	struct kf_error err;
	bool is_allowed;

	if (card->fetch_id == 0) {
		/* The core decides; the card goes when it says the request is settled. */
		if (kf_share_answer(window->share, card->capability, is_yes, &err) != KF_OK) {
			chat_append(window, NULL, err.message);
			card_remove(card);
		}
		return;
	}
	kf_share_answer_fetch(window->share, card->fetch_id,
			      !is_yes ? "n"
			      : card->path_entry != NULL
				      ? gtk_entry_get_text(GTK_ENTRY(card->path_entry))
				      : "y",
			      &is_allowed, &err);
	chat_append(window, NULL,
		    is_allowed ? _("Allowed: the copy goes to your technician.")
			       : _("Refused: nothing was copied."));
	card_remove(card);
}

static struct card *card_new(struct kf_window *window, const char *title, const char *why,
			     const char *what, uint64_t deadline_ms)
{
	struct card *card = g_new0(struct card, 1);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	GtkWidget *allow = gtk_button_new_with_label(_("Allow")), *deny;
	char name[512];

	card->window = window;
	card->deadline_ms = deadline_ms;
	card->frame = box;
	gtk_style_context_add_class(gtk_widget_get_style_context(box), "kefu-card");
	gtk_box_pack_start(GTK_BOX(box), label(title, "kefu-big"), FALSE, FALSE, 0);
	if (why != NULL)
		gtk_box_pack_start(GTK_BOX(box), label(why, NULL), FALSE, FALSE, 0);
	card->countdown = label("", "kefu-muted");
	gtk_box_pack_start(GTK_BOX(box), card->countdown, FALSE, FALSE, 0);
	deny = gtk_button_new_with_label(_("Deny"));
	snprintf(name, sizeof(name), _("Allow: %s"), what);
	kf_window_name(allow, name);
	snprintf(name, sizeof(name), _("Deny: %s"), what);
	kf_window_name(deny, name);
	g_object_set_data(G_OBJECT(allow), "yes", GINT_TO_POINTER(1));
	g_signal_connect(allow, "clicked", G_CALLBACK(on_card_answer), card);
	g_signal_connect(deny, "clicked", G_CALLBACK(on_card_answer), card);
	gtk_style_context_add_class(gtk_widget_get_style_context(allow), "suggested-action");
	gtk_box_pack_end(GTK_BOX(buttons), allow, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(buttons), deny, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(box), buttons, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(window->requests), box, FALSE, FALSE, 0);
	window->cards = g_list_append(window->cards, card);
	update_countdown(card);
	return card;
}

/* ---- the summary page ---- */

/* Inserts text at the buffer's end with the tags named (NULL for none). */
static void insert_tagged(GtkTextBuffer *buffer, const char *text, size_t len, const char *tag,
			  bool is_bold)
{
	GtkTextIter start, end;
	int offset;

	if (len == 0)
		return;
	gtk_text_buffer_get_end_iter(buffer, &end);
	offset = gtk_text_iter_get_offset(&end);
	gtk_text_buffer_insert(buffer, &end, text, (gint)len);
	gtk_text_buffer_get_iter_at_offset(buffer, &start, offset);
	gtk_text_buffer_get_end_iter(buffer, &end);
	if (tag != NULL)
		gtk_text_buffer_apply_tag_by_name(buffer, tag, &start, &end);
	if (is_bold)
		gtk_text_buffer_apply_tag_by_name(buffer, "bold", &start, &end);
}

/* One line's text: "**" turns bold on and off, and a backslash shows the next character
 * as it is (the summary escapes outside text so). */
static void insert_inline(GtkTextBuffer *buffer, const char *line, size_t len, const char *tag)
{
	GString *run = g_string_new(NULL);
	bool is_bold = false;

	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\\' && i + 1 < len) {
			g_string_append_c(run, line[++i]);
		} else if (line[i] == '*' && i + 1 < len && line[i + 1] == '*') {
			insert_tagged(buffer, run->str, run->len, tag, is_bold);
			g_string_truncate(run, 0);
			is_bold = !is_bold;
			i++;
		} else {
			g_string_append_c(run, line[i]);
		}
	}
	insert_tagged(buffer, run->str, run->len, tag, is_bold);
	g_string_free(run, TRUE);
}

/*
 * The summary as the customer reads it, not its Markdown: the summary's own few forms
 * (headings, list items, bold names, escaped characters) become the text view's styles.
 */
static void show_summary(GtkTextBuffer *buffer, const char *markdown)
{
	const char *line = markdown;

	gtk_text_buffer_set_text(buffer, "", 0);
	if (gtk_text_tag_table_lookup(gtk_text_buffer_get_tag_table(buffer), "bold") == NULL) {
		gtk_text_buffer_create_tag(buffer, "bold", "weight", PANGO_WEIGHT_BOLD, NULL);
		gtk_text_buffer_create_tag(buffer, "h1", "weight", PANGO_WEIGHT_BOLD, "scale", 1.5,
					   "pixels-below-lines", 6, NULL);
		gtk_text_buffer_create_tag(buffer, "h2", "weight", PANGO_WEIGHT_BOLD, "scale", 1.2,
					   "pixels-above-lines", 8, NULL);
	}
	while (*line != '\0') {
		const char *newline = strchr(line, '\n');
		size_t len = newline != NULL ? (size_t)(newline - line) : strlen(line);

		if (len >= 3 && strncmp(line, "## ", 3) == 0) {
			insert_inline(buffer, line + 3, len - 3, "h2");
		} else if (len >= 2 && strncmp(line, "# ", 2) == 0) {
			insert_inline(buffer, line + 2, len - 2, "h1");
		} else if (len >= 2 && strncmp(line, "- ", 2) == 0) {
			insert_tagged(buffer, "\u2022 ", strlen("\u2022 "), NULL, false);
			insert_inline(buffer, line + 2, len - 2, NULL);
		} else {
			insert_inline(buffer, line, len, NULL);
		}
		if (newline == NULL)
			break;
		insert_tagged(buffer, "\n", 1, NULL, false);
		line = newline + 1;
	}
}

static void on_web_page(GtkButton *button, gpointer user)
{
	struct kf_window *window = user;
	char *uri = g_filename_to_uri(window->summary_html, NULL, NULL);

	(void)button;
	if (uri != NULL)
		gtk_show_uri_on_window(GTK_WINDOW(window->window), uri, GDK_CURRENT_TIME, NULL);
	g_free(uri);
}

static GtkWidget *summary_page(struct kf_window *window)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	GtkWidget *scroll = gtk_scrolled_window_new(NULL, NULL);

	window->ended = label("", "kefu-big");
	kf_window_name(window->ended, _("The session has ended"));
	window->advice = label("", NULL);
	window->summary_view = gtk_text_view_new();
	gtk_text_view_set_editable(GTK_TEXT_VIEW(window->summary_view), FALSE);
	gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(window->summary_view), GTK_WRAP_WORD_CHAR);
	gtk_text_view_set_left_margin(GTK_TEXT_VIEW(window->summary_view), 8);
	gtk_text_view_set_right_margin(GTK_TEXT_VIEW(window->summary_view), 8);
	gtk_text_view_set_cursor_visible(GTK_TEXT_VIEW(window->summary_view), FALSE);
	kf_window_name(window->summary_view, _("Summary of the session"));
	gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scroll), 220);
	gtk_container_add(GTK_CONTAINER(scroll), window->summary_view);
	window->summary_path = label("", "kefu-muted");
	gtk_label_set_selectable(GTK_LABEL(window->summary_path), TRUE);
	kf_window_name(window->summary_path, _("Where the summary is kept"));
	window->summary_case = label("", NULL);
	window->contact = label("", NULL);
	kf_window_name(window->contact, _("Contact"));
	window->web_page = gtk_button_new_with_label(_("Open the summary as a web page"));
	kf_window_name(window->web_page, _("Open the summary as a web page"));
	g_signal_connect(window->web_page, "clicked", G_CALLBACK(on_web_page), window);
	gtk_box_pack_start(GTK_BOX(box), window->ended, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->advice, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), scroll, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->summary_path, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->summary_case, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->contact, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->web_page, FALSE, FALSE, 0);
	return box;
}

/* ---- the window ---- */

static gboolean on_delete(GtkWidget *widget, GdkEvent *event, gpointer user)
{
	struct kf_window *window = user;

	(void)widget;
	(void)event;
	/* Closing the window is a Stop: nothing goes on unseen. */
	if (window->share != NULL && !window->is_over) {
		window->is_stopped_here = true;
		kf_share_stop_everything(window->share, N_("the customer closed the window"));
		return TRUE;
	}
	return FALSE;
}

static void on_sharing_stop(void *user)
{
	struct kf_window *window = user;

	if (window->share != NULL)
		kf_share_revoke(window->share, KF_CAP_VIEW);
}

void kf_window_style(void)
{
	GtkCssProvider *css = gtk_css_provider_new();

	gtk_css_provider_load_from_data(css, window_css, -1, NULL);
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css),
						  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(css);
}

/* The profile's logo, 48 pixels high, first in header (nothing when there is none). */
static void add_logo(GtkWidget *header, const struct kf_profile *profile)
{
	GdkPixbuf *logo;
	GtkWidget *image;

	if (profile == NULL || profile->logo_path == NULL)
		return;
	logo = gdk_pixbuf_new_from_file_at_scale(profile->logo_path, 48, 48, TRUE, NULL);
	if (logo == NULL)
		return;
	image = gtk_image_new_from_pixbuf(logo);
	kf_window_name(image, profile->organisation);
	gtk_box_pack_start(GTK_BOX(header), image, FALSE, FALSE, 0);
	gtk_box_reorder_child(GTK_BOX(header), image, 0);
	gtk_widget_show(image);
	g_object_unref(logo);
}

GtkWidget *kf_window_brand_new(const struct kf_profile *profile)
{
	GtkWidget *header = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
	GtkWidget *name = label(profile != NULL ? profile->organisation : _("kefu support helper"),
				"kefu-organisation");

	kf_window_name(name, _("Support organisation"));
	gtk_box_pack_start(GTK_BOX(header), name, TRUE, TRUE, 0);
	add_logo(header, profile);
	return header;
}

struct kf_window *kf_window_new(uv_loop_t *loop, const char *case_number)
{
	struct kf_window *window = g_new0(struct kf_window, 1);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
	GtkWidget *header = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
	GtkWidget *bottom = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);

	window->loop = loop;
	window->case_number = case_number;
	kf_window_style();
	window->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(window->window), _("kefu support helper"));
	gtk_window_set_default_size(GTK_WINDOW(window->window), 560, 640);
	/* Above other windows, full-screen ones included, so Stop is always in sight. */
	gtk_window_set_keep_above(GTK_WINDOW(window->window), TRUE);
	gtk_container_set_border_width(GTK_CONTAINER(box), 16);
	g_signal_connect(window->window, "delete-event", G_CALLBACK(on_delete), window);
	g_signal_connect(window->window, "destroy", G_CALLBACK(gtk_main_quit), NULL);
	window->organisation = label("", "kefu-organisation");
	kf_window_name(window->organisation, _("Support organisation"));
	gtk_box_pack_start(GTK_BOX(header), window->organisation, TRUE, TRUE, 0);
	window->stack = gtk_stack_new();
	gtk_stack_add_named(GTK_STACK(window->stack), waiting_page(window), "waiting");
	gtk_stack_add_named(GTK_STACK(window->stack), session_page(window), "session");
	gtk_stack_add_named(GTK_STACK(window->stack), summary_page(window), "summary");
	window->failure = label("", "kefu-big");
	kf_window_name(window->failure, _("Problem"));
	gtk_stack_add_named(GTK_STACK(window->stack), window->failure, "failure");
	window->stop = gtk_button_new_with_label(_("Stop everything"));
	kf_window_name(window->stop, _("Stop"));
	gtk_style_context_add_class(gtk_widget_get_style_context(window->stop),
				    "destructive-action");
	gtk_style_context_add_class(gtk_widget_get_style_context(window->stop), "kefu-stop");
	g_signal_connect(window->stop, "clicked", G_CALLBACK(on_stop), window);
	window->close = gtk_button_new_with_label(_("Close"));
	kf_window_name(window->close, _("Close"));
	g_signal_connect_swapped(window->close, "clicked", G_CALLBACK(gtk_widget_destroy),
				 window->window);
	gtk_widget_set_no_show_all(window->close, TRUE);
	gtk_box_pack_end(GTK_BOX(bottom), window->stop, TRUE, TRUE, 0);
	gtk_box_pack_end(GTK_BOX(bottom), window->close, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(box), header, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), window->stack, TRUE, TRUE, 0);
	gtk_box_pack_end(GTK_BOX(box), bottom, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(window->window), box);
	window->sharing = kf_sharing_new(on_sharing_stop, window);
	window->tick = g_timeout_add_seconds(1, on_tick, window);
	gtk_widget_show_all(window->window);
	gtk_widget_hide(window->watched);
	return window;
}

void kf_window_attach(struct kf_window *window, struct share *share)
{
	const struct kf_profile *profile = kf_share_profile(share);
	GtkWidget *header = gtk_widget_get_parent(window->organisation);

	window->share = share;
	gtk_label_set_text(GTK_LABEL(window->organisation), profile->organisation);
	add_logo(header, profile);
	update_allowed(window);
}

static void finish(struct kf_window *window)
{
	window->is_over = true;
	gtk_spinner_stop(GTK_SPINNER(window->spinner));
	kf_sharing_hide(window->sharing);
	gtk_widget_hide(window->stop);
	gtk_widget_show(window->close);
	while (window->cards != NULL)
		card_remove(window->cards->data);
}

void kf_window_show_failure(struct kf_window *window, const char *text)
{
	gtk_label_set_text(GTK_LABEL(window->failure), text);
	gtk_stack_set_visible_child_name(GTK_STACK(window->stack), "failure");
	finish(window);
}

void kf_window_free(struct kf_window *window)
{
	if (window == NULL)
		return;
	g_source_remove(window->tick);
	while (window->cards != NULL) {
		struct card *card = window->cards->data;

		window->cards = g_list_remove(window->cards, card);
		g_free(card);
	}
	kf_sharing_free(window->sharing);
	g_free(window);
}

/* ---- the session core's events ---- */

static void show_connecting(void *user, const char *organisation, const char *relay_host)
{
	struct kf_window *window = user;
	char text[512];

	snprintf(text, sizeof(text), _("Connecting to %s's relay %s..."), organisation, relay_host);
	gtk_label_set_text(GTK_LABEL(window->notice), text);
}

static void show_policy(void *user, const char *name, const char *description,
			const enum kf_policy_rule rules[KF_CAP_COUNT])
{
	struct kf_window *window = user;
	GString *text = g_string_new(NULL);

	g_string_append_printf(text, _("This computer follows the policy \"%s\"."), name);
	if (description[0] != '\0')
		g_string_append_printf(text, " %s", description);
	for (int i = 0; i < KF_CAP_COUNT; i++) {
		if (rules[i] == KF_POLICY_ASK)
			continue;
		g_string_append(text, "\n");
		g_string_append_printf(
			text,
			rules[i] == KF_POLICY_ALLOW
				? _("  Allowed without asking you: the technician may %s.")
				: _("  Always refused: the technician may %s."),
			_(kf_capability_plain((enum kf_capability)i)));
	}
	gtk_label_set_text(GTK_LABEL(window->policy), text->str);
	g_string_free(text, TRUE);
}

static void show_code(void *user, const char *code, unsigned lifetime_ms, const char *organisation)
{
	struct kf_window *window = user;
	unsigned minutes = lifetime_ms / 60000, seconds = lifetime_ms / 1000;
	char text[512];

	snprintf(window->code_text, sizeof(window->code_text), "%s", code);
	gtk_label_set_text(GTK_LABEL(window->code), code);
	if (minutes > 0)
		snprintf(text, sizeof(text),
			 ngettext("Read it to your technician from %s. It works once, for %u "
				  "minute.",
				  "Read it to your technician from %s. It works once, for %u "
				  "minutes.",
				  minutes),
			 organisation, minutes);
	else
		snprintf(text, sizeof(text),
			 ngettext("Read it to your technician from %s. It works once, for %u "
				  "second.",
				  "Read it to your technician from %s. It works once, for %u "
				  "seconds.",
				  seconds),
			 organisation, seconds);
	gtk_label_set_text(GTK_LABEL(window->code_note), text);
	gtk_label_set_text(GTK_LABEL(window->notice), "");
}

static void show_code_expired(void *user)
{
	kf_window_show_failure(user, _("The code has expired. Open the helper again when your "
				       "technician is ready."));
}

static void show_wrong_code(void *user, int failures, int max_failures)
{
	struct kf_window *window = user;
	char text[256];

	if (failures < max_failures)
		snprintf(text, sizeof(text), _("Someone tried a wrong code (%d of %d tries)."),
			 failures, max_failures);
	else
		snprintf(text, sizeof(text), "%s",
			 _("Three wrong codes were tried: that code no longer works. Here is a "
			   "new one."));
	gtk_label_set_text(GTK_LABEL(window->notice), text);
}

static void show_notice(void *user, const char *text)
{
	struct kf_window *window = user;
	char safe[1024];

	safe_text(text, safe, sizeof(safe));
	gtk_label_set_text(GTK_LABEL(window->notice), safe);
}

static void show_connected(void *user, const char *name, const char *organisation)
{
	struct kf_window *window = user;
	char safe_name[256], safe_organisation[256], text[640];

	safe_text(name, safe_name, sizeof(safe_name));
	safe_text(organisation, safe_organisation, sizeof(safe_organisation));
	snprintf(window->technician_name, sizeof(window->technician_name), "%s", safe_name);
	snprintf(text, sizeof(text), _("%s from %s is now with you."), safe_name,
		 safe_organisation);
	gtk_label_set_text(GTK_LABEL(window->technician), text);
	window->connected_at = g_get_monotonic_time();
	/* Nothing animates once the wait is over: the window then wakes once a second. */
	gtk_spinner_stop(GTK_SPINNER(window->spinner));
	on_tick_timer(window);
	gtk_stack_set_visible_child_name(GTK_STACK(window->stack), "session");
	gtk_window_present(GTK_WINDOW(window->window));
}

static void show_request(void *user, enum kf_capability capability, const char *reason,
			 uint64_t deadline_ms, unsigned timeout_ms)
{
	struct kf_window *window = user;
	const char *words = _(kf_capability_plain(capability));
	char title[512], why[1200], safe[1024];
	struct card *card;

	(void)timeout_ms;
	snprintf(title, sizeof(title), _("%s asks to %s."), window->technician_name, words);
	safe_text(reason, safe, sizeof(safe));
	snprintf(why, sizeof(why), _("Why: %s"), safe);
	card = card_new(window, title, reason[0] != '\0' ? why : NULL, words, deadline_ms);
	card->capability = capability;
	gtk_widget_show_all(card->frame);
	gtk_window_present(GTK_WINDOW(window->window));
}

static void show_settled(void *user, enum kf_capability capability, bool is_granted,
			 enum kf_consent_source source)
{
	struct kf_window *window = user;
	struct card *card = find_card(window, capability, 0);
	char text[512];

	if (card != NULL)
		card_remove(card);
	if (source == KF_CONSENT_BY_TIMEOUT) {
		snprintf(text, sizeof(text), _("The request to %s expired; nothing was allowed."),
			 _(kf_capability_plain(capability)));
		chat_append(window, NULL, text);
	} else if (source == KF_CONSENT_BY_POLICY) {
		snprintf(text, sizeof(text),
			 is_granted ? _("The policy allowed your technician to %s.")
				    : _("The policy refused to let your technician %s."),
			 _(kf_capability_plain(capability)));
		chat_append(window, NULL, text);
	}
	update_allowed(window);
}

static void show_revoked(void *user, enum kf_capability capability, enum kf_consent_source source)
{
	(void)capability;
	(void)source;
	update_allowed(user);
}

static void show_fetch(void *user, uint32_t id, const char *path, const char *real_path,
		       uint64_t size, bool is_secret)
{
	struct kf_window *window = user;
	char safe_path[1024], safe_real[1024], title[2600], amount[64], what[1100];
	struct card *card;

	safe_text(path, safe_path, sizeof(safe_path));
	if (size < 1024)
		snprintf(amount, sizeof(amount),
			 ngettext("%llu byte", "%llu bytes", (unsigned long)size),
			 (unsigned long long)size);
	else if (size < 1024 * 1024)
		snprintf(amount, sizeof(amount), _("%llu KB"),
			 (unsigned long long)((size + 1023) / 1024));
	else
		snprintf(amount, sizeof(amount), _("%.1f MB"), (double)size / (1024.0 * 1024.0));
	if (real_path != NULL) {
		safe_text(real_path, safe_real, sizeof(safe_real));
		snprintf(title, sizeof(title), _("%s wants a copy of %s (%s; it leads to %s)."),
			 window->technician_name, safe_path, amount, safe_real);
	} else {
		snprintf(title, sizeof(title), _("%s wants a copy of %s (%s)."),
			 window->technician_name, safe_path, amount);
	}
	snprintf(what, sizeof(what), _("a copy of %s"), safe_path);
	card = card_new(window, title,
			is_secret ? _("This file holds secrets (passwords, private keys or a "
				      "browser's saved logins). To allow it, type its path exactly "
				      "as shown.")
				  : NULL,
			what, uv_now(window->loop) + 60000);
	card->fetch_id = id;
	if (is_secret) {
		card->path_entry = gtk_entry_new();
		kf_window_name(card->path_entry, _("The file's path, typed to allow it"));
		gtk_box_pack_start(GTK_BOX(card->frame), card->path_entry, FALSE, FALSE, 0);
	}
	gtk_widget_show_all(card->frame);
}

static void show_chat(void *user, const char *text)
{
	struct kf_window *window = user;

	chat_append(window, window->technician_name, text);
}

static void show_status(void *user, const char *text)
{
	struct kf_window *window = user;
	char safe[1024];

	/* A file question whose time ran out no longer waits. */
	for (GList *item = window->cards; item != NULL;) {
		struct card *card = item->data;

		item = item->next;
		if (card->fetch_id != 0 && !kf_share_is_asking_fetch(window->share, card->fetch_id))
			card_remove(card);
	}
	/* The window says who is connected and what is allowed in its own words; the
	 * core's line is for the terminal. */
	(void)text;
	(void)safe;
}

static void show_activity(void *user, const char *text)
{
	chat_append(user, NULL, text);
}

static void show_view_started(void *user, const char *technician)
{
	struct kf_window *window = user;
	char text[256];

	snprintf(text, sizeof(text), _("%s can see your screen"), window->technician_name);
	gtk_label_set_text(GTK_LABEL(window->watched), text);
	gtk_widget_show(window->watched);
	(void)technician;
	/* The monitor the session shares (--monitor), or every one of the desktop. */
	kf_sharing_show(window->sharing, window->technician_name, kf_share_monitor(window->share));
}

static void show_view_ended(void *user)
{
	struct kf_window *window = user;

	gtk_widget_hide(window->watched);
	kf_sharing_hide(window->sharing);
}

static void show_ended(void *user, bool is_orderly, const char *reason, const char *advice,
		       const char *summary_path)
{
	struct kf_window *window = user;
	const struct kf_profile *profile = kf_share_profile(window->share);
	char safe[1024], text[1400];
	gchar *summary = NULL;

	/* The reason is the record's (and the technician's) words; the customer's own Stop
	 * is said in the customer's language. */
	safe_text(window->is_stopped_here ? _("you stopped it") : reason, safe, sizeof(safe));
	snprintf(text, sizeof(text),
		 is_orderly ? _("The session has ended: %s") : _("The session was cut off: %s"),
		 safe);
	gtk_label_set_text(GTK_LABEL(window->ended), text);
	if (advice[0] != '\0') {
		safe_text(advice, safe, sizeof(safe));
		snprintf(text, sizeof(text), _("Your technician's advice: %s"), safe);
		gtk_label_set_text(GTK_LABEL(window->advice), text);
	}
	if (summary_path != NULL && g_file_get_contents(summary_path, &summary, NULL, NULL)) {
		show_summary(gtk_text_view_get_buffer(GTK_TEXT_VIEW(window->summary_view)),
			     summary);
		snprintf(text, sizeof(text),
			 _("This summary is kept in %s (and as a web page beside it)."),
			 summary_path);
		gtk_label_set_text(GTK_LABEL(window->summary_path), text);
		snprintf(window->summary_html, sizeof(window->summary_html), "%.*s.html",
			 (int)strlen(summary_path) - 3, summary_path);
		g_free(summary);
	} else {
		gtk_label_set_text(GTK_LABEL(window->summary_path),
				   _("No summary could be written for this session."));
		gtk_widget_hide(window->web_page);
	}
	if (window->case_number != NULL) {
		snprintf(text, sizeof(text), _("Case number: %s"), window->case_number);
		gtk_label_set_text(GTK_LABEL(window->summary_case), text);
	}
	if (profile->contact != NULL)
		snprintf(text, sizeof(text), _("Need more help? Contact %s: %s"),
			 profile->organisation, profile->contact);
	else
		snprintf(text, sizeof(text), _("Need more help? Contact %s."),
			 profile->organisation);
	gtk_label_set_text(GTK_LABEL(window->contact), text);
	gtk_stack_set_visible_child_name(GTK_STACK(window->stack), "summary");
	finish(window);
}

static void show_failed(void *user, const char *text)
{
	char safe[1024];

	safe_text(text, safe, sizeof(safe));
	kf_window_show_failure(user, safe);
}

static void show_stopped(void *user, const char *why)
{
	struct kf_window *window = user;

	(void)why;
	window->is_over = true;
	gtk_widget_destroy(window->window);
}

const struct kf_ui_ops kf_window_ops = {
	.connecting = show_connecting,
	.policy = show_policy,
	.code_shown = show_code,
	.code_expired = show_code_expired,
	.wrong_code = show_wrong_code,
	.notice = show_notice,
	.technician_connected = show_connected,
	.consent_request = show_request,
	.consent_settled = show_settled,
	.grant_revoked = show_revoked,
	.fetch_request = show_fetch,
	.chat = show_chat,
	.status = show_status,
	.activity = show_activity,
	.view_started = show_view_started,
	.view_ended = show_view_ended,
	.session_ended = show_ended,
	.failed = show_failed,
	.stopped = show_stopped,
};
