/* Writes the seed corpus of tests/fuzz/proxy.c: realistic requests and responses, some with
 * tokens (our Via branch, our Record-Route ;sc=) made under the harness's fixed key, so they
 * verify. Build (from the repository root): cc -D_GNU_SOURCE -I. tests/fuzz/proxy_seeds.c core/mac.c -o proxy_seeds
 * Run: ./proxy_seeds OUTDIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/mac.h"

#define CRLF "\r\n"
#define CONN_IN 0x0100000200000000ull
static const struct core_mac_key key = {0x0123456789abcdefull, 0xfedcba9876543210ull};
static const char *dir;

/* prefix byte 0: bit 0 tenant, bits 1-3 upstream code index (100,180,183,200,404,486,503,603) */
static void seed(const char *name, unsigned tenant, unsigned code_ix, unsigned conn, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f) { perror(path); exit(1); }
	fputc((int)((tenant & 1) | (code_ix << 1)), f);
	fputc((int)conn, f);
	fputs(text, f);
	fclose(f);
}

static char *tok(uint64_t conn, const char *ctx)
{
	static char bufs[8][CORE_TOKEN_LEN + 1];
	static int i;
	char *b = bufs[i++ & 7];
	core_token_make(&key, conn, (struct slice){ctx, strlen(ctx)}, b);
	b[CORE_TOKEN_LEN] = 0;
	return b;
}

#define HDRS(cid, cseq) \
	"Max-Forwards: 70" CRLF "From: <sip:2000@pbx.example.com>;tag=a1" CRLF \
	"To: <sip:1000@cube.example.com>" CRLF "Call-ID: " cid CRLF "CSeq: " cseq CRLF

static const char invite[] =
	"INVITE sip:1000@cube.example.com SIP/2.0" CRLF
	"Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF HDRS("call-1@pbx", "1 INVITE")
	"Contact: <sip:2000@10.1.1.1:5061;transport=tls>" CRLF
	"Content-Type: application/sdp" CRLF "Content-Length: 30" CRLF CRLF
	"v=0\r\no=- 1 1 IN IP4 10.1.1.1\r\n";

int main(int argc, char **argv)
{
	char t[8192];
	uint64_t c3 = CONN_IN | 3;
	dir = argc > 1 ? argv[1] : ".";

	seed("invite_to_acme", 0, 3, 3, invite);
	seed("invite_to_acme_486", 0, 5, 3, invite);
	seed("invite_to_acme_100", 0, 0, 3, invite);
	seed("invite_from_tenant1", 1, 1, 9,
	     "INVITE sip:2001@[2001:db8::fe]:5080;user=phone SIP/2.0" CRLF
	     "v: SIP/2.0/TLS [2001:db8::5]:5061;branch=z9hG4bKv6;rport" CRLF
	     "f: <sip:1000@acme>;tag=x" CRLF "t: <sip:2001@cube>" CRLF "i: v6call" CRLF
	     "CSeq: 9 INVITE" CRLF "m: <sips:1000@[2001:db8::5]>" CRLF "l: 0" CRLF CRLF);
	seed("invite_tel_e164", 0, 2, 4,
	     "INVITE tel:+14085551234;phone-context=+1 SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKtel" CRLF HDRS("tel@pbx", "1 INVITE")
	     "Content-Length: 0" CRLF CRLF);
	seed("invite_e164_sip", 0, 3, 4,
	     "INVITE sips:+14085551234@cube.example.com;transport=tls SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKe164" CRLF HDRS("e164@pbx", "1 INVITE")
	     "Record-Route: <sip:pbx.example.com;lr>" CRLF "Content-Length: 0" CRLF CRLF);
	seed("invite_9T", 1, 4, 5,
	     "INVITE sip:9011442071234567@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bK9t, SIP/2.0/TLS 10.9.9.9;branch=z9hG4bKold" CRLF
	     HDRS("9t@pbx", "5 INVITE") "Content-Length: 0" CRLF CRLF);
	seed("invite_bad_tenant_target", 0, 3, 6,
	     "INVITE sip:0137@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKbt" CRLF HDRS("bt@pbx", "1 INVITE")
	     "Content-Length: 0" CRLF CRLF);
	seed("invite_no_route", 0, 3, 3,
	     "INVITE sip:alice@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKnr" CRLF HDRS("nr@pbx", "1 INVITE")
	     "Content-Length: 0" CRLF CRLF);
	seed("invite_no_max_forwards", 0, 3, 3,
	     "INVITE sip:5007@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKnmf" CRLF
	     "From: <sip:a@b>;tag=1" CRLF "To: <sip:5007@c>" CRLF "Call-ID: nmf" CRLF
	     "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	seed("invite_max_forwards_0", 0, 3, 3,
	     "INVITE sip:1000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKmf0" CRLF "Max-Forwards: 0" CRLF
	     "From: <sip:a@b>;tag=1" CRLF "To: <sip:1000@c>" CRLF "Call-ID: mf0" CRLF
	     "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	seed("options_max_forwards_0", 0, 3, 3,
	     "OPTIONS sip:1000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKo0" CRLF "Max-Forwards: 0" CRLF
	     "From: <sip:a@b>;tag=1" CRLF "To: <sip:1000@c>" CRLF "Call-ID: o0" CRLF
	     "CSeq: 1 OPTIONS" CRLF "Content-Length: 0" CRLF CRLF);
	seed("options_to_us", 0, 3, 3,
	     "OPTIONS sip:cube.example.com:5061 SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKping" CRLF HDRS("ping@pbx", "7 OPTIONS")
	     "Accept: application/sdp" CRLF "Content-Length: 0" CRLF CRLF);
	seed("options_to_us_v6", 1, 3, 3,
	     "OPTIONS sips:[2001:db8::fe] SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKping6" CRLF HDRS("ping6@pbx", "7 OPTIONS")
	     "Content-Length: 0" CRLF CRLF);
	seed("register", 0, 3, 3,
	     "REGISTER sip:2000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKreg" CRLF HDRS("reg@pbx", "1 REGISTER")
	     "Contact: <sips:2000@10.1.1.1>;expires=3600" CRLF "Expires: 3600" CRLF
	     "Content-Length: 0" CRLF CRLF);
	seed("ack_no_route", 0, 3, 3,
	     "ACK sip:nobody@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKack" CRLF HDRS("ack@pbx", "1 ACK")
	     "Content-Length: 0" CRLF CRLF);
	seed("ack_routed", 0, 3, 3,
	     "ACK sip:1000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKcaller1" CRLF HDRS("call-1@pbx", "1 ACK")
	     "Content-Length: 0" CRLF CRLF);
	seed("ruri_headers", 0, 3, 3,
	     "INVITE sip:1000@cube.example.com?Subject=hi SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKh" CRLF HDRS("h@pbx", "1 INVITE")
	     "Content-Length: 0" CRLF CRLF);
	seed("ruri_mailto", 0, 3, 3,
	     "INVITE mailto:a@b.example SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKm" CRLF HDRS("m@pbx", "1 INVITE")
	     "Content-Length: 0" CRLF CRLF);
	seed("cseq_mismatch", 0, 3, 3,
	     "BYE sip:1000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKcs" CRLF HDRS("cs@pbx", "1 INVITE")
	     "Content-Length: 0" CRLF CRLF);
	seed("no_call_id", 0, 3, 3,
	     "MESSAGE sip:1000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKnc" CRLF "From: <sip:a@b>;tag=1" CRLF
	     "To: <sip:1000@c>" CRLF "CSeq: 1 MESSAGE" CRLF "Content-Length: 2" CRLF CRLF "hi");
	seed("bad_max_forwards", 0, 3, 3,
	     "INFO sip:1000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKbm" CRLF "Max-Forwards: 300" CRLF
	     "From: <sip:a@b>;tag=1" CRLF "To: <sip:1000@c>" CRLF "Call-ID: bm" CRLF
	     "CSeq: 1 INFO" CRLF "Content-Length: 0" CRLF CRLF);
	seed("methods_pipeline", 0, 1, 3,
	     "CANCEL sip:1000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF HDRS("call-1@pbx", "1 CANCEL")
	     "Content-Length: 0" CRLF CRLF
	     "PRACK sip:1000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKpr" CRLF HDRS("call-1@pbx", "2 PRACK")
	     "RAck: 1 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF
	     "UPDATE sip:2000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKup" CRLF HDRS("call-1@pbx", "3 UPDATE")
	     "Session-Expires: 1800;refresher=uac" CRLF "Content-Length: 0" CRLF CRLF
	     "SUBSCRIBE sip:1000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKsu" CRLF HDRS("sub@pbx", "1 SUBSCRIBE")
	     "Event: dialog" CRLF "Expires: 60" CRLF "Content-Length: 0" CRLF CRLF
	     "NOTIFY sip:2000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKno" CRLF HDRS("sub@pbx", "2 NOTIFY")
	     "Event: dialog" CRLF "Subscription-State: active" CRLF "Content-Length: 0" CRLF CRLF
	     "REFER sip:1000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKre" CRLF HDRS("ref@pbx", "1 REFER")
	     "Refer-To: <sip:3000@pbx.example.com>" CRLF "Content-Length: 0" CRLF CRLF
	     "PUBLISH sip:1000@cube.example.com SIP/2.0" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKpu" CRLF HDRS("pub@pbx", "1 PUBLISH")
	     "Content-Length: 0" CRLF CRLF "\r\n\r\n" "\r\n");

	/* responses to the INVITE forwarded for conn 3: our Via on top, verifying */
	const char *b3 = tok(c3, "z9hG4bKcaller1");
	static const char *const rsps[] = {"100 Trying", "180 Ringing", "200 OK", "486 Busy Here"};
	for (int i = 0; i < 4; i++) {
		snprintf(t, sizeof t,
			 "SIP/2.0 %s" CRLF "Via: SIP/2.0/TLS [2001:db8::fe]:5080;branch=z9hG4bK-sx-%s" CRLF
			 "Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF
			 "From: <sip:2000@pbx.example.com>;tag=a1" CRLF
			 "To: <sip:1000@cube.example.com>;tag=b2" CRLF "Call-ID: call-1@pbx" CRLF
			 "CSeq: 1 INVITE" CRLF "Record-Route: <sip:x.acme.co;lr>" CRLF
			 "Content-Length: 0" CRLF CRLF, rsps[i], b3);
		char name[32];
		snprintf(name, sizeof name, "response_ours_%.3s", rsps[i]);
		seed(name, 1, 3, 0x77, t);
	}
	snprintf(t, sizeof t,
		 "SIP/2.0 183 Session Progress" CRLF
		 "Via: SIP/2.0/TLS x;branch=z9hG4bK-sx-%s, SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1, "
		 "SIP/2.0/TLS 10.0.0.9;branch=z9hG4bKfar" CRLF
		 "From: <sip:2000@pbx.example.com>;tag=a1" CRLF "To: <sip:1000@cube.example.com>;tag=b2" CRLF
		 "Call-ID: call-1@pbx" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF, b3);
	seed("response_ours_comma_via", 1, 3, 0x77, t);
	seed("response_forged_branch", 1, 3, 0x77,
	     "SIP/2.0 200 OK" CRLF
	     "Via: SIP/2.0/TLS x;branch=z9hG4bK-sx-0100000200000003deadbeefdeadbeef" CRLF
	     "Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF
	     "From: <sip:a@b>;tag=1" CRLF "To: <sip:c@d>;tag=2" CRLF "Call-ID: f" CRLF
	     "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	seed("response_one_via", 1, 3, 0x77,
	     "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF
	     "From: <sip:a@b>;tag=1" CRLF "To: <sip:c@d>;tag=2" CRLF "Call-ID: f" CRLF
	     "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);

	/* a request that already went through us: 482 */
	snprintf(t, sizeof t,
		 "INVITE sip:1000@cube.example.com SIP/2.0" CRLF
		 "Via: SIP/2.0/TLS 10.9.9.9;branch=z9hG4bKagain" CRLF
		 "Via: SIP/2.0/TLS cube.example.com:5061;branch=z9hG4bK-sx-%s" CRLF
		 "Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF HDRS("loop@pbx", "1 INVITE")
		 "Content-Length: 0" CRLF CRLF, b3);
	seed("loop_our_via", 1, 3, 0x77, t);

	/* in-dialog requests over our double Record-Route (tenant 0 -> tenant 1, dial-peer 100) */
	/* the context: side|dial-peer|host|port of the entry (core/proxy.c rr_context) */
	const char *so = tok(c3, "o|100|2001:db8::fe|5080"), *si = tok(c3, "i|100|cube.example.com|5061");
	char ro[300], ri[300];
	snprintf(ro, sizeof ro, "<sips:[2001:db8::fe]:5080;transport=tls;lr;sd=o;sp=100;sc=%s>", so);
	snprintf(ri, sizeof ri, "<sip:cube.example.com:5061;transport=tls;lr;sd=i;sp=100;sc=%s>", si);
	static const char dlg[] =
		"%s sip:2000@10.1.1.1:5061;transport=tls SIP/2.0" CRLF
		"Via: SIP/2.0/TLS 198.51.100.7:5061;branch=z9hG4bKdlg%d" CRLF "Route: %s, %s" CRLF
		"Max-Forwards: 70" CRLF "From: <sip:1000@acme>;tag=b2" CRLF "To: <sip:2000@pbx>;tag=a1" CRLF
		"Call-ID: call-1@pbx" CRLF "CSeq: %d %s" CRLF "Content-Length: 0" CRLF CRLF;
	snprintf(t, sizeof t, dlg, "BYE", 1, ro, ri, 2, "BYE");
	seed("bye_from_callee", 1, 3, 0x77, t);
	snprintf(t, sizeof t, dlg, "BYE", 2, ri, ro, 2, "BYE");
	seed("bye_from_caller", 0, 3, 3, t);
	snprintf(t, sizeof t, dlg, "ACK", 3, ri, ro, 1, "ACK");
	seed("ack_from_caller", 0, 3, 3, t);
	snprintf(t, sizeof t, dlg, "INVITE", 4, ro, ri, 3, "INVITE");
	seed("reinvite_from_callee", 1, 3, 0x77, t);
	/* the two Route entries in two fields, and a foreign Route below ours */
	snprintf(t, sizeof t,
		 "UPDATE sip:2000@10.1.1.1 SIP/2.0" CRLF "Via: SIP/2.0/TLS 198.51.100.7;branch=z9hG4bKu2" CRLF
		 "Route: %s" CRLF "Route: %s,<sip:far.example;lr>" CRLF "Max-Forwards: 10" CRLF
		 "From: <sip:1000@acme>;tag=b2" CRLF "To: <sip:2000@pbx>;tag=a1" CRLF
		 "Call-ID: call-1@pbx" CRLF "CSeq: 4 UPDATE" CRLF "Content-Length: 0" CRLF CRLF, ro, ri);
	seed("update_routes_split", 1, 3, 0x77, t);
	/* one tenant on both sides (dial-peer 200 -> tenant 0): a single ;sd=b entry */
	const char *sb = tok(c3, "b|200|cube.example.com|5061");
	snprintf(t, sizeof t,
		 "BYE sip:1000@10.2.2.2 SIP/2.0" CRLF "Via: SIP/2.0/TLS pbx.example.com;branch=z9hG4bKb1" CRLF
		 "Route: <sip:cube.example.com:5061;transport=tls;lr;sd=b;sp=200;sc=%s>" CRLF
		 "Max-Forwards: 70" CRLF "From: <sip:2001@pbx>;tag=p" CRLF "To: <sip:1000@x>;tag=q" CRLF
		 "Call-ID: b-call" CRLF "CSeq: 2 BYE" CRLF "Content-Length: 0" CRLF CRLF, sb);
	seed("bye_one_tenant_from_callee", 0, 3, 0x42, t);
	seed("bye_one_tenant_from_caller", 0, 3, 3, t);
	snprintf(t, sizeof t,
		 "BYE sip:1000@10.2.2.2 SIP/2.0" CRLF "Via: SIP/2.0/TLS pbx.example.com;branch=z9hG4bKb2" CRLF
		 "Route: <sip:cube.example.com:5061;transport=tls;lr;sd=b;sp=999;sc=%s>" CRLF
		 "Max-Forwards: 70" CRLF "From: <sip:2001@pbx>;tag=p" CRLF "To: <sip:1000@x>;tag=q" CRLF
		 "Call-ID: b-call" CRLF "CSeq: 2 BYE" CRLF "Content-Length: 0" CRLF CRLF, tok(c3, "b|999|cube.example.com|5061"));
	seed("bye_unknown_peer", 0, 3, 3, t);
	return 0;
}
