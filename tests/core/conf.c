/* Tests for core/conf.c: the guide's example, every command, every error class with file, line
 * and word, the global tenant 0, the one-trunk model, and the round trip through
 * core_conf_write. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"

#define DATA SIPTLS_SOURCE_DIR "/tests/core/data/"

static struct core_conf c;
static char err[1024];

static void teardown(void)
{
	core_conf_free(&c);
}

TestSuite(core_conf, .fini = teardown);

static int parse(const char *text)
{
	core_conf_free(&c);
	return core_conf_parse(&c, "t.cfg", text, strlen(text), err, sizeof(err));
}

static void parse_ok(const char *text)
{
	int rc = parse(text);
	cr_assert_eq(rc, 0, "rc %d: %s\n%s", rc, err, text);
}

static bool has_notice(const struct core_conf *m, const char *sub)
{
	for (unsigned i = 0; i < m->nnotice; i++)
		if (strstr(m->notice[i], sub))
			return true;
	return false;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* ---- the guide's example ---- */

Test(core_conf, guide_example_model)
{
	const struct core_conf_tenant *t;
	const struct core_conf_profile *pr;
	const struct tls_cipher_list *cl;
	const struct tls_trustpoint_conf *tp;
	const struct core_conf_dialpeer *d = &c.peers[0];
	int rc = core_conf_load(&c, DATA "guide-example.cfg", err, sizeof(err));

	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(c.domain, "example.com");
	cr_assert_null(c.default_trustpoint);

	tp = core_conf_trustpoint(&c, "CUBE-TrustPoint");
	cr_assert_not_null(tp);
	cr_assert_eq(c.ntp, 1);
	cr_assert_str_eq(tp->fqdn, "cube.example.com");
	cr_assert_str_eq(tp->subject_name, "cn=cube.example.com");
	cr_assert_str_eq(tp->subject_alt_name, "cube.example.com");
	cr_assert_eq(tp->n_revocation, 1);
	cr_assert_eq(tp->revocation[0], TLS_REVOKE_CRL);
	cr_assert_str_eq(tp->cert_file, "/etc/siptlsd/cube.crt");
	cr_assert_str_eq(tp->key_file, "/etc/siptlsd/cube.key");
	cr_assert_str_eq(tp->ca_file, "/etc/siptlsd/ca.pem");
	cr_assert_eq(tp->n_crl, 1);
	cr_assert_str_eq(tp->crl_files[0], "/etc/siptlsd/ca.crl");
	cr_assert_str_eq(tp->key_label, "cube", "the guide's 'rsakeypair cube kp1': word 1");
	cr_assert_not(tp->key_label_ec);
	cr_assert_null(tp->ip_address);
	cr_assert_not(tp->serial_number);
	cr_assert_eq(c.tp_line[0], 4);

	cl = core_conf_ciphers(&c, 100);
	cr_assert_not_null(cl);
	cr_assert_eq(cl->n, 1);
	cr_assert_eq(cl->pref[0], 1);
	cr_assert_eq(cl->id[0], TLS_CIPHER_DHE_RSA_AES128_GCM_SHA256);

	pr = core_conf_profile(&c, 100);
	cr_assert_not_null(pr);
	cr_assert_eq(pr->cipher_tag, 100);
	cr_assert_eq(pr->tls.ciphers, cl, "the profile points at the resolved list");
	cr_assert_str_eq(pr->trustpoint, "CUBE-TrustPoint");
	cr_assert_null(pr->tls.trustpoint, "trustpoints are loaded later, by the daemon");
	cr_assert_eq(pr->tls.cn_san_mode, TLS_CN_SAN_BIDIRECTIONAL);
	cr_assert_eq(pr->tls.n_cn_san, 1);
	cr_assert_str_eq(pr->tls.cn_san[0], "sip.acme.co");
	cr_assert_not(pr->tls.sni_send);
	cr_assert_eq(pr->line, 31);

	t = core_conf_tenant(&c, 100);
	cr_assert_not_null(t);
	cr_assert_eq(t->profile_tag, 100);
	cr_assert_eq(t->listen_port, 5080);
	cr_assert_null(t->listen_addr, "an interface name means any address");
	cr_assert_str_eq(t->server_host, "sip.acme.co");
	cr_assert_eq(t->server_port, 5080);
	cr_assert(t->server_dns);
	cr_assert(t->url_sips);
	cr_assert_eq(t->line, 17);

	cr_assert_null(core_conf_tenant(&c, 0), "no default trustpoint: no global tenant");
	cr_assert_eq(c.ntenants, 1);

	cr_assert_eq(c.npeers, 1);
	cr_assert_eq(d->tag, 100);
	cr_assert_str_eq(d->pattern, "1000");
	cr_assert_str_eq(d->description, "Towards sip.acme.co");
	cr_assert_eq(d->tenant_tag, 100);
	cr_assert_eq(d->target, CORE_TARGET_SIP_SERVER);
	cr_assert_null(d->host);
	cr_assert_eq(d->line, 36);
}

Test(core_conf, guide_example_notices)
{
	static const char *const want[] = {
	    ":1: 'show running-config' is an exec command",
	    ":5: 'enrollment' has no effect",
	    ":15: 'crypto pki certificate chain' has no effect",
	    ":21: 'srtp-crypto' has no effect in siptlsd",
	    ":24: 'bind control source-interface' with an interface name listens on any address",
	    ":25: 'bind media' has no effect in siptlsd",
	    ":26: 'voice class srtp-crypto' has no effect in siptlsd",
	    ":41: 'voice-class codec' has no effect in siptlsd",
	    ":43: 'dtmf-relay' has no effect in siptlsd",
	    ":44: 'no vad' has no effect in siptlsd",
	    ":45: '1' read as '!'",
	};
	const size_t n = sizeof(want) / sizeof(want[0]);

	cr_assert_eq(core_conf_load(&c, DATA "guide-example.cfg", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.nnotice, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert(strstr(c.notice[i], want[i]), "notice %zu: %s", i, c.notice[i]);
		cr_assert(strncmp(c.notice[i], DATA "guide-example.cfg:", strlen(DATA) + 18) == 0,
		          "notices name the file: %s", c.notice[i]);
	}
}

Test(core_conf, notice_once_per_command)
{
	parse_ok("voice class tenant 1\n sip-server dns:a.example\n"
	         "dial-peer voice 1 voip\n dtmf-relay rtp-nte\n no vad\n voice-class sip tenant 1\n"
	         "dial-peer voice 2 voip\n dtmf-relay rtp-nte\n no vad\n voice-class codec 1\n"
	         " voice-class sip tenant 1\n");
	cr_assert_eq(c.nnotice, 3);
	cr_assert_str_eq(c.notice[0], "t.cfg:4: 'dtmf-relay' has no effect in siptlsd");
	cr_assert_str_eq(c.notice[1], "t.cfg:5: 'no vad' has no effect in siptlsd");
	cr_assert_str_eq(c.notice[2], "t.cfg:10: 'voice-class codec' has no effect in siptlsd");
}

/* ---- every command ---- */

Test(core_conf, full_model)
{
	const struct tls_trustpoint_conf *tp;
	const struct tls_cipher_list *cl;
	const struct core_conf_profile *p1, *p2;
	const struct core_conf_tenant *t1, *t2, *t0;

	cr_assert_eq(core_conf_load(&c, DATA "full.cfg", err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.domain, "example.com");
	cr_assert_str_eq(c.default_trustpoint, "edge");
	tp = core_conf_trustpoint(&c, "edge");
	cr_assert_not_null(tp);
	cr_assert_str_eq(tp->ca_file, "/etc/siptlsd/ca bundle.pem", "paths run to the line's end");
	cr_assert_eq(tp->n_crl, 2);
	cr_assert_str_eq(tp->crl_files[1], "/etc/siptlsd/b.crl");
	cr_assert_str_eq(tp->ocsp_staple_file, "/etc/siptlsd/edge.ocsp");
	cr_assert_eq(tp->n_revocation, 3);
	cr_assert_eq(tp->revocation[0], TLS_REVOKE_CRL);
	cr_assert_eq(tp->revocation[1], TLS_REVOKE_OCSP);
	cr_assert_eq(tp->revocation[2], TLS_REVOKE_NONE);
	cr_assert_null(core_conf_trustpoint(&c, "Edge"), "names are case-sensitive");
	cr_assert_null(core_conf_trustpoint(&c, "ca-only")->cert_file);

	cl = core_conf_ciphers(&c, 1);
	cr_assert_eq(cl->n, 2);
	cr_assert_eq(cl->id[0], TLS_CIPHER_ECDHE_RSA_AES256_GCM_SHA384, "preference order");
	cr_assert_eq(cl->id[1], TLS_CIPHER_DHE_RSA_WITH_AES_128_CBC_SHA, "the guide's spaces");
	cr_assert_str_eq(cl->tls13, "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256");

	p1 = core_conf_profile(&c, 1);
	p2 = core_conf_profile(&c, 2);
	cr_assert_eq(p1->tls.cn_san_mode, TLS_CN_SAN_SERVER, "cn-san-validate spelling");
	cr_assert(p1->tls.sni_send);
	cr_assert_eq(p1->tls.min_version, TLS1_2_VERSION);
	cr_assert_eq(p1->tls.max_version, TLS1_3_VERSION);
	cr_assert_eq(p1->tls.ciphers, cl);
	cr_assert_null(p2->tls.ciphers);
	cr_assert_eq(p2->tls.cn_san_mode, TLS_CN_SAN_CLIENT);
	cr_assert_eq(p2->tls.n_cn_san, 3, "n_cn_san spans the highest index");
	cr_assert_str_eq(p2->tls.cn_san[0], "*.carrier.example");
	cr_assert_null(p2->tls.cn_san[1]);
	cr_assert_str_eq(p2->tls.cn_san[2], "pbx.example.com");

	t1 = core_conf_tenant(&c, 1);
	t2 = core_conf_tenant(&c, 2);
	t0 = core_conf_tenant(&c, 0);
	cr_assert_str_eq(t1->listen_addr, "192.0.2.10");
	cr_assert_eq(t1->listen_port, 5062);
	cr_assert_str_eq(t1->sni_name, "a.example.com");
	cr_assert_str_eq(t2->sni_name, "b.example.com", "two tenants share a port by SNI");
	cr_assert_str_eq(t1->server_host, "198.51.100.7");
	cr_assert_not(t1->server_dns);
	cr_assert_not(t1->url_sips);
	cr_assert_str_eq(t2->server_host, "pbx.example.com");
	cr_assert_eq(t2->server_port, CORE_CONF_DEFAULT_PORT, "no port: 5061");
	cr_assert(t2->url_sips);
	cr_assert_eq(t0->listen_port, CORE_CONF_DEFAULT_PORT);

	cr_assert_eq(c.npeers, 3);
	cr_assert_str_eq(c.peers[0].pattern, "+1408.......");
	cr_assert_eq(c.peers[0].target, CORE_TARGET_HOST);
	cr_assert_str_eq(c.peers[0].host, "198.51.100.9");
	cr_assert_eq(c.peers[0].port, 5063);
	cr_assert_eq(c.peers[0].preference, 2);
	cr_assert_str_eq(c.peers[1].description, "a description, with  two spaces");
	cr_assert_str_eq(c.peers[1].host, "gw.example.net");
	cr_assert_eq(c.peers[1].port, 0, "no port: 0 (5061)");
	cr_assert_eq(c.peers[2].target, CORE_TARGET_SIP_SERVER);
	cr_assert(has_notice(&c, ":3: 'hostname'"));
	cr_assert_str_eq(tp->key_label, "edge-ec");
	cr_assert(tp->key_label_ec, "eckeypair is remembered as such");
	cr_assert_not(tp->serial_number, "serial-number none");
	cr_assert_null(tp->ip_address, "ip-address none");
	cr_assert_not(has_notice(&c, "keypair'"), "the key label is used (enrollment)");
	cr_assert_not(has_notice(&c, "'serial-number'") || has_notice(&c, "'ip-address'"));
	cr_assert(has_notice(&c, ":17: 'password'"));
	cr_assert(has_notice(&c, ":18: 'crl'"));
}

/* the guide's step 5 example names an interface after the address: the address is used */
Test(core_conf, ip_address_with_an_interface_name_after_it)
{
	parse_ok("crypto pki trustpoint T\n ip-address 172.18.197.154 GigabitEthernet2\n");
	cr_assert_str_eq(core_conf_trustpoint(&c, "T")->ip_address, "172.18.197.154");
	cr_assert(has_notice(&c, ":2: 'ip-address'"), "the interface name is noticed");
}

Test(core_conf, crypto_sub_command_versus_top_level)
{
	parse_ok("voice class srtp-crypto 1\n crypto 1 AEAD_AES_256_GCM\n"
	         "crypto pki trustpoint T\n fqdn a.example\n");
	cr_assert_str_eq(core_conf_trustpoint(&c, "T")->fqdn, "a.example",
	                 "crypto pki closed the srtp-crypto block and opened a trustpoint");
	cr_assert_eq(parse("crypto pki trustpoint T\n crypto 1 AEAD_AES_256_GCM\n"), -EINVAL);
	cr_assert_str_eq(err, "t.cfg:2: unknown command 'crypto'");
}

Test(core_conf, voice_class_versus_voice_class_sip)
{
	parse_ok("voice class tenant 7\n sip-server dns:x.example\n"
	         "dial-peer voice 1 voip\n voice-class sip tenant 7\n"
	         "voice class tls-profile 3\n");
	cr_assert_eq(c.peers[0].tenant_tag, 7);
	cr_assert_not_null(core_conf_profile(&c, 3));
}

Test(core_conf, duplicate_blocks_merge)
{
	parse_ok("voice class tenant 100\n listen-port secure 5080\n!\n"
	         "voice class tls-profile 1\n cn-san 1 a.example\n!\n"
	         "voice class tenant 100\n tls-profile 1\n!\n"
	         "voice class tls-profile 1\n cn-san 2 b.example\n");
	cr_assert_eq(c.ntenants, 1);
	cr_assert_eq(core_conf_tenant(&c, 100)->listen_port, 5080);
	cr_assert_eq(core_conf_tenant(&c, 100)->profile_tag, 1);
	cr_assert_eq(core_conf_tenant(&c, 100)->line, 1, "the first definition's line");
	cr_assert_eq(c.nprofiles, 1);
	cr_assert_eq(core_conf_profile(&c, 1)->tls.n_cn_san, 2);
}

Test(core_conf, indentation_tabs_crlf)
{
	parse_ok("\tvoice class tenant 1\r\n    listen-port   secure\t5070\r\n\r\n"
	         "  URL SIPS\r\n!\r\n");
	cr_assert_eq(core_conf_tenant(&c, 1)->listen_port, 5070);
	cr_assert(core_conf_tenant(&c, 1)->url_sips, "keywords are case-insensitive");
}

Test(core_conf, trailing_comments)
{
	parse_ok("crypto pki trustpoint T\n certificate-file /etc/a b.crt   ! own cert first\n"
	         " key-file /etc/a!b.key\n  ! an indented separator closes the block\n"
	         "voice class tenant 1 ! comment\n");
	cr_assert_str_eq(core_conf_trustpoint(&c, "T")->cert_file, "/etc/a b.crt");
	cr_assert_str_eq(core_conf_trustpoint(&c, "T")->key_file, "/etc/a!b.key",
	                 "a '!' inside a word is not a comment");
	cr_assert_not_null(core_conf_tenant(&c, 1));
	cr_assert_eq(parse("crypto pki trustpoint T\n ! closes\n fqdn a.example\n"), -EINVAL);
	cr_assert_str_eq(err, "t.cfg:3: sub-command outside a block: 'fqdn'");
}

Test(core_conf, bind_control_address)
{
	parse_ok("voice class tenant 1\n listen-port secure 5070\n"
	         " bind control source-interface 2001:db8::5\n");
	cr_assert_str_eq(core_conf_tenant(&c, 1)->listen_addr, "2001:db8::5");
	cr_assert_eq(c.nnotice, 0);
}

Test(core_conf, certificate_chain_skipped)
{
	parse_ok("crypto pki certificate chain T\n certificate ca 01\n  30820122 300D0609\n"
	         "  2A864886 F70D\n  \tquit\n certificate 07\n  AB\n quit\nvoice class tenant 1\n");
	cr_assert_eq(c.nnotice, 1);
	cr_assert_eq(c.ntp, 0, "a chain defines no trustpoint");
	cr_assert_eq(parse("crypto pki certificate chain T\n certificate 01\n quit\n 3082\n"),
	             -EINVAL, "hex outside a certificate");
	cr_assert_str_eq(err, "t.cfg:4: unknown command '3082'");
}

/* ---- the global tenant 0 ---- */

Test(core_conf, tenant0_implicit_and_explicit)
{
#define DEFAULT_TP "crypto pki trustpoint T\n!\nsip-ua\n crypto signaling default trustpoint T\n"
	parse_ok("ip domain name example.com\n");
	cr_assert_eq(c.ntenants, 0, "nothing to serve the global listener with");

	parse_ok(DEFAULT_TP);
	cr_assert_eq(c.ntenants, 1);
	cr_assert_eq(core_conf_tenant(&c, 0)->listen_port, 5061);
	cr_assert_null(core_conf_tenant(&c, 0)->listen_addr);
	cr_assert_eq(core_conf_tenant(&c, 0)->profile_tag, 0, "the default trustpoint");

	parse_ok("voice class tenant 0\n sip-server ipv4:192.0.2.1:5061\n" DEFAULT_TP);
	cr_assert_eq(core_conf_tenant(&c, 0)->listen_port, 0, "as written: no listen-port");
	cr_assert_eq(c.ntenants, 1);

	parse_ok("voice class tenant 5\n listen-port secure 5061\n" DEFAULT_TP);
	cr_assert_eq(core_conf_tenant(&c, 0)->listen_port, 0, "5061 is taken by tenant 5");

	parse_ok(DEFAULT_TP "dial-peer voice 9 voip\n destination-pattern 9T\n"
	                    " session target dns:a.example\n");
	cr_assert_eq(c.peers[0].tenant_tag, 0, "a dial-peer without a tenant is global");
	cr_assert_not_null(core_conf_tenant(&c, 0));
}

/* ---- errors: file, line, word ---- */

struct err_case {
	const char *text;
	unsigned line;
	const char *want;
};

static const struct err_case err_cases[] = {
    {"frobnicate now\n", 1, "unknown command 'frobnicate'"},
    {"voice class tenant 1\n frobnicate\n", 2, "unknown command 'frobnicate'"},
    {"voice class tenant 1\n cn-san 1 x.example\n", 2, "unknown command 'cn-san'"},
    {"crypto pki enroll T\n", 1, "unknown command 'crypto pki enroll'"},
    {"voice service pots\n", 1, "unknown command 'voice service pots'"},
    {"dial-peer voice 1 voip\n no shutdown\n", 2, "unknown command 'no shutdown'"},
    {"voice class tenant 1\n listen-port secure 70000\n", 2, "port must be 1..65535: '70000'"},
    {"voice class tenant 1\n listen-port secure 0\n", 2, "port must be 1..65535: '0'"},
    {"voice class tls-cipher 10001\n", 1, "tag must be 1..10000: '10001'"},
    {"voice class tls-cipher 0\n", 1, "tag must be 1..10000: '0'"},
    {"voice class tls-profile x1\n", 1, "tag must be 1..10000: 'x1'"},
    {"dial-peer voice -3 voip\n", 1, "dial-peer tag must be 1..10000: '-3'"},
    {"voice class tls-profile 1\n cn-san 17 a.example\n", 2, "cn-san index must be 1..16: '17'"},
    {"voice class tls-cipher 1\n cipher 11 DHE_RSA_AES128_GCM_SHA256\n", 2,
     "cipher preference must be 1..10: '11'"},
    {"dial-peer voice 1 voip\n preference 11\n", 2, "preference must be 0..10: '11'"},
    {"dial-peer voice 1 voip\n voice-class sip tenant 10001\n", 2,
     "tenant tag must be 0..10000: '10001'"},
    {"voice class tls-profile 1\n sni send\n cipher 200\n", 3, "undefined tls-cipher: '200'"},
    {"voice class tls-profile 1\n trustpoint Nope\n", 2, "undefined trustpoint: 'Nope'"},
    {"crypto pki trustpoint T\nsip-ua\n crypto signaling default trustpoint t\n", 3,
     "undefined trustpoint: 't'"},
    {"voice class tenant 5\n listen-port secure 5090\n tls-profile 9\n", 3,
     "undefined tls-profile: '9'"},
    {"dial-peer voice 4 voip\n destination-pattern 1000\n", 1,
     "no voice-class sip tenant, and no global tenant (it needs a sip-ua default trustpoint): '4'"},
    {"dial-peer voice 1 voip\n destination-pattern 1000\n voice-class sip tenant 7\n", 3,
     "undefined tenant: '7'"},
    {"voice class tenant 3\n!\ndial-peer voice 1 voip\n voice-class sip tenant 3\n"
     " session target sip-server\n",
     5, "tenant 3 has no sip-server: '3'"},
    {"cipher 1 DHE_RSA_AES128_GCM_SHA256\n", 1, "sub-command outside a block: 'cipher'"},
    {"voice class tenant 1\n!\n url sips\n", 3, "sub-command outside a block: 'url'"},
    {"voice class tenant 1\nend\n listen-port secure 5062\n", 3,
     "sub-command outside a block: 'listen-port'"},
    {"crypto pki trustpoint T\n revocation-check crl maybe\n", 2,
     "revocation method must be crl, ocsp or none: 'maybe'"},
    {"crypto pki trustpoint T\n revocation-check\n", 2, "missing method"},
    {"voice class tenant 1\n url tel\n", 2, "url must be sip or sips: 'tel'"},
    {"dial-peer voice 1 voip\n destination-pattern 12a4\n", 2,
     "bad destination-pattern (at character 3): '12a4'"},
    {"voice class tenant 1\n listen-port secure\n", 2, "missing port: 'listen-port secure'"},
    {"voice class tenant 1\n listen-port 5060\n", 2, "listens only for TLS (secure): '5060'"},
    {"dial-peer voice 1 pots\n", 1, "only voip dial-peers: 'pots'"},
    {"voice class tls-cipher 1\n cipher 1 AES128-SHA\n cipher 2 RSA_WITH_AES_128_CBC_SHA\n", 3,
     "cipher RSA_WITH_AES_128_CBC_SHA already at preference 1: 'RSA_WITH_AES_128_CBC_SHA'"},
    {"voice class tenant 1\n listen-port secure 5080\n!\nvoice class tenant 2\n"
     " listen-port secure 5080\n",
     5, "already used by tenant 1 (an 'sni name' tells tenants on one port apart): '5080'"},
    {"voice class tenant 1\n sip-server ipv4:300.1.2.3:5060\n", 2, "bad IPv4 address: '300.1.2.3'"},
    {"voice class tenant 1\n sip-server dns:a..b/c\n", 2, "bad host name: 'a..b/c'"},
    {"voice class tenant 1\n sip-server udp:1.2.3.4\n", 2,
     "expected dns:HOST[:PORT] or ipv4:ADDR[:PORT]: 'udp:1.2.3.4'"},
    {"voice class tenant 1\n sip-server dns:a.example:99999\n", 2,
     "port must be 1..65535: '99999'"},
    {"voice class tenant 1\n url\x01 sips\n", 2, "control character in line: '\\x01'"},
    {"sip-ua extra\n", 1, "unexpected argument: 'extra'"},
    {"sip-ua\n crypto signaling remote-addr 192.0.2.1 255.255.255.255 trustpoint T\n", 2,
     "unknown command 'crypto signaling remote-addr'"},
    {"sip-ua\n crypto signaling default trustpoint\n", 2, "missing trustpoint name"},
    {"voice class tenant 1\n url sips now\n", 2, "unexpected argument: 'now'"},
    {"voice class tenant 1\n session transport udp\n", 2,
     "only 'session transport tcp tls': 'udp'"},
    {"voice class tls-profile 1\n tls-version min 1.4\n", 2,
     "TLS version must be 1.0, 1.1, 1.2 or 1.3: '1.4'"},
    {"voice class tls-profile 1\n tls-version low 1.2\n", 2, "expected min or max: 'low'"},
    {"voice class tls-profile 1\n cn-san validate bidirectonal\n", 2,
     "validation must be server, client or bidirectional: 'bidirectonal'"},
    {"voice class tls-profile 1\n cn-san-validate\n", 2, "missing server, client or"},
    {"crypto pki trustpoint T\n crl-file a\n crl-file b\n crl-file c\n crl-file d\n"
     " crl-file e\n",
     6, "more than 4 crl-file lines: 'e'"},
    {"crypto pki trustpoint T\n rsakeypair\n", 2, "missing key label: 'rsakeypair'"},
    {"crypto pki trustpoint T\n eckeypair ../kp1\n", 2,
     "key label names the file LABEL.key: no '/', no leading '.': '../kp1'"},
    {"crypto pki trustpoint T\n rsakeypair a/b 2048\n", 2, "no '/', no leading '.': 'a/b'"},
    {"crypto pki trustpoint T\n ip-address GigabitEthernet2\n", 2,
     "not an interface name (write the interface's address): 'GigabitEthernet2'"},
    {"crypto pki trustpoint T\n ip-address 192.0.2.300\n", 2, "'192.0.2.300'"},
    {"crypto pki trustpoint T\n ip-address 192.0.2.1 192.0.2.2\n", 2,
     "unexpected argument: '192.0.2.2'"},
    {"crypto pki trustpoint T\n ip-address none 192.0.2.2\n", 2,
     "unexpected argument: '192.0.2.2'"},
    {"crypto pki trustpoint T\n ip-address\n", 2, "missing address (or none)"},
    {"crypto pki trustpoint T\n serial-number 12345\n", 2,
     "serial-number takes no value but none (the box's own serial number is used): '12345'"},
    {"crypto pki trustpoint T\n serial-number none now\n", 2, "unexpected argument: 'now'"},
    {"show version\n", 1, "unknown command 'show version'"},
    {"ip domain name bad/name\n", 1, "bad domain name: 'bad/name'"},
    {"ip route 0.0.0.0 0.0.0.0 192.0.2.1\n", 1, "unknown command 'ip route'"},
    {"voice class tls-cipher 1\n tls13-ciphers TLS_RC4\n", 2, "unknown TLS 1.3 suite 'TLS_RC4'"},
    {"voice class tenant 1\n sni name bad/name\n", 2, "bad host name: 'bad/name'"},
    {"voice class tenant 1\n bind control source-interface\n", 2, "missing address"},
};

Test(core_conf, errors_name_file_line_word)
{
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *e = &err_cases[i];
		char prefix[32];
		int rc = parse(e->text);

		snprintf(prefix, sizeof(prefix), "t.cfg:%u: ", e->line);
		cr_assert_eq(rc, -EINVAL, "case %zu accepted: %s", i, e->text);
		cr_assert(strncmp(err, prefix, strlen(prefix)) == 0, "case %zu: want %s got %s", i,
		          prefix, err);
		cr_assert(strstr(err, e->want), "case %zu: want '%s' in '%s'", i, e->want, err);
	}
}

Test(core_conf, unknown_cipher_lists_valid_ones)
{
	cr_assert_eq(parse("voice class tls-cipher 1\n cipher 1 RC4 MD5\n"), -EINVAL);
	cr_assert(strncmp(err, "t.cfg:2: unknown cipher 'RC4 MD5'", 33) == 0, "%s", err);
	for (int id = 0; id < TLS_CIPHER_COUNT; id++)
		cr_assert(strstr(err, tls_cipher_name(id)), "missing %s in %s", tls_cipher_name(id),
		          err);
}

Test(core_conf, truncated_inputs_never_crash)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(DATA "guide-example.cfg", "r");
	static char buf[8192];

	cr_assert_not_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (size_t n = 0; n <= len; n++) {
		text = malloc(n ? n : 1); /* exact size: ASan sees any read past the end */
		memcpy(text, buf, n);
		core_conf_free(&c);
		int rc = core_conf_parse(&c, "t.cfg", text, n, err, sizeof(err));
		free(text);
		cr_assert(rc == 0 || (rc == -EINVAL && strncmp(err, "t.cfg:", 6) == 0),
		          "prefix %zu: rc %d %s", n, rc, err);
	}
	core_conf_free(&c);
	cr_assert_eq(core_conf_parse(&c, "t.cfg", buf, len, err, 0), 0, "errlen 0 is allowed");
}

/* ---- the lines enrollment uses (siptlsctl pki): key label, ip-address, serial-number ---- */

Test(core_conf, trustpoint_enrollment_lines)
{
	const struct tls_trustpoint_conf *tp;

	parse_ok("crypto pki trustpoint T\n rsakeypair kp1 2048 1024\n ip-address 192.0.2.10\n"
	         " serial-number\n"
	         "crypto pki trustpoint U\n eckeypair ec1\n ip-address 2001:db8::10\n"
	         " serial-number none\n"
	         "crypto pki trustpoint V\n fqdn v.example\n");
	cr_assert_eq(c.nnotice, 0, "these lines take effect: %s", c.nnotice ? c.notice[0] : "");
	tp = core_conf_trustpoint(&c, "T");
	cr_assert_str_eq(tp->key_label, "kp1", "the sizes after the label are ignored");
	cr_assert_not(tp->key_label_ec);
	cr_assert_str_eq(tp->ip_address, "192.0.2.10");
	cr_assert(tp->serial_number);
	tp = core_conf_trustpoint(&c, "U");
	cr_assert_str_eq(tp->key_label, "ec1");
	cr_assert(tp->key_label_ec);
	cr_assert_str_eq(tp->ip_address, "2001:db8::10");
	cr_assert_not(tp->serial_number);
	tp = core_conf_trustpoint(&c, "V");
	cr_assert_null(tp->key_label);
	cr_assert_null(tp->ip_address);
	cr_assert_not(tp->serial_number);
}

Test(core_conf, trustpoint_enrollment_lines_last_wins)
{
	const struct tls_trustpoint_conf *tp;

	/* a later line replaces an earlier one, as on the router; none clears */
	parse_ok("crypto pki trustpoint T\n rsakeypair a\n eckeypair b\n ip-address 192.0.2.1\n"
	         " ip-address none\n serial-number\n serial-number none\n");
	tp = core_conf_trustpoint(&c, "T");
	cr_assert_str_eq(tp->key_label, "b");
	cr_assert(tp->key_label_ec);
	cr_assert_null(tp->ip_address);
	cr_assert_not(tp->serial_number);
	parse_ok("crypto pki trustpoint T\n eckeypair b\n rsakeypair a\n serial-number none\n"
	         " SERIAL-NUMBER\n");
	tp = core_conf_trustpoint(&c, "T");
	cr_assert_str_eq(tp->key_label, "a");
	cr_assert_not(tp->key_label_ec, "rsakeypair after eckeypair: rsa");
	cr_assert(tp->serial_number, "keywords are case-insensitive");
}

/* ---- round trip through core_conf_write ---- */

static void assert_same_tp(const struct tls_trustpoint_conf *a, const struct tls_trustpoint_conf *b)
{
	cr_assert(str_eq(a->cert_file, b->cert_file) && str_eq(a->key_file, b->key_file) &&
	              str_eq(a->ca_file, b->ca_file) &&
	              str_eq(a->ocsp_staple_file, b->ocsp_staple_file) &&
	              str_eq(a->fqdn, b->fqdn) && str_eq(a->subject_name, b->subject_name) &&
	              str_eq(a->subject_alt_name, b->subject_alt_name) &&
	              str_eq(a->key_label, b->key_label) && a->key_label_ec == b->key_label_ec &&
	              str_eq(a->ip_address, b->ip_address) && a->serial_number == b->serial_number,
	          "trustpoint %s", a->name);
	cr_assert_eq(a->n_crl, b->n_crl);
	for (unsigned i = 0; i < a->n_crl; i++)
		cr_assert_str_eq(a->crl_files[i], b->crl_files[i]);
	cr_assert_eq(a->n_revocation, b->n_revocation);
	for (unsigned i = 0; i < a->n_revocation; i++)
		cr_assert_eq(a->revocation[i], b->revocation[i]);
}

static void assert_same_profile(const struct core_conf_profile *a,
                                const struct core_conf_profile *b)
{
	cr_assert_eq(a->cipher_tag, b->cipher_tag);
	cr_assert(str_eq(a->trustpoint, b->trustpoint));
	cr_assert_eq(a->tls.ciphers ? a->tls.ciphers->tag : 0,
	             b->tls.ciphers ? b->tls.ciphers->tag : 0);
	cr_assert_eq(a->tls.cn_san_mode, b->tls.cn_san_mode);
	cr_assert_eq(a->tls.n_cn_san, b->tls.n_cn_san);
	for (unsigned i = 0; i < a->tls.n_cn_san; i++)
		cr_assert(str_eq(a->tls.cn_san[i], b->tls.cn_san[i]));
	cr_assert_eq(a->tls.sni_send, b->tls.sni_send);
	cr_assert_eq(a->tls.min_version, b->tls.min_version);
	cr_assert_eq(a->tls.max_version, b->tls.max_version);
}

static void assert_same_tenant(const struct core_conf_tenant *a, const struct core_conf_tenant *b)
{
	cr_assert_not_null(b, "tenant %u lost", a->tag);
	cr_assert_eq(a->profile_tag, b->profile_tag, "tenant %u", a->tag);
	cr_assert(str_eq(a->listen_addr, b->listen_addr), "tenant %u", a->tag);
	cr_assert_eq(a->listen_port, b->listen_port, "tenant %u", a->tag);
	cr_assert(str_eq(a->server_host, b->server_host), "tenant %u", a->tag);
	cr_assert_eq(a->server_port, b->server_port, "tenant %u", a->tag);
	cr_assert_eq(a->server_dns, b->server_dns, "tenant %u", a->tag);
	cr_assert_eq(a->url_sips, b->url_sips, "tenant %u", a->tag);
	cr_assert(str_eq(a->sni_name, b->sni_name), "tenant %u", a->tag);
}

static void assert_same_peer(const struct core_conf_dialpeer *a, const struct core_conf_dialpeer *b)
{
	cr_assert_eq(a->tag, b->tag);
	cr_assert(str_eq(a->pattern, b->pattern) && str_eq(a->description, b->description) &&
	              str_eq(a->host, b->host),
	          "dial-peer %u", a->tag);
	cr_assert_eq(a->preference, b->preference);
	cr_assert_eq(a->tenant_tag, b->tenant_tag);
	cr_assert_eq(a->target, b->target);
	cr_assert_eq(a->port, b->port);
}

static void assert_same(const struct core_conf *a, const struct core_conf *b)
{
	cr_assert(str_eq(a->domain, b->domain));
	cr_assert(str_eq(a->default_trustpoint, b->default_trustpoint));
	cr_assert_eq(a->ntp, b->ntp);
	for (unsigned i = 0; i < a->ntp; i++) {
		const struct tls_trustpoint_conf *t = core_conf_trustpoint(b, a->tp[i].name);
		cr_assert_not_null(t, "trustpoint %s lost", a->tp[i].name);
		assert_same_tp(&a->tp[i], t);
	}
	cr_assert_eq(a->nciphers, b->nciphers);
	for (unsigned i = 0; i < a->nciphers; i++) {
		const struct tls_cipher_list *l = core_conf_ciphers(b, a->ciphers[i].tag);
		cr_assert_not_null(l);
		cr_assert_eq(l->n, a->ciphers[i].n);
		cr_assert_arr_eq(l->pref, a->ciphers[i].pref, l->n);
		cr_assert_arr_eq(l->id, a->ciphers[i].id, l->n);
		cr_assert_str_eq(l->tls13, a->ciphers[i].tls13);
	}
	cr_assert_eq(a->nprofiles, b->nprofiles);
	for (unsigned i = 0; i < a->nprofiles; i++) {
		const struct core_conf_profile *p = core_conf_profile(b, a->profiles[i].tls.tag);
		cr_assert_not_null(p);
		assert_same_profile(&a->profiles[i], p);
	}
	cr_assert_eq(a->ntenants, b->ntenants);
	for (unsigned i = 0; i < a->ntenants; i++)
		assert_same_tenant(&a->tenants[i], core_conf_tenant(b, a->tenants[i].tag));
	cr_assert_eq(a->npeers, b->npeers);
	for (unsigned i = 0; i < a->npeers; i++)
		assert_same_peer(&a->peers[i], &b->peers[i]);
}

static char *write_conf(const struct core_conf *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	core_conf_write(m, f);
	cr_assert_eq(fclose(f), 0);
	return text;
}

/* write, parse the text back, compare the models, and check that writing again is stable */
static void round_trip(const struct core_conf *m)
{
	struct core_conf back;
	char *once = write_conf(m), *twice;
	int rc = core_conf_parse(&back, "rt.cfg", once, strlen(once), err, sizeof(err));

	cr_assert_eq(rc, 0, "%s\n%s", err, once);
	cr_assert_eq(back.nnotice, 0, "normalised output has no router-only lines:\n%s", once);
	assert_same(m, &back);
	twice = write_conf(&back);
	cr_assert_str_eq(twice, once);
	free(once);
	free(twice);
	core_conf_free(&back);
}

Test(core_conf, round_trip_guide_example)
{
	char *text;

	cr_assert_eq(core_conf_load(&c, DATA "guide-example.cfg", err, sizeof(err)), 0, "%s", err);
	round_trip(&c);
	text = write_conf(&c);
	cr_assert(strstr(text,
	                 "voice class tenant 100\n tls-profile 100\n listen-port secure 5080\n"
	                 " sip-server dns:sip.acme.co:5080\n session transport tcp tls\n"
	                 " url sips\n!\n"),
	          "%s", text);
	cr_assert(strstr(text, " cipher 1 DHE_RSA_AES128_GCM_SHA256\n"), "%s", text);
	free(text);
}

Test(core_conf, round_trip_full)
{
	cr_assert_eq(core_conf_load(&c, DATA "full.cfg", err, sizeof(err)), 0, "%s", err);
	round_trip(&c);
}

Test(core_conf, trustpoint_enrollment_lines_written)
{
	char *text;

	parse_ok("crypto pki trustpoint T\n rsakeypair kp1 2048\n ip-address 192.0.2.10\n"
	         " serial-number\n fqdn t.example\n"
	         "crypto pki trustpoint U\n eckeypair ec1\n ip-address 2001:db8::10\n"
	         "crypto pki trustpoint V\n serial-number none\n ip-address none\n");
	round_trip(&c);
	text = write_conf(&c);
	cr_assert(strstr(text, "crypto pki trustpoint T\n fqdn t.example\n ip-address 192.0.2.10\n"
	                       " serial-number\n rsakeypair kp1\n!\n"),
	          "%s", text);
	cr_assert(strstr(text, "crypto pki trustpoint U\n ip-address 2001:db8::10\n"
	                       " eckeypair ec1\n!\n"),
	          "eckeypair is written as eckeypair:\n%s", text);
	cr_assert(strstr(text, "crypto pki trustpoint V\n!\n"), "unset lines are left out:\n%s",
	          text);
	free(text);
}

Test(core_conf, round_trip_tenant0_variants)
{
	char *text;

	parse_ok("voice class tenant 0\n sip-server ipv4:192.0.2.1:5061\n");
	round_trip(&c);
	parse_ok("voice class tenant 5\n listen-port secure 5061\n" DEFAULT_TP);
	round_trip(&c);
	parse_ok("voice class tenant 0\n!\n" DEFAULT_TP);
	cr_assert_eq(core_conf_tenant(&c, 0)->listen_port, 0);
	round_trip(&c);
	parse_ok(DEFAULT_TP);
	round_trip(&c);
	text = write_conf(&c);
	cr_assert_null(strstr(text, "voice class tenant 0"), "the implicit tenant 0 is left out");
	free(text);
}

/* ---- the one-trunk flags ---- */

static const struct core_conf_trunk trunk = {
    .listen_addr = "192.0.2.5",
    .listen_port = 5061,
    .cert = "/etc/siptlsd/cube.crt",
    .key = "/etc/siptlsd/cube.key",
    .ca = "/etc/siptlsd/ca.pem",
    .upstream_host = "sip.acme.co",
    .upstream_port = 5080,
    .cn_san_mode = TLS_CN_SAN_BIDIRECTIONAL,
    .cn_san = {"sip.acme.co", "*.acme.co"},
    .n_cn_san = 2,
    .sni_send = true,
    .url_sips = true,
};

Test(core_conf, one_trunk_model)
{
	const struct core_conf_tenant *t;
	const struct core_conf_profile *p;
	const struct tls_trustpoint_conf *tp;

	cr_assert_eq(core_conf_one_trunk(&c, &trunk, err, sizeof(err)), 0, "%s", err);
	tp = core_conf_trustpoint(&c, "cli");
	cr_assert_not_null(tp);
	cr_assert_str_eq(tp->cert_file, trunk.cert);
	cr_assert_neq(tp->cert_file, trunk.cert, "the model owns its strings");
	cr_assert_str_eq(tp->key_file, trunk.key);
	cr_assert_str_eq(tp->ca_file, trunk.ca);
	p = core_conf_profile(&c, 1);
	cr_assert_not_null(p);
	cr_assert_str_eq(p->trustpoint, "cli");
	cr_assert_eq(p->tls.cn_san_mode, TLS_CN_SAN_BIDIRECTIONAL);
	cr_assert_eq(p->tls.n_cn_san, 2);
	cr_assert_str_eq(p->tls.cn_san[1], "*.acme.co");
	cr_assert(p->tls.sni_send);
	t = core_conf_tenant(&c, 0);
	cr_assert_not_null(t);
	cr_assert_eq(c.ntenants, 1);
	cr_assert_str_eq(t->listen_addr, "192.0.2.5");
	cr_assert_eq(t->listen_port, 5061);
	cr_assert_eq(t->profile_tag, 1);
	cr_assert_str_eq(t->server_host, "sip.acme.co");
	cr_assert_eq(t->server_port, 5080);
	cr_assert(t->server_dns);
	cr_assert(t->url_sips);
	cr_assert_eq(c.npeers, 1);
	cr_assert_eq(c.peers[0].tag, 1);
	cr_assert_str_eq(c.peers[0].pattern, "T");
	cr_assert_eq(c.peers[0].tenant_tag, 0);
	cr_assert_eq(c.peers[0].target, CORE_TARGET_SIP_SERVER);
	round_trip(&c);
}

Test(core_conf, one_trunk_errors)
{
	struct core_conf_trunk t = trunk;

	t.listen_port = 0;
	cr_assert_eq(core_conf_one_trunk(&c, &t, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "one-trunk: a listen port is required");
	t = trunk;
	t.cert = NULL;
	cr_assert_eq(core_conf_one_trunk(&c, &t, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "certificate and its key"), "%s", err);
	t = trunk;
	t.upstream_host = "not a host";
	cr_assert_eq(core_conf_one_trunk(&c, &t, err, sizeof(err)), -EINVAL);
	t = trunk;
	t.listen_addr = "eth0";
	cr_assert_eq(core_conf_one_trunk(&c, &t, err, sizeof(err)), -EINVAL);
	t = trunk;
	t.upstream_host = "198.51.100.7";
	t.upstream_port = 0;
	cr_assert_eq(core_conf_one_trunk(&c, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(core_conf_tenant(&c, 0)->server_dns);
	cr_assert_eq(core_conf_tenant(&c, 0)->server_port, 5061);
}

/* ---- load and lookups ---- */

Test(core_conf, load_missing_file)
{
	int rc = core_conf_load(&c, DATA "no-such.cfg", err, sizeof(err));

	cr_assert_eq(rc, -ENOENT);
	cr_assert(strstr(err, "no-such.cfg") && strstr(err, "No such file or directory"), "%s",
	          err);
	cr_assert_eq(core_conf_load(&c, DATA, err, sizeof(err)), -EINVAL, "a directory");
	cr_assert(strstr(err, "not a regular file"), "%s", err);
}

Test(core_conf, lookups_absent)
{
	parse_ok("voice class tenant 1\n");
	cr_assert_null(core_conf_tenant(&c, 2));
	cr_assert_null(core_conf_profile(&c, 1));
	cr_assert_null(core_conf_ciphers(&c, 1));
	cr_assert_null(core_conf_trustpoint(&c, "x"));
	cr_assert_null(core_conf_trustpoint(&c, NULL));
	cr_assert_not_null(core_conf_tenant(&c, 1));
}
