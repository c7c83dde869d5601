/* pkictl: `siptlsctl pki crypto ...`, enrollment on files (see core/pkictl.h, docs/pki.md).
 *
 * The words are the router's (the guide's step 1a, 1c, 1d, 1e); each keyword may be shortened
 * to a unique prefix. Text for the operator goes to stderr, the objects asked for (the request)
 * to stdout, so `... enroll TP > tp.csr` gives a clean file.
 */
#include "core/pkictl.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "core/conf.h"
#include "tls/pki.h"

#define PK_INPUT_MAX (1u << 20) /* a pasted certificate chain is a few KiB */
#define PK_SERIAL_ENV "SIPTLS_SERIAL_NUMBER"

struct pk {
	const char *config; /* -c FILE */
	const char *dir;    /* --pki-dir */
	const char *serial; /* --serial-number, else $SIPTLS_SERIAL_NUMBER: overrides the box's */
	struct core_conf conf;
	bool have_conf;
	const struct tls_trustpoint_conf *tp;
	char **w; /* the command words after "crypto" */
	int nw;
};

static const char pk_usage[] =
    "Usage: siptlsctl pki [-c FILE] [--pki-dir DIR] crypto COMMAND...\n"
    "\n"
    "The guide's step 1, on this box's files (no daemon needed; 'siptlsctl reload' applies):\n"
    "  crypto key generate rsa general-keys [label L] [exportable] [modulus 2048..4096]\n"
    "  crypto key generate ec keysize 256|384 [label L] [exportable]\n"
    "                                        1a: a key pair, DIR/L.key\n"
    "  crypto pki enroll TP                  1c: the certificate request, printed\n"
    "  crypto pki authenticate TP            1d: paste or pipe the CA certificate\n"
    "  crypto pki import TP certificate      1e: paste or pipe the signed certificate\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   the configuration holding the trustpoint (needed by crypto pki)\n"
    "      --pki-dir DIR   where keys and certificates go when the trustpoint names no\n"
    "                      key-file / certificate-file / ca-file [" CORE_PKI_DIR_DEFAULT "]\n"
    "      --serial-number S  the serial number a trustpoint's 'serial-number' line puts in\n"
    "                      the request (also $" PK_SERIAL_ENV "); default: the hardware's\n"
    "                      (" TLS_PKI_SERIAL_DMI "), else one derived from\n"
    "                      " TLS_PKI_SERIAL_MACHINE_ID "\n"
    "Files are written mode 0600, the directory is created mode 0700. See docs/pki.md.\n"
    "Exit status: 0 done; 1 refused (the reason follows '%'); 2 bad usage.\n";

static int pk_usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "siptlsctl pki: %s%s\n(siptlsctl pki --help lists the commands)\n", what,
	        arg ? arg : "");
	return 2;
}

/* the index of w among kw[0..n) (a unique prefix will do), -1 unknown, -2 ambiguous */
static int pk_keyword(const char *w, const char *const *kw, int n)
{
	int found = -1, count = 0;
	size_t len = strlen(w);

	for (int i = 0; i < n; i++) {
		if (strcasecmp(w, kw[i]) == 0)
			return i;
		if (len && strncasecmp(w, kw[i], len) == 0) {
			found = i;
			count++;
		}
	}
	return count == 1 ? found : count ? -2 : -1;
}

/* the next word must be one of kw; prints the refusal otherwise */
static int pk_expect(struct pk *p, int at, const char *const *kw, int n)
{
	char list[200] = "";
	int k;

	if (at < p->nw && (k = pk_keyword(p->w[at], kw, n)) >= 0)
		return k;
	for (int i = 0, o = 0; i < n && o < (int)sizeof(list); i++)
		o += snprintf(list + o, sizeof(list) - (size_t)o, "%s%s", i ? " | " : "", kw[i]);
	if (at >= p->nw)
		fprintf(stderr, "%% Incomplete command: expected %s\n", list);
	else
		fprintf(stderr, "%% Invalid input at '%s': expected %s\n", p->w[at], list);
	return -1;
}

/* ---- files ---- */

/* the directory, 0700, when missing; a directory others can write to is refused */
/* the parents of dir, as `mkdir -p` makes them (0755: /etc/siptlsd holds more than keys) */
static void pk_parents(const char *dir)
{
	char buf[PATH_MAX];

	size_t n = (size_t)snprintf(buf, sizeof(buf), "%s", dir);

	if (n >= sizeof(buf))
		return;
	while (n > 1 && buf[n - 1] == '/') /* "a/b/": b is the key directory, not a parent */
		buf[--n] = '\0';
	for (char *s = strchr(buf + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		(void)mkdir(buf, 0755); /* EEXIST is the usual answer; the last mkdir reports */
		*s = '/';
	}
}

static int pk_dir(const struct pk *p)
{
	struct stat st;

	pk_parents(p->dir);
	if (mkdir(p->dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "%% Cannot create the key directory %s: %s\n", p->dir,
		        strerror(errno));
		return -1;
	}
	if (stat(p->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%% %s is not a directory\n", p->dir);
		return -1;
	}
	if (st.st_mode & 022) {
		fprintf(stderr,
		        "%% %s is writable by others (mode %03o): refusing to keep keys there\n",
		        p->dir, st.st_mode & 0777);
		return -1;
	}
	return 0;
}

/* the trustpoint's configured file, else DIR/<TP><suffix> */
static const char *pk_path(const struct pk *p, const char *configured, const char *suffix,
                           char *buf, size_t n)
{
	if (configured)
		return configured;
	snprintf(buf, n, "%s/%s%s", p->dir, p->tp->name, suffix);
	return buf;
}

/* The trustpoint's key: key-file, else the key its rsakeypair / eckeypair label names (as
 * `crypto key generate ... label L` made it), else DIR/<TP>.key */
static const char *pk_key_path(const struct pk *p, char *buf, size_t n)
{
	if (p->tp->key_file)
		return p->tp->key_file;
	if (p->tp->key_label) {
		snprintf(buf, n, "%s/%s.key", p->dir, p->tp->key_label);
		return buf;
	}
	return pk_path(p, NULL, ".key", buf, n);
}

static char *pk_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (*len + 4096 + 1 > cap) {
			char *g = realloc(buf, cap = cap ? cap * 2 : 8192);
			if (!g || cap > (size_t)PK_INPUT_MAX * 2) {
				free(g ? g : buf);
				(void)fclose(f);
				errno = EFBIG;
				return NULL;
			}
			buf = g;
		}
		size_t r = fread(buf + *len, 1, 4096, f);
		*len += r;
		if (r == 0)
			break;
	}
	buf[*len] = '\0';
	(void)fclose(f); /* read only: nothing to lose */
	return buf;
}

static int pk_load_key(const char *path, EVP_PKEY **key)
{
	size_t len;
	char *text = pk_read_file(path, &len), err[256];
	int rc;

	if (!text) {
		fprintf(stderr, "%% No key pair at %s: %s\n", path, strerror(errno));
		fprintf(stderr, "  generate one (crypto key generate rsa general-keys label L ...) "
		                "and name it in the trustpoint: rsakeypair L (or key-file PATH)\n");
		return -1;
	}
	rc = tls_pki_pem_key(text, len, key, err, sizeof(err));
	OPENSSL_cleanse(text, len);
	free(text);
	if (rc) {
		fprintf(stderr, "%% %s: %s\n", path, err);
		return -1;
	}
	return 0;
}

static int pk_load_certs(const char *path, STACK_OF(X509) * *certs)
{
	size_t len;
	char *text = pk_read_file(path, &len), err[256];
	int rc;

	if (!text)
		return -errno;
	rc = tls_pki_pem_certs(text, len, certs, err, sizeof(err));
	free(text);
	return rc;
}

/* Pasted or piped PEM. On a terminal, as the router asks: up to a blank line after the last
 * END line, or "quit"; from a pipe, everything. */
static char *pk_read_input(const char *what, size_t *len)
{
	bool tty = isatty(STDIN_FILENO);
	char line[1024], *buf = malloc(PK_INPUT_MAX + 1);
	bool ended = false;

	*len = 0;
	if (!buf)
		return NULL;
	if (tty)
		fprintf(
		    stderr,
		    "Enter the base 64 encoded %s.\nEnd with a blank line or the word \"quit\" on "
		    "a line by itself\n\n",
		    what);
	while (fgets(line, sizeof(line), stdin)) {
		size_t n = strlen(line);
		size_t w = strcspn(line, "\r\n"); /* the line's text, without its end */
		if (tty && ((w == 4 && strncmp(line, "quit", 4) == 0) || (ended && w == 0)))
			break;
		if (strstr(line, "-----END "))
			ended = true;
		if (*len + n > PK_INPUT_MAX)
			break;
		memcpy(buf + *len, line, n);
		*len += n;
	}
	buf[*len] = '\0';
	return buf;
}

static void pk_show_cert(X509 *cert, const char *indent)
{
	struct tls_pki_info info;
	char fp[100], a[40], b[40];

	if (tls_pki_info_get(cert, &info) != 0)
		return;
	fprintf(stderr, "%sSubject: %s\n", indent, info.subject);
	fprintf(stderr, "%sIssuer: %s\n", indent, info.issuer);
	fprintf(stderr, "%sSerial Number (hex): %s\n", indent, info.serial);
	fprintf(stderr, "%sValidity: %s to %s\n", indent,
	        tls_pki_date(info.not_before, a, sizeof(a)),
	        tls_pki_date(info.not_after, b, sizeof(b)));
	fprintf(stderr, "%sFingerprint SHA256: %s\n", indent,
	        tls_pki_fingerprint(cert, EVP_sha256(), fp, sizeof(fp)));
	fprintf(stderr, "%sFingerprint SHA1:   %s\n", indent,
	        tls_pki_fingerprint(cert, EVP_sha1(), fp, sizeof(fp)));
}

/* the config line to add when the trustpoint names no file of that kind */
static void pk_hint(const char *configured, const char *keyword, const char *path)
{
	if (!configured)
		fprintf(
		    stderr,
		    "  (the trustpoint names no %s: add the line '%s %s' to it for siptlsd to use "
		    "it)\n",
		    keyword, keyword, path);
}

/* ---- crypto key generate (1a) ---- */

struct pk_keyspec {
	enum tls_pki_key_type type;
	unsigned bits; /* 0: not given */
	char label[128];
};

static int pk_number(const char *w, unsigned *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = w ? strtoul(w, &end, 10) : 0;
	if (!w || errno || end == w || *end || w[0] == '-' || n > 65536)
		return -1;
	*v = (unsigned)n;
	return 0;
}

/* the words after "rsa" / "ec" */
static int pk_keyopts(struct pk *p, int at, struct pk_keyspec *k)
{
	static const char *const rsa[] = {"general-keys", "usage-keys", "label",  "exportable",
	                                  "modulus",      "storage",    "keysize"};
	for (; at < p->nw; at++) {
		int o = pk_expect(p, at, rsa, 7);
		const char *arg = at + 1 < p->nw ? p->w[at + 1] : NULL;
		if (o < 0)
			return -1;
		if (o == 1 || o == 5) {
			fprintf(stderr,
			        "%% '%s' is not supported: siptlsd keeps one general-purpose key "
			        "per file\n",
			        rsa[o]);
			return -1;
		}
		if ((o == 0 && k->type != TLS_PKI_RSA) || (o == 4 && k->type != TLS_PKI_RSA) ||
		    (o == 6 && k->type != TLS_PKI_EC)) {
			fprintf(stderr, "%% '%s' does not apply to %s keys\n", rsa[o],
			        k->type == TLS_PKI_RSA ? "RSA" : "EC");
			return -1;
		}
		if (o == 2) {
			if (!arg || strchr(arg, '/') || arg[0] == '.' ||
			    strlen(arg) >= sizeof(k->label)) {
				fprintf(stderr,
				        "%% label: expected a name without '/' (not starting with "
				        "'.')\n");
				return -1;
			}
			snprintf(k->label, sizeof(k->label), "%s", arg);
			at++;
		} else if (o == 4 || o == 6) {
			if (pk_number(arg, &k->bits)) {
				fprintf(stderr, "%% %s: expected a number of bits\n", rsa[o]);
				return -1;
			}
			at++;
		}
		/* general-keys: the default; exportable: every key here is a file */
	}
	return 0;
}

/* the router prompts for the size when it is not given; so do we, on a terminal */
static int pk_ask_bits(struct pk_keyspec *k)
{
	char line[64];

	if (k->bits)
		return 0;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "%% %s: expected %s\n",
		        k->type == TLS_PKI_RSA ? "modulus" : "keysize",
		        k->type == TLS_PKI_RSA ? "modulus 2048..4096" : "keysize 256 | 384");
		return -1;
	}
	fprintf(stderr, "How many bits in the modulus [2048]: ");
	if (!fgets(line, sizeof(line), stdin))
		return -1;
	line[strcspn(line, "\n")] = '\0';
	if (!line[0])
		k->bits = 2048;
	else if (pk_number(line, &k->bits)) {
		fprintf(stderr, "%% not a number: %s\n", line);
		return -1;
	}
	return 0;
}

static int pk_key_generate(struct pk *p, int at)
{
	static const char *const types[] = {"rsa", "ec"};
	struct pk_keyspec k = {0};
	char path[PATH_MAX], err[256], desc[32];
	EVP_PKEY *key = NULL;
	int t = pk_expect(p, at, types, 2), rc;

	if (t < 0)
		return 1;
	k.type = t == 0 ? TLS_PKI_RSA : TLS_PKI_EC;
	if (pk_keyopts(p, at + 1, &k))
		return 1;
	if (!k.label[0] && (gethostname(k.label, sizeof(k.label)) != 0 || !k.label[0]))
		snprintf(k.label, sizeof(k.label), "siptlsd");
	fprintf(stderr, "The name for the keys will be: %s\n", k.label);
	if (pk_ask_bits(&k))
		return 1;
	if (tls_pki_key_generate(k.type, k.bits, &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "%% %s\n", err);
		return 1;
	}
	if (pk_dir(p)) {
		EVP_PKEY_free(key);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s.key", p->dir, k.label);
	rc = tls_pki_write_pem(path, &(struct tls_pki_pem){.key = key}, true);
	tls_pki_key_describe(key, desc, sizeof(desc));
	EVP_PKEY_free(key);
	if (rc == -EEXIST) {
		fprintf(stderr,
		        "%% You already have keys named %s (%s): remove that file first to "
		        "replace them\n",
		        k.label, path);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "%% Cannot write %s: %s\n", path, strerror(-rc));
		return 1;
	}
	fprintf(stderr, "%% Generated the key pair (%s): %s, mode 0600\n", desc, path);
	fprintf(stderr,
	        "  name it in the trustpoint: %s %s (siptlsctl pki finds it by label; siptlsd "
	        "reads key-file %s)\n",
	        k.type == TLS_PKI_EC ? "eckeypair" : "rsakeypair", k.label, path);
	return 0;
}

/* ---- crypto pki ... (1c, 1d, 1e) ---- */

static int pk_trustpoint(struct pk *p, const char *name)
{
	char err[512];

	if (!p->config) {
		fprintf(stderr,
		        "%% crypto pki needs the configuration: siptlsctl pki -c FILE ...\n");
		return -1;
	}
	p->have_conf = true; /* freed either way (core/conf.h) */
	if (core_conf_load(&p->conf, p->config, err, sizeof(err)) != 0) {
		fprintf(stderr, "%% %s\n", err);
		return -1;
	}
	if (!name) {
		fprintf(stderr, "%% Incomplete command: expected a trustpoint name\n");
		return -1;
	}
	if (!(p->tp = core_conf_trustpoint(&p->conf, name))) {
		fprintf(stderr, "%% Trustpoint %s is not defined in %s; defined:", name, p->config);
		for (unsigned i = 0; i < p->conf.ntp; i++)
			fprintf(stderr, " %s", p->conf.tp[i].name);
		fprintf(stderr, "%s\n", p->conf.ntp ? "" : " none");
		return -1;
	}
	return 0;
}

/* The names the request and the import check use (ip-address included; the serial number is
 * added by pk_serial for the request only: a CA need not copy it, so import does not check it) */
static struct tls_pki_names pk_names(const struct pk *p)
{
	return tls_pki_names_of(p->tp);
}

/* the value of `serial-number`: --serial-number or $SIPTLS_SERIAL_NUMBER, else the box's */
static int pk_serial(const struct pk *p, char *buf, size_t n, const char **from)
{
	const char *o = p->serial ? p->serial : getenv(PK_SERIAL_ENV);
	int rc;

	if (o) {
		if (!tls_pki_serial_ok(o)) {
			fprintf(
			    stderr,
			    "%% serial number '%s' (%s) cannot be a certificate's serialNumber: "
			    "use 1 to %d letters, digits, spaces or '()+,-./:=?\n",
			    o, p->serial ? "--serial-number" : "$" PK_SERIAL_ENV,
			    TLS_PKI_SERIAL_MAX);
			return -1;
		}
		snprintf(buf, n, "%s", o);
		*from = p->serial ? "--serial-number" : "$" PK_SERIAL_ENV;
		return 0;
	}
	rc = tls_pki_box_serial(TLS_PKI_SERIAL_DMI, TLS_PKI_SERIAL_MACHINE_ID, buf, n, from);
	if (rc) {
		fprintf(stderr,
		        "%% Trustpoint %s asks for serial-number, but this box has none (%s, %s: "
		        "%s): give one with --serial-number S, or write 'serial-number none'\n",
		        p->tp->name, TLS_PKI_SERIAL_DMI, TLS_PKI_SERIAL_MACHINE_ID, strerror(-rc));
		return -1;
	}
	return 0;
}

static int pk_enroll(struct pk *p)
{
	char kbuf[PATH_MAX], cbuf[PATH_MAX], err[512], serial[TLS_PKI_SERIAL_MAX + 1];
	const char *kpath = pk_key_path(p, kbuf, sizeof(kbuf)), *from = NULL;
	struct tls_pki_names nm = pk_names(p);
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	int rc;

	if (p->tp->serial_number) {
		if (pk_serial(p, serial, sizeof(serial), &from))
			return 1;
		nm.serial_number = serial;
	}
	if (pk_load_key(kpath, &key))
		return 1;
	rc = tls_pki_csr_make(key, &nm, &req, err, sizeof(err));
	EVP_PKEY_free(key);
	if (rc) {
		fprintf(stderr, "%% Trustpoint %s: %s\n", p->tp->name, err);
		return 1;
	}
	fprintf(stderr, "%% Start certificate enrollment ..\n");
	char subject[256];
	X509_NAME_oneline(X509_REQ_get_subject_name(req), subject, sizeof(subject));
	fprintf(stderr, "%% The subject name in the certificate will include: %s\n", subject);
	if (nm.fqdn)
		fprintf(stderr, "%% The fully-qualified domain name will be included: %s\n",
		        nm.fqdn);
	if (nm.subject_alt_name)
		fprintf(stderr, "%% The subject alternative names will include: %s\n",
		        nm.subject_alt_name);
	if (nm.ip_address)
		fprintf(stderr, "%% The IP address in the certificate is %s\n", nm.ip_address);
	if (nm.serial_number)
		fprintf(stderr, "%% The serial number in the certificate will be: %s (from %s)\n",
		        nm.serial_number, from);
	fprintf(stderr, "%% The request is signed with the key %s\n", kpath);
	/* a copy in the directory too, for the record; it is not secret, but 0600 like the rest */
	if (pk_dir(p) == 0) {
		const char *csr = pk_path(p, NULL, ".csr", cbuf, sizeof(cbuf));
		if (tls_pki_write_pem(csr, &(struct tls_pki_pem){.req = req}, false) == 0)
			fprintf(stderr, "%% A copy of the request is in %s\n", csr);
	}
	fprintf(stderr, "Certificate Request follows:\n\n");
	rc = PEM_write_X509_REQ(stdout, req) ? 0 : 1;
	fflush(stdout);
	fprintf(stderr, "\n---End - This line not part of the certificate request---\n");
	X509_REQ_free(req);
	return rc;
}

/* on a terminal the router asks before trusting a CA; from a pipe the operator already chose */
static bool pk_confirm(void)
{
	char line[16];

	if (!isatty(STDIN_FILENO))
		return true;
	fprintf(stderr, "%% Do you accept this certificate? [yes/no]: ");
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return strncasecmp(line, "y", 1) == 0;
}

static int pk_authenticate(struct pk *p)
{
	char buf[PATH_MAX], err[512];
	const char *path = pk_path(p, p->tp->ca_file, "-ca.pem", buf, sizeof(buf));
	STACK_OF(X509) *cas = NULL;
	size_t len;
	char *text = pk_read_input("CA certificate", &len);
	int rc = 1;

	if (!text || tls_pki_pem_certs(text, len, &cas, err, sizeof(err))) {
		fprintf(stderr, "%% %s\n", text ? err : "out of memory");
		free(text);
		return 1;
	}
	free(text);
	for (int i = 0; i < sk_X509_num(cas); i++) {
		fprintf(stderr, "Certificate has the following attributes:\n");
		pk_show_cert(sk_X509_value(cas, i), "       ");
		if (tls_pki_ca_check(sk_X509_value(cas, i), time(NULL), err, sizeof(err))) {
			fprintf(stderr, "%% CA certificate refused: %s\n", err);
			goto out;
		}
	}
	if (!pk_confirm()) {
		fprintf(stderr, "%% Certificate not accepted\n");
		goto out;
	}
	if (pk_dir(p))
		goto out;
	struct tls_pki_pem w = {.cert = sk_X509_value(cas, 0), .more = NULL};
	STACK_OF(X509) *rest = sk_X509_dup(cas);
	if (rest) {
		(void)sk_X509_shift(rest);
		w.more = rest;
	}
	if (access(path, F_OK) == 0) /* a CA renewed or changed: say what is replaced */
		fprintf(stderr, "%% Replacing the CA certificate(s) in %s\n", path);
	int wr = tls_pki_write_pem(path, &w, false);
	sk_X509_free(rest);
	if (wr) {
		fprintf(stderr, "%% Cannot write %s: %s\n", path, strerror(-wr));
		goto out;
	}
	fprintf(stderr, "Trustpoint CA certificate accepted: %s\n", path);
	pk_hint(p->tp->ca_file, "ca-file", path);
	rc = 0;
out:
	sk_X509_pop_free(cas, X509_free);
	return rc;
}

/* the authenticated CA of the trustpoint, or a refusal saying to authenticate first */
static int pk_cas(const struct pk *p, STACK_OF(X509) * *cas)
{
	char buf[PATH_MAX];
	const char *path = pk_path(p, p->tp->ca_file, "-ca.pem", buf, sizeof(buf));
	int rc = pk_load_certs(path, cas);

	if (rc == 0)
		return 0;
	fprintf(stderr,
	        "%% Trustpoint %s is not authenticated (%s: %s): run 'crypto pki "
	        "authenticate %s' first\n",
	        p->tp->name, path, rc == -EBADMSG ? "no certificate in it" : strerror(-rc),
	        p->tp->name);
	return -1;
}

static int pk_import_write(const struct pk *p, STACK_OF(X509) * certs)
{
	char buf[PATH_MAX], kbuf[PATH_MAX], a[40];
	const char *path = pk_path(p, p->tp->cert_file, ".crt", buf, sizeof(buf));
	struct tls_pki_info info;
	STACK_OF(X509) *rest = sk_X509_dup(certs);
	int rc;

	if (!rest || pk_dir(p)) {
		sk_X509_free(rest);
		return 1;
	}
	(void)sk_X509_shift(rest);
	rc = tls_pki_write_pem(
	    path, &(struct tls_pki_pem){.cert = sk_X509_value(certs, 0), .more = rest}, false);
	sk_X509_free(rest);
	if (rc) {
		fprintf(stderr, "%% Cannot write %s: %s\n", path, strerror(-rc));
		return 1;
	}
	if (tls_pki_info_get(sk_X509_value(certs, 0), &info) == 0)
		fprintf(stderr, "%% Router Certificate successfully imported: %s, valid until %s\n",
		        info.subject, tls_pki_date(info.not_after, a, sizeof(a)));
	fprintf(stderr, "  written to %s; 'siptlsctl reload' (or SIGHUP) makes siptlsd serve it\n",
	        path);
	pk_hint(p->tp->cert_file, "certificate-file", path);
	/* siptlsd reads the key from key-file only: a key found by label must be named too */
	pk_hint(p->tp->key_file, "key-file", pk_key_path(p, kbuf, sizeof(kbuf)));
	return 0;
}

static int pk_import(struct pk *p, int at)
{
	static const char *const what[] = {"certificate"};
	char kbuf[PATH_MAX], err[512];
	STACK_OF(X509) *certs = NULL, *cas = NULL, *chain = NULL;
	EVP_PKEY *key = NULL;
	size_t len;
	char *text = NULL;
	int rc = 1;

	if (pk_expect(p, at, what, 1) < 0)
		return 1;
	if (pk_load_key(pk_key_path(p, kbuf, sizeof(kbuf)), &key) || pk_cas(p, &cas))
		goto out;
	if (!(text = pk_read_input("certificate", &len)) ||
	    tls_pki_pem_certs(text, len, &certs, err, sizeof(err))) {
		fprintf(stderr, "%% %s\n", text ? err : "out of memory");
		goto out;
	}
	struct tls_pki_names nm = pk_names(p);
	if (!(chain = sk_X509_dup(certs)))
		goto out;
	(void)sk_X509_shift(chain);
	if (tls_pki_import_check(sk_X509_value(certs, 0), chain, key, cas, &nm, time(NULL), err,
	                         sizeof(err))) {
		fprintf(stderr, "%% Certificate refused for trustpoint %s: %s\n", p->tp->name, err);
		goto out;
	}
	rc = pk_import_write(p, certs);
out:
	free(text);
	sk_X509_free(chain);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(cas, X509_free);
	EVP_PKEY_free(key);
	return rc;
}

static int pk_pki(struct pk *p, int at)
{
	static const char *const verbs[] = {"enroll", "authenticate", "import"};
	int v = pk_expect(p, at, verbs, 3);

	if (v < 0 || pk_trustpoint(p, at + 1 < p->nw ? p->w[at + 1] : NULL))
		return 1;
	if (v == 2)
		return pk_import(p, at + 2);
	if (at + 2 < p->nw) {
		fprintf(stderr, "%% Invalid input at '%s': expected end of line\n", p->w[at + 2]);
		return 1;
	}
	return v == 0 ? pk_enroll(p) : pk_authenticate(p);
}

static int pk_run(struct pk *p)
{
	static const char *const top[] = {"crypto"};
	static const char *const what[] = {"key", "pki"};
	static const char *const gen[] = {"generate"};
	int k;

	if (pk_expect(p, 0, top, 1) < 0 || (k = pk_expect(p, 1, what, 2)) < 0)
		return 1;
	if (k == 1)
		return pk_pki(p, 2);
	if (pk_expect(p, 2, gen, 1) < 0)
		return 1;
	return pk_key_generate(p, 3);
}

int core_pkictl_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"pki-dir", required_argument, NULL, 'd'},
	    {"serial-number", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct pk p = {.dir = CORE_PKI_DIR_DEFAULT};
	int c, rc;

	optind = 0; /* glibc: start over (siptlsctl's own options were parsed before "pki") */
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			p.config = optarg;
			break;
		case 'd':
			p.dir = optarg;
			break;
		case 's':
			p.serial = optarg;
			break;
		case 'h':
			fputs(pk_usage, stdout);
			return 0;
		default:
			return pk_usage_error("unknown option", NULL);
		}
	}
	if (optind == argc)
		return pk_usage_error("no command given", NULL);
	p.w = argv + optind;
	p.nw = argc - optind;
	rc = pk_run(&p);
	if (p.have_conf)
		core_conf_free(&p.conf);
	return rc;
}
