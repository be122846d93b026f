/*
 * tls_server.c - STARTTLS for the ManageSieve service over GnuTLS (see
 * tls_server.h): the system's default priorities, no client
 * certificates, non-blocking throughout so that one slow client never
 * holds the others.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "agent/tls_server.h"
#include "agent/xmem.h"

struct tls_context {
	gnutls_certificate_credentials_t cred;
};

struct tls_session {
	gnutls_session_t s;
	int last;		/* last GnuTLS error code */
};

static int
context_new(const char *cert, const char *key, struct tls_context **ctx_r,
    char **err_r)
{
	struct tls_context *ctx = xcalloc(1, sizeof(*ctx));
	int r;

	*ctx_r = NULL;
	if ((r = gnutls_certificate_allocate_credentials(&ctx->cred)) < 0 ||
	    (r = gnutls_certificate_set_x509_key_file(ctx->cred, cert, key,
	    GNUTLS_X509_FMT_PEM)) < 0) {
		*err_r = xasprintf("cannot load the TLS certificate %s and "
		    "key %s: %s", cert, key, gnutls_strerror(r));
		if (ctx->cred != NULL)
			gnutls_certificate_free_credentials(ctx->cred);
		free(ctx);
		return -1;
	}
	*ctx_r = ctx;
	return 0;
}

static void
context_free(struct tls_context *ctx)
{
	if (ctx == NULL)
		return;
	gnutls_certificate_free_credentials(ctx->cred);
	free(ctx);
}

static struct tls_session *
session_new(struct tls_context *ctx, int fd)
{
	struct tls_session *t = xcalloc(1, sizeof(*t));

	if (gnutls_init(&t->s, GNUTLS_SERVER | GNUTLS_NONBLOCK) < 0 ||
	    gnutls_set_default_priority(t->s) < 0 ||
	    gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE,
	    ctx->cred) < 0) {
		if (t->s != NULL)
			gnutls_deinit(t->s);
		free(t);
		return NULL;
	}
	gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_IGNORE);
	gnutls_transport_set_int(t->s, fd);
	return t;
}

static int
again(int r)
{
	return r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED;
}

static int
handshake(struct tls_session *t)
{
	int r = gnutls_handshake(t->s);

	if (r == 0)
		return 0;
	if (again(r) || (r < 0 && !gnutls_error_is_fatal(r)))
		return TLS_AGAIN;
	t->last = r;
	return TLS_ERROR;
}

/* A GnuTLS record call's result in tls_server.h's terms. */
static ssize_t
record_result(struct tls_session *t, ssize_t r)
{
	if (r >= 0)
		return r;
	if (again((int)r))
		return TLS_AGAIN;
	t->last = (int)r;
	return TLS_ERROR;
}

static ssize_t
tls_recv(struct tls_session *t, void *buf, size_t len)
{
	return record_result(t, gnutls_record_recv(t->s, buf, len));
}

static ssize_t
tls_send(struct tls_session *t, const void *buf, size_t len)
{
	return record_result(t, gnutls_record_send(t->s, buf, len));
}

static size_t
pending(struct tls_session *t)
{
	return gnutls_record_check_pending(t->s);
}

static int
wants_write(struct tls_session *t)
{
	return gnutls_record_get_direction(t->s) == 1;
}

static const char *
error(struct tls_session *t)
{
	return gnutls_strerror(t->last);
}

static void
session_free(struct tls_session *t)
{
	if (t == NULL)
		return;
	gnutls_bye(t->s, GNUTLS_SHUT_WR);
	gnutls_deinit(t->s);
	free(t);
}

const struct tls_server_ops tls_server_module_ops = {
	.context_new = context_new,
	.context_free = context_free,
	.session_new = session_new,
	.handshake = handshake,
	.recv = tls_recv,
	.send = tls_send,
	.pending = pending,
	.wants_write = wants_write,
	.error = error,
	.session_free = session_free,
};
