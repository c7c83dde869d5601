/* pki: the guide's enrollment steps (1a, 1c, 1d, 1e) as a pure library, and what an operator
 * wants to know about a certificate in use (`show crypto pki certificates`).
 *
 *   1a  crypto key generate rsa general-keys label L modulus N    tls_pki_key_generate
 *   1c  crypto pki enroll TP        a PKCS#10 request (RFC 2986)   tls_pki_csr_make
 *   1d  crypto pki authenticate TP  the CA certificate              tls_pki_ca_check
 *   1e  crypto pki import TP certificate                            tls_pki_import_check
 *
 * Nothing here touches the file system but tls_pki_write_pem; siptlsctl (core/pkictl.c) decides
 * where files go. Every refusal is a negative errno-style code and one line in err that says
 * why, in words an operator can act on. Time is a parameter (now) so tests can move it.
 */
#ifndef SIPTLS_TLS_PKI_H
#define SIPTLS_TLS_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tls/trustpoint.h"

/* the guide accepts an RSA modulus of 512..4096 bits; below 2048 OpenSSL 3's default security
 * level (2, 112-bit) refuses the key in a handshake, so we refuse it when it is made */
#define TLS_PKI_RSA_GUIDE_MIN 512
#define TLS_PKI_RSA_MIN 2048
#define TLS_PKI_RSA_MAX 4096
/* `show crypto pki` and the syslog warning: a certificate this close to its end is flagged */
#define TLS_PKI_WARN_DAYS 30

enum tls_pki_key_type { TLS_PKI_RSA, TLS_PKI_EC };

/* Generates a key: RSA of `bits` (2048..4096), or EC on P-256 / P-384 (bits 256 or 384).
 * 0, or -ERANGE (size refused; err gives the accepted range and why), -ENOMEM, -EIO. */
int tls_pki_key_generate(enum tls_pki_key_type type, unsigned bits, EVP_PKEY **out, char *err,
                         size_t errlen) __attribute__((warn_unused_result));
/* "RSA 2048", "EC P-256" (for messages); buf of 32 bytes is enough */
const char *tls_pki_key_describe(const EVP_PKEY *key, char *buf, size_t n);

/* What a trustpoint declares for its certificate (the guide's step 1b); NULL: not declared.
 *   subject_name      "cn=cube.example.com, o=Example"  (RFC 4514 order: as written)
 *   fqdn              a DNS name: dNSName in the request and the name a certificate must carry
 *   subject_alt_name  one or more DNS names or IP literals, separated by blanks or commas
 *   ip_address        an IP literal: the guide's unstructuredAddress, and an iPAddress SAN
 *   serial_number     this box's serial number: the guide's serial-number, serialNumber in the
 *                     subject */
struct tls_pki_names {
	const char *subject_name, *fqdn, *subject_alt_name, *ip_address, *serial_number;
};

/* the names a trustpoint's configuration declares, ip_address included; serial_number stays
 * NULL: the configuration says only whether to include it (tp->serial_number), the caller adds
 * the value (tls_pki_box_serial) */
struct tls_pki_names tls_pki_names_of(const struct tls_trustpoint_conf *tp);

/* ---- this box's serial number, for `serial-number` ---- */

/* the subject's serialNumber is a PrintableString of 1..64 characters (RFC 5280 A.1,
 * ub-serial-number) */
#define TLS_PKI_SERIAL_MAX 64
#define TLS_PKI_SERIAL_DMI "/sys/class/dmi/id/product_serial"
#define TLS_PKI_SERIAL_MACHINE_ID "/etc/machine-id"

/* s can be a serialNumber: 1..TLS_PKI_SERIAL_MAX PrintableString characters (X.680 41.4:
 * letters, digits, space and '()+,-./:=?) */
bool tls_pki_serial_ok(const char *s);

/* The serial number the router would use: the hardware's (dmi, the first line, trimmed) when it
 * is readable, a valid serialNumber and not a firmware placeholder ("To be filled by O.E.M.",
 * "Default string", all zeros, ...); else one derived from machine_id. The machine ID must not
 * leave the box as it is (machine-id(5)), and a request is sent to a CA and its certificate
 * shown to every peer, so what is used is 32 hex digits of HMAC-SHA256 keyed with it over
 * "siptlsd serial-number": stable for the box, not the ID. Either path may be NULL.
 * 0 with buf (>= TLS_PKI_SERIAL_MAX + 1 bytes) filled and *from set to the path used, or
 * -ENOENT (neither gives one), -ENOSPC (n too small), -EIO. */
int tls_pki_box_serial(const char *dmi, const char *machine_id, char *buf, size_t n,
                       const char **from) __attribute__((warn_unused_result));

/* Parses a subject-name ("cn=a, o=b"; attribute names as RFC 4514 and OpenSSL spell them, in
 * any case; a value may hold "\," for a comma). 0 or -EINVAL (err names the part). */
int tls_pki_subject_parse(const char *text, X509_NAME **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Builds and signs (SHA-256) a certificate request from names with key. Subject: subject_name,
 * else CN=fqdn; serialNumber and unstructuredAddress appended when declared. Extension request:
 * subjectAltName with every DNS name and IP of fqdn, subject_alt_name and ip_address (none
 * twice). 0, or -EINVAL (no name at all, or a name that does not parse; err says which). */
int tls_pki_csr_make(EVP_PKEY *key, const struct tls_pki_names *names, X509_REQ **out, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

/* Every certificate of PEM text (other text around the blocks is ignored, as pasted input has
 * some). 0 with a non-empty stack, or -EBADMSG. */
int tls_pki_pem_certs(const char *text, size_t len, STACK_OF(X509) * *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* the first private key of PEM text (unencrypted); 0 or -EBADMSG */
int tls_pki_pem_key(const char *text, size_t len, EVP_PKEY **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* "AB:CD:..." of the DER certificate under md (EVP_sha256(), EVP_sha1()); buf of 96 bytes fits
 * SHA-256 */
const char *tls_pki_fingerprint(X509 *cert, const EVP_MD *md, char *buf, size_t n);

/* Step 1d: can cert be a trustpoint's CA? It must be a CA (basicConstraints cA, RFC 5280
 * 4.2.1.9) and valid at now. 0, -EPERM (not a CA), -EKEYEXPIRED (expired or not yet valid). */
int tls_pki_ca_check(X509 *cert, time_t now, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Step 1e: may cert (with its chain, as the CA sent it) become the trustpoint's certificate?
 * Checked in this order, the first failure is the answer:
 *   -EKEYREJECTED  its public key is not the trustpoint's key
 *   -EKEYEXPIRED   expired, or not yet valid (err says which, with the date)
 *   -EPERM         it does not chain to the authenticated CA (err: OpenSSL's reason)
 *   -ENOMSG        a name the trustpoint declares is missing (err names it); DNS names must
 *                  be subjectAltName dNSName entries (RFC 6125 6.4.4: no CN fallback when
 *                  names are declared), IPs iPAddress entries
 * cas are the authenticated CA certificates (trust anchors, intermediates allowed). */
int tls_pki_import_check(X509 *cert, STACK_OF(X509) * chain, EVP_PKEY *key, STACK_OF(X509) * cas,
                         const struct tls_pki_names *names, time_t now, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* ---- what a certificate says (show crypto pki certificates) ---- */

struct tls_pki_info {
	char subject[256]; /* RFC 4514 escaping, in order: "CN=cube.example.com,O=Example" */
	char issuer[256];
	char serial[80]; /* hex, upper case, as the router prints it */
	time_t not_before, not_after;
	bool is_ca;
};

/* 0, or -EINVAL when a date cannot be read */
int tls_pki_info_get(X509 *cert, struct tls_pki_info *info) __attribute__((warn_unused_result));
/* whole days from now until not_after, rounded down; negative once it has expired */
long tls_pki_days_left(time_t not_after, time_t now);
/* "07:15:57 UTC Sep 26 2025", the router's date form */
const char *tls_pki_date(time_t t, char *buf, size_t n);

/* The syslog line for a trustpoint whose own certificate ends within TLS_PKI_WARN_DAYS:
 *   %PKI-4-CERT_EXPIRY_WARNING: Certificate expires in 12 days - trustpoint=CUBE-TrustPoint,
 *   serial=07, subject=CN=cube.example.com, end date=07:15:57 UTC Sep 26 2025
 * Returns 1 with line filled when a warning is due, 0 when not (no certificate, or more than
 * TLS_PKI_WARN_DAYS left). An expired certificate cannot be loaded, so it is not seen here. */
int tls_pki_expiry_warning(const struct tls_trustpoint *tp, time_t now, char *line, size_t n);

/* Writes PEM objects to path, mode 0600, through a temporary file renamed over it (a daemon
 * reading the file sees the old or the new one, never half). excl: refuse when path exists
 * (-EEXIST). 0 or -errno. */
struct tls_pki_pem {
	EVP_PKEY *key; /* written first when set */
	X509_REQ *req;
	X509 *cert;
	STACK_OF(X509) * more; /* certificates after cert */
};
int tls_pki_write_pem(const char *path, const struct tls_pki_pem *what, bool excl)
    __attribute__((warn_unused_result));

#endif
