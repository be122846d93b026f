/*
 * managesieve.c - the ManageSieve service (see managesieve.h).
 *
 * A connection reads into a buffer, managesieve_proto.c cuts it into
 * lines, and one command runs at a time.  A command that must wait
 * (AUTHENTICATE, PUTSCRIPT, CHECKSCRIPT) starts a job: a forked child
 * that writes one status byte and a text to a pipe the loop watches.
 * While a job runs or a failed login's answer is held back, the
 * connection reads on but runs nothing more.
 *
 * Security: no AUTHENTICATE in clear text except from loopback; the
 * password is checked by an IMAP login to the mailbox's own server with
 * its mailsift configuration (no second password store) and wiped after;
 * a failed login is answered only after a delay that doubles with each
 * failure of that user and of that client address, and no new check for
 * them starts before it ends; connections are limited in number (total,
 * per address), idle time and literal size; each mailbox has a quota.
 * Logs name users, addresses and scripts, never passwords or script text.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/commands.h"
#include "agent/log.h"
#include "agent/managesieve.h"
#include "agent/managesieve_proto.h"
#include "agent/selfpipe.h"
#include "agent/sieve_store.h"
#include "agent/xmem.h"
#include "sieve/sieve.h"

#define MAX_LISTEN		8
#define AUTH_LITERAL_MAX	8192	/* SASL messages before login */
#define FAILURE_SLOTS		1024	/* users and addresses remembered */
#define FAILURE_FORGET_MS	(3600 * 1000)
#define FAILURE_DELAY_MAX_MS	(300 * 1000)
#define CHECK_TIMEOUT_MS	15000
#define JOB_OUTPUT_MAX		(64 * 1024)

enum watch_kind { WATCH_LISTEN, WATCH_SOCKET, WATCH_JOB, WATCH_SIGNAL };

struct watch {
	enum watch_kind kind;
	struct conn *conn;
};

enum sasl_step { SASL_NONE, SASL_PLAIN, SASL_LOGIN_USER, SASL_LOGIN_PASS };
enum job_kind { JOB_NONE, JOB_AUTH, JOB_CHECK, JOB_PUT };

/* Failed logins of one user ("u:NAME") or address ("a:ADDR"). */
struct failure {
	char key[160];
	int count;
	int64_t until;		/* ms: no new check before this */
	int64_t last;		/* ms */
};

struct server;

struct conn {
	struct conn *next;
	struct server *srv;
	int fd;
	char addr[INET6_ADDRSTRLEN];
	int loopback;
	struct watch sock_watch, job_watch;
	struct tls_session *tls;
	int handshaking;
	int want_out;			/* EPOLLOUT registered */
	struct buf in, out;
	size_t out_off;
	int closing;			/* close once out is sent */
	int64_t last_active;		/* ms */
	/* SASL in progress */
	enum sasl_step sasl;
	char *login_user;
	/* the owner, once logged in */
	char *user;
	struct config *config;
	struct sieve_store store;
	/* the job running for this connection */
	enum job_kind job;
	pid_t job_pid;
	int job_fd;
	int64_t job_deadline;
	struct buf job_out;
	char *job_user;			/* AUTH: who is logging in */
	struct config *job_config;
	char *put_name;			/* PUT: the script being stored */
	char *put_text;
	size_t put_len;
	/* a held answer (failed login) and when it may go */
	struct buf held;
	int64_t hold_until;
	char *wait_user;		/* a login waiting for its delay */
	char *wait_pass;
	struct config *wait_config;
};

struct server {
	const struct managesieve_config *cfg;
	const struct tls_server_ops *tls;
	struct tls_context *tls_ctx;
	int epoll_fd;
	int listen_fds[MAX_LISTEN];
	struct watch listen_watch[MAX_LISTEN];
	size_t nlisten;
	struct watch signal_watch;
	struct conn *conns;
	int nconns;
	struct failure failures[FAILURE_SLOTS];
	char *extensions;
	int stop;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Extensions: what `mailsift check` accepts, asked name by name.      */

/* The IANA registry of Sieve extensions (and comparators). */
static const char *const known_extensions[] = {
	"fileinto", "reject", "ereject", "envelope", "encoded-character",
	"comparator-i;ascii-numeric", "comparator-i;unicode-casemap",
	"imap4flags", "copy", "body", "variables", "vacation",
	"vacation-seconds", "relational", "regex", "subaddress", "date",
	"index", "ihave", "mailbox", "mboxmetadata", "servermetadata",
	"foreverypart", "mime", "extracttext", "replace", "enclose",
	"include", "spamtest", "spamtestplus", "virustest", "editheader",
	"duplicate", "environment", "enotify", "notify", "convert",
	"special-use", "fcc", "redirect-dsn", "redirect-deliverby",
	"imapsieve", "extlists", "mailboxid",
};

char *
managesieve_extensions(void)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < sizeof(known_extensions) /
	    sizeof(*known_extensions); i++) {
		char *text = xasprintf("require \"%s\";\n",
		    known_extensions[i]);
		struct sieve_script *s = NULL;
		char *errors = NULL;

		if (sieve_script_parse("probe", text, &s, &errors) == 0)
			buf_printf(&b, "%s%s", b.len > 0 ? " " : "",
			    known_extensions[i]);
		sieve_script_free(&s);
		free(errors);
		free(text);
	}
	return buf_steal(&b);
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static void
put(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2,
    3)));

static void
put(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	buf_appends(&c->out, s);
	free(s);
}

/* "OK"/"NO"/"BYE" [(CODE)] "text" CRLF, text quoted or a literal. */
static void
respond(struct buf *out, const char *kind, const char *code,
    const char *text)
{
	buf_appends(out, kind);
	if (code != NULL)
		buf_printf(out, " (%s)", code);
	if (text != NULL) {
		size_t len = strlen(text);

		while (len > 0 && text[len - 1] == '\n')
			len--;
		buf_appends(out, " ");
		ms_put_string(out, text, len);
	}
	buf_appends(out, "\r\n");
}

static int
tls_active(const struct conn *c)
{
	return c->tls != NULL && !c->handshaking;
}

/* May this connection AUTHENTICATE now? */
static int
auth_allowed(const struct conn *c)
{
	return tls_active(c) || c->loopback;
}

static void
capabilities(struct conn *c)
{
	struct server *srv = c->srv;

	put(c, "\"IMPLEMENTATION\" \"mailsift %s\"\r\n", MAILSIFT_VERSION);
	if (c->user == NULL)
		put(c, "\"SASL\" \"%s\"\r\n", auth_allowed(c) ? "PLAIN LOGIN" :
		    "");
	put(c, "\"SIEVE\" \"%s\"\r\n", srv->extensions);
	if (srv->tls_ctx != NULL && c->tls == NULL)
		put(c, "\"STARTTLS\"\r\n");
	if (c->user != NULL) {
		buf_appends(&c->out, "\"OWNER\" ");
		ms_put_string(&c->out, c->user, strlen(c->user));
		buf_appends(&c->out, "\r\n");
	}
	put(c, "\"UNAUTHENTICATE\"\r\n\"VERSION\" \"1.0\"\r\n");
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

static void
watch_update(struct conn *c)
{
	struct epoll_event ev = { .data.ptr = &c->sock_watch };
	int want = c->out.len > c->out_off ||
	    (c->tls != NULL && c->handshaking &&
	    c->srv->tls->wants_write(c->tls));

	if (want == c->want_out)
		return;
	ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
	if (epoll_ctl(c->srv->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = want;
}

static void
job_end(struct conn *c)
{
	if (c->job_pid > 0) {
		kill(c->job_pid, SIGKILL);
		while (waitpid(c->job_pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (c->job_fd >= 0)
		close(c->job_fd);	/* also leaves the epoll set */
	c->job_pid = -1;
	c->job_fd = -1;
	c->job = JOB_NONE;
	buf_release(&c->job_out);
	free(c->job_user);
	c->job_user = NULL;
	config_free(&c->job_config);
	free(c->put_name);
	free(c->put_text);
	c->put_name = c->put_text = NULL;
}

static void
wipe_free(char **s)
{
	if (*s != NULL) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

static void
logged_out(struct conn *c)
{
	free(c->user);
	c->user = NULL;
	config_free(&c->config);
	memset(&c->store, 0, sizeof(c->store));
}

static void
conn_free(struct conn *c)
{
	struct server *srv = c->srv;
	struct conn **pp;

	for (pp = &srv->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	srv->nconns--;
	job_end(c);
	if (c->tls != NULL)
		srv->tls->session_free(c->tls);
	close(c->fd);
	buf_release(&c->in);
	buf_release(&c->out);
	buf_release(&c->held);
	wipe_free(&c->login_user);
	wipe_free(&c->wait_pass);
	free(c->wait_user);
	config_free(&c->wait_config);
	logged_out(c);
	free(c);
}

/* Sends what it can of c->out.  -1 if the connection broke. */
static int
flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n;

		if (c->tls != NULL) {
			n = c->srv->tls->send(c->tls, c->out.data + c->out_off,
			    c->out.len - c->out_off);
			if (n == TLS_AGAIN)
				break;
		} else {
			n = send(c->fd, c->out.data + c->out_off,
			    c->out.len - c->out_off, MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
		}
		if (n < 0)
			return -1;
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		c->out.len = 0;
		c->out_off = 0;
	}
	watch_update(c);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Failed logins                                                       */

static struct failure *
failure_slot(struct server *srv, const char *kind, const char *name,
    int create)
{
	char key[sizeof(srv->failures[0].key)];
	struct failure *oldest = &srv->failures[0];

	snprintf(key, sizeof(key), "%s:%s", kind, name);
	for (size_t i = 0; i < FAILURE_SLOTS; i++) {
		struct failure *f = &srv->failures[i];

		if (f->count > 0 && now_ms() - f->last > FAILURE_FORGET_MS)
			memset(f, 0, sizeof(*f));
		if (f->count > 0 && strcmp(f->key, key) == 0)
			return f;
		if (f->last < oldest->last)
			oldest = f;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->key, sizeof(oldest->key), "%s", key);
	return oldest;
}

/* When a login of user from c may be checked (ms, monotonic). */
static int64_t
login_not_before(struct conn *c, const char *user)
{
	struct failure *u = failure_slot(c->srv, "u", user, 0);
	struct failure *a = failure_slot(c->srv, "a", c->addr, 0);
	int64_t t = 0;

	if (u != NULL)
		t = u->until;
	if (a != NULL && a->until > t)
		t = a->until;
	return t;
}

/* Records a failure; returns when its answer may go. */
static int64_t
login_failed(struct conn *c, const char *user)
{
	struct failure *f[2] = {
		failure_slot(c->srv, "u", user, 1),
		failure_slot(c->srv, "a", c->addr, 1),
	};
	int64_t now = now_ms(), until = now;

	for (int i = 0; i < 2; i++) {
		int64_t delay = (int64_t)c->srv->cfg->auth_failure_delay *
		    1000;

		f[i]->count++;
		f[i]->last = now;
		for (int k = 1; k < f[i]->count && delay <
		    FAILURE_DELAY_MAX_MS; k++)
			delay *= 2;
		if (delay > FAILURE_DELAY_MAX_MS)
			delay = FAILURE_DELAY_MAX_MS;
		f[i]->until = now + delay;
		if (f[i]->until > until)
			until = f[i]->until;
	}
	return until;
}

static void
login_succeeded(struct conn *c, const char *user)
{
	struct failure *u = failure_slot(c->srv, "u", user, 0);

	if (u != NULL)
		memset(u, 0, sizeof(*u));
}

/* ------------------------------------------------------------------ */
/* Jobs: forked children the loop waits on                             */

typedef void (*job_fn)(struct conn *c, int out_fd);

/* Runs fn in a child writing to a pipe; the loop collects the answer. */
static int
job_start(struct conn *c, enum job_kind kind, job_fn fn, int timeout_ms)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		log_warn("cannot make a pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_warn("cannot fork");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		/* The child holds no client's socket or listener. */
		for (struct conn *o = c->srv->conns; o != NULL; o = o->next)
			close(o->fd);
		for (size_t i = 0; i < c->srv->nlisten; i++)
			close(c->srv->listen_fds[i]);
		close(fds[0]);
		selfpipe_close();
		fn(c, fds[1]);
		_exit(0);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	c->job = kind;
	c->job_pid = pid;
	c->job_fd = fds[0];
	c->job_deadline = now_ms() + timeout_ms;
	c->job_watch = (struct watch){ .kind = WATCH_JOB, .conn = c };
	ev.data.ptr = &c->job_watch;
	if (epoll_ctl(c->srv->epoll_fd, EPOLL_CTL_ADD, fds[0], &ev) < 0) {
		log_warn("cannot watch a job");
		job_end(c);
		return -1;
	}
	return 0;
}

static void
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

/* Child: logs in to the mailbox's IMAP server: 'O', 'F' (refused) or
 * 'E' and the reason. */
static void
auth_job(struct conn *c, int out)
{
	char *err = NULL;
	struct store *store = account_store(c->job_config, c->wait_pass,
	    &err);
	enum store_status st;
	char *msg;

	wipe_free(&c->wait_pass);
	if (store == NULL) {
		msg = xasprintf("E%s", err);
		write_all(out, msg, strlen(msg));
		return;
	}
	st = store->ops->connect(store);
	msg = st == STORE_OK ? xstrdup("O") : xasprintf("%c%s",
	    st == STORE_FATAL ? 'F' : 'E', store_last_error(store));
	write_all(out, msg, strlen(msg));
	store_free(&store);
}

/* Child: checks put_text as the script put_name would be loaded, next to
 * its siblings (include): 'O' and warnings, or 'N' and the errors, each
 * as "NAME:LINE: message". */
static void
check_job(struct conn *c, int out)
{
	char *tmp = xasprintf("%s/.check.%ld.sieve", c->store.dir,
	    (long)getpid());
	struct sieve_script *script = NULL;
	char *errors = NULL;
	struct buf b = { 0 };
	const char *text, *hit;
	FILE *f;
	int ok;

	if (mkdir(c->store.dir, 0700) < 0 && errno != EEXIST) {
		buf_printf(&b, "Ecannot create %s: %s", c->store.dir,
		    strerror(errno));
		goto out;
	}
	f = fopen(tmp, "we");
	if (f == NULL || fwrite(c->put_text, 1, c->put_len, f) != c->put_len ||
	    fclose(f) != 0) {
		buf_printf(&b, "Ecannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	ok = sieve_script_load(tmp, &script, &errors) == 0;
	unlink(tmp);
	text = ok ? sieve_script_warnings(script) : errors;
	buf_appends(&b, ok ? "O" : "N");
	/* Name the script, not the temporary file. */
	while (text != NULL && (hit = strstr(text, tmp)) != NULL) {
		buf_append(&b, text, (size_t)(hit - text));
		buf_appends(&b, c->put_name);
		text = hit + strlen(tmp);
	}
	if (text != NULL)
		buf_appends(&b, text);
out:
	write_all(out, b.data, b.len);
	buf_release(&b);
	sieve_script_free(&script);
	free(errors);
	free(tmp);
}

/* ------------------------------------------------------------------ */
/* Logging in                                                          */

/* The configuration in config_dir whose imap.username is user. */
static struct config *
find_config(struct server *srv, const char *user, char **why_r)
{
	DIR *d = opendir(srv->cfg->config_dir);
	char *self = realpath(srv->cfg->path, NULL);
	struct config *found = NULL;
	struct dirent *e;
	int matches = 0;

	*why_r = NULL;
	if (d == NULL) {
		*why_r = xasprintf("cannot read config_dir %s: %s",
		    srv->cfg->config_dir, strerror(errno));
		free(self);
		return NULL;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char *path, *real, *errors = NULL;
		struct config *cfg = NULL;

		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 ||
		    e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", srv->cfg->config_dir, e->d_name);
		real = realpath(path, NULL);
		if (real != NULL && self != NULL && strcmp(real, self) == 0) {
			free(real);
			free(path);
			continue;	/* this service's own file */
		}
		free(real);
		if (config_load(path, &cfg, &errors) < 0) {
			log_debug("managesieve: skipping %s: %s", path,
			    errors);
			free(errors);
		} else if (strcmp(cfg->imap.username, user) == 0) {
			matches++;
			config_free(&found);
			found = cfg;
			cfg = NULL;
		}
		config_free(&cfg);
		free(path);
	}
	closedir(d);
	free(self);
	if (matches > 1) {
		*why_r = xasprintf("%d configurations in %s have imap.username "
		    "'%s'; keep one", matches, srv->cfg->config_dir, user);
		config_free(&found);
	} else if (found == NULL) {
		*why_r = xasprintf("no configuration in %s has imap.username "
		    "'%s'", srv->cfg->config_dir, user);
	} else if (found->imap.auth != AUTH_PASSWORD) {
		/* The owner types a password; an OAuth2 account's server
		 * takes tokens, which this service never sees. */
		*why_r = xasprintf("%s logs in with OAuth2 (imap.auth): "
		    "ManageSieve logins are checked with a password login",
		    found->path);
		config_free(&found);
	} else if (found->sieve_dir == NULL) {
		*why_r = xasprintf("%s has no sieve_dir: ManageSieve is not "
		    "enabled for this mailbox", found->path);
		config_free(&found);
	}
	return found;
}

/* Answers a failed login after its delay. */
static void
refuse_login(struct conn *c, const char *user, const char *why)
{
	int64_t until = login_failed(c, user);

	log_notice("managesieve: login of '%s' from %s refused: %s", user,
	    c->addr, why);
	respond(&c->held, "NO", NULL, "authentication failed");
	c->hold_until = until;
}

/* Starts the IMAP check of the login waiting in c (wait_*). */
static void
check_login(struct conn *c)
{
	struct config *cfg = c->wait_config;

	c->wait_config = NULL;
	c->job_config = cfg;
	c->job_user = c->wait_user;
	c->wait_user = NULL;
	if (job_start(c, JOB_AUTH, auth_job,
	    (cfg->imap.timeout * 3 + 5) * 1000) < 0) {
		respond(&c->out, "NO", "TRYLATER", "cannot check the "
		    "password now");
		job_end(c);
	}
	/* The child has its copy; the parent keeps none. */
	wipe_free(&c->wait_pass);
}

static void
start_login(struct conn *c, const char *user, const char *pass)
{
	char *why = NULL;
	struct config *cfg;

	if (user[0] == '\0' || pass[0] == '\0') {
		refuse_login(c, user, "empty user name or password");
		return;
	}
	cfg = find_config(c->srv, user, &why);
	if (cfg == NULL) {
		refuse_login(c, user, why);
		free(why);
		return;
	}
	c->wait_user = xstrdup(user);
	c->wait_pass = xstrdup(pass);
	c->wait_config = cfg;
	/* Earlier failures of this user or address hold the check back. */
	if (login_not_before(c, user) > now_ms())
		c->hold_until = login_not_before(c, user);
	else
		check_login(c);
}

static void
auth_done(struct conn *c, char status, const char *text)
{
	char *user = c->job_user;
	struct config *cfg = c->job_config;

	c->job_user = NULL;
	c->job_config = NULL;
	if (status == 'O') {
		login_succeeded(c, user);
		log_notice("managesieve: '%s' logged in from %s (%s)", user,
		    c->addr, cfg->path);
		c->user = user;
		c->config = cfg;
		c->store = (struct sieve_store){
			.dir = cfg->sieve_dir,
			.active = cfg->sieve,
			.max_script_bytes = c->srv->cfg->max_script_bytes,
			.quota_scripts = c->srv->cfg->quota_scripts,
			.quota_bytes = c->srv->cfg->quota_bytes,
		};
		respond(&c->out, "OK", NULL, "logged in");
		return;
	}
	if (status == 'F') {
		refuse_login(c, user, text[0] ? text : "refused by the IMAP "
		    "server");
	} else {
		log_warnx("managesieve: cannot check the login of '%s' from "
		    "%s: %s", user, c->addr, text[0] ? text :
		    "the check did not finish");
		respond(&c->out, "NO", "TRYLATER", "cannot reach the mail "
		    "server to check the password; try again later");
	}
	free(user);
	config_free(&cfg);
}

/* ------------------------------------------------------------------ */
/* SASL                                                                */

static void
sasl_plain(struct conn *c, const char *b64, size_t len)
{
	char *raw = NULL, *authz, *user, *pass;
	size_t n = 0;

	if (ms_base64_decode(b64, len, &raw, &n) < 0 ||
	    (user = memchr(raw, '\0', n)) == NULL ||
	    (pass = memchr(user + 1, '\0', n - (size_t)(user + 1 - raw))) ==
	    NULL || memchr(pass + 1, '\0', n - (size_t)(pass + 1 - raw)) !=
	    NULL) {
		respond(&c->out, "NO", NULL, "malformed PLAIN message");
		goto out;
	}
	authz = raw;
	user++;
	pass++;
	if (authz[0] != '\0' && strcmp(authz, user) != 0) {
		respond(&c->out, "NO", NULL, "logging in as another user is "
		    "not supported");
		goto out;
	}
	start_login(c, user, pass);
out:
	if (raw != NULL)
		explicit_bzero(raw, n);
	free(raw);
}

/* A client's answer to a SASL challenge: one string, or "*". */
static void
sasl_continue(struct conn *c, const struct ms_line *line)
{
	enum sasl_step step = c->sasl;
	char *raw = NULL;
	size_t n = 0;

	c->sasl = SASL_NONE;
	if (line->n != 1 || line->tokens[0].type != MS_STRING ||
	    strcmp(line->tokens[0].text, "*") == 0) {
		wipe_free(&c->login_user);
		respond(&c->out, "NO", NULL, "authentication cancelled");
		return;
	}
	if (step == SASL_PLAIN) {
		sasl_plain(c, line->tokens[0].text, line->tokens[0].len);
		return;
	}
	if (ms_base64_decode(line->tokens[0].text, line->tokens[0].len, &raw,
	    &n) < 0 || strlen(raw) != n) {
		wipe_free(&c->login_user);
		respond(&c->out, "NO", NULL, "malformed LOGIN message");
	} else if (step == SASL_LOGIN_USER) {
		c->login_user = raw;
		raw = NULL;
		c->sasl = SASL_LOGIN_PASS;
		put(c, "\"UGFzc3dvcmQ6\"\r\n");	/* "Password:" */
	} else {
		start_login(c, c->login_user, raw);
		wipe_free(&c->login_user);
	}
	wipe_free(&raw);
}

static void
cmd_authenticate(struct conn *c, const struct ms_line *l)
{
	const char *mech;

	if (c->user != NULL) {
		respond(&c->out, "NO", NULL, "already logged in");
		return;
	}
	if (!auth_allowed(c)) {
		respond(&c->out, "NO", "ENCRYPT-NEEDED", "use STARTTLS first");
		return;
	}
	if (l->n < 2 || l->n > 3 || l->tokens[1].type != MS_STRING) {
		respond(&c->out, "NO", NULL, "usage: AUTHENTICATE \"PLAIN\" "
		    "[initial-response]");
		return;
	}
	mech = l->tokens[1].text;
	if (strcasecmp(mech, "PLAIN") == 0) {
		if (l->n == 3) {
			sasl_plain(c, l->tokens[2].text, l->tokens[2].len);
		} else {
			c->sasl = SASL_PLAIN;
			put(c, "\"\"\r\n");
		}
	} else if (strcasecmp(mech, "LOGIN") == 0 && l->n == 2) {
		c->sasl = SASL_LOGIN_USER;
		put(c, "\"VXNlcm5hbWU6\"\r\n");	/* "Username:" */
	} else {
		respond(&c->out, "NO", NULL, "unsupported mechanism: use "
		    "PLAIN or LOGIN");
	}
}

/* ------------------------------------------------------------------ */
/* Script commands                                                     */

/* The name argument i, checked; NULL after answering NO. */
static const char *
script_name(struct conn *c, const struct ms_line *l, size_t i)
{
	if (i >= l->n || l->tokens[i].type != MS_STRING) {
		respond(&c->out, "NO", NULL, "a script name (a string) is "
		    "missing");
		return NULL;
	}
	if (!sieve_store_name_ok(l->tokens[i].text, l->tokens[i].len)) {
		respond(&c->out, "NO", NULL, "invalid script name: use 1 to "
		    "128 characters without control characters or '/', not "
		    "starting with '.'");
		return NULL;
	}
	return l->tokens[i].text;
}

/* Answers NO for a store failure; 0 if there was none. */
static int
store_refused(struct conn *c, enum sieve_store_status s, char *err)
{
	static const struct {
		const char *code, *text;
	} answers[] = {
		[SIEVE_STORE_NONEXISTENT] = { "NONEXISTENT", "no such script" },
		[SIEVE_STORE_EXISTS] = { "ALREADYEXISTS", "a script of that "
		    "name exists" },
		[SIEVE_STORE_ACTIVE] = { "ACTIVE", "the active script cannot "
		    "be deleted: activate another one first" },
		[SIEVE_STORE_TOO_BIG] = { "QUOTA/MAXSIZE", "the script is "
		    "larger than this server accepts" },
		[SIEVE_STORE_TOO_MANY] = { "QUOTA/MAXSCRIPTS", "too many "
		    "scripts: delete one first" },
		[SIEVE_STORE_OVER_QUOTA] = { "QUOTA", "the scripts would "
		    "exceed this mailbox's quota" },
	};

	if (s == SIEVE_STORE_OK)
		return 0;
	if (s == SIEVE_STORE_ERROR) {
		log_error("managesieve: %s: %s", c->user, err);
		respond(&c->out, "NO", NULL, "server error: the host's log "
		    "says why");
	} else {
		respond(&c->out, "NO", answers[s].code, answers[s].text);
	}
	free(err);
	return 1;
}

static void
cmd_listscripts(struct conn *c)
{
	char **names = NULL, *active = NULL, *err = NULL;
	size_t n = 0;

	if (store_refused(c, sieve_store_list(&c->store, &names, &n, &active,
	    &err), err))
		return;
	for (size_t i = 0; i < n; i++) {
		ms_put_string(&c->out, names[i], strlen(names[i]));
		put(c, "%s\r\n", active && strcmp(active, names[i]) == 0 ?
		    " ACTIVE" : "");
	}
	respond(&c->out, "OK", NULL, "listed");
	sieve_store_names_free(names, n);
	free(active);
}

static void
cmd_getscript(struct conn *c, const struct ms_line *l)
{
	const char *name = script_name(c, l, 1);
	char *text = NULL, *err = NULL;
	size_t len = 0;

	if (name == NULL || store_refused(c, sieve_store_get(&c->store, name,
	    &text, &len, &err), err))
		return;
	put(c, "{%zu}\r\n", len);
	buf_append(&c->out, text, len);
	put(c, "\r\n");
	respond(&c->out, "OK", NULL, "got it");
	free(text);
}

static void
cmd_havespace(struct conn *c, const struct ms_line *l)
{
	const char *name = script_name(c, l, 1);
	char *end, *err = NULL;
	unsigned long long size;

	if (name == NULL)
		return;
	if (l->n != 3 || l->tokens[2].type != MS_ATOM ||
	    (size = strtoull(l->tokens[2].text, &end, 10), *end != '\0')) {
		respond(&c->out, "NO", NULL, "usage: HAVESPACE name size");
		return;
	}
	if (!store_refused(c, sieve_store_space(&c->store, name,
	    size > SIZE_MAX ? SIZE_MAX : (size_t)size, &err), err))
		respond(&c->out, "OK", NULL, "there is room");
}

/* PUTSCRIPT (store) and CHECKSCRIPT: the check runs as a job. */
static void
cmd_put_or_check(struct conn *c, const struct ms_line *l, int store)
{
	const struct ms_token *text = &l->tokens[store ? 2 : 1];
	const char *name = store ? script_name(c, l, 1) : "script";
	char *err = NULL;

	if (name == NULL)
		return;
	if (l->n != (store ? 3u : 2u) || text->type != MS_STRING) {
		respond(&c->out, "NO", NULL, store ? "usage: PUTSCRIPT name "
		    "{size+} script" : "usage: CHECKSCRIPT {size+} script");
		return;
	}
	if (store && store_refused(c, sieve_store_space(&c->store, name,
	    text->len, &err), err))
		return;
	if (!store && text->len > c->srv->cfg->max_script_bytes) {
		respond(&c->out, "NO", "QUOTA/MAXSIZE", "the script is larger "
		    "than this server accepts");
		return;
	}
	c->put_name = xstrdup(name);
	c->put_text = xmalloc(text->len + 1);
	memcpy(c->put_text, text->text, text->len + 1);
	c->put_len = text->len;
	if (job_start(c, store ? JOB_PUT : JOB_CHECK, check_job,
	    CHECK_TIMEOUT_MS) < 0) {
		respond(&c->out, "NO", "TRYLATER", "cannot check the script "
		    "now");
		job_end(c);
	}
}

static void
check_done(struct conn *c, char status, const char *text)
{
	char *err = NULL;

	if (status == 'N') {
		respond(&c->out, "NO", NULL, text);
		if (c->job == JOB_PUT)
			log_notice("managesieve: %s: script '%s' refused "
			    "(errors)", c->user, c->put_name);
		return;
	}
	if (status != 'O') {
		log_error("managesieve: %s: cannot check script '%s': %s",
		    c->user, c->put_name, text[0] ? text : "the check did "
		    "not finish");
		respond(&c->out, "NO", NULL, "the script could not be checked: "
		    "the host's log says why");
		return;
	}
	if (c->job == JOB_PUT) {
		char *active = sieve_store_active(&c->store);

		if (store_refused(c, sieve_store_put(&c->store, c->put_name,
		    c->put_text, c->put_len, &err), err)) {
			free(active);
			return;
		}
		log_notice("managesieve: %s: stored script '%s' (%zu bytes)%s",
		    c->user, c->put_name, c->put_len, active != NULL &&
		    strcmp(active, c->put_name) == 0 ? ", the active one: "
		    "the daemon reloads it" : "");
		free(active);
	}
	if (text[0] != '\0')
		respond(&c->out, "OK", "WARNINGS", text);
	else
		respond(&c->out, "OK", NULL, c->job == JOB_PUT ? "stored" :
		    "the script is valid");
}

static void
cmd_setactive(struct conn *c, const struct ms_line *l)
{
	const char *name;
	char *kept = NULL, *err = NULL;

	if (l->n != 2 || l->tokens[1].type != MS_STRING) {
		respond(&c->out, "NO", NULL, "usage: SETACTIVE name");
		return;
	}
	if (c->config->sieve == NULL) {
		respond(&c->out, "NO", NULL, "this mailbox has no sieve path "
		    "to activate a script at");
		return;
	}
	name = l->tokens[1].len == 0 ? NULL : script_name(c, l, 1);
	if (l->tokens[1].len > 0 && name == NULL)
		return;
	if (store_refused(c, sieve_store_activate(&c->store, name, &kept,
	    &err), err))
		return;
	if (kept != NULL)
		log_notice("managesieve: %s: the script kept at %s is now "
		    "script '%s'", c->user, c->config->sieve, kept);
	log_notice("managesieve: %s: %s%s%s", c->user, name ? "activated '" :
	    "deactivated the script: the built-in policy applies",
	    name ? name : "", name ? "'" : "");
	respond(&c->out, "OK", NULL, name ? "active" : "no script active");
	free(kept);
}

static void
cmd_deletescript(struct conn *c, const struct ms_line *l)
{
	const char *name = script_name(c, l, 1);
	char *err = NULL;

	if (name == NULL || store_refused(c, sieve_store_delete(&c->store,
	    name, &err), err))
		return;
	log_notice("managesieve: %s: deleted script '%s'", c->user, name);
	respond(&c->out, "OK", NULL, "deleted");
}

static void
cmd_renamescript(struct conn *c, const struct ms_line *l)
{
	const char *from = script_name(c, l, 1), *to;
	char *err = NULL;

	if (from == NULL || (to = script_name(c, l, 2)) == NULL)
		return;
	if (store_refused(c, sieve_store_rename(&c->store, from, to, &err),
	    err))
		return;
	log_notice("managesieve: %s: renamed script '%s' to '%s'", c->user,
	    from, to);
	respond(&c->out, "OK", NULL, "renamed");
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

static void
start_tls(struct conn *c)
{
	if (c->srv->tls_ctx == NULL || c->tls != NULL) {
		respond(&c->out, "NO", NULL, c->tls ? "TLS is already on" :
		    "STARTTLS is not configured here");
		return;
	}
	respond(&c->out, "OK", NULL, "begin TLS negotiation now");
	if (flush(c) < 0 || c->out.len > 0) {
		c->closing = 1;
		return;
	}
	/* Anything sent after the command in clear text is dropped. */
	c->in.len = 0;
	c->tls = c->srv->tls->session_new(c->srv->tls_ctx, c->fd);
	if (c->tls == NULL) {
		c->closing = 1;
		return;
	}
	c->handshaking = 1;
}

static void
run_line(struct conn *c, const struct ms_line *l)
{
	const char *cmd = l->tokens[0].text;

	if (c->sasl != SASL_NONE) {
		sasl_continue(c, l);
		return;
	}
	if (l->tokens[0].type != MS_ATOM) {
		respond(&c->out, "NO", NULL, "expected a command");
		return;
	}
	if (strcasecmp(cmd, "CAPABILITY") == 0) {
		capabilities(c);
		respond(&c->out, "OK", NULL, "capabilities listed");
	} else if (strcasecmp(cmd, "LOGOUT") == 0) {
		respond(&c->out, "OK", NULL, "bye");
		c->closing = 1;
	} else if (strcasecmp(cmd, "NOOP") == 0) {
		if (l->n == 2 && l->tokens[1].type == MS_STRING) {
			buf_appends(&c->out, "OK (TAG ");
			ms_put_string(&c->out, l->tokens[1].text,
			    l->tokens[1].len);
			buf_appends(&c->out, ") \"done\"\r\n");
		} else {
			respond(&c->out, "OK", NULL, "done");
		}
	} else if (strcasecmp(cmd, "STARTTLS") == 0) {
		start_tls(c);
	} else if (strcasecmp(cmd, "AUTHENTICATE") == 0) {
		cmd_authenticate(c, l);
	} else if (c->user == NULL) {
		respond(&c->out, "NO", NULL, "log in first (AUTHENTICATE)");
	} else if (strcasecmp(cmd, "UNAUTHENTICATE") == 0) {
		log_notice("managesieve: '%s' logged out (UNAUTHENTICATE)",
		    c->user);
		logged_out(c);
		respond(&c->out, "OK", NULL, "logged out");
	} else if (strcasecmp(cmd, "LISTSCRIPTS") == 0) {
		cmd_listscripts(c);
	} else if (strcasecmp(cmd, "GETSCRIPT") == 0) {
		cmd_getscript(c, l);
	} else if (strcasecmp(cmd, "HAVESPACE") == 0) {
		cmd_havespace(c, l);
	} else if (strcasecmp(cmd, "PUTSCRIPT") == 0) {
		cmd_put_or_check(c, l, 1);
	} else if (strcasecmp(cmd, "CHECKSCRIPT") == 0) {
		cmd_put_or_check(c, l, 0);
	} else if (strcasecmp(cmd, "SETACTIVE") == 0) {
		cmd_setactive(c, l);
	} else if (strcasecmp(cmd, "DELETESCRIPT") == 0) {
		cmd_deletescript(c, l);
	} else if (strcasecmp(cmd, "RENAMESCRIPT") == 0) {
		cmd_renamescript(c, l);
	} else {
		respond(&c->out, "NO", NULL, "unknown command");
	}
}

static int
busy(const struct conn *c)
{
	return c->job != JOB_NONE || c->hold_until > 0 || c->closing ||
	    c->handshaking;
}

/* Runs the complete lines in c->in, one at a time. */
static void
run_input(struct conn *c)
{
	while (!busy(c) && c->in.len > 0) {
		struct ms_line line;
		const char *err = NULL;
		size_t used = 0, max = c->user != NULL ?
		    c->srv->cfg->max_script_bytes : AUTH_LITERAL_MAX;
		enum ms_parse r = ms_parse_line(c->in.data, c->in.len, max,
		    &line, &used, &err);

		if (r == MS_PARSE_MORE)
			break;
		if (r == MS_PARSE_FATAL) {
			respond(&c->out, "BYE", NULL, err);
			c->closing = 1;
			break;
		}
		if (r == MS_PARSE_LINE) {
			run_line(c, &line);
			ms_line_release(&line);
		} else {
			c->sasl = SASL_NONE;
			respond(&c->out, "NO", NULL, err);
		}
		/* STARTTLS emptied the buffer already. */
		if (c->in.len >= used) {
			memmove(c->in.data, c->in.data + used,
			    c->in.len - used);
			c->in.len -= used;
		}
	}
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */

static void
job_readable(struct conn *c)
{
	char chunk[4096];
	ssize_t n;
	char status;
	const char *text;

	while ((n = read(c->job_fd, chunk, sizeof(chunk))) > 0)
		if (c->job_out.len < JOB_OUTPUT_MAX)
			buf_append(&c->job_out, chunk, (size_t)n);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF: the child is done. */
	while (waitpid(c->job_pid, NULL, 0) < 0 && errno == EINTR)
		;
	c->job_pid = -1;
	status = c->job_out.len > 0 ? c->job_out.data[0] : 'E';
	text = c->job_out.len > 1 ? c->job_out.data + 1 : "";
	if (c->job == JOB_AUTH)
		auth_done(c, status, text);
	else
		check_done(c, status, text);
	job_end(c);
}

static void
job_timed_out(struct conn *c)
{
	if (c->job == JOB_AUTH) {
		log_warnx("managesieve: login check of '%s' from %s timed out",
		    c->job_user, c->addr);
		respond(&c->out, "NO", "TRYLATER", "the mail server did not "
		    "answer in time; try again later");
	} else {
		log_warnx("managesieve: %s: checking script '%s' timed out",
		    c->user, c->put_name);
		respond(&c->out, "NO", NULL, "checking the script took too "
		    "long");
	}
	job_end(c);
}

static void
accept_one(struct server *srv, int lfd)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	struct epoll_event ev = { .events = EPOLLIN };
	struct conn *c;
	int fd, same = 0;
	char addr[INET6_ADDRSTRLEN] = "?";

	fd = accept4(lfd, (struct sockaddr *)&sa, &salen,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (sa.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr,
		    addr, sizeof(addr));
	else if (sa.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr,
		    addr, sizeof(addr));
	for (c = srv->conns; c != NULL; c = c->next)
		same += strcmp(c->addr, addr) == 0;
	if (srv->nconns >= srv->cfg->max_connections ||
	    same >= srv->cfg->max_connections_per_address) {
		static const char bye[] = "BYE \"too many connections; try "
		    "again later\"\r\n";

		log_warnx("managesieve: refused a connection from %s: %s",
		    addr, srv->nconns >= srv->cfg->max_connections ?
		    "max_connections reached" :
		    "max_connections_per_address reached");
		if (send(fd, bye, sizeof(bye) - 1, MSG_NOSIGNAL) < 0)
			log_debug("managesieve: %s: %s", addr,
			    strerror(errno));
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->fd = fd;
	c->job_fd = -1;
	c->job_pid = -1;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->loopback = ms_peer_is_loopback(&sa);
	c->last_active = now_ms();
	c->sock_watch = (struct watch){ .kind = WATCH_SOCKET, .conn = c };
	ev.data.ptr = &c->sock_watch;
	if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = srv->conns;
	srv->conns = c;
	srv->nconns++;
	log_info("managesieve: connection from %s", addr);
	capabilities(c);
	respond(&c->out, "OK", NULL, "mailsift ManageSieve ready");
	if (flush(c) < 0)
		c->closing = 1;
}

/* Reads what the socket has.  -1: close the connection. */
static int
conn_read(struct conn *c)
{
	char chunk[16384];
	size_t limit = (c->user != NULL ? c->srv->cfg->max_script_bytes :
	    AUTH_LITERAL_MAX) + MS_MAX_LINE * 2;

	if (c->handshaking) {
		int r = c->srv->tls->handshake(c->tls);

		if (r == TLS_ERROR) {
			log_info("managesieve: TLS with %s failed: %s",
			    c->addr, c->srv->tls->error(c->tls));
			return -1;
		}
		watch_update(c);
		if (r == TLS_AGAIN)
			return 0;
		c->handshaking = 0;
		log_info("managesieve: TLS on with %s", c->addr);
		/* RFC 5804 2.2: the capabilities again, over TLS. */
		capabilities(c);
		respond(&c->out, "OK", NULL, "TLS is on");
	}
	for (;;) {
		ssize_t n;

		if (c->tls != NULL)
			n = c->srv->tls->recv(c->tls, chunk, sizeof(chunk));
		else
			n = recv(c->fd, chunk, sizeof(chunk), 0);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (c->tls != NULL ? n == TLS_AGAIN :
			    (errno == EAGAIN || errno == EINTR))
				break;
			return -1;
		}
		if (c->in.len + (size_t)n > limit) {
			/* More than any command may hold (a literal's size
			 * is checked when it is announced). */
			respond(&c->out, "BYE", NULL, "input too long");
			c->closing = 1;
			return 0;
		}
		buf_append(&c->in, chunk, (size_t)n);
		c->last_active = now_ms();
		if (c->tls != NULL && c->srv->tls->pending(c->tls) == 0 &&
		    (size_t)n < sizeof(chunk))
			break;
	}
	return 0;
}

static void
conn_event(struct conn *c, uint32_t events)
{
	if ((c->handshaking || (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) &&
	    conn_read(c) < 0) {
		conn_free(c);
		return;
	}
	if (c->handshaking) {
		if (flush(c) < 0)
			conn_free(c);
		return;
	}
	run_input(c);
	if (flush(c) < 0 || (c->closing && c->out.len == 0))
		conn_free(c);
}

/* Deadlines: idle connections, jobs, held answers. */
static void
sweep(struct server *srv)
{
	int64_t now = now_ms();
	struct conn *c, *next;

	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (c->job != JOB_NONE && now >= c->job_deadline)
			job_timed_out(c);
		if (c->hold_until > 0 && now >= c->hold_until) {
			c->hold_until = 0;
			buf_append(&c->out, c->held.data, c->held.len);
			c->held.len = 0;
			if (c->wait_config != NULL)
				check_login(c);
		}
		if (c->job == JOB_NONE && c->hold_until == 0 &&
		    now - c->last_active > (int64_t)srv->cfg->idle_timeout *
		    1000) {
			log_info("managesieve: %s idle for %d s, closing",
			    c->addr, srv->cfg->idle_timeout);
			respond(&c->out, "BYE", NULL, "idle too long");
			c->closing = 1;
		}
		run_input(c);
		if (flush(c) < 0 || (c->closing && c->out.len == 0))
			conn_free(c);
	}
}

static int
listen_on(struct server *srv, const char *addr)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_PASSIVE,
	}, *ai = NULL;
	char port[16];
	int fd = -1, one = 1, r;

	snprintf(port, sizeof(port), "%d", srv->cfg->port);
	if ((r = getaddrinfo(addr, port, &hints, &ai)) != 0) {
		log_error("managesieve: cannot listen on '%s': %s (listen "
		    "takes IP addresses)", addr, gai_strerror(r));
		return -1;
	}
	if (srv->nlisten == MAX_LISTEN) {
		log_error("managesieve: at most %d listen addresses",
		    MAX_LISTEN);
		goto fail;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || (ai->ai_family == AF_INET6 && setsockopt(fd,
	    IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		log_warn("managesieve: cannot listen on [%s]:%d", addr,
		    srv->cfg->port);
		goto fail;
	}
	srv->listen_watch[srv->nlisten] = (struct watch){
	    .kind = WATCH_LISTEN };
	{
		struct epoll_event ev = { .events = EPOLLIN,
		    .data.ptr = &srv->listen_watch[srv->nlisten] };

		if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			goto fail;
	}
	srv->listen_fds[srv->nlisten++] = fd;
	freeaddrinfo(ai);
	log_notice("managesieve: listening on [%s]:%d", addr,
	    srv->cfg->port);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

static int
server_setup(struct server *srv)
{
	static const int stop_signals[] = { SIGTERM, SIGINT };
	struct epoll_event ev = { .events = EPOLLIN };
	char *err = NULL;

	if (srv->cfg->tls_cert != NULL) {
		if ((srv->tls = account_tls_server(&err)) == NULL ||
		    srv->tls->context_new(srv->cfg->tls_cert,
		    srv->cfg->tls_key, &srv->tls_ctx, &err) < 0) {
			log_error("managesieve: %s", err);
			free(err);
			return EXIT_USAGE;
		}
	} else {
		log_warnx("managesieve: no tls_cert in %s: no STARTTLS, so "
		    "only clients on loopback can log in", srv->cfg->path);
	}
	srv->signal_watch = (struct watch){ .kind = WATCH_SIGNAL };
	ev.data.ptr = &srv->signal_watch;
	if ((srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    selfpipe_open(stop_signals, 2) < 0 ||
	    epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, selfpipe_fd(), &ev) < 0) {
		log_warn("managesieve: cannot set up the event loop");
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; srv->cfg->listen[i] != NULL; i++)
		listen_on(srv, srv->cfg->listen[i]);
	if (srv->nlisten == 0) {
		log_error("managesieve: cannot listen anywhere; check listen "
		    "and port in %s", srv->cfg->path);
		return EXIT_RUNTIME;
	}
	srv->extensions = managesieve_extensions();
	return -1;
}

static void
server_close(struct server *srv)
{
	while (srv->conns != NULL)
		conn_free(srv->conns);
	for (size_t i = 0; i < srv->nlisten; i++)
		close(srv->listen_fds[i]);
	if (srv->tls_ctx != NULL)
		srv->tls->context_free(srv->tls_ctx);
	if (srv->epoll_fd >= 0)
		close(srv->epoll_fd);
	selfpipe_close();
	free(srv->extensions);
}

int
managesieve_run(const struct managesieve_config *config)
{
	struct server srv = { .cfg = config, .epoll_fd = -1 };
	int rc = server_setup(&srv);

	if (rc >= 0)
		goto out;
	log_notice("mailsift %s managesieve serving the mailboxes of %s",
	    MAILSIFT_VERSION, config->config_dir);
	while (!srv.stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(srv.epoll_fd, evs, 64, 250);

		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;

			switch (w->kind) {
			case WATCH_LISTEN:
				accept_one(&srv, srv.listen_fds[w -
				    srv.listen_watch]);
				break;
			case WATCH_SIGNAL:
				srv.stop = 1;
				break;
			case WATCH_JOB:
				job_readable(w->conn);
				conn_event(w->conn, 0);
				/* conn_event may have freed the connection:
				 * later events of this batch for it are
				 * stale. */
				n = 0;
				break;
			case WATCH_SOCKET:
				conn_event(w->conn, evs[i].events);
				n = 0;
				break;
			}
		}
		sweep(&srv);
	}
	log_notice("managesieve: stopped");
	rc = EXIT_OK;
out:
	server_close(&srv);
	return rc;
}
