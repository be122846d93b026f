/*
 * imap_stream.h - the connection under libetpan: TCP, TLS, and the limits
 * that keep a broken or hostile server from wedging mailsift.
 *
 * libetpan 1.9.4 trusts its stream: on EOF inside a literal its parser
 * calls recv() forever (100% CPU), its timeout applies per read (a server
 * trickling a byte a second holds a command forever), its TLS handshake
 * and connect block without looking at anything else, and it allocates
 * whatever length a server announces for a literal before reading it.  So
 * store_imap.c hands libetpan a mailstream whose low-level driver is this
 * file: every failure below surfaces as a read or write error (libetpan's
 * MAILIMAP_ERROR_STREAM) with the reason kept here, never as a hang.
 *
 *   - EOF, a reset, any socket or TLS error: an error.
 *   - A deadline per command: armed whenever mailsift writes (every
 *     command starts with a write), it bounds the whole answer, however
 *     slowly it trickles in.
 *   - A cancel descriptor: once it is readable (the daemon's stop signal),
 *     every wait fails within one poll; resolving the host name, the TCP
 *     connect and the TLS handshake wait the same way.
 *   - Literals: the driver follows the response syntax just enough to see
 *     each literal's announced length ("{N}" at the end of a line, outside
 *     quoted strings) before libetpan does, and fails on one longer than
 *     the limit in force; it also caps the bytes of one command's answer.
 *   - TCP keepalive on the socket, so a silently vanished peer is noticed.
 *
 * The stream object belongs to the mailstream built over it: closing that
 * mailstream (mailstream_close) frees it.  TLS is GnuTLS, with no trust
 * anchors loaded here: the caller verifies the chain (tls_verify.h) before
 * anything secret is sent.
 */
#ifndef MAILSIFT_IMAP_STREAM_H
#define MAILSIFT_IMAP_STREAM_H

#include <stddef.h>

#include <libetpan/libetpan.h>

#include "agent/tls_verify.h"

struct imap_stream;

/* Literal limit and answer budget outside explicit limits: commands other
 * than a message fetch carry no big literal. */
#define IMAP_STREAM_LITERAL_DEFAULT	(1024 * 1024)
#define IMAP_STREAM_BUDGET_DEFAULT	((size_t)256 * 1024 * 1024)

/* Resolves host, connects to port and returns a stream, or NULL with
 * *err_r (malloc'd, says what failed).  timeout_s bounds the whole
 * connect, and is then the deadline of each command; cancel_fd (-1: none)
 * as above. */
struct imap_stream *imap_stream_connect(const char *host, int port,
    int timeout_s, int cancel_fd, char **err_r);

/* A stream over fd, an already connected socket (taken over: closed with
 * the stream); for tests and fuzzing. */
struct imap_stream *imap_stream_from_fd(int fd, int timeout_s, int cancel_fd);

/* A libetpan mailstream over the stream, which it then owns. */
mailstream *imap_stream_mailstream(struct imap_stream *st);

/* TLS handshake on the connection (implicit TLS right after connect, or
 * after a STARTTLS command); server_name for SNI, NULL for none.  0, or -1
 * with the reason in imap_stream_error(). */
int imap_stream_start_tls(struct imap_stream *st, const char *server_name);

/* The certificate chain the server presented (leaf first), borrowed from
 * the TLS session; *n_r = 0 without TLS.  Free the array only. */
struct tls_der *imap_stream_peer_chain(struct imap_stream *st, size_t *n_r);

/* Limits for the next commands: the longest literal accepted and the
 * bytes one command's answer may take (0: the defaults above). */
void imap_stream_set_limits(struct imap_stream *st, size_t literal_max,
    size_t budget);
void imap_stream_set_timeout(struct imap_stream *st, int timeout_s);
void imap_stream_set_cancel_fd(struct imap_stream *st, int cancel_fd);

/* 1 if received bytes wait inside the stream (TLS records already read
 * from the socket), where poll() on the socket cannot see them. */
int imap_stream_pending(struct imap_stream *st);

/* Why the last read or write failed ("" if none). */
const char *imap_stream_error(const struct imap_stream *st);
/* 1 if that failure was the server's bytes (no TLS where TLS was
 * expected, a literal or an answer over the limits), not the network
 * (EOF, reset, timeout) or the cancel descriptor. */
int imap_stream_nonsense(const struct imap_stream *st);

#endif
