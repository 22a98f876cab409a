/* kefu: firmware updates from cabinets or kefu packages, detected by content. SPDX-License-Identifier: MIT */
#include "proto/firmware/update.h"
#include "proto/base/escape.h"
#include "proto/base/base64.h"
#include "proto/firmware/cabinet.h"
#include "proto/firmware/package.h"
#include "proto/package/package.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAR_MAGIC_OFFSET 257

int kf_fw_update_sniff(const char *path, enum kf_fw_update_source *source, struct kf_error *err)
{
	uint8_t head[512];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return kf_error_set(err, errno == ENOENT ? KF_ERR_NOT_FOUND : KF_ERR_IO,
				    "%s is not a readable cabinet or firmware package: %s", path,
				    strerror(errno));
	while (n < (ssize_t)sizeof(head)) {
		ssize_t got = read(fd, head + n, sizeof(head) - (size_t)n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += got;
	}
	close(fd);
	if (n >= 4 && memcmp(head, "MSCF", 4) == 0) {
		*source = KF_FW_SOURCE_CABINET;
		return KF_OK;
	}
	/* POSIX ustar and GNU tar both put "ustar" here; kefu packages are ustar. */
	if (n == (ssize_t)sizeof(head) && memcmp(head + TAR_MAGIC_OFFSET, "ustar", 5) == 0) {
		*source = KF_FW_SOURCE_PACKAGE;
		return KF_OK;
	}
	return kf_error_set(err, KF_ERR_INVALID,
			    "%s is neither an LVFS cabinet nor a kefu firmware package", path);
}

void kf_fw_update_free(struct kf_fw_update *update)
{
	if (update == NULL)
		return;
	kf_fw_metainfo_free(update->metainfo);
	free(update->payload);
	free(update->signed_by);
	free(update);
}

static int load_cabinet(const char *path, const struct kf_profile *profile,
			struct kf_fw_update *update, struct kf_error *err)
{
	struct kf_fw_cabinet *cab = NULL;
	int r = kf_fw_cabinet_load(path, (const char *const *)profile->firmware_ca_pems,
				   profile->firmware_ca_count, NULL, &cab, err);

	if (r != KF_OK)
		return r;
	if (asprintf(&update->signed_by, "%s and %s verify against the trusted firmware CAs",
		     cab->metainfo_name, cab->metainfo->payload_name) < 0) {
		update->signed_by = NULL;
		kf_fw_cabinet_free(cab);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	update->metainfo = cab->metainfo;
	update->payload = cab->payload;
	update->payload_size = cab->payload_size;
	cab->metainfo = NULL;
	cab->payload = NULL;
	kf_fw_cabinet_free(cab);
	return KF_OK;
}

static int load_package(const char *path, const struct kf_profile *profile,
			struct kf_fw_update *update, struct kf_error *err)
{
	struct kf_package_publisher *trusted = NULL;
	struct kf_package *pkg = NULL;
	enum kf_package_reason reason = KF_PACKAGE_OK;
	size_t n_trusted = 0, image = 0;
	uint8_t *data = NULL;
	size_t len = 0;
	char *key = NULL;
	int r;

	r = kf_package_read_file(path, kf_fw_package_limits.max_archive, &data, &len, err);
	if (r == KF_ERR_TOO_LARGE)
		return kf_error_set(err, r, "the firmware package is larger than %zu bytes",
				    kf_fw_package_limits.max_archive);
	if (r != KF_OK)
		return r;
	if ((r = kf_fw_package_trust(profile, &trusted, &n_trusted, err)) != KF_OK)
		goto out;
	r = kf_package_verify(data, len, KF_FW_PACKAGE_KIND, trusted, n_trusted,
			      &kf_fw_package_limits, &pkg, &reason, err);
	if (r == KF_OK)
		r = kf_fw_package_check(pkg, &update->metainfo, &image, &reason, err);
	if (r != KF_OK && reason == KF_PACKAGE_UNKNOWN_PUBLISHER && n_trusted == 0) {
		r = kf_error_set(err, KF_ERR_DENIED,
				 "the firmware package is refused: unknown-publisher: the support "
				 "profile trusts no firmware publisher");
		goto out;
	}
	if (r != KF_OK) {
		char detail[KF_ERROR_MESSAGE_SIZE];

		snprintf(detail, sizeof(detail), "%s", err != NULL ? err->message : "");
		kf_error_set(err, r, "the firmware package is refused: %s", detail);
		goto out;
	}
	key = kf_base64_encode(pkg->key, sizeof(pkg->key));
	if (asprintf(&update->signed_by,
		     "the package is signed by the trusted publisher \"%s\" (%s)",
		     kf_escaped(pkg->publisher).text, key != NULL ? key : "?") < 0) {
		update->signed_by = NULL;
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	update->payload = pkg->files[image].data;
	update->payload_size = pkg->files[image].size;
	pkg->files[image].data = NULL;
out:
	free(key);
	free(trusted);
	free(data);
	kf_package_free(pkg);
	return r;
}

int kf_fw_update_load(const char *path, const struct kf_profile *profile, struct kf_fw_update **out,
		      struct kf_error *err)
{
	struct kf_fw_update *update;
	int r;

	*out = NULL;
	update = calloc(1, sizeof(*update));
	if (update == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	if ((r = kf_fw_update_sniff(path, &update->source, err)) == KF_OK)
		r = update->source == KF_FW_SOURCE_CABINET
			    ? load_cabinet(path, profile, update, err)
			    : load_package(path, profile, update, err);
	if (r != KF_OK) {
		kf_fw_update_free(update);
		return r;
	}
	*out = update;
	return KF_OK;
}
