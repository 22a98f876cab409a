/* kefu-console ca package: the organisation's customer package. SPDX-License-Identifier: MIT */
#include "console/ca-package.h"
#include "console/commands.h"
#include "console/deb-control.h"
#include "proto/base/escape.h"
#include "proto/session/profile.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROGRAM          KF_CONSOLE_PROGRAM
#define PACKAGE_PREFIX   "kefu-helper-"
#define NAME_MAX_LEN     40
#define ORGANISATION_MAX 200
#define PROFILE_PATH     "etc/kefu/profile.json"
#define DPKG_DEB         "dpkg-deb"
#define DPKG_OUTPUT_MAX  4096

extern char **environ;

/* What a package name may add after "kefu-helper-": lower-case letters, digits and '-'. */
static bool is_valid_package_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > NAME_MAX_LEN || name[0] == '-' || name[len - 1] == '-')
		return false;
	for (const char *c = name; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return false;
	return true;
}

/* A value that goes into a control field: one line of printable text, nothing that ends it. */
static bool is_one_line(const char *text, size_t max)
{
	size_t len = strlen(text);

	if (len == 0 || len > max || text[0] == ' ')
		return false;
	for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/* The profile's bytes, at most KF_PROFILE_MAX_SIZE of them; NULL after a one-line error. */
static char *read_profile(const char *path, size_t *len)
{
	struct stat st;
	char *text;
	FILE *file = fopen(path, "re");

	if (file == NULL) {
		kf_cli_fail(PROGRAM, "cannot read the support profile %s: %s",
			    kf_escaped(path).text, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(file), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(file);
		kf_cli_fail(PROGRAM, "the support profile %s is not a file", kf_escaped(path).text);
		return NULL;
	}
	text = malloc(KF_PROFILE_MAX_SIZE + 1);
	*len = text != NULL ? fread(text, 1, KF_PROFILE_MAX_SIZE + 1, file) : 0;
	if (text == NULL || ferror(file) || *len > KF_PROFILE_MAX_SIZE) {
		fclose(file);
		free(text);
		kf_cli_fail(PROGRAM, "the support profile %s is larger than %d bytes or unreadable",
			    kf_escaped(path).text, KF_PROFILE_MAX_SIZE);
		return NULL;
	}
	fclose(file);
	return text;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[4096];
	int fd, ok;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	ok = write(fd, data, len) == (ssize_t)len && fchmod(fd, mode) == 0;
	return close(fd) == 0 && ok ? 0 : -1;
}

/* gzip -9n: the most compression, no name and no time in the header (as lintian asks). */
static int write_gzip(const char *dir, const char *name, const char *text, mode_t mode)
{
	struct archive *a = archive_write_new();
	struct archive_entry *entry = NULL;
	size_t capacity = strlen(text) + 1024, used = 0;
	char *out = malloc(capacity);
	int r = -1;

	if (a == NULL || out == NULL)
		goto out;
	if (archive_write_set_format_raw(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "gzip", "compression-level", "9") != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_open_memory(a, out, capacity, &used) != ARCHIVE_OK)
		goto out;
	entry = archive_entry_new();
	if (entry == NULL)
		goto out;
	archive_entry_set_filetype(entry, AE_IFREG);
	archive_entry_set_size(entry, (la_int64_t)strlen(text));
	if (archive_write_header(a, entry) != ARCHIVE_OK ||
	    archive_write_data(a, text, strlen(text)) != (la_ssize_t)strlen(text) ||
	    archive_write_close(a) != ARCHIVE_OK)
		goto out;
	r = write_file(dir, name, out, used, mode);
out:
	archive_entry_free(entry);
	archive_write_free(a);
	free(out);
	return r;
}

/* One line of md5sums for a file of the package: "HASH  PATH". */
static int md5_line(const char *root, const char *name, char *line, size_t size)
{
	unsigned char digest[EVP_MAX_MD_SIZE], buffer[8192];
	unsigned int digest_len = 0;
	char path[8400];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	FILE *file;
	size_t n, used;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	file = fopen(path, "re");
	ok = md != NULL && file != NULL && EVP_DigestInit_ex(md, EVP_md5(), NULL) == 1;
	while (ok && (n = fread(buffer, 1, sizeof(buffer), file)) > 0)
		ok = EVP_DigestUpdate(md, buffer, n) == 1;
	ok = ok && !ferror(file) && EVP_DigestFinal_ex(md, digest, &digest_len) == 1;
	if (file != NULL)
		fclose(file);
	EVP_MD_CTX_free(md);
	if (!ok || size < 2 * digest_len + strlen(name) + 4)
		return -1;
	for (used = 0; used < digest_len; used++)
		snprintf(line + 2 * used, 3, "%02x", digest[used]);
	snprintf(line + 2 * digest_len, size - 2 * digest_len, "  %s\n", name);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/*
 * Runs dpkg-deb with args (after the program's name; argv only, no shell). With out, its
 * standard output and error are kept there (at most size - 1 bytes); otherwise its output
 * is discarded. When it fails, the first line it said goes into the one-line error, after
 * what ("could not build the package").
 */
static int run_dpkg_deb(char *const *args, const char *what, char *out, size_t size)
{
	char program[] = DPKG_DEB, said[DPKG_OUTPUT_MAX + 1], *argv[8];
	posix_spawn_file_actions_t actions;
	size_t used = 0, count = 0;
	ssize_t n;
	int fds[2], status = 0, r;
	pid_t pid;

	argv[count++] = program;
	while (args[count - 1] != NULL && count < 7) {
		argv[count] = args[count - 1];
		count++;
	}
	argv[count] = NULL;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return kf_cli_fail(PROGRAM, "cannot run %s: %s", DPKG_DEB, strerror(errno));
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (out != NULL)
		posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
	else
		posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
	r = posix_spawnp(&pid, DPKG_DEB, &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(fds[1]);
	if (r != 0) {
		close(fds[0]);
		return kf_cli_fail(PROGRAM, "cannot run %s (it comes with dpkg): %s", DPKG_DEB,
				   strerror(r));
	}
	/* Read to the end so that dpkg-deb never blocks on a full pipe; keep the start. */
	while ((n = read(fds[0], said + used, DPKG_OUTPUT_MAX - used)) > 0 ||
	       (n < 0 && errno == EINTR)) {
		if (n > 0)
			used += (size_t)n;
		if (used == DPKG_OUTPUT_MAX) {
			char sink[4096];

			while (read(fds[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	close(fds[0]);
	said[used] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		said[strcspn(said, "\n")] = '\0';
		return kf_cli_fail(PROGRAM, "%s %s: %s", DPKG_DEB, what, kf_escaped(said).text);
	}
	if (out != NULL)
		snprintf(out, size, "%s", said);
	return KF_EXIT_OK;
}

/* The package's version: base's, then the time it was made, so that a newer one upgrades. */
static void package_version(const char *base, char *out, size_t size)
{
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	time_t now = time(NULL);
	struct tm tm;

	if (epoch != NULL && epoch[0] != '\0') {
		char *end;
		long long value = strtoll(epoch, &end, 10);

		if (*end == '\0' && value > 0)
			now = (time_t)value;
	}
	gmtime_r(&now, &tm);
	snprintf(out, size, "%s+%04d%02d%02d%02d%02d%02d", base, tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * A control field's extended description: the words of text in lines of at most 72
 * columns, each line starting with a space. A word longer than that (none of kefu's own)
 * stands on a line of its own.
 */
static void wrap_description(const char *text, char *out, size_t size)
{
	size_t used = 0, column = 0;
	const char *word = text;

	out[0] = '\0';
	while (*word != '\0') {
		size_t len = strcspn(word, " ");

		if (used + len + 3 >= size)
			break;
		if (column > 0 && column + 1 + len > 72) {
			out[used++] = '\n';
			column = 0;
		}
		out[used++] = ' ';
		column++;
		memcpy(out + used, word, len);
		used += len;
		column += len;
		word += len;
		while (*word == ' ')
			word++;
	}
	out[used++] = '\n';
	out[used] = '\0';
}

/* The kefu-helper package a bundle is made of: its control fields as dpkg-deb prints them. */
struct helper {
	char version[128];
	char architecture[32];
	char depends[2048];
	char recommends[1024];
	char suggests[1024];
	long installed_kib;
	char copyright[8192];
};

struct package {
	char name[64];
	char version[192];
	char architecture[32];
	char date[64];
	int year;
	const char *organisation;
	const char *maintainer;
	char staging[4096];
	struct helper *helper; /* NULL: a package that depends on kefu-helper */
	bool is_watch_on;      /* the organisation's policy: the daily check for every account */
};

/* Reads a small file of the staging tree whole into out; -1 when it is larger or absent. */
static int read_small(const char *dir, const char *name, char *out, size_t size)
{
	char path[4200];
	FILE *file;
	size_t n;

	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* Never through a link the unpacked package holds. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	file = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (file == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n = fread(out, 1, size, file);
	fclose(file);
	if (n == size)
		return -1;
	out[n] = '\0';
	return 0;
}

#define OVERRIDES     "usr/share/lintian/overrides"
#define OVERRIDES_MAX (64 * 1024)

/*
 * The helper's lintian overrides (why it reads dpkg's database, and so on) become this
 * package's: the file takes this package's name, and so does each line's package prefix.
 */
static int rename_overrides(struct package *p)
{
	char old[4300], *text, *copy, *line, *save = NULL;
	struct stat st;
	FILE *out;
	size_t len = 0;
	int r = -1;

	snprintf(old, sizeof(old), "%s/" OVERRIDES "/kefu-helper", p->staging);
	if (lstat(old, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(st.st_mode) || st.st_size > OVERRIDES_MAX)
		return -1;
	text = malloc(OVERRIDES_MAX + 1);
	copy = NULL;
	if (text == NULL ||
	    read_small(p->staging, OVERRIDES "/kefu-helper", text, OVERRIDES_MAX + 1) != 0 ||
	    (out = open_memstream(&copy, &len)) == NULL) {
		free(text);
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "kefu-helper", 11) == 0 && (line[11] == ':' || line[11] == ' '))
			fprintf(out, "%s%s\n", p->name, line + 11);
		else
			fprintf(out, "%s\n", line);
	if (fclose(out) == 0) {
		char dir[4300];

		snprintf(dir, sizeof(dir), "%s/" OVERRIDES, p->staging);
		r = write_file(dir, p->name, copy, len, 0644) == 0 && unlink(old) == 0 ? 0 : -1;
	}
	free(copy);
	free(text);
	return r;
}

/*
 * Unpacks the kefu-helper package at path into the staging folder (dpkg-deb -R, files and
 * DEBIAN/ both) and reads its fields, so that the organisation's package is the helper
 * and its profile in one file. Returns a kf_exit code after a one-line error.
 */
static int unpack_helper(struct package *p, char *path)
{
	char query[] = "--field", raw[] = "--raw-extract", fields[DPKG_OUTPUT_MAX + 1];
	char package[128], kib[32], from[4200], to[4200], file[4300];
	char f_package[] = "Package", f_version[] = "Version", f_arch[] = "Architecture",
	     f_depends[] = "Depends", f_recommends[] = "Recommends", f_suggests[] = "Suggests",
	     f_size[] = "Installed-Size";
	static const char *const own_dirs[] = {"DEBIAN",
					       "etc",
					       "etc/kefu",
					       "usr",
					       "usr/share",
					       "usr/share/doc",
					       "usr/share/doc/kefu-helper",
					       "usr/share/lintian",
					       "usr/share/lintian/overrides"};
	struct helper *h = p->helper;
	char *end;

	if (run_dpkg_deb((char *[]){query, path, f_package, f_version, f_arch, f_depends, NULL},
			 "could not read the kefu-helper package", fields,
			 sizeof(fields)) != KF_EXIT_OK)
		return KF_EXIT_FAILURE;
	kf_deb_control_field(fields, strlen(fields), "Package", package, sizeof(package));
	kf_deb_control_field(fields, strlen(fields), "Version", h->version, sizeof(h->version));
	kf_deb_control_field(fields, strlen(fields), "Architecture", h->architecture,
			     sizeof(h->architecture));
	kf_deb_control_field(fields, strlen(fields), "Depends", h->depends, sizeof(h->depends));
	if (strcmp(package, "kefu-helper") != 0)
		return kf_cli_fail(PROGRAM, "--helper takes the kefu-helper package; %s is %s",
				   kf_escaped(path).text,
				   package[0] != '\0' ? kf_escaped(package).text : "not one");
	if (run_dpkg_deb((char *[]){query, path, f_recommends, f_suggests, f_size, NULL},
			 "could not read the kefu-helper package", fields,
			 sizeof(fields)) != KF_EXIT_OK)
		return KF_EXIT_FAILURE;
	kf_deb_control_field(fields, strlen(fields), "Recommends", h->recommends,
			     sizeof(h->recommends));
	kf_deb_control_field(fields, strlen(fields), "Suggests", h->suggests, sizeof(h->suggests));
	kf_deb_control_field(fields, strlen(fields), "Installed-Size", kib, sizeof(kib));
	h->installed_kib = strtol(kib, &end, 10);
	if (h->version[0] == '\0' || h->architecture[0] == '\0' || *end != '\0' ||
	    strspn(h->version, "0123456789abcdefghijklmnopqrstuvwxyz.+~-:") != strlen(h->version) ||
	    strspn(h->architecture, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		    strlen(h->architecture))
		return kf_cli_fail(PROGRAM,
				   "the kefu-helper package %s has no valid version or "
				   "architecture",
				   kf_escaped(path).text);
	if (run_dpkg_deb((char *[]){raw, path, p->staging, NULL},
			 "could not unpack the kefu-helper package", NULL, 0) != KF_EXIT_OK)
		return KF_EXIT_FAILURE;
	/*
	 * Every folder this package writes in or renames must be a folder of the unpacked tree,
	 * never a link that leads out of it.
	 */
	for (size_t i = 0; i < sizeof(own_dirs) / sizeof(own_dirs[0]); i++) {
		struct stat st;

		snprintf(file, sizeof(file), "%s/%s", p->staging, own_dirs[i]);
		if (lstat(file, &st) == 0 ? !S_ISDIR(st.st_mode) : errno != ENOENT)
			return kf_cli_fail(PROGRAM,
					   "the kefu-helper package %s holds %s as something "
					   "other than a folder",
					   kf_escaped(path).text, own_dirs[i]);
	}
	/* Its documentation becomes this package's; control and md5sums are written anew. */
	snprintf(from, sizeof(from), "%s/usr/share/doc/kefu-helper", p->staging);
	snprintf(to, sizeof(to), "%s/usr/share/doc/%s", p->staging, p->name);
	if (read_small(from, "copyright", h->copyright, sizeof(h->copyright)) != 0 ||
	    rename(from, to) != 0)
		return kf_cli_fail(PROGRAM, "the kefu-helper package %s holds no copyright file",
				   kf_escaped(path).text);
	snprintf(file, sizeof(file), "%s/copyright", to);
	unlink(file);
	snprintf(file, sizeof(file), "%s/changelog.gz", to);
	unlink(file);
	snprintf(file, sizeof(file), "%s/DEBIAN/control", p->staging);
	unlink(file);
	if (rename_overrides(p) != 0)
		return kf_cli_fail(PROGRAM,
				   "the kefu-helper package %s holds lintian overrides that "
				   "cannot be carried over",
				   kf_escaped(path).text);
	return KF_EXIT_OK;
}

/* The helper's md5sums, for this package: its documentation under this package's name. */
static int helper_md5sums(struct package *p, char **out)
{
	char *text = malloc(1024 * 1024);

	if (text == NULL || read_small(p->staging, "DEBIAN/md5sums", text, 1024 * 1024) != 0) {
		free(text);
		return -1;
	}
	*out = kf_deb_md5sums_rename(text, strlen(text), "kefu-helper", p->name);
	free(text);
	if (*out != NULL) {
		/* The overrides file was renamed: stage_files adds its line anew. */
		char *at = strstr(*out, "  " OVERRIDES "/kefu-helper\n");

		if (at != NULL) {
			char *start = at, *end = at + strlen("  " OVERRIDES "/kefu-helper\n");

			while (start > *out && start[-1] != '\n')
				start--;
			memmove(start, end, strlen(end) + 1);
		}
	}
	return *out != NULL ? 0 : -1;
}

static int stage_files(struct package *p, const char *profile, size_t profile_len)
{
	char dir[4200], doc[4200], text[12288], line[512], *control = NULL, *md5sums = NULL;
	char synopsis[128], description[4200], conffiles[8192] = "", relations[4500] = "";
	const char *dirs[] = {"DEBIAN", "etc", "etc/kefu", "usr", "usr/share", "usr/share/doc"};
	struct helper *h = p->helper;
	long kib;
	int r = -1;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", p->staging, dirs[i]);
		if ((mkdir(dir, 0755) != 0 && (h == NULL || errno != EEXIST)) ||
		    chmod(dir, 0755) != 0)
			return -1;
	}
	snprintf(doc, sizeof(doc), "%s/usr/share/doc/%s", p->staging, p->name);
	if ((mkdir(doc, 0755) != 0 && (h == NULL || errno != EEXIST)) || chmod(doc, 0755) != 0 ||
	    write_file(p->staging, PROFILE_PATH, profile, profile_len, 0644) != 0)
		return -1;
	if (h == NULL)
		snprintf(text, sizeof(text),
			 "%s: the support profile of %s for kefu-helper.\n\n"
			 "Copyright: %d %s\n\n"
			 "The profile names the relays of %s and their host keys, its support CA "
			 "and\nthe publishers of plugins and firmware it trusts. kefu itself is in "
			 "the\npackage kefu-helper (MIT licence, "
			 "/usr/share/doc/kefu-helper/copyright).\n",
			 p->name, p->organisation, p->year, p->organisation, p->organisation);
	else
		snprintf(text, sizeof(text),
			 "%s: kefu-helper with the support profile of %s.\n\n"
			 "The support profile (/etc/kefu/profile.json):\n"
			 "Copyright: %d %s\n\n"
			 "kefu-helper, as its package says:\n\n%s",
			 p->name, p->organisation, p->year, p->organisation, h->copyright);
	if (write_file(doc, "copyright", text, strlen(text), 0644) != 0)
		return -1;
	snprintf(text, sizeof(text),
		 "%s (%s) unstable; urgency=medium\n\n"
		 "  * The support profile of %s%s.\n\n"
		 " -- %s  %s\n",
		 p->name, p->version, p->organisation, h != NULL ? ", with kefu-helper" : "",
		 p->maintainer, p->date);
	if (write_gzip(doc, "changelog.gz", text, 0644) != 0)
		return -1;
	/* The conffile stays out of md5sums, as dh_md5sums leaves it out. */
	if (h != NULL) {
		if (helper_md5sums(p, &md5sums) != 0)
			return -1;
		if (read_small(p->staging, "DEBIAN/conffiles", conffiles, sizeof(conffiles) - 64) !=
		    0)
			conffiles[0] = '\0';
		snprintf(dir, sizeof(dir), "%s/DEBIAN/conffiles", p->staging);
		unlink(dir);
		snprintf(dir, sizeof(dir), "%s/DEBIAN/md5sums", p->staging);
		unlink(dir);
	} else {
		md5sums = calloc(1, 1);
	}
	strcat(conffiles, "/" PROFILE_PATH "\n");
	for (int i = 0; i < 3 && md5sums != NULL; i++) {
		char *longer;

		if (i == 2) {
			struct stat st;

			snprintf(dir, sizeof(dir), "%s/" OVERRIDES "/%s", p->staging, p->name);
			if (lstat(dir, &st) != 0)
				break;
			snprintf(dir, sizeof(dir), OVERRIDES "/%s", p->name);
		} else
			snprintf(dir, sizeof(dir), "usr/share/doc/%s/%s", p->name,
				 i == 0 ? "changelog.gz" : "copyright");
		if (md5_line(p->staging, dir, line, sizeof(line)) != 0 ||
		    asprintf(&longer, "%s%s", md5sums, line) < 0) {
			free(md5sums);
			return -1;
		}
		free(md5sums);
		md5sums = longer;
	}
	if (md5sums == NULL ||
	    write_file(p->staging, "DEBIAN/md5sums", md5sums, strlen(md5sums), 0644) != 0 ||
	    write_file(p->staging, "DEBIAN/conffiles", conffiles, strlen(conffiles), 0644) != 0) {
		free(md5sums);
		return -1;
	}
	free(md5sums);
	/* A control field's lines stay within 80 columns whatever the organisation's name. */
	if (strlen(p->organisation) <= 40)
		snprintf(synopsis, sizeof(synopsis), "%s of %s",
			 h != NULL ? "kefu-helper with the support profile"
				   : "support profile for kefu-helper",
			 p->organisation);
	else
		snprintf(synopsis, sizeof(synopsis), "%s",
			 h != NULL ? "kefu-helper with an organisation's support profile"
				   : "support profile for kefu-helper");
	snprintf(text, sizeof(text),
		 "%s the support profile of %s as /etc/kefu/profile.json, where kefu-helper "
		 "reads it: the relays its technicians meet customers through and their host "
		 "keys, the support CA that issues the technicians' certificates, and the "
		 "publishers of plugins and firmware it trusts.%s%s",
		 h != NULL ? "kefu-helper, the customer's side of kefu, in one package with"
			   : "Installs",
		 p->organisation,
		 h != NULL ? " It takes the place of the kefu-helper package." : "",
		 p->is_watch_on ? " By the organisation's policy it turns kefu's daily check "
				  "(kefu-watch.timer) on for every account; one person turns it "
				  "off with kefu-agentd watch --disable."
				: "");
	wrap_description(text, description, sizeof(description));
	/* As dpkg-gencontrol counts: a KiB or part of one per file (three), one per folder (six).
	 */
	kib = (long)((profile_len + 1023) / 1024) + 2 + 6 + (h != NULL ? h->installed_kib : 0);
	if (h == NULL)
		snprintf(relations, sizeof(relations),
			 "Depends: kefu-helper (>= %s)\n"
			 "Provides: kefu-profile\n"
			 "Conflicts: kefu-profile\n"
			 "Replaces: kefu-profile\n",
			 KF_VERSION);
	else {
		size_t used = 0;

		/* The fields fit: each is bounded well below the sum of relations' size. */
		if (h->depends[0] != '\0')
			used += (size_t)snprintf(relations + used, sizeof(relations) - used,
						 "Depends: %s\n", h->depends);
		if (h->recommends[0] != '\0')
			used += (size_t)snprintf(relations + used, sizeof(relations) - used,
						 "Recommends: %s\n", h->recommends);
		if (h->suggests[0] != '\0')
			used += (size_t)snprintf(relations + used, sizeof(relations) - used,
						 "Suggests: %s\n", h->suggests);
		snprintf(relations + used, sizeof(relations) - used,
			 "Provides: kefu-helper (= %s), kefu-profile\n"
			 "Conflicts: kefu-helper, kefu-profile\n"
			 "Replaces: kefu-helper, kefu-profile\n",
			 h->version);
	}
	if (asprintf(&control,
		     "Package: %s\n"
		     "Version: %s\n"
		     "Architecture: %s\n"
		     "Maintainer: %s\n"
		     "Installed-Size: %ld\n"
		     "%s"
		     "Section: admin\n"
		     "Priority: optional\n"
		     "Description: %s\n"
		     "%s",
		     p->name, p->version, p->architecture, p->maintainer, kib, relations, synopsis,
		     description) < 0)
		return -1;
	r = write_file(p->staging, "DEBIAN/control", control, strlen(control), 0644);
	free(control);
	return r;
}

/*
 * The organisation's policy as maintainer scripts. The postinst turns the user timer on for
 * every account with kefu's own switch, `kefu-agentd watch --enable --all-users` (systemd's
 * global enablement: systemctl --global enable, the link
 * /etc/systemd/user/timers.target.wants/kefu-watch.timer), at each installation and upgrade:
 * the package is the policy. deb-systemd-helper is not used for it: it enables a unit only
 * as the distribution's default (systemctl preset) and not at all once kefu-helper's own
 * scripts recorded the timer as disabled. The postrm takes away exactly that link, on remove
 * as on purge; each account's own choice (a mask, a link of its own) stays. Both honour
 * DPKG_ROOT, as dpkg's maintainer scripts must.
 */
#define WATCH_LINK        "/etc/systemd/user/timers.target.wants/kefu-watch.timer"
#define SCRIPT_END        "KEFU_HELPER_SCRIPT"
#define HELPER_SCRIPT_MAX (64 * 1024)

static void watch_postinst(FILE *out, const char *package)
{
	fprintf(out,
		"if [ \"$1\" = configure ]; then\n"
		"\tif command -v kefu-agentd >/dev/null; then\n"
		"\t\tkefu-agentd watch --enable --all-users ||\n"
		"\t\t\techo \"%s: the daily check was not turned on for every account\" >&2\n"
		"\tfi\n"
		"fi\n",
		package);
}

static void watch_postrm(FILE *out, const char *package)
{
	(void)package;
	fputs("case \"$1\" in\n"
	      "remove | purge)\n"
	      "\tlink=\"${DPKG_ROOT:-}" WATCH_LINK "\"\n"
	      "\tif [ -L \"$link\" ]; then\n"
	      "\t\trm -f \"$link\"\n"
	      "\t\trmdir \"${link%/*}\" 2>/dev/null || true\n"
	      "\tfi\n"
	      "\t;;\n"
	      "esac\n",
	      out);
}

/*
 * Writes DEBIAN/NAME: the helper's own script of that name (when it has one) run first as
 * it was written, then the policy's part. The helper's script is kept whole in a here
 * document and run by sh with the same arguments and environment, so nothing of it is
 * rewritten; one that is not a /bin/sh script, or that holds the here document's end
 * line, is refused rather than merged.
 */
static int stage_watch_script(struct package *p, const char *name,
			      void (*policy)(FILE *out, const char *package), const char *about)
{
	char path[4300], rel[64], *own = NULL, *text = NULL;
	size_t len = 0;
	struct stat st;
	FILE *out;
	int r = KF_EXIT_FAILURE;

	snprintf(rel, sizeof(rel), "DEBIAN/%s", name);
	snprintf(path, sizeof(path), "%s/%s", p->staging, rel);
	if (lstat(path, &st) == 0) {
		own = malloc(HELPER_SCRIPT_MAX + 1);
		if (own == NULL || !S_ISREG(st.st_mode) ||
		    read_small(p->staging, rel, own, HELPER_SCRIPT_MAX + 1) != 0) {
			kf_cli_fail(PROGRAM, "the kefu-helper package's %s cannot be read", name);
			goto out;
		}
		if (strncmp(own, "#!/bin/sh\n", 10) != 0 ||
		    strstr(own, "\n" SCRIPT_END "\n") != NULL) {
			kf_cli_fail(PROGRAM,
				    "--watch on cannot be joined with the kefu-helper package's "
				    "own %s (not a /bin/sh script kefu can keep whole)",
				    name);
			goto out;
		}
		if (unlink(path) != 0) {
			kf_cli_fail(PROGRAM, "cannot replace the package's %s: %s", name,
				    strerror(errno));
			goto out;
		}
	}
	out = open_memstream(&text, &len);
	if (out == NULL) {
		kf_cli_fail(PROGRAM, "out of memory");
		goto out;
	}
	fprintf(out, "#!/bin/sh\n# %s: %s\nset -e\n\n", p->name, about);
	if (own != NULL)
		fprintf(out,
			"# kefu-helper's own %s, run first as it was written.\n"
			"kefu_helper_script=$(cat <<'" SCRIPT_END "'\n%s%s" SCRIPT_END "\n)\n"
			"sh -c \"$kefu_helper_script\" \"$0\" \"$@\"\n\n",
			name, own, own[0] != '\0' && own[strlen(own) - 1] == '\n' ? "" : "\n");
	policy(out, p->name);
	fputs("\nexit 0\n", out);
	if (fclose(out) != 0 || text == NULL) {
		kf_cli_fail(PROGRAM, "out of memory");
		goto out;
	}
	if (write_file(p->staging, rel, text, len, 0755) != 0) {
		kf_cli_fail(PROGRAM, "cannot write the package's %s: %s", name, strerror(errno));
		goto out;
	}
	r = KF_EXIT_OK;
out:
	free(own);
	free(text);
	return r;
}

static int stage_watch_scripts(struct package *p)
{
	if (stage_watch_script(p, "postinst", watch_postinst,
			       "the organisation's policy turns kefu's daily check "
			       "(kefu-watch.timer)\n# on for every account. One person turns it "
			       "off with: kefu-agentd watch --disable") != KF_EXIT_OK)
		return KF_EXIT_FAILURE;
	return stage_watch_script(
		p, "postrm", watch_postrm,
		"the daily check for every account goes with the package: the "
		"link its\n# postinst made is taken away; what each account chose "
		"itself stays.");
}

int kf_console_ca_package(const char *name, const char *profile_path, const char *output_dir,
			  const char *maintainer, const char *helper_path, bool is_watch_on)
{
	char owner[] = "--root-owner-group", build[] = "--build", helper_copy[4096];
	struct helper helper = {0};
	char message[2 * KF_ERROR_MESSAGE_SIZE], output[4096] = "", partial[4096] = "";
	char default_maintainer[300];
	struct package p = {0};
	struct kf_profile *profile = NULL;
	struct kf_error err;
	struct stat st;
	size_t profile_len = 0;
	char *text = NULL;
	time_t now;
	struct tm tm;
	int code = KF_EXIT_FAILURE;

	if (name == NULL || !is_valid_package_name(name))
		return kf_cli_fail(PROGRAM,
				   "--name takes what follows \"" PACKAGE_PREFIX
				   "\" in the package's name: lower-case letters, digits "
				   "and '-', at most %d",
				   NAME_MAX_LEN);
	if (profile_path == NULL)
		return kf_cli_fail(PROGRAM, "--profile names the support profile the package "
					    "carries (make one with 'kefu-console ca profile')");
	if (maintainer != NULL &&
	    (!is_one_line(maintainer, 200) || strchr(maintainer, '<') == NULL ||
	     maintainer[strlen(maintainer) - 1] != '>'))
		return kf_cli_fail(PROGRAM, "--maintainer takes one line: 'Name <address>'");
	if (stat(output_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return kf_cli_fail(PROGRAM, "the output folder %s does not exist",
				   kf_escaped(output_dir).text);
	text = read_profile(profile_path, &profile_len);
	if (text == NULL)
		return KF_EXIT_FAILURE;
	/* Package only what the helper will accept, checked by the helper's own parser. */
	if (kf_profile_parse(text, profile_len, &profile, &err) != KF_OK) {
		kf_escape(err.message, strlen(err.message), message, sizeof(message));
		kf_cli_fail(PROGRAM, "the support profile %s is refused: %s",
			    kf_escaped(profile_path).text, message);
		goto out;
	}
	if (profile->relay_count == 0 || profile->support_ca_pem == NULL ||
	    profile->support_ca_pem[0] == '\0') {
		kf_cli_fail(PROGRAM, "the support profile %s names no relay or no support CA",
			    kf_escaped(profile_path).text);
		goto out;
	}
	if (!is_one_line(profile->organisation, ORGANISATION_MAX)) {
		kf_cli_fail(PROGRAM,
			    "the profile's organisation must be one line of at most %d bytes "
			    "without control characters: %s",
			    ORGANISATION_MAX, kf_escaped(profile->organisation).text);
		goto out;
	}
	snprintf(p.name, sizeof(p.name), PACKAGE_PREFIX "%s", name);
	p.is_watch_on = is_watch_on;
	if (helper_path != NULL) {
		/* Read it before anything is written, so that a wrong file costs nothing. */
		struct stat helper_st;

		if (stat(helper_path, &helper_st) != 0 || !S_ISREG(helper_st.st_mode) ||
		    snprintf(helper_copy, sizeof(helper_copy), "%s", helper_path) >=
			    (int)sizeof(helper_copy)) {
			kf_cli_fail(PROGRAM, "--helper names no file: %s",
				    kf_escaped(helper_path).text);
			goto out;
		}
		p.helper = &helper;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	p.year = tm.tm_year + 1900;
	strftime(p.date, sizeof(p.date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	p.organisation = profile->organisation;
	/* .invalid never receives mail (RFC 2606): a real address comes with --maintainer. */
	snprintf(default_maintainer, sizeof(default_maintainer), "%s <%s@kefu.invalid>",
		 profile->organisation, p.name);
	p.maintainer = maintainer != NULL ? maintainer : default_maintainer;
	if (snprintf(p.staging, sizeof(p.staging), "%s/.%s.XXXXXX", output_dir, p.name) >=
	    (int)sizeof(p.staging)) {
		kf_cli_fail(PROGRAM, "the output folder's path is too long");
		goto out;
	}
	if (mkdtemp(p.staging) == NULL) {
		kf_cli_fail(PROGRAM, "cannot write in %s: %s", kf_escaped(output_dir).text,
			    strerror(errno));
		p.staging[0] = '\0';
		goto out;
	}
	if (p.helper != NULL && unpack_helper(&p, helper_copy) != KF_EXIT_OK)
		goto out;
	package_version(p.helper != NULL ? helper.version : KF_VERSION, p.version,
			sizeof(p.version));
	snprintf(p.architecture, sizeof(p.architecture), "%s",
		 p.helper != NULL ? helper.architecture : "all");
	if (snprintf(output, sizeof(output), "%s/%s_%s_%s.deb", output_dir, p.name, p.version,
		     p.architecture) >= (int)sizeof(output) ||
	    snprintf(partial, sizeof(partial), "%s/.%s_%s_%s.deb.partial", output_dir, p.name,
		     p.version, p.architecture) >= (int)sizeof(partial)) {
		kf_cli_fail(PROGRAM, "the output folder's path is too long");
		goto out;
	}
	if (chmod(p.staging, 0755) != 0 || stage_files(&p, text, profile_len) != 0) {
		kf_cli_fail(PROGRAM, "cannot write the package's files in %s: %s",
			    kf_escaped(output_dir).text, strerror(errno));
		goto out;
	}
	if (p.is_watch_on && stage_watch_scripts(&p) != KF_EXIT_OK)
		goto out;
	if (run_dpkg_deb((char *[]){owner, build, p.staging, partial, NULL},
			 "could not build the package", NULL, 0) != KF_EXIT_OK)
		goto out;
	if (rename(partial, output) != 0) {
		kf_cli_fail(PROGRAM, "cannot write %s: %s", kf_escaped(output).text,
			    strerror(errno));
		goto out;
	}
	if (p.helper != NULL)
		printf("Package for %s, with kefu-helper inside: %s\n"
		       "Customers install this one file (apt installs the libraries it needs):\n"
		       "  sudo apt install ./%s\n",
		       profile->organisation, output, strrchr(output, '/') + 1);
	else
		printf("Package for %s: %s\n"
		       "Offer it on the support page beside kefu-helper; customers install both "
		       "with\n  sudo apt install ./kefu-helper_%s_*.deb ./%s\n",
		       profile->organisation, output, KF_VERSION, strrchr(output, '/') + 1);
	if (p.is_watch_on)
		printf("Installed, it turns kefu's daily check on for every account of the "
		       "computer; one person turns it off with: kefu-agentd watch --disable\n");
	code = KF_EXIT_OK;
out:
	if (code != KF_EXIT_OK && partial[0] != '\0')
		unlink(partial);
	if (p.staging[0] != '\0')
		nftw(p.staging, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	kf_profile_free(profile);
	free(text);
	return code;
}
