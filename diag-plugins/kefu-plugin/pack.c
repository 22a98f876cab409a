/* kefu-plugin: `pack` turns a plugin or firmware folder into a signed package; `sign` signs a
 * package. SPDX-License-Identifier: MIT */
#include "diag-plugins/kefu-plugin/commands.h"
#include "diag-plugins/kefu-plugin/package-kind.h"
#include "proto/package/package.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct collection {
	struct kf_package_file files[256];
	size_t n_files, total;
};

static void collection_free(struct collection *c)
{
	size_t i;

	for (i = 0; i < c->n_files; i++) {
		free(c->files[i].path);
		free(c->files[i].data);
	}
	c->n_files = 0;
}

/*
 * Adds the files under root/rel (rel "" for the folder itself), skipping hidden
 * names and the top-level tests/ folder, and refusing links and special files.
 */
static int collect(const char *root, const char *rel, int depth,
		   const struct kf_package_limits *limits, struct collection *c,
		   struct kf_error *err)
{
	char dir[PATH_MAX];
	struct dirent **names;
	int n, i, r = KF_OK;

	snprintf(dir, sizeof(dir), "%s%s%s", root, rel[0] ? "/" : "", rel);
	if (depth > KF_PACKAGE_DEPTH_MAX)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "%s: folders nested too deep", dir);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return kf_error_set(err, KF_ERR_IO, "%s: %s", dir, strerror(errno));
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[PATH_MAX], child[PATH_MAX];
		struct stat st;

		if (r != KF_OK || name[0] == '.' || (rel[0] == '\0' && strcmp(name, "tests") == 0))
			continue;
		if (snprintf(child, sizeof(child), "%s%s%s", rel, rel[0] ? "/" : "", name) >=
			    (int)sizeof(child) ||
		    snprintf(path, sizeof(path), "%s/%s", root, child) >= (int)sizeof(path))
			r = kf_error_set(err, KF_ERR_INVALID, "%s/%s: path too long", dir, name);
		else if (lstat(path, &st) < 0)
			r = kf_error_set(err, KF_ERR_IO, "%s: %s", path, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			r = collect(root, child, depth + 1, limits, c, err);
		else if (!S_ISREG(st.st_mode))
			r = kf_error_set(err, KF_ERR_INVALID,
					 "%s: links and special files cannot be packed", child);
		else if (!kf_package_path_is_safe(child))
			r = kf_error_set(err, KF_ERR_INVALID,
					 "%s: names may use letters, digits and . _ - + only",
					 child);
		else if (c->n_files == limits->max_files ||
			 c->n_files == sizeof(c->files) / sizeof(c->files[0]) ||
			 (size_t)st.st_size > limits->max_member ||
			 c->total + (size_t)st.st_size > limits->max_total)
			r = kf_error_set(err, KF_ERR_TOO_LARGE,
					 "%s: over the limits (%zu files, %zu bytes each, %zu in "
					 "all)",
					 child, limits->max_files, limits->max_member,
					 limits->max_total);
		else {
			struct kf_package_file *f = &c->files[c->n_files];

			r = kf_package_read_file(path, limits->max_member, &f->data, &f->size, err);
			if (r == KF_OK) {
				f->path = strdup(child);
				f->executable = (st.st_mode & 0111) != 0;
				c->total += f->size;
				c->n_files++;
				if (f->path == NULL)
					r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
			}
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/*
 * Reads back what was built, as the agent will, so that nothing leaves this tool
 * that an agent trusting key would refuse; then writes it.
 */
static int check_and_save(const struct kf_package_kind *kind, const uint8_t *data, size_t len,
			  EVP_PKEY *key, const char *out, struct kf_package **pkg_out,
			  struct kf_error *err)
{
	struct kf_package_publisher self = {NULL, {0}};
	struct kf_package *pkg = NULL;
	uint8_t raw[KF_PACKAGE_KEY_SIZE];
	size_t raw_len = sizeof(raw);
	int r;

	if (key != NULL && EVP_PKEY_get_raw_public_key(key, raw, &raw_len) == 1) {
		memcpy(self.key, raw, sizeof(raw));
		r = kf_package_verify(data, len, kind->name, &self, 1, kind->limits, &pkg, NULL,
				      err);
	} else {
		r = kf_package_read_unsigned(data, len, kind->name, kind->limits, &pkg, NULL, err);
	}
	if (r == KF_OK)
		r = kind->check(pkg, NULL, err);
	if (r == KF_OK)
		r = kf_package_save(out, data, len, err);
	if (r == KF_OK)
		*pkg_out = pkg;
	else
		kf_package_free(pkg);
	return r;
}

static void print_written(const char *out, const struct kf_package *pkg, EVP_PKEY *key)
{
	char *public = key != NULL ? kf_package_key_public_base64(key) : NULL;

	printf("%s: %s %s %s from \"%s\", %zu files, %s%s\n", out, pkg->kind, pkg->id, pkg->version,
	       pkg->publisher, pkg->n_files, public != NULL ? "signed by key " : "NOT signed",
	       public != NULL ? public : " (sign it: kefu-plugin sign FILE --key KEY)");
	free(public);
}

static int parse_key_and_out(int argc, char **argv, const char **key_path, const char **out,
			     const char **kind)
{
	static const struct option options[] = {
		{"key", required_argument, NULL, 'k'},
		{"output", required_argument, NULL, 'o'},
		{"kind", required_argument, NULL, 'K'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "k:o:", options, NULL)) != -1) {
		if (opt == 'k')
			*key_path = optarg;
		else if (opt == 'o')
			*out = optarg;
		else if (opt == 'K' && kind != NULL)
			*kind = optarg;
		else
			return -1;
	}
	return optind == argc - 1 ? optind : -1;
}

int kf_plugin_cmd_pack(int argc, char **argv)
{
	const char *key_path = NULL, *out = NULL, *kind_name = "plugin";
	const struct kf_package_kind *kind;
	struct collection *c = calloc(1, sizeof(*c));
	struct kf_package_identity identity = {0};
	struct kf_package *pkg = NULL;
	struct kf_error err;
	EVP_PKEY *key = NULL;
	uint8_t *data = NULL;
	size_t len;
	int dir, r;

	if (c == NULL)
		return kf_cli_fail(KF_PLUGIN_PROGRAM, "out of memory");
	if ((dir = parse_key_and_out(argc, argv, &key_path, &out, &kind_name)) < 0 || out == NULL ||
	    (kind = kf_package_kind_find(kind_name)) == NULL) {
		free(c);
		fprintf(stderr, "usage: %s pack [--kind plugin|firmware] DIR -o FILE [--key KEY]\n",
			KF_PLUGIN_PROGRAM);
		return KF_EXIT_USAGE;
	}
	r = kind->identify(argv[dir], &identity, &err);
	if (r == KF_OK && key_path != NULL)
		r = kf_package_key_load(key_path, &key, &err);
	if (r == KF_OK)
		r = collect(argv[dir], "", 0, kind->limits, c, &err);
	if (r == KF_OK) {
		struct kf_package_spec spec = {kind->name,         identity.id, identity.version,
					       identity.publisher, c->n_files,  c->files};

		r = kf_package_build(&spec, key, &data, &len, &err);
	}
	if (r == KF_OK)
		r = check_and_save(kind, data, len, key, out, &pkg, &err);
	if (r == KF_OK)
		print_written(out, pkg, key);
	kf_package_free(pkg);
	free(data);
	EVP_PKEY_free(key);
	kf_package_identity_clear(&identity);
	collection_free(c);
	free(c);
	return r == KF_OK ? KF_EXIT_OK : kf_cli_fail(KF_PLUGIN_PROGRAM, "%s", err.message);
}

int kf_plugin_cmd_sign(int argc, char **argv)
{
	const char *key_path = NULL, *out = NULL;
	const struct kf_package_kind *kind = NULL;
	struct kf_package *pkg = NULL, *written = NULL;
	struct kf_error err;
	EVP_PKEY *key = NULL;
	uint8_t *data = NULL, *signed_data = NULL;
	size_t len, signed_len;
	int file, r;

	if ((file = parse_key_and_out(argc, argv, &key_path, &out, NULL)) < 0 || key_path == NULL) {
		fprintf(stderr, "usage: %s sign FILE --key KEY [-o OUT]\n", KF_PLUGIN_PROGRAM);
		return KF_EXIT_USAGE;
	}
	if (out == NULL)
		out = argv[file];
	r = kf_package_key_load(key_path, &key, &err);
	if (r == KF_OK)
		r = kf_package_kind_read(argv[file], &kind, &data, &len, &err);
	/* The signer checks every file against the list it is about to sign. */
	if (r == KF_OK)
		r = kf_package_read_unsigned(data, len, kind->name, kind->limits, &pkg, NULL, &err);
	if (r == KF_OK)
		r = kind->check(pkg, NULL, &err);
	if (r == KF_OK) {
		struct kf_package_spec spec = {pkg->kind,      pkg->id,      pkg->version,
					       pkg->publisher, pkg->n_files, pkg->files};

		r = kf_package_build(&spec, key, &signed_data, &signed_len, &err);
	}
	if (r == KF_OK)
		r = check_and_save(kind, signed_data, signed_len, key, out, &written, &err);
	if (r == KF_OK)
		print_written(out, written, key);
	kf_package_free(written);
	kf_package_free(pkg);
	free(data);
	free(signed_data);
	EVP_PKEY_free(key);
	return r == KF_OK ? KF_EXIT_OK : kf_cli_fail(KF_PLUGIN_PROGRAM, "%s", err.message);
}
