/* Test PKI generation with the OpenSSL 3 API. See pki.h for the inventory. */
#include "tests/tls/support/pki.h"
#include "tests/tls/support/rsa_keys.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY (24L * 3600L)

struct tpki_issuer {
	X509 *cert;
	EVP_PKEY *key;
};

struct tpki_leaf {
	const char *name;
	bool rsa;
	const char *cn;
	const char *san; /* NULL: no subjectAltName */
	long serial;
	long not_after_days; /* negative: already expired */
};

static const struct tpki_leaf tpki_leaves[] = {
    {"server-rsa", true, "sip.acme.co", "DNS:sip.acme.co,DNS:alt.acme.co", 100, 365},
    {"server-ec", false, "sip.acme.co", "DNS:sip.acme.co,DNS:alt.acme.co", 101, 365},
    {"wildcard", false, "acme wildcard", "DNS:*.acme.co", 102, 365},
    {"cn-only", false, "cnonly.acme.co", NULL, 103, 365},
    {"ip", false, "ipcn.acme.co", "DNS:ip.acme.co,IP:127.0.0.1,IP:::1", 104, 365},
    {"expired", false, "expired.acme.co", "DNS:expired.acme.co", 105, -1},
    {"revoked", false, "revoked.acme.co", "DNS:revoked.acme.co", 106, 365},
    {"beta", true, "sip.beta.net", "DNS:sip.beta.net", 107, 365},
    {"client", false, "client.acme.co", "DNS:client.acme.co", 108, 365},
    {"client-cn", false, "pbx1.tenant.acme.co", NULL, 109, 365},
    {"client-other", false, "rogue.example.net", "DNS:rogue.example.net", 110, 365},
};
#define TPKI_REVOKED_SERIAL 106

const char *tpki_path(const struct tpki *pki, const char *file)
{
	static char bufs[16][256];
	static unsigned next;
	char *b = bufs[next++ % 16];

	if (snprintf(b, sizeof(bufs[0]), "%s/%s", pki->dir, file) >= (int)sizeof(bufs[0]))
		abort(); /* a test PKI lives under a short temporary directory */
	return b;
}

static int tpki_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	if (!ext)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* a certificate for `key`; issuer NULL means self-signed */
static X509 *tpki_cert(EVP_PKEY *key, const char *cn, const char *san, const struct tpki_issuer *is,
                       long serial, bool ca, long not_after_days)
{
	X509 *c = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509 *issuer_cert;
	EVP_PKEY *issuer_key;
	int bad = 0;

	if (!c || !name)
		goto fail;
	X509_set_version(c, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"siptlsd tests",
	                           -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(c, name);
	issuer_cert = is ? is->cert : c;
	issuer_key = is ? is->key : key;
	X509_set_issuer_name(c, X509_get_subject_name(issuer_cert));
	/* an expired certificate was valid for the 30 days before yesterday */
	X509_gmtime_adj(X509_getm_notBefore(c), not_after_days < 0 ? -31 * DAY : -DAY);
	X509_gmtime_adj(X509_getm_notAfter(c), not_after_days * DAY);
	X509_set_pubkey(c, key);
	bad |= tpki_add_ext(c, issuer_cert, NID_subject_key_identifier, "hash");
	if (is)
		bad |= tpki_add_ext(c, issuer_cert, NID_authority_key_identifier, "keyid:always");
	if (ca) {
		bad |= tpki_add_ext(c, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
		bad |= tpki_add_ext(c, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		bad |= tpki_add_ext(c, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
	}
	if (san)
		bad |= tpki_add_ext(c, issuer_cert, NID_subject_alt_name, san);
	if (bad || !X509_sign(c, issuer_key, EVP_sha256()))
		goto fail;
	X509_NAME_free(name);
	return c;
fail:
	X509_NAME_free(name);
	X509_free(c);
	return NULL;
}

static int tpki_write_certs(const struct tpki *pki, const char *file, X509 *a, X509 *b)
{
	FILE *f = fopen(tpki_path(pki, file), "w");
	int ok;

	if (!f)
		return -1;
	ok = PEM_write_X509(f, a) && (!b || PEM_write_X509(f, b));
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int tpki_write_key(const struct tpki *pki, const char *file, EVP_PKEY *key)
{
	FILE *f = fopen(tpki_path(pki, file), "w");
	int ok;

	if (!f)
		return -1;
	ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* writes "<name>.crt" (cert + issuer chain) and "<name>.key" */
static int tpki_write_pair(const struct tpki *pki, const char *name, X509 *c, X509 *chain,
                           EVP_PKEY *key)
{
	char crt[64], keyf[64];

	snprintf(crt, sizeof(crt), "%s.crt", name);
	snprintf(keyf, sizeof(keyf), "%s.key", name);
	return tpki_write_certs(pki, crt, c, chain) || tpki_write_key(pki, keyf, key) ? -1 : 0;
}

static X509_CRL *tpki_crl(const struct tpki_issuer *is, long revoked_serial)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();

	if (!crl || !t)
		goto fail;
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(is->cert));
	X509_gmtime_adj(t, -DAY);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 30 * DAY);
	X509_CRL_set1_nextUpdate(crl, t);
	if (revoked_serial > 0) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *serial = ASN1_INTEGER_new();

		ASN1_INTEGER_set(serial, revoked_serial);
		X509_REVOKED_set_serialNumber(r, serial);
		X509_gmtime_adj(t, -DAY / 2);
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(serial);
	}
	X509_CRL_sort(crl);
	if (!X509_CRL_sign(crl, is->key, EVP_sha256()))
		goto fail;
	ASN1_TIME_free(t);
	return crl;
fail:
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return NULL;
}

static int tpki_write_crls(const struct tpki *pki, const struct tpki_issuer *root,
                           const struct tpki_issuer *inter)
{
	X509_CRL *a = tpki_crl(root, 0), *b = tpki_crl(inter, TPKI_REVOKED_SERIAL);
	FILE *f = fopen(tpki_path(pki, "crl.pem"), "w");
	int ok = a && b && f && PEM_write_X509_CRL(f, a) && PEM_write_X509_CRL(f, b);

	if (f && fclose(f) != 0)
		ok = 0;
	X509_CRL_free(a);
	X509_CRL_free(b);
	return ok ? 0 : -1;
}

/* one of the fixed RSA keys (rsa_keys.h): generating them per test was most of the run time */
static EVP_PKEY *tpki_rsa_key(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	return k;
}

static int tpki_make_leaf(const struct tpki *pki, const struct tpki_leaf *l,
                          const struct tpki_issuer *is)
{
	EVP_PKEY *key = l->rsa ? tpki_rsa_key(tpki_rsa_key_leaf) : EVP_EC_gen("P-256");
	X509 *c =
	    key ? tpki_cert(key, l->cn, l->san, is, l->serial, false, l->not_after_days) : NULL;
	int rc = c ? tpki_write_pair(pki, l->name, c, is->cert, key) : -1;

	X509_free(c);
	EVP_PKEY_free(key);
	return rc;
}

static void tpki_issuer_free(struct tpki_issuer *is)
{
	X509_free(is->cert);
	EVP_PKEY_free(is->key);
}

static int tpki_make_unknown(const struct tpki *pki)
{
	struct tpki_issuer u = {.key = EVP_EC_gen("P-256")};
	static const struct tpki_leaf leaf = {"unknown",         false, "sip.acme.co",
	                                      "DNS:sip.acme.co", 200,   365};
	int rc = -1;

	u.cert = u.key ? tpki_cert(u.key, "Unknown CA", NULL, NULL, 1, true, 3650) : NULL;
	if (u.cert && tpki_write_pair(pki, "unknown-ca", u.cert, NULL, u.key) == 0)
		rc = tpki_make_leaf(pki, &leaf, &u);
	tpki_issuer_free(&u);
	return rc;
}

int tpki_create(struct tpki *pki)
{
	const char *tmp = getenv("TMPDIR");
	struct tpki_issuer root = {0}, inter = {0};
	int rc = -1;

	snprintf(pki->dir, sizeof(pki->dir), "%s/siptls-pki-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(pki->dir))
		return -1;
	root.key = tpki_rsa_key(tpki_rsa_key_root);
	inter.key = EVP_EC_gen("P-256");
	if (!root.key || !inter.key)
		goto out;
	root.cert = tpki_cert(root.key, "Test Root CA", NULL, NULL, 1, true, 3650);
	inter.cert = root.cert
	                 ? tpki_cert(inter.key, "Test Intermediate CA", NULL, &root, 2, true, 3650)
	                 : NULL;
	if (!inter.cert || tpki_write_pair(pki, "ca", root.cert, NULL, root.key) ||
	    tpki_write_pair(pki, "int", inter.cert, NULL, inter.key) ||
	    tpki_write_crls(pki, &root, &inter))
		goto out;
	for (size_t i = 0; i < sizeof(tpki_leaves) / sizeof(tpki_leaves[0]); i++)
		if (tpki_make_leaf(pki, &tpki_leaves[i], &inter))
			goto out;
	rc = tpki_make_unknown(pki);
out:
	tpki_issuer_free(&root);
	tpki_issuer_free(&inter);
	if (rc)
		tpki_destroy(pki);
	return rc;
}

void tpki_destroy(struct tpki *pki)
{
	DIR *d = opendir(pki->dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlink(tpki_path(pki, e->d_name));
	closedir(d);
	rmdir(pki->dir);
}

static X509 *tpki_read_cert(const struct tpki *pki, const char *file)
{
	FILE *f = fopen(tpki_path(pki, file), "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return x;
}

static EVP_PKEY *tpki_read_key(const struct tpki *pki, const char *file)
{
	FILE *f = fopen(tpki_path(pki, file), "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return k;
}

static OCSP_BASICRESP *tpki_ocsp_basic(X509 *leaf, X509 *issuer, EVP_PKEY *key, bool revoked)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf, issuer);
	ASN1_TIME *now = X509_gmtime_adj(NULL, -3600), *next = X509_gmtime_adj(NULL, DAY);
	int ok =
	    bs && id && now && next &&
	    OCSP_basic_add1_status(
	        bs, id, revoked ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD,
	        revoked ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : 0, revoked ? now : NULL, now, next) &&
	    OCSP_basic_sign(bs, issuer, key, EVP_sha256(), NULL, 0);

	OCSP_CERTID_free(id);
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	if (!ok) {
		OCSP_BASICRESP_free(bs);
		return NULL;
	}
	return bs;
}

int tpki_ocsp_response(const struct tpki *pki, const char *leaf, bool revoked, const char *out)
{
	char crt[64];
	X509 *x, *issuer = tpki_read_cert(pki, "int.crt");
	EVP_PKEY *key = tpki_read_key(pki, "int.key");
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	unsigned char *der = NULL;
	int len = -1, rc = -1;
	FILE *f;

	snprintf(crt, sizeof(crt), "%s.crt", leaf);
	x = tpki_read_cert(pki, crt);
	if (x && issuer && key)
		bs = tpki_ocsp_basic(x, issuer, key, revoked);
	if (bs)
		resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	if (resp)
		len = i2d_OCSP_RESPONSE(resp, &der);
	f = len > 0 ? fopen(tpki_path(pki, out), "wb") : NULL;
	if (f) {
		rc = fwrite(der, 1, (size_t)len, f) == (size_t)len ? 0 : -1;
		if (fclose(f))
			rc = -1;
	}
	OPENSSL_free(der);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	X509_free(x);
	X509_free(issuer);
	EVP_PKEY_free(key);
	return rc;
}
