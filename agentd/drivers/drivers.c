/* kefu-agentd `drivers`: each device's driver and package; driver packages installed and upgraded with consent. SPDX-License-Identifier: MIT */
#include "agentd/audit.h"
#include "agentd/commands.h"
#include "agentd/drivers/dpkg-version.h"
#include "agentd/drivers/install.h"
#include "agentd/drivers/listing.h"
#include "agentd/drivers/packagekit.h"
#include "agentd/drivers/packages.h"
#include "agentd/diag/report.h"
#include "agentd/i18n.h"
#include "proto/base/escape.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHANGE_MAX 32

static const struct kf_command drivers_command = {"drivers", KF_AGENTD_DRIVERS_USAGE,
						  KF_AGENTD_DRIVERS_SUMMARY, kf_agent_cmd_drivers};

/* Who changes the packages: PackageKit where it runs, else apt-get (or pkexec). */
enum backend { BACKEND_AUTO, BACKEND_PACKAGEKIT, BACKEND_APT };

struct drivers_options {
	const char *root, *apt_config;
	bool is_json, yes;
	int timeout_s;
	enum backend backend;
};

/* One package to change: its name, the version now (or NULL) and the one apt will bring. */
struct change {
	const char *name;
	char *from, *to;
	json_t *devices;    /* ids of the devices it is for */
	const char *module; /* the driver module it brings, when one */
	bool is_firmware;
};

static void audit_change(const char *event, const char *backend, const struct change *changes,
			 size_t count, const char *result, const char *summary, const char *detail,
			 const char *needs)
{
	struct kf_audit *log;
	struct kf_error err;
	json_t *fields = json_object(), *packages = json_array();

	if (kf_audit_open(NULL, &log, &err) != KF_OK) {
		fprintf(stderr, "%s: %s\n", KF_AGENTD_PROGRAM, err.message);
		json_decref(fields);
		json_decref(packages);
		return;
	}
	for (size_t i = 0; i < count; i++)
		json_array_append_new(packages,
				      json_pack("{s:s, s:s?, s:s?, s:O}", "package",
						changes[i].name, "from", changes[i].from, "to",
						changes[i].to, "devices", changes[i].devices));
	json_object_set_new(fields, "packages", packages);
	json_object_set_new(fields, "result", json_string(result));
	json_object_set_new(fields, "summary", json_string(summary));
	if (backend != NULL)
		json_object_set_new(fields, "backend", json_string(backend));
	if (detail != NULL)
		json_object_set_new(fields, "detail", json_string(detail));
	if (needs != NULL)
		json_object_set_new(fields, "needs", json_string(needs));
	if (kf_audit_event(log, event, fields, &err) != KF_OK)
		fprintf(stderr, "%s: %s\n", KF_AGENTD_PROGRAM, err.message);
	json_decref(fields);
	kf_audit_close(log);
}

/* What the listing says package is for: the devices, the module, whether firmware. */
static void describe(const json_t *listing, struct change *c)
{
	const json_t *d, *p, *f, *u;
	size_t i, j, k;

	c->devices = json_array();
	json_array_foreach(json_object_get(listing, "devices"), i, d)
	{
		bool is_for = false;
		json_array_foreach(json_object_get(d, "providers"), j,
				   p) if (strcmp(kf_json_str(p, "package"), c->name) == 0)
		{
			is_for = true;
			c->module = kf_json_str(p, "module");
		}
		json_array_foreach(json_object_get(d, "firmware_missing"), j, f)
		{
			json_array_foreach(json_object_get(f, "packages"), k,
					   p) if (strcmp(kf_json_str(p, "name"), c->name) == 0)
			{
				is_for = true;
				c->is_firmware = true;
			}
		}
		if (is_for)
			kf_json_append_str(c->devices, kf_json_str(d, "id"));
	}
	json_array_foreach(json_object_get(listing, "upgrades"), i,
			   u) if (strcmp(kf_json_str(u, "package"), c->name) == 0)
		json_array_extend(c->devices, json_object_get(u, "devices"));
}

static bool approved(const struct drivers_options *o, const char *verb,
		     const struct change *changes, size_t count)
{
	char answer[16];

	for (size_t i = 0; i < count; i++)
		kf_terminal_print(stderr, "%s %s %s%s%s%s", verb, changes[i].name,
				  changes[i].from ? changes[i].from : "",
				  changes[i].from ? " -> " : "", changes[i].to ? changes[i].to : "",
				  json_array_size(changes[i].devices)
					  ? " (for this computer's devices)"
					  : "");
	if (o->yes)
		return true;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "No answer: run this in a terminal to approve, or pass --yes.\n");
		return false;
	}
	fprintf(stderr, "%s now? [y/N] ", verb);
	if (fgets(answer, sizeof(answer), stdin) == NULL)
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

static void changes_free(struct change *changes, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(changes[i].from);
		free(changes[i].to);
		json_decref(changes[i].devices);
	}
}

static char *dup_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

/*
 * After apt-get: every package at the version it was to reach per dpkg, and for a driver
 * the device bound (it rarely is before the module loads). Fills what is still needed.
 */
static bool verify(const struct drivers_options *o, const struct change *changes, size_t count,
		   char *detail, size_t size, const char **needs)
{
	struct kf_pkg_index index;
	struct kf_error err = {0};
	json_t *listing = NULL;
	size_t used = 0;
	bool ok = true;

	*needs = NULL;
	detail[0] = '\0';
	if (kf_pkg_index_load(&index, o->root, &err) != KF_OK) {
		snprintf(detail, size, "cannot read dpkg's status afterwards: %s", err.message);
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		const struct kf_pkg *pkg = kf_pkg_index_find(&index, changes[i].name);
		const char *now = pkg != NULL ? pkg->installed : NULL;

		if (now == NULL ||
		    (changes[i].to != NULL && kf_dpkg_version_compare(now, changes[i].to) < 0)) {
			used += (size_t)snprintf(
				detail + used, size - used, "%s%s is %s%s after apt-get",
				used ? "; " : "", changes[i].name,
				now ? "still at " : "not installed", now ? now : "");
			ok = false;
		} else
			used += (size_t)snprintf(detail + used, size - used, "%s%s %s is installed",
						 used ? "; " : "", changes[i].name, now);
		if (used >= size)
			used = size - 1;
	}
	kf_pkg_index_free(&index);
	if (!ok || kf_drivers_list(o->root, &listing, &err) != KF_OK) {
		json_decref(listing);
		return ok;
	}
	for (size_t i = 0; i < count; i++) {
		size_t j;
		json_t *id;

		json_array_foreach(changes[i].devices, j, id)
		{
			const json_t *d;
			size_t k;
			json_array_foreach(json_object_get(listing, "devices"), k, d)
			{
				if (strcmp(kf_json_str(d, "id"), json_string_value(id)) != 0)
					continue;
				if (json_is_true(json_object_get(d, "needs_driver")) ||
				    json_array_size(json_object_get(d, "firmware_missing")) > 0 ||
				    changes[i].from != NULL)
					*needs =
						changes[i].module != NULL && !changes[i].is_firmware
							? "module-load"
							: "restart";
				else
					used += (size_t)snprintf(detail + used, size - used,
								 "; %s now has driver %s",
								 kf_json_str(d, "id"),
								 kf_json_str(d, "driver"));
				if (used >= size)
					used = size - 1;
			}
		}
	}
	json_decref(listing);
	return true;
}

/* PackageKit's progress, where apt-get's output goes: standard error (a session relays it). */
static void relay_line(const char *line, void *user)
{
	(void)user;
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

/*
 * PackageKit when it is on the system bus (running or activatable) and no private apt
 * configuration is given, else apt-get; --backend forces one. A recorded tree is changed
 * only through a private apt configuration or a PackageKit forced on purpose.
 */
static int choose_backend(const struct drivers_options *o, bool *is_packagekit)
{
	*is_packagekit = false;
	if (o->backend == BACKEND_PACKAGEKIT && o->apt_config != NULL)
		return kf_cli_fail(KF_AGENTD_PROGRAM,
				   "drivers: --apt-config is for apt-get; it does not go with "
				   "--backend packagekit");
	if (strcmp(o->root, "/") != 0 && o->apt_config == NULL && o->backend != BACKEND_PACKAGEKIT)
		return kf_cli_fail(KF_AGENTD_PROGRAM,
				   "drivers: --root needs --apt-config, a private apt "
				   "configuration whose dpkg works on that tree, or --backend "
				   "packagekit with a PackageKit that works on it");
	if (o->backend == BACKEND_APT || (o->backend == BACKEND_AUTO && o->apt_config != NULL))
		return KF_EXIT_OK;
	*is_packagekit = kf_drivers_packagekit_available();
	if (!*is_packagekit && o->backend == BACKEND_PACKAGEKIT)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "%s",
				   _("drivers: PackageKit is not running on this computer "
				     "(org.freedesktop.PackageKit is not on the system bus)"));
	return KF_EXIT_OK;
}

static int change_packages(const struct drivers_options *o, bool is_upgrade, char **names,
			   size_t name_count)
{
	const char *event = is_upgrade ? "drivers-upgrade" : "drivers-install";
	const char *verb = is_upgrade ? "Upgrade" : "Install";
	struct change changes[CHANGE_MAX] = {0};
	const char *packages[CHANGE_MAX], *versions[CHANGE_MAX];
	struct kf_pkg_index index;
	struct kf_error err = {0};
	json_t *listing = NULL, *u;
	char summary[1024], detail[1024];
	const char *needs = NULL, *backend;
	struct kf_drivers_pk_plan plan = {0};
	const struct kf_drivers_packagekit pk = {o->timeout_s, is_upgrade, relay_line, NULL};
	size_t count = 0, i;
	int code = KF_EXIT_OK;
	bool is_packagekit;

	if ((code = choose_backend(o, &is_packagekit)) != KF_EXIT_OK)
		return code;
	backend = is_packagekit ? "packagekit" : "apt";
	for (i = 0; i < name_count; i++)
		if (!kf_pkg_name_is_valid(names[i]))
			return kf_cli_fail(KF_AGENTD_PROGRAM, "drivers: %s is not a package name",
					   kf_escaped(names[i]).text);
	if (kf_drivers_list(o->root, &listing, &err) != KF_OK ||
	    kf_pkg_index_load(&index, o->root, &err) != KF_OK) {
		json_decref(listing);
		return kf_cli_fail(KF_AGENTD_PROGRAM, "drivers: %s", err.message);
	}
	if (is_upgrade && name_count == 0)
		json_array_foreach(json_object_get(listing, "upgrades"), i,
				   u) if (count < CHANGE_MAX) changes[count++]
			.name = kf_json_str(u, "package");
	for (i = 0; i < name_count && count < CHANGE_MAX; i++) {
		const char *offer = kf_drivers_offer(listing, names[i]);

		changes[count++].name = names[i];
		/* Only what this computer's devices need: never any package a caller names. */
		if (offer == NULL || strcmp(offer, is_upgrade ? "upgrade" : "install") != 0) {
			const struct kf_pkg *pkg = kf_pkg_index_find(&index, names[i]);
			snprintf(summary, sizeof(summary), "%s was not %s: %s", names[i],
				 is_upgrade ? "upgraded" : "installed",
				 offer != NULL
					 ? (is_upgrade ? "it has no newer version for a driver "
							 "in use; use drivers install"
						       : "it is installed already; use drivers "
							 "upgrade")
				 : is_upgrade && pkg != NULL && pkg->installed != NULL
					 ? "no newer version of it gives a device here its driver"
					 : "it is no driver or firmware package that this "
					   "computer's devices need");
			changes[count - 1].devices = json_array();
			audit_change(event, backend, &changes[count - 1], 1, "refused", summary,
				     NULL, NULL);
			changes_free(changes, count);
			kf_pkg_index_free(&index);
			json_decref(listing);
			return kf_cli_fail(KF_AGENTD_PROGRAM, "%s", summary);
		}
	}
	if (count == 0) {
		printf("Every driver package is up to date.\n");
		kf_pkg_index_free(&index);
		json_decref(listing);
		return KF_EXIT_OK;
	}
	for (i = 0; i < count; i++) {
		const struct kf_pkg *pkg = kf_pkg_index_find(&index, changes[i].name);
		changes[i].from = dup_or_null(pkg != NULL ? pkg->installed : NULL);
		changes[i].to = dup_or_null(pkg != NULL ? pkg->candidate : NULL);
		describe(listing, &changes[i]);
		packages[i] = changes[i].name;
		versions[i] = changes[i].to;
	}
	if (is_packagekit) {
		/* PackageKit says first what the change brings along, for the question. */
		if (kf_drivers_packagekit_plan(&pk, packages, versions, count, &plan, &err) !=
		    KF_OK) {
			snprintf(summary, sizeof(summary), "%s %s failed: %s", verb,
				 changes[0].name, err.message);
			audit_change(event, backend, changes, count, "failed", summary, err.message,
				     NULL);
			code = kf_cli_fail(KF_AGENTD_PROGRAM, "%s", summary);
			goto out;
		}
		if (json_array_size(plan.removes) > 0) {
			/* A driver is never worth another program: that is for the customer. */
			char removed[512] = "";
			for (i = 0; i < json_array_size(plan.removes); i++)
				snprintf(removed + strlen(removed),
					 sizeof(removed) - strlen(removed), "%s%s", i ? ", " : "",
					 json_string_value(json_array_get(plan.removes, i)));
			snprintf(summary, sizeof(summary),
				 is_upgrade ? _("%s was not upgraded: it would remove %s")
					    : _("%s was not installed: it would remove %s"),
				 changes[0].name, removed);
			audit_change(event, backend, changes, count, "refused", summary, NULL,
				     NULL);
			code = kf_cli_fail(KF_AGENTD_PROGRAM, "%s", summary);
			goto out;
		}
		for (i = 0; i < json_array_size(plan.also); i++)
			kf_terminal_print(stderr, _("It also installs %s"),
					  json_string_value(json_array_get(plan.also, i)));
	}
	if (!approved(o, verb, changes, count)) {
		snprintf(summary, sizeof(summary), "The customer did not approve: %s%s not %s.",
			 changes[0].name, count > 1 ? " and others were" : " was",
			 is_upgrade ? "upgraded" : "installed");
		audit_change(event, backend, changes, count, "declined", summary, NULL, NULL);
		code = kf_cli_fail(KF_AGENTD_PROGRAM, "Not %s: it was not approved.",
				   is_upgrade ? "upgraded" : "installed");
		goto out;
	}
	{
		const struct kf_drivers_apt apt = {o->apt_config, o->timeout_s, is_upgrade};
		if (is_packagekit)
			fprintf(stderr, "%s\n",
				is_upgrade ? _("Upgrading through PackageKit.")
					   : _("Installing through PackageKit."));
		else
			fprintf(stderr, "%s\n",
				is_upgrade ? _("Upgrading through apt-get.")
					   : _("Installing through apt-get."));
		if ((is_packagekit ? kf_drivers_packagekit_apply(&pk, &plan, &err)
				   : kf_drivers_apt_run(&apt, packages, count, &err)) != KF_OK) {
			snprintf(summary, sizeof(summary), "%s %s failed: %s", verb,
				 changes[0].name, err.message);
			audit_change(event, backend, changes, count, "failed", summary, err.message,
				     NULL);
			code = kf_cli_fail(KF_AGENTD_PROGRAM, "%s", summary);
			goto out;
		}
	}
	if (!verify(o, changes, count, detail, sizeof(detail), &needs)) {
		snprintf(summary, sizeof(summary), "%s %s did not take effect: %.700s", verb,
			 changes[0].name, detail);
		audit_change(event, backend, changes, count, "failed", summary, detail, NULL);
		code = kf_cli_fail(KF_AGENTD_PROGRAM, "%s", summary);
		goto out;
	}
	snprintf(summary, sizeof(summary), "%s %s%s%s%s %s", is_upgrade ? "Upgraded" : "Installed",
		 changes[0].name, changes[0].to ? " " : "", changes[0].to ? changes[0].to : "",
		 count > 1 ? " and other driver packages" : "",
		 is_packagekit ? "through PackageKit" : "through apt-get");
	if (needs != NULL && strcmp(needs, "module-load") == 0)
		snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
			 "; the device gets its driver when module %s loads: restart the "
			 "computer (or run: sudo modprobe %s)",
			 changes[0].module ? changes[0].module : "",
			 changes[0].module ? changes[0].module : "");
	else if (needs != NULL)
		snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
			 "; restart the computer for the %s to take effect",
			 changes[0].is_firmware ? "firmware" : "new driver");
	audit_change(event, backend, changes, count, "installed", summary, detail, needs);
	kf_terminal_print(stdout, "%s.", summary);
	kf_terminal_print(stdout, "Checked: %s.", detail);
out:
	kf_drivers_pk_plan_free(&plan);
	changes_free(changes, count);
	kf_pkg_index_free(&index);
	json_decref(listing);
	return code;
}

int kf_agent_cmd_drivers(int argc, char **argv)
{
	static const struct option options[] = {
		{"root", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"yes", no_argument, NULL, 'y'},
		{"apt-config", required_argument, NULL, 'a'},
		{"timeout", required_argument, NULL, 't'},
		{"backend", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct drivers_options o = {.root = "/", .timeout_s = KF_DRIVERS_APT_TIMEOUT_S};
	const char *action = "list";
	struct kf_error err = {0};
	json_t *listing;
	struct stat st;
	int opt;

	optind = 1;
	opterr = 0;
	if (argc > 1 && argv[1][0] != '-') {
		action = argv[1];
		argc--;
		argv++;
	}
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			o.root = optarg;
			break;
		case 'j':
			o.is_json = true;
			break;
		case 'y':
			o.yes = true;
			break;
		case 'a':
			o.apt_config = optarg;
			break;
		case 't':
			o.timeout_s = atoi(optarg);
			if (o.timeout_s < 1 || o.timeout_s > 86400)
				return kf_cli_fail(KF_AGENTD_PROGRAM,
						   "drivers: --timeout wants 1 to 86400 seconds");
			break;
		case 'b':
			if (strcmp(optarg, "packagekit") == 0)
				o.backend = BACKEND_PACKAGEKIT;
			else if (strcmp(optarg, "apt") == 0)
				o.backend = BACKEND_APT;
			else if (strcmp(optarg, "auto") == 0)
				o.backend = BACKEND_AUTO;
			else
				return kf_cli_fail(
					KF_AGENTD_PROGRAM,
					"drivers: --backend wants packagekit, apt or auto");
			break;
		case 'h':
			printf("usage: %s drivers %s\n%s\n", KF_AGENTD_PROGRAM,
			       KF_AGENTD_DRIVERS_USAGE, KF_AGENTD_DRIVERS_SUMMARY);
			return KF_EXIT_OK;
		default:
			return kf_cli_usage(KF_AGENTD_PROGRAM, &drivers_command);
		}
	}
	if (stat(o.root, &st) != 0 || !S_ISDIR(st.st_mode))
		return kf_cli_fail(KF_AGENTD_PROGRAM, "drivers: --root %s is not a directory",
				   kf_escaped(o.root).text);
	if (strcmp(action, "install") == 0 && optind < argc)
		return change_packages(&o, false, argv + optind, (size_t)(argc - optind));
	if (strcmp(action, "upgrade") == 0)
		return change_packages(&o, true, argv + optind, (size_t)(argc - optind));
	if (strcmp(action, "list") != 0 || optind != argc)
		return kf_cli_usage(KF_AGENTD_PROGRAM, &drivers_command);
	if (kf_drivers_list(o.root, &listing, &err) != KF_OK)
		return kf_cli_fail(KF_AGENTD_PROGRAM, "drivers: %s", err.message);
	if (o.is_json) {
		json_dumpf(listing, stdout, JSON_INDENT(2));
		putchar('\n');
	} else
		kf_drivers_print(listing, stdout);
	json_decref(listing);
	return KF_EXIT_OK;
}
