/*
 * tls_server.h - the server side of TLS (GnuTLS) for `mailsift
 * managesieve`'s STARTTLS, on non-blocking sockets.  It lives in the
 * network module (mailsift-imap.so, with libetpan) so that the commands
 * that never touch the network do not load GnuTLS; account.c finds it.
 */
#ifndef MAILSIFT_TLS_SERVER_H
#define MAILSIFT_TLS_SERVER_H

#include <stddef.h>
#include <sys/types.h>

struct tls_context;
struct tls_session;

/* Results of handshake, recv and send besides byte counts. */
#define TLS_AGAIN	(-2)	/* would block: wait for tls_wants_write()
				 * ? writable : readable, then call again */
#define TLS_ERROR	(-1)	/* the session is broken: close */

struct tls_server_ops {
	/* Loads a certificate chain and its key (PEM files). */
	int (*context_new)(const char *cert, const char *key,
	    struct tls_context **ctx_r, char **err_r);
	void (*context_free)(struct tls_context *ctx);
	/* A server session on the connected, non-blocking socket fd. */
	struct tls_session *(*session_new)(struct tls_context *ctx, int fd);
	/* 0 done, TLS_AGAIN or TLS_ERROR. */
	int (*handshake)(struct tls_session *s);
	/* Bytes read (0: the peer closed), TLS_AGAIN or TLS_ERROR. */
	ssize_t (*recv)(struct tls_session *s, void *buf, size_t len);
	/* Bytes written, TLS_AGAIN (call again with the same data) or
	 * TLS_ERROR. */
	ssize_t (*send)(struct tls_session *s, const void *buf, size_t len);
	/* Bytes already decrypted and waiting (no poll will announce
	 * them). */
	size_t (*pending)(struct tls_session *s);
	/* After TLS_AGAIN: 1 if it waits to write, 0 to read. */
	int (*wants_write)(struct tls_session *s);
	/* The reason of the last TLS_ERROR. */
	const char *(*error)(struct tls_session *s);
	/* Sends close_notify if it can, without waiting, and frees. */
	void (*session_free)(struct tls_session *s);
};

/* The module's table (found with dlsym by account_tls_server()). */
extern const struct tls_server_ops tls_server_module_ops;

#endif
