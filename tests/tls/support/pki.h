/* Test PKI, generated at test time with the OpenSSL API into a fresh temporary directory.
 *
 * Every file is PEM. Leaf "<name>.crt" files hold the leaf followed by the intermediate (a
 * ready-to-serve chain); "<name>.key" holds its private key. The trust anchor is ca.crt
 * (root only). Names below: see TPKI_* comments for CN/SAN contents.
 *
 *   ca.crt ca.key           root CA "Test Root CA", RSA-2048
 *   int.crt int.key         intermediate "Test Intermediate CA", EC P-256, signed by root
 *   crl.pem                 root's CRL (empty) + intermediate's CRL (revokes "revoked")
 *   server-rsa              RSA, CN=sip.acme.co, SAN DNS:sip.acme.co, DNS:alt.acme.co
 *   server-ec               EC,  same names
 *   wildcard                EC,  CN=acme wildcard, SAN DNS:*.acme.co
 *   cn-only                 EC,  CN=cnonly.acme.co, no SAN
 *   ip                      EC,  CN=ipcn.acme.co, SAN DNS:ip.acme.co, IP:127.0.0.1, IP:::1
 *                           (the CN differs from the SAN: it must be ignored)
 *   expired                 EC,  CN/SAN expired.acme.co, not after = yesterday
 *   revoked                 EC,  CN/SAN revoked.acme.co, listed in crl.pem
 *   beta                    RSA, CN/SAN sip.beta.net (a second tenant's server certificate)
 *   client                  EC,  CN/SAN client.acme.co
 *   client-cn               EC,  CN=pbx1.tenant.acme.co, no SAN
 *   client-other            EC,  CN/SAN rogue.example.net
 *   unknown-ca.crt .key     self-signed "Unknown CA" (not trusted by ca.crt)
 *   unknown                 EC,  CN/SAN sip.acme.co signed by the unknown CA (chain: leaf + CA)
 *
 * Generation takes a few hundred ms under ASan (two RSA keys); call it once per test.
 */
#ifndef SIPTLS_TESTS_TLS_PKI_H
#define SIPTLS_TESTS_TLS_PKI_H

#include <stdbool.h>
#include <stddef.h>

struct tpki {
	char dir[128]; /* the temporary directory holding the files */
};

/* generates every file above into a new directory under $TMPDIR (or /tmp); 0 or -1 */
int tpki_create(struct tpki *pki);
/* removes the files and the directory */
void tpki_destroy(struct tpki *pki);
/* "<dir>/<file>", e.g. tpki_path(&pki, "server-rsa.crt"); returns one of 16 rotating static
 * buffers, so up to 16 results may be held at once (test code only, not thread-safe) */
const char *tpki_path(const struct tpki *pki, const char *file);

/* writes a DER OCSP response to "<dir>/<out>" for <leaf>.crt, signed by the intermediate (the
 * leaf's issuer acting as its own responder, RFC 6960 section 4.2.2.2), status good or revoked,
 * valid from an hour ago for a day; 0 or -1 */
int tpki_ocsp_response(const struct tpki *pki, const char *leaf, bool revoked, const char *out);

#endif
