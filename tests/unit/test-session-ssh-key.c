/* kefu: unit tests for SSH key generation, key files and pinned host keys. SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/session/ssh-key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");

	assert_non_null(file);
	assert_int_equal(fwrite(text, 1, strlen(text), file), strlen(text));
	assert_int_equal(fclose(file), 0);
}

static void generated_key_is_read_back_by_openssh(void **state)
{
	struct kf_ssh_key *key;
	char dir[] = "/tmp/kefu-key-XXXXXX", path[256], command[512], line[512];
	FILE *pipe;

	(void)state;
	assert_int_equal(kf_ssh_key_generate(&key, "kefu-test", NULL), KF_OK);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/id", dir);
	write_file(path, key->private_text);
	chmod(path, 0600);
	/* ssh-keygen -y derives the public key from the private file: the format must be right. */
	snprintf(command, sizeof(command), "ssh-keygen -y -f %s 2>&1", path);
	pipe = popen(command, "r");
	assert_non_null(pipe);
	assert_non_null(fgets(line, sizeof(line), pipe));
	pclose(pipe);
	line[strcspn(line, "\n")] = '\0';
	assert_int_equal(strncmp(line, key->public_line, strlen(line)), 0);
	assert_int_equal(strncmp(line, "ssh-ed25519 ", 12), 0);
	unlink(path);
	rmdir(dir);
	kf_ssh_key_free(key);
}

static void two_generated_keys_differ(void **state)
{
	struct kf_ssh_key *a, *b;

	(void)state;
	assert_int_equal(kf_ssh_key_generate(&a, "a", NULL), KF_OK);
	assert_int_equal(kf_ssh_key_generate(&b, "a", NULL), KF_OK);
	assert_string_not_equal(a->public_line, b->public_line);
	kf_ssh_key_free(a);
	kf_ssh_key_free(b);
}

static void key_made_by_ssh_keygen_loads(void **state)
{
	char dir[] = "/tmp/kefu-key-XXXXXX", path[256], command[512];
	struct kf_ssh_key *key;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tech", dir);
	snprintf(command, sizeof(command), "ssh-keygen -q -t ed25519 -N '' -C tech -f %s", path);
	assert_int_equal(system(command), 0);
	assert_int_equal(kf_ssh_key_load(&key, path, NULL), KF_OK);
	assert_non_null(strstr(key->private_text, "OPENSSH PRIVATE KEY"));
	assert_int_equal(strncmp(key->public_line, "ssh-ed25519 ", 12), 0);
	kf_ssh_key_free(key);
	snprintf(command, sizeof(command), "rm -rf %s", dir);
	assert_int_equal(system(command), 0);
}

static void missing_or_wrong_key_file_is_a_clear_error(void **state)
{
	char dir[] = "/tmp/kefu-key-XXXXXX", path[256], pub[256];
	struct kf_ssh_key *key;
	struct kf_error err;

	(void)state;
	assert_int_equal(kf_ssh_key_load(&key, "/nonexistent/key", &err), KF_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "/nonexistent/key"));
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	snprintf(pub, sizeof(pub), "%s/k.pub", dir);
	write_file(path, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n");
	write_file(pub, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ x\n");
	assert_int_equal(kf_ssh_key_load(&key, path, &err), KF_ERR_INVALID);
	assert_non_null(strstr(err.message, "not an OpenSSH private key"));
	assert_null(key);
	unlink(path);
	unlink(pub);
	rmdir(dir);
}

static void pinned_ed25519_line_parses_and_fingerprint_matches_openssh(void **state)
{
	/* A key line and the fingerprint `ssh-keygen -lf` printed for it. */
	const char *line =
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGY5mzyrRDY7JaDNnAo8mAsq+IuaJqnl4jnpi5roqtjh "
		"relay";
	uint8_t blob[KF_SSH_KEY_BLOB_MAX];
	size_t len;
	char fingerprint[64];

	(void)state;
	assert_int_equal(kf_ssh_key_parse_public(line, blob, &len, NULL), KF_OK);
	assert_int_equal(len, 51);
	kf_ssh_key_fingerprint(blob, len, fingerprint, sizeof(fingerprint));
	assert_string_equal(fingerprint, "SHA256:aQJ2BSccVr6+nxo/U9RxkCjvZBa9arEZjztoJpaPh1c");
}

static void rsa_and_malformed_pins_are_refused(void **state)
{
	uint8_t blob[KF_SSH_KEY_BLOB_MAX];
	size_t len;
	struct kf_error err;

	(void)state;
	assert_int_equal(kf_ssh_key_parse_public("ssh-rsa AAAAB3NzaC1yc2E=", blob, &len, &err),
			 KF_ERR_UNSUPPORTED);
	assert_int_equal(kf_ssh_key_parse_public("ssh-ed25519 !!!!", blob, &len, &err),
			 KF_ERR_INVALID);
	assert_int_equal(kf_ssh_key_parse_public("", blob, &len, &err), KF_ERR_UNSUPPORTED);
	/* An ECDSA blob presented under the Ed25519 name is refused. */
	assert_int_equal(kf_ssh_key_parse_public("ssh-ed25519 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAI",
						 blob, &len, &err),
			 KF_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generated_key_is_read_back_by_openssh),
		cmocka_unit_test(two_generated_keys_differ),
		cmocka_unit_test(key_made_by_ssh_keygen_loads),
		cmocka_unit_test(missing_or_wrong_key_file_is_a_clear_error),
		cmocka_unit_test(pinned_ed25519_line_parses_and_fingerprint_matches_openssh),
		cmocka_unit_test(rsa_and_malformed_pins_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
