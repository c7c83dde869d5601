/* tests for tls/keylog.c: the NSS key log file and the TLS 1.3 secret hook */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/tls/conn_fixture.h"
#include "tls/keylog.h"

static struct fx f;
static char dir[64], path[96];
static int warnings;
static char last_warning[256];

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/keylogXXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/keys.log", dir);
	warnings = 0;
}

static void teardown(void)
{
	fx_free(&f);
	unlink(path);
	rmdir(dir);
}

TestSuite(tls_keylog, .init = setup, .fini = teardown, .timeout = 60);

static void warn(const char *msg, void *arg)
{
	cr_assert_eq(arg, &warnings);
	warnings++;
	snprintf(last_warning, sizeof last_warning, "%s", msg);
}

static const char rnd[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

Test(tls_keylog, parse_tls13_line)
{
	char line[256];
	struct tls_keylog_entry e;
	snprintf(line, sizeof line, "SERVER_TRAFFIC_SECRET_0 %s %s", rnd,
	         "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643");
	cr_assert_eq(tls_keylog_parse_line(line, &e), 0);
	cr_assert_eq(e.label, TLS_KEYLOG_SERVER_TRAFFIC_SECRET_0);
	cr_assert_eq(e.client_random[0], 0x00);
	cr_assert_eq(e.client_random[31], 0xff);
	cr_assert_eq(e.secret_len, 32);
	cr_assert_eq(e.secret[0], 0xa1);
	cr_assert_eq(e.secret[31], 0x43);
}

Test(tls_keylog, parse_labels_and_unknown)
{
	char line[256];
	struct tls_keylog_entry e;
	snprintf(line, sizeof line, "CLIENT_RANDOM %s %096d", rnd, 7);
	cr_assert_eq(tls_keylog_parse_line(line, &e), 0);
	cr_assert_eq(e.label, TLS_KEYLOG_CLIENT_RANDOM);
	cr_assert_eq(e.secret_len, 48);
	snprintf(line, sizeof line, "CLIENT_TRAFFIC_SECRET_1 %s 0a0b", rnd);
	cr_assert_eq(tls_keylog_parse_line(line, &e), 0);
	cr_assert_eq(e.label, TLS_KEYLOG_UNKNOWN, "a later generation is not ours to use");
	snprintf(line, sizeof line, "CLIENT_TRAFFIC_SECRET_ %s 0a0b", rnd);
	cr_assert_eq(tls_keylog_parse_line(line, &e), 0);
	cr_assert_eq(e.label, TLS_KEYLOG_UNKNOWN, "prefix of a label is not the label");
}

Test(tls_keylog, parse_rejects_malformed)
{
	char line[400];
	struct tls_keylog_entry e;
	cr_assert_eq(tls_keylog_parse_line("", &e), -EINVAL);
	cr_assert_eq(tls_keylog_parse_line("CLIENT_RANDOM", &e), -EINVAL);
	cr_assert_eq(tls_keylog_parse_line(" 00 11", &e), -EINVAL);
	snprintf(line, sizeof line, "CLIENT_RANDOM %.62s 0a0b", rnd);
	cr_assert_eq(tls_keylog_parse_line(line, &e), -EINVAL, "short random");
	snprintf(line, sizeof line, "CLIENT_RANDOM %s", rnd);
	cr_assert_eq(tls_keylog_parse_line(line, &e), -EINVAL, "no secret");
	snprintf(line, sizeof line, "CLIENT_RANDOM %s 0a0", rnd);
	cr_assert_eq(tls_keylog_parse_line(line, &e), -EINVAL, "odd hex");
	snprintf(line, sizeof line, "CLIENT_RANDOM %s 0x0b", rnd);
	cr_assert_eq(tls_keylog_parse_line(line, &e), -EINVAL, "not hex");
	snprintf(line, sizeof line, "CLIENT_RANDOM %s %0130d", rnd, 1);
	cr_assert_eq(tls_keylog_parse_line(line, &e), -EINVAL, "65-byte secret");
	cr_assert_eq(e.secret_len, 0);
}

/* reads the key log file: lines, and whether each label occurs */
static int read_log(char lines[][400], int max)
{
	FILE *fp = fopen(path, "r");
	int n = 0;
	cr_assert_not_null(fp);
	while (n < max && fgets(lines[n], 400, fp)) {
		size_t l = strlen(lines[n]);
		cr_assert(l && lines[n][l - 1] == '\n', "whole lines only");
		lines[n][l - 1] = 0;
		n++;
	}
	fclose(fp);
	return n;
}

static int count_label(char lines[][400], int n, enum tls_keylog_label label, const uint8_t *random)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		struct tls_keylog_entry e;
		cr_assert_eq(tls_keylog_parse_line(lines[i], &e), 0, "%s", lines[i]);
		cr_assert_arr_eq(e.client_random, random, 32, "one connection, one client random");
		k += e.label == label;
	}
	return k;
}

static void handshake_with_log(int version, struct tls_keylog **kl)
{
	cr_assert_eq(tls_keylog_open(kl, path, warn, &warnings), 0);
	fx_ctx(&f, version, false);
	cr_assert_eq(tls_keylog_install(f.cctx, *kl), 0, "only the client writes the file");
	fx_conns(&f, "sip.acme.co", 5000000000ull);
	fx_pump(&f);
	cr_assert_eq(f.cst, TLS_STEP_DONE, "%s", f.c.reason);
	cr_assert_eq(f.sst, TLS_STEP_DONE, "%s", f.s.reason);
}

Test(tls_keylog, tls13_lines_mode_and_warning)
{
	static char lines[16][400];
	struct tls_keylog *kl;
	struct stat st;
	uint8_t random[32];
	handshake_with_log(TLS1_3_VERSION, &kl);
	cr_assert_eq(warnings, 1, "one warning when the key log is on");
	cr_assert(strstr(last_warning, "key log"), "%s", last_warning);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
	cr_assert_eq(SSL_get_client_random(f.c.ssl, random, 32), 32);
	int n = read_log(lines, 16);
	cr_assert_eq(n, 5, "five TLS 1.3 secrets, got %d", n);
	cr_assert_eq(tls_keylog_lines(kl), 5);
	cr_assert_eq(count_label(lines, n, TLS_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET, random), 1);
	cr_assert_eq(count_label(lines, n, TLS_KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET, random), 1);
	cr_assert_eq(count_label(lines, n, TLS_KEYLOG_CLIENT_TRAFFIC_SECRET_0, random), 1);
	cr_assert_eq(count_label(lines, n, TLS_KEYLOG_SERVER_TRAFFIC_SECRET_0, random), 1);
	cr_assert_eq(count_label(lines, n, TLS_KEYLOG_EXPORTER_SECRET, random), 1);
	cr_assert_eq(count_label(lines, n, TLS_KEYLOG_CLIENT_RANDOM, random), 0);
	tls_keylog_close(kl);
}

Test(tls_keylog, tls12_client_random_line)
{
	static char lines[16][400];
	struct tls_keylog *kl;
	uint8_t random[32], master[48];
	struct tls_keylog_entry e;
	handshake_with_log(TLS1_2_VERSION, &kl);
	cr_assert_eq(SSL_get_client_random(f.c.ssl, random, 32), 32);
	int n = read_log(lines, 16);
	cr_assert_eq(n, 1);
	cr_assert_eq(count_label(lines, n, TLS_KEYLOG_CLIENT_RANDOM, random), 1);
	cr_assert_eq(tls_keylog_parse_line(lines[0], &e), 0);
	cr_assert_eq(e.secret_len, 48);
	cr_assert_eq(SSL_SESSION_get_master_key(SSL_get_session(f.c.ssl), master, 48), 48);
	cr_assert_arr_eq(e.secret, master, 48, "the line carries the real master secret");
	tls_keylog_close(kl);
}

Test(tls_keylog, appends_and_narrows_existing_file)
{
	struct tls_keylog *kl;
	struct stat st;
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "# old\n", 6), 6);
	fchmod(fd, 0644);
	close(fd);
	cr_assert_eq(tls_keylog_open(&kl, path, NULL, NULL), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(st.st_size, 6, "appends, never truncates");
	tls_keylog_close(kl);
}

Test(tls_keylog, refuses_symlink_and_missing_dir)
{
	struct tls_keylog *kl = NULL;
	char link[128];
	snprintf(link, sizeof link, "%s/link", dir);
	cr_assert_eq(symlink("/tmp/elsewhere-keys.log", link), 0);
	cr_assert_eq(tls_keylog_open(&kl, link, warn, &warnings), -ELOOP);
	unlink(link);
	cr_assert_eq(tls_keylog_open(&kl, "/nonexistent-dir/keys.log", warn, &warnings), -ENOENT);
	cr_assert_null(kl);
	cr_assert_eq(warnings, 0, "no warning when nothing was opened");
}

/* without any file, the hook still hands the TLS 1.3 traffic secrets to each side's sink; both
 * sides must hold the same two secrets */
Test(tls_keylog, sink_gets_secrets_without_file)
{
	struct tls_keylog_sink cs = {0}, ss = {0};
	struct ths_result r;
	fx_ctx(&f, TLS1_3_VERSION, false);
	cr_assert_eq(SSL_CTX_set_ciphersuites(f.cctx, "TLS_AES_256_GCM_SHA384"), 1);
	cr_assert_eq(ths_tcp_pair(AF_INET, &f.cfd, &f.sfd), 0);
	SSL *c = ths_ssl(f.cctx, f.cfd, false), *s = ths_ssl(f.sctx, f.sfd, true);
	cr_assert_eq(tls_keylog_sink_attach(c, &cs), 0);
	cr_assert_eq(tls_keylog_sink_attach(s, &ss), 0);
	cr_assert_eq(ths_handshake(c, s, 5000, &r), 0, "%s / %s", r.client.reason, r.server.reason);
	cr_assert_eq(cs.client_app_len, 48, "SHA384 suite: 48-byte secrets");
	cr_assert_eq(cs.server_app_len, 48);
	cr_assert_eq(ss.client_app_len, 48);
	cr_assert_arr_eq(cs.client_app, ss.client_app, 48);
	cr_assert_arr_eq(cs.server_app, ss.server_app, 48);
	cr_assert_arr_neq(cs.client_app, cs.server_app, 48, "two directions, two secrets");
	tls_keylog_sink_clear(&cs);
	cr_assert_eq(cs.client_app_len, 0);
	SSL_free(c);
	SSL_free(s);
}

Test(tls_keylog, conn_drops_secret_it_cannot_use)
{
	/* user twins both ways (kTLS off): no manual kernel receive can follow, so no secret is
	 * kept in the connection */
	fx_ctx(&f, TLS1_3_VERSION, false);
	SSL_CTX_clear_options(f.cctx, SSL_OP_ENABLE_KTLS);
	SSL_CTX_clear_options(f.sctx, SSL_OP_ENABLE_KTLS);
	fx_conns(&f, "sip.acme.co", 5000000000ull);
	fx_pump(&f);
	cr_assert_eq(f.cst, TLS_STEP_DONE, "%s", f.c.reason);
	cr_assert_eq(f.sst, TLS_STEP_DONE, "%s", f.s.reason);
	cr_assert_eq(f.c.rec.tx, TLS_RL_USER);
	cr_assert_eq(f.c.secrets.server_app_len, 0, "user/user: no receive secret kept around");
	cr_assert_eq(f.c.secrets.client_app_len, 0);
	cr_assert_eq(f.s.secrets.client_app_len, 0);
	cr_assert_eq(tls_conn_ktls_rx13(&f.c), -EOPNOTSUPP);
}

/* several workers log at once: every line arrives whole (one write(2) per line under a lock) */
struct writer {
	SSL *ssl;
	void (*cb)(const SSL *, const char *);
	int id;
};

static void *write_lines(void *arg)
{
	struct writer *w = arg;
	char line[200];
	for (int i = 0; i < 300; i++) {
		snprintf(line, sizeof line, "CLIENT_RANDOM %s %02x%094d", rnd, w->id, i);
		w->cb(w->ssl, line);
	}
	return NULL;
}

Test(tls_keylog, concurrent_writers_never_interleave)
{
	static char lines[1300][400];
	struct tls_keylog *kl;
	pthread_t t[4];
	struct writer w[4];
	int per_writer[4] = {0};
	cr_assert_eq(tls_keylog_open(&kl, path, NULL, NULL), 0);
	f.cctx = SSL_CTX_new(TLS_client_method());
	cr_assert_eq(tls_keylog_install(f.cctx, kl), 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){SSL_new(f.cctx), SSL_CTX_get_keylog_callback(f.cctx), i};
		cr_assert_not_null(w[i].cb);
		cr_assert_eq(pthread_create(&t[i], NULL, write_lines, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	int n = read_log(lines, 1300);
	cr_assert_eq(n, 1200);
	cr_assert_eq(tls_keylog_lines(kl), 1200);
	for (int i = 0; i < n; i++) {
		struct tls_keylog_entry e;
		cr_assert_eq(tls_keylog_parse_line(lines[i], &e), 0, "line %d: %s", i, lines[i]);
		cr_assert_eq(e.secret_len, 48);
		cr_assert_lt(e.secret[0], 4);
		per_writer[e.secret[0]]++;
	}
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(per_writer[i], 300);
		SSL_free(w[i].ssl);
	}
	tls_keylog_close(kl);
}
