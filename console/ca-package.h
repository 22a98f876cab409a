/* kefu-console ca package: the organisation's customer package. SPDX-License-Identifier: MIT */
#ifndef KF_CONSOLE_CA_PACKAGE_H
#define KF_CONSOLE_CA_PACKAGE_H

#include <stdbool.h>

/*
 * Builds the Debian package kefu-helper-NAME in output_dir: the support profile read from
 * profile_path installed as /etc/kefu/profile.json (a conffile), depending on kefu-helper.
 * The profile is checked as the helper checks it before anything is written; the package
 * appears under its final name only once dpkg-deb has built it whole. maintainer is the
 * package's "Name <address>" (NULL: the organisation, at an address that never receives
 * mail). With helper_path (a kefu-helper .deb), the package is kefu-helper itself with the
 * profile added, in place of kefu-helper: one file for the customer. With is_watch_on, the
 * organisation's policy turns kefu's daily check on for every account: the package's postinst
 * enables the systemd user timer kefu-watch.timer globally (deb-systemd-helper --user) and
 * its postrm takes exactly that away again. Prints the package's path; returns a kf_exit
 * code after a one-line error.
 */
int kf_console_ca_package(const char *name, const char *profile_path, const char *output_dir,
			  const char *maintainer, const char *helper_path, bool is_watch_on);

#endif
