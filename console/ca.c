/* kefu-console ca: the support CA and the technicians' credentials. SPDX-License-Identifier: MIT */
#include "console/ca-package.h"
#include "console/commands.h"
#include "proto/session/profile.h"
#include "proto/session/ssh-key.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROGRAM KF_CONSOLE_PROGRAM

static const struct kf_command ca_usage = {"ca", KF_CONSOLE_CA_USAGE, "", NULL};

/* A name for a certificate: letters, digits, spaces, '.', '-' and '_', 1 to 64 of them. */
static int is_valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64 || name[0] == ' ' || name[0] == '.')
		return 0;
	for (const char *c = name; *c != '\0'; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == ' ' || *c == '.' || *c == '-' || *c == '_'))
			return 0;
	return 1;
}

/* Writes PEM text through a temporary file and a rename, with the given mode. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *first, X509 *second)
{
	char temp[4096];
	FILE *file;
	int fd, ok;

	if (snprintf(temp, sizeof(temp), "%s.tmp", path) >= (int)sizeof(temp))
		return kf_cli_fail(PROGRAM, "path too long: %s", path);
	fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || (file = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return kf_cli_fail(PROGRAM, "cannot write %s: %s", path, strerror(errno));
	}
	ok = (key == NULL || PEM_write_PrivateKey(file, key, NULL, NULL, 0, NULL, NULL) == 1) &&
	     (first == NULL || PEM_write_X509(file, first) == 1) &&
	     (second == NULL || PEM_write_X509(file, second) == 1);
	ok = fflush(file) == 0 && fsync(fileno(file)) == 0 && ok;
	if (fclose(file) != 0 || !ok || rename(temp, path) != 0) {
		unlink(temp);
		return kf_cli_fail(PROGRAM, "cannot write %s", path);
	}
	return KF_EXIT_OK;
}

static int add_extension(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX context;
	X509_EXTENSION *extension;
	int ok;

	X509V3_set_ctx(&context, issuer, cert, NULL, NULL, 0);
	extension = X509V3_EXT_conf_nid(NULL, &context, nid, value);
	if (extension == NULL)
		return 0;
	ok = X509_add_ext(cert, extension, -1) == 1;
	X509_EXTENSION_free(extension);
	return ok;
}

/* A certificate for key, valid from now for days, signed by issuer_key (self when NULL). */
static X509 *make_certificate(EVP_PKEY *key, const char *common_name, const char *organisation,
			      X509 *issuer, EVP_PKEY *issuer_key, long days, int is_ca)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char serial[16];
	BIGNUM *serial_number = NULL;
	int ok;

	/* Random 127-bit serials, as the CA/Browser Forum asks of public CAs. */
	ok = cert != NULL && name != NULL && RAND_bytes(serial, sizeof(serial)) == 1;
	if (ok) {
		serial[0] &= 0x7f;
		serial_number = BN_bin2bn(serial, sizeof(serial), NULL);
		ok = serial_number != NULL &&
		     BN_to_ASN1_INTEGER(serial_number, X509_get_serialNumber(cert)) != NULL;
	}
	ok = ok && X509_set_version(cert, 2) == 1 &&
	     X509_gmtime_adj(X509_getm_notBefore(cert), -300) != NULL &&
	     X509_gmtime_adj(X509_getm_notAfter(cert), days * 86400L) != NULL &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)common_name, -1, -1, 0) == 1 &&
	     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					(const unsigned char *)organisation, -1, -1, 0) == 1 &&
	     X509_set_subject_name(cert, name) == 1 &&
	     X509_set_issuer_name(cert, issuer != NULL ? X509_get_subject_name(issuer) : name) ==
		     1 &&
	     X509_set_pubkey(cert, key) == 1;
	if (ok && is_ca)
		ok = add_extension(cert, cert, NID_basic_constraints,
				   "critical,CA:TRUE,pathlen:0") &&
		     add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") &&
		     add_extension(cert, cert, NID_subject_key_identifier, "hash");
	if (ok && !is_ca)
		ok = add_extension(cert, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
		     add_extension(cert, issuer, NID_key_usage, "critical,digitalSignature") &&
		     add_extension(cert, issuer, NID_ext_key_usage, "serverAuth") &&
		     add_extension(cert, issuer, NID_subject_key_identifier, "hash") &&
		     add_extension(cert, issuer, NID_authority_key_identifier, "keyid:always");
	/* Ed25519 signs the whole message: no digest is named. */
	ok = ok && X509_sign(cert, issuer_key != NULL ? issuer_key : key, NULL) > 0;
	BN_free(serial_number);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(cert);
		ERR_clear_error();
		return NULL;
	}
	return cert;
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *file = fopen(path, "re");
	EVP_PKEY *key;

	if (file == NULL)
		return NULL;
	key = PEM_read_PrivateKey(file, NULL, NULL, NULL);
	fclose(file);
	return key;
}

static X509 *read_certificate(const char *path)
{
	FILE *file = fopen(path, "re");
	X509 *cert;

	if (file == NULL)
		return NULL;
	cert = PEM_read_X509(file, NULL, NULL, NULL);
	fclose(file);
	return cert;
}

static void ca_paths(const char *dir, char *cert, char *key, size_t size)
{
	snprintf(cert, size, "%s/ca.pem", dir);
	snprintf(key, size, "%s/ca.key", dir);
}

static int ca_init(const char *dir, const char *organisation, long days)
{
	char cert_path[4096], key_path[4096], common_name[128];
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int code = KF_EXIT_FAILURE;

	if (organisation == NULL || !is_valid_name(organisation))
		return kf_cli_fail(PROGRAM, "--org needs the organisation's name (letters, digits, "
					    "spaces, '.', '-', '_')");
	ca_paths(dir, cert_path, key_path, sizeof(cert_path));
	if (access(cert_path, F_OK) == 0 || access(key_path, F_OK) == 0)
		return kf_cli_fail(PROGRAM, "%s already holds a CA; it is never overwritten", dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return kf_cli_fail(PROGRAM, "cannot create %s: %s", dir, strerror(errno));
	snprintf(common_name, sizeof(common_name), "%s support CA", organisation);
	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	cert = key != NULL ? make_certificate(key, common_name, organisation, NULL, NULL, days, 1)
			   : NULL;
	if (cert == NULL) {
		kf_cli_fail(PROGRAM, "could not make the CA certificate");
		goto out;
	}
	if (write_pem(key_path, 0600, key, NULL, NULL) != KF_EXIT_OK ||
	    write_pem(cert_path, 0644, NULL, cert, NULL) != KF_EXIT_OK)
		goto out;
	printf("Support CA for %s created:\n  %s (certificate: goes into the support profile)\n"
	       "  %s (private key: keep it offline)\n",
	       organisation, cert_path, key_path);
	code = KF_EXIT_OK;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return code;
}

static int organisation_of(X509 *cert, char *out, size_t size)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int index = X509_NAME_get_index_by_NID(name, NID_organizationName, -1);
	unsigned char *utf8 = NULL;
	int len;

	if (index < 0)
		return 0;
	len = ASN1_STRING_to_UTF8(&utf8,
				  X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
	if (len < 0)
		return 0;
	snprintf(out, size, "%.*s", len, utf8);
	OPENSSL_free(utf8);
	return 1;
}

static int ca_issue(const char *dir, const char *name, const char *out_dir, long days)
{
	char cert_path[4096], key_path[4096], out_cert[4200], out_key[4200], default_out[4096];
	char organisation[128];
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca_cert = NULL, *cert = NULL;
	int code = KF_EXIT_FAILURE;

	if (!is_valid_name(name))
		return kf_cli_fail(PROGRAM, "a technician's name may hold letters, digits, spaces, "
					    "'.', '-' and '_' (at most 64)");
	ca_paths(dir, cert_path, key_path, sizeof(cert_path));
	ca_cert = read_certificate(cert_path);
	ca_key = read_key(key_path);
	if (ca_cert == NULL || ca_key == NULL) {
		kf_cli_fail(PROGRAM, "no CA in %s (make one with 'kefu-console ca init')", dir);
		goto out;
	}
	if (X509_check_private_key(ca_cert, ca_key) != 1 ||
	    !organisation_of(ca_cert, organisation, sizeof(organisation))) {
		kf_cli_fail(PROGRAM, "the CA in %s is damaged: its key and certificate differ",
			    dir);
		goto out;
	}
	if (out_dir == NULL) {
		snprintf(default_out, sizeof(default_out), "%s/technicians", dir);
		out_dir = default_out;
	}
	if (mkdir(out_dir, 0700) != 0 && errno != EEXIST) {
		kf_cli_fail(PROGRAM, "cannot create %s: %s", out_dir, strerror(errno));
		goto out;
	}
	if (snprintf(out_cert, sizeof(out_cert), "%s/%s.pem", out_dir, name) >=
		    (int)sizeof(out_cert) ||
	    snprintf(out_key, sizeof(out_key), "%s/%s.key", out_dir, name) >=
		    (int)sizeof(out_key)) {
		kf_cli_fail(PROGRAM, "the path %s is too long", out_dir);
		goto out;
	}
	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	cert = key != NULL ? make_certificate(key, name, organisation, ca_cert, ca_key, days, 0)
			   : NULL;
	if (cert == NULL) {
		kf_cli_fail(PROGRAM, "could not make the technician's certificate");
		goto out;
	}
	if (write_pem(out_key, 0600, key, NULL, NULL) != KF_EXIT_OK ||
	    write_pem(out_cert, 0644, NULL, cert, ca_cert) != KF_EXIT_OK)
		goto out;
	printf("Credentials for %s of %s, valid %ld days:\n  %s\n  %s\n"
	       "Give both to the technician (kefu-console join --cert ... --key ...).\n",
	       name, organisation, days, out_cert, out_key);
	code = KF_EXIT_OK;
out:
	X509_free(cert);
	X509_free(ca_cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return code;
}

static char *read_text_file(const char *path)
{
	FILE *file = fopen(path, "re");
	char *text;
	size_t n;

	if (file == NULL)
		return NULL;
	text = calloc(1, 65537);
	n = text != NULL ? fread(text, 1, 65536, file) : 0;
	fclose(file);
	if (text != NULL && n == 65536) {
		free(text);
		return NULL;
	}
	return text;
}

static int ca_profile(const char *dir, const char *relay, const char *host_key,
		      const char *agent_user, const char *technician_user)
{
	char cert_path[4096], key_path[4096], organisation[128], host[256];
	const char *colon;
	char *pem = NULL, *text = NULL;
	struct kf_profile *check = NULL;
	struct kf_error err;
	X509 *cert = NULL;
	json_t *profile = NULL;
	unsigned long port = 22;
	int code = KF_EXIT_FAILURE;

	if (relay == NULL || host_key == NULL)
		return kf_cli_usage(PROGRAM, &ca_usage);
	colon = strrchr(relay, ':');
	if (colon != NULL) {
		char *end;

		port = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || port < 1 || port > 65535)
			return kf_cli_fail(PROGRAM, "--relay takes HOST or HOST:PORT");
	}
	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - relay) : (int)strlen(relay),
		 relay);
	ca_paths(dir, cert_path, key_path, sizeof(cert_path));
	cert = read_certificate(cert_path);
	pem = read_text_file(cert_path);
	if (cert == NULL || pem == NULL ||
	    !organisation_of(cert, organisation, sizeof(organisation))) {
		kf_cli_fail(PROGRAM, "no CA in %s (make one with 'kefu-console ca init')", dir);
		goto out;
	}
	profile = json_pack("{s:s, s:s, s:[{s:s, s:i, s:s, s:s, s:[s]}], s:s}", "schema",
			    "kefu.profile/1", "organisation", organisation, "relays", "host", host,
			    "port", (int)port, "agent_user", agent_user, "technician_user",
			    technician_user, "host_keys", host_key, "support_ca", pem);
	text = profile != NULL ? json_dumps(profile, JSON_INDENT(2)) : NULL;
	/* Print only what the helper will accept. */
	if (text == NULL || kf_profile_parse(text, strlen(text), &check, &err) != KF_OK) {
		kf_cli_fail(PROGRAM, "%s",
			    text == NULL ? "could not make the profile" : err.message);
		goto out;
	}
	printf("%s\n", text);
	code = KF_EXIT_OK;
out:
	kf_profile_free(check);
	free(text);
	json_decref(profile);
	free(pem);
	X509_free(cert);
	return code;
}

int kf_console_cmd_ca(int argc, char **argv)
{
	static const struct option options[] = {
		{"dir", required_argument, NULL, 'd'},
		{"org", required_argument, NULL, 'o'},
		{"days", required_argument, NULL, 'n'},
		{"out", required_argument, NULL, 'O'},
		{"relay", required_argument, NULL, 'r'},
		{"host-key", required_argument, NULL, 'k'},
		{"agent-user", required_argument, NULL, 'a'},
		{"technician-user", required_argument, NULL, 't'},
		{"name", required_argument, NULL, 'N'},
		{"profile", required_argument, NULL, 'p'},
		{"output", required_argument, NULL, 'w'},
		{"maintainer", required_argument, NULL, 'm'},
		{"helper", required_argument, NULL, 'H'},
		{"watch", required_argument, NULL, 'W'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ".", *organisation = NULL, *out_dir = NULL, *relay = NULL,
		   *host_key = NULL, *agent_user = "kefu-agent", *technician_user = "kefu-tech";
	const char *package_name = NULL, *profile_path = NULL, *output_dir = ".",
		   *maintainer = NULL, *helper_path = NULL;
	const char *action;
	bool is_watch_on = false;
	long days = -1;
	int opt;

	if (argc < 2)
		return kf_cli_usage(PROGRAM, &ca_usage);
	action = argv[1];
	optind = 2;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'o':
			organisation = optarg;
			break;
		case 'n': {
			char *end;

			days = strtol(optarg, &end, 10);
			if (*end != '\0' || days < 1 || days > 36500)
				return kf_cli_fail(PROGRAM, "--days takes 1 to 36500");
			break;
		}
		case 'O':
			out_dir = optarg;
			break;
		case 'r':
			relay = optarg;
			break;
		case 'k':
			host_key = optarg;
			break;
		case 'a':
			agent_user = optarg;
			break;
		case 't':
			technician_user = optarg;
			break;
		case 'N':
			package_name = optarg;
			break;
		case 'p':
			profile_path = optarg;
			break;
		case 'w':
			output_dir = optarg;
			break;
		case 'm':
			maintainer = optarg;
			break;
		case 'H':
			helper_path = optarg;
			break;
		case 'W':
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
				return kf_cli_fail(PROGRAM, "--watch takes on or off");
			is_watch_on = strcmp(optarg, "on") == 0;
			break;
		default:
			return kf_cli_usage(PROGRAM, &ca_usage);
		}
	}
	if (strcmp(action, "init") == 0 && optind == argc)
		return ca_init(dir, organisation, days > 0 ? days : 3650);
	if (strcmp(action, "issue") == 0 && optind == argc - 1)
		return ca_issue(dir, argv[optind], out_dir, days > 0 ? days : 365);
	if (strcmp(action, "profile") == 0 && optind == argc)
		return ca_profile(dir, relay, host_key, agent_user, technician_user);
	if (strcmp(action, "package") == 0 && optind == argc)
		return kf_console_ca_package(package_name, profile_path, output_dir, maintainer,
					     helper_path, is_watch_on);
	return kf_cli_usage(PROGRAM, &ca_usage);
}
