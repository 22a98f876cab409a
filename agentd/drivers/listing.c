/* kefu-agentd: each device's driver, its package, and the packages that would give one. SPDX-License-Identifier: MIT */
#include "agentd/drivers/listing.h"
#include "agentd/diag/collect.h"
#include "agentd/diag/report.h"
#include "agentd/drivers/dpkg-version.h"
#include "agentd/drivers/modules.h"
#include "agentd/drivers/packages.h"
#include "proto/base/escape.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* A glob of some package's Modaliases field. */
struct package_pattern {
	const struct kf_pkg *pkg;
	char *module, *pattern;
};

/* A file whose installed owner goes into target[key] ("package" objects or a name). */
struct owner_request {
	char *path;
	json_t *target;
	const char *key;
	bool as_package_object;
};

struct scan {
	const char *root;
	struct kf_kmods kmods;
	struct kf_pkg_index pkgs;
	struct kf_report *report;
	struct package_pattern *patterns;
	size_t pattern_count, pattern_cap;
	struct owner_request *owners;
	size_t owner_count, owner_cap;
	json_t *firmware; /* every firmware-missing entry, to look up in Contents */
	json_t *notes;
	bool is_nomem;
};

static bool collect_pattern(const char *module, const char *pattern, void *data)
{
	struct scan *s = ((void **)data)[0];
	const struct kf_pkg *pkg = ((void **)data)[1];
	struct package_pattern *p;

	if (s->pattern_count == s->pattern_cap) {
		size_t cap = s->pattern_cap ? s->pattern_cap * 2 : 256;
		struct package_pattern *grown = realloc(s->patterns, cap * sizeof(*grown));
		if (grown == NULL) {
			s->is_nomem = true;
			return false;
		}
		s->patterns = grown;
		s->pattern_cap = cap;
	}
	p = &s->patterns[s->pattern_count];
	p->pkg = pkg;
	p->module = strdup(module);
	p->pattern = strdup(pattern);
	if (p->module == NULL || p->pattern == NULL) {
		free(p->module);
		free(p->pattern);
		s->is_nomem = true;
		return false;
	}
	s->pattern_count++;
	return true;
}

static void collect_patterns(const struct kf_pkg *pkg, void *data)
{
	void *pair[2] = {data, (void *)pkg};

	if (pkg->modaliases != NULL)
		kf_pkg_modaliases_each(pkg->modaliases, collect_pattern, pair);
}

static void want_owner(struct scan *s, const char *path, json_t *target, const char *key,
		       bool as_package_object)
{
	struct owner_request *r;

	if (s->owner_count == s->owner_cap) {
		size_t cap = s->owner_cap ? s->owner_cap * 2 : 64;
		struct owner_request *grown = realloc(s->owners, cap * sizeof(*grown));
		if (grown == NULL) {
			s->is_nomem = true;
			return;
		}
		s->owners = grown;
		s->owner_cap = cap;
	}
	r = &s->owners[s->owner_count];
	if ((r->path = strdup(path)) == NULL) {
		s->is_nomem = true;
		return;
	}
	r->target = target;
	r->key = key;
	r->as_package_object = as_package_object;
	s->owner_count++;
}

/* {"name", "version", "candidate"}: candidate only when apt offers a newer one. */
static json_t *package_object(const struct scan *s, const char *name)
{
	const struct kf_pkg *pkg = kf_pkg_index_find(&s->pkgs, name);
	json_t *o = json_object();

	kf_json_set_str(o, "name", name);
	kf_json_set_str(o, "version", pkg != NULL ? pkg->installed : NULL);
	kf_json_set_str(
		o, "candidate",
		pkg != NULL && pkg->candidate != NULL &&
				(pkg->installed == NULL ||
				 kf_dpkg_version_compare(pkg->candidate, pkg->installed) > 0)
			? pkg->candidate
			: NULL);
	return o;
}

static bool is_loaded(const struct scan *s, const char *module)
{
	char name[256];
	size_t i;
	json_t *m;

	kf_kmod_normalize(module, name, sizeof(name));
	json_array_foreach(s->report->modules, i,
			   m) if (strcmp(kf_json_str(m, "name"), name) == 0) return true;
	return false;
}

/* The module behind the bound driver: where it lives, its version, whether built in. */
static json_t *module_object(struct scan *s, const json_t *device, json_t *entry)
{
	const json_t *seen = json_object_get(device, "module");
	const char *driver = kf_json_str(device, "driver"), *file;
	char name[256], version[256] = "", srcversion[256] = "";
	json_t *m;

	if (json_is_object(seen) && kf_json_str(seen, "name")[0] != '\0')
		kf_kmod_normalize(kf_json_str(seen, "name"), name, sizeof(name));
	else if (driver[0] != '\0')
		kf_kmod_normalize(driver, name, sizeof(name));
	else
		return json_null();
	file = kf_kmods_file(&s->kmods, name);
	if (file == NULL && !kf_kmods_is_builtin(&s->kmods, name) && !json_is_object(seen))
		return json_null(); /* a driver of no module kefu knows (the "usb" core driver) */
	m = json_object();
	kf_json_set_str(m, "name", name);
	if (json_is_object(seen)) {
		snprintf(version, sizeof(version), "%s", kf_json_str(seen, "version"));
		snprintf(srcversion, sizeof(srcversion), "%s", kf_json_str(seen, "srcversion"));
	}
	kf_json_set_str(m, "version_source", version[0] != '\0' ? "sysfs" : NULL);
	if (file != NULL && (version[0] == '\0' || srcversion[0] == '\0')) {
		char file_version[256], file_srcversion[256];
		struct kf_error err = {0};

		if (kf_kmod_modinfo(s->root, file, file_version, sizeof(file_version),
				    file_srcversion, sizeof(file_srcversion), &err) == KF_OK) {
			if (version[0] == '\0' && file_version[0] != '\0') {
				snprintf(version, sizeof(version), "%s", file_version);
				kf_json_set_str(m, "version_source", "modinfo");
			}
			if (srcversion[0] == '\0')
				snprintf(srcversion, sizeof(srcversion), "%s", file_srcversion);
		}
	}
	kf_json_set_str(m, "version", version);
	kf_json_set_str(m, "srcversion", srcversion);
	kf_json_set_str(m, "file", file);
	json_object_set_new(m, "built_in",
			    json_boolean(file == NULL && kf_kmods_is_builtin(&s->kmods, name)));
	if (file != NULL)
		want_owner(s, file, entry, "package", true);
	else if (kf_kmods_is_builtin(&s->kmods, name)) {
		char builtin[PATH_MAX];
		snprintf(builtin, sizeof(builtin), "%s/modules.builtin", s->kmods.dir);
		want_owner(s, builtin, entry, "package", true);
	}
	return m;
}

/* A USB device whose only driver is the core's "usb" (not a hub): nothing drives it. */
static bool needs_driver(const json_t *device)
{
	const char *driver = kf_json_str(device, "driver");
	const json_t *interfaces = json_object_get(device, "interfaces"), *i;
	size_t n;

	if (driver[0] == '\0')
		return true;
	if (strcmp(kf_json_str(device, "bus"), "usb") != 0 || strcmp(driver, "usb") != 0)
		return false;
	if (strstr(kf_json_str(device, "modalias"), "dc09") != NULL)
		return false;
	json_array_foreach(interfaces, n, i) if (kf_json_str(i, "driver")[0] != '\0') return false;
	return true;
}

static bool has_provider(const json_t *providers, const char *key, const char *value)
{
	size_t i;
	json_t *p;

	json_array_foreach(providers, i,
			   p) if (strcmp(kf_json_str(p, key), value) == 0) return true;
	return false;
}

struct kernel_match {
	struct scan *s;
	json_t *providers;
};

static void kernel_alias(const struct kf_kmod_alias *alias, void *data)
{
	struct kernel_match *m = data;
	char name[256];
	json_t *p;

	kf_kmod_normalize(alias->module, name, sizeof(name));
	if (has_provider(m->providers, "module", name))
		return;
	p = json_object();
	kf_json_set_str(p, "kind", "kernel-module");
	kf_json_set_str(p, "module", name);
	kf_json_set_str(p, "pattern", alias->pattern);
	json_object_set_new(p, "loaded", json_boolean(is_loaded(m->s, name)));
	json_object_set_new(p, "blacklisted",
			    json_boolean(kf_kmods_is_blacklisted(&m->s->kmods, name)));
	json_object_set_new(p, "package", json_null());
	if (kf_kmods_file(&m->s->kmods, name) != NULL)
		want_owner(m->s, kf_kmods_file(&m->s->kmods, name), p, "package", false);
	json_array_append_new(m->providers, p);
}

/* Every module and package that claims modalias. */
static void match_modalias(struct scan *s, const char *modalias, json_t *providers)
{
	struct kernel_match m = {s, providers};

	if (modalias[0] == '\0')
		return;
	kf_kmods_match(&s->kmods, modalias, kernel_alias, &m);
	for (size_t i = 0; i < s->pattern_count; i++) {
		const struct package_pattern *pp = &s->patterns[i];
		json_t *p;

		if (fnmatch(pp->pattern, modalias, 0) != 0 ||
		    has_provider(providers, "package", pp->pkg->name))
			continue;
		p = json_object();
		kf_json_set_str(p, "kind", "package");
		kf_json_set_str(p, "package", pp->pkg->name);
		kf_json_set_str(p, "version", pp->pkg->candidate);
		kf_json_set_str(p, "installed", pp->pkg->installed);
		kf_json_set_str(p, "summary", pp->pkg->summary);
		kf_json_set_str(p, "module", pp->module);
		kf_json_set_str(p, "pattern", pp->pattern);
		json_array_append_new(providers, p);
	}
}

/* A kernel-log detail that names a firmware file (not "firmware" or an error text). */
static bool is_firmware_file(const char *detail)
{
	if (detail[0] == '\0' || detail[0] == '/' || strstr(detail, "..") != NULL ||
	    strpbrk(detail, " \t") != NULL || strlen(detail) > 200)
		return false;
	return strchr(detail, '.') != NULL || strchr(detail, '/') != NULL;
}

static json_t *firmware_entry(struct scan *s, const char *file)
{
	json_t *f = json_object();
	char path[PATH_MAX];

	kf_json_set_str(f, "file", file);
	json_object_set_new(f, "installed_by", json_null());
	json_object_set_new(f, "packages", json_array());
	snprintf(path, sizeof(path), "/lib/firmware/%s", file);
	want_owner(s, path, f, "installed_by", false);
	json_array_append(s->firmware, f);
	return f;
}

static void add_firmware(struct scan *s, json_t *list, const char *file)
{
	size_t i;
	json_t *f;

	json_array_foreach(list, i, f) if (strcmp(kf_json_str(f, "file"), file) == 0) return;
	json_array_append_new(list, firmware_entry(s, file));
}

static json_t *device_entry(struct scan *s, const json_t *device)
{
	json_t *entry = json_object(), *providers = json_array(), *firmware = json_array();
	const char *name = kf_json_str(device, "name");
	const json_t *interfaces = json_object_get(device, "interfaces"), *iface;
	bool is_driverless = needs_driver(device);
	size_t i;

	kf_json_set_str(entry, "id", kf_json_str(device, "id"));
	kf_json_set_str(entry, "name", name[0] ? name : kf_json_str(device, "product"));
	kf_json_set_str(entry, "vendor", kf_json_str(device, "vendor_name"));
	kf_json_set_str(entry, "status", kf_json_str(device, "status"));
	kf_json_set_str(entry, "modalias", kf_json_str(device, "modalias"));
	kf_json_set_str(entry, "driver", is_driverless ? NULL : kf_json_str(device, "driver"));
	json_object_set_new(entry, "needs_driver", json_boolean(is_driverless));
	json_object_set_new(entry, "package", json_null());
	kf_json_set_new(entry, "module",
			is_driverless ? json_null() : module_object(s, device, entry));
	if (is_driverless)
		match_modalias(s, kf_json_str(device, "modalias"), providers);
	/* An interface left without a driver (a webcam's microphone) is matched too. */
	json_array_foreach(interfaces, i, iface) if (kf_json_str(iface, "driver")[0] == '\0')
		match_modalias(s, kf_json_str(iface, "modalias"), providers);
	json_object_set_new(entry, "providers", providers);
	json_object_set_new(entry, "firmware_missing", firmware);
	return entry;
}

/* Firmware the kernel log asked for, by device; what no listed device claims goes on top. */
static void tie_firmware(struct scan *s, const struct kf_kernel_events *events, json_t *devices,
			 json_t *loose)
{
	for (size_t e = 0; e < events->count; e++) {
		const struct kf_kernel_event *ev = &events->items[e];
		json_t *entry, *target = loose;
		size_t i;

		if (ev->kind != KF_KEV_FIRMWARE_MISSING || !is_firmware_file(ev->detail))
			continue;
		json_array_foreach(devices, i, entry)
		{
			const char *id = kf_json_str(entry, "id"), *colon = strchr(id, ':');
			if (ev->device[0] != '\0' && colon != NULL &&
			    strcmp(colon + 1, ev->device) == 0) {
				target = json_object_get(entry, "firmware_missing");
				break;
			}
		}
		add_firmware(s, target, ev->detail);
	}
}

static void resolve_owners(struct scan *s)
{
	const char **paths = calloc(s->owner_count + 1, sizeof(*paths));
	char **owners = calloc(s->owner_count + 1, sizeof(*owners));
	struct kf_error err = {0};

	if (paths == NULL || owners == NULL) {
		s->is_nomem = true;
		goto out;
	}
	for (size_t i = 0; i < s->owner_count; i++)
		paths[i] = s->owners[i].path;
	if (kf_pkg_owners(s->root, paths, s->owner_count, owners, &err) != KF_OK) {
		json_array_append_new(s->notes, json_string(err.message));
		goto out;
	}
	for (size_t i = 0; i < s->owner_count; i++) {
		struct owner_request *r = &s->owners[i];

		if (owners[i] == NULL)
			continue;
		if (r->as_package_object)
			json_object_set_new(r->target, r->key, package_object(s, owners[i]));
		else
			kf_json_set_str(r->target, r->key, owners[i]);
	}
out:
	for (size_t i = 0; owners != NULL && i < s->owner_count; i++)
		free(owners[i]);
	free(owners);
	free(paths);
}

static void resolve_contents(struct scan *s, json_t *sources)
{
	size_t count = json_array_size(s->firmware), read = 0;
	const char **paths = calloc(count + 1, sizeof(*paths));
	json_t **found = calloc(count + 1, sizeof(*found));
	char(*storage)[PATH_MAX] = calloc(count + 1, PATH_MAX);
	struct kf_error err = {0};

	if (paths == NULL || found == NULL || storage == NULL) {
		s->is_nomem = true;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		snprintf(storage[i], PATH_MAX, "/lib/firmware/%s",
			 kf_json_str(json_array_get(s->firmware, i), "file"));
		paths[i] = storage[i];
	}
	if (kf_pkg_contents_find(s->root, paths, count, found, &read, &err) != KF_OK)
		json_array_append_new(s->notes, json_string(err.message));
	json_object_set_new(sources, "contents", json_integer((json_int_t)read));
	for (size_t i = 0; i < count; i++) {
		json_t *f = json_array_get(s->firmware, i),
		       *packages = json_object_get(f, "packages");
		const char *owner = kf_json_str(f, "installed_by");
		size_t j;
		json_t *name;

		/* The installed owner is a candidate too: reinstalling brings the file back. */
		if (owner[0] != '\0')
			json_array_append_new(packages, package_object(s, owner));
		json_array_foreach(found[i], j, name)
		{
			if (strcmp(json_string_value(name), owner) != 0)
				json_array_append_new(packages,
						      package_object(s, json_string_value(name)));
		}
	}
out:
	for (size_t i = 0; found != NULL && i < count; i++)
		json_decref(found[i]);
	free(found);
	free(paths);
	free(storage);
}

static void add_upgrade(json_t *upgrades, const json_t *package, const char *device)
{
	const char *name = kf_json_str(package, "name");
	size_t i;
	json_t *u;

	if (kf_json_str(package, "candidate")[0] == '\0' ||
	    kf_json_str(package, "version")[0] == '\0')
		return;
	json_array_foreach(upgrades, i, u) if (strcmp(kf_json_str(u, "package"), name) == 0)
	{
		if (device != NULL)
			kf_json_append_str(json_object_get(u, "devices"), device);
		return;
	}
	u = json_object();
	kf_json_set_str(u, "package", name);
	kf_json_set_str(u, "installed", kf_json_str(package, "version"));
	kf_json_set_str(u, "candidate", kf_json_str(package, "candidate"));
	json_object_set_new(u, "devices", json_array());
	if (device != NULL)
		kf_json_append_str(json_object_get(u, "devices"), device);
	json_array_append_new(upgrades, u);
}

/* Installed driver packages (those with a Modaliases field) that have a newer candidate. */
static void driver_package_upgrade(const struct kf_pkg *pkg, void *data)
{
	void **pair = data;
	struct scan *s = pair[0];
	json_t *upgrades = pair[1], *object;

	if (pkg->installed == NULL || pkg->modaliases == NULL)
		return;
	object = package_object(s, pkg->name);
	add_upgrade(upgrades, object, NULL);
	json_decref(object);
}

static void find_upgrades(struct scan *s, json_t *devices, json_t *upgrades)
{
	void *pair[2] = {s, upgrades};
	size_t i;
	json_t *entry;

	json_array_foreach(devices, i, entry)
	{
		const json_t *package = json_object_get(entry, "package");
		if (json_is_object(package))
			add_upgrade(upgrades, package, kf_json_str(entry, "id"));
	}
	kf_pkg_index_each(&s->pkgs, driver_package_upgrade, pair);
}

int kf_drivers_list(const char *root, json_t **listing, struct kf_error *err)
{
	struct scan s = {.root = root};
	struct kf_collect_ctx ctx = {0};
	json_t *out = NULL, *devices, *loose, *sources, *upgrades, *device;
	size_t i;
	int r;

	*listing = NULL;
	ctx.root = root;
	ctx.is_live = strcmp(root, "/") == 0;
	ctx.tool_timeout_ms = KF_TOOL_TIMEOUT_MS;
	if ((ctx.report = kf_report_new()) == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	s.report = ctx.report;
	kf_collect_all(&ctx);
	if ((r = kf_kmods_load(&s.kmods, root, err)) != KF_OK ||
	    (r = kf_pkg_index_load(&s.pkgs, root, err)) != KF_OK)
		goto out;
	s.notes = json_array();
	s.firmware = json_array();
	kf_pkg_index_each(&s.pkgs, collect_patterns, &s);
	json_array_extend(s.notes, s.pkgs.notes);

	out = json_object();
	devices = json_array();
	loose = json_array();
	upgrades = json_array();
	sources = json_pack("{s:b, s:b, s:I}", "modules_alias", s.kmods.alias_count > 0,
			    "dpkg_status", s.pkgs.has_status, "apt_lists",
			    (json_int_t)s.pkgs.lists_read);
	kf_json_set_str(out, "schema", KF_DRIVERS_SCHEMA);
	kf_json_set_str(out, "kernel", s.kmods.release);
	json_array_foreach(ctx.report->devices, i, device)
	{
		const char *bus = kf_json_str(device, "bus");
		if (strcmp(bus, "pci") != 0 && strcmp(bus, "usb") != 0 &&
		    kf_json_str(device, "modalias")[0] == '\0')
			continue;
		json_array_append_new(devices, device_entry(&s, device));
	}
	tie_firmware(&s, &ctx.events, devices, loose);
	resolve_owners(&s);
	resolve_contents(&s, sources);
	find_upgrades(&s, devices, upgrades);
	if (!s.kmods.alias_count)
		json_array_append_new(
			s.notes, json_sprintf("no modules.alias for kernel %s: the kernel's own "
					      "modules were not matched",
					      s.kmods.release[0] ? s.kmods.release : "(unknown)"));
	if (s.pkgs.lists_read == 0)
		json_array_append_new(s.notes,
				      json_string("no apt package lists (/var/lib/apt/lists): "
						  "run apt-get update to match packages"));
	json_object_set_new(out, "sources", sources);
	json_object_set_new(out, "devices", devices);
	json_object_set_new(out, "firmware_missing", loose);
	json_object_set_new(out, "upgrades", upgrades);
	json_object_set_new(out, "notes", s.notes);
	s.notes = NULL;
	if (s.is_nomem) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	*listing = out;
	out = NULL;
out:
	json_decref(out);
	json_decref(s.notes);
	json_decref(s.firmware);
	for (size_t p = 0; p < s.pattern_count; p++) {
		free(s.patterns[p].module);
		free(s.patterns[p].pattern);
	}
	free(s.patterns);
	for (size_t o = 0; o < s.owner_count; o++)
		free(s.owners[o].path);
	free(s.owners);
	kf_kmods_free(&s.kmods);
	kf_pkg_index_free(&s.pkgs);
	kf_collect_ctx_release(&ctx);
	kf_report_free(ctx.report);
	return r;
}

const char *kf_drivers_offer(const json_t *listing, const char *package)
{
	const json_t *devices = json_object_get(listing, "devices"), *d, *p, *f, *u;
	size_t i, j, k;

	json_array_foreach(json_object_get(listing, "upgrades"), i,
			   u) if (strcmp(kf_json_str(u, "package"), package) == 0) return "upgrade";
	json_array_foreach(devices, i, d)
	{
		json_array_foreach(json_object_get(d, "providers"), j,
				   p) if (strcmp(kf_json_str(p, "package"), package) ==
					  0) return "install";
		json_array_foreach(json_object_get(d, "firmware_missing"), j, f)
		{
			json_array_foreach(json_object_get(f, "packages"), k,
					   p) if (strcmp(kf_json_str(p, "name"), package) ==
						  0) return "install";
		}
	}
	json_array_foreach(json_object_get(listing, "firmware_missing"), j, f)
	{
		json_array_foreach(json_object_get(f, "packages"), k,
				   p) if (strcmp(kf_json_str(p, "name"), package) ==
					  0) return "install";
	}
	return NULL;
}

static void print_firmware(const json_t *list, FILE *out)
{
	size_t i, j;
	const json_t *f, *p;

	json_array_foreach(list, i, f)
	{
		const json_t *packages = json_object_get(f, "packages");

		kf_terminal_print(out, "  missing firmware %s%s%s", kf_json_str(f, "file"),
				  json_array_size(packages) ? "" : ": no package known to ship it",
				  kf_json_str(f, "installed_by")[0]
					  ? " (its package is installed: "
					    "reload the driver or restart)"
					  : "");
		json_array_foreach(packages, j, p)
		{
			const char *candidate = kf_json_str(p, "candidate");
			if (candidate[0] == '\0' && kf_json_str(p, "version")[0] == '\0')
				kf_terminal_print(out, "    in package %s (not in apt's lists)",
						  kf_json_str(p, "name"));
			else
				kf_terminal_print(
					out, "    in package %s %s: kefu-agentd drivers install %s",
					kf_json_str(p, "name"),
					candidate[0] ? candidate : kf_json_str(p, "version"),
					kf_json_str(p, "name"));
		}
	}
}

void kf_drivers_print(const json_t *listing, FILE *out)
{
	const json_t *d, *p, *m, *pkg, *u, *n;
	size_t i, j, wanting = 0;

	json_array_foreach(json_object_get(listing, "devices"), i, d)
	{
		const char *vendor = kf_json_str(d, "vendor");

		kf_terminal_print(out, "%s  %s%s%s", kf_json_str(d, "id"), vendor,
				  vendor[0] ? " " : "", kf_json_str(d, "name"));
		m = json_object_get(d, "module");
		pkg = json_object_get(d, "package");
		if (json_is_true(json_object_get(d, "needs_driver"))) {
			kf_terminal_print(out, "  no driver");
			wanting++;
		} else if (json_is_object(m))
			kf_terminal_print(out, "  driver %s: module %s%s%s%s%s%s",
					  kf_json_str(d, "driver"), kf_json_str(m, "name"),
					  kf_json_str(m, "version")[0] ? " " : "",
					  kf_json_str(m, "version"),
					  json_is_true(json_object_get(m, "built_in"))
						  ? ", built into the kernel"
						  : "",
					  json_is_object(pkg) ? ", from package " : "",
					  json_is_object(pkg) ? kf_json_str(pkg, "name") : "");
		else
			kf_terminal_print(out, "  driver %s", kf_json_str(d, "driver"));
		if (json_is_object(pkg) && kf_json_str(pkg, "version")[0])
			kf_terminal_print(out, "    package version %s",
					  kf_json_str(pkg, "version"));
		if (json_is_object(pkg) && kf_json_str(pkg, "candidate")[0])
			kf_terminal_print(out, "    newer: %s %s: kefu-agentd drivers upgrade %s",
					  kf_json_str(pkg, "name"), kf_json_str(pkg, "candidate"),
					  kf_json_str(pkg, "name"));
		json_array_foreach(json_object_get(d, "providers"), j, p)
		{
			if (strcmp(kf_json_str(p, "kind"), "kernel-module") == 0)
				kf_terminal_print(
					out, "    the kernel's module %s drives it%s",
					kf_json_str(p, "module"),
					json_is_true(json_object_get(p, "blacklisted"))
						? " but is blacklisted in /etc/modprobe.d"
					: json_is_true(json_object_get(p, "loaded"))
						? " and is loaded"
						: ": not loaded (sudo modprobe it, or restart)");
			else if (kf_json_str(p, "installed")[0])
				kf_terminal_print(
					out,
					"    package %s (installed) has driver %s for it: "
					"reload it or restart",
					kf_json_str(p, "package"), kf_json_str(p, "module"));
			else
				kf_terminal_print(
					out,
					"    package %s %s has driver %s for it: "
					"kefu-agentd drivers install %s",
					kf_json_str(p, "package"), kf_json_str(p, "version"),
					kf_json_str(p, "module"), kf_json_str(p, "package"));
		}
		print_firmware(json_object_get(d, "firmware_missing"), out);
	}
	if (json_array_size(json_object_get(listing, "firmware_missing")) > 0) {
		kf_terminal_print(out, "Firmware the kernel asked for, for no device listed here:");
		print_firmware(json_object_get(listing, "firmware_missing"), out);
	}
	json_array_foreach(json_object_get(listing, "upgrades"), i, u)
		kf_terminal_print(out, "Upgrade: %s %s -> %s", kf_json_str(u, "package"),
				  kf_json_str(u, "installed"), kf_json_str(u, "candidate"));
	json_array_foreach(json_object_get(listing, "notes"), i, n)
		kf_terminal_print(out, "Note: %s", json_string_value(n));
	kf_terminal_print(out, "%zu device%s, %zu without a driver, %zu upgrade%s.",
			  json_array_size(json_object_get(listing, "devices")),
			  json_array_size(json_object_get(listing, "devices")) == 1 ? "" : "s",
			  wanting, json_array_size(json_object_get(listing, "upgrades")),
			  json_array_size(json_object_get(listing, "upgrades")) == 1 ? "" : "s");
}
