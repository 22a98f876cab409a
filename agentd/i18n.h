/* kefu-agentd: the customer's language (gettext, domain "kefu"). SPDX-License-Identifier: MIT */
#ifndef KF_AGENTD_I18N_H
#define KF_AGENTD_I18N_H

#include <libintl.h>

#define KF_TEXT_DOMAIN "kefu"

/* Customer-facing text is English in the source and translated in agentd/po/. */
#define _(text)  dgettext(KF_TEXT_DOMAIN, text)
#define N_(text) (text)

/*
 * Takes the customer's language from the environment (LANGUAGE, LC_ALL,
 * LC_MESSAGES, LANG) for messages only: numbers and sorting stay as the
 * program's own (C), so that what it writes for programs never changes. The
 * translations come from the folder "locale" beside the program when there is
 * one (a build tree), else from the installed locale folder. Translations are
 * always given as UTF-8.
 */
void kf_i18n_init(void);

/*
 * The language the customer is spoken to in: the "Language" of the translation catalog
 * in use ("zh_CN"), or NULL for English (no catalog for the customer's language). What
 * plugins bring in their own translations follows it, so that one window speaks one
 * language.
 */
const char *kf_i18n_language(void);

#endif
