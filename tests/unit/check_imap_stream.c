/*
 * check_imap_stream.c - the IMAP store (store_imap.c over imap_stream.c)
 * against a scripted server on 127.0.0.1 that breaks the way real networks
 * and hostile servers do: it closes in the middle of a FETCH literal,
 * announces an absurd literal, sends more than the partial fetch asked
 * for, trickles, stalls, or floods.  Every operation must come back with
 * STORE_CONN_LOST and a reason, within its deadline, and within a second
 * of the cancel descriptor becoming readable.  Before imap_stream.c the
 * first two cases spun in libetpan's parser at 100% CPU forever and the
 * trickle held the fetch forever.
 *
 * The server runs in a thread: it answers the commands the store sends
 * before the interesting one (LOGIN, CAPABILITY, SELECT) like a plain
 * server, then plays its scenario.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/store_imap.h"
#include "tests/unit/unit.h"

#define MAX_BYTES	(64 * 1024)
/* A limit no answer here reaches: only EOF, time or cancel end it. */
#define BIG_BYTES	((size_t)1024 * 1024 * 1024)

enum scenario {
	EOF_MID_LITERAL,	/* 2 MB of a 5 MB literal, then close */
	ABSURD_LITERAL,		/* {99999999999999999999}, then close */
	OVERSIZED_LITERAL,	/* a literal far beyond the partial asked */
	MANY_LITERALS,		/* small literals, many unsolicited FETCHes */
	TRICKLE,		/* a byte every 300 ms */
	STALL,			/* nothing at all */
	FLOOD,			/* untagged lines as fast as it can */
	SILENT_GREETING,	/* accepts, never greets */
	GREETING_CODE,		/* "* OK [PERMANENTFLAGS (\Seen)] ..." */
	BARE_CAPABILITY,	/* no capabilities, CAPABILITY says just OK */
	GOOD			/* a well-behaved answer */
};

struct server {
	enum scenario scenario;
	int listen_fd;
	int port;
	int stop[2];		/* the test ends the server through it */
	pthread_t thread;
};

static struct server srv;
static int cancel_pipe[2];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 if the test asked the server to end. */
static int
stopping(void)
{
	struct pollfd p = { srv.stop[0], POLLIN, 0 };

	return poll(&p, 1, 0) > 0;
}

static int
send_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
say(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
say(int fd, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return send_all(fd, line, (size_t)n);
}

/* Reads one command line (without CRLF) into line; -1 on EOF or stop. */
static int
read_command(int fd, char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 },
		    { srv.stop[0], POLLIN, 0 } };
		char c;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return -1;
		if (p[1].revents)
			return -1;
		if (!(p[0].revents & (POLLIN | POLLHUP)))
			continue;
		if (recv(fd, &c, 1, 0) != 1)
			return -1;
		if (c == '\n') {
			if (n > 0 && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			return 0;
		}
		if (n + 1 < size)
			line[n++] = c;
	}
}

/* Waits until the test ends the server. */
static void
hold(void)
{
	struct pollfd p = { srv.stop[0], POLLIN, 0 };

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

/* The hostile answer to UID FETCH. */
static void
play_fetch(int fd, const char *tag)
{
	static char chunk[64 * 1024];

	memset(chunk, 'x', sizeof(chunk));
	switch (srv.scenario) {
	case EOF_MID_LITERAL:
		say(fd, "* 1 FETCH (UID 1 RFC822.SIZE 5000000 BODY[]<0> "
		    "{5000000}\r\n");
		for (size_t sent = 0; sent < 2000000; sent += sizeof(chunk))
			if (send_all(fd, chunk, sizeof(chunk)) < 0)
				return;
		return;		/* the caller closes */
	case ABSURD_LITERAL:
		say(fd, "* 1 FETCH (UID 1 BODY[]<0> "
		    "{99999999999999999999}\r\n");
		return;
	case OVERSIZED_LITERAL:
		say(fd, "* 1 FETCH (UID 1 RFC822.SIZE 104857600 BODY[]<0> "
		    "{104857600}\r\n");
		for (size_t sent = 0; sent < 104857600 && !stopping();
		    sent += sizeof(chunk))
			if (send_all(fd, chunk, sizeof(chunk)) < 0)
				return;
		return;
	case MANY_LITERALS:
		/* Each literal within the limit, the answer far beyond. */
		for (int i = 0; i < 10000 && !stopping(); i++) {
			if (say(fd, "* 1 FETCH (BODY[HEADER] {%zu}\r\n",
			    sizeof(chunk)) < 0 ||
			    send_all(fd, chunk, sizeof(chunk)) < 0 ||
			    say(fd, ")\r\n") < 0)
				return;
		}
		return;
	case TRICKLE: {
		const char *answer = "* 1 FETCH (UID 1 FLAGS () BODY[]<0> {5}"
		    "\r\nhello)\r\n";

		for (const char *p = answer; *p != '\0' && !stopping(); p++) {
			if (send_all(fd, p, 1) < 0)
				return;
			usleep(300 * 1000);
		}
		say(fd, "%s OK done\r\n", tag);
		return;
	}
	case FLOOD:
		while (!stopping())
			if (say(fd, "* OK still here\r\n") < 0)
				return;
		return;
	case GOOD:
		say(fd, "* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE 5 "
		    "BODY[]<0> {5}\r\nhello)\r\n%s OK done\r\n", tag);
		return;
	default:
		hold();
		return;
	}
}

static void *
server_main(void *arg)
{
	char line[4096], tag[64];
	int fd;

	(void)arg;
	fd = accept(srv.listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (srv.scenario == SILENT_GREETING) {
		hold();
		close(fd);
		return NULL;
	}
	if (srv.scenario == GREETING_CODE)
		say(fd, "* OK [PERMANENTFLAGS (\\Seen $Junk)] ready\r\n");
	else if (srv.scenario == BARE_CAPABILITY)
		say(fd, "* OK ready\r\n");
	else
		say(fd, "* OK scripted server ready\r\n");
	while (read_command(fd, line, sizeof(line)) == 0) {
		const char *cmd = strchr(line, ' ');

		if (cmd == NULL)
			break;
		snprintf(tag, sizeof(tag), "%.*s", (int)(cmd - line), line);
		cmd++;
		if (strncasecmp(cmd, "LOGIN", 5) == 0) {
			say(fd, "%s OK [CAPABILITY IMAP4rev1 IDLE UIDPLUS "
			    "MOVE] logged in\r\n", tag);
		} else if (strncasecmp(cmd, "CAPABILITY", 10) == 0 &&
		    srv.scenario == BARE_CAPABILITY) {
			say(fd, "%s OK done\r\n", tag);
		} else if (strncasecmp(cmd, "CAPABILITY", 10) == 0) {
			say(fd, "* CAPABILITY IMAP4rev1 IDLE UIDPLUS MOVE\r\n"
			    "%s OK done\r\n", tag);
		} else if (strncasecmp(cmd, "SELECT", 6) == 0) {
			say(fd, "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
			    "* OK [UIDNEXT 2] ok\r\n%s OK [READ-WRITE] done"
			    "\r\n", tag);
		} else if (strncasecmp(cmd, "UID FETCH", 9) == 0) {
			play_fetch(fd, tag);
			if (srv.scenario != GOOD)
				break;
		} else if (strncasecmp(cmd, "LOGOUT", 6) == 0) {
			say(fd, "* BYE bye\r\n%s OK done\r\n", tag);
			break;
		} else {
			say(fd, "%s OK done\r\n", tag);
		}
	}
	if (srv.scenario == STALL)
		hold();
	close(fd);
	return NULL;
}

static void
server_start(enum scenario scenario)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	srv.scenario = scenario;
	ck_assert_int_eq(pipe(srv.stop), 0);
	srv.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(srv.listen_fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(srv.listen_fd, (struct sockaddr *)&a,
	    sizeof(a)), 0);
	ck_assert_int_eq(listen(srv.listen_fd, 1), 0);
	ck_assert_int_eq(getsockname(srv.listen_fd, (struct sockaddr *)&a,
	    &len), 0);
	srv.port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&srv.thread, NULL, server_main, NULL),
	    0);
}

static void
server_stop(void)
{
	ck_assert_int_eq(write(srv.stop[1], "x", 1), 1);
	/* A server still in accept(): let it in and out. */
	shutdown(srv.listen_fd, SHUT_RDWR);
	pthread_join(srv.thread, NULL);
	close(srv.listen_fd);
	close(srv.stop[0]);
	close(srv.stop[1]);
}

static struct store *
store_for(int timeout)
{
	struct store_imap_params p = {
		.host = "127.0.0.1", .port = srv.port, .tls = TLS_NONE,
		.username = "u", .password = "p", .timeout = timeout,
		.poll_interval = 60, .idle_restart = 300,
	};

	return store_imap_new(&p);
}

/* Connects and selects INBOX on the scripted server. */
static struct store *
selected_store(int timeout)
{
	struct store *s = store_for(timeout);
	uint32_t uidvalidity, uidnext;

	ck_assert_int_eq(s->ops->connect(s), STORE_OK);
	ck_assert_int_eq(s->ops->select(s, "INBOX", &uidvalidity, &uidnext),
	    STORE_OK);
	ck_assert_uint_eq(uidvalidity, 7);
	return s;
}

/* Fetches uid 1 (at most max_bytes) and checks it fails with CONN_LOST,
 * within limit_ms, with a reason containing why. */
static void
fetch_fails(struct store *s, size_t max_bytes, int64_t limit_ms,
    const char *why)
{
	struct store_msg m;
	int64_t start = now_ms(), took;
	int trunc;

	ck_assert_int_eq(s->ops->fetch(s, 1, max_bytes, &m, &trunc),
	    STORE_CONN_LOST);
	took = now_ms() - start;
	printf("fetch failed after %lld ms: %s\n", (long long)took,
	    store_last_error(s));
	ck_assert_msg(took < limit_ms, "took %lld ms", (long long)took);
	ck_assert_msg(strstr(store_last_error(s), why) != NULL,
	    "error '%s' does not say '%s'", store_last_error(s), why);
}

START_TEST(test_good_server)
{
	struct store *s;
	struct store_msg m;
	int trunc = -1;

	server_start(GOOD);
	s = selected_store(5);
	ck_assert_int_eq(s->ops->fetch(s, 1, MAX_BYTES, &m, &trunc),
	    STORE_OK);
	ck_assert_uint_eq(m.len, 5);
	ck_assert_str_eq(m.data, "hello");
	ck_assert_int_eq(trunc, 0);
	store_msg_release(&m);
	store_free(&s);
	server_stop();
}
END_TEST

START_TEST(test_eof_mid_literal)
{
	struct store *s;

	server_start(EOF_MID_LITERAL);
	s = selected_store(30);
	fetch_fails(s, BIG_BYTES, 10000, "closed the connection");
	store_free(&s);
	server_stop();
}
END_TEST

START_TEST(test_absurd_literal)
{
	struct store *s;

	server_start(ABSURD_LITERAL);
	s = selected_store(30);
	fetch_fails(s, MAX_BYTES, 10000, "literal of");
	store_free(&s);
	server_stop();
}
END_TEST

/* The process's peak resident size so far, in KiB. */
static long
peak_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	ck_assert_int_gt(kib, 0);
	return kib;
}

/* What a server sends beyond the partial asked for is never held: the
 * peak grows by far less than the 100 MB it sends (before: about twice
 * that, as libetpan read the whole literal). */
START_TEST(test_oversized_literal)
{
	struct store *s;
	long before;

	server_start(OVERSIZED_LITERAL);
	s = selected_store(30);
	before = peak_kib();
	fetch_fails(s, MAX_BYTES, 10000, "more than the 65536 allowed");
	printf("peak grew by %ld KiB\n", peak_kib() - before);
	ck_assert_int_lt(peak_kib() - before, 16 * 1024);
	store_free(&s);
	server_stop();
}
END_TEST

START_TEST(test_answer_over_budget)
{
	struct store *s;
	long before;

	server_start(MANY_LITERALS);
	s = selected_store(30);
	before = peak_kib();
	fetch_fails(s, MAX_BYTES, 10000, "bytes for one command");
	ck_assert_int_lt(peak_kib() - before, 16 * 1024);
	store_free(&s);
	server_stop();
}
END_TEST

START_TEST(test_trickle_hits_deadline)
{
	struct store *s;

	server_start(TRICKLE);
	s = selected_store(2);
	/* A byte every 300 ms never lets a per-read timeout fire. */
	fetch_fails(s, MAX_BYTES, 6000, "longer than 2 s");
	store_free(&s);
	server_stop();
}
END_TEST

START_TEST(test_stall_hits_deadline)
{
	struct store *s;

	server_start(STALL);
	s = selected_store(1);
	fetch_fails(s, MAX_BYTES, 5000, "longer than 1 s");
	store_free(&s);
	server_stop();
}
END_TEST

START_TEST(test_silent_greeting)
{
	struct store *s;
	int64_t start;

	server_start(SILENT_GREETING);
	s = store_for(1);
	start = now_ms();
	ck_assert_int_eq(s->ops->connect(s), STORE_CONN_LOST);
	ck_assert_int_lt(now_ms() - start, 5000);
	store_free(&s);
	server_stop();
}
END_TEST

/* Answers that crashed libetpan 1.9.4 (found by fuzz_imap_server): a
 * string in a greeting's response code, and an OK to CAPABILITY without
 * capabilities from a server that had named none.  The session must come
 * up or fail, not take the process down. */
START_TEST(test_greeting_code_does_not_crash)
{
	struct store *s;
	uint32_t uidvalidity, uidnext;

	server_start(GREETING_CODE);
	s = store_for(5);
	ck_assert_int_eq(s->ops->connect(s), STORE_OK);
	ck_assert_int_eq(s->ops->select(s, "INBOX", &uidvalidity, &uidnext),
	    STORE_OK);
	store_free(&s);
	server_stop();
}
END_TEST

START_TEST(test_bare_capability_does_not_crash)
{
	struct store *s;
	enum store_status st;

	server_start(BARE_CAPABILITY);
	s = store_for(2);
	st = s->ops->connect(s);
	printf("no capabilities: %s: %s\n", store_status_name(st),
	    store_last_error(s));
	store_free(&s);
	server_stop();
}
END_TEST

static void *
cancel_later(void *arg)
{
	usleep((useconds_t)(intptr_t)arg * 1000);
	if (write(cancel_pipe[1], "x", 1) != 1)
		abort();
	return NULL;
}

/* Runs op under a server playing scenario with a long deadline; the
 * cancel descriptor turns readable 300 ms in: op must be back within a
 * second of that. */
static void
cancel_case(enum scenario scenario, int select_first)
{
	struct store *s;
	pthread_t t;
	int64_t start, took;
	struct store_msg m;
	int trunc;

	ck_assert_int_eq(pipe(cancel_pipe), 0);
	server_start(scenario);
	s = select_first ? selected_store(60) : store_for(60);
	s->ops->set_cancel(s, cancel_pipe[0]);
	ck_assert_int_eq(pthread_create(&t, NULL, cancel_later,
	    (void *)(intptr_t)300), 0);
	start = now_ms();
	if (select_first)
		ck_assert_int_eq(s->ops->fetch(s, 1, BIG_BYTES, &m, &trunc),
		    STORE_CONN_LOST);
	else
		ck_assert_int_eq(s->ops->connect(s), STORE_CONN_LOST);
	took = now_ms() - start;
	printf("cancelled after %lld ms: %s\n", (long long)took,
	    store_last_error(s));
	ck_assert_msg(took < 1300, "took %lld ms", (long long)took);
	ck_assert_ptr_nonnull(strstr(store_last_error(s), "stop signal"));
	/* Once stopped, nothing waits: connect gives up at once. */
	start = now_ms();
	ck_assert_int_eq(s->ops->connect(s), STORE_CONN_LOST);
	ck_assert_int_lt(now_ms() - start, 1000);
	pthread_join(t, NULL);
	store_free(&s);
	server_stop();
	close(cancel_pipe[0]);
	close(cancel_pipe[1]);
}

START_TEST(test_cancel_stalled)
{
	cancel_case(STALL, 1);
}
END_TEST

START_TEST(test_cancel_trickle)
{
	cancel_case(TRICKLE, 1);
}
END_TEST

START_TEST(test_cancel_flood)
{
	cancel_case(FLOOD, 1);
}
END_TEST

START_TEST(test_cancel_greeting)
{
	cancel_case(SILENT_GREETING, 0);
}
END_TEST

static Suite *
imap_stream_suite(void)
{
	Suite *s = suite_create("imap_stream");
	TCase *tc = tcase_create("faults");

	/* Well above every bound asserted; a spinning parser fails here. */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_good_server);
	tcase_add_test(tc, test_eof_mid_literal);
	tcase_add_test(tc, test_absurd_literal);
	tcase_add_test(tc, test_oversized_literal);
	tcase_add_test(tc, test_answer_over_budget);
	tcase_add_test(tc, test_trickle_hits_deadline);
	tcase_add_test(tc, test_stall_hits_deadline);
	tcase_add_test(tc, test_silent_greeting);
	tcase_add_test(tc, test_greeting_code_does_not_crash);
	tcase_add_test(tc, test_bare_capability_does_not_crash);
	tcase_add_test(tc, test_cancel_stalled);
	tcase_add_test(tc, test_cancel_trickle);
	tcase_add_test(tc, test_cancel_flood);
	tcase_add_test(tc, test_cancel_greeting);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(imap_stream_suite)
