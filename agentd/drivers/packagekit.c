/* kefu-agentd: driver packages installed and upgraded through PackageKit's D-Bus API. SPDX-License-Identifier: MIT */
#include "agentd/drivers/packagekit.h"
#include "agentd/drivers/dpkg-version.h"
#include "agentd/i18n.h"
#include "proto/base/escape.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK_PATH              "/org/freedesktop/PackageKit"
#define PK_INTERFACE         "org.freedesktop.PackageKit"
#define PK_TRANSACTION       "org.freedesktop.PackageKit.Transaction"
#define PK_CALL_TIMEOUT_MS   30000 /* one method call, activation of packagekitd included */
#define PK_PACKAGES_MAX      4096  /* Package signals kept from one transaction */
#define PK_NAME_VERSION_SIZE 256

/* PackageKit's enumerations (packagekit-glib2's pk-enum.h) as they travel on the bus. */
enum {
	PK_INFO_INSTALLED = 1,
	PK_INFO_AVAILABLE = 2,
	PK_INFO_DOWNLOADING = 10,
	PK_INFO_UPDATING = 11,
	PK_INFO_INSTALLING = 12,
	PK_INFO_REMOVING = 13,
	PK_INFO_OBSOLETING = 15,
	PK_INFO_REINSTALLING = 19,
	PK_INFO_DOWNGRADING = 20,
};
enum { PK_EXIT_SUCCESS = 1, PK_EXIT_NEED_UNTRUSTED = 8 };
enum {
	PK_ERROR_GPG_FAILURE = 5,
	PK_ERROR_BAD_GPG_SIGNATURE = 30,
	PK_ERROR_MISSING_GPG_SIGNATURE = 31,
	PK_ERROR_NOT_AUTHORIZED = 48,
	PK_ERROR_CANNOT_INSTALL_REPO_UNSIGNED = 50,
	PK_ERROR_CANNOT_UPDATE_REPO_UNSIGNED = 51,
};
/* Filters and transaction flags are bitfields: 1 << the enumeration's value. */
#define PK_FILTER_NONE       (UINT64_C(1) << 1)
#define PK_FLAG_ONLY_TRUSTED (UINT64_C(1) << 1)
#define PK_FLAG_SIMULATE     (UINT64_C(1) << 2)

/* One transaction followed from its creation to Finished (or Destroy, or the time limit). */
struct transaction {
	const struct kf_drivers_packagekit *pk;
	GMainLoop *loop;
	bool is_relayed; /* progress goes to pk->on_line (the real run, not a query) */
	bool is_finished, is_timed_out;
	guint exit_code, error_code;
	char error_details[512];
	json_t *packages; /* [[info, package_id], ...] from the Package signals */
	char last_line[512], last_package[512];
	guint percentage;
	bool has_begun; /* a package is being worked on: percentages before it are the query's */
};

static void say(struct transaction *t, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* A line of progress, unless it repeats the one before. */
static void say(struct transaction *t, const char *format, ...)
{
	char line[sizeof(t->last_line)];
	va_list args;

	if (!t->is_relayed || t->pk->on_line == NULL)
		return;
	va_start(args, format);
	vsnprintf(line, sizeof(line), format, args);
	va_end(args);
	if (strcmp(line, t->last_line) == 0)
		return;
	memcpy(t->last_line, line, sizeof(line));
	t->pk->on_line(line, t->pk->user);
}

void kf_drivers_pk_id_field(const char *id, int n, char *out, size_t size)
{
	const char *start = id, *end;
	char raw[PK_NAME_VERSION_SIZE];

	for (int i = 0; i < n && start != NULL; i++) {
		start = strchr(start, ';');
		if (start != NULL)
			start++;
	}
	if (start == NULL) {
		snprintf(out, size, "?");
		return;
	}
	end = strchr(start, ';');
	snprintf(raw, sizeof(raw), "%.*s",
		 (int)(end != NULL ? (size_t)(end - start) : strlen(start)), start);
	snprintf(out, size, "%s", kf_escaped(raw).text);
}

bool kf_drivers_pk_id_is_named(const char *id, const char *name)
{
	size_t len = strlen(name);

	return strncmp(id, name, len) == 0 && id[len] == ';';
}

static void on_package(struct transaction *t, guint info, const char *id)
{
	char name[PK_NAME_VERSION_SIZE], version[PK_NAME_VERSION_SIZE];

	if (json_array_size(t->packages) < PK_PACKAGES_MAX)
		json_array_append_new(t->packages, json_pack("[i, s]", (json_int_t)info, id));
	if (info != PK_INFO_DOWNLOADING && info != PK_INFO_INSTALLING && info != PK_INFO_UPDATING &&
	    info != PK_INFO_REMOVING)
		return;
	/* The apt backend says "installing" at each of dpkg's steps: once is enough. */
	snprintf(name, sizeof(name), "%u %s", info, id);
	if (strcmp(name, t->last_package) == 0)
		return;
	snprintf(t->last_package, sizeof(t->last_package), "%s", name);
	t->has_begun = true;
	kf_drivers_pk_id_field(id, 0, name, sizeof(name));
	kf_drivers_pk_id_field(id, 1, version, sizeof(version));
	switch (info) {
	case PK_INFO_DOWNLOADING:
		say(t, _("Downloading %s %s"), name, version);
		break;
	case PK_INFO_INSTALLING:
		say(t, _("Installing %s %s"), name, version);
		break;
	case PK_INFO_UPDATING:
		say(t, _("Upgrading %s %s"), name, version);
		break;
	case PK_INFO_REMOVING:
		say(t, _("Removing %s %s"), name, version);
		break;
	default:
		break;
	}
}

static void on_signal(GDBusConnection *bus, const gchar *sender, const gchar *path,
		      const gchar *interface, const gchar *member, GVariant *parameters,
		      gpointer data)
{
	struct transaction *t = data;
	const gchar *id, *details;
	guint info, status, percentage, code, runtime;

	(void)bus;
	(void)sender;
	(void)path;
	if (strcmp(interface, "org.freedesktop.DBus.Properties") == 0 &&
	    strcmp(member, "PropertiesChanged") == 0 &&
	    g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sa{sv}as)"))) {
		GVariant *changed = g_variant_get_child_value(parameters, 1);

		/* 101 is PackageKit's "not known". */
		if (g_variant_lookup(changed, "Percentage", "u", &percentage) && t->has_begun &&
		    percentage <= 100 && percentage != t->percentage) {
			t->percentage = percentage;
			say(t, _("%u%% done"), percentage);
		}
		g_variant_unref(changed);
		return;
	}
	if (strcmp(interface, PK_TRANSACTION) != 0)
		return;
	if (strcmp(member, "Package") == 0 &&
	    g_variant_is_of_type(parameters, G_VARIANT_TYPE("(uss)"))) {
		g_variant_get(parameters, "(u&s&s)", &info, &id, &details);
		on_package(t, info, id);
	} else if (strcmp(member, "ItemProgress") == 0 &&
		   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(suu)"))) {
		char name[PK_NAME_VERSION_SIZE];

		g_variant_get(parameters, "(&suu)", &id, &status, &percentage);
		kf_drivers_pk_id_field(id, 0, name, sizeof(name));
		if (percentage > 0 && percentage <= 100)
			say(t, _("%s: %u%%"), name, percentage);
	} else if (strcmp(member, "ErrorCode") == 0 &&
		   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(us)"))) {
		g_variant_get(parameters, "(u&s)", &code, &details);
		if (t->error_code == 0) {
			t->error_code = code;
			/* The daemon's words: one line, escaped where the customer reads them. */
			snprintf(t->error_details, sizeof(t->error_details), "%.*s",
				 (int)strcspn(details, "\r\n"), details);
		}
	} else if (strcmp(member, "Finished") == 0 &&
		   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(uu)"))) {
		g_variant_get(parameters, "(uu)", &code, &runtime);
		t->exit_code = code;
		t->is_finished = true;
		g_main_loop_quit(t->loop);
	} else if (strcmp(member, "Destroy") == 0)
		g_main_loop_quit(t->loop);
}

static gboolean on_timeout(gpointer data)
{
	struct transaction *t = data;

	t->is_timed_out = true;
	g_main_loop_quit(t->loop);
	return G_SOURCE_REMOVE;
}

/* A connection of our own to the system bus: never the shared one that exits on close. */
static GDBusConnection *system_bus(GError **error)
{
	gchar *address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, error);
	GDBusConnection *bus;

	if (address == NULL)
		return NULL;
	bus = g_dbus_connection_new_for_address_sync(
		address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, error);
	g_free(address);
	return bus;
}

static int fail_gerror(struct kf_error *err, const char *what, GError *error)
{
	int code = kf_error_set(err, KF_ERR_IO, _("PackageKit: %s: %s"), what,
				kf_escaped(error != NULL ? error->message : "").text);
	if (error != NULL)
		g_error_free(error);
	return code;
}

/*
 * CreateTransaction, then method(parameters) on it (parameters is consumed), and its
 * signals until Finished, Destroy or timeout_s. t->packages and the exit and error
 * codes are filled; the return is KF_OK when the transaction finished at all.
 */
static int run_transaction(GDBusConnection *bus, struct transaction *t, const char *method,
			   GVariant *parameters, int timeout_s, struct kf_error *err)
{
	GMainContext *context = g_main_context_new();
	GError *error = NULL;
	GVariant *reply;
	GSource *timer;
	gchar *path = NULL;
	guint subscription = 0;
	int code = KF_OK;
	const gchar *hints[] = {"interactive=true", "background=false", NULL};

	g_variant_ref_sink(parameters);
	g_main_context_push_thread_default(context);
	t->loop = g_main_loop_new(context, FALSE);
	t->packages = json_array();
	reply = g_dbus_connection_call_sync(
		bus, KF_DRIVERS_PACKAGEKIT_NAME, PK_PATH, PK_INTERFACE, "CreateTransaction", NULL,
		G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, PK_CALL_TIMEOUT_MS, NULL, &error);
	if (reply == NULL) {
		code = fail_gerror(err, _("cannot start a transaction"), error);
		goto out;
	}
	g_variant_get(reply, "(o)", &path);
	g_variant_unref(reply);
	/* Subscribed before the method is called, so that no signal of it is missed. */
	subscription = g_dbus_connection_signal_subscribe(
		bus, KF_DRIVERS_PACKAGEKIT_NAME, NULL, NULL, path, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
		on_signal, t, NULL);
	reply = g_dbus_connection_call_sync(bus, KF_DRIVERS_PACKAGEKIT_NAME, path, PK_TRANSACTION,
					    "SetHints", g_variant_new("(^as)", hints), NULL,
					    G_DBUS_CALL_FLAGS_NONE, PK_CALL_TIMEOUT_MS, NULL,
					    &error);
	if (reply == NULL) {
		code = fail_gerror(err, "SetHints", error);
		goto out;
	}
	g_variant_unref(reply);
	reply = g_dbus_connection_call_sync(bus, KF_DRIVERS_PACKAGEKIT_NAME, path, PK_TRANSACTION,
					    method, parameters, NULL, G_DBUS_CALL_FLAGS_NONE,
					    PK_CALL_TIMEOUT_MS, NULL, &error);
	if (reply == NULL) {
		code = fail_gerror(err, method, error);
		goto out;
	}
	g_variant_unref(reply);
	timer = g_timeout_source_new_seconds((guint)timeout_s);
	g_source_set_callback(timer, on_timeout, t, NULL);
	g_source_attach(timer, context);
	g_main_loop_run(t->loop);
	g_source_destroy(timer);
	g_source_unref(timer);
	if (t->is_timed_out) {
		reply = g_dbus_connection_call_sync(
			bus, KF_DRIVERS_PACKAGEKIT_NAME, path, PK_TRANSACTION, "Cancel", NULL, NULL,
			G_DBUS_CALL_FLAGS_NONE, PK_CALL_TIMEOUT_MS, NULL, NULL);
		if (reply != NULL)
			g_variant_unref(reply);
		code = kf_error_set(err, KF_ERR_TIMEOUT,
				    _("PackageKit did not finish in %d seconds; kefu asked it to "
				      "cancel"),
				    timeout_s);
	} else if (!t->is_finished)
		code = kf_error_set(err, KF_ERR_CLOSED,
				    _("PackageKit ended the transaction without finishing it"));
out:
	if (subscription != 0)
		g_dbus_connection_signal_unsubscribe(bus, subscription);
	/* Signals already queued for this context are dropped with it. */
	while (g_main_context_iteration(context, FALSE))
		;
	g_main_context_pop_thread_default(context);
	g_main_loop_unref(t->loop);
	t->loop = NULL;
	g_main_context_unref(context);
	g_free(path);
	g_variant_unref(parameters);
	return code;
}

/* The transaction finished: KF_OK for success, else its error in words. */
static int transaction_result(const struct transaction *t, struct kf_error *err)
{
	if (t->exit_code == PK_EXIT_SUCCESS && t->error_code == 0)
		return KF_OK;
	switch (t->error_code) {
	case PK_ERROR_NOT_AUTHORIZED:
		return kf_error_set(err, KF_ERR_DENIED,
				    _("No administrator approved installing it."));
	case PK_ERROR_GPG_FAILURE:
	case PK_ERROR_BAD_GPG_SIGNATURE:
	case PK_ERROR_MISSING_GPG_SIGNATURE:
	case PK_ERROR_CANNOT_INSTALL_REPO_UNSIGNED:
	case PK_ERROR_CANNOT_UPDATE_REPO_UNSIGNED:
		break;
	default:
		if (t->exit_code != PK_EXIT_NEED_UNTRUSTED) {
			if (t->error_details[0] != '\0')
				return kf_error_set(err, KF_ERR_IO, _("PackageKit failed: %s"),
						    kf_escaped(t->error_details).text);
			return kf_error_set(err, KF_ERR_IO, _("PackageKit failed (exit code %u)"),
					    t->exit_code);
		}
	}
	return kf_error_set(err, KF_ERR_DENIED,
			    _("PackageKit refused it: the package does not come from a signed, "
			      "trusted source"));
}

bool kf_drivers_packagekit_available(void)
{
	GDBusConnection *bus = system_bus(NULL);
	GVariant *reply;
	bool is_available = false;

	if (bus == NULL)
		return false;
	reply = g_dbus_connection_call_sync(
		bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		"NameHasOwner", g_variant_new("(s)", KF_DRIVERS_PACKAGEKIT_NAME),
		G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
	if (reply != NULL) {
		gboolean has_owner = FALSE;

		g_variant_get(reply, "(b)", &has_owner);
		g_variant_unref(reply);
		is_available = has_owner;
	}
	if (!is_available) {
		reply = g_dbus_connection_call_sync(
			bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			"org.freedesktop.DBus", "ListActivatableNames", NULL,
			G_VARIANT_TYPE("(as)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
		if (reply != NULL) {
			GVariantIter *names;
			const gchar *name;

			g_variant_get(reply, "(as)", &names);
			while (g_variant_iter_loop(names, "&s", &name))
				if (strcmp(name, KF_DRIVERS_PACKAGEKIT_NAME) == 0)
					is_available = true;
			g_variant_iter_free(names);
			g_variant_unref(reply);
		}
	}
	g_object_unref(bus);
	return is_available;
}

void kf_drivers_pk_plan_free(struct kf_drivers_pk_plan *plan)
{
	for (size_t i = 0; i < plan->count; i++)
		g_free(plan->package_ids[i]);
	g_free(plan->package_ids);
	json_decref(plan->also);
	json_decref(plan->removes);
	memset(plan, 0, sizeof(*plan));
}

/* The version of name PackageKit says is installed, into out (empty when none). */
static void installed_version(const json_t *packages, const char *name, char *out, size_t size)
{
	const json_t *p;
	size_t i;

	out[0] = '\0';
	json_array_foreach(packages, i, p)
	{
		const char *id = json_string_value(json_array_get(p, 1));

		if (id != NULL && json_integer_value(json_array_get(p, 0)) == PK_INFO_INSTALLED &&
		    kf_drivers_pk_id_is_named(id, name))
			kf_drivers_pk_id_field(id, 1, out, size);
	}
}

const char *kf_drivers_pk_choose(const json_t *packages, const char *name, const char *wanted,
				 bool is_upgrade)
{
	const char *best = NULL;
	char best_version[PK_NAME_VERSION_SIZE] = "", installed[PK_NAME_VERSION_SIZE];
	const json_t *p;
	size_t i;

	installed_version(packages, name, installed, sizeof(installed));
	json_array_foreach(packages, i, p)
	{
		const char *id = json_string_value(json_array_get(p, 1));
		char version[PK_NAME_VERSION_SIZE];

		if (id == NULL || json_integer_value(json_array_get(p, 0)) != PK_INFO_AVAILABLE ||
		    !kf_drivers_pk_id_is_named(id, name))
			continue;
		kf_drivers_pk_id_field(id, 1, version, sizeof(version));
		if (!kf_dpkg_version_is_valid(version))
			continue;
		if (is_upgrade && installed[0] != '\0' &&
		    kf_dpkg_version_compare(version, installed) <= 0)
			continue;
		if (wanted != NULL && strcmp(version, wanted) == 0)
			return id;
		if (best == NULL || kf_dpkg_version_compare(version, best_version) > 0) {
			best = id;
			snprintf(best_version, sizeof(best_version), "%s", version);
		}
	}
	return best;
}

int kf_drivers_packagekit_plan(const struct kf_drivers_packagekit *pk, const char *const *names,
			       const char *const *versions, size_t count,
			       struct kf_drivers_pk_plan *plan, struct kf_error *err)
{
	struct transaction resolve = {.pk = pk}, simulate = {.pk = pk};
	GError *error = NULL;
	GDBusConnection *bus;
	const json_t *p;
	gchar **asked;
	size_t i;
	int code;

	memset(plan, 0, sizeof(*plan));
	bus = system_bus(&error);
	if (bus == NULL)
		return fail_gerror(err, _("no system bus"), error);
	asked = g_new0(gchar *, count + 1);
	for (i = 0; i < count; i++)
		asked[i] = (gchar *)names[i];
	code = run_transaction(bus, &resolve, "Resolve",
			       g_variant_new("(t^as)", PK_FILTER_NONE, asked), pk->timeout_s, err);
	g_free(asked);
	if (code == KF_OK)
		code = transaction_result(&resolve, err);
	if (code != KF_OK)
		goto out;
	plan->package_ids = g_new0(char *, count + 1);
	for (i = 0; i < count; i++) {
		const char *id = kf_drivers_pk_choose(resolve.packages, names[i], versions[i],
						      pk->is_upgrade);
		if (id == NULL) {
			code = kf_error_set(
				err, KF_ERR_NOT_FOUND,
				pk->is_upgrade ? _("PackageKit offers no newer version of %s")
					       : _("PackageKit offers no version of %s to install"),
				names[i]);
			goto out;
		}
		plan->package_ids[plan->count++] = g_strdup(id);
	}
	/* What else it brings along, for the customer's question. */
	code = run_transaction(
		bus, &simulate, pk->is_upgrade ? "UpdatePackages" : "InstallPackages",
		g_variant_new("(t^as)", PK_FLAG_SIMULATE, plan->package_ids), pk->timeout_s, err);
	if (code == KF_OK)
		code = transaction_result(&simulate, err);
	if (code != KF_OK)
		goto out;
	plan->also = json_array();
	plan->removes = json_array();
	json_array_foreach(simulate.packages, i, p)
	{
		json_int_t info = json_integer_value(json_array_get(p, 0));
		const char *id = json_string_value(json_array_get(p, 1));
		char name[PK_NAME_VERSION_SIZE], version[PK_NAME_VERSION_SIZE], both[512];
		bool is_asked = false;

		for (size_t j = 0; j < count; j++)
			is_asked = is_asked || kf_drivers_pk_id_is_named(id, names[j]);
		kf_drivers_pk_id_field(id, 0, name, sizeof(name));
		kf_drivers_pk_id_field(id, 1, version, sizeof(version));
		snprintf(both, sizeof(both), "%s %s", name, version);
		if (info == PK_INFO_REMOVING || info == PK_INFO_OBSOLETING)
			json_array_append_new(plan->removes, json_string(both));
		else if (!is_asked && (info == PK_INFO_INSTALLING || info == PK_INFO_UPDATING ||
				       info == PK_INFO_REINSTALLING || info == PK_INFO_DOWNGRADING))
			json_array_append_new(plan->also, json_string(both));
	}
out:
	if (code != KF_OK)
		kf_drivers_pk_plan_free(plan);
	json_decref(resolve.packages);
	json_decref(simulate.packages);
	g_object_unref(bus);
	return code;
}

int kf_drivers_packagekit_apply(const struct kf_drivers_packagekit *pk,
				const struct kf_drivers_pk_plan *plan, struct kf_error *err)
{
	struct transaction t = {.pk = pk, .is_relayed = true, .percentage = 101};
	GError *error = NULL;
	GDBusConnection *bus = system_bus(&error);
	int code;

	if (bus == NULL)
		return fail_gerror(err, _("no system bus"), error);
	code = run_transaction(bus, &t, pk->is_upgrade ? "UpdatePackages" : "InstallPackages",
			       g_variant_new("(t^as)", PK_FLAG_ONLY_TRUSTED, plan->package_ids),
			       pk->timeout_s, err);
	if (code == KF_OK)
		code = transaction_result(&t, err);
	json_decref(t.packages);
	g_object_unref(bus);
	return code;
}
