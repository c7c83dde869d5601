/* pkictl: `siptlsctl pki ...`, the guide's step 1 (a, c, d, e) on this box's files, offline.
 *
 *   siptlsctl pki [-c FILE] [--pki-dir DIR] crypto key generate rsa general-keys [label L]
 *                                                [exportable] [modulus 2048..4096]
 *   siptlsctl pki [--pki-dir DIR] crypto key generate ec keysize 256|384 [label L] [exportable]
 *   siptlsctl pki -c FILE [--pki-dir DIR] [--serial-number S] crypto pki enroll TRUSTPOINT
 *   siptlsctl pki -c FILE [--pki-dir DIR] crypto pki authenticate TRUSTPOINT   < ca.pem
 *   siptlsctl pki -c FILE [--pki-dir DIR] crypto pki import TRUSTPOINT certificate < cert.pem
 *
 * It reads the trustpoint from the configuration file (core_conf_load) and writes keys,
 * requests and certificates as PEM files, mode 0600, in a directory of mode 0700. Where a file
 * goes: the trustpoint's key-file / certificate-file / ca-file when it names them, else
 * DIR/<label>.key for a generated key and for a trustpoint's `rsakeypair LABEL`, and
 * DIR/<TP>.key, DIR/<TP>.crt, DIR/<TP>-ca.pem, DIR/<TP>.csr for a trustpoint. The request
 * carries the trustpoint's ip-address, and with `serial-number` the box's serial number
 * (--serial-number, $SIPTLS_SERIAL_NUMBER, else tls_pki_box_serial). No daemon is involved:
 * `siptlsctl reload` applies the result.
 * See docs/pki.md.
 */
#ifndef SIPTLS_CORE_PKICTL_H
#define SIPTLS_CORE_PKICTL_H

#define CORE_PKI_DIR_DEFAULT "/etc/siptlsd/pki"

/* argv[0] is "pki". Returns the exit status: 0 done, 1 refused (the reason on stderr, "% ..."),
 * 2 bad usage. */
int core_pkictl_main(int argc, char **argv);

#endif
