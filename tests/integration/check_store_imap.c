/*
 * check_store_imap.c - every operation of the IMAP store (store_imap.c)
 * against the live Dovecot started by tests/integration/run, driven by
 * t_store_imap.sh, which creates the users and exports:
 *   IMAP_HOST IMAP_PORT IMAPS_PORT IMAP_CAFILE IMAP_HOST_NOMOVE
 *   IMAP_HOST_MINIMAL DOVECOT_CONF DOVECOT_LOG
 *   IMAP_USER IMAP_PASS   the main test user
 *   IMAP_USER2 IMAP_PASS2 a user with no mailboxes yet (special-use)
 *   OTHER_CAFILE          a self-signed certificate that is not the server's
 *   IMAP_USER_TMPFAIL     a user whose lookup fails inside Dovecot
 * "Another client" is a raw libetpan session (APPEND) or doveadm (checks
 * of flags and mailbox names, kick), so the store is not checked against
 * itself.  Each case uses its own mailboxes.  Time bounds are loose (a busy
 * 2-core machine) but each sits well below what the bug it guards against
 * would take: a missed change waits out the whole timeout.  The measured
 * figures are printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <libetpan/libetpan.h>

#include "agent/log.h"
#include "agent/store.h"
#include "agent/store_imap.h"

static const char *host, *user, *pass, *cafile;
static int port, tls_port;

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, "check_store_imap: %s is not set (run it "
		    "through tests/integration/run t_store_imap)\n", name);
		exit(2);
	}
	return v;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct store_imap_params
params(void)
{
	struct store_imap_params p = {
		.host = host, .port = port, .tls = TLS_NONE,
		.username = user, .password = pass, .timeout = 10,
		.poll_interval = 1, .idle_restart = 60,
	};

	return p;
}

static struct store *
open_store(const struct store_imap_params *p)
{
	struct store *s = store_imap_new(p);
	enum store_status st = s->ops->connect(s);

	ck_assert_msg(st == STORE_OK, "connect %s:%d: %s: %s", p->host,
	    p->port, store_status_name(st), store_last_error(s));
	return s;
}

static struct store *
plain_store(void)
{
	struct store_imap_params p = params();

	return open_store(&p);
}

/* Output of a shell command, trailing newline removed; malloc'd. */
static char *
sh(const char *fmt, ...)
{
	char cmd[2048], out[8192];
	va_list ap;
	FILE *f;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	ck_assert_msg(f != NULL, "popen %s", cmd);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	return strdup(out);
}

/* Flags of uid in box as doveadm sees them, "\Recent" removed. */
static char *
dove_flags(const char *box, uint32_t uid)
{
	return sh("doveadm -c \"$DOVECOT_CONF\" -f flow fetch -u '%s' flags "
	    "mailbox '%s' uid %u | sed 's/^flags=//; s/\\\\Recent//; "
	    "s/  */ /g; s/^ //; s/ $//'", user, box, uid);
}

static int
dove_count(const char *box)
{
	char *out = sh("doveadm -c \"$DOVECOT_CONF\" -f tab mailbox status "
	    "-u '%s' messages '%s' 2>/dev/null | tail -n 1 | cut -f 2",
	    user, box);
	int n = *out ? atoi(out) : -1;

	free(out);
	return n;
}

/* ------------------------------------------------------- other client */

static mailimap *
raw_login_as(const char *u, const char *pw)
{
	mailimap *m = mailimap_new(0, NULL);
	int r;

	mailimap_set_timeout(m, 10);
	r = mailimap_socket_connect(m, host, (uint16_t)port);
	ck_assert_int_eq(r, MAILIMAP_NO_ERROR_NON_AUTHENTICATED);
	ck_assert_int_eq(mailimap_login(m, u, pw), MAILIMAP_NO_ERROR);
	return m;
}

static mailimap *
raw_login(void)
{
	return raw_login_as(user, pass);
}

static uint32_t
raw_append(mailimap *m, const char *box, const char *msg)
{
	uint32_t uidvalidity = 0, uid = 0;
	int r;

	r = mailimap_uidplus_append_simple(m, box, msg, strlen(msg),
	    &uidvalidity, &uid);
	if (r == MAILIMAP_ERROR_APPEND) {
		mailimap_create(m, box);
		r = mailimap_uidplus_append_simple(m, box, msg, strlen(msg),
		    &uidvalidity, &uid);
	}
	ck_assert_msg(r == MAILIMAP_NO_ERROR, "append to %s: %d %s", box, r,
	    m->imap_response ? m->imap_response : "");
	ck_assert_uint_ne(uid, 0);
	return uid;
}

static char *
make_msg(const char *mid, const char *subject)
{
	char *m = NULL;

	ck_assert_int_ge(asprintf(&m, "From: sender@example.org\r\n"
	    "To: %s@example.org\r\nSubject: %s\r\nMessage-ID: %s\r\n"
	    "Date: Mon, 30 Nov 2026 04:00:00 +0000\r\n\r\n"
	    "Body line one.\r\nBody line two, \xc3\xa4 8-bit.\r\n", user,
	    subject, mid), 0);
	return m;
}

/* Appends n messages to box (created) by another client; returns the
 * first uid. */
static uint32_t
seed(const char *box, int n)
{
	mailimap *m = raw_login();
	uint32_t first = 0;

	for (int i = 0; i < n; i++) {
		char mid[128], *msg;
		uint32_t uid;

		snprintf(mid, sizeof(mid), "<%s.%d.%lld@mailsift.test>", box,
		    i, (long long)now_ms());
		msg = make_msg(mid, box);
		uid = raw_append(m, box, msg);
		if (i == 0)
			first = uid;
		free(msg);
	}
	mailimap_logout(m);
	mailimap_free(m);
	return first;
}

static void
select_box(struct store *s, const char *box, uint32_t *uidnext_r)
{
	uint32_t uidvalidity = 0, uidnext = 0;
	enum store_status st = s->ops->select(s, box, &uidvalidity, &uidnext);

	ck_assert_msg(st == STORE_OK, "select %s: %s", box,
	    store_last_error(s));
	ck_assert_uint_ne(uidvalidity, 0);
	if (uidnext_r != NULL)
		*uidnext_r = uidnext;
}

static int
login_count(void)
{
	char *out = sh("grep -c 'Login: user=<%s>' \"$DOVECOT_LOG\"", user);
	int n = atoi(out);

	free(out);
	return n;
}

/* ------------------------------------------------------- connect/login */

START_TEST(test_login)
{
	struct store *s = plain_store();

	/* Idempotent on a live connection. */
	ck_assert_int_eq(s->ops->connect(s), STORE_OK);
	store_free(&s);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_login_bad_password)
{
	struct store_imap_params p = params();
	struct store *s;
	char want[256];

	p.password = "wrong-password";
	s = store_imap_new(&p);
	ck_assert_int_eq(s->ops->connect(s), STORE_FATAL);
	snprintf(want, sizeof(want), "login failed for user %s on %s: ", user,
	    host);
	ck_assert_msg(strncmp(store_last_error(s), want, strlen(want)) == 0,
	    "%s", store_last_error(s));
	ck_assert_msg(strstr(store_last_error(s), "wrong-password") == NULL,
	    "password in the error text");
	store_free(&s);
}
END_TEST

/* A temporary authentication failure is worth a retry: not fatal. */
START_TEST(test_login_temporary_failure)
{
	struct store_imap_params p = params();
	struct store *s;

	p.username = env("IMAP_USER_TMPFAIL");
	p.password = "x";
	s = store_imap_new(&p);
	ck_assert_int_eq(s->ops->connect(s), STORE_CONN_LOST);
	ck_assert_msg(strstr(store_last_error(s), "failed for now: "
	    "Temporary authentication failure") != NULL, "%s",
	    store_last_error(s));
	/* The half-open session is gone: connect() dials again. */
	ck_assert_int_eq(s->ops->connect(s), STORE_CONN_LOST);
	store_free(&s);
}
END_TEST

START_TEST(test_connection_refused)
{
	struct store_imap_params p = params();
	struct store *s;

	p.port = 1;
	s = store_imap_new(&p);
	ck_assert_int_eq(s->ops->connect(s), STORE_CONN_LOST);
	ck_assert_msg(strstr(store_last_error(s), "connection refused"),
	    "%s", store_last_error(s));
	store_free(&s);
}
END_TEST

/* A server that greets and then says nothing more: the command timeout
 * turns into STORE_CONN_LOST, not a hang. */
struct mute_server {
	int listen_fd;
	int greet;
};

static void *
mute_accept(void *arg)
{
	struct mute_server *m = arg;
	int fd = accept(m->listen_fd, NULL, NULL);

	if (fd >= 0 && m->greet &&
	    write(fd, "* OK mute\r\n", 11) != 11)
		abort();
	usleep(1500 * 1000);	/* outlasts the client's 1 s timeout */
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void
timeout_case(int greet)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct mute_server m = { socket(AF_INET, SOCK_STREAM, 0), greet };
	struct store_imap_params p = params();
	struct store *s;
	pthread_t t;
	int64_t t0, dt;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(m.listen_fd, 0);
	ck_assert_int_eq(bind(m.listen_fd, (struct sockaddr *)&sa,
	    sizeof(sa)), 0);
	ck_assert_int_eq(listen(m.listen_fd, 1), 0);
	ck_assert_int_eq(getsockname(m.listen_fd, (struct sockaddr *)&sa,
	    &len), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, mute_accept, &m), 0);
	p.host = "127.0.0.1";
	p.port = ntohs(sa.sin_port);
	p.timeout = 1;
	s = store_imap_new(&p);
	t0 = now_ms();
	ck_assert_int_eq(s->ops->connect(s), STORE_CONN_LOST);
	dt = now_ms() - t0;
	printf("silent server (%s greeting): %s after %lld ms\n",
	    greet ? "with" : "without", store_last_error(s), (long long)dt);
	/* One timeout, not two (mailimap_free would wait for a LOGOUT). */
	ck_assert_msg(dt >= 900 && dt < 1800, "gave up after %lld ms",
	    (long long)dt);
	store_free(&s);
	pthread_join(t, NULL);
	close(m.listen_fd);
}

START_TEST(test_timeout_no_greeting)
{
	timeout_case(0);
}
END_TEST

START_TEST(test_timeout_after_greeting)
{
	timeout_case(1);
}
END_TEST

/* ------------------------------------------------------- TLS */

static void
tls_ok(enum tls_mode mode, const char *h)
{
	struct store_imap_params p = params();
	struct store *s;

	p.tls = mode;
	p.host = h;
	p.port = mode == TLS_IMPLICIT ? tls_port : port;
	p.ca_file = cafile;
	s = open_store(&p);
	select_box(s, "INBOX", NULL);
	store_free(&s);
}

/* Refused before LOGIN: the error names the host and reason, and Dovecot
 * logged no login for the user. */
static void
tls_refused(enum tls_mode mode, const char *h, const char *ca,
    const char *reason)
{
	struct store_imap_params p = params();
	struct store *s;
	int before = login_count();

	p.tls = mode;
	p.host = h;
	p.port = mode == TLS_IMPLICIT ? tls_port : port;
	p.ca_file = ca;
	s = store_imap_new(&p);
	ck_assert_int_eq(s->ops->connect(s), STORE_FATAL);
	printf("refused as expected: %s\n", store_last_error(s));
	ck_assert_msg(strstr(store_last_error(s), reason) != NULL,
	    "expected '%s' in: %s", reason, store_last_error(s));
	ck_assert_msg(strstr(store_last_error(s), h) != NULL,
	    "host missing: %s", store_last_error(s));
	store_free(&s);
	usleep(300 * 1000);	/* Dovecot's log process writes late */
	ck_assert_int_eq(login_count(), before);
}

START_TEST(test_tls_implicit_with_ca)
{
	tls_ok(TLS_IMPLICIT, "127.0.0.1");
	tls_ok(TLS_IMPLICIT, "localhost");
}
END_TEST

START_TEST(test_starttls_with_ca)
{
	tls_ok(TLS_STARTTLS, "127.0.0.1");
}
END_TEST

START_TEST(test_tls_untrusted)
{
	tls_refused(TLS_IMPLICIT, "127.0.0.1", NULL,
	    "is not trusted (self-signed); set imap.ca_file");
	tls_refused(TLS_STARTTLS, "127.0.0.1", NULL,
	    "is not trusted (self-signed)");
	/* A CA file that is not the server's does not help either. */
	tls_refused(TLS_IMPLICIT, "127.0.0.1", env("OTHER_CAFILE"),
	    "is not trusted");
}
END_TEST

START_TEST(test_tls_host_mismatch)
{
	/* Same server, certificate for localhost and 127.0.0.1 only. */
	tls_refused(TLS_IMPLICIT, getenv("IMAP_HOST_NOMOVE"), cafile,
	    "does not match the host name (it is valid for localhost, "
	    "127.0.0.1)");
	tls_refused(TLS_STARTTLS, getenv("IMAP_HOST_NOMOVE"), cafile,
	    "does not match the host name");
}
END_TEST

START_TEST(test_tls_bad_ca_file)
{
	tls_refused(TLS_IMPLICIT, "127.0.0.1", "/nonexistent/ca.pem",
	    "imap.ca_file '/nonexistent/ca.pem'");
}
END_TEST

/* ------------------------------------------------------- mailbox ops */

START_TEST(test_select)
{
	struct store *s = plain_store();
	uint32_t v1 = 0, v2 = 0, next = 0;

	seed("sel", 2);
	ck_assert_int_eq(s->ops->select(s, "sel", &v1, &next), STORE_OK);
	ck_assert_uint_eq(next, 3);
	ck_assert_int_eq(s->ops->select(s, "no such box", &v2, &next),
	    STORE_BOX_BAD);
	ck_assert_msg(strstr(store_last_error(s), "no such box"), "%s",
	    store_last_error(s));
	/* The failed SELECT left no mailbox selected. */
	uint32_t *uids = NULL;
	size_t n = 0;
	ck_assert_int_eq(s->ops->list_uids(s, 1, &uids, &n), STORE_BOX_BAD);
	ck_assert_int_eq(s->ops->select(s, "sel", &v2, &next), STORE_OK);
	ck_assert_uint_eq(v1, v2);
	store_free(&s);
}
END_TEST

START_TEST(test_examine)
{
	struct store *s = plain_store();
	uint32_t v = 0, next = 0, *uids = NULL;
	size_t n = 0;
	mailimap *raw;

	seed("exam", 1);
	ck_assert_int_eq(s->ops->examine(s, "exam", &v, &next), STORE_OK);
	ck_assert_uint_eq(next, 2);
	ck_assert_int_eq(s->ops->list_uids(s, 1, &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	free(uids);
	store_free(&s);
	/* Looking did not take the message's \Recent: the next reader
	 * still gets it. */
	raw = raw_login();
	ck_assert_int_eq(mailimap_select(raw, "exam"), MAILIMAP_NO_ERROR);
	ck_assert_uint_eq(raw->imap_selection_info->sel_recent, 1);
	mailimap_logout(raw);
	mailimap_free(raw);
}
END_TEST

START_TEST(test_list_uids)
{
	struct store *s = plain_store();
	uint32_t *uids = NULL;
	size_t n = 0;

	seed("uids", 3);
	select_box(s, "uids", NULL);
	ck_assert_int_eq(s->ops->list_uids(s, 0, &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(uids[0], 1);
	ck_assert_uint_eq(uids[2], 3);
	free(uids);
	ck_assert_int_eq(s->ops->list_uids(s, 2, &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(uids[0], 2);
	ck_assert_uint_eq(uids[1], 3);
	free(uids);
	/* "UID SEARCH UID 10:*" matches uid 3 on the server: dropped. */
	ck_assert_int_eq(s->ops->list_uids(s, 10, &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(uids);
	store_free(&s);
}
END_TEST

START_TEST(test_fetch)
{
	struct store *s = plain_store();
	struct store_msg m;
	mailimap *raw = raw_login();
	char *msg = make_msg("<fetch.1@mailsift.test>", "fetch me");
	char *flags;
	uint32_t uid;
	int trunc = -1;

	uid = raw_append(raw, "fetch", msg);
	mailimap_logout(raw);
	mailimap_free(raw);
	select_box(s, "fetch", NULL);

	ck_assert_int_eq(s->ops->fetch(s, uid, 0, &m, &trunc), STORE_OK);
	ck_assert_uint_eq(m.uid, uid);
	ck_assert_int_eq(trunc, 0);
	ck_assert_uint_eq(m.len, strlen(msg));
	ck_assert_msg(memcmp(m.data, msg, m.len) == 0, "bytes differ");
	ck_assert_int_eq(m.data[m.len], '\0');
	ck_assert(!store_has_flag(m.flags, m.nflags, "\\Seen"));
	store_msg_release(&m);
	/* BODY.PEEK: still unread for the owner. */
	flags = dove_flags("fetch", uid);
	ck_assert_msg(strstr(flags, "\\Seen") == NULL, "flags: %s", flags);
	free(flags);

	ck_assert_int_eq(s->ops->fetch(s, uid, 10, &m, &trunc), STORE_OK);
	ck_assert_uint_eq(m.len, 10);
	ck_assert_int_eq(trunc, 1);
	ck_assert(memcmp(m.data, msg, 10) == 0);
	store_msg_release(&m);
	ck_assert_int_eq(s->ops->fetch(s, uid, strlen(msg), &m, &trunc),
	    STORE_OK);
	ck_assert_int_eq(trunc, 0);
	ck_assert_uint_eq(m.len, strlen(msg));
	store_msg_release(&m);

	ck_assert_int_eq(s->ops->fetch(s, uid + 100, 0, &m, &trunc),
	    STORE_MSG_GONE);
	ck_assert_ptr_null(m.data);
	free(msg);
	store_free(&s);
}
END_TEST

/* A 3 MB message (a literal much larger than libetpan's buffers)
 * arrives byte for byte; a limit cuts it. */
START_TEST(test_fetch_large)
{
	struct store *s = plain_store();
	struct store_msg m;
	mailimap *raw = raw_login();
	size_t size = 3 * 1024 * 1024, at;
	char *msg = malloc(size + 1);
	uint32_t uid;
	int trunc = -1;

	at = (size_t)snprintf(msg, size, "From: big@example.org\r\n"
	    "Subject: large\r\nMessage-ID: <large@mailsift.test>\r\n\r\n");
	while (at + 80 < size) {
		for (int i = 0; i < 76; i++)
			msg[at + i] = (char)('!' + (at / 78 + i) % 90);
		msg[at + 76] = '\r';
		msg[at + 77] = '\n';
		at += 78;
	}
	msg[at] = '\0';
	uid = raw_append(raw, "large", msg);
	mailimap_logout(raw);
	mailimap_free(raw);
	select_box(s, "large", NULL);
	ck_assert_int_eq(s->ops->fetch(s, uid, 0, &m, &trunc), STORE_OK);
	ck_assert_int_eq(trunc, 0);
	ck_assert_uint_eq(m.len, at);
	ck_assert(memcmp(m.data, msg, at) == 0);
	store_msg_release(&m);
	ck_assert_int_eq(s->ops->fetch(s, uid, 100000, &m, &trunc), STORE_OK);
	ck_assert_int_eq(trunc, 1);
	ck_assert_uint_eq(m.len, 100000);
	ck_assert(memcmp(m.data, msg, m.len) == 0);
	store_msg_release(&m);
	free(msg);
	store_free(&s);
}
END_TEST

START_TEST(test_flags)
{
	struct store *s = plain_store();
	const char *add[] = { "\\Seen", "$Junk", "\\Flagged", NULL };
	const char *del[] = { "$Junk", NULL };
	struct store_flags *fl = NULL;
	size_t n = 0;
	uint32_t uid = seed("flags", 2);
	char *f;

	select_box(s, "flags", NULL);
	ck_assert_int_eq(s->ops->set_flags(s, uid, add, NULL), STORE_OK);
	f = dove_flags("flags", uid);
	ck_assert_str_eq(f, "\\Flagged \\Seen $Junk");
	free(f);
	ck_assert_int_eq(s->ops->list_flags(s, uid, 0, &fl, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(fl[0].uid, uid);
	ck_assert(store_has_flag(fl[0].flags, fl[0].nflags, "$junk"));
	ck_assert(store_has_flag(fl[0].flags, fl[0].nflags, "\\Seen"));
	ck_assert_uint_eq(fl[1].nflags, 0);
	store_flags_free(fl, n);

	ck_assert_int_eq(s->ops->set_flags(s, uid, NULL, del), STORE_OK);
	f = dove_flags("flags", uid);
	ck_assert_str_eq(f, "\\Flagged \\Seen");
	free(f);
	/* min_uid above the last uid: the n:* quirk is filtered. */
	ck_assert_int_eq(s->ops->list_flags(s, uid + 50, 0, &fl, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	store_flags_free(fl, n);
	store_free(&s);
}
END_TEST

START_TEST(test_flags_changed_since)
{
	struct store *s = plain_store(), *other = plain_store();
	const char *add[] = { "$Junk", NULL };
	struct store_box_info info;
	struct store_flags *fl = NULL;
	uint32_t uid = seed("changed", 3);
	uint64_t modseq = 0;
	size_t n = 0;

	select_box(s, "changed", NULL);
	ck_assert_int_eq(s->ops->box_info(s, &info), STORE_OK);
	ck_assert_uint_eq(info.exists, 3);
	modseq = info.modseq;
	ck_assert_uint_gt(modseq, 0);		/* Dovecot has CONDSTORE */
	ck_assert_int_eq(s->ops->list_flags(s, 1, modseq, &fl, &n),
	    STORE_OK);
	ck_assert_uint_eq(n, 0);
	store_flags_free(fl, n);
	/* Another client sets a keyword on the second message. */
	select_box(other, "changed", NULL);
	ck_assert_int_eq(other->ops->set_flags(other, uid + 1, add, NULL),
	    STORE_OK);
	/* As the learner does: a fresh SELECT, whose view has the change
	 * (a FETCH answers from the session's view before it syncs). */
	select_box(s, "changed", NULL);
	ck_assert_int_eq(s->ops->list_flags(s, 1, modseq, &fl, &n),
	    STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(fl[0].uid, uid + 1);
	ck_assert(store_has_flag(fl[0].flags, fl[0].nflags, "$Junk"));
	store_flags_free(fl, n);
	store_free(&other);
	store_free(&s);
}
END_TEST

START_TEST(test_copy)
{
	struct store *s = plain_store();
	uint32_t uid = seed("copy-src", 1), new_uid = 0;

	seed("copy-dst", 2);
	select_box(s, "copy-src", NULL);
	ck_assert_int_eq(s->ops->copy(s, uid, "copy-dst", &new_uid),
	    STORE_OK);
	ck_assert_uint_eq(new_uid, 3);
	ck_assert_int_eq(dove_count("copy-src"), 1);
	ck_assert_int_eq(dove_count("copy-dst"), 3);
	/* Into a mailbox that does not exist yet: created. */
	ck_assert_int_eq(s->ops->copy(s, uid, "copy-new", &new_uid),
	    STORE_OK);
	ck_assert_uint_eq(new_uid, 1);
	ck_assert_int_eq(dove_count("copy-new"), 1);
	store_free(&s);
}
END_TEST

START_TEST(test_move)
{
	struct store *s = plain_store();
	uint32_t uid = seed("move-src", 2), new_uid = 0;
	int left = -1;
	char *subs;

	select_box(s, "move-src", NULL);
	/* The target does not exist: created, subscribed, then moved. */
	ck_assert_int_eq(s->ops->move(s, uid, "Moved/Here", &new_uid, &left),
	    STORE_OK);
	ck_assert_int_eq(left, 0);
	ck_assert_uint_eq(new_uid, 1);
	ck_assert_int_eq(dove_count("move-src"), 1);
	ck_assert_int_eq(dove_count("Moved/Here"), 1);
	subs = sh("doveadm -c \"$DOVECOT_CONF\" mailbox list -s -u '%s' | "
	    "grep -cx 'Moved/Here'", user);
	ck_assert_str_eq(subs, "1");
	free(subs);
	/* Moving it again: the server has nothing to move. */
	ck_assert_int_eq(s->ops->move(s, uid, "Moved/Here", &new_uid, &left),
	    STORE_MSG_GONE);
	ck_assert_int_eq(dove_count("Moved/Here"), 1);
	store_free(&s);
}
END_TEST

START_TEST(test_move_unicode)
{
	struct store *s = plain_store();
	uint32_t uid = seed("move-u", 1), new_uid = 0, v, next;
	int left = -1;
	char *out;

	select_box(s, "move-u", NULL);
	ck_assert_int_eq(s->ops->move(s, uid, "Spam/\xc3\x9cnicode", &new_uid,
	    &left), STORE_OK);
	out = sh("doveadm -c \"$DOVECOT_CONF\" mailbox list -7 -u '%s' | "
	    "grep -x 'Spam/&ANw-nicode'", user);
	ck_assert_str_eq(out, "Spam/&ANw-nicode");
	free(out);
	ck_assert_int_eq(dove_count("Spam/\xc3\x9cnicode"), 1);
	ck_assert_int_eq(s->ops->select(s, "Spam/\xc3\x9cnicode", &v, &next),
	    STORE_OK);
	ck_assert_uint_eq(next, 2);
	/* A name that is not UTF-8 never reaches the server. */
	ck_assert_int_eq(s->ops->select(s, "bad\xff", &v, &next),
	    STORE_BOX_BAD);
	ck_assert_msg(strstr(store_last_error(s), "invalid UTF-8"), "%s",
	    store_last_error(s));
	store_free(&s);
}
END_TEST

/* The batch operations of a catch-up: fetch_some takes as many messages
 * as fit in its budget, in uid order, says which uid is gone; flags and
 * moves go to several uids in one command, the new uids in order (from
 * COPYUID), also on a server without MOVE (COPY + \Deleted + UID
 * EXPUNGE). */
static void
batch_case(const char *h, const char *src, const char *dst)
{
	struct store_imap_params p = params();
	static const char *const add[] = { "$Batch", NULL };
	struct store_msg msgs[6];
	int trunc[6], left = -1;
	uint32_t uid = seed(src, 5), uids[6], new_uids[3] = { 0 };
	size_t done = 0, one;
	struct store *s;
	char *f;

	p.host = h;
	s = open_store(&p);
	select_box(s, src, NULL);
	for (int i = 0; i < 5; i++)
		uids[i] = uid + (uint32_t)i;
	uids[5] = uid + 100;		/* never existed */
	/* Everything fits: all six, the last one gone. */
	ck_assert_int_eq(s->ops->fetch_some(s, uids, 6, 100000, 1 << 20,
	    msgs, trunc, &done), STORE_OK);
	ck_assert_uint_eq(done, 6);
	for (int i = 0; i < 5; i++) {
		ck_assert_ptr_nonnull(msgs[i].data);
		ck_assert_uint_eq(msgs[i].uid, uids[i]);
		ck_assert_int_eq(trunc[i], 0);
		ck_assert(strstr(msgs[i].data, "Subject: ") != NULL);
	}
	ck_assert_ptr_null(msgs[5].data);
	one = msgs[0].len;
	for (int i = 0; i < 6; i++)
		store_msg_release(&msgs[i]);
	/* A budget for two and a half: two (sizes asked first). */
	ck_assert_int_eq(s->ops->fetch_some(s, uids, 5, 100000,
	    one * 5 / 2, msgs, trunc, &done), STORE_OK);
	ck_assert_uint_eq(done, 2);
	for (size_t i = 0; i < done; i++)
		store_msg_release(&msgs[i]);
	/* Cut at 20 bytes each. */
	ck_assert_int_eq(s->ops->fetch_some(s, uids, 3, 20, 1 << 20, msgs,
	    trunc, &done), STORE_OK);
	ck_assert_uint_eq(done, 3);
	for (size_t i = 0; i < done; i++) {
		ck_assert_uint_eq(msgs[i].len, 20);
		ck_assert_int_eq(trunc[i], 1);
		store_msg_release(&msgs[i]);
	}
	ck_assert_int_eq(s->ops->set_flags_some(s, uids, 3, add, NULL),
	    STORE_OK);
	f = dove_flags(src, uid + 2);
	ck_assert_msg(strstr(f, "$Batch") != NULL, "%s", f);
	free(f);
	ck_assert_int_eq(s->ops->move_some(s, uids, 3, dst, new_uids, &left),
	    STORE_OK);
	ck_assert_int_eq(left, 0);
	ck_assert_uint_ne(new_uids[0], 0);
	ck_assert_uint_gt(new_uids[1], new_uids[0]);
	ck_assert_uint_gt(new_uids[2], new_uids[1]);
	ck_assert_int_eq(dove_count(dst), 3);
	ck_assert_int_eq(dove_count(src), 2);
	f = dove_flags(dst, new_uids[2]);
	ck_assert_msg(strstr(f, "$Batch") != NULL, "%s", f);
	free(f);
	store_free(&s);
}

START_TEST(test_batch_ops)
{
	batch_case(host, "batch-src", "batch-dst");
}
END_TEST

START_TEST(test_batch_ops_without_move)
{
	batch_case(env("IMAP_HOST_NOMOVE"), "batch-nomove",
	    "batch-nomove-dst");
}
END_TEST

/* Another client marked an unrelated message \Deleted: only our uid may
 * be expunged (UID EXPUNGE), never theirs (plain EXPUNGE). */
static void
move_fallback(const char *h, const char *src, int want_left)
{
	struct store_imap_params p = params();
	struct store *s;
	uint32_t uid = seed(src, 3), new_uid = 0;
	int left = -1;
	char *cmd_out;

	cmd_out = sh("doveadm -c \"$DOVECOT_CONF\" flags add -u '%s' "
	    "'\\Deleted' mailbox '%s' uid %u && echo ok", user, src, uid + 2);
	ck_assert_str_eq(cmd_out, "ok");
	free(cmd_out);
	p.host = h;
	s = open_store(&p);
	select_box(s, src, NULL);
	ck_assert_int_eq(s->ops->move(s, uid, "fallback-dst", &new_uid,
	    &left), STORE_OK);
	ck_assert_int_eq(left, want_left);
	ck_assert_int_ge(dove_count("fallback-dst"), 1);
	/* The other client's \Deleted message is still there. */
	cmd_out = sh("doveadm -c \"$DOVECOT_CONF\" search -u '%s' mailbox "
	    "'%s' uid %u | wc -l", user, src, uid + 2);
	ck_assert_str_eq(cmd_out, "1");
	free(cmd_out);
	ck_assert_int_eq(dove_count(src), want_left ? 3 : 2);
	if (want_left) {
		char *f = dove_flags(src, uid);

		ck_assert_msg(strstr(f, "\\Deleted") != NULL, "%s", f);
		free(f);
	}
	store_free(&s);
}

START_TEST(test_move_without_move)
{
	move_fallback(getenv("IMAP_HOST_NOMOVE"), "fb-nomove", 0);
}
END_TEST

START_TEST(test_move_without_uidplus)
{
	move_fallback(getenv("IMAP_HOST_MINIMAL"), "fb-minimal", 1);
}
END_TEST

START_TEST(test_find_message_id)
{
	struct store *s = plain_store();
	mailimap *raw = raw_login();
	char *a = make_msg("<mid-a@mailsift.test>", "a");
	char *b = make_msg("<mid-b@mailsift.test>", "b");
	uint32_t *uids = NULL, ua, ub;
	size_t n = 0;

	ua = raw_append(raw, "mid", a);
	ub = raw_append(raw, "mid", b);
	raw_append(raw, "mid", a);
	mailimap_logout(raw);
	mailimap_free(raw);
	select_box(s, "mid", NULL);
	ck_assert_int_eq(s->ops->find_message_id(s, "<mid-b@mailsift.test>",
	    &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(uids[0], ub);
	free(uids);
	ck_assert_int_eq(s->ops->find_message_id(s, "<mid-a@mailsift.test>",
	    &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(uids[0], ua);
	free(uids);
	ck_assert_int_eq(s->ops->find_message_id(s, "<none@mailsift.test>",
	    &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	free(a);
	free(b);
	store_free(&s);
}
END_TEST

START_TEST(test_find_special)
{
	struct store_imap_params p = params();
	struct store *s;
	char *name = NULL;
	mailimap *raw;

	/* A user whose Junk and Trash (declared special-use) do not exist. */
	p.username = env("IMAP_USER2");
	p.password = env("IMAP_PASS2");
	s = open_store(&p);
	ck_assert_int_eq(s->ops->find_special(s, STORE_SPECIAL_JUNK, &name),
	    STORE_OK);
	ck_assert_ptr_null(name);
	raw = raw_login_as(p.username, p.password);
	ck_assert_int_eq(mailimap_create(raw, "Junk"), MAILIMAP_NO_ERROR);
	ck_assert_int_eq(mailimap_create(raw, "Other"), MAILIMAP_NO_ERROR);
	mailimap_logout(raw);
	mailimap_free(raw);
	ck_assert_int_eq(s->ops->find_special(s, STORE_SPECIAL_JUNK, &name),
	    STORE_OK);
	ck_assert_str_eq(name, "Junk");
	free(name);
	ck_assert_int_eq(s->ops->find_special(s, STORE_SPECIAL_TRASH, &name),
	    STORE_OK);
	ck_assert_ptr_null(name);
	store_free(&s);
}
END_TEST

START_TEST(test_list_boxes)
{
	struct store_imap_params p = params();
	struct store *s;
	char **names = NULL;
	size_t n = 0;
	int inbox = 0, archive = 0, umlaut = 0;
	mailimap *raw;

	p.username = env("IMAP_USER2");
	p.password = env("IMAP_PASS2");
	s = open_store(&p);
	raw = raw_login_as(p.username, p.password);
	ck_assert_int_eq(mailimap_create(raw, "Archive"), MAILIMAP_NO_ERROR);
	ck_assert_int_eq(mailimap_create(raw, "Entw&APw-rfe"),
	    MAILIMAP_NO_ERROR);
	mailimap_logout(raw);
	mailimap_free(raw);
	ck_assert_int_eq(s->ops->list_boxes(s, &names, &n), STORE_OK);
	for (size_t i = 0; i < n; i++) {
		inbox += strcmp(names[i], "INBOX") == 0;
		archive += strcmp(names[i], "Archive") == 0;
		umlaut += strcmp(names[i], "Entw\xc3\xbcrfe") == 0;
	}
	ck_assert_int_eq(inbox, 1);
	ck_assert_int_eq(archive, 1);
	ck_assert_int_eq(umlaut, 1);	/* decoded from modified UTF-7 */
	store_names_free(names, n);
	store_free(&s);
}
END_TEST

/* ------------------------------------------------------- wait */

struct appender {
	mailimap *raw;
	const char *box;
	int delay_ms;
	int64_t t_append;
};

static void *
append_later(void *arg)
{
	struct appender *a = arg;
	char mid[64], *msg;

	usleep((useconds_t)a->delay_ms * 1000);
	snprintf(mid, sizeof(mid), "<idle.%lld@mailsift.test>",
	    (long long)now_ms());
	msg = make_msg(mid, "idle");
	a->t_append = now_ms();
	raw_append(a->raw, a->box, msg);
	free(msg);
	return NULL;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* _i = 0: plain, 1: implicit TLS. */
START_TEST(test_wait_wakes_on_append)
{
	enum { ROUNDS = 5 };
	struct store_imap_params p = params();
	struct store *s;
	struct appender a = { raw_login(), _i ? "idle-tls" : "idle", 300, 0 };
	int64_t lat[ROUNDS];
	uint32_t *uids = NULL;
	size_t n = 0;

	if (_i) {
		p.tls = TLS_IMPLICIT;
		p.port = tls_port;
		p.ca_file = cafile;
	}
	s = open_store(&p);
	seed(a.box, 1);
	select_box(s, a.box, NULL);
	ck_assert_int_eq(s->ops->list_uids(s, 1, &uids, &n), STORE_OK);
	free(uids);
	for (int i = 0; i < ROUNDS; i++) {
		pthread_t t;
		int changed = -1;
		int64_t end;

		ck_assert_int_eq(pthread_create(&t, NULL, append_later, &a), 0);
		ck_assert_int_eq(s->ops->wait(s, 10000, -1, &changed),
		    STORE_OK);
		end = now_ms();
		pthread_join(t, NULL);
		ck_assert_int_eq(changed, 1);
		lat[i] = end - a.t_append;
		ck_assert_msg(lat[i] < 5000, "woke %lld ms after APPEND",
		    (long long)lat[i]);
		ck_assert_int_eq(s->ops->list_uids(s, 1, &uids, &n), STORE_OK);
		ck_assert_uint_eq(n, (size_t)i + 2);
		free(uids);
	}
	qsort(lat, ROUNDS, sizeof(lat[0]), cmp_i64);
	printf("wait() woke after APPEND by another client (%s): min %lld "
	    "ms, median %lld ms, max %lld ms (%d rounds)\n",
	    _i ? "implicit TLS" : "plain", (long long)lat[0],
	    (long long)lat[ROUNDS / 2], (long long)lat[ROUNDS - 1], ROUNDS);
	mailimap_logout(a.raw);
	mailimap_free(a.raw);
	store_free(&s);
}
END_TEST

START_TEST(test_wait_timeout)
{
	struct store *s = plain_store();
	int changed = -1;
	int64_t t0, dt;

	seed("idle-quiet", 1);
	select_box(s, "idle-quiet", NULL);
	t0 = now_ms();
	ck_assert_int_eq(s->ops->wait(s, 700, -1, &changed), STORE_OK);
	dt = now_ms() - t0;
	ck_assert_int_eq(changed, 0);
	ck_assert_msg(dt >= 690 && dt < 3000, "returned after %lld ms",
	    (long long)dt);
	store_free(&s);
}
END_TEST

struct waker {
	int fd;
	int delay_ms;
};

static void *
wake_later(void *arg)
{
	struct waker *w = arg;

	usleep((useconds_t)w->delay_ms * 1000);
	if (write(w->fd, "x", 1) != 1)
		abort();
	return NULL;
}

static void
wait_woken(const char *h)
{
	struct store_imap_params p = params();
	struct store *s;
	int fds[2], changed = -1;
	struct waker w;
	pthread_t t;
	int64_t t0, dt;

	p.host = h;
	p.poll_interval = 30;
	s = open_store(&p);
	seed("idle-wake", 1);
	select_box(s, "idle-wake", NULL);
	ck_assert_int_eq(pipe(fds), 0);
	w.fd = fds[1];
	w.delay_ms = 200;
	t0 = now_ms();
	ck_assert_int_eq(pthread_create(&t, NULL, wake_later, &w), 0);
	ck_assert_int_eq(s->ops->wait(s, 20000, fds[0], &changed), STORE_OK);
	dt = now_ms() - t0;
	pthread_join(t, NULL);
	ck_assert_int_eq(changed, 0);
	ck_assert_msg(dt < 5000, "woken after %lld ms", (long long)dt);
	/* The connection is still usable after the interrupted IDLE. */
	select_box(s, "idle-wake", NULL);
	close(fds[0]);
	close(fds[1]);
	store_free(&s);
}

START_TEST(test_wait_wake_fd)
{
	wait_woken(host);
}
END_TEST

START_TEST(test_wait_kick)
{
	struct store *s = plain_store();
	int changed = -1;
	char *out;
	enum store_status st;
	int64_t t0;

	seed("idle-kick", 1);
	select_box(s, "idle-kick", NULL);
	/* doveadm kick after 300 ms, in the background. */
	out = sh("(sleep 0.3; doveadm -c \"$DOVECOT_CONF\" kick '%s' "
	    ">/dev/null 2>&1) & echo started", user);
	free(out);
	t0 = now_ms();
	st = s->ops->wait(s, 10000, -1, &changed);
	ck_assert_msg(st == STORE_CONN_LOST, "wait returned %s after kick "
	    "(%s)", store_status_name(st), store_last_error(s));
	printf("wait() reported the kick after %lld ms: %s\n",
	    (long long)(now_ms() - t0), store_last_error(s));
	ck_assert_msg(now_ms() - t0 < 8000, "kick noticed late");
	/* Every later operation says so too, until connect() dials again. */
	ck_assert_int_eq(s->ops->select(s, "idle-kick", &(uint32_t){ 0 },
	    &(uint32_t){ 0 }), STORE_CONN_LOST);
	ck_assert_int_eq(s->ops->connect(s), STORE_OK);
	select_box(s, "idle-kick", NULL);
	store_free(&s);
}
END_TEST

/* Kicked while not in IDLE: the next command finds the dead stream
 * (and does not die of SIGPIPE). */
START_TEST(test_command_after_kick)
{
	struct store *s = plain_store();
	uint32_t *uids = NULL;
	size_t n = 0;
	enum store_status st;
	char *out;

	seed("kick2", 1);
	select_box(s, "kick2", NULL);
	out = sh("doveadm -c \"$DOVECOT_CONF\" kick '%s' >/dev/null 2>&1; "
	    "echo done", user);
	free(out);
	usleep(200 * 1000);
	st = s->ops->list_uids(s, 1, &uids, &n);
	if (st == STORE_OK)	/* the BYE may still be unread: once more */
		st = s->ops->list_uids(s, 1, &uids, &n);
	ck_assert_int_eq(st, STORE_CONN_LOST);
	ck_assert_int_eq(s->ops->connect(s), STORE_OK);
	store_free(&s);
}
END_TEST

/* Mail that arrives between SELECT and IDLE: Dovecot sends EXISTS right
 * behind "+ idling"; it must count as a change at once. */
START_TEST(test_wait_change_before_idle)
{
	struct store *s = plain_store();
	int changed = -1;
	int64_t t0, dt;

	seed("idle-pre", 1);
	select_box(s, "idle-pre", NULL);
	seed("idle-pre", 1);
	t0 = now_ms();
	ck_assert_int_eq(s->ops->wait(s, 5000, -1, &changed), STORE_OK);
	dt = now_ms() - t0;
	ck_assert_int_eq(changed, 1);
	ck_assert_msg(dt < 2000, "change before IDLE seen after %lld ms",
	    (long long)dt);
	printf("change made before IDLE reported after %lld ms\n",
	    (long long)dt);
	store_free(&s);
}
END_TEST

/* EXISTS that came with the response to another command (here a flag
 * fetch) counts even though no IDLE ever sees it. */
START_TEST(test_wait_change_during_command)
{
	struct store *s = plain_store();
	struct store_flags *fl = NULL;
	uint32_t *uids = NULL;
	size_t n = 0;
	int changed = -1;
	int64_t t0;

	seed("idle-cmd", 1);
	select_box(s, "idle-cmd", NULL);
	ck_assert_int_eq(s->ops->list_uids(s, 1, &uids, &n), STORE_OK);
	free(uids);
	seed("idle-cmd", 1);
	ck_assert_int_eq(s->ops->list_flags(s, 1, 0, &fl, &n), STORE_OK);
	store_flags_free(fl, n);
	t0 = now_ms();
	ck_assert_int_eq(s->ops->wait(s, 5000, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 1);
	ck_assert_msg(now_ms() - t0 < 2000, "took %lld ms",
	    (long long)(now_ms() - t0));
	store_free(&s);
}
END_TEST

/* Mail that arrives while another mailbox is selected shows up only in
 * the counts of the next SELECT, and IDLE never announces it: wait()
 * must report it (mailsift selects Junk and back between waits). */
START_TEST(test_wait_change_while_elsewhere)
{
	struct store *s = plain_store();
	uint32_t *uids = NULL;
	size_t n = 0;
	int changed = -1;
	int64_t t0;

	seed("idle-away", 1);
	seed("idle-other", 1);
	select_box(s, "idle-away", NULL);
	ck_assert_int_eq(s->ops->list_uids(s, 1, &uids, &n), STORE_OK);
	free(uids);
	select_box(s, "idle-other", NULL);
	seed("idle-away", 1);
	select_box(s, "idle-away", NULL);
	t0 = now_ms();
	ck_assert_int_eq(s->ops->wait(s, 5000, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 1);
	ck_assert_msg(now_ms() - t0 < 2000, "took %lld ms",
	    (long long)(now_ms() - t0));
	/* Reported once; after listing, a quiet mailbox is quiet. */
	ck_assert_int_eq(s->ops->list_uids(s, 1, &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	free(uids);
	select_box(s, "idle-other", NULL);
	select_box(s, "idle-away", NULL);
	ck_assert_int_eq(s->ops->wait(s, 600, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 0);
	store_free(&s);
}
END_TEST

/* A server without IDLE: wait sleeps for the poll interval, then says
 * "maybe changed"; wake_fd still interrupts it. */
START_TEST(test_wait_without_idle)
{
	struct store_imap_params p = params();
	struct store *s;
	int changed = -1;
	int64_t t0, dt;

	p.host = getenv("IMAP_HOST_MINIMAL");
	p.poll_interval = 1;
	s = open_store(&p);
	seed("noidle", 1);
	select_box(s, "noidle", NULL);
	t0 = now_ms();
	ck_assert_int_eq(s->ops->wait(s, 10000, -1, &changed), STORE_OK);
	dt = now_ms() - t0;
	ck_assert_int_eq(changed, 1);
	ck_assert_msg(dt >= 990 && dt < 3000, "polled after %lld ms",
	    (long long)dt);
	t0 = now_ms();
	ck_assert_int_eq(s->ops->wait(s, 300, -1, &changed), STORE_OK);
	dt = now_ms() - t0;
	ck_assert_msg(dt >= 290 && dt < 2000, "timeout after %lld ms",
	    (long long)dt);
	store_free(&s);
	wait_woken(getenv("IMAP_HOST_MINIMAL"));
}
END_TEST

/* The IDLE is re-issued every idle_restart seconds within one wait; the
 * wire trace (debug log) shows the commands but never the password. */
START_TEST(test_wait_idle_restart)
{
	struct store_imap_params p = params();
	struct store *s;
	char path[] = "/tmp/check_store_imap.XXXXXX", line[1024];
	int fd, saved, changed = -1, idles = 0, logins = 0, leaked = 0;
	int64_t t0, dt;
	FILE *f;

	seed("idle-restart", 1);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	saved = dup(2);
	ck_assert_int_ge(dup2(fd, 2), 0);
	log_set_level(LOG_LEVEL_DEBUG);
	p.idle_restart = 1;
	s = open_store(&p);
	select_box(s, "idle-restart", NULL);
	t0 = now_ms();
	ck_assert_int_eq(s->ops->wait(s, 2500, -1, &changed), STORE_OK);
	dt = now_ms() - t0;
	/* Still a working session after the IDLE/DONE rounds. */
	select_box(s, "idle-restart", NULL);
	store_free(&s);
	log_set_level(LOG_LEVEL_NOTICE);
	dup2(saved, 2);
	close(saved);

	ck_assert_int_eq(changed, 0);
	ck_assert_msg(dt >= 2490 && dt < 5000, "returned after %lld ms",
	    (long long)dt);
	f = fdopen(fd, "r");
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, " IDLE") != NULL && strstr(line, "> ") != NULL)
			idles++;
		if (strstr(line, "> login as ") != NULL)
			logins++;
		if (strstr(line, pass) != NULL)
			leaked++;
	}
	fclose(f);
	unlink(path);
	ck_assert_msg(idles >= 3, "%d IDLE commands in 2.5 s", idles);
	ck_assert_int_ge(logins, 1);
	ck_assert_int_eq(leaked, 0);
}
END_TEST

/* Keepalives ("* OK Still here", every second on IMAP_HOST_NOMOVE) wake
 * the poll but are no change: wait() goes on until its timeout. */
START_TEST(test_wait_keepalive)
{
	struct store_imap_params p = params();
	struct store *s;
	char path[] = "/tmp/check_store_imap.XXXXXX", line[1024];
	int fd, saved, changed = -1, keepalives = 0;
	int64_t t0, dt;
	FILE *f;

	seed("idle-keepalive", 1);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	saved = dup(2);
	ck_assert_int_ge(dup2(fd, 2), 0);
	log_set_level(LOG_LEVEL_DEBUG);
	p.host = getenv("IMAP_HOST_NOMOVE");
	s = open_store(&p);
	select_box(s, "idle-keepalive", NULL);
	t0 = now_ms();
	ck_assert_int_eq(s->ops->wait(s, 3500, -1, &changed), STORE_OK);
	dt = now_ms() - t0;
	store_free(&s);
	log_set_level(LOG_LEVEL_NOTICE);
	dup2(saved, 2);
	close(saved);

	f = fdopen(fd, "r");
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "keepalive") != NULL)
			keepalives++;
	fclose(f);
	unlink(path);
	ck_assert_int_eq(changed, 0);
	ck_assert_msg(dt >= 3490 && dt < 6000, "returned after %lld ms",
	    (long long)dt);
	ck_assert_msg(keepalives >= 2, "%d keepalives seen", keepalives);
}
END_TEST

static Suite *
store_imap_suite(void)
{
	Suite *s = suite_create("store_imap");
	TCase *tc = tcase_create("dovecot");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_login);
	tcase_add_test(tc, test_login_bad_password);
	tcase_add_test(tc, test_login_temporary_failure);
	tcase_add_test(tc, test_connection_refused);
	tcase_add_test(tc, test_timeout_no_greeting);
	tcase_add_test(tc, test_timeout_after_greeting);
	tcase_add_test(tc, test_tls_implicit_with_ca);
	tcase_add_test(tc, test_starttls_with_ca);
	tcase_add_test(tc, test_tls_untrusted);
	tcase_add_test(tc, test_tls_host_mismatch);
	tcase_add_test(tc, test_tls_bad_ca_file);
	tcase_add_test(tc, test_select);
	tcase_add_test(tc, test_list_uids);
	tcase_add_test(tc, test_fetch);
	tcase_add_test(tc, test_fetch_large);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_copy);
	tcase_add_test(tc, test_move);
	tcase_add_test(tc, test_move_unicode);
	tcase_add_test(tc, test_move_without_move);
	tcase_add_test(tc, test_move_without_uidplus);
	tcase_add_test(tc, test_find_message_id);
	tcase_add_test(tc, test_find_special);
	tcase_add_test(tc, test_examine);
	tcase_add_test(tc, test_flags_changed_since);
	tcase_add_test(tc, test_list_boxes);
	tcase_add_loop_test(tc, test_wait_wakes_on_append, 0, 2);
	tcase_add_test(tc, test_wait_timeout);
	tcase_add_test(tc, test_wait_wake_fd);
	tcase_add_test(tc, test_wait_change_before_idle);
	tcase_add_test(tc, test_wait_change_during_command);
	tcase_add_test(tc, test_wait_change_while_elsewhere);
	tcase_add_test(tc, test_wait_without_idle);
	tcase_add_test(tc, test_wait_idle_restart);
	tcase_add_test(tc, test_wait_keepalive);
	tcase_add_test(tc, test_wait_kick);
	tcase_add_test(tc, test_command_after_kick);
	tcase_add_test(tc, test_batch_ops);
	tcase_add_test(tc, test_batch_ops_without_move);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	/* As in mailsift's main(): a write on a dropped connection must be
	 * an error, not a death. */
	signal(SIGPIPE, SIG_IGN);
	host = env("IMAP_HOST");
	port = atoi(env("IMAP_PORT"));
	tls_port = atoi(env("IMAPS_PORT"));
	cafile = env("IMAP_CAFILE");
	user = env("IMAP_USER");
	pass = env("IMAP_PASS");
	env("IMAP_HOST_NOMOVE");
	env("IMAP_HOST_MINIMAL");
	env("DOVECOT_CONF");
	env("DOVECOT_LOG");
	setvbuf(stdout, NULL, _IOLBF, 0);
	sr = srunner_create(store_imap_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
