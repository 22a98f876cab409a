/* kefu: SPAKE2 (RFC 9382) proof of the session code's secret, bound to TLS. SPDX-License-Identifier: MIT */
#include "proto/session/pake.h"
#include "proto/base/buffer.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>

#include <stdlib.h>
#include <string.h>

/* RFC 9382, section 6: the P-256 points M and N, whose discrete logs nobody knows. */
static const char point_m_hex[] =
	"02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f";
static const char point_n_hex[] =
	"03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49";

struct kf_pake {
	int is_party_a;
	EC_GROUP *group;
	BN_CTX *bn;
	BIGNUM *w;      /* password scalar */
	BIGNUM *secret; /* x (party A) or y (party B) */
	EC_POINT *share;
	char *identity_a;
	char *identity_b;
};

static EC_POINT *point_from_hex(const EC_GROUP *group, const char *hex, BN_CTX *bn)
{
	EC_POINT *point = EC_POINT_new(group);

	if (point != NULL && EC_POINT_hex2point(group, hex, point, bn) == NULL) {
		EC_POINT_free(point);
		return NULL;
	}
	return point;
}

static int point_bytes(const EC_GROUP *group, const EC_POINT *point, uint8_t *out, BN_CTX *bn)
{
	return EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, out,
				  KF_PAKE_SHARE_SIZE, bn) == KF_PAKE_SHARE_SIZE
		       ? KF_OK
		       : KF_ERR_INVALID;
}

/* w = SHA-256(label || len || context || secret) mod n. */
static int derive_w(struct kf_pake *pake, const char *secret, const uint8_t *context,
		    size_t context_len)
{
	static const char label[] = "kefu-spake2-w";
	uint8_t digest[SHA256_DIGEST_LENGTH];
	uint8_t length[8] = {0};
	struct kf_buf input = {0};
	BIGNUM *order = BN_new(), *value = NULL;
	int ok = 0;

	for (int i = 0; i < 8; i++)
		length[i] = (uint8_t)((uint64_t)context_len >> (8 * i));
	if (kf_buf_reserve(&input, sizeof(label) + sizeof(length) + context_len + strlen(secret)) ==
	    KF_OK) {
		kf_buf_append(&input, label, sizeof(label));
		kf_buf_append(&input, length, sizeof(length));
		kf_buf_append(&input, context, context_len);
		kf_buf_append(&input, secret, strlen(secret));
		SHA256(input.data, input.len, digest);
		value = BN_bin2bn(digest, sizeof(digest), NULL);
	}
	pake->w = BN_secure_new();
	if (order != NULL && value != NULL && pake->w != NULL &&
	    EC_GROUP_get_order(pake->group, order, pake->bn) == 1 &&
	    BN_nnmod(pake->w, value, order, pake->bn) == 1)
		ok = 1;
	OPENSSL_cleanse(digest, sizeof(digest));
	kf_buf_free_secret(&input);
	BN_clear_free(value);
	BN_free(order);
	return ok ? KF_OK : KF_ERR_NOMEM;
}

int kf_pake_new(struct kf_pake **out, int is_party_a, const char *secret, const uint8_t *context,
		size_t context_len, const char *identity_a, const char *identity_b,
		struct kf_error *err)
{
	struct kf_pake *pake;
	EC_POINT *blind = NULL;
	BIGNUM *order = NULL;
	int r = KF_ERR_NOMEM;

	*out = NULL;
	pake = calloc(1, sizeof(*pake));
	if (pake == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for the code proof");
	pake->is_party_a = is_party_a;
	pake->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	pake->bn = BN_CTX_secure_new();
	pake->identity_a = strdup(identity_a);
	pake->identity_b = strdup(identity_b);
	order = BN_new();
	if (pake->group == NULL || pake->bn == NULL || pake->identity_a == NULL ||
	    pake->identity_b == NULL || order == NULL ||
	    EC_GROUP_get_order(pake->group, order, pake->bn) != 1)
		goto fail;
	if ((r = derive_w(pake, secret, context, context_len)) != KF_OK)
		goto fail;
	r = KF_ERR_NOMEM;
	pake->secret = BN_secure_new();
	pake->share = EC_POINT_new(pake->group);
	blind = point_from_hex(pake->group, is_party_a ? point_m_hex : point_n_hex, pake->bn);
	/* share = secret * G + w * (M for A, N for B), secret uniform in [1, n-1]. */
	if (pake->secret == NULL || pake->share == NULL || blind == NULL ||
	    BN_priv_rand_range(pake->secret, order) != 1 || BN_is_zero(pake->secret) ||
	    EC_POINT_mul(pake->group, pake->share, pake->secret, blind, pake->w, pake->bn) != 1)
		goto fail;
	EC_POINT_free(blind);
	BN_free(order);
	*out = pake;
	return KF_OK;
fail:
	EC_POINT_free(blind);
	BN_free(order);
	kf_pake_free(pake);
	return kf_error_set(err, r, "the code proof could not start");
}

int kf_pake_share(const struct kf_pake *pake, uint8_t share[KF_PAKE_SHARE_SIZE])
{
	return point_bytes(pake->group, pake->share, share, pake->bn);
}

static int append_field(struct kf_buf *tt, const void *data, size_t len)
{
	uint8_t length[8];

	/* RFC 9382 frames every transcript field with its length, 8 bytes little-endian. */
	for (int i = 0; i < 8; i++)
		length[i] = (uint8_t)((uint64_t)len >> (8 * i));
	if (kf_buf_append(tt, length, sizeof(length)) != KF_OK)
		return KF_ERR_NOMEM;
	return kf_buf_append(tt, data, len);
}

static int hkdf_confirmation_keys(const uint8_t *ka, size_t ka_len, uint8_t out[32])
{
	EVP_PKEY_CTX *kdf = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	static const char info[] = "ConfirmationKeys";
	size_t out_len = 32;
	int ok;

	ok = kdf != NULL && EVP_PKEY_derive_init(kdf) == 1 &&
	     EVP_PKEY_CTX_set_hkdf_md(kdf, EVP_sha256()) == 1 &&
	     EVP_PKEY_CTX_set1_hkdf_key(kdf, ka, (int)ka_len) == 1 &&
	     EVP_PKEY_CTX_add1_hkdf_info(kdf, (const unsigned char *)info, (int)strlen(info)) ==
		     1 &&
	     EVP_PKEY_derive(kdf, out, &out_len) == 1 && out_len == 32;
	EVP_PKEY_CTX_free(kdf);
	return ok ? KF_OK : KF_ERR_NOMEM;
}

int kf_pake_finish(struct kf_pake *pake, const uint8_t *peer_share, size_t peer_share_len,
		   uint8_t mine[KF_PAKE_CONFIRM_SIZE], uint8_t expected[KF_PAKE_CONFIRM_SIZE],
		   struct kf_error *err)
{
	EC_POINT *peer = NULL, *peer_blind = NULL, *unblinded = NULL, *key = NULL;
	uint8_t my_bytes[KF_PAKE_SHARE_SIZE], peer_bytes[KF_PAKE_SHARE_SIZE];
	uint8_t key_bytes[KF_PAKE_SHARE_SIZE], w_bytes[32];
	uint8_t digest[SHA256_DIGEST_LENGTH], confirmation_keys[32];
	struct kf_buf tt = {0};
	unsigned int mac_len;
	int r = KF_ERR_NOMEM;

	if (peer_share_len != KF_PAKE_SHARE_SIZE)
		return kf_error_set(err, KF_ERR_INVALID,
				    "the other side's proof has the wrong size");
	peer = EC_POINT_new(pake->group);
	if (peer == NULL)
		goto out;
	if (EC_POINT_oct2point(pake->group, peer, peer_share, peer_share_len, pake->bn) != 1 ||
	    EC_POINT_is_at_infinity(pake->group, peer) ||
	    EC_POINT_is_on_curve(pake->group, peer, pake->bn) != 1) {
		r = kf_error_set(err, KF_ERR_INVALID,
				 "the other side's proof is not a valid point");
		goto out;
	}
	/* K = secret * (peer - w * (N if I am A, M if I am B)). */
	peer_blind =
		point_from_hex(pake->group, pake->is_party_a ? point_n_hex : point_m_hex, pake->bn);
	unblinded = EC_POINT_new(pake->group);
	key = EC_POINT_new(pake->group);
	if (peer_blind == NULL || unblinded == NULL || key == NULL ||
	    EC_POINT_mul(pake->group, unblinded, NULL, peer_blind, pake->w, pake->bn) != 1 ||
	    EC_POINT_invert(pake->group, unblinded, pake->bn) != 1 ||
	    EC_POINT_add(pake->group, unblinded, peer, unblinded, pake->bn) != 1 ||
	    EC_POINT_mul(pake->group, key, NULL, unblinded, pake->secret, pake->bn) != 1 ||
	    EC_POINT_is_at_infinity(pake->group, key))
		goto out;
	if (point_bytes(pake->group, pake->share, my_bytes, pake->bn) != KF_OK ||
	    point_bytes(pake->group, key, key_bytes, pake->bn) != KF_OK ||
	    BN_bn2binpad(pake->w, w_bytes, sizeof(w_bytes)) != sizeof(w_bytes))
		goto out;
	memcpy(peer_bytes, peer_share, sizeof(peer_bytes));
	/* TT = A, B, pA, pB, K, w: the same order on both sides. */
	if (kf_buf_reserve(&tt, 512) != KF_OK ||
	    append_field(&tt, pake->identity_a, strlen(pake->identity_a)) != KF_OK ||
	    append_field(&tt, pake->identity_b, strlen(pake->identity_b)) != KF_OK ||
	    append_field(&tt, pake->is_party_a ? my_bytes : peer_bytes, KF_PAKE_SHARE_SIZE) !=
		    KF_OK ||
	    append_field(&tt, pake->is_party_a ? peer_bytes : my_bytes, KF_PAKE_SHARE_SIZE) !=
		    KF_OK ||
	    append_field(&tt, key_bytes, sizeof(key_bytes)) != KF_OK ||
	    append_field(&tt, w_bytes, sizeof(w_bytes)) != KF_OK)
		goto out;
	SHA256(tt.data, tt.len, digest);
	/* Ke is digest[0..15] (unused: TLS already encrypts); Ka is digest[16..31]. */
	if (hkdf_confirmation_keys(digest + 16, 16, confirmation_keys) != KF_OK)
		goto out;
	/* KcA = confirmation_keys[0..15], KcB = confirmation_keys[16..31]. */
	if (HMAC(EVP_sha256(), confirmation_keys + (pake->is_party_a ? 0 : 16), 16, tt.data, tt.len,
		 mine, &mac_len) == NULL ||
	    HMAC(EVP_sha256(), confirmation_keys + (pake->is_party_a ? 16 : 0), 16, tt.data, tt.len,
		 expected, &mac_len) == NULL)
		goto out;
	r = KF_OK;
out:
	if (r == KF_ERR_NOMEM)
		kf_error_set(err, r, "the code proof could not be computed");
	OPENSSL_cleanse(key_bytes, sizeof(key_bytes));
	OPENSSL_cleanse(w_bytes, sizeof(w_bytes));
	OPENSSL_cleanse(digest, sizeof(digest));
	OPENSSL_cleanse(confirmation_keys, sizeof(confirmation_keys));
	kf_buf_free_secret(&tt);
	EC_POINT_clear_free(key);
	EC_POINT_clear_free(unblinded);
	EC_POINT_free(peer_blind);
	EC_POINT_free(peer);
	return r;
}

int kf_pake_confirm_equal(const uint8_t *received, size_t received_len,
			  const uint8_t expected[KF_PAKE_CONFIRM_SIZE])
{
	return received_len == KF_PAKE_CONFIRM_SIZE &&
	       CRYPTO_memcmp(received, expected, KF_PAKE_CONFIRM_SIZE) == 0;
}

void kf_pake_free(struct kf_pake *pake)
{
	if (pake == NULL)
		return;
	BN_clear_free(pake->w);
	BN_clear_free(pake->secret);
	EC_POINT_clear_free(pake->share);
	EC_GROUP_free(pake->group);
	BN_CTX_free(pake->bn);
	free(pake->identity_a);
	free(pake->identity_b);
	free(pake);
}
