/*
 * imap_stream.c - the IMAP connection as a libetpan low-level stream
 * driver, see imap_stream.h.
 *
 * It owns the socket (non-blocking from the start, every wait a poll() on
 * it and the cancel descriptor, bounded by the command's deadline), the
 * GnuTLS session over it, and the small scanner that sees each literal's
 * announced length before libetpan's parser does.  Every failure is sticky:
 * once a read or write failed the connection's state is unknown, so every
 * later one fails too and the store reconnects.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "agent/imap_stream.h"
#include "agent/xmem.h"

/* libetpan's own read buffer size for IMAP. */
#define MAILSTREAM_BUFFER	8192
/* A name lookup is looked at this often for the cancel descriptor. */
#define LOOKUP_SLICE_MS		100
/* TCP keepalive: probe after a minute of silence, give up after about two
 * more (Linux defaults to two hours, too late for a daemon). */
#define KEEPALIVE_IDLE_S	60
#define KEEPALIVE_INTERVAL_S	20
#define KEEPALIVE_COUNT		4

/* Where the literal scanner is in the server's byte stream. */
enum scan_state {
	SCAN_TEXT,		/* anywhere in a response line */
	SCAN_QUOTED,		/* inside "..." */
	SCAN_QUOTED_ESCAPE,	/* after a backslash inside "..." */
	SCAN_LENGTH,		/* after "{": the digits of a length */
	SCAN_AFTER_BRACE,	/* after "{N}": a literal if CRLF follows */
	SCAN_AFTER_CR,		/* after "{N}\r" */
	SCAN_LITERAL		/* inside a literal's bytes */
};

struct imap_stream {
	int fd;
	int cancel_fd;		/* -1: none */
	int timeout_ms;		/* per command */
	int64_t deadline;	/* monotonic ms: the command in flight */
	gnutls_session_t tls;	/* NULL until start_tls */
	gnutls_certificate_credentials_t creds;

	size_t literal_max;
	size_t budget;		/* answer bytes one command may take */
	size_t used;		/* answer bytes since the last write */
	enum scan_state scan;
	uint64_t length;	/* of the literal being announced */
	int length_digits;
	uint64_t literal_left;	/* bytes of the current literal to skip */

	int greeted;		/* the greeting went up to libetpan */
	char *held;		/* bytes read but not yet handed up */
	size_t held_len, held_off;

	int failed;
	int nonsense;		/* the peer sent bytes that make no sense */
	int peer_closed;	/* recv() saw the end of the stream */
	char error[256];
};

/* A name lookup that was given up while the resolver still works on it:
 * its memory stays valid until the resolver is done. */
struct lookup {
	struct gaicb cb;
	struct addrinfo hints;
	char *host;
	char service[8];
	struct lookup *next;
};

static struct lookup *abandoned_lookups;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 if fd (>= 0) is readable now. */
static int
fd_ready(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	if (fd < 0)
		return 0;
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP));
}

static void
fail(struct imap_stream *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
fail(struct imap_stream *st, const char *fmt, ...)
{
	va_list ap;

	if (st->failed)
		return;		/* the first reason is the real one */
	st->failed = 1;
	va_start(ap, fmt);
	vsnprintf(st->error, sizeof(st->error), fmt, ap);
	va_end(ap);
}

/* Waits until fd is ready for events, the deadline passes or cancel_fd
 * becomes readable.  0 when ready, 1 on timeout, 2 on cancel, -1 on a
 * poll error (errno). */
static int
wait_fd(int fd, short events, int cancel_fd, int64_t deadline)
{
	struct pollfd p[2] = { { fd, events, 0 }, { cancel_fd, POLLIN, 0 } };

	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return 1;
		r = poll(p, cancel_fd >= 0 ? 2 : 1, left > INT32_MAX ?
		    INT32_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (cancel_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP)))
			return 2;
		if (r > 0)
			return 0;
	}
}

/* wait_fd for the stream's own socket; -1 (reason recorded) unless it is
 * ready. */
static int
wait_io(struct imap_stream *st, short events, const char *what)
{
	switch (wait_fd(st->fd, events, st->cancel_fd, st->deadline)) {
	case 0:
		return 0;
	case 1:
		fail(st, "%s took longer than %d s (imap.timeout)", what,
		    st->timeout_ms / 1000);
		break;
	case 2:
		fail(st, "interrupted by the stop signal");
		break;
	default:
		fail(st, "cannot wait on the connection: %s",
		    strerror(errno));
		break;
	}
	return -1;
}

/* Records a GnuTLS error: the socket's own errors are the network's, the
 * others mean the peer does not speak TLS as it should. */
static void
fail_tls(struct imap_stream *st, const char *what, int r, int saved_errno)
{
	if (r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR) {
		fail(st, "%s", strerror(saved_errno));
		return;
	}
	/* A record cut short by the close reads as garbage to GnuTLS. */
	if (r == GNUTLS_E_PREMATURE_TERMINATION || st->peer_closed) {
		fail(st, "the server closed the connection");
		return;
	}
	st->nonsense = 1;
	fail(st, "%s: %s", what, gnutls_strerror(r));
}

/* ------------------------------------------------------------ scanner */

/* Follows the server's bytes: a literal longer than the limit, or an
 * answer over the budget, fails the stream before libetpan sees it (its
 * parser allocates the announced length at once). */
static int
scan(struct imap_stream *st, const unsigned char *p, size_t n)
{
	st->used += n;
	if (st->used > st->budget) {
		st->nonsense = 1;
		fail(st, "the server sent more than %zu bytes for one "
		    "command", st->budget);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		switch (st->scan) {
		case SCAN_LITERAL:
			if (st->literal_left > n - i) {
				st->literal_left -= n - i;
				return 0;
			}
			i += st->literal_left - 1;
			st->literal_left = 0;
			st->scan = SCAN_TEXT;
			continue;
		case SCAN_QUOTED:
			if (c == '\\')
				st->scan = SCAN_QUOTED_ESCAPE;
			else if (c == '"' || c == '\n')
				st->scan = SCAN_TEXT;
			continue;
		case SCAN_QUOTED_ESCAPE:
			st->scan = c == '\n' ? SCAN_TEXT : SCAN_QUOTED;
			continue;
		case SCAN_LENGTH:
			if (c >= '0' && c <= '9') {
				/* Saturates: any absurd length is refused. */
				if (st->length < UINT64_MAX / 10)
					st->length = st->length * 10 +
					    (c - '0');
				else
					st->length = UINT64_MAX;
				st->length_digits++;
				continue;
			}
			if (c == '}' && st->length_digits > 0) {
				st->scan = SCAN_AFTER_BRACE;
				continue;
			}
			break;		/* not a literal: c is text */
		case SCAN_AFTER_BRACE:
			if (c == '\r') {
				st->scan = SCAN_AFTER_CR;
				continue;
			}
			if (c == '\n')
				goto literal;
			break;
		case SCAN_AFTER_CR:
			if (c == '\n')
				goto literal;
			break;
		case SCAN_TEXT:
			break;
		}
		/* Text. */
		st->scan = SCAN_TEXT;
		if (c == '"') {
			st->scan = SCAN_QUOTED;
		} else if (c == '{') {
			st->scan = SCAN_LENGTH;
			st->length = 0;
			st->length_digits = 0;
		}
		continue;
literal:
		if (st->length > st->literal_max) {
			st->nonsense = 1;
			if (st->length == UINT64_MAX)
				fail(st, "the server announced a literal of "
				    "absurd length (%d digits)",
				    st->length_digits);
			else
				fail(st, "the server announced a literal of "
				    "%llu bytes, more than the %zu allowed",
				    (unsigned long long)st->length,
				    st->literal_max);
			return -1;
		}
		st->literal_left = st->length;
		st->scan = st->length > 0 ? SCAN_LITERAL : SCAN_TEXT;
	}
	return 0;
}

/* ------------------------------------------------------------ driver */

static ssize_t read_raw(struct imap_stream *st, void *buf, size_t count);

/* libetpan 1.9.4 parses the greeting without its parser context, and a
 * response code holding a string there (PERMANENTFLAGS, BADCHARSET, as in
 * "* OK [PERMANENTFLAGS (\Seen)] hi") dereferences it: a crash found by
 * tests/fuzz/fuzz_imap_server.c.  Only CAPABILITY means anything in a
 * greeting, so the whole first line is read here and any other code is
 * cut out of it before libetpan sees it. */
static int
read_greeting(struct imap_stream *st)
{
	size_t cap = 4096, len = 0;
	char *line = xmalloc(cap), *eol = NULL, *code, *end;
	ssize_t n;

	while (eol == NULL) {
		if (len == cap) {
			free(line);
			st->nonsense = 1;
			fail(st, "the greeting is longer than %zu bytes", cap);
			return -1;
		}
		if ((n = read_raw(st, line + len, cap - len)) < 0) {
			free(line);
			return -1;
		}
		eol = memchr(line + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	code = memchr(line, '[', (size_t)(eol - line));
	if (code != NULL && (size_t)(eol - code) > 12 &&
	    strncasecmp(code, "[CAPABILITY ", 12) == 0)
		code = NULL;
	if (code != NULL) {
		/* Up to the last ']' of the line, or the whole rest. */
		for (end = eol; end > code && *end != ']'; end--)
			;
		end = end > code ? end + 1 : eol;
		if (end == eol && end > code && end[-1] == '\r')
			end--;
		memmove(code, end, len - (size_t)(end - line));
		len -= (size_t)(end - code);
	}
	st->held = line;
	st->held_len = len;
	st->held_off = 0;
	st->greeted = 1;
	return 0;
}

static ssize_t
stream_read(mailstream_low *low, void *buf, size_t count)
{
	struct imap_stream *st = low->data;
	ssize_t n;

	if (!st->greeted && read_greeting(st) < 0)
		return -1;
	if (st->held != NULL) {
		n = (ssize_t)(st->held_len - st->held_off);
		if ((size_t)n > count)
			n = (ssize_t)count;
		memcpy(buf, st->held + st->held_off, (size_t)n);
		st->held_off += (size_t)n;
		if (st->held_off == st->held_len) {
			free(st->held);
			st->held = NULL;
		}
		return scan(st, buf, (size_t)n) < 0 ? -1 : n;
	}
	if ((n = read_raw(st, buf, count)) < 0)
		return -1;
	return scan(st, buf, (size_t)n) < 0 ? -1 : n;
}

/* One read from the connection: the bytes (> 0), or -1 with the reason
 * recorded. */
static ssize_t
read_raw(struct imap_stream *st, void *buf, size_t count)
{
	ssize_t n;

	for (;;) {
		if (st->failed)
			return -1;
		/* A server answering at once never lets poll() wait: look at
		 * the cancel descriptor before every read. */
		if (fd_ready(st->cancel_fd)) {
			fail(st, "interrupted by the stop signal");
			return -1;
		}
		if (st->tls != NULL) {
			n = gnutls_record_recv(st->tls, buf, count);
			if (n > 0)
				break;
			if (n == 0) {
				fail(st, "the server closed the connection");
				return -1;
			}
			if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED) {
				fail_tls(st, "TLS error", (int)n, errno);
				return -1;
			}
		} else {
			n = recv(st->fd, buf, count, 0);
			if (n > 0)
				break;
			if (n == 0) {
				fail(st, "the server closed the connection");
				return -1;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				fail(st, "%s", strerror(errno));
				return -1;
			}
		}
		if (wait_io(st, POLLIN, "the server's answer") < 0)
			return -1;
	}
	return n;
}

static ssize_t
stream_write(mailstream_low *low, const void *buf, size_t count)
{
	struct imap_stream *st = low->data;
	const char *p = buf;
	size_t done = 0;
	ssize_t n;

	if (st->failed)
		return -1;
	/* Every command starts with a write: its answer gets a new
	 * deadline and budget. */
	st->deadline = now_ms() + st->timeout_ms;
	st->used = 0;
	while (done < count) {
		if (st->tls != NULL) {
			n = gnutls_record_send(st->tls, p + done,
			    count - done);
			if (n < 0 && n != GNUTLS_E_AGAIN &&
			    n != GNUTLS_E_INTERRUPTED) {
				fail_tls(st, "TLS error", (int)n, errno);
				return -1;
			}
		} else {
			n = send(st->fd, p + done, count - done,
			    MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN &&
			    errno != EWOULDBLOCK && errno != EINTR) {
				fail(st, "%s", strerror(errno));
				return -1;
			}
		}
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (wait_io(st, POLLOUT, "sending a command") < 0)
			return -1;
	}
	return (ssize_t)count;
}

static int
stream_close(mailstream_low *low)
{
	struct imap_stream *st = low->data;

	/* No TLS close_notify: a dead server would make it wait. */
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	return 0;
}

static int
stream_get_fd(mailstream_low *low)
{
	struct imap_stream *st = low->data;

	return st->fd;
}

static void
stream_free(mailstream_low *low)
{
	struct imap_stream *st = low->data;

	if (st->fd >= 0)
		close(st->fd);
	if (st->tls != NULL)
		gnutls_deinit(st->tls);
	if (st->creds != NULL)
		gnutls_certificate_free_credentials(st->creds);
	free(st->held);
	free(st);
	free(low);
}

static void
stream_cancel(mailstream_low *low)
{
	(void)low;
}

static struct mailstream_cancel *
stream_get_cancel(mailstream_low *low)
{
	(void)low;
	return NULL;
}

static carray *
stream_get_certificate_chain(mailstream_low *low)
{
	(void)low;
	return NULL;		/* imap_stream_peer_chain() instead */
}

static mailstream_low_driver stream_driver = {
	.mailstream_read = stream_read,
	.mailstream_write = stream_write,
	.mailstream_close = stream_close,
	.mailstream_get_fd = stream_get_fd,
	.mailstream_free = stream_free,
	.mailstream_cancel = stream_cancel,
	.mailstream_get_cancel = stream_get_cancel,
	.mailstream_get_certificate_chain = stream_get_certificate_chain,
	.mailstream_setup_idle = NULL,
	.mailstream_unsetup_idle = NULL,
	.mailstream_interrupt_idle = NULL,
};

/* ------------------------------------------------------------ connect */

static void
lookup_free(struct lookup *l)
{
	if (l->cb.ar_result != NULL)
		freeaddrinfo(l->cb.ar_result);
	free(l->host);
	free(l);
}

/* Frees the abandoned lookups the resolver has finished with. */
static void
lookups_reap(void)
{
	struct lookup **p = &abandoned_lookups;

	while (*p != NULL) {
		struct lookup *l = *p;

		if (gai_error(&l->cb) == EAI_INPROGRESS) {
			p = &l->next;
			continue;
		}
		*p = l->next;
		lookup_free(l);
	}
}

/* getaddrinfo() that gives up at the deadline or on cancel: the lookup
 * runs in glibc's resolver thread (getaddrinfo_a) while this waits. */
static int
resolve(const char *host, int port, int cancel_fd, int64_t deadline,
    struct addrinfo **res_r, char **err_r)
{
	struct lookup *l = xcalloc(1, sizeof(*l));
	struct gaicb *list[1] = { &l->cb };
	int r;

	lookups_reap();
	l->host = xstrdup(host);
	snprintf(l->service, sizeof(l->service), "%d", port);
	l->hints.ai_family = AF_UNSPEC;
	l->hints.ai_socktype = SOCK_STREAM;
	l->hints.ai_flags = AI_ADDRCONFIG;
	l->cb.ar_name = l->host;
	l->cb.ar_service = l->service;
	l->cb.ar_request = &l->hints;
	if ((r = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0) {
		*err_r = xasprintf("cannot look up %s: %s", host,
		    gai_strerror(r));
		lookup_free(l);
		return -1;
	}
	while ((r = gai_error(&l->cb)) == EAI_INPROGRESS) {
		struct timespec slice = { 0, LOOKUP_SLICE_MS * 1000000L };
		int64_t left = deadline - now_ms();

		if (left <= 0 || fd_ready(cancel_fd)) {
			*err_r = left <= 0 ? xasprintf("looking up %s took "
			    "too long", host) :
			    xstrdup("interrupted by the stop signal");
			/* Not gai_cancel(): glibc then never frees the
			 * request's wait list (a leak per cancelled
			 * lookup); the resolver thread finishes it and
			 * lookups_reap() frees ours. */
			l->next = abandoned_lookups;
			abandoned_lookups = l;
			return -1;
		}
		if (left < LOOKUP_SLICE_MS)
			slice.tv_nsec = (long)left * 1000000L;
		gai_suspend((const struct gaicb *const *)list, 1, &slice);
	}
	if (r != 0) {
		*err_r = xasprintf("cannot look up %s: %s", host,
		    gai_strerror(r));
		lookup_free(l);
		return -1;
	}
	*res_r = l->cb.ar_result;
	l->cb.ar_result = NULL;
	lookup_free(l);
	return 0;
}

static void
socket_options(int fd)
{
	int on = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_INTERVAL_S;
	int cnt = KEEPALIVE_COUNT;

	/* Best effort: a socket without them still works. */
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	/* Commands go out whole; do not hold back the next one. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/* Connects a non-blocking socket to one address: the fd, or -1 with
 * *why_r (a static string or strerror) and *cancelled_r. */
static int
connect_one(const struct addrinfo *ai, int cancel_fd, int64_t deadline,
    const char **why_r, int *cancelled_r)
{
	int fd, err = 0;
	socklen_t len = sizeof(err);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		*why_r = strerror(errno);
		return -1;
	}
	socket_options(fd);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*why_r = errno == ECONNREFUSED ? "connection refused" :
		    strerror(errno);
		close(fd);
		return -1;
	}
	switch (wait_fd(fd, POLLOUT, cancel_fd, deadline)) {
	case 0:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == 0)
			return fd;
		*why_r = err == ECONNREFUSED ? "connection refused" :
		    strerror(err);
		break;
	case 1:
		*why_r = "no answer (timeout)";
		break;
	case 2:
		*why_r = "interrupted by the stop signal";
		*cancelled_r = 1;
		break;
	default:
		*why_r = strerror(errno);
		break;
	}
	close(fd);
	return -1;
}

static struct imap_stream *
stream_new(int fd, int timeout_s, int cancel_fd)
{
	struct imap_stream *st = xcalloc(1, sizeof(*st));

	st->fd = fd;
	st->cancel_fd = cancel_fd;
	st->timeout_ms = (timeout_s > 0 ? timeout_s : 60) * 1000;
	st->deadline = now_ms() + st->timeout_ms;
	st->literal_max = IMAP_STREAM_LITERAL_DEFAULT;
	st->budget = IMAP_STREAM_BUDGET_DEFAULT;
	return st;
}

struct imap_stream *
imap_stream_connect(const char *host, int port, int timeout_s, int cancel_fd,
    char **err_r)
{
	int64_t deadline = now_ms() + (int64_t)(timeout_s > 0 ? timeout_s :
	    60) * 1000;
	struct addrinfo *res = NULL;
	const char *why = "no address";
	int fd = -1, cancelled = 0;

	*err_r = NULL;
	if (resolve(host, port, cancel_fd, deadline, &res, err_r) < 0)
		return NULL;
	for (struct addrinfo *ai = res; ai != NULL && fd < 0 && !cancelled;
	    ai = ai->ai_next)
		fd = connect_one(ai, cancel_fd, deadline, &why, &cancelled);
	freeaddrinfo(res);
	if (fd < 0) {
		*err_r = cancelled ? xstrdup(why) : xasprintf("cannot connect "
		    "to %s:%d: %s", host, port, why);
		return NULL;
	}
	/* The greeting shares the connect's deadline. */
	return stream_new(fd, timeout_s, cancel_fd);
}

struct imap_stream *
imap_stream_from_fd(int fd, int timeout_s, int cancel_fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	return stream_new(fd, timeout_s, cancel_fd);
}

mailstream *
imap_stream_mailstream(struct imap_stream *st)
{
	mailstream_low *low = mailstream_low_new(st, &stream_driver);
	mailstream *s;

	if (low == NULL)
		abort();
	if ((s = mailstream_new(low, MAILSTREAM_BUFFER)) == NULL)
		abort();
	return s;
}

/* ------------------------------------------------------------ TLS */

/* GnuTLS's transport: plain recv/send, remembering EOF (see fail_tls). */
static ssize_t
tls_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct imap_stream *st = ptr;
	ssize_t n = recv(st->fd, buf, len, 0);

	if (n == 0)
		st->peer_closed = 1;
	if (n < 0)
		gnutls_transport_set_errno(st->tls, errno);
	return n;
}

static ssize_t
tls_push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
	struct imap_stream *st = ptr;
	ssize_t n = send(st->fd, buf, len, MSG_NOSIGNAL);

	if (n < 0)
		gnutls_transport_set_errno(st->tls, errno);
	return n;
}

int
imap_stream_start_tls(struct imap_stream *st, const char *server_name)
{
	int r;

	if (st->failed)
		return -1;
	if (gnutls_certificate_allocate_credentials(&st->creds) < 0 ||
	    gnutls_init(&st->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0) {
		fail(st, "cannot set up TLS");
		return -1;
	}
	/* No trust anchors: the caller verifies the chain itself. */
	if (gnutls_set_default_priority(st->tls) < 0 ||
	    gnutls_credentials_set(st->tls, GNUTLS_CRD_CERTIFICATE,
	    st->creds) < 0 || (server_name != NULL &&
	    gnutls_server_name_set(st->tls, GNUTLS_NAME_DNS, server_name,
	    strlen(server_name)) < 0)) {
		fail(st, "cannot set up TLS");
		return -1;
	}
	gnutls_transport_set_ptr(st->tls, st);
	gnutls_transport_set_pull_function(st->tls, tls_pull);
	gnutls_transport_set_push_function(st->tls, tls_push);
	st->deadline = now_ms() + st->timeout_ms;
	while ((r = gnutls_handshake(st->tls)) < 0) {
		if (gnutls_error_is_fatal(r)) {
			fail_tls(st, "no TLS from the server", r, errno);
			return -1;
		}
		if (wait_io(st, gnutls_record_get_direction(st->tls) ?
		    POLLOUT : POLLIN, "the TLS handshake") < 0)
			return -1;
	}
	return 0;
}

struct tls_der *
imap_stream_peer_chain(struct imap_stream *st, size_t *n_r)
{
	const gnutls_datum_t *certs;
	struct tls_der *der;
	unsigned n = 0;

	*n_r = 0;
	if (st->tls == NULL ||
	    (certs = gnutls_certificate_get_peers(st->tls, &n)) == NULL)
		n = 0;
	der = xcalloc(n > 0 ? n : 1, sizeof(*der));
	for (unsigned i = 0; i < n; i++) {
		der[i].data = certs[i].data;
		der[i].len = certs[i].size;
	}
	*n_r = n;
	return der;
}

/* ------------------------------------------------------------ settings */

void
imap_stream_set_limits(struct imap_stream *st, size_t literal_max,
    size_t budget)
{
	st->literal_max = literal_max > 0 ? literal_max :
	    IMAP_STREAM_LITERAL_DEFAULT;
	st->budget = budget > 0 ? budget : IMAP_STREAM_BUDGET_DEFAULT;
}

void
imap_stream_set_timeout(struct imap_stream *st, int timeout_s)
{
	st->timeout_ms = (timeout_s > 0 ? timeout_s : 60) * 1000;
}

void
imap_stream_set_cancel_fd(struct imap_stream *st, int cancel_fd)
{
	st->cancel_fd = cancel_fd;
}

int
imap_stream_pending(struct imap_stream *st)
{
	return st->held != NULL ||
	    (st->tls != NULL && gnutls_record_check_pending(st->tls) > 0);
}

const char *
imap_stream_error(const struct imap_stream *st)
{
	return st->error;
}

int
imap_stream_nonsense(const struct imap_stream *st)
{
	return st->nonsense;
}
