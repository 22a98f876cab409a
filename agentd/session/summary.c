/* kefu-agentd: the session summary the customer keeps ("no second call"). SPDX-License-Identifier: MIT */
#include "agentd/session/summary.h"
#include "agentd/i18n.h"
#include "proto/base/buffer.h"
#include "proto/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENTRIES 2000

struct entry {
	char time[16];
	char kind[16];
	char *text;
};

struct kf_summary {
	char session[64];
	char *technician;
	char *organisation;
	char *advice;
	long long case_number;
	char support_id[32];
	char *contact;
	time_t started;
	struct entry *entries;
	size_t count;
};

struct kf_summary *kf_summary_new(const char *session_id, const char *technician,
				  const char *organisation)
{
	struct kf_summary *summary = calloc(1, sizeof(*summary));

	if (summary == NULL)
		return NULL;
	snprintf(summary->session, sizeof(summary->session), "%s", session_id);
	summary->technician = strdup(technician);
	summary->organisation = strdup(organisation);
	summary->entries = calloc(MAX_ENTRIES, sizeof(*summary->entries));
	summary->started = time(NULL);
	if (summary->technician == NULL || summary->organisation == NULL ||
	    summary->entries == NULL) {
		kf_summary_free(summary);
		return NULL;
	}
	return summary;
}

void kf_summary_note(struct kf_summary *summary, const char *kind, const char *format, ...)
{
	struct entry *entry;
	time_t now = time(NULL);
	struct tm local;
	va_list args;

	if (summary == NULL || summary->count == MAX_ENTRIES)
		return;
	entry = &summary->entries[summary->count];
	va_start(args, format);
	if (vasprintf(&entry->text, format, args) < 0)
		entry->text = NULL;
	va_end(args);
	if (entry->text == NULL)
		return;
	localtime_r(&now, &local);
	strftime(entry->time, sizeof(entry->time), "%H:%M:%S", &local);
	snprintf(entry->kind, sizeof(entry->kind), "%s", kind);
	summary->count++;
}

void kf_summary_set_advice(struct kf_summary *summary, const char *advice)
{
	if (summary == NULL)
		return;
	free(summary->advice);
	summary->advice = strdup(advice);
}

void kf_summary_set_contact(struct kf_summary *summary, const char *contact)
{
	if (summary == NULL)
		return;
	free(summary->contact);
	summary->contact = contact != NULL && contact[0] != '\0' ? strdup(contact) : NULL;
}

void kf_summary_set_case(struct kf_summary *summary, long long case_number, const char *support_id)
{
	if (summary == NULL)
		return;
	summary->case_number = case_number;
	snprintf(summary->support_id, sizeof(summary->support_id), "%s",
		 support_id ? support_id : "");
}

static void append(struct kf_buf *out, const char *text)
{
	kf_buf_append(out, text, strlen(text));
}

static void append_html_len(struct kf_buf *out, const char *text, size_t len)
{
	for (const char *c = text; c < text + len; c++) {
		switch (*c) {
		case '<':
			append(out, "&lt;");
			break;
		case '>':
			append(out, "&gt;");
			break;
		case '&':
			append(out, "&amp;");
			break;
		case '"':
			append(out, "&quot;");
			break;
		case '\'':
			append(out, "&#39;");
			break;
		default:
			kf_buf_append(out, c, 1);
		}
	}
}

static void append_html(struct kf_buf *out, const char *text)
{
	append_html_len(out, text, strlen(text));
}

/* Markdown shows text as it is: escape what would turn into markup. */
static void append_markdown(struct kf_buf *out, const char *text)
{
	for (const char *c = text; *c != '\0'; c++) {
		if (strchr("\\`*_[]<>#|", *c) != NULL)
			kf_buf_append(out, "\\", 1);
		kf_buf_append(out, *c == '\n' ? " " : c, 1);
	}
}

static const char *const sections[][2] = {
	{"access", N_("What was asked and allowed")},
	{"finding", N_("What was found")},
	{"action", N_("What was run and changed")},
	{"chat", N_("Conversation")},
};

/*
 * "Helped by NAME from ORGANISATION." in the customer's language: the sentence is
 * translated whole, the two names escaped and in bold where its %s stand.
 */
static void append_helped(const struct kf_summary *summary, struct kf_buf *md, struct kf_buf *html)
{
	const char *format = _("Helped by %s from %s."), *first, *second;

	first = strstr(format, "%s");
	second = first != NULL ? strstr(first + 2, "%s") : NULL;
	if (second == NULL || strchr(second + 2, '%') != NULL) {
		format = "Helped by %s from %s.";
		first = strstr(format, "%s");
		second = strstr(first + 2, "%s");
	}
	kf_buf_append(md, format, (size_t)(first - format));
	append_html_len(html, format, (size_t)(first - format));
	append(md, "**");
	append_markdown(md, summary->technician);
	append(md, "**");
	append(html, "<b>");
	append_html(html, summary->technician);
	append(html, "</b>");
	kf_buf_append(md, first + 2, (size_t)(second - first - 2));
	append_html_len(html, first + 2, (size_t)(second - first - 2));
	append(md, "**");
	append_markdown(md, summary->organisation);
	append(md, "**");
	append(html, "<b>");
	append_html(html, summary->organisation);
	append(html, "</b>");
	append(md, second + 2);
	append_html(html, second + 2);
	append(md, "\n");
}

/* A paragraph of its own in both forms, outside text escaped for each. */
static void append_paragraph(struct kf_buf *md, struct kf_buf *html, const char *text)
{
	append(md, "\n");
	append_markdown(md, text);
	append(md, "\n");
	append(html, "<p>");
	append_html(html, text);
	append(html, "</p>\n");
}

static void build(const struct kf_summary *summary, struct kf_buf *md, struct kf_buf *html)
{
	char when[64], line[1024];
	struct tm local;

	localtime_r(&summary->started, &local);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &local);
	const char *title = _("Support session summary");

	append(md, "# ");
	append(md, title);
	append(md, "\n\n");
	append(html, "<!DOCTYPE html>\n<html lang=\"");
	/* TRANSLATORS: the language tag of the summary's web page (zh-CN, fr...). */
	append_html(html, _("en"));
	append(html, "\"><head><meta charset=\"utf-8\"><title>");
	append_html(html, title);
	append(html, "</title><style>"
		     "body{font-family:sans-serif;max-width:48em;margin:2em auto;line-height:1.5}"
		     "td{padding:.2em .8em;vertical-align:top}.time{color:#666}"
		     "</style></head><body>\n<h1>");
	append_html(html, title);
	append(html, "</h1>\n<p>");
	snprintf(line, sizeof(line), _("Session %s, started %s."), summary->session, when);
	append(md, line);
	append(md, "\n\n");
	append_html(html, line);
	append(html, "</p><p>");
	append_helped(summary, md, html);
	append(html, "</p>\n");
	if (summary->case_number > 0) {
		/* Quoted on the next call, it takes the next technician straight to this case. */
		snprintf(line, sizeof(line), _("Case number %lld: quote it if you call again."),
			 summary->case_number);
		append_paragraph(md, html, line);
	}
	if (summary->contact != NULL) {
		snprintf(line, sizeof(line), _("To reach %s again: %s"), summary->organisation,
			 summary->contact);
		append_paragraph(md, html, line);
	}
	if (summary->support_id[0] != '\0') {
		snprintf(line, sizeof(line), _("Your support ID: %s (kefu-agentd support-id)."),
			 summary->support_id);
		append_paragraph(md, html, line);
	}
	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		int any = 0;

		for (size_t i = 0; i < summary->count; i++) {
			const struct entry *entry = &summary->entries[i];

			if (strcmp(entry->kind, sections[s][0]) != 0)
				continue;
			if (!any) {
				append(md, "\n## ");
				append(md, _(sections[s][1]));
				append(md, "\n\n");
				append(html, "<h2>");
				append_html(html, _(sections[s][1]));
				append(html, "</h2>\n<table>\n");
				any = 1;
			}
			append(md, "- ");
			append(md, entry->time);
			append(md, " ");
			append_markdown(md, entry->text);
			append(md, "\n");
			append(html, "<tr><td class=\"time\">");
			append(html, entry->time);
			append(html, "</td><td>");
			append_html(html, entry->text);
			append(html, "</td></tr>\n");
		}
		if (any)
			append(html, "</table>\n");
	}
	append(md, "\n## ");
	append(md, _("Advice from your technician"));
	append(md, "\n\n");
	append(html, "<h2>");
	append_html(html, _("Advice from your technician"));
	append(html, "</h2>\n<p>");
	if (summary->advice != NULL && summary->advice[0] != '\0') {
		append_markdown(md, summary->advice);
		append_html(html, summary->advice);
	} else {
		append(md, _("(none given)"));
		append_html(html, _("(none given)"));
	}
	append(md, "\n");
	append(html, "</p>\n</body></html>\n");
}

static int write_file(const char *path, const struct kf_buf *content, struct kf_error *err)
{
	char temp[PATH_MAX + 8];
	int fd;

	snprintf(temp, sizeof(temp), "%s.tmp", path);
	fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return kf_error_set(err, KF_ERR_IO, "cannot write %s: %s", path, strerror(errno));
	if (write(fd, content->data, content->len) != (ssize_t)content->len || fsync(fd) != 0 ||
	    close(fd) != 0 || rename(temp, path) != 0) {
		unlink(temp);
		return kf_error_set(err, KF_ERR_IO, "cannot write %s", path);
	}
	return KF_OK;
}

int kf_summary_write(struct kf_summary *summary, const char *dir, char *md_path, char *html_path,
		     size_t path_size, struct kf_error *err)
{
	char folder[PATH_MAX], folder_file[PATH_MAX + 2], stamp[32];
	const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	struct kf_buf md = {0}, html = {0};
	struct tm local;
	int r;

	if (dir == NULL) {
		if (data != NULL && data[0] == '/')
			snprintf(folder, sizeof(folder), "%s/kefu/sessions", data);
		else
			snprintf(folder, sizeof(folder), "%s/.local/share/kefu/sessions",
				 home ? home : "/tmp");
		dir = folder;
	}
	snprintf(folder_file, sizeof(folder_file), "%s/", dir);
	if (kf_fs_make_parents(folder_file) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
	localtime_r(&summary->started, &local);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &local);
	if (snprintf(md_path, path_size, "%s/%s-%s.md", dir, stamp, summary->session) >=
		    (int)path_size ||
	    snprintf(html_path, path_size, "%s/%s-%s.html", dir, stamp, summary->session) >=
		    (int)path_size)
		return kf_error_set(err, KF_ERR_INVALID, "the folder %s is too long", dir);
	build(summary, &md, &html);
	r = write_file(md_path, &md, err);
	if (r == KF_OK)
		r = write_file(html_path, &html, err);
	kf_buf_free(&md);
	kf_buf_free(&html);
	return r;
}

void kf_summary_free(struct kf_summary *summary)
{
	if (summary == NULL)
		return;
	for (size_t i = 0; i < summary->count; i++)
		free(summary->entries[i].text);
	free(summary->entries);
	free(summary->technician);
	free(summary->organisation);
	free(summary->advice);
	free(summary->contact);
	free(summary);
}

json_t *kf_summary_facts(const struct kf_summary *summary)
{
	json_t *findings = json_array(), *actions = json_array();

	for (size_t i = 0; i < summary->count; i++) {
		const struct entry *entry = &summary->entries[i];

		if (strcmp(entry->kind, "finding") == 0)
			json_array_append_new(findings, json_string(entry->text));
		else if (strcmp(entry->kind, "action") == 0)
			json_array_append_new(actions, json_string(entry->text));
	}
	return json_pack("{s:o, s:o, s:s}", "findings", findings, "actions", actions, "advice",
			 summary->advice ? summary->advice : "");
}
