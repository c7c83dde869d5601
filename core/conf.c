/* core_conf: the configuration file in the reference guide's dialect (see conf.h for the model
 * and docs/config.md for every command).
 *
 * The parser reads one line at a time: split into words, a top-level command closes whatever
 * block is open (as a router's parser does: `voice class tenant` after `dial-peer voice` leaves
 * the dial-peer), anything else is a sub-command of the open block. References between blocks
 * are checked after the last line (conf_resolve), so blocks may come in any order, and a block
 * opened twice continues where the first left off. Parsing stops at the first error.
 */
#include "core/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dialpeer.h"

#define CONF_MAX_WORDS 24
#define CONF_MAX_FILE (1u << 20) /* a config larger than this is a mistake, not a config */
#define CONF_TAG_MAX 10000       /* the guide: "Tag range is 1—10000" */
#define CONF_PREF_MAX 10         /* dial-peer preference 0..10, as on the router */
#define CONF_CHUNK 4096

/* ---- arena: a chain of chunks, so a string never moves once handed out ---- */

static char *conf_alloc(struct core_conf *c, size_t n)
{
	if (!c->arena || c->cap - c->used < n) {
		size_t cap = n + sizeof(char *) > CONF_CHUNK ? n + sizeof(char *) : CONF_CHUNK;
		char *chunk = malloc(cap);

		if (!chunk)
			return NULL;
		/* cppcheck-suppress pointerSize ; a chunk starts with the previous one's pointer */
		memcpy(chunk, &c->arena, sizeof(char *)); /* link to the previous chunk */
		c->arena = chunk;
		c->used = sizeof(char *);
		c->cap = cap;
	}
	c->used += n;
	return c->arena + c->used - n;
}

static const char *conf_strdup(struct core_conf *c, struct slice s)
{
	char *d = conf_alloc(c, s.n + 1);

	if (!d)
		return NULL;
	if (s.n)
		memcpy(d, s.p, s.n);
	d[s.n] = '\0';
	return d;
}

void core_conf_free(struct core_conf *c)
{
	char *chunk = c->arena;

	while (chunk) {
		char *prev;

		/* cppcheck-suppress pointerSize ; a chunk starts with the previous one's pointer */
		memcpy(&prev, chunk, sizeof(char *));
		free(chunk);
		chunk = prev;
	}
	memset(c, 0, sizeof(*c));
}

/* ---- lookups ---- */

static int conf_tp_find(const struct core_conf *c, struct slice name)
{
	for (unsigned i = 0; i < c->ntp; i++)
		if (slice_eq(slice_cstr(c->tp[i].name), name))
			return (int)i;
	return -1;
}

static int conf_cipher_find(const struct core_conf *c, unsigned tag)
{
	for (unsigned i = 0; i < c->nciphers; i++)
		if (c->ciphers[i].tag == tag)
			return (int)i;
	return -1;
}

static int conf_profile_find(const struct core_conf *c, unsigned tag)
{
	for (unsigned i = 0; i < c->nprofiles; i++)
		if (c->profiles[i].tls.tag == tag)
			return (int)i;
	return -1;
}

static int conf_tenant_find(const struct core_conf *c, unsigned tag)
{
	for (unsigned i = 0; i < c->ntenants; i++)
		if (c->tenants[i].tag == tag)
			return (int)i;
	return -1;
}

static int conf_peer_find(const struct core_conf *c, unsigned tag)
{
	for (unsigned i = 0; i < c->npeers; i++)
		if (c->peers[i].tag == tag)
			return (int)i;
	return -1;
}

const struct core_conf_tenant *core_conf_tenant(const struct core_conf *c, unsigned tag)
{
	int i = conf_tenant_find(c, tag);
	return i < 0 ? NULL : &c->tenants[i];
}

const struct core_conf_profile *core_conf_profile(const struct core_conf *c, unsigned tag)
{
	int i = conf_profile_find(c, tag);
	return i < 0 ? NULL : &c->profiles[i];
}

const struct tls_trustpoint_conf *core_conf_trustpoint(const struct core_conf *c, const char *name)
{
	int i = name ? conf_tp_find(c, slice_cstr(name)) : -1;
	return i < 0 ? NULL : &c->tp[i];
}

const struct tls_cipher_list *core_conf_ciphers(const struct core_conf *c, unsigned tag)
{
	int i = conf_cipher_find(c, tag);
	return i < 0 ? NULL : &c->ciphers[i];
}

/* ---- the parser's state ---- */

enum conf_block {
	CONF_NONE,
	CONF_TRUSTPOINT,
	CONF_CHAIN,
	CONF_CIPHER,
	CONF_PROFILE,
	CONF_TENANT,
	CONF_SRTP,
	CONF_DIALPEER,
	CONF_SIPUA,
	CONF_VOIP,    /* voice service voip */
	CONF_TRUSTED, /* its ip address trusted list (the voip lines still apply) */
};

/* the line of every reference, so that resolve errors point at the line that refers */
struct conf_refs {
	unsigned prof_cipher[CORE_CONF_MAX_PROFILES], prof_tp[CORE_CONF_MAX_PROFILES];
	unsigned ten_prof[CORE_CONF_MAX_TENANTS], ten_port[CORE_CONF_MAX_TENANTS];
	unsigned peer_tenant[CORE_CONF_MAX_DIALPEERS], peer_target[CORE_CONF_MAX_DIALPEERS];
	unsigned sipua_tp;
};

struct conf_parser {
	struct core_conf *c;
	const char *file;
	char *err;
	size_t errlen;
	enum conf_block blk;
	unsigned cur; /* index of the open block's entry in its array */
	bool in_cert; /* inside `certificate NN` of a certificate chain: hex lines follow */
	const char *noticed[CORE_CONF_MAX_NOTICES]; /* notice keys given, once each */
	struct conf_refs ref;
};

struct conf_line {
	unsigned no;
	struct slice text;
	struct slice w[CONF_MAX_WORDS];
	unsigned nw; /* saturates at CONF_MAX_WORDS; the rest stays in text */
};

static int conf_err(struct conf_parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int conf_err(struct conf_parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (!p->errlen)
		return -EINVAL;
	off = snprintf(p->err, p->errlen, "%s:%u: ", p->file, line);
	if (off >= 0 && (size_t)off < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + off, p->errlen - (size_t)off, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int conf_nomem(struct conf_parser *p, unsigned line)
{
	conf_err(p, line, "out of memory");
	return -ENOMEM;
}

/* One notice per key: an operator wants to know that `dtmf-relay` does nothing here, not to
 * read it once per dial-peer. */
static int conf_notice(struct conf_parser *p, unsigned line, const char *key, const char *what)
{
	char buf[256];
	unsigned i;
	const char *s;

	for (i = 0; i < CORE_CONF_MAX_NOTICES && p->noticed[i]; i++)
		if (strcmp(p->noticed[i], key) == 0)
			return 0;
	if (i == CORE_CONF_MAX_NOTICES || p->c->nnotice == CORE_CONF_MAX_NOTICES)
		return 0; /* more distinct keys than slots: the first ones are the useful ones */
	p->noticed[i] = key;
	snprintf(buf, sizeof(buf), "%s:%u: '%s' %s", p->file, line, key,
	         what ? what : "has no effect in siptlsd");
	s = conf_strdup(p->c, slice_cstr(buf));
	if (!s)
		return conf_nomem(p, line);
	p->c->notice[p->c->nnotice++] = s;
	return 0;
}

/* ---- words ---- */

static bool conf_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void conf_split(struct conf_line *l)
{
	size_t i = 0;

	l->nw = 0;
	while (i < l->text.n && l->nw < CONF_MAX_WORDS) {
		size_t start;

		while (i < l->text.n && conf_space(l->text.p[i]))
			i++;
		start = i;
		while (i < l->text.n && !conf_space(l->text.p[i]))
			i++;
		if (i > start)
			l->w[l->nw++] = slice_sub(l->text, start, i);
	}
}

static bool conf_is(const struct conf_line *l, unsigned i, const char *kw)
{
	return i < l->nw && slice_case_eq(l->w[i], slice_cstr(kw));
}

/* the line from word i to its end: names and texts that may contain spaces */
static struct slice conf_rest(const struct conf_line *l, unsigned i)
{
	if (i >= l->nw)
		return (struct slice){0};
	return slice_trim(slice_make(l->w[i].p, (size_t)(l->text.p + l->text.n - l->w[i].p)));
}

/* words 0..i, for messages about a command of several words */
static struct slice conf_head(const struct conf_line *l, unsigned i)
{
	if (i >= l->nw)
		i = l->nw - 1;
	return slice_make(l->w[0].p, (size_t)(l->w[i].p + l->w[i].n - l->w[0].p));
}

static int conf_unknown(struct conf_parser *p, const struct conf_line *l, unsigned i)
{
	return conf_err(p, l->no, "unknown command '%.*s'", SLICE_FMT(conf_head(l, i)));
}

static int conf_missing(struct conf_parser *p, const struct conf_line *l, const char *what)
{
	return conf_err(p, l->no, "missing %s: '%.*s'", what, SLICE_FMT(conf_rest(l, 0)));
}

/* at most n words */
static int conf_nargs(struct conf_parser *p, const struct conf_line *l, unsigned n)
{
	if (l->nw > n)
		return conf_err(p, l->no, "unexpected argument: '%.*s'", SLICE_FMT(l->w[n]));
	return 0;
}

static int conf_parse_num(struct conf_parser *p, unsigned line, struct slice s, unsigned lo,
                          unsigned hi, const char *what, unsigned *out)
{
	unsigned long long v;

	if (!slice_to_u64(s, hi, &v) || v < lo)
		return conf_err(p, line, "%s must be %u..%u: '%.*s'", what, lo, hi, SLICE_FMT(s));
	*out = (unsigned)v;
	return 0;
}

/* word i of l as a number in lo..hi */
static int conf_num(struct conf_parser *p, const struct conf_line *l, unsigned i, unsigned lo,
                    unsigned hi, const char *what, unsigned *out)
{
	if (i >= l->nw)
		return conf_missing(p, l, what);
	return conf_parse_num(p, l->no, l->w[i], lo, hi, what, out);
}

/* word i as a string of the arena: exactly `last + 1` words */
static int conf_word(struct conf_parser *p, const struct conf_line *l, unsigned i, const char *what,
                     const char **dst)
{
	int rc = i < l->nw ? conf_nargs(p, l, i + 1) : conf_missing(p, l, what);

	if (rc)
		return rc;
	*dst = conf_strdup(p->c, l->w[i]);
	return *dst ? 0 : conf_nomem(p, l->no);
}

/* the rest of the line from word i (a path or a text that may contain spaces) */
static int conf_text(struct conf_parser *p, const struct conf_line *l, unsigned i, const char *what,
                     const char **dst)
{
	if (i >= l->nw)
		return conf_missing(p, l, what);
	*dst = conf_strdup(p->c, conf_rest(l, i));
	return *dst ? 0 : conf_nomem(p, l->no);
}

static bool conf_is_ip(struct slice s, int af)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned char addr[sizeof(struct in6_addr)];

	if (s.n == 0 || s.n >= sizeof(buf))
		return false;
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	return inet_pton(af, buf, addr) == 1;
}

/* RFC 1035 §2.3.1 letters, digits, hyphens, dots; '_' too (service labels) */
static bool conf_is_dns(struct slice s)
{
	if (s.n == 0 || s.n > 253)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char ch = s.p[i];
		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && ch != '-' && ch != '.' && ch != '_')
			return false;
	}
	return true;
}

/* `dns:HOST[:PORT]` or `ipv4:ADDR[:PORT]`; *port = dflt when absent */
static int conf_target(struct conf_parser *p, const struct conf_line *l, unsigned i,
                       const char **host, uint16_t *port, bool *dns, uint16_t dflt)
{
	struct slice w, h;
	size_t colon;
	unsigned v = dflt;
	int rc;

	if (i >= l->nw)
		return conf_missing(p, l, "target");
	if ((rc = conf_nargs(p, l, i + 1)))
		return rc;
	w = l->w[i];
	*dns = slice_case_prefix(w, SLICE_LIT("dns:"));
	if (!*dns && !slice_case_prefix(w, SLICE_LIT("ipv4:")))
		return conf_err(p, l->no, "expected dns:HOST[:PORT] or ipv4:ADDR[:PORT]: '%.*s'",
		                SLICE_FMT(w));
	/* the prefix matched, so w.p holds at least its bytes and is not NULL */
	h = slice_make(w.p + (*dns ? 4 : 5), w.n - (*dns ? 4 : 5));
	colon = slice_find(h, ':');
	if (colon < h.n) {
		if ((rc = conf_parse_num(p, l->no, slice_sub(h, colon + 1, h.n), 1, 65535, "port",
		                         &v)))
			return rc;
		h = slice_sub(h, 0, colon);
	}
	if (*dns ? !conf_is_dns(h) : !conf_is_ip(h, AF_INET))
		return conf_err(p, l->no, "%s: '%.*s'", *dns ? "bad host name" : "bad IPv4 address",
		                SLICE_FMT(h));
	*port = (uint16_t)v;
	*host = conf_strdup(p->c, h);
	return *host ? 0 : conf_nomem(p, l->no);
}

/* ---- crypto pki trustpoint NAME ---- */

static struct tls_trustpoint_conf *conf_tp(struct conf_parser *p)
{
	return &p->c->tp[p->cur];
}

static int tp_cert_file(struct conf_parser *p, const struct conf_line *l)
{
	return conf_text(p, l, 1, "file name", &conf_tp(p)->cert_file);
}

static int tp_key_file(struct conf_parser *p, const struct conf_line *l)
{
	return conf_text(p, l, 1, "file name", &conf_tp(p)->key_file);
}

static int tp_ca_file(struct conf_parser *p, const struct conf_line *l)
{
	return conf_text(p, l, 1, "file name", &conf_tp(p)->ca_file);
}

static int tp_ocsp_file(struct conf_parser *p, const struct conf_line *l)
{
	return conf_text(p, l, 1, "file name", &conf_tp(p)->ocsp_staple_file);
}

static int tp_crl_file(struct conf_parser *p, const struct conf_line *l)
{
	struct tls_trustpoint_conf *tp = conf_tp(p);

	if (tp->n_crl == TLS_TRUSTPOINT_CRL_MAX)
		return conf_err(p, l->no, "more than %d crl-file lines: '%.*s'",
		                TLS_TRUSTPOINT_CRL_MAX, SLICE_FMT(conf_rest(l, 1)));
	if (conf_text(p, l, 1, "file name", &tp->crl_files[tp->n_crl]))
		return -EINVAL;
	tp->n_crl++;
	return 0;
}

static int tp_fqdn(struct conf_parser *p, const struct conf_line *l)
{
	return conf_word(p, l, 1, "name", &conf_tp(p)->fqdn);
}

static int tp_subject(struct conf_parser *p, const struct conf_line *l)
{
	return conf_text(p, l, 1, "name", &conf_tp(p)->subject_name);
}

static int tp_subject_alt(struct conf_parser *p, const struct conf_line *l)
{
	return conf_text(p, l, 1, "name", &conf_tp(p)->subject_alt_name);
}

/* `revocation-check m1 [m2 [m3]]`: each later method is used only when the earlier ones
 * cannot decide (the guide, step 1b.9) */
static int tp_revocation(struct conf_parser *p, const struct conf_line *l)
{
	static const char *const names[] = {
	    [TLS_REVOKE_NONE] = "none", [TLS_REVOKE_CRL] = "crl", [TLS_REVOKE_OCSP] = "ocsp"};
	struct tls_trustpoint_conf *tp = conf_tp(p);
	int rc;

	if (l->nw < 2)
		return conf_missing(p, l, "method (crl, ocsp or none)");
	if ((rc = conf_nargs(p, l, 1 + TLS_TRUSTPOINT_REVOKE_MAX)))
		return rc;
	for (unsigned i = 1; i < l->nw; i++) {
		unsigned m = 0;

		while (m < 3 && !conf_is(l, i, names[m]))
			m++;
		if (m == 3)
			return conf_err(p, l->no,
			                "revocation method must be crl, ocsp or none: '%.*s'",
			                SLICE_FMT(l->w[i]));
		tp->revocation[i - 1] = (enum tls_revocation)m;
	}
	tp->n_revocation = l->nw - 1;
	return 0;
}

/* `rsakeypair LABEL [SIZE [SIZE]]` / `eckeypair LABEL`: enrollment (siptlsctl pki) reads the
 * key DIR/LABEL.key when the trustpoint names no key-file; siptlsd itself reads key-file. The
 * sizes tell the router how to make a missing key; here `crypto key generate` makes keys, so
 * the words after the label are ignored (the guide's example `rsakeypair cube kp1` has a
 * label where the size goes). The label names a file, hence no '/' and no leading '.'. */
static int tp_keypair(struct conf_parser *p, const struct conf_line *l)
{
	struct tls_trustpoint_conf *tp = conf_tp(p);
	struct slice w;

	if (l->nw < 2)
		return conf_missing(p, l, "key label");
	w = l->w[1];
	if (w.p[0] == '.' || slice_find(w, '/') < w.n)
		return conf_err(
		    p, l->no, "key label names the file LABEL.key: no '/', no leading '.': '%.*s'",
		    SLICE_FMT(w));
	if (!(tp->key_label = conf_strdup(p->c, w)))
		return conf_nomem(p, l->no);
	tp->key_label_ec = conf_is(l, 0, "eckeypair");
	return 0;
}

/* `ip-address ADDR | none`: the request's unstructuredAddress (the guide, step 1b.5) and an
 * iPAddress SAN. The router may take an interface's address instead; siptlsctl pki works
 * offline, not on the router's interfaces, so an interface name is refused, not guessed. */
static int tp_ip_address(struct conf_parser *p, const struct conf_line *l)
{
	struct tls_trustpoint_conf *tp = conf_tp(p);

	if (l->nw < 2)
		return conf_missing(p, l, "address (or none)");
	if (conf_is(l, 1, "none")) {
		tp->ip_address = NULL;
		return conf_nargs(p, l, 2);
	}
	if (!conf_is_ip(l->w[1], AF_INET) && !conf_is_ip(l->w[1], AF_INET6))
		return conf_err(p, l->no,
		                "ip-address takes an IPv4 or IPv6 address or none, not an "
		                "interface name (write the interface's address): '%.*s'",
		                SLICE_FMT(l->w[1]));
	bool two_ips = l->nw == 3 && (conf_is_ip(l->w[2], AF_INET) || conf_is_ip(l->w[2], AF_INET6));
	if (conf_nargs(p, l, two_ips ? 2 : 3))
		return -EINVAL;
	tp->ip_address = conf_strdup(p->c, l->w[1]);
	if (!tp->ip_address)
		return conf_nomem(p, l->no);
	/* the guide's own example is "ip-address 172.18.197.154 GigabitEthernet2": the address
	 * counts, the interface after it cannot name anything here */
	return l->nw == 3 ? conf_notice(p, l->no, "ip-address",
	                                "interface name after the address has no effect") :
	                    0;
}

/* `serial-number [none]`: whether the request carries this box's serial number (step 1b.4) */
static int tp_serial(struct conf_parser *p, const struct conf_line *l)
{
	if (l->nw > 1 && !conf_is(l, 1, "none"))
		return conf_err(p, l->no,
		                "serial-number takes no value but none (the box's own serial "
		                "number is used): '%.*s'",
		                SLICE_FMT(l->w[1]));
	if (conf_nargs(p, l, 2))
		return -EINVAL;
	conf_tp(p)->serial_number = l->nw == 1;
	return 0;
}

static int tp_enrollment(struct conf_parser *p, const struct conf_line *l)
{
	static const char *const keys[] = {"enrollment", "password", "crl"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (conf_is(l, 0, keys[i]))
			return conf_notice(
			    p, l->no, keys[i],
			    "has no effect in siptlsd (siptlsctl pki enrolls by terminal)");
	return conf_unknown(p, l, 0);
}

/* ---- crypto pki certificate chain NAME: the router's key store, skipped ---- */

static int chain_certificate(struct conf_parser *p, const struct conf_line *l)
{
	if (l->nw < 2)
		return conf_missing(p, l, "serial number");
	p->in_cert = true;
	return 0;
}

static int chain_quit(struct conf_parser *p, const struct conf_line *l)
{
	p->in_cert = false;
	return conf_nargs(p, l, 1);
}

static bool conf_is_hex_line(const struct conf_line *l)
{
	for (size_t i = 0; i < l->text.n; i++) {
		char ch = l->text.p[i];
		if (!conf_space(ch) && !(ch >= '0' && ch <= '9') && !(ch >= 'a' && ch <= 'f') &&
		    !(ch >= 'A' && ch <= 'F'))
			return false;
	}
	return true;
}

/* ---- voice class tls-cipher TAG ---- */

static int cipher_add(struct conf_parser *p, const struct conf_line *l)
{
	struct tls_cipher_list *list = &p->c->ciphers[p->cur];
	struct slice name = conf_rest(l, 2);
	char why[384];
	unsigned pref = 0;
	int rc;

	if ((rc = conf_num(p, l, 1, 1, TLS_CIPHER_PREF_MAX, "cipher preference", &pref)))
		return rc;
	if (name.n == 0)
		return conf_missing(p, l, "cipher name");
	rc = tls_cipher_list_add(list, pref, name, why, sizeof(why));
	if (rc == -ENOENT) /* the message names the word and lists the valid names */
		return conf_err(p, l->no, "%s", why);
	if (rc < 0)
		return conf_err(p, l->no, "%s: '%.*s'", why, SLICE_FMT(name));
	return 0;
}

static int cipher_tls13(struct conf_parser *p, const struct conf_line *l)
{
	char why[256];

	if (l->nw < 2)
		return conf_missing(p, l, "suites");
	if (tls_cipher_list_set_tls13(&p->c->ciphers[p->cur], conf_rest(l, 1), why, sizeof(why)))
		return conf_err(p, l->no, "%s", why);
	return 0;
}

/* ---- voice class tls-profile TAG ---- */

static struct core_conf_profile *conf_prof(struct conf_parser *p)
{
	return &p->c->profiles[p->cur];
}

static int prof_cipher(struct conf_parser *p, const struct conf_line *l)
{
	int rc = conf_num(p, l, 1, 1, CONF_TAG_MAX, "tls-cipher tag", &conf_prof(p)->cipher_tag);

	p->ref.prof_cipher[p->cur] = l->no;
	return rc ? rc : conf_nargs(p, l, 2);
}

static int prof_trustpoint(struct conf_parser *p, const struct conf_line *l)
{
	p->ref.prof_tp[p->cur] = l->no;
	return conf_word(p, l, 1, "trustpoint name", &conf_prof(p)->trustpoint);
}

static int prof_validate_mode(struct conf_parser *p, const struct conf_line *l, unsigned i)
{
	static const char *const modes[] = {[TLS_CN_SAN_SERVER] = "server",
	                                    [TLS_CN_SAN_CLIENT] = "client",
	                                    [TLS_CN_SAN_BIDIRECTIONAL] = "bidirectional"};
	int rc;

	if (i >= l->nw)
		return conf_missing(p, l, "server, client or bidirectional");
	if ((rc = conf_nargs(p, l, i + 1)))
		return rc;
	for (unsigned m = TLS_CN_SAN_SERVER; m <= TLS_CN_SAN_BIDIRECTIONAL; m++)
		if (conf_is(l, i, modes[m])) {
			conf_prof(p)->tls.cn_san_mode = (enum tls_cn_san_mode)m;
			return 0;
		}
	return conf_err(p, l->no, "validation must be server, client or bidirectional: '%.*s'",
	                SLICE_FMT(l->w[i]));
}

/* `cn-san-validate MODE` (the guide's summary) */
static int prof_cn_san_validate(struct conf_parser *p, const struct conf_line *l)
{
	return prof_validate_mode(p, l, 1);
}

/* `cn-san validate MODE` (the guide's example) or `cn-san N FQDN` */
static int prof_cn_san(struct conf_parser *p, const struct conf_line *l)
{
	struct tls_profile_conf *tls = &conf_prof(p)->tls;
	unsigned n = 0;
	int rc;

	if (conf_is(l, 1, "validate"))
		return prof_validate_mode(p, l, 2);
	if ((rc = conf_num(p, l, 1, 1, TLS_PROFILE_CN_SAN_MAX, "cn-san index", &n)))
		return rc;
	if ((rc = conf_word(p, l, 2, "name", &tls->cn_san[n - 1])))
		return rc;
	if (tls->n_cn_san < n)
		tls->n_cn_san = n; /* n_cn_san spans the highest index; holes stay NULL */
	return 0;
}

static int prof_sni(struct conf_parser *p, const struct conf_line *l)
{
	if (!conf_is(l, 1, "send"))
		return l->nw < 2 ? conf_missing(p, l, "'send'") : conf_unknown(p, l, 1);
	conf_prof(p)->tls.sni_send = true;
	return conf_nargs(p, l, 2);
}

/* `tls-version min 1.2 max 1.3`, either half optional (ours) */
static int prof_tls_version(struct conf_parser *p, const struct conf_line *l)
{
	struct tls_profile_conf *tls = &conf_prof(p)->tls;
	unsigned i = 1;

	if (l->nw < 3)
		return conf_missing(p, l, "min VERSION and/or max VERSION");
	for (; i + 1 < l->nw; i += 2) {
		char v[8] = "";
		int ver;

		if (l->w[i + 1].n < sizeof(v))
			memcpy(v, l->w[i + 1].p, l->w[i + 1].n);
		ver = tls_profile_version(v);
		if (ver < 0)
			return conf_err(p, l->no,
			                "TLS version must be 1.0, 1.1, 1.2 or 1.3: '%.*s'",
			                SLICE_FMT(l->w[i + 1]));
		if (conf_is(l, i, "min"))
			tls->min_version = ver;
		else if (conf_is(l, i, "max"))
			tls->max_version = ver;
		else
			return conf_err(p, l->no, "expected min or max: '%.*s'",
			                SLICE_FMT(l->w[i]));
	}
	if (i < l->nw)
		return conf_missing(p, l, "version");
	return 0;
}

/* ---- voice class tenant TAG ---- */

static struct core_conf_tenant *conf_ten(struct conf_parser *p)
{
	return &p->c->tenants[p->cur];
}

static int ten_profile(struct conf_parser *p, const struct conf_line *l)
{
	int rc = conf_num(p, l, 1, 1, CONF_TAG_MAX, "tls-profile tag", &conf_ten(p)->profile_tag);

	p->ref.ten_prof[p->cur] = l->no;
	return rc ? rc : conf_nargs(p, l, 2);
}

static int ten_listen_port(struct conf_parser *p, const struct conf_line *l)
{
	unsigned port = 0;
	int rc;

	if (!conf_is(l, 1, "secure"))
		return l->nw < 2
		           ? conf_missing(p, l, "'secure' PORT")
		           : conf_err(p, l->no, "siptlsd listens only for TLS (secure): '%.*s'",
		                      SLICE_FMT(l->w[1]));
	if ((rc = conf_num(p, l, 2, 1, 65535, "port", &port)) || (rc = conf_nargs(p, l, 3)))
		return rc;
	conf_ten(p)->listen_port = (uint16_t)port;
	p->ref.ten_port[p->cur] = l->no;
	return 0;
}

static int ten_sip_server(struct conf_parser *p, const struct conf_line *l)
{
	struct core_conf_tenant *t = conf_ten(p);

	return conf_target(p, l, 1, &t->server_host, &t->server_port, &t->server_dns,
	                   CORE_CONF_DEFAULT_PORT);
}

/* `session transport tcp tls` (tenant and dial-peer): the only transport there is */
static int conf_session_transport(struct conf_parser *p, const struct conf_line *l)
{
	if (!conf_is(l, 2, "tcp") || !conf_is(l, 3, "tls"))
		return conf_err(p, l->no,
		                "siptlsd supports only 'session transport tcp tls': '%.*s'",
		                SLICE_FMT(conf_rest(l, 2)));
	return conf_nargs(p, l, 4);
}

static int ten_session(struct conf_parser *p, const struct conf_line *l)
{
	if (conf_is(l, 1, "transport"))
		return conf_session_transport(p, l);
	return conf_unknown(p, l, 1);
}

static int ten_url(struct conf_parser *p, const struct conf_line *l)
{
	if (l->nw < 2)
		return conf_missing(p, l, "sip or sips");
	if (!conf_is(l, 1, "sip") && !conf_is(l, 1, "sips"))
		return conf_err(p, l->no, "url must be sip or sips: '%.*s'", SLICE_FMT(l->w[1]));
	conf_ten(p)->url_sips = conf_is(l, 1, "sips");
	return conf_nargs(p, l, 2);
}

/* `bind control source-interface X`: an address is where the tenant listens; an interface name
 * cannot be resolved here (no router interfaces), so it means any address */
static int ten_bind(struct conf_parser *p, const struct conf_line *l)
{
	struct slice x;
	int rc;

	if (conf_is(l, 1, "media"))
		return conf_notice(p, l->no, "bind media", NULL);
	if (!conf_is(l, 1, "control") || !conf_is(l, 2, "source-interface"))
		return l->nw < 3 ? conf_missing(p, l, "'control source-interface' ADDR")
		                 : conf_unknown(p, l, 2);
	if (l->nw < 4)
		return conf_missing(p, l, "address or interface");
	if ((rc = conf_nargs(p, l, 4)))
		return rc;
	x = l->w[3];
	if (!conf_is_ip(x, AF_INET) && !conf_is_ip(x, AF_INET6)) {
		conf_ten(p)->listen_addr = NULL;
		return conf_notice(p, l->no, "bind control source-interface",
		                   "with an interface name listens on any address in siptlsd");
	}
	conf_ten(p)->listen_addr = conf_strdup(p->c, x);
	return conf_ten(p)->listen_addr ? 0 : conf_nomem(p, l->no);
}

static int ten_srtp(struct conf_parser *p, const struct conf_line *l)
{
	return conf_notice(p, l->no, "srtp-crypto", NULL);
}

/* `sni name HOST` (ours): the tenant chosen by that SNI name when tenants share a port */
static int ten_sni(struct conf_parser *p, const struct conf_line *l)
{
	if (!conf_is(l, 1, "name"))
		return l->nw < 2 ? conf_missing(p, l, "'name' HOST") : conf_unknown(p, l, 1);
	if (l->nw >= 3 && !conf_is_dns(l->w[2]))
		return conf_err(p, l->no, "bad host name: '%.*s'", SLICE_FMT(l->w[2]));
	return conf_word(p, l, 2, "host name", &conf_ten(p)->sni_name);
}

/* ---- dial-peer voice TAG voip ---- */

static struct core_conf_dialpeer *conf_peer(struct conf_parser *p)
{
	return &p->c->peers[p->cur];
}

static int peer_description(struct conf_parser *p, const struct conf_line *l)
{
	return conf_text(p, l, 1, "text", &conf_peer(p)->description);
}

static int peer_pattern(struct conf_parser *p, const struct conf_line *l)
{
	struct core_dialpeer_pattern pat;
	size_t at = 0;

	if (l->nw >= 2 && core_dialpeer_compile(l->w[1], &pat, &at) < 0)
		return conf_err(p, l->no, "bad destination-pattern (at character %zu): '%.*s'",
		                at + 1, SLICE_FMT(l->w[1]));
	return conf_word(p, l, 1, "pattern", &conf_peer(p)->pattern);
}

static int peer_session(struct conf_parser *p, const struct conf_line *l)
{
	struct core_conf_dialpeer *d = conf_peer(p);
	bool dns;

	if (conf_is(l, 1, "transport"))
		return conf_session_transport(p, l);
	if (conf_is(l, 1, "protocol")) {
		if (!conf_is(l, 2, "sipv2"))
			return l->nw < 3
			           ? conf_missing(p, l, "sipv2")
			           : conf_err(p, l->no, "session protocol must be sipv2: '%.*s'",
			                      SLICE_FMT(l->w[2]));
		return conf_nargs(p, l, 3);
	}
	if (!conf_is(l, 1, "target"))
		return l->nw < 2 ? conf_missing(p, l, "protocol, target or transport")
		                 : conf_unknown(p, l, 1);
	p->ref.peer_target[p->cur] = l->no;
	if (conf_is(l, 2, "sip-server")) {
		d->target = CORE_TARGET_SIP_SERVER;
		d->host = NULL;
		d->port = 0;
		return conf_nargs(p, l, 3);
	}
	d->target = CORE_TARGET_HOST;
	return conf_target(p, l, 2, &d->host, &d->port, &dns, 0);
}

static int peer_voice_class(struct conf_parser *p, const struct conf_line *l)
{
	int rc;

	if (conf_is(l, 1, "codec"))
		return conf_notice(p, l->no, "voice-class codec", NULL);
	if (!conf_is(l, 1, "sip") || !conf_is(l, 2, "tenant"))
		return l->nw < 3 ? conf_missing(p, l, "'sip tenant' TAG") : conf_unknown(p, l, 2);
	rc = conf_num(p, l, 3, 0, CONF_TAG_MAX, "tenant tag", &conf_peer(p)->tenant_tag);
	p->ref.peer_tenant[p->cur] = l->no;
	return rc ? rc : conf_nargs(p, l, 4);
}

static int peer_preference(struct conf_parser *p, const struct conf_line *l)
{
	int rc = conf_num(p, l, 1, 0, CONF_PREF_MAX, "preference", &conf_peer(p)->preference);

	return rc ? rc : conf_nargs(p, l, 2);
}

static int peer_dtmf(struct conf_parser *p, const struct conf_line *l)
{
	return conf_notice(p, l->no, "dtmf-relay", NULL);
}

static int peer_no(struct conf_parser *p, const struct conf_line *l)
{
	if (conf_is(l, 1, "vad"))
		return conf_notice(p, l->no, "no vad", NULL);
	return conf_unknown(p, l, 1);
}

/* ---- sip-ua ---- */

static int sipua_crypto(struct conf_parser *p, const struct conf_line *l)
{
	static const char *const kw[] = {"crypto", "signaling", "default", "trustpoint"};

	for (unsigned i = 1; i < 4; i++)
		if (!conf_is(l, i, kw[i]))
			return conf_unknown(p, l, i);
	p->ref.sipua_tp = l->no;
	return conf_word(p, l, 4, "trustpoint name", &p->c->default_trustpoint);
}

/* ---- voice service voip: the trusted list and the admission limits ---- */

/* `ip address trusted list` opens the list; `ip address trusted authenticate` is the router's
 * switch for the check, which here is on whenever the list has entries */
static int voip_ip(struct conf_parser *p, const struct conf_line *l)
{
	if (!conf_is(l, 1, "address") || !conf_is(l, 2, "trusted"))
		return l->nw < 3 ? conf_missing(p, l, "'address trusted list'")
		                 : conf_unknown(p, l, conf_is(l, 1, "address") ? 2 : 1);
	if (conf_is(l, 3, "authenticate")) {
		p->blk = CONF_VOIP;
		return conf_notice(p, l->no, "ip address trusted authenticate",
		                   "is implied: the check is on whenever the trusted list has entries");
	}
	if (!conf_is(l, 3, "list"))
		return l->nw < 4 ? conf_missing(p, l, "'list'") : conf_unknown(p, l, 3);
	p->blk = CONF_TRUSTED;
	return conf_nargs(p, l, 4);
}

/* `ipv4 ADDR [MASK]`, `ipv4 ADDR/LEN`, `ipv6 PREFIX/LEN` */
static int trusted_entry(struct conf_parser *p, const struct conf_line *l)
{
	struct core_conf *c = p->c;
	bool v4 = conf_is(l, 0, "ipv4");
	const char *why = "";
	int rc;

	if (l->nw < 2)
		return conf_missing(p, l, v4 ? "ADDR [MASK] or ADDR/LEN" : "PREFIX/LEN");
	if ((rc = conf_nargs(p, l, v4 ? 3 : 2)))
		return rc;
	if (c->ntrusted == CORE_CONF_MAX_TRUSTED)
		return conf_err(p, l->no, "more than %d trusted list entries: '%.*s'",
		                CORE_CONF_MAX_TRUSTED, SLICE_FMT(conf_rest(l, 1)));
	rc = v4 ? admit_prefix_parse_v4(l->w[1], l->nw > 2 ? l->w[2] : (struct slice){0},
	                                &c->trusted[c->ntrusted], &why)
	        : admit_prefix_parse_v6(l->w[1], &c->trusted[c->ntrusted], &why);
	if (rc < 0)
		return conf_err(p, l->no, "%s: '%.*s'", why, SLICE_FMT(conf_rest(l, 1)));
	c->ntrusted++;
	return 0;
}

/* a voip sub-command (also reached from inside the trusted list, which it closes) */
static int voip_num(struct conf_parser *p, const struct conf_line *l, unsigned i, unsigned lo,
                    unsigned hi, const char *what, unsigned *out)
{
	int rc = conf_num(p, l, i, lo, hi, what, out);

	p->blk = CONF_VOIP;
	return rc ? rc : conf_nargs(p, l, i + 1);
}

/* `max-connections N` (inbound, in total) or `max-connections per-source N` */
static int voip_max_conns(struct conf_parser *p, const struct conf_line *l)
{
	struct core_conf_limits *lim = &p->c->limits;

	if (conf_is(l, 1, "per-source"))
		return voip_num(p, l, 2, 1, 1000000, "connections per source", &lim->per_source);
	return voip_num(p, l, 1, 1, 10000000, "connections", &lim->max_conns);
}

/* `connection-rate per-source N [burst B]`: new connections per second from one source */
static int voip_rate(struct conf_parser *p, const struct conf_line *l)
{
	struct core_conf_limits *lim = &p->c->limits;
	int rc;

	p->blk = CONF_VOIP;
	if (!conf_is(l, 1, "per-source"))
		return l->nw < 2 ? conf_missing(p, l, "'per-source' N") : conf_unknown(p, l, 1);
	if ((rc = conf_num(p, l, 2, 1, 1000000, "connections per second", &lim->rate)))
		return rc;
	lim->burst = 0;
	if (l->nw == 3)
		return 0;
	if (!conf_is(l, 3, "burst"))
		return conf_unknown(p, l, 3);
	return voip_num(p, l, 4, 1, 1000000, "burst", &lim->burst);
}

static int voip_handshake(struct conf_parser *p, const struct conf_line *l)
{
	return voip_num(p, l, 1, 1, 600000, "handshake timeout (ms)", &p->c->limits.handshake_ms);
}

static int voip_idle(struct conf_parser *p, const struct conf_line *l)
{
	return voip_num(p, l, 1, 1, 86400000, "idle timeout (ms)", &p->c->limits.idle_ms);
}

static int voip_max_msg(struct conf_parser *p, const struct conf_line *l)
{
	return voip_num(p, l, 1, 1024, 1u << 20, "message size (bytes)", &p->c->limits.max_msg);
}

static int voip_max_headers(struct conf_parser *p, const struct conf_line *l)
{
	return voip_num(p, l, 1, 16, CORE_CONF_MAX_HEADERS, "header count",
	                &p->c->limits.max_headers);
}

static int voip_allow(struct conf_parser *p, const struct conf_line *l)
{
	p->blk = CONF_VOIP;
	return conf_notice(p, l->no, "allow-connections",
	                   "has no effect in siptlsd (it proxies SIP to SIP only)");
}

/* ---- srtp-crypto blocks: accepted as a whole (one notice when the block opens) ---- */

static int srtp_crypto(struct conf_parser *p, const struct conf_line *l)
{
	unsigned pref;
	int rc = conf_num(p, l, 1, 1, 100, "crypto preference", &pref);

	return rc ? rc : (l->nw < 3 ? conf_missing(p, l, "suite") : 0);
}

/* ---- the command tables ---- */

typedef int (*conf_fn)(struct conf_parser *p, const struct conf_line *l);

struct conf_cmd {
	const char *word;
	conf_fn fn;
};

static const struct conf_cmd conf_tp_cmds[] = {
    {"certificate-file", tp_cert_file},
    {"key-file", tp_key_file},
    {"ca-file", tp_ca_file},
    {"crl-file", tp_crl_file},
    {"ocsp-staple-file", tp_ocsp_file},
    {"fqdn", tp_fqdn},
    {"subject-name", tp_subject},
    {"subject-alt-name", tp_subject_alt},
    {"revocation-check", tp_revocation},
    {"rsakeypair", tp_keypair},
    {"eckeypair", tp_keypair},
    {"enrollment", tp_enrollment},
    {"serial-number", tp_serial},
    {"ip-address", tp_ip_address},
    {"password", tp_enrollment},
    {"crl", tp_enrollment},
    {NULL, NULL},
};

static const struct conf_cmd conf_chain_cmds[] = {
    {"certificate", chain_certificate},
    {"quit", chain_quit},
    {NULL, NULL},
};

static const struct conf_cmd conf_cipher_cmds[] = {
    {"cipher", cipher_add},
    {"tls13-ciphers", cipher_tls13},
    {NULL, NULL},
};

static const struct conf_cmd conf_prof_cmds[] = {
    {"cipher", prof_cipher},
    {"trustpoint", prof_trustpoint},
    {"cn-san-validate", prof_cn_san_validate},
    {"cn-san", prof_cn_san},
    {"sni", prof_sni},
    {"tls-version", prof_tls_version},
    {NULL, NULL},
};

static const struct conf_cmd conf_ten_cmds[] = {
    {"tls-profile", ten_profile},
    {"listen-port", ten_listen_port},
    {"sip-server", ten_sip_server},
    {"session", ten_session},
    {"url", ten_url},
    {"bind", ten_bind},
    {"srtp-crypto", ten_srtp},
    {"sni", ten_sni},
    {NULL, NULL},
};

static const struct conf_cmd conf_srtp_cmds[] = {
    {"crypto", srtp_crypto},
    {NULL, NULL},
};

static const struct conf_cmd conf_peer_cmds[] = {
    {"description", peer_description},
    {"destination-pattern", peer_pattern},
    {"session", peer_session},
    {"voice-class", peer_voice_class},
    {"preference", peer_preference},
    {"dtmf-relay", peer_dtmf},
    {"no", peer_no},
    {NULL, NULL},
};

static const struct conf_cmd conf_sipua_cmds[] = {
    {"crypto", sipua_crypto},
    {NULL, NULL},
};

#define CONF_VOIP_CMDS                                                                             \
	{"ip", voip_ip}, {"max-connections", voip_max_conns}, {"connection-rate", voip_rate},      \
	    {"handshake-timeout", voip_handshake}, {"idle-timeout", voip_idle},                    \
	    {"max-message-size", voip_max_msg}, {"max-header-count", voip_max_headers},            \
	    {"allow-connections", voip_allow}

static const struct conf_cmd conf_voip_cmds[] = {
    CONF_VOIP_CMDS,
    {NULL, NULL},
};

static const struct conf_cmd conf_trusted_cmds[] = {
    {"ipv4", trusted_entry},
    {"ipv6", trusted_entry},
    CONF_VOIP_CMDS,
    {NULL, NULL},
};

static const struct conf_cmd *const conf_block_cmds[] = {
    [CONF_NONE] = NULL,
    [CONF_TRUSTPOINT] = conf_tp_cmds,
    [CONF_CHAIN] = conf_chain_cmds,
    [CONF_CIPHER] = conf_cipher_cmds,
    [CONF_PROFILE] = conf_prof_cmds,
    [CONF_TENANT] = conf_ten_cmds,
    [CONF_SRTP] = conf_srtp_cmds,
    [CONF_DIALPEER] = conf_peer_cmds,
    [CONF_SIPUA] = conf_sipua_cmds,
    [CONF_VOIP] = conf_voip_cmds,
    [CONF_TRUSTED] = conf_trusted_cmds,
};

static conf_fn conf_lookup(const struct conf_cmd *t, struct slice word)
{
	for (; t && t->word; t++)
		if (slice_case_eq(word, slice_cstr(t->word)))
			return t->fn;
	return NULL;
}

static bool conf_is_sub_anywhere(struct slice word)
{
	for (size_t b = 0; b < sizeof(conf_block_cmds) / sizeof(conf_block_cmds[0]); b++)
		if (conf_lookup(conf_block_cmds[b], word))
			return true;
	return false;
}

/* ---- top-level commands: each opens a block (or is a line of its own) ---- */

static int conf_open_tp(struct conf_parser *p, const struct conf_line *l, struct slice name)
{
	struct core_conf *c = p->c;
	int i = conf_tp_find(c, name);

	if (i < 0) {
		if (c->ntp == CORE_CONF_MAX_TRUSTPOINTS)
			return conf_err(p, l->no, "more than %d trustpoints: '%.*s'",
			                CORE_CONF_MAX_TRUSTPOINTS, SLICE_FMT(name));
		i = (int)c->ntp;
		memset(&c->tp[i], 0, sizeof(c->tp[i]));
		c->tp[i].name = conf_strdup(c, name);
		if (!c->tp[i].name)
			return conf_nomem(p, l->no);
		c->tp_line[i] = l->no;
		c->ntp++;
	}
	p->blk = CONF_TRUSTPOINT;
	p->cur = (unsigned)i;
	return 0;
}

static int top_crypto(struct conf_parser *p, const struct conf_line *l)
{
	int rc;

	if (conf_is(l, 2, "trustpoint")) {
		if (l->nw < 4)
			return conf_missing(p, l, "trustpoint name");
		if ((rc = conf_nargs(p, l, 4)))
			return rc;
		return conf_open_tp(p, l, l->w[3]);
	}
	if (conf_is(l, 2, "certificate") && conf_is(l, 3, "chain")) {
		if (l->nw < 5)
			return conf_missing(p, l, "trustpoint name");
		p->blk = CONF_CHAIN;
		return conf_notice(p, l->no, "crypto pki certificate chain",
		                   "has no effect in siptlsd (certificates are read from "
		                   "certificate-file)");
	}
	return conf_unknown(p, l, l->nw > 2 ? 2 : 1);
}

/* the index of the block with this tag (found, or -1), appended when absent; *fresh says so.
 * Entries past n are still zero from core_conf_parse's memset. */
static int conf_open_tagged(struct conf_parser *p, const struct conf_line *l, unsigned tag,
                            int found, unsigned *n, unsigned max, const char *what, bool *fresh)
{
	*fresh = found < 0;
	if (found >= 0)
		return found;
	if (*n == max)
		return conf_err(p, l->no, "more than %u %s blocks: '%u'", max, what, tag);
	return (int)(*n)++;
}

static int top_voice_class(struct conf_parser *p, const struct conf_line *l, unsigned tag)
{
	struct core_conf *c = p->c;
	bool fresh;
	int i;

	if (conf_is(l, 2, "tls-cipher")) {
		i = conf_open_tagged(p, l, tag, conf_cipher_find(c, tag), &c->nciphers,
		                     CORE_CONF_MAX_CIPHERS, "tls-cipher", &fresh);
		if (i >= 0 && fresh)
			c->ciphers[i].tag = tag;
		p->blk = CONF_CIPHER;
	} else if (conf_is(l, 2, "tls-profile")) {
		i = conf_open_tagged(p, l, tag, conf_profile_find(c, tag), &c->nprofiles,
		                     CORE_CONF_MAX_PROFILES, "tls-profile", &fresh);
		if (i >= 0 && fresh) {
			c->profiles[i].tls.tag = tag;
			c->profiles[i].line = l->no;
		}
		p->blk = CONF_PROFILE;
	} else {
		i = conf_open_tagged(p, l, tag, conf_tenant_find(c, tag), &c->ntenants,
		                     CORE_CONF_MAX_TENANTS, "tenant", &fresh);
		if (i >= 0 && fresh) {
			c->tenants[i].tag = tag;
			c->tenants[i].line = l->no;
		}
		p->blk = CONF_TENANT;
	}
	if (i < 0)
		return i;
	p->cur = (unsigned)i;
	return 0;
}

static int top_voice(struct conf_parser *p, const struct conf_line *l)
{
	static const char *const kinds[] = {"tls-cipher", "tls-profile", "tenant", "srtp-crypto"};
	unsigned tag = 0, k = 0;
	int rc;

	if (conf_is(l, 1, "service")) { /* `voice service voip` */
		if (!conf_is(l, 2, "voip"))
			return l->nw < 3 ? conf_missing(p, l, "'voip'") : conf_unknown(p, l, 2);
		p->blk = CONF_VOIP;
		return conf_nargs(p, l, 3);
	}
	if (!conf_is(l, 1, "class"))
		return conf_unknown(p, l, 1);
	while (k < 4 && !conf_is(l, 2, kinds[k]))
		k++;
	if (k == 4)
		return l->nw < 3 ? conf_missing(p, l, "class kind") : conf_unknown(p, l, 2);
	/* tenant 0 is the global tenant: writable so its listener can be configured */
	if ((rc = conf_num(p, l, 3, k == 2 ? 0 : 1, CONF_TAG_MAX, "tag", &tag)) ||
	    (rc = conf_nargs(p, l, 4)))
		return rc;
	if (k == 3) {
		p->blk = CONF_SRTP;
		return conf_notice(p, l->no, "voice class srtp-crypto", NULL);
	}
	return top_voice_class(p, l, tag);
}

static int top_dialpeer(struct conf_parser *p, const struct conf_line *l)
{
	struct core_conf *c = p->c;
	unsigned tag = 0;
	bool fresh;
	int rc, i;

	if (!conf_is(l, 1, "voice"))
		return l->nw < 2 ? conf_missing(p, l, "'voice' TAG voip") : conf_unknown(p, l, 1);
	if ((rc = conf_num(p, l, 2, 1, CONF_TAG_MAX, "dial-peer tag", &tag)))
		return rc;
	if (!conf_is(l, 3, "voip"))
		return l->nw < 4 ? conf_missing(p, l, "'voip'")
		                 : conf_err(p, l->no, "siptlsd has only voip dial-peers: '%.*s'",
		                            SLICE_FMT(l->w[3]));
	if ((rc = conf_nargs(p, l, 4)))
		return rc;
	i = conf_open_tagged(p, l, tag, conf_peer_find(c, tag), &c->npeers, CORE_CONF_MAX_DIALPEERS,
	                     "dial-peer", &fresh);
	if (i < 0)
		return i;
	if (fresh) {
		c->peers[i].tag = tag;
		c->peers[i].line = l->no;
		p->ref.peer_tenant[i] = l->no;
	}
	p->blk = CONF_DIALPEER;
	p->cur = (unsigned)i;
	return 0;
}

static int top_sipua(struct conf_parser *p, const struct conf_line *l)
{
	p->blk = CONF_SIPUA;
	return conf_nargs(p, l, 1);
}

/* `ip domain name D` (and the older `ip domain-name D`) */
static int top_ip(struct conf_parser *p, const struct conf_line *l)
{
	unsigned i = conf_is(l, 1, "domain-name") ? 2 : 3;

	if (i == 3 && !conf_is(l, 1, "domain"))
		return conf_unknown(p, l, 1);
	if (i == 3 && !conf_is(l, 2, "name"))
		return conf_unknown(p, l, 2);
	if (i < l->nw && !conf_is_dns(l->w[i]))
		return conf_err(p, l->no, "bad domain name: '%.*s'", SLICE_FMT(l->w[i]));
	return conf_word(p, l, i, "domain name", &p->c->domain);
}

static int top_hostname(struct conf_parser *p, const struct conf_line *l)
{
	return conf_notice(p, l->no, "hostname", NULL);
}

/* `show running-config`: the first line of a pasted transcript such as the guide's example */
static int top_show(struct conf_parser *p, const struct conf_line *l)
{
	if (!conf_is(l, 1, "running-config"))
		return conf_unknown(p, l, l->nw > 1 ? 1 : 0);
	return conf_notice(p, l->no, "show running-config",
	                   "is an exec command, not configuration: ignored");
}

static int top_close(struct conf_parser *p, const struct conf_line *l)
{
	(void)p;
	(void)l;
	return 0;
}

static const struct conf_cmd conf_top_cmds[] = {
    {"crypto", top_crypto}, {"voice", top_voice}, {"dial-peer", top_dialpeer},
    {"sip-ua", top_sipua},  {"ip", top_ip},       {"hostname", top_hostname},
    {"show", top_show},     {"exit", top_close},  {"end", top_close},
    {NULL, NULL},
};

/* `crypto pki ...` is top-level; `crypto 1 AEAD_AES_256_GCM` (srtp-crypto) and
 * `crypto signaling ...` (sip-ua) are sub-commands; so is `ip address trusted ...` (voice
 * service voip), while `ip domain name` is top-level */
static conf_fn conf_top_lookup(const struct conf_line *l)
{
	if (conf_is(l, 0, "crypto") && !conf_is(l, 1, "pki"))
		return NULL;
	if (conf_is(l, 0, "ip") && conf_is(l, 1, "address")) /* voice service voip's */
		return NULL;
	return conf_lookup(conf_top_cmds, l->w[0]);
}

static int conf_line(struct conf_parser *p, const struct conf_line *l)
{
	conf_fn fn;

	if (p->blk == CONF_CHAIN && p->in_cert && conf_is_hex_line(l))
		return 0; /* the certificate's DER in hex */
	if (l->w[0].p[0] == '!') {
		p->blk = CONF_NONE;
		return 0;
	}
	if (l->nw == 1 && slice_eq(l->w[0], SLICE_LIT("1"))) {
		p->blk = CONF_NONE;
		return conf_notice(p, l->no, "1",
		                   "read as '!' (a transcription slip in the guide)");
	}
	fn = conf_top_lookup(l);
	if (fn) {
		p->blk = CONF_NONE;
		p->in_cert = false;
		return fn(p, l);
	}
	if (p->blk == CONF_NONE)
		return conf_is_sub_anywhere(l->w[0])
		           ? conf_err(p, l->no, "sub-command outside a block: '%.*s'",
		                      SLICE_FMT(l->w[0]))
		           : conf_unknown(p, l, 0);
	fn = conf_lookup(conf_block_cmds[p->blk], l->w[0]);
	return fn ? fn(p, l) : conf_unknown(p, l, 0);
}

/* ---- resolve: every reference names something that exists ---- */

/* The global tenant 0 (the router's listener on 5061, tenant 0 in the guide's `show` output)
 * serves TLS with the sip-ua default trustpoint, so it exists only when there is one: when the
 * file does not define tenant 0 but names a default trustpoint, tenant 0 listens on any address,
 * port 5061, unless another tenant already listens there without an SNI name. Without a default
 * trustpoint there is no global tenant (nothing to serve TLS with; the daemon refuses a tenant
 * without a profile): the guide's example, which has none, then loads as it is. */
static uint16_t conf_tenant0_port(const struct core_conf *c)
{
	for (unsigned i = 0; i < c->ntenants; i++) {
		const struct core_conf_tenant *t = &c->tenants[i];
		if (t->tag != 0 && t->listen_port == CORE_CONF_DEFAULT_PORT && !t->listen_addr &&
		    !t->sni_name)
			return 0;
	}
	return CORE_CONF_DEFAULT_PORT;
}

static int conf_ensure_tenant0(struct core_conf *c)
{
	struct core_conf_tenant *t;

	if (conf_tenant_find(c, 0) >= 0 || !c->default_trustpoint)
		return 0;
	if (c->ntenants == CORE_CONF_MAX_TENANTS)
		return -ENOSPC;
	t = &c->tenants[c->ntenants];
	memset(t, 0, sizeof(*t));
	t->listen_port = conf_tenant0_port(c);
	c->ntenants++;
	return 0;
}

static bool conf_str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Two tenants on one address and port must be told apart by SNI name (SO_REUSEPORT would
 * otherwise split their connections between them silently). */
static int conf_check_listeners(struct conf_parser *p)
{
	const struct core_conf *c = p->c;

	for (unsigned i = 0; i < c->ntenants; i++)
		for (unsigned j = 0; j < i; j++) {
			const struct core_conf_tenant *a = &c->tenants[j], *b = &c->tenants[i];
			if (!b->listen_port || a->listen_port != b->listen_port ||
			    !conf_str_eq(a->listen_addr, b->listen_addr) ||
			    !(a->sni_name == b->sni_name ||
			      (a->sni_name && b->sni_name &&
			       slice_case_eq(slice_cstr(a->sni_name), slice_cstr(b->sni_name)))))
				continue;
			return conf_err(
			    p, p->ref.ten_port[i] ? p->ref.ten_port[i] : b->line,
			    "listen-port already used by tenant %u (an 'sni name' tells "
			    "tenants on one port apart): '%u'",
			    a->tag, b->listen_port);
		}
	return 0;
}

static int conf_resolve_profiles(struct conf_parser *p)
{
	struct core_conf *c = p->c;

	for (unsigned i = 0; i < c->nprofiles; i++) {
		struct core_conf_profile *pr = &c->profiles[i];
		int k;

		pr->tls.ciphers = NULL;
		pr->tls.trustpoint = NULL; /* loaded later by the daemon; the name is kept */
		if (pr->cipher_tag) {
			k = conf_cipher_find(c, pr->cipher_tag);
			if (k < 0)
				return conf_err(p, p->ref.prof_cipher[i],
				                "undefined tls-cipher: '%u'", pr->cipher_tag);
			pr->tls.ciphers = &c->ciphers[k];
		}
		if (pr->trustpoint && conf_tp_find(c, slice_cstr(pr->trustpoint)) < 0)
			return conf_err(p, p->ref.prof_tp[i], "undefined trustpoint: '%s'",
			                pr->trustpoint);
	}
	return 0;
}

static int conf_resolve_peers(struct conf_parser *p)
{
	const struct core_conf *c = p->c;

	for (unsigned i = 0; i < c->npeers; i++) {
		const struct core_conf_dialpeer *d = &c->peers[i];
		const struct core_conf_tenant *t = core_conf_tenant(c, d->tenant_tag);
		unsigned line = p->ref.peer_tenant[i] ? p->ref.peer_tenant[i] : d->line;

		if (!t && d->tenant_tag == 0)
			return conf_err(
			    p, line,
			    "no voice-class sip tenant, and no global tenant (it needs a "
			    "sip-ua default trustpoint): '%u'",
			    d->tag);
		if (!t)
			return conf_err(p, line, "undefined tenant: '%u'", d->tenant_tag);
		if (d->target == CORE_TARGET_SIP_SERVER && !t->server_host)
			return conf_err(
			    p, p->ref.peer_target[i] ? p->ref.peer_target[i] : d->line,
			    "session target sip-server, but tenant %u has no sip-server: "
			    "'%u'",
			    t->tag, t->tag);
	}
	return 0;
}

static int conf_resolve(struct conf_parser *p, unsigned last)
{
	struct core_conf *c = p->c;
	int rc;

	if (c->default_trustpoint && conf_tp_find(c, slice_cstr(c->default_trustpoint)) < 0)
		return conf_err(p, p->ref.sipua_tp, "undefined trustpoint: '%s'",
		                c->default_trustpoint);
	if ((rc = conf_resolve_profiles(p)))
		return rc;
	for (unsigned i = 0; i < c->ntenants; i++) {
		const struct core_conf_tenant *t = &c->tenants[i];
		if (t->profile_tag && conf_profile_find(c, t->profile_tag) < 0)
			return conf_err(p, p->ref.ten_prof[i] ? p->ref.ten_prof[i] : t->line,
			                "undefined tls-profile: '%u'", t->profile_tag);
	}
	if (conf_ensure_tenant0(c))
		return conf_err(p, last, "no room for the global tenant 0 (%d tenants at most)",
		                CORE_CONF_MAX_TENANTS);
	if ((rc = conf_check_listeners(p)))
		return rc;
	return conf_resolve_peers(p);
}

/* ---- entry points ---- */

/* Rejects control characters, and cuts a trailing comment: a '!' after a word and a space
 * (siptlsd's; a running-config has none, but annotated examples do). A line that starts with
 * '!' stays whole: it is a separator that closes the block. */
static int conf_check_line(struct conf_parser *p, struct conf_line *l)
{
	bool word = false;

	for (size_t i = 0; i < l->text.n; i++) {
		char ch = l->text.p[i];

		if ((unsigned char)ch < 0x20 && !conf_space(ch))
			return conf_err(p, l->no, "control character in line: '\\x%02x'",
			                (unsigned char)ch);
		if (ch == '!' && word && conf_space(l->text.p[i - 1])) {
			l->text.n = i;
			break;
		}
		word |= !conf_space(ch);
	}
	return 0;
}

int core_conf_parse(struct core_conf *c, const char *name, const char *text, size_t len, char *err,
                    size_t errlen)
{
	struct conf_parser *p = calloc(1, sizeof(*p)); /* the reference lines: ~3 KiB */
	struct conf_line l = {0};
	size_t pos = 0;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (errlen)
		err[0] = '\0';
	if (!p || !(c->file = conf_strdup(c, slice_cstr(name ? name : "<config>")))) {
		snprintf(err, errlen, "%s: out of memory", name ? name : "<config>");
		free(p);
		return -ENOMEM;
	}
	*p = (struct conf_parser){.c = c, .file = c->file, .err = err, .errlen = errlen};
	while (pos < len && rc == 0) {
		size_t eol = pos + slice_find(slice_make(text + pos, len - pos), '\n');

		l.no++;
		l.text = slice_make(text + pos, eol - pos);
		pos = eol + 1;
		rc = conf_check_line(p, &l);
		conf_split(&l);
		if (rc == 0 && l.nw)
			rc = conf_line(p, &l);
	}
	if (rc == 0)
		rc = conf_resolve(p, l.no);
	free(p);
	return rc < 0 ? rc : 0;
}

int core_conf_load(struct core_conf *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n = 1;
	int fd, rc;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot read the configuration: %s", path, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)CONF_MAX_FILE) {
		close(fd);
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path,
		         CONF_MAX_FILE);
		return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && got < (size_t)st.st_size && n > 0) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n > 0)
			got += (size_t)n;
		else if (n < 0 && errno == EINTR)
			n = 1;
	}
	rc = !buf ? -ENOMEM : n < 0 ? -errno : 0;
	close(fd);
	if (rc) {
		snprintf(err, errlen, "%s: cannot read the configuration: %s", path, strerror(-rc));
		free(buf);
		return rc;
	}
	rc = core_conf_parse(c, path, buf, got, err, errlen);
	free(buf);
	return rc;
}

/* ---- the one-trunk flags as a model ---- */

static int trunk_str(struct core_conf *c, const char **dst, const char *s)
{
	*dst = s ? conf_strdup(c, slice_cstr(s)) : NULL;
	return !s || *dst ? 0 : -ENOMEM;
}

static int trunk_check(const struct core_conf_trunk *t, char *err, size_t errlen)
{
	const char *why = NULL;

	if (!t->listen_port)
		why = "a listen port is required";
	else if (t->listen_addr && !conf_is_ip(slice_cstr(t->listen_addr), AF_INET) &&
	         !conf_is_ip(slice_cstr(t->listen_addr), AF_INET6))
		why = "the listen address is not an IP address";
	else if (!t->upstream_host || (!conf_is_ip(slice_cstr(t->upstream_host), AF_INET) &&
	                               !conf_is_dns(slice_cstr(t->upstream_host))))
		why = "the upstream must be an IPv4 address or a host name";
	else if (!t->cert != !t->key)
		why = "a certificate and its key go together";
	else if (t->n_cn_san > TLS_PROFILE_CN_SAN_MAX)
		why = "too many cn-san names";
	if (why)
		snprintf(err, errlen, "one-trunk: %s", why);
	return why ? -EINVAL : 0;
}

int core_conf_one_trunk(struct core_conf *c, const struct core_conf_trunk *t, char *err,
                        size_t errlen)
{
	struct tls_trustpoint_conf *tp = &c->tp[0];
	struct core_conf_profile *pr = &c->profiles[0];
	struct core_conf_tenant *tn = &c->tenants[0];
	struct core_conf_dialpeer *d = &c->peers[0];
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = trunk_check(t, err, errlen)))
		return rc;
	c->ntp = c->nprofiles = c->ntenants = c->npeers = 1;
	rc = trunk_str(c, &c->file, "<command line>") | trunk_str(c, &tp->name, "cli") |
	     trunk_str(c, &tp->cert_file, t->cert) | trunk_str(c, &tp->key_file, t->key) |
	     trunk_str(c, &tp->ca_file, t->ca) | trunk_str(c, &pr->trustpoint, "cli") |
	     trunk_str(c, &tn->listen_addr, t->listen_addr) |
	     trunk_str(c, &tn->server_host, t->upstream_host) | trunk_str(c, &d->pattern, "T");
	for (unsigned i = 0; i < t->n_cn_san; i++)
		rc |= trunk_str(c, &pr->tls.cn_san[i], t->cn_san[i]);
	if (rc) {
		snprintf(err, errlen, "one-trunk: out of memory");
		return -ENOMEM;
	}
	pr->tls.tag = 1;
	pr->tls.cn_san_mode = t->cn_san_mode;
	pr->tls.n_cn_san = t->n_cn_san;
	pr->tls.sni_send = t->sni_send;
	tn->profile_tag = 1;
	tn->listen_port = t->listen_port;
	tn->server_port = t->upstream_port ? t->upstream_port : CORE_CONF_DEFAULT_PORT;
	tn->server_dns = !conf_is_ip(slice_cstr(t->upstream_host), AF_INET);
	tn->url_sips = t->url_sips;
	/* "T": one digit position, repeated: every all-digit user part (core/dialpeer.h) */
	d->tag = 1;
	d->target = CORE_TARGET_SIP_SERVER;
	return 0;
}

/* ---- write: `show running-config`, normalised ---- */

static const char *conf_version_name(int v)
{
	switch (v) {
	case TLS1_VERSION:
		return "1.0";
	case TLS1_1_VERSION:
		return "1.1";
	case TLS1_2_VERSION:
		return "1.2";
	case TLS1_3_VERSION:
		return "1.3";
	default:
		return NULL;
	}
}

static void write_tp(const struct tls_trustpoint_conf *tp, FILE *out)
{
	static const char *const rev[] = {
	    [TLS_REVOKE_NONE] = "none", [TLS_REVOKE_CRL] = "crl", [TLS_REVOKE_OCSP] = "ocsp"};

	fprintf(out, "crypto pki trustpoint %s\n", tp->name);
	if (tp->fqdn)
		fprintf(out, " fqdn %s\n", tp->fqdn);
	if (tp->subject_name)
		fprintf(out, " subject-name %s\n", tp->subject_name);
	if (tp->subject_alt_name)
		fprintf(out, " subject-alt-name %s\n", tp->subject_alt_name);
	if (tp->ip_address)
		fprintf(out, " ip-address %s\n", tp->ip_address);
	if (tp->serial_number)
		fputs(" serial-number\n", out);
	if (tp->n_revocation) {
		fputs(" revocation-check", out);
		for (unsigned i = 0; i < tp->n_revocation && i < TLS_TRUSTPOINT_REVOKE_MAX; i++)
			fprintf(out, " %s",
			        rev[tp->revocation[i] <= TLS_REVOKE_OCSP ? tp->revocation[i] : 0]);
		fputc('\n', out);
	}
	if (tp->key_label)
		fprintf(out, " %s %s\n", tp->key_label_ec ? "eckeypair" : "rsakeypair",
		        tp->key_label);
	if (tp->cert_file)
		fprintf(out, " certificate-file %s\n", tp->cert_file);
	if (tp->key_file)
		fprintf(out, " key-file %s\n", tp->key_file);
	if (tp->ca_file)
		fprintf(out, " ca-file %s\n", tp->ca_file);
	for (unsigned i = 0; i < tp->n_crl && i < TLS_TRUSTPOINT_CRL_MAX; i++)
		fprintf(out, " crl-file %s\n", tp->crl_files[i]);
	if (tp->ocsp_staple_file)
		fprintf(out, " ocsp-staple-file %s\n", tp->ocsp_staple_file);
	fputs("!\n", out);
}

static void write_ciphers(const struct tls_cipher_list *l, FILE *out)
{
	fprintf(out, "voice class tls-cipher %u\n", l->tag);
	for (unsigned i = 0; i < l->n && i < TLS_CIPHER_MAX; i++)
		fprintf(out, " cipher %u %s\n", l->pref[i], tls_cipher_name(l->id[i]));
	if (l->tls13[0])
		fprintf(out, " tls13-ciphers %s\n", l->tls13);
	fputs("!\n", out);
}

static void write_profile(const struct core_conf_profile *pr, FILE *out)
{
	static const char *const modes[] = {[TLS_CN_SAN_SERVER] = "server",
	                                    [TLS_CN_SAN_CLIENT] = "client",
	                                    [TLS_CN_SAN_BIDIRECTIONAL] = "bidirectional"};
	const struct tls_profile_conf *t = &pr->tls;
	const char *vmin = conf_version_name(t->min_version);
	const char *vmax = conf_version_name(t->max_version);

	fprintf(out, "voice class tls-profile %u\n", t->tag);
	if (pr->cipher_tag)
		fprintf(out, " cipher %u\n", pr->cipher_tag);
	if (pr->trustpoint)
		fprintf(out, " trustpoint %s\n", pr->trustpoint);
	if (t->cn_san_mode > TLS_CN_SAN_OFF && t->cn_san_mode <= TLS_CN_SAN_BIDIRECTIONAL)
		fprintf(out, " cn-san validate %s\n", modes[t->cn_san_mode]);
	for (unsigned i = 0; i < t->n_cn_san && i < TLS_PROFILE_CN_SAN_MAX; i++)
		if (t->cn_san[i])
			fprintf(out, " cn-san %u %s\n", i + 1, t->cn_san[i]);
	if (t->sni_send)
		fputs(" sni send\n", out);
	if (vmin || vmax)
		fprintf(out, " tls-version%s%s%s%s\n", vmin ? " min " : "", vmin ? vmin : "",
		        vmax ? " max " : "", vmax ? vmax : "");
	fputs("!\n", out);
}

/* is tenant t exactly what conf_ensure_tenant0 creates when the file leaves it out? */
static bool conf_tenant0_implicit(const struct core_conf *c, const struct core_conf_tenant *t)
{
	return t->tag == 0 && c->default_trustpoint && !t->profile_tag && !t->listen_addr &&
	       !t->server_host && !t->url_sips && !t->sni_name &&
	       t->listen_port == conf_tenant0_port(c);
}

static void write_tenant(const struct core_conf_tenant *t, FILE *out)
{
	fprintf(out, "voice class tenant %u\n", t->tag);
	if (t->profile_tag)
		fprintf(out, " tls-profile %u\n", t->profile_tag);
	if (t->listen_port)
		fprintf(out, " listen-port secure %u\n", t->listen_port);
	if (t->server_host)
		fprintf(out, " sip-server %s:%s:%u\n", t->server_dns ? "dns" : "ipv4",
		        t->server_host, t->server_port);
	fputs(" session transport tcp tls\n", out);
	fprintf(out, " url %s\n", t->url_sips ? "sips" : "sip");
	if (t->listen_addr)
		fprintf(out, " bind control source-interface %s\n", t->listen_addr);
	if (t->sni_name)
		fprintf(out, " sni name %s\n", t->sni_name);
	fputs("!\n", out);
}

static void write_peer(const struct core_conf_dialpeer *d, FILE *out)
{
	fprintf(out, "dial-peer voice %u voip\n", d->tag);
	if (d->description)
		fprintf(out, " description %s\n", d->description);
	if (d->pattern)
		fprintf(out, " destination-pattern %s\n", d->pattern);
	fputs(" session protocol sipv2\n", out);
	if (d->target == CORE_TARGET_SIP_SERVER)
		fputs(" session target sip-server\n", out);
	if (d->target == CORE_TARGET_HOST && d->host) {
		bool v4 = conf_is_ip(slice_cstr(d->host), AF_INET);
		fprintf(out, " session target %s:%s", v4 ? "ipv4" : "dns", d->host);
		if (d->port)
			fprintf(out, ":%u", d->port);
		fputc('\n', out);
	}
	if (d->tenant_tag)
		fprintf(out, " voice-class sip tenant %u\n", d->tenant_tag);
	if (d->preference)
		fprintf(out, " preference %u\n", d->preference);
	fputs("!\n", out);
}

static bool conf_limits_set(const struct core_conf_limits *l)
{
	return l->max_conns || l->per_source || l->rate || l->handshake_ms || l->idle_ms ||
	       l->max_msg || l->max_headers;
}

static void write_voip(const struct core_conf *c, FILE *out)
{
	const struct core_conf_limits *l = &c->limits;
	char buf[ADMIT_PREFIX_TEXT];

	if (!c->ntrusted && !conf_limits_set(l))
		return;
	fputs("voice service voip\n", out);
	if (c->ntrusted)
		fputs(" ip address trusted list\n", out);
	for (unsigned i = 0; i < c->ntrusted && i < CORE_CONF_MAX_TRUSTED; i++) {
		admit_prefix_format(&c->trusted[i], buf, sizeof(buf));
		fprintf(out, "  %s\n", buf);
	}
	if (l->max_conns)
		fprintf(out, " max-connections %u\n", l->max_conns);
	if (l->per_source)
		fprintf(out, " max-connections per-source %u\n", l->per_source);
	if (l->rate && l->burst)
		fprintf(out, " connection-rate per-source %u burst %u\n", l->rate, l->burst);
	else if (l->rate)
		fprintf(out, " connection-rate per-source %u\n", l->rate);
	if (l->handshake_ms)
		fprintf(out, " handshake-timeout %u\n", l->handshake_ms);
	if (l->idle_ms)
		fprintf(out, " idle-timeout %u\n", l->idle_ms);
	if (l->max_msg)
		fprintf(out, " max-message-size %u\n", l->max_msg);
	if (l->max_headers)
		fprintf(out, " max-header-count %u\n", l->max_headers);
	fputs("!\n", out);
}

void core_conf_write(const struct core_conf *c, FILE *out)
{
	if (c->domain)
		fprintf(out, "ip domain name %s\n!\n", c->domain);
	for (unsigned i = 0; i < c->ntp; i++)
		write_tp(&c->tp[i], out);
	for (unsigned i = 0; i < c->nciphers; i++)
		write_ciphers(&c->ciphers[i], out);
	for (unsigned i = 0; i < c->nprofiles; i++)
		write_profile(&c->profiles[i], out);
	for (unsigned i = 0; i < c->ntenants; i++)
		if (!conf_tenant0_implicit(c, &c->tenants[i]))
			write_tenant(&c->tenants[i], out);
	for (unsigned i = 0; i < c->npeers; i++)
		write_peer(&c->peers[i], out);
	if (c->default_trustpoint)
		fprintf(out, "sip-ua\n crypto signaling default trustpoint %s\n!\n",
		        c->default_trustpoint);
	write_voip(c, out);
	fputs("end\n", out);
}
