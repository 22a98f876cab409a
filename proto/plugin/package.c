/* kefu: diagnostic plugins as signed packages. SPDX-License-Identifier: MIT */
#include "proto/plugin/package.h"
#include "proto/base/escape.h"

#include <stdlib.h>
#include <string.h>

const struct kf_package_limits kf_plugin_package_limits = {
	.max_archive = 8 * 1024 * 1024,
	.max_member = 1024 * 1024,
	.max_total = 4 * 1024 * 1024,
	.max_files = 256,
};

int kf_plugin_package_trust(const struct kf_profile *profile, struct kf_package_publisher **trusted,
			    size_t *n_trusted, struct kf_error *err)
{
	size_t i;

	*trusted = calloc(profile->plugin_publisher_count + 1, sizeof(**trusted));
	*n_trusted = 0;
	if (*trusted == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	for (i = 0; i < profile->plugin_publisher_count; i++) {
		struct kf_package_publisher *p = &(*trusted)[i];

		p->name = profile->plugin_publishers[i].name;
		if (kf_package_key_decode(profile->plugin_publishers[i].public_key, p->key) < 0) {
			free(*trusted);
			*trusted = NULL;
			return kf_error_set(err, KF_ERR_INVALID,
					    "profile: plugin publisher %s has a bad key", p->name);
		}
	}
	*n_trusted = profile->plugin_publisher_count;
	return KF_OK;
}

static const struct kf_package_file *find(const struct kf_package *pkg, const char *path)
{
	size_t i;

	for (i = 0; i < pkg->n_files; i++)
		if (strcmp(pkg->files[i].path, path) == 0)
			return &pkg->files[i];
	return NULL;
}

static int refuse(enum kf_package_reason *reason, struct kf_error *err, const char *what,
		  const char *detail)
{
	if (reason != NULL)
		*reason = KF_PACKAGE_CONTENT;
	return kf_error_set(err, KF_ERR_INVALID, "%s: %s%s",
			    kf_package_reason_name(KF_PACKAGE_CONTENT), kf_escaped(what).text,
			    detail);
}

static int check_step(const struct kf_package *pkg, const struct kf_plugin_step *step,
		      enum kf_package_reason *reason, struct kf_error *err)
{
	const struct kf_package_file *f = find(pkg, step->run);

	if (f == NULL)
		return refuse(reason, err, step->run,
			      " is a step of plugin.json but not in the package");
	if (!f->executable)
		return refuse(reason, err, step->run, " is a step but not executable");
	return KF_OK;
}

int kf_plugin_package_check(const struct kf_package *pkg, struct kf_plugin_manifest **manifest,
			    enum kf_package_reason *reason, struct kf_error *err)
{
	const struct kf_package_file *json = find(pkg, "plugin.json");
	struct kf_plugin_manifest *m = NULL;
	struct kf_error inner;
	size_t i, j;
	int r = KF_OK;

	if (manifest != NULL)
		*manifest = NULL;
	if (json == NULL)
		return refuse(reason, err, "plugin.json", " is not in the package");
	if (kf_plugin_manifest_parse((const char *)json->data, json->size, &m, &inner) != KF_OK)
		return refuse(reason, err, "plugin.json: ", inner.message);
	if (strcmp(m->id, pkg->id) != 0 || strcmp(m->version, pkg->version) != 0)
		r = refuse(reason, err, "plugin.json",
			   ": its id and version are not the package's");
	else if (m->publisher == NULL || strcmp(m->publisher, pkg->publisher) != 0)
		r = refuse(reason, err, "plugin.json",
			   ": its \"publisher\" is not the package's publisher");
	for (i = 0; i < m->n_checks && r == KF_OK; i++) {
		const struct kf_plugin_check *c = &m->checks[i];

		r = check_step(pkg, &c->detect, reason, err);
		for (j = 0; j < c->n_repairs && r == KF_OK; j++)
			r = check_step(pkg, &c->repairs[j], reason, err);
		if (r == KF_OK && c->has_verify)
			r = check_step(pkg, &c->verify, reason, err);
	}
	if (r == KF_OK && manifest != NULL)
		*manifest = m;
	else
		kf_plugin_manifest_free(m);
	return r;
}

int kf_plugin_package_open(const char *path, const struct kf_package_publisher *trusted,
			   size_t n_trusted, struct kf_package **out,
			   enum kf_package_reason *reason, struct kf_error *err)
{
	uint8_t *data;
	size_t len;
	int r;

	*out = NULL;
	if (reason != NULL)
		*reason = KF_PACKAGE_OK;
	r = kf_package_read_file(path, kf_plugin_package_limits.max_archive, &data, &len, err);
	if (r == KF_ERR_TOO_LARGE) {
		if (reason != NULL)
			*reason = KF_PACKAGE_TOO_LARGE;
		return kf_error_set(err, r, "%s: the archive is larger than %zu bytes",
				    kf_package_reason_name(KF_PACKAGE_TOO_LARGE),
				    kf_plugin_package_limits.max_archive);
	}
	if (r != KF_OK)
		return r;
	r = kf_package_verify(data, len, KF_PLUGIN_PACKAGE_KIND, trusted, n_trusted,
			      &kf_plugin_package_limits, out, reason, err);
	free(data);
	if (r == KF_OK && (r = kf_plugin_package_check(*out, NULL, reason, err)) != KF_OK) {
		kf_package_free(*out);
		*out = NULL;
	}
	return r;
}
