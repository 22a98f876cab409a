/* kefu-plugin: plugin and firmware packages: their manifests, limits, checks and trust.
 * SPDX-License-Identifier: MIT */
#include "diag-plugins/kefu-plugin/package-kind.h"
#include "proto/firmware/package.h"
#include "proto/plugin/package.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_identity(struct kf_package_identity *identity, const char *id, const char *version,
			const char *publisher, struct kf_error *err)
{
	identity->id = strdup(id);
	identity->version = strdup(version);
	identity->publisher = strdup(publisher);
	if (identity->id == NULL || identity->version == NULL || identity->publisher == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	return KF_OK;
}

static int identify_plugin(const char *dir, struct kf_package_identity *identity,
			   struct kf_error *err)
{
	struct kf_plugin_manifest *m = NULL;
	int r = kf_plugin_manifest_load(dir, &m, err);

	if (r == KF_OK && m->publisher == NULL)
		r = kf_error_set(err, KF_ERR_INVALID,
				 "plugin.json: a packed plugin needs \"publisher\", the name its "
				 "signing key has in the support profile");
	if (r == KF_OK)
		r = set_identity(identity, m->id, m->version, m->publisher, err);
	kf_plugin_manifest_free(m);
	return r;
}

static int check_plugin(const struct kf_package *pkg, enum kf_package_reason *reason,
			struct kf_error *err)
{
	return kf_plugin_package_check(pkg, NULL, reason, err);
}

static int identify_firmware(const char *dir, struct kf_package_identity *identity,
			     struct kf_error *err)
{
	char path[PATH_MAX];
	struct kf_fw_metainfo *m = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, KF_FW_MANIFEST_NAME) >= (int)sizeof(path))
		return kf_error_set(err, KF_ERR_INVALID, "%s: path too long", dir);
	r = kf_package_read_file(path, KF_FW_MANIFEST_MAX, &data, &len, err);
	if (r == KF_OK && (r = kf_fw_manifest_parse((const char *)data, len, &m, err)) == KF_OK)
		r = set_identity(identity, m->id, m->version, m->publisher, err);
	kf_fw_metainfo_free(m);
	free(data);
	return r;
}

static int check_firmware(const struct kf_package *pkg, enum kf_package_reason *reason,
			  struct kf_error *err)
{
	struct kf_fw_metainfo *m = NULL;
	size_t image;
	int r = kf_fw_package_check(pkg, &m, &image, reason, err);

	kf_fw_metainfo_free(m);
	return r;
}

static const struct kf_package_kind kinds[] = {
	{KF_PLUGIN_PACKAGE_KIND, "plugin.json", &kf_plugin_package_limits, identify_plugin,
	 check_plugin, kf_plugin_package_trust},
	{KF_FW_PACKAGE_KIND, KF_FW_MANIFEST_NAME, &kf_fw_package_limits, identify_firmware,
	 check_firmware, kf_fw_package_trust},
};

const struct kf_package_kind *kf_package_kind_find(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

int kf_package_kind_read(const char *path, const struct kf_package_kind **kind, uint8_t **data,
			 size_t *len, struct kf_error *err)
{
	struct kf_package *pkg = NULL;
	int r = kf_package_read_file(path, kf_fw_package_limits.max_archive, data, len, err);

	*kind = NULL;
	if (r != KF_OK)
		return r;
	/* The largest limits of any kind; the kind's own apply when the caller reads it again. */
	r = kf_package_read_unsigned(*data, *len, NULL, &kf_fw_package_limits, &pkg, NULL, err);
	if (r == KF_OK && (*kind = kf_package_kind_find(pkg->kind)) == NULL)
		r = kf_error_set(err, KF_ERR_UNSUPPORTED, "%s: a package of unknown kind \"%.32s\"",
				 path, pkg->kind);
	kf_package_free(pkg);
	if (r != KF_OK) {
		free(*data);
		*data = NULL;
	}
	return r;
}

void kf_package_identity_clear(struct kf_package_identity *identity)
{
	free(identity->id);
	free(identity->version);
	free(identity->publisher);
	memset(identity, 0, sizeof(*identity));
}
