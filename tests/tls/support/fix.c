/* TLS policy test fixtures. See fix.h. */
#include "tests/tls/support/fix.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

void tfix_tp_init(struct tfix_tp *f, const struct tpki *pki, const char *leaf, bool ca, bool crl)
{
	static char names[8][64];
	static unsigned next;
	char *name = names[next++ % 8];

	memset(f, 0, sizeof(*f));
	snprintf(name, sizeof(names[0]), "TP-%s", leaf ? leaf : "ca");
	f->conf.name = name;
	if (leaf) {
		snprintf(f->cert, sizeof(f->cert), "%s/%s.crt", pki->dir, leaf);
		snprintf(f->key, sizeof(f->key), "%s/%s.key", pki->dir, leaf);
		f->conf.cert_file = f->cert;
		f->conf.key_file = f->key;
	}
	if (ca) {
		snprintf(f->ca, sizeof(f->ca), "%s/ca.crt", pki->dir);
		f->conf.ca_file = f->ca;
	}
	if (crl) {
		snprintf(f->crl, sizeof(f->crl), "%s/crl.pem", pki->dir);
		f->conf.crl_files[0] = f->crl;
		f->conf.n_crl = 1;
		f->conf.revocation[0] = TLS_REVOKE_CRL;
		f->conf.n_revocation = 1;
	}
}

int tfix_tp_load(struct tfix_tp *f, const struct tpki *pki, const char *leaf, bool ca, bool crl)
{
	char err[256];
	int rc;

	tfix_tp_init(f, pki, leaf, ca, crl);
	rc = tls_trustpoint_load(&f->tp, &f->conf, err, sizeof(err));
	if (rc)
		fprintf(stderr, "tfix_tp_load: %s\n", err);
	return rc;
}

static void tfix_ident(SSL *ssl, int fd, bool server, const struct tfix_opts *o,
                       struct tls_ident_ctx *out)
{
	struct tls_ident_ctx ic = {.tenant = server ? o->server_tenant : o->client_tenant,
	                           .target = server ? NULL : o->target,
	                           .stats = server ? o->server_stats : o->client_stats};
	socklen_t len = sizeof(ic.local);

	getsockname(fd, (struct sockaddr *)&ic.local, &len);
	len = sizeof(ic.remote);
	getpeername(fd, (struct sockaddr *)&ic.remote, &len);
	if (tls_ident_attach(ssl, &ic))
		fprintf(stderr, "tfix_ident: attach failed\n");
	*out = ic;
	out->target = NULL; /* not kept: it is the caller's string */
}

int tfix_run(struct tfix_conn *k, SSL_CTX *cctx, SSL_CTX *sctx, const struct tfix_opts *o)
{
	static const struct tfix_opts none;

	memset(k, 0, sizeof(*k));
	k->cfd = k->sfd = -1;
	k->rc = -1;
	o = o ? o : &none;
	if (ths_tcp_pair(AF_INET, &k->cfd, &k->sfd))
		return -1;
	k->c = ths_ssl(cctx, k->cfd, false);
	k->s = ths_ssl(sctx, k->sfd, true);
	if (!k->c || !k->s)
		return -1;
	tfix_ident(k->c, k->cfd, false, o, &k->cid);
	tfix_ident(k->s, k->sfd, true, o, &k->sid);
	if (o->client_profile && tls_sni_client_set(k->c, o->client_profile, o->target) < 0)
		return -1;
	if (o->sni && tls_sni_attach(k->s, o->sni))
		return -1;
	if (o->session && SSL_set_session(k->c, o->session) != 1)
		return -1;
	k->rc = ths_handshake(k->c, k->s, 5000, &k->r);
	if (k->rc == 0)
		k->rc = ths_roundtrip(k->c, k->s, 2000);
	/* the driver's part: a handshake that did not complete counts on its side */
	if (!k->r.client.done)
		tls_ident_handshake_failed(k->c);
	if (!k->r.server.done)
		tls_ident_handshake_failed(k->s);
	return k->rc;
}

void tfix_close(struct tfix_conn *k)
{
	/* close_notify keeps the sessions resumable (OpenSSL drops unclean ones) */
	if (k->rc == 0 && k->c && k->s) {
		SSL_shutdown(k->c);
		SSL_shutdown(k->s);
	}
	SSL_free(k->c);
	SSL_free(k->s);
	if (k->cfd >= 0)
		close(k->cfd);
	if (k->sfd >= 0)
		close(k->sfd);
	memset(k, 0, sizeof(*k));
}

static void tfix_log_hook(void *arg, int level, const char *line)
{
	struct tfix_log *l = arg;

	if (l->n >= 8)
		return;
	l->level[l->n] = level;
	snprintf(l->line[l->n], sizeof(l->line[0]), "%s", line);
	l->n++;
}

void tfix_log_capture(struct tfix_log *l)
{
	static const struct core_log_opts quiet = {.max_level = LOG_DEBUG};

	memset(l, 0, sizeof(*l));
	core_log_open(&quiet);
	core_log_set_hook(tfix_log_hook, l);
}

void tfix_log_stop(void)
{
	core_log_set_hook(NULL, NULL);
}
