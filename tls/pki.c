/* pki: keys, certificate requests, CA and certificate checks for enrollment. See pki.h. */
#include "tls/pki.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

__attribute__((format(printf, 3, 4))) static void pki_err(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	ERR_clear_error();
	if (!n)
		return;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

/* ---- keys (step 1a) ---- */

static int pki_rsa_bits_ok(unsigned bits, char *err, size_t n)
{
	if (bits < TLS_PKI_RSA_GUIDE_MIN || bits > TLS_PKI_RSA_MAX) {
		pki_err(err, n, "modulus %u is out of range: the guide accepts %d to %d bits", bits,
		        TLS_PKI_RSA_GUIDE_MIN, TLS_PKI_RSA_MAX);
		return -ERANGE;
	}
	if (bits < TLS_PKI_RSA_MIN) {
		pki_err(
		    err, n,
		    "modulus %u is refused: below %d bits OpenSSL's security level 2 rejects the "
		    "key in every handshake (use %d to %d)",
		    bits, TLS_PKI_RSA_MIN, TLS_PKI_RSA_MIN, TLS_PKI_RSA_MAX);
		return -ERANGE;
	}
	return 0;
}

int tls_pki_key_generate(enum tls_pki_key_type type, unsigned bits, EVP_PKEY **out, char *err,
                         size_t errlen)
{
	int rc;

	*out = NULL;
	if (type == TLS_PKI_RSA) {
		if ((rc = pki_rsa_bits_ok(bits, err, errlen)))
			return rc;
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else if (type == TLS_PKI_EC) {
		if (bits != 256 && bits != 384) {
			pki_err(err, errlen,
			        "EC key size %u is refused: use 256 (P-256) or 384 (P-384)", bits);
			return -ERANGE;
		}
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", bits == 256 ? "P-256" : "P-384");
	} else {
		pki_err(err, errlen, "unknown key type %d", (int)type);
		return -EINVAL;
	}
	if (!*out) {
		pki_err(err, errlen, "key generation failed (OpenSSL)");
		return -EIO;
	}
	return 0;
}

const char *tls_pki_key_describe(const EVP_PKEY *key, char *buf, size_t n)
{
	int bits = EVP_PKEY_get_bits(key);

	if (EVP_PKEY_is_a(key, "RSA"))
		snprintf(buf, n, "RSA %d", bits);
	else if (EVP_PKEY_is_a(key, "EC"))
		snprintf(buf, n, "EC P-%d", bits);
	else
		snprintf(buf, n, "%s %d", EVP_PKEY_get0_type_name(key), bits);
	return buf;
}

/* ---- names (step 1b) ---- */

struct tls_pki_names tls_pki_names_of(const struct tls_trustpoint_conf *tp)
{
	return (struct tls_pki_names){.subject_name = tp->subject_name,
	                              .fqdn = tp->fqdn,
	                              .subject_alt_name = tp->subject_alt_name,
	                              .ip_address = tp->ip_address};
}

/* the attribute names operators write in subject-name, in lower case, and OpenSSL's NID */
static int pki_attr_nid(const char *a)
{
	static const struct {
		const char *name;
		int nid;
	} map[] = {
	    {"cn", NID_commonName},
	    {"c", NID_countryName},
	    {"o", NID_organizationName},
	    {"ou", NID_organizationalUnitName},
	    {"l", NID_localityName},
	    {"st", NID_stateOrProvinceName},
	    {"e", NID_pkcs9_emailAddress},
	    {"emailaddress", NID_pkcs9_emailAddress},
	    {"dc", NID_domainComponent},
	    {"serialnumber", NID_serialNumber},
	    {"street", NID_streetAddress},
	    {"unstructuredname", NID_pkcs9_unstructuredName},
	    {"unstructuredaddress", NID_pkcs9_unstructuredAddress},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(a, map[i].name) == 0)
			return map[i].nid;
	return OBJ_txt2nid(a); /* long names and dotted OIDs */
}

static char *pki_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* one "attr=value" of subject-name, escapes already removed */
static int pki_subject_part(X509_NAME *name, char *part, char *err, size_t n)
{
	char *eq = strchr(part, '='), *a, *v;
	int nid;

	if (!eq) {
		pki_err(err, n, "subject-name: '%s' is not attribute=value", pki_trim(part));
		return -EINVAL;
	}
	*eq = '\0';
	a = pki_trim(part);
	v = pki_trim(eq + 1);
	if (!*a || !*v) {
		pki_err(err, n, "subject-name: '%s=%s' has an empty side", a, v);
		return -EINVAL;
	}
	if ((nid = pki_attr_nid(a)) == NID_undef) {
		pki_err(err, n, "subject-name: unknown attribute '%s'", a);
		return -EINVAL;
	}
	if (!X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, (const unsigned char *)v, -1, -1,
	                                0)) {
		pki_err(err, n, "subject-name: '%s=%s' is not a valid value for %s", a, v,
		        OBJ_nid2sn(nid));
		return -EINVAL;
	}
	return 0;
}

int tls_pki_subject_parse(const char *text, X509_NAME **out, char *err, size_t errlen)
{
	size_t len = strlen(text);
	char *buf = malloc(len + 1), *o;
	X509_NAME *name = X509_NAME_new();
	int rc = 0;

	*out = NULL;
	if (!buf || !name) {
		free(buf);
		X509_NAME_free(name);
		return -ENOMEM;
	}
	o = buf;
	for (size_t i = 0; i <= len && rc == 0; i++) {
		if (i < len && text[i] == '\\' && i + 1 < len) {
			*o++ = text[++i]; /* "\," is a comma inside a value (RFC 4514 2.4) */
			continue;
		}
		if (i < len && text[i] != ',') {
			*o++ = text[i];
			continue;
		}
		*o = '\0';
		rc = pki_subject_part(name, buf, err, errlen);
		o = buf;
	}
	free(buf);
	if (rc == 0 && X509_NAME_entry_count(name) == 0) {
		pki_err(err, errlen, "subject-name is empty");
		rc = -EINVAL;
	}
	if (rc) {
		X509_NAME_free(name);
		return rc;
	}
	*out = name;
	return 0;
}

/* ---- this box's serial number ---- */

bool tls_pki_serial_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TLS_PKI_SERIAL_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(" '()+,-./:=?", *s)))
			return false;
	return true;
}

/* the first line of a small file, trimmed; 0 or -errno */
static int pki_first_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	char *t;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)n, f))
		buf[0] = '\0';
	(void)fclose(f); /* read only: nothing to lose */
	buf[strcspn(buf, "\r\n")] = '\0';
	t = pki_trim(buf);
	memmove(buf, t, strlen(t) + 1);
	return 0;
}

/* what firmware writes when nobody set a serial number (SMBIOS defaults seen in the field) */
static bool pki_serial_placeholder(const char *s)
{
	static const char *const junk[] = {
	    "To be filled by O.E.M.", "Default string", "Not Specified", "System Serial Number",
	    "Not Applicable",         "None",           "0123456789"};

	if (strspn(s, "0") == strlen(s))
		return true;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		if (strcasecmp(s, junk[i]) == 0)
			return true;
	return false;
}

int tls_pki_box_serial(const char *dmi, const char *machine_id, char *buf, size_t n,
                       const char **from)
{
	static const char app[] = "siptlsd serial-number";
	unsigned char mac[EVP_MAX_MD_SIZE];
	char line[256] = "";
	size_t len = 0;

	if (n < TLS_PKI_SERIAL_MAX + 1)
		return -ENOSPC;
	if (dmi && pki_first_line(dmi, line, sizeof(line)) == 0 && tls_pki_serial_ok(line) &&
	    !pki_serial_placeholder(line)) {
		snprintf(buf, n, "%s", line);
		*from = dmi;
		return 0;
	}
	if (!machine_id || pki_first_line(machine_id, line, sizeof(line)) != 0 || !line[0])
		return -ENOENT;
	/* machine-id(5): hash it with an application-specific key before it leaves the box */
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, line, strlen(line),
	               (const unsigned char *)app, sizeof(app) - 1, mac, sizeof(mac), &len) ||
	    len < 16) {
		ERR_clear_error();
		return -EIO;
	}
	for (size_t i = 0; i < 16; i++)
		snprintf(buf + 2 * i, n - 2 * i, "%02x", mac[i]);
	*from = machine_id;
	return 0;
}

/* a host name a CA can put in a dNSName: letters, digits, '-', '.', and one leading "*." */
static bool pki_dns_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	if (s[0] == '*' && s[1] == '.')
		s += 2;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* adds one DNS name or IP literal to gens unless it is there already */
static int pki_san_add(GENERAL_NAMES *gens, const char *v, char *err, size_t n)
{
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(v);
	GENERAL_NAME *g;

	ERR_clear_error();
	if (!ip && !pki_dns_ok(v)) {
		pki_err(err, n, "'%s' is neither a DNS name nor an IP address", v);
		return -EINVAL;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *h = sk_GENERAL_NAME_value(gens, i);
		if (ip && h->type == GEN_IPADD && ASN1_OCTET_STRING_cmp(ip, h->d.iPAddress) == 0) {
			ASN1_OCTET_STRING_free(ip);
			return 0;
		}
		if (!ip && h->type == GEN_DNS &&
		    strcasecmp((const char *)ASN1_STRING_get0_data(h->d.dNSName), v) == 0)
			return 0;
	}
	if (!(g = GENERAL_NAME_new())) {
		ASN1_OCTET_STRING_free(ip);
		return -ENOMEM;
	}
	if (ip) {
		GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
	} else {
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();
		if (!s || !ASN1_STRING_set(s, v, -1)) {
			ASN1_IA5STRING_free(s);
			GENERAL_NAME_free(g);
			return -ENOMEM;
		}
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
	}
	if (!sk_GENERAL_NAME_push(gens, g)) {
		GENERAL_NAME_free(g);
		return -ENOMEM;
	}
	return 0;
}

/* calls fn on each word of a list separated by blanks or commas; stops at the first failure */
static int pki_each_word(const char *list, int (*fn)(void *, const char *), void *arg)
{
	char word[256];
	size_t o = 0;
	int rc;

	for (const char *p = list;; p++) {
		if (*p && *p != ' ' && *p != '\t' && *p != ',') {
			if (o + 1 >= sizeof(word))
				return -ENAMETOOLONG;
			word[o++] = *p;
			continue;
		}
		if (o) {
			word[o] = '\0';
			if ((rc = fn(arg, word)))
				return rc;
			o = 0;
		}
		if (!*p)
			return 0;
	}
}

struct pki_san_ctx {
	GENERAL_NAMES *gens;
	char *err;
	size_t n;
};

static int pki_san_word(void *arg, const char *w)
{
	struct pki_san_ctx *c = arg;
	return pki_san_add(c->gens, w, c->err, c->n);
}

/* every name the trustpoint declares, in the order fqdn, subject-alt-name, ip-address */
static int pki_declared(const struct tls_pki_names *nm, GENERAL_NAMES *gens, char *err, size_t n)
{
	struct pki_san_ctx c = {gens, err, n};
	int rc = 0;

	if (nm->fqdn && (rc = pki_san_word(&c, nm->fqdn)))
		return rc;
	if (nm->subject_alt_name && (rc = pki_each_word(nm->subject_alt_name, pki_san_word, &c))) {
		if (rc == -ENAMETOOLONG)
			pki_err(err, n, "subject-alt-name: a name is longer than 255 bytes");
		return rc == -ENAMETOOLONG ? -EINVAL : rc;
	}
	if (nm->ip_address) {
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(nm->ip_address);
		ERR_clear_error();
		if (!ip) {
			pki_err(err, n, "ip-address '%s' is not an IP address", nm->ip_address);
			return -EINVAL;
		}
		ASN1_OCTET_STRING_free(ip);
		rc = pki_san_word(&c, nm->ip_address);
	}
	return rc;
}

/* the request's subject: subject-name, else CN from the first DNS name, plus the guide's
 * serial-number and ip-address attributes */
static int pki_csr_subject(const struct tls_pki_names *nm, GENERAL_NAMES *gens, X509_NAME **out,
                           char *err, size_t n)
{
	X509_NAME *name = NULL;
	int rc;

	if (nm->subject_name) {
		if ((rc = tls_pki_subject_parse(nm->subject_name, &name, err, n)))
			return rc;
	} else {
		const char *cn = NULL;
		for (int i = 0; !cn && i < sk_GENERAL_NAME_num(gens); i++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
			if (g->type == GEN_DNS)
				cn = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
		}
		if (!cn) {
			pki_err(err, n,
			        "the trustpoint declares no subject-name, fqdn or subject-alt-name "
			        "DNS name: the request would name nobody");
			return -EINVAL;
		}
		if (!(name = X509_NAME_new()) ||
		    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
		                                (const unsigned char *)cn, -1, -1, 0)) {
			X509_NAME_free(name);
			return -ENOMEM;
		}
	}
	if ((nm->serial_number &&
	     !X509_NAME_add_entry_by_NID(name, NID_serialNumber, MBSTRING_UTF8,
	                                 (const unsigned char *)nm->serial_number, -1, -1, 0)) ||
	    (nm->ip_address &&
	     !X509_NAME_add_entry_by_NID(name, NID_pkcs9_unstructuredAddress, MBSTRING_UTF8,
	                                 (const unsigned char *)nm->ip_address, -1, -1, 0))) {
		X509_NAME_free(name);
		pki_err(err, n, "serial-number or ip-address cannot be put in the subject");
		return -EINVAL;
	}
	*out = name;
	return 0;
}

static int pki_csr_fill(X509_REQ *req, EVP_PKEY *key, X509_NAME *subject, GENERAL_NAMES *gens,
                        char *err, size_t n)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	int ok;

	ok = X509_REQ_set_version(req, 0) && X509_REQ_set_subject_name(req, subject) &&
	     X509_REQ_set_pubkey(req, key);
	if (ok && sk_GENERAL_NAME_num(gens) > 0)
		ok = X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) ==
		         1 &&
		     X509_REQ_add_extensions(req, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (ok && X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		ok = 0;
	if (!ok) {
		pki_err(err, n, "the request could not be built or signed (OpenSSL)");
		return -EIO;
	}
	return 0;
}

int tls_pki_csr_make(EVP_PKEY *key, const struct tls_pki_names *names, X509_REQ **out, char *err,
                     size_t errlen)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	X509_NAME *subject = NULL;
	X509_REQ *req = NULL;
	int rc;

	*out = NULL;
	if (!gens)
		return -ENOMEM;
	rc = pki_declared(names, gens, err, errlen);
	if (rc == 0)
		rc = pki_csr_subject(names, gens, &subject, err, errlen);
	if (rc == 0 && !(req = X509_REQ_new()))
		rc = -ENOMEM;
	if (rc == 0)
		rc = pki_csr_fill(req, key, subject, gens, err, errlen);
	X509_NAME_free(subject);
	GENERAL_NAMES_free(gens);
	if (rc) {
		X509_REQ_free(req);
		return rc;
	}
	*out = req;
	return 0;
}

/* ---- PEM input (pasted or piped) ---- */

int tls_pki_pem_certs(const char *text, size_t len, STACK_OF(X509) * *out, char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(text, len > INT32_MAX ? INT32_MAX : (int)len);
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x;

	*out = NULL;
	if (!b || !sk) {
		BIO_free(b);
		sk_X509_free(sk);
		return -ENOMEM;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, x))
			X509_free(x);
	BIO_free(b);
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		pki_err(err, errlen,
		        "no PEM certificate found (paste it from -----BEGIN CERTIFICATE----- to "
		        "-----END CERTIFICATE-----)");
		return -EBADMSG;
	}
	*out = sk;
	return 0;
}

/* encrypted keys are refused rather than prompted for */
static int pki_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

int tls_pki_pem_key(const char *text, size_t len, EVP_PKEY **out, char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(text, len > INT32_MAX ? INT32_MAX : (int)len);

	if (!b)
		return -ENOMEM;
	*out = PEM_read_bio_PrivateKey(b, NULL, pki_no_password, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (!*out) {
		pki_err(err, errlen, "no unencrypted PEM private key found");
		return -EBADMSG;
	}
	return 0;
}

const char *tls_pki_fingerprint(X509 *cert, const EVP_MD *md, char *buf, size_t n)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	size_t o = 0;

	buf[0] = '\0';
	if (!X509_digest(cert, md, d, &len))
		return buf;
	for (unsigned i = 0; i < len && o + 4 <= n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%02X", i ? ":" : "", d[i]);
	return buf;
}

/* ---- checks (steps 1d, 1e) ---- */

/* -EKEYEXPIRED with err when cert is not valid at now; what is "certificate" or "CA ..." */
static int pki_check_time(X509 *cert, time_t now, const char *what, char *err, size_t n)
{
	struct tls_pki_info info;
	char date[40];

	if (tls_pki_info_get(cert, &info)) {
		pki_err(err, n, "%s: its validity dates cannot be read", what);
		return -EKEYEXPIRED;
	}
	if (now > info.not_after) {
		pki_err(err, n, "%s has expired: it was valid until %s", what,
		        tls_pki_date(info.not_after, date, sizeof(date)));
		return -EKEYEXPIRED;
	}
	if (now < info.not_before) {
		pki_err(err, n, "%s is not yet valid: it is valid from %s (check the clock)", what,
		        tls_pki_date(info.not_before, date, sizeof(date)));
		return -EKEYEXPIRED;
	}
	return 0;
}

int tls_pki_ca_check(X509 *cert, time_t now, char *err, size_t errlen)
{
	if (X509_check_ca(cert) != 1) {
		char name[256];
		X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof(name));
		pki_err(err, errlen,
		        "%s is not a CA certificate (no basicConstraints cA:TRUE): paste the "
		        "certificate of the CA that signs, not a server certificate",
		        name);
		return -EPERM;
	}
	return pki_check_time(cert, now, "the CA certificate", err, errlen);
}

static int pki_check_chain(X509 *cert, STACK_OF(X509) * chain, STACK_OF(X509) * cas, time_t now,
                           char *err, size_t n)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = -ENOMEM, ok;

	if (!store || !ctx)
		goto out;
	for (int i = 0; i < sk_X509_num(cas); i++)
		X509_STORE_add_cert(store, sk_X509_value(cas, i));
	if (!X509_STORE_CTX_init(ctx, store, cert, chain))
		goto out;
	/* the authenticated CA may be an intermediate: it is the anchor the operator chose */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_CTX_set_time(ctx, 0, now);
	ok = X509_verify_cert(ctx);
	rc = 0;
	if (ok != 1) {
		int e = X509_STORE_CTX_get_error(ctx);
		pki_err(err, n, "the certificate does not chain to the authenticated CA: %s",
		        X509_verify_cert_error_string(e));
		rc = -EPERM;
	}
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return rc;
}

struct pki_name_ctx {
	X509 *cert;
	char *err;
	size_t n;
};

static int pki_name_word(void *arg, const char *w)
{
	struct pki_name_ctx *c = arg;
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(w);
	int found;

	ERR_clear_error();
	if (ip) {
		ASN1_OCTET_STRING_free(ip);
		found = X509_check_ip_asc(c->cert, w, 0) == 1;
	} else {
		/* RFC 6125 6.4.4: with names declared, only subjectAltName counts */
		found =
		    X509_check_host(c->cert, w, 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) == 1;
	}
	if (!found) {
		pki_err(
		    c->err, c->n,
		    "the certificate lacks the name %s the trustpoint declares (no subjectAltName "
		    "%s entry for it): ask the CA to include it",
		    w, ip ? "iPAddress" : "dNSName");
		return -ENOMSG;
	}
	return 0;
}

/* the subject-name's CN, when no other name is declared: the host name it stands for */
static int pki_check_cn(X509 *cert, const char *subject_name, char *err, size_t n)
{
	X509_NAME *want = NULL;
	char cn[256];
	int rc;

	if (!subject_name || tls_pki_subject_parse(subject_name, &want, NULL, 0))
		return 0;
	rc = X509_NAME_get_text_by_NID(want, NID_commonName, cn, sizeof(cn));
	X509_NAME_free(want);
	if (rc <= 0 || !pki_dns_ok(cn))
		return 0;
	if (X509_check_host(cert, cn, 0, 0, NULL) == 1)
		return 0;
	pki_err(err, n, "the certificate does not name %s (the subject-name's CN)", cn);
	return -ENOMSG;
}

static int pki_check_names(X509 *cert, const struct tls_pki_names *nm, char *err, size_t n)
{
	struct pki_name_ctx c = {cert, err, n};
	int rc;

	if (!nm->fqdn && !nm->subject_alt_name && !nm->ip_address)
		return pki_check_cn(cert, nm->subject_name, err, n);
	if (nm->fqdn && (rc = pki_name_word(&c, nm->fqdn)))
		return rc;
	if (nm->subject_alt_name && (rc = pki_each_word(nm->subject_alt_name, pki_name_word, &c)))
		return rc;
	return nm->ip_address ? pki_name_word(&c, nm->ip_address) : 0;
}

int tls_pki_import_check(X509 *cert, STACK_OF(X509) * chain, EVP_PKEY *key, STACK_OF(X509) * cas,
                         const struct tls_pki_names *names, time_t now, char *err, size_t errlen)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	int rc;

	if (!pub || !key || EVP_PKEY_eq(pub, key) != 1) {
		char have[32] = "?", want[32] = "none";
		if (pub)
			tls_pki_key_describe(pub, have, sizeof(have));
		if (key)
			tls_pki_key_describe(key, want, sizeof(want));
		pki_err(err, errlen,
		        "the certificate does not match the trustpoint's key: it certifies another "
		        "public key (%s; the trustpoint's key is %s) - was it issued for another "
		        "request?",
		        have, want);
		return -EKEYREJECTED;
	}
	if ((rc = pki_check_time(cert, now, "the certificate", err, errlen)))
		return rc;
	if ((rc = pki_check_chain(cert, chain, cas, now, err, errlen)))
		return rc;
	return pki_check_names(cert, names, err, errlen);
}

/* ---- information (show crypto pki) ---- */

static int pki_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return -EINVAL;
	*out = timegm(&tm);
	return 0;
}

static void pki_name_text(const X509_NAME *name, char *buf, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());
	int len;

	buf[0] = '\0';
	if (!b)
		return;
	/* RFC 4514 escaping, in the certificate's own order (as the router prints it) */
	X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV);
	len = BIO_read(b, buf, (int)n - 1);
	buf[len > 0 ? len : 0] = '\0';
	BIO_free(b);
}

int tls_pki_info_get(X509 *cert, struct tls_pki_info *info)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	memset(info, 0, sizeof(*info));
	pki_name_text(X509_get_subject_name(cert), info->subject, sizeof(info->subject));
	pki_name_text(X509_get_issuer_name(cert), info->issuer, sizeof(info->issuer));
	snprintf(info->serial, sizeof(info->serial), "%s", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
	info->is_ca = X509_check_ca(cert) == 1;
	ERR_clear_error();
	if (pki_time(X509_get0_notBefore(cert), &info->not_before) ||
	    pki_time(X509_get0_notAfter(cert), &info->not_after))
		return -EINVAL;
	return 0;
}

long tls_pki_days_left(time_t not_after, time_t now)
{
	long long s = (long long)not_after - (long long)now;

	return (long)(s >= 0 ? s / 86400 : -((-s + 86399) / 86400));
}

const char *tls_pki_date(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, n, "%H:%M:%S UTC %b %d %Y", &tm) == 0)
		snprintf(buf, n, "?");
	return buf;
}

int tls_pki_expiry_warning(const struct tls_trustpoint *tp, time_t now, char *line, size_t n)
{
	struct tls_pki_info info;
	char date[40];
	long days;

	if (!tp->cert || tls_pki_info_get(tp->cert, &info))
		return 0;
	days = tls_pki_days_left(info.not_after, now);
	if (days >= TLS_PKI_WARN_DAYS)
		return 0;
	snprintf(line, n,
	         "%%PKI-4-CERT_EXPIRY_WARNING: Certificate expires in %ld day%s - trustpoint=%s, "
	         "serial=%s, subject=%s, end date=%s",
	         days, days == 1 ? "" : "s", tp->conf.name ? tp->conf.name : "?", info.serial,
	         info.subject, tls_pki_date(info.not_after, date, sizeof(date)));
	return 1;
}

/* ---- files ---- */

static int pki_write_objs(FILE *f, const struct tls_pki_pem *w)
{
	int ok = 1;

	if (w->key)
		ok = PEM_write_PrivateKey(f, w->key, NULL, NULL, 0, NULL, NULL);
	if (ok && w->req)
		ok = PEM_write_X509_REQ(f, w->req);
	if (ok && w->cert)
		ok = PEM_write_X509(f, w->cert);
	for (int i = 0; ok && w->more && i < sk_X509_num(w->more); i++)
		ok = PEM_write_X509(f, sk_X509_value(w->more, i));
	ERR_clear_error();
	return ok ? 0 : -EIO;
}

int tls_pki_write_pem(const char *path, const struct tls_pki_pem *what, bool excl)
{
	char tmp[4096];
	FILE *f;
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (excl && access(path, F_OK) == 0)
		return -EEXIST;
	if ((fd = mkstemp(tmp)) < 0) /* mkstemp creates it 0600 */
		return -errno;
	if (fchmod(fd, 0600) != 0 || !(f = fdopen(fd, "w"))) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return rc;
	}
	rc = pki_write_objs(f, what);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = rc ? rc : -errno;
	if (fclose(f) != 0)
		rc = rc ? rc : -errno;
	/* link refuses an existing name atomically; rename replaces it atomically */
	if (rc == 0 && (excl ? link(tmp, path) : rename(tmp, path)) != 0)
		rc = -errno;
	if (excl || rc)
		unlink(tmp);
	return rc;
}
