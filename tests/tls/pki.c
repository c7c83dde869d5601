/* tests for tls/pki.c: key sizes, subject names, certificate requests read back with OpenSSL,
 * CA checks, every import refusal, certificate information, the expiry warning, files */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tests/tls/support/pki.h"
#include "tls/pki.h"

static struct tpki pki;
static EVP_PKEY *key;         /* the trustpoint's key (EC: quick to make) */
static X509 *ca, *unknown_ca; /* the test root and a CA nobody trusts */
static EVP_PKEY *ca_key;
static STACK_OF(X509) * cas;
static time_t now;

static X509 *read_cert(const char *file)
{
	FILE *f = fopen(tpki_path(&pki, file), "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	cr_assert_not_null(x, "%s", file);
	return x;
}

static EVP_PKEY *read_key(const char *file)
{
	FILE *f = fopen(tpki_path(&pki, file), "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	cr_assert_not_null(k, "%s", file);
	return k;
}

static void setup(void)
{
	char err[256];

	cr_assert_eq(tpki_create(&pki), 0);
	cr_assert_eq(tls_pki_key_generate(TLS_PKI_EC, 256, &key, err, sizeof(err)), 0, "%s", err);
	ca = read_cert("ca.crt");
	ca_key = read_key("ca.key");
	unknown_ca = read_cert("unknown-ca.crt");
	cas = sk_X509_new_null();
	sk_X509_push(cas, ca);
	now = time(NULL);
}

static void teardown(void)
{
	sk_X509_free(cas);
	X509_free(ca);
	X509_free(unknown_ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	tpki_destroy(&pki);
}

TestSuite(pki, .init = setup, .fini = teardown);

/* what a CA does with a request: its subject and public key, valid [from, to) seconds from
 * now, the requested extensions copied when san */
static X509 *sign(X509_REQ *req, X509 *issuer, EVP_PKEY *issuer_key, long from, long to, bool san)
{
	X509 *x = X509_new();
	STACK_OF(X509_EXTENSION) *exts = san ? X509_REQ_get_extensions(req) : NULL;
	static long serial = 0x1000;

	cr_assert_not_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_set_issuer_name(x, X509_get_subject_name(issuer));
	X509_set_subject_name(x, X509_REQ_get_subject_name(req));
	X509_set_pubkey(x, X509_REQ_get0_pubkey(req));
	X509_time_adj_ex(X509_getm_notBefore(x), 0, from, &now);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, to, &now);
	for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++)
		X509_add_ext(x, sk_X509_EXTENSION_value(exts, i), -1);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	cr_assert_gt(X509_sign(x, issuer_key, EVP_sha256()), 0);
	return x;
}

static const struct tls_pki_names cube = {
    .subject_name = "cn=cube.example.com, o=Example",
    .fqdn = "cube.example.com",
    .subject_alt_name = "cube.example.com, sip.example.com",
};

static X509 *enroll_and_sign(const struct tls_pki_names *nm, EVP_PKEY *k, long from, long to)
{
	char err[256];
	X509_REQ *req = NULL;
	X509 *x;

	cr_assert_eq(tls_pki_csr_make(k, nm, &req, err, sizeof(err)), 0, "%s", err);
	x = sign(req, ca, ca_key, from, to, true);
	X509_REQ_free(req);
	return x;
}

/* ---- keys ---- */

Test(pki, rsa_sizes_outside_the_guides_range_or_below_2048_are_refused)
{
	static const unsigned bad[] = {0, 511, 512, 1024, 2047, 4097, 8192};
	char err[256];
	EVP_PKEY *k = (EVP_PKEY *)1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(tls_pki_key_generate(TLS_PKI_RSA, bad[i], &k, err, sizeof(err)),
		             -ERANGE, "%u", bad[i]);
		cr_assert_null(k);
		cr_assert(
		    strstr(err, bad[i] < 512 || bad[i] > 4096 ? "512 to 4096" : "2048 to 4096"),
		    "%u: %s", bad[i], err);
	}
}

Test(pki, rsa_2048_and_ec_p256_p384_are_made_other_curves_refused)
{
	char err[256], d[32];
	EVP_PKEY *k = NULL;

	cr_assert_eq(tls_pki_key_generate(TLS_PKI_RSA, 2048, &k, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(tls_pki_key_describe(k, d, sizeof(d)), "RSA 2048");
	EVP_PKEY_free(k);
	cr_assert_eq(tls_pki_key_generate(TLS_PKI_EC, 384, &k, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(tls_pki_key_describe(k, d, sizeof(d)), "EC P-384");
	EVP_PKEY_free(k);
	cr_assert_str_eq(tls_pki_key_describe(key, d, sizeof(d)), "EC P-256");
	cr_assert_eq(tls_pki_key_generate(TLS_PKI_EC, 521, &k, err, sizeof(err)), -ERANGE);
	cr_assert(strstr(err, "256 (P-256) or 384 (P-384)"), "%s", err);
	cr_assert_eq(tls_pki_key_generate(TLS_PKI_EC, 2048, &k, err, sizeof(err)), -ERANGE);
}

/* ---- subject-name ---- */

static void entry(X509_NAME *n, int nid, const char *want)
{
	char got[256];

	cr_assert_gt(X509_NAME_get_text_by_NID(n, nid, got, sizeof(got)), 0, "%s", OBJ_nid2sn(nid));
	cr_assert_str_eq(got, want);
}

Test(pki, subject_names_parse_in_any_case_with_escaped_commas)
{
	X509_NAME *n = NULL;
	char err[256];

	cr_assert_eq(tls_pki_subject_parse("cn=cube.example.com, O=Ex\\, Inc,c=US , OU = voice", &n,
	                                   err, sizeof(err)),
	             0, "%s", err);
	cr_assert_eq(X509_NAME_entry_count(n), 4);
	entry(n, NID_commonName, "cube.example.com");
	entry(n, NID_organizationName, "Ex, Inc");
	entry(n, NID_countryName, "US");
	entry(n, NID_organizationalUnitName, "voice");
	/* written order is kept: CN first */
	cr_assert_eq(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(n, 0))),
	             NID_commonName);
	X509_NAME_free(n);
}

Test(pki, bad_subject_names_are_refused_with_the_part)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
	    {"cube.example.com", "not attribute=value"},
	    {"cn=a, xyzzy=b", "unknown attribute 'xyzzy'"},
	    {"cn=a, c=USA", "not a valid value for C"},
	    {"cn=", "empty side"},
	    {"", "not attribute=value"},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		X509_NAME *n = (X509_NAME *)1;
		cr_assert_eq(tls_pki_subject_parse(bad[i].text, &n, err, sizeof(err)), -EINVAL,
		             "%s", bad[i].text);
		cr_assert_null(n);
		cr_assert(strstr(err, bad[i].why), "'%s': %s", bad[i].text, err);
	}
}

/* ---- certificate requests (1c) ---- */

/* the request as the CA gets it: PEM text, read back */
static X509_REQ *round_trip(X509_REQ *req)
{
	BIO *b = BIO_new(BIO_s_mem());
	X509_REQ *back;

	cr_assert_eq(PEM_write_bio_X509_REQ(b, req), 1);
	back = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	BIO_free(b);
	cr_assert_not_null(back);
	return back;
}

static GENERAL_NAMES *req_sans(X509_REQ *req)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	GENERAL_NAMES *g = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);

	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return g;
}

Test(pki, request_carries_subject_sans_serial_and_address_and_is_signed_by_the_key)
{
	const struct tls_pki_names nm = {
	    .subject_name = "cn=cube.example.com, o=Example",
	    .fqdn = "cube.example.com",
	    .subject_alt_name = "CUBE.example.com sip.example.com,192.0.2.7",
	    .ip_address = "192.0.2.7",
	    .serial_number = "FTX1234ABCD",
	};
	char err[256], name[64];
	X509_REQ *req = NULL, *back;
	EVP_PKEY *other = NULL;

	cr_assert_eq(tls_pki_csr_make(key, &nm, &req, err, sizeof(err)), 0, "%s", err);
	back = round_trip(req);
	cr_assert_eq(X509_REQ_verify(back, key), 1, "self-signature by the trustpoint's key");
	cr_assert_eq(EVP_PKEY_eq(X509_REQ_get0_pubkey(back), key), 1);
	cr_assert_eq(tls_pki_key_generate(TLS_PKI_EC, 256, &other, err, sizeof(err)), 0);
	cr_assert_neq(X509_REQ_verify(back, other), 1, "another key did not sign it");
	ERR_clear_error();

	X509_NAME *s = X509_REQ_get_subject_name(back);
	entry(s, NID_commonName, "cube.example.com");
	entry(s, NID_organizationName, "Example");
	entry(s, NID_serialNumber, "FTX1234ABCD");
	entry(s, NID_pkcs9_unstructuredAddress, "192.0.2.7");

	GENERAL_NAMES *g = req_sans(back);
	cr_assert_not_null(g);
	cr_assert_eq(sk_GENERAL_NAME_num(g), 3, "each name once, case-insensitively");
	GENERAL_NAME *d0 = sk_GENERAL_NAME_value(g, 0), *d1 = sk_GENERAL_NAME_value(g, 1),
	             *ip = sk_GENERAL_NAME_value(g, 2);
	cr_assert_eq(d0->type, GEN_DNS);
	cr_assert_str_eq((const char *)ASN1_STRING_get0_data(d0->d.dNSName), "cube.example.com");
	cr_assert_eq(d1->type, GEN_DNS);
	cr_assert_str_eq((const char *)ASN1_STRING_get0_data(d1->d.dNSName), "sip.example.com");
	cr_assert_eq(ip->type, GEN_IPADD);
	cr_assert_eq(ASN1_STRING_length(ip->d.iPAddress), 4);
	snprintf(name, sizeof(name), "%u.%u.%u.%u", ASN1_STRING_get0_data(ip->d.iPAddress)[0],
	         ASN1_STRING_get0_data(ip->d.iPAddress)[1],
	         ASN1_STRING_get0_data(ip->d.iPAddress)[2],
	         ASN1_STRING_get0_data(ip->d.iPAddress)[3]);
	cr_assert_str_eq(name, "192.0.2.7");
	GENERAL_NAMES_free(g);
	EVP_PKEY_free(other);
	X509_REQ_free(back);
	X509_REQ_free(req);
}

Test(pki, request_without_subject_name_is_named_by_the_fqdn)
{
	const struct tls_pki_names nm = {.fqdn = "cube.example.com"};
	char err[256];
	X509_REQ *req = NULL;

	cr_assert_eq(tls_pki_csr_make(key, &nm, &req, err, sizeof(err)), 0, "%s", err);
	X509_NAME *s = X509_REQ_get_subject_name(req);
	cr_assert_eq(X509_NAME_entry_count(s), 1);
	entry(s, NID_commonName, "cube.example.com");
	X509_REQ_free(req);
}

Test(pki, requests_that_name_nobody_or_bad_names_are_refused)
{
	static const struct {
		struct tls_pki_names nm;
		const char *why;
	} bad[] = {
	    {{0}, "declares no subject-name, fqdn or subject-alt-name"},
	    {{.fqdn = "cube example"}, "'cube example' is neither"},
	    {{.fqdn = "a.example", .subject_alt_name = "b.example bad!name"}, "'bad!name'"},
	    {{.fqdn = "a.example", .ip_address = "300.1.2.3"}, "ip-address '300.1.2.3'"},
	    {{.subject_name = "cn"}, "not attribute=value"},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		X509_REQ *req = (X509_REQ *)1;
		cr_assert_eq(tls_pki_csr_make(key, &bad[i].nm, &req, err, sizeof(err)), -EINVAL,
		             "%zu", i);
		cr_assert_null(req);
		cr_assert(strstr(err, bad[i].why), "%zu: %s", i, err);
	}
}

/* ---- what a trustpoint's configuration gives the request ---- */

Test(pki, a_trustpoints_ip_address_reaches_the_request_and_its_serial_only_when_given)
{
	const struct tls_trustpoint_conf tp = {.name = "T",
	                                       .fqdn = "cube.example.com",
	                                       .subject_name = "cn=cube.example.com",
	                                       .key_label = "kp1",
	                                       .ip_address = "2001:db8::7",
	                                       .serial_number = true};
	struct tls_pki_names nm = tls_pki_names_of(&tp);
	char err[256], text[64];
	X509_REQ *req = NULL;

	cr_assert_str_eq(nm.fqdn, "cube.example.com");
	cr_assert_str_eq(nm.ip_address, "2001:db8::7");
	cr_assert_null(nm.serial_number, "the configuration says whether, the caller says what");
	nm.serial_number = "FTX42";
	cr_assert_eq(tls_pki_csr_make(key, &nm, &req, err, sizeof(err)), 0, "%s", err);
	X509_NAME *s = X509_REQ_get_subject_name(req);
	entry(s, NID_serialNumber, "FTX42");
	entry(s, NID_pkcs9_unstructuredAddress, "2001:db8::7");
	GENERAL_NAMES *g = req_sans(req);
	cr_assert_eq(sk_GENERAL_NAME_num(g), 2);
	GENERAL_NAME *ip = sk_GENERAL_NAME_value(g, 1);
	cr_assert_eq(ip->type, GEN_IPADD);
	cr_assert_eq(ASN1_STRING_length(ip->d.iPAddress), 16, "an IPv6 iPAddress is 16 bytes");
	cr_assert_eq(ASN1_STRING_get0_data(ip->d.iPAddress)[15], 7);
	GENERAL_NAMES_free(g);
	X509_REQ_free(req);

	/* neither line: neither attribute */
	const struct tls_trustpoint_conf plain = {.name = "P", .fqdn = "cube.example.com"};
	nm = tls_pki_names_of(&plain);
	cr_assert_null(nm.ip_address);
	cr_assert_eq(tls_pki_csr_make(key, &nm, &req, err, sizeof(err)), 0, "%s", err);
	s = X509_REQ_get_subject_name(req);
	cr_assert_lt(X509_NAME_get_text_by_NID(s, NID_serialNumber, text, sizeof(text)), 0);
	cr_assert_lt(
	    X509_NAME_get_text_by_NID(s, NID_pkcs9_unstructuredAddress, text, sizeof(text)), 0);
	X509_REQ_free(req);
}

/* ---- this box's serial number ---- */

Test(pki, serial_numbers_are_printable_strings_of_1_to_64)
{
	char longest[TLS_PKI_SERIAL_MAX + 2];

	cr_assert(tls_pki_serial_ok("FTX1234ABCD"));
	cr_assert(tls_pki_serial_ok("VMware-56 4d (x)+,-./:=?'"));
	memset(longest, 'A', sizeof(longest));
	longest[TLS_PKI_SERIAL_MAX] = '\0';
	cr_assert(tls_pki_serial_ok(longest));
	longest[TLS_PKI_SERIAL_MAX] = 'A';
	longest[TLS_PKI_SERIAL_MAX + 1] = '\0';
	cr_assert_not(tls_pki_serial_ok(longest), "65 characters");
	cr_assert_not(tls_pki_serial_ok(""));
	cr_assert_not(tls_pki_serial_ok("ABC_123"), "'_' is not in PrintableString");
	cr_assert_not(tls_pki_serial_ok("ABC!"));
	cr_assert_not(tls_pki_serial_ok("caf\xc3\xa9"));
}

static const char *put(const char *file, const char *text)
{
	const char *path = tpki_path(&pki, file);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* what the serial derived from a machine ID must be: HMAC-SHA256(machine ID, app), 16 bytes */
static void derived(const char *machine_id, char *hex)
{
	static const char app[] = "siptlsd serial-number";
	unsigned char mac[32];
	unsigned len = 0;

	cr_assert_not_null(HMAC(EVP_sha256(), machine_id, (int)strlen(machine_id),
	                        (const unsigned char *)app, strlen(app), mac, &len));
	for (int i = 0; i < 16; i++)
		sprintf(hex + 2 * i, "%02x", mac[i]);
}

Test(pki, box_serial_is_the_hardwares_else_derived_from_the_machine_id)
{
	static const char mid_text[] = "3d1219c7c4c5404aaa1f6d2a48adfda4";
	char buf[TLS_PKI_SERIAL_MAX + 1], want[33], other[33];
	char path_dmi[256], path_mid[256];
	const char *from = NULL;

	snprintf(path_dmi, sizeof(path_dmi), "%s", put("product_serial", "  FTX1234ABCD \n"));
	snprintf(path_mid, sizeof(path_mid), "%s", put("machine-id", mid_text));
	cr_assert_eq(tls_pki_box_serial(path_dmi, path_mid, buf, sizeof(buf), &from), 0);
	cr_assert_str_eq(buf, "FTX1234ABCD", "the hardware's, trimmed");
	cr_assert_str_eq(from, path_dmi);

	/* firmware placeholders, unusable characters, a missing file: the machine ID's */
	derived(mid_text, want);
	static const char *const unusable[] = {"To be filled by O.E.M.\n", "default STRING\n",
	                                       "0000000\n", "\n", "SN_with_underscores\n"};
	for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
		put("product_serial", unusable[i]);
		from = NULL;
		cr_assert_eq(tls_pki_box_serial(path_dmi, path_mid, buf, sizeof(buf), &from), 0);
		cr_assert_str_eq(buf, want, "%zu: %s", i, unusable[i]);
		cr_assert_str_eq(from, path_mid);
	}
	cr_assert_eq(
	    tls_pki_box_serial(tpki_path(&pki, "no-such-file"), path_mid, buf, sizeof(buf), &from),
	    0);
	cr_assert_str_eq(buf, want);
	cr_assert_null(strstr(buf, "3d1219c7"), "the machine ID itself never leaves the box");
	cr_assert(tls_pki_serial_ok(buf));
	cr_assert_eq(strlen(buf), 32);

	/* another box, another serial */
	put("machine-id", "00112233445566778899aabbccddeeff\n");
	derived("00112233445566778899aabbccddeeff", other);
	cr_assert_eq(tls_pki_box_serial(NULL, path_mid, buf, sizeof(buf), &from), 0);
	cr_assert_str_eq(buf, other);
	cr_assert_str_neq(buf, want);

	/* nothing usable */
	put("machine-id", "\n");
	cr_assert_eq(tls_pki_box_serial(path_dmi, path_mid, buf, sizeof(buf), &from), -ENOENT);
	cr_assert_eq(tls_pki_box_serial(NULL, NULL, buf, sizeof(buf), &from), -ENOENT);
	cr_assert_eq(tls_pki_box_serial(path_dmi, path_mid, buf, TLS_PKI_SERIAL_MAX, &from),
	             -ENOSPC);
}

/* ---- PEM input ---- */

Test(pki, pasted_pem_with_text_around_it_reads_every_certificate)
{
	BIO *b = BIO_new(BIO_s_mem());
	STACK_OF(X509) *sk = NULL;
	char err[256], *text;
	long len;

	BIO_puts(b, "Paste below:\r\n");
	PEM_write_bio_X509(b, ca);
	BIO_puts(b, "\nsome words\n");
	PEM_write_bio_X509(b, unknown_ca);
	len = BIO_get_mem_data(b, &text);
	cr_assert_eq(tls_pki_pem_certs(text, (size_t)len, &sk, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(sk_X509_num(sk), 2);
	cr_assert_eq(X509_cmp(sk_X509_value(sk, 0), ca), 0);
	cr_assert_eq(X509_cmp(sk_X509_value(sk, 1), unknown_ca), 0);
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);

	sk = (STACK_OF(X509) *)1;
	cr_assert_eq(tls_pki_pem_certs("hello\n", 6, &sk, err, sizeof(err)), -EBADMSG);
	cr_assert_null(sk);
	cr_assert(strstr(err, "no PEM certificate"), "%s", err);
	/* a certificate cut short is not a certificate */
	static const char cut[] = "-----BEGIN CERTIFICATE-----\nMIIB\n";
	cr_assert_eq(tls_pki_pem_certs(cut, sizeof(cut) - 1, &sk, err, sizeof(err)), -EBADMSG);
}

Test(pki, fingerprint_is_the_digest_in_colon_hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	char fp[100], want[8];

	cr_assert_eq(X509_digest(ca, EVP_sha256(), d, &n), 1);
	tls_pki_fingerprint(ca, EVP_sha256(), fp, sizeof(fp));
	cr_assert_eq(strlen(fp), 32 * 3 - 1);
	snprintf(want, sizeof(want), "%02X:%02X", d[0], d[1]);
	cr_assert_eq(strncmp(fp, want, 5), 0, "%s", fp);
	snprintf(want, sizeof(want), "%02X", d[31]);
	cr_assert_str_eq(fp + strlen(fp) - 2, want);
	tls_pki_fingerprint(ca, EVP_sha1(), fp, sizeof(fp));
	cr_assert_eq(strlen(fp), 20 * 3 - 1);
}

/* ---- authenticate (1d) ---- */

Test(pki, ca_must_be_a_ca_and_valid_now)
{
	struct tls_pki_info info;
	char err[256];
	X509 *leaf = read_cert("server-rsa.crt");

	cr_assert_eq(tls_pki_ca_check(ca, now, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tls_pki_ca_check(leaf, now, err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "is not a CA certificate"), "%s", err);
	cr_assert_eq(tls_pki_info_get(ca, &info), 0);
	cr_assert_eq(tls_pki_ca_check(ca, info.not_after + 1, err, sizeof(err)), -EKEYEXPIRED);
	cr_assert(strstr(err, "has expired"), "%s", err);
	cr_assert_eq(tls_pki_ca_check(ca, info.not_before - 1, err, sizeof(err)), -EKEYEXPIRED);
	cr_assert(strstr(err, "not yet valid"), "%s", err);
	X509_free(leaf);
}

/* ---- import (1e) ---- */

Test(pki, a_certificate_signed_for_the_request_is_accepted)
{
	char err[256];
	X509 *x = enroll_and_sign(&cube, key, 0, 86400 * 365);

	cr_assert_eq(tls_pki_import_check(x, NULL, key, cas, &cube, now, err, sizeof(err)), 0, "%s",
	             err);
	X509_free(x);
}

Test(pki, refused_when_it_certifies_another_key)
{
	char err[256];
	EVP_PKEY *other = NULL;
	X509 *x;

	cr_assert_eq(tls_pki_key_generate(TLS_PKI_EC, 256, &other, err, sizeof(err)), 0);
	x = enroll_and_sign(&cube, other, 0, 86400);
	cr_assert_eq(tls_pki_import_check(x, NULL, key, cas, &cube, now, err, sizeof(err)),
	             -EKEYREJECTED);
	cr_assert(strstr(err, "does not match the trustpoint's key"), "%s", err);
	X509_free(x);
	EVP_PKEY_free(other);
}

Test(pki, refused_when_expired_or_not_yet_valid)
{
	char err[256];
	X509 *old = enroll_and_sign(&cube, key, -86400 * 10, -86400);
	X509 *later = enroll_and_sign(&cube, key, 86400, 86400 * 10);

	cr_assert_eq(tls_pki_import_check(old, NULL, key, cas, &cube, now, err, sizeof(err)),
	             -EKEYEXPIRED);
	cr_assert(strstr(err, "the certificate has expired: it was valid until"), "%s", err);
	cr_assert_eq(tls_pki_import_check(later, NULL, key, cas, &cube, now, err, sizeof(err)),
	             -EKEYEXPIRED);
	cr_assert(strstr(err, "not yet valid"), "%s", err);
	/* the same certificate at a time inside its validity is fine */
	cr_assert_eq(
	    tls_pki_import_check(later, NULL, key, cas, &cube, now + 86400 * 2, err, sizeof(err)),
	    0, "%s", err);
	X509_free(old);
	X509_free(later);
}

Test(pki, refused_when_it_does_not_chain_to_the_authenticated_ca)
{
	STACK_OF(X509) *other = sk_X509_new_null();
	char err[256];
	X509 *x = enroll_and_sign(&cube, key, 0, 86400);

	sk_X509_push(other, unknown_ca);
	cr_assert_eq(tls_pki_import_check(x, NULL, key, other, &cube, now, err, sizeof(err)),
	             -EPERM);
	cr_assert(strstr(err, "does not chain to the authenticated CA"), "%s", err);
	sk_X509_free(other);
	X509_free(x);
}

Test(pki, an_intermediate_sent_with_the_certificate_completes_the_chain)
{
	const struct tls_pki_names nm = {.fqdn = "sip.acme.co", .subject_alt_name = "alt.acme.co"};
	FILE *f = fopen(tpki_path(&pki, "server-rsa.crt"), "r");
	X509 *leaf = PEM_read_X509(f, NULL, NULL, NULL), *mid = PEM_read_X509(f, NULL, NULL, NULL);
	EVP_PKEY *k = read_key("server-rsa.key");
	STACK_OF(X509) *chain = sk_X509_new_null();
	char err[256];

	fclose(f);
	sk_X509_push(chain, mid);
	cr_assert_eq(tls_pki_import_check(leaf, chain, k, cas, &nm, now, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(tls_pki_import_check(leaf, NULL, k, cas, &nm, now, err, sizeof(err)), -EPERM,
	             "without the intermediate the root cannot be reached");
	sk_X509_pop_free(chain, X509_free);
	X509_free(leaf);
	EVP_PKEY_free(k);
}

Test(pki, refused_when_a_declared_name_is_missing)
{
	const struct tls_pki_names more = {.fqdn = "cube.example.com",
	                                   .subject_alt_name = "sip.example.com other.example.com"};
	const struct tls_pki_names ip = {.fqdn = "cube.example.com", .ip_address = "192.0.2.9"};
	char err[256];
	X509 *x = enroll_and_sign(&cube, key, 0, 86400);
	X509_REQ *req = NULL;
	X509 *cn_only;

	cr_assert_eq(tls_pki_import_check(x, NULL, key, cas, &more, now, err, sizeof(err)),
	             -ENOMSG);
	cr_assert(strstr(err, "lacks the name other.example.com"), "%s", err);
	cr_assert(strstr(err, "dNSName"), "%s", err);
	cr_assert_eq(tls_pki_import_check(x, NULL, key, cas, &ip, now, err, sizeof(err)), -ENOMSG);
	cr_assert(strstr(err, "lacks the name 192.0.2.9"), "%s", err);
	cr_assert(strstr(err, "iPAddress"), "%s", err);

	/* a CA that drops the SAN extension: the CN does not stand in for a declared name */
	cr_assert_eq(tls_pki_csr_make(key, &cube, &req, err, sizeof(err)), 0);
	cn_only = sign(req, ca, ca_key, 0, 86400, false);
	cr_assert_eq(tls_pki_import_check(cn_only, NULL, key, cas, &cube, now, err, sizeof(err)),
	             -ENOMSG);
	cr_assert(strstr(err, "lacks the name cube.example.com"), "%s", err);
	/* with only a subject-name declared, its CN is the name to find */
	const struct tls_pki_names subj = {.subject_name = "cn=cube.example.com"};
	const struct tls_pki_names subj2 = {.subject_name = "cn=other.example.com"};
	cr_assert_eq(tls_pki_import_check(cn_only, NULL, key, cas, &subj, now, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(tls_pki_import_check(cn_only, NULL, key, cas, &subj2, now, err, sizeof(err)),
	             -ENOMSG);
	cr_assert(strstr(err, "does not name other.example.com"), "%s", err);
	X509_REQ_free(req);
	X509_free(cn_only);
	X509_free(x);
}

Test(pki, the_key_is_checked_before_anything_else)
{
	EVP_PKEY *other = NULL;
	char err[256];
	X509 *old = enroll_and_sign(&cube, key, -86400 * 10, -86400);

	cr_assert_eq(tls_pki_key_generate(TLS_PKI_EC, 256, &other, err, sizeof(err)), 0);
	cr_assert_eq(tls_pki_import_check(old, NULL, other, cas, &cube, now, err, sizeof(err)),
	             -EKEYREJECTED);
	cr_assert_eq(tls_pki_import_check(old, NULL, NULL, cas, &cube, now, err, sizeof(err)),
	             -EKEYREJECTED, "no key at all");
	EVP_PKEY_free(other);
	X509_free(old);
}

/* ---- information and the expiry warning ---- */

Test(pki, info_reads_names_serial_and_dates)
{
	struct tls_pki_info info;
	X509 *x = enroll_and_sign(&cube, key, -3600, 86400 * 20 + 60);
	long serial = ASN1_INTEGER_get(X509_get0_serialNumber(x));
	char want[32];

	cr_assert_eq(tls_pki_info_get(x, &info), 0);
	cr_assert_str_eq(info.subject, "CN=cube.example.com,O=Example");
	cr_assert_str_eq(info.issuer, "O=siptlsd tests,CN=Test Root CA");
	snprintf(want, sizeof(want), "%lX", serial);
	cr_assert_str_eq(info.serial, want);
	cr_assert_eq((long)(info.not_after - now), 86400L * 20 + 60);
	cr_assert_eq((long)(now - info.not_before), 3600);
	cr_assert_not(info.is_ca);
	cr_assert_eq(tls_pki_days_left(info.not_after, now), 20);
	cr_assert_eq(tls_pki_info_get(ca, &info), 0);
	cr_assert(info.is_ca);
	X509_free(x);
}

Test(pki, days_left_round_down_and_go_negative)
{
	cr_assert_eq(tls_pki_days_left(1000 + 86400 * 30, 1000), 30);
	cr_assert_eq(tls_pki_days_left(1000 + 86400 * 30 - 1, 1000), 29);
	cr_assert_eq(tls_pki_days_left(1000 + 86399, 1000), 0);
	cr_assert_eq(tls_pki_days_left(1000, 1000), 0);
	cr_assert_eq(tls_pki_days_left(999, 1000), -1);
	cr_assert_eq(tls_pki_days_left(1000 - 86400, 1000), -1);
	cr_assert_eq(tls_pki_days_left(1000 - 86401, 1000), -2);
}

Test(pki, router_date_form)
{
	char d[40];

	cr_assert_str_eq(tls_pki_date(1758870957, d, sizeof(d)), "07:15:57 UTC Sep 26 2025");
}

Test(pki, expiry_warning_only_within_30_days)
{
	struct tls_trustpoint tp = {.conf = {.name = "CUBE-TrustPoint"}};
	char line[512] = "";
	X509 *soon = enroll_and_sign(&cube, key, -60, 86400 * 12 + 100);
	X509 *edge = enroll_and_sign(&cube, key, -60, 86400 * 30 + 100);

	cr_assert_eq(tls_pki_expiry_warning(&tp, now, line, sizeof(line)), 0, "no certificate");
	tp.cert = soon;
	cr_assert_eq(tls_pki_expiry_warning(&tp, now, line, sizeof(line)), 1);
	cr_assert(strstr(line, "%PKI-4-CERT_EXPIRY_WARNING: Certificate expires in 12 days - "
	                       "trustpoint=CUBE-TrustPoint, serial="),
	          "%s", line);
	cr_assert(strstr(line, "subject=CN=cube.example.com,O=Example, end date="), "%s", line);
	tp.cert = edge;
	cr_assert_eq(tls_pki_expiry_warning(&tp, now, line, sizeof(line)), 0,
	             "30 days left: quiet");
	cr_assert_eq(tls_pki_expiry_warning(&tp, now + 200, line, sizeof(line)), 1, "29 days left");
	cr_assert(strstr(line, "in 29 days"), "%s", line);
	X509_free(soon);
	X509_free(edge);
}

/* ---- files ---- */

Test(pki, files_are_0600_exclusive_when_asked_and_read_back)
{
	char path[256], err[256], *text;
	struct stat st;
	EVP_PKEY *back = NULL;
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "%s", tpki_path(&pki, "kp1.key"));
	cr_assert_eq(tls_pki_write_pem(path, &(struct tls_pki_pem){.key = key}, true), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(tls_pki_write_pem(path, &(struct tls_pki_pem){.cert = ca}, true), -EEXIST);
	f = fopen(path, "r");
	text = calloc(1, 8192);
	len = fread(text, 1, 8191, f);
	fclose(f);
	cr_assert_eq(tls_pki_pem_key(text, len, &back, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(EVP_PKEY_eq(back, key), 1, "the refused write left the key alone");
	EVP_PKEY_free(back);
	free(text);

	/* replace: a certificate and its chain, in order */
	STACK_OF(X509) *more = sk_X509_new_null(), *got = NULL;
	sk_X509_push(more, unknown_ca);
	cr_assert_eq(
	    tls_pki_write_pem(path, &(struct tls_pki_pem){.cert = ca, .more = more}, false), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	text = calloc(1, 16384);
	len = fread(text, 1, 16383, f);
	fclose(f);
	cr_assert_eq(tls_pki_pem_certs(text, len, &got, err, sizeof(err)), 0);
	cr_assert_eq(sk_X509_num(got), 2);
	cr_assert_eq(X509_cmp(sk_X509_value(got, 1), unknown_ca), 0);
	cr_assert_eq(tls_pki_pem_key(text, len, &back, err, sizeof(err)), -EBADMSG, "key replaced");
	sk_X509_pop_free(got, X509_free);
	sk_X509_free(more);
	free(text);
	unlink(path);
	cr_assert_eq(
	    tls_pki_write_pem("/nonexistent-dir/x.pem", &(struct tls_pki_pem){.cert = ca}, false),
	    -ENOENT);
}
