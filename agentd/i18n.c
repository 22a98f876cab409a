/* kefu-agentd: the customer's language (gettext, domain "kefu"). SPDX-License-Identifier: MIT */
#include "agentd/i18n.h"

#include <libgen.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef KF_LOCALEDIR
#define KF_LOCALEDIR "/usr/local/share/locale"
#endif

void kf_i18n_init(void)
{
	char exe[PATH_MAX], beside[PATH_MAX + 16];
	const char *dir = KF_LOCALEDIR;
	struct stat st;
	ssize_t n;

	/*
	 * LC_CTYPE as the environment says, so that gettext knows the terminal's
	 * characters; with the "C" locale it would ignore LANGUAGE, so C.UTF-8 stands
	 * in for a locale that is not installed.
	 */
	if (setlocale(LC_CTYPE, "") == NULL)
		setlocale(LC_CTYPE, "C.UTF-8");
	if (setlocale(LC_MESSAGES, "") == NULL || strcmp(setlocale(LC_MESSAGES, NULL), "C") == 0)
		setlocale(LC_MESSAGES, "C.UTF-8");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(beside, sizeof(beside), "%s/locale", dirname(exe));
		if (stat(beside, &st) == 0 && S_ISDIR(st.st_mode))
			dir = beside;
	}
	bindtextdomain(KF_TEXT_DOMAIN, dir);
	bind_textdomain_codeset(KF_TEXT_DOMAIN, "UTF-8");
	/* The programs' own domain, for ngettext() too; libraries keep theirs (dgettext). */
	textdomain(KF_TEXT_DOMAIN);
}

const char *kf_i18n_language(void)
{
	static char language[16];
	/* The catalog's header is the translation of the empty text. */
	const char *header = dgettext(KF_TEXT_DOMAIN, "");
	const char *line = header != NULL ? strstr(header, "Language: ") : NULL;
	size_t n;

	if (line == NULL)
		return NULL;
	line += strlen("Language: ");
	n = strcspn(line, "\n");
	if (n == 0 || n >= sizeof(language) || strncmp(line, "en", 2) == 0)
		return NULL;
	memcpy(language, line, n);
	language[n] = '\0';
	return language;
}
