/* trustpoint: `crypto pki trustpoint NAME` — our certificate chain and key, the CAs we trust,
 * and how revocation is checked.
 *
 * There is no router key store: certificates, keys, CA bundles and CRLs are PEM files named in
 * the config. The configuration (struct tls_trustpoint_conf) borrows its strings from the
 * config image; loading (tls_trustpoint_load) reads and checks every file once and keeps the
 * parsed objects, which profiles then share (reference-counted by OpenSSL).
 *
 *   crypto pki trustpoint CUBE-TrustPoint
 *    certificate-file /etc/siptlsd/cube.crt     (own certificate first, then its chain)
 *    key-file /etc/siptlsd/cube.key
 *    ca-file /etc/siptlsd/ca.pem
 *    crl-file /etc/siptlsd/ca.crl
 *    revocation-check crl none
 *    fqdn cube.example.com / subject-name cn=... / subject-alt-name ...   (kept for enrollment)
 *    rsakeypair kp1 / ip-address 192.0.2.10 / serial-number                (enrollment only)
 */
#ifndef SIPTLS_TLS_TRUSTPOINT_H
#define SIPTLS_TLS_TRUSTPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

enum tls_revocation {
	TLS_REVOKE_NONE, /* accept when the earlier methods could not decide */
	TLS_REVOKE_CRL,  /* CRLs from crl_files, checked for the whole chain */
	TLS_REVOKE_OCSP, /* a stapled OCSP response, verified when the peer staples one */
};

#define TLS_TRUSTPOINT_CRL_MAX 4
#define TLS_TRUSTPOINT_REVOKE_MAX 3

struct tls_trustpoint_conf {
	const char *name;
	const char *cert_file; /* own certificate + chain; NULL: a CA-only trustpoint */
	const char *key_file;  /* its private key (RSA or EC); required with cert_file */
	const char *ca_file;   /* trusted CA bundle; NULL: peers cannot be verified */
	const char *crl_files[TLS_TRUSTPOINT_CRL_MAX];
	unsigned n_crl;
	/* `revocation-check m1 [m2 [m3]]` in order; n_revocation == 0 is the guide's default
	 * (crl) when crl_files are configured and none otherwise */
	enum tls_revocation revocation[TLS_TRUSTPOINT_REVOKE_MAX];
	unsigned n_revocation;
	const char *ocsp_staple_file; /* DER OCSP response for our certificate, served on request */
	const char *fqdn, *subject_name, *subject_alt_name; /* kept for enrollment, unused here */
	/* used by enrollment only (siptlsctl pki, core/pkictl.c), not by the handshake:
	 * key_label   `rsakeypair LABEL` / `eckeypair LABEL`: the key DIR/LABEL.key when there is
	 *             no key_file; key_label_ec tells which of the two lines it came from
	 * ip_address  `ip-address ADDR`: an IPv4/IPv6 literal for the request (NULL: none)
	 * serial_number  `serial-number`: the box's serial number goes in the request */
	const char *key_label;
	bool key_label_ec;
	const char *ip_address;
	bool serial_number;
};

/* a loaded trustpoint; the zero value is "not loaded" and safe to free */
struct tls_trustpoint {
	struct tls_trustpoint_conf conf;
	X509 *cert;             /* own certificate, NULL for a CA-only trustpoint */
	STACK_OF(X509) * chain; /* the certificates after it in cert_file */
	EVP_PKEY *key;
	X509_STORE *store;     /* CAs + CRLs + revocation flags; NULL without ca_file */
	bool crl_check;        /* CRLs are enforced (crl is the first method) */
	bool crl_soft_fail;    /* `none` follows crl: a missing CRL does not fail the chain */
	bool ocsp;             /* ocsp is one of the methods */
	unsigned char *staple; /* ocsp_staple_file contents */
	size_t staple_len;
};

/* Loads and checks every file of `conf` (strings are borrowed and must outlive tp).
 * 0, or a negative code with err naming the trustpoint and the file:
 * -ENOENT/-EACCES/... (file unreadable: the errno), -EBADMSG (no PEM object of the expected
 * kind), -EKEYREJECTED (key does not match certificate), -EKEYEXPIRED (own certificate expired
 * or not yet valid), -EINVAL (inconsistent config, e.g. crl without a CRL file). */
int tls_trustpoint_load(struct tls_trustpoint *tp, const struct tls_trustpoint_conf *conf,
                        char *err, size_t errlen) __attribute__((warn_unused_result));
void tls_trustpoint_free(struct tls_trustpoint *tp);
/* installs certificate, chain, key, trust store and OCSP stapling on ctx; 0 or -EPROTO */
int tls_trustpoint_apply(const struct tls_trustpoint *tp, SSL_CTX *ctx, bool server)
    __attribute__((warn_unused_result));

#endif
