/*
 * store_imap.c - the mail store over IMAP with libetpan 1.9.4, see store.h
 * and store_imap.h.
 *
 * One struct store_imap is one IMAP connection.  It owns: connecting with
 * implicit TLS, STARTTLS or plain TCP over imap_stream.c (which bounds every
 * wait: libetpan never touches the socket itself); verifying the server
 * certificate before the password leaves (tls_verify.c);
 * logging in (imap_login.c); mapping libetpan's result codes onto the store statuses (any
 * stream or parse error drops the session: STORE_CONN_LOST, and the next
 * connect() dials again); every mailbox name between the owner's form and
 * the server's (its NAMESPACE, namespace.h, then modified UTF-7 on the
 * wire); a UIDNEXT for servers whose SELECT does not send one (Courier);
 * and the IDLE loop with the workarounds libraries.md section 4 measured:
 * data libetpan buffered before IDLE counts as a change, keepalives do not.
 * NOTIFY (sent as a raw command: libetpan has none) adds one more mailbox
 * to what IDLE reports; IDLE is also offered in two halves for a caller
 * that waits on two connections.
 * It never sends RFC822 (sets \Seen) and never a plain EXPUNGE.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "agent/imap_login.h"
#include "agent/imap_safe.h"
#include "agent/imap_stream.h"
#include "agent/log.h"
#include "agent/mutf7.h"
#include "agent/namespace.h"
#include "agent/store_imap.h"
#include "agent/tls_verify.h"
#include "agent/xmem.h"

struct store_imap {
	struct store store;	/* first: the vtable seam */
	char *host;
	int port;
	enum tls_mode tls;
	char *ca_file;
	char *username;
	enum imap_auth auth;
	char *password;		/* NULL: ask renew_secret */
	int (*renew_secret)(void *arg, char **secret_r, char **err_r);
	void *renew_arg;
	int timeout;
	int poll_interval;
	int idle_restart;

	int cancel_fd;		/* see store.h set_cancel; -1: none */
	int test_fd;		/* a connected socket to use (tests), or -1 */

	mailimap *imap;		/* NULL when not connected */
	struct imap_stream *stream;	/* under imap; owned by its mailstream */
	char *selected;		/* UTF-8 name of the selected mailbox */
	uint32_t exists_seen;	/* EXISTS when the caller last listed */
	char *listed_box;	/* the mailbox the caller last listed, */
	uint32_t listed_next;	/* and the first uid it has not seen */
	int pending;		/* SELECT showed mail newer than that */
	int has_idle;
	int has_move;
	int has_uidplus;
	int has_condstore;
	char *certificate;	/* the server's, for people (store.h) */
	int certificate_trusted;
	int has_notify;
	char *notify_wire;	/* the notify() mailbox, wire name, or NULL */
	uint32_t notify_uidnext;	/* its UIDNEXT and MESSAGES when a */
	uint32_t notify_messages;	/* change was last reported */
	uint32_t idle_exists;	/* EXISTS when the current IDLE began */
	int idling;		/* idle_begin() left an IDLE to end */
	uint64_t modseq;	/* HIGHESTMODSEQ at the last SELECT, or 0 */
	uint32_t exists;	/* EXISTS at the last SELECT */
	uint32_t uidnext;	/* UIDNEXT at the last SELECT (or STATUS) */
	struct namespace_map ns;	/* the server's personal namespace */
	int in_login;		/* hides the LOGIN line from the trace */
	int ever_connected;	/* a session was set up once: TLS worked */
};

static enum store_status
imap_server_info(struct store *s, struct store_server_info *info_r)
{
	struct store_imap *si = (struct store_imap *)s;

	*info_r = (struct store_server_info){ .idle = si->has_idle,
	    .move = si->has_move, .uidplus = si->has_uidplus,
	    .condstore = si->has_condstore,
	    .certificate = si->certificate ? xstrdup(si->certificate) : NULL,
	    .certificate_trusted = si->certificate_trusted };
	return STORE_OK;
}

static const struct store_ops store_imap_ops;

/* What a FETCH answer may carry beyond the message bytes asked for:
 * flags, size, and flag changes of other clients that come along. */
#define FETCH_SLACK	(256 * 1024)
/* What fetch() with no limit accepts: the largest max_message_bytes. */
#define FETCH_UNLIMITED	((size_t)1024 * 1024 * 1024)

/* ------------------------------------------------------------ helpers */

static int
is_conn_error(int r)
{
	return r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE ||
	    r == MAILIMAP_ERROR_FATAL || r == MAILIMAP_ERROR_BAD_STATE ||
	    r == MAILIMAP_ERROR_CONNECTION_REFUSED ||
	    r == MAILIMAP_ERROR_MEMORY;
}

/* Closes the session without a LOGOUT: after a stream error there is no
 * one to say goodbye to.  mailimap_free() itself would send LOGOUT on a
 * still-open stream and wait the whole timeout for a silent server, so
 * the stream is closed first. */
static void
drop(struct store_imap *si)
{
	if (si->imap != NULL) {
		if (si->imap->imap_stream != NULL) {
			mailstream_close(si->imap->imap_stream);
			si->imap->imap_stream = NULL;
		}
		mailimap_free(si->imap);
		si->imap = NULL;
	}
	si->stream = NULL;
	free(si->selected);
	si->selected = NULL;
	free(si->notify_wire);
	si->notify_wire = NULL;
	si->idling = 0;
}

static const char *
server_text(const struct store_imap *si)
{
	if (si->imap != NULL && si->imap->imap_response != NULL &&
	    si->imap->imap_response[0] != '\0')
		return si->imap->imap_response;
	return "no reason given";
}

/* Records why an operation failed and returns its status: a connection
 * error drops the session (STORE_CONN_LOST), anything else is the server
 * refusing this command (cmd_status, with the server's text). */
static enum store_status
op_fail(struct store_imap *si, int r, enum store_status cmd_status,
    const char *fmt, ...)
{
	va_list ap;
	char *what;

	va_start(ap, fmt);
	what = xvasprintf(fmt, ap);
	va_end(ap);
	if (is_conn_error(r)) {
		const char *why = si->stream != NULL ?
		    imap_stream_error(si->stream) : "";

		store_set_error(&si->store, "connection to %s lost during "
		    "%s%s%s", si->host, what, *why != '\0' ? ": " : "", why);
		drop(si);
		free(what);
		return STORE_CONN_LOST;
	}
	store_set_error(&si->store, "cannot %s on %s: %s", what, si->host,
	    server_text(si));
	free(what);
	return cmd_status;
}

static enum store_status
not_ready(struct store_imap *si, int need_selected)
{
	if (si->imap == NULL) {
		store_set_error(&si->store, "not connected to %s", si->host);
		return STORE_CONN_LOST;
	}
	if (need_selected && si->selected == NULL) {
		store_set_error(&si->store, "no mailbox selected on %s",
		    si->host);
		return STORE_BOX_BAD;
	}
	return STORE_OK;
}

/* The wire name of box (the owner's form, or the server's), or NULL with
 * the error recorded. */
static char *
wire_name(struct store_imap *si, const char *box)
{
	char *server, *wire, *err = NULL;
	int rc;

	server = namespace_to_server(&si->ns, box);
	rc = mutf7_encode(server, &wire, &err);
	free(server);
	if (rc < 0) {
		store_set_error(&si->store, "mailbox '%s': %s", box, err);
		free(err);
		return NULL;
	}
	return wire;
}

/* The owner's form of a name the server sent, or NULL (logged) if it is
 * not valid modified UTF-7. */
static char *
owner_name_of(struct store_imap *si, const char *wire)
{
	char *server, *name, *err = NULL;

	if (mutf7_decode(wire, &server, &err) < 0) {
		log_warnx("ignoring mailbox '%s' of %s: %s", wire, si->host,
		    err);
		free(err);
		return NULL;
	}
	name = namespace_to_owner(&si->ns, server);
	free(server);
	return name;
}

/* Commands go to the debug log; LOGIN (the password) and received data
 * (message bodies) never do. */
static void
wire_logger(mailimap *imap, int log_type, const char *str, size_t size,
    void *context)
{
	struct store_imap *si = context;
	size_t n = size;

	(void)imap;
	if (log_type != MAILSTREAM_LOG_TYPE_DATA_SENT || si->in_login)
		return;
	while (n > 0 && (str[n - 1] == '\n' || str[n - 1] == '\r'))
		n--;
	if (n > 200)
		n = 200;
	log_debug("imap %s > %.*s", si->host, (int)n, str);
}

static char *
flag_name(const struct mailimap_flag *f)
{
	switch (f->fl_type) {
	case MAILIMAP_FLAG_ANSWERED:	return xstrdup("\\Answered");
	case MAILIMAP_FLAG_FLAGGED:	return xstrdup("\\Flagged");
	case MAILIMAP_FLAG_DELETED:	return xstrdup("\\Deleted");
	case MAILIMAP_FLAG_SEEN:	return xstrdup("\\Seen");
	case MAILIMAP_FLAG_DRAFT:	return xstrdup("\\Draft");
	case MAILIMAP_FLAG_KEYWORD:
		if (f->fl_data.fl_keyword != NULL)
			return xstrdup(f->fl_data.fl_keyword);
		break;
	case MAILIMAP_FLAG_EXTENSION:
		if (f->fl_data.fl_extension != NULL)
			return xasprintf("\\%s", f->fl_data.fl_extension);
		break;
	}
	return NULL;
}

/* Flags of one FETCH response, without \Recent (it belongs to a session,
 * not to the message). */
static void
collect_flags(const struct mailimap_msg_att_dynamic *dyn, char ***flags_r,
    size_t *n_r)
{
	clistiter *it;

	if (dyn == NULL || dyn->att_list == NULL)
		return;
	for (it = clist_begin(dyn->att_list); it != NULL;
	    it = clist_next(it)) {
		struct mailimap_flag_fetch *ff = clist_content(it);
		char *name;

		if (ff->fl_type != MAILIMAP_FLAG_FETCH_OTHER ||
		    ff->fl_flag == NULL)
			continue;
		if ((name = flag_name(ff->fl_flag)) == NULL)
			continue;
		*flags_r = xreallocarray(*flags_r, *n_r + 1,
		    sizeof(**flags_r));
		(*flags_r)[(*n_r)++] = name;
	}
}

static struct mailimap_flag *
flag_from_name(const char *name)
{
	static const struct {
		const char *name;
		struct mailimap_flag *(*make)(void);
	} sys[] = {
		{ "\\Answered", mailimap_flag_new_answered },
		{ "\\Flagged", mailimap_flag_new_flagged },
		{ "\\Deleted", mailimap_flag_new_deleted },
		{ "\\Seen", mailimap_flag_new_seen },
		{ "\\Draft", mailimap_flag_new_draft },
	};

	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (strcasecmp(name, sys[i].name) == 0)
			return sys[i].make();
	if (name[0] == '\\')
		return mailimap_flag_new_flag_extension(xstrdup(name + 1));
	return mailimap_flag_new_flag_keyword(xstrdup(name));
}

static int
cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The uids of a UID SEARCH result that are >= min_uid, sorted. */
static void
search_uids(clist *result, uint32_t min_uid, uint32_t **uids_r, size_t *n_r)
{
	clistiter *it;
	uint32_t *uids = NULL;
	size_t n = 0;

	for (it = clist_begin(result); it != NULL; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);

		if (uid < min_uid)
			continue;
		uids = xreallocarray(uids, n + 1, sizeof(*uids));
		uids[n++] = uid;
	}
	if (n > 1)
		qsort(uids, n, sizeof(*uids), cmp_uid);
	*uids_r = uids;
	*n_r = n;
}

/* The UID set of uids[0..n-1] (ascending), runs as ranges. */
static struct mailimap_set *
uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();

	if (set == NULL)
		abort();
	for (size_t i = 0; i < n; ) {
		size_t j = i;

		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		if (mailimap_set_add_interval(set, uids[i], uids[j]) != 0)
			abort();
		i = j + 1;
	}
	return set;
}

/* Where uid is in uids[0..n-1] (ascending), or n. */
static size_t
uid_index(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && uids[lo] == uid ? lo : n;
}

/* For the error messages: "uid 7" or "4 uids from 7". */
static char *
uids_text(const uint32_t *uids, size_t n)
{
	return n == 1 ? xasprintf("uid %u", uids[0]) :
	    xasprintf("%zu uids from %u", n, uids[0]);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ connect */

static enum store_status
verify_peer(struct store_imap *si)
{
	struct tls_der *der;
	char *err = NULL;
	size_t n;
	int r;

	der = imap_stream_peer_chain(si->stream, &n);
	if (n == 0) {
		free(der);
		store_set_error(&si->store, "no TLS certificate from %s",
		    si->host);
		return STORE_FATAL;
	}
	free(si->certificate);
	si->certificate = tls_describe(&der[0]);
	r = tls_verify_chain(der, n, si->host, si->ca_file, &err);
	free(der);
	si->certificate_trusted = r == 0;
	if (r < 0) {
		store_set_error(&si->store, "%s", err);
		free(err);
		return STORE_FATAL;
	}
	log_debug("certificate of %s verified", si->host);
	return STORE_OK;
}

static void
read_capabilities(struct store_imap *si)
{
	si->has_idle = imap_safe_has_extension(si->imap, "IDLE");
	si->has_move = imap_safe_has_extension(si->imap, "MOVE");
	si->has_uidplus = imap_safe_has_extension(si->imap, "UIDPLUS");
	si->has_condstore = imap_safe_has_extension(si->imap, "CONDSTORE");
	si->has_notify = imap_safe_has_extension(si->imap, "NOTIFY");
	log_debug("imap %s: IDLE %s, MOVE %s, UIDPLUS %s, CONDSTORE %s, "
	    "NOTIFY %s", si->host, si->has_idle ? "yes" : "no",
	    si->has_move ? "yes" : "no", si->has_uidplus ? "yes" : "no",
	    si->has_condstore ? "yes" : "no", si->has_notify ? "yes" : "no");
}

/* RFC 3501 section 6.2.1: what a server offered before STARTTLS may have
 * been forged; imap_login() asks again. */
static void
forget_capabilities(struct store_imap *si)
{
	struct mailimap_connection_info *ci = si->imap->imap_connection_info;

	if (ci != NULL && ci->imap_capability != NULL) {
		mailimap_capability_data_free(ci->imap_capability);
		ci->imap_capability = NULL;
	}
}

static void
wipe_secret(struct store_imap *si)
{
	if (si->password != NULL) {
		explicit_bzero(si->password, strlen(si->password));
		free(si->password);
		si->password = NULL;
	}
}

/* Logs in with the password or token (asking for a fresh one first if
 * the last was used up). */
static enum store_status
log_in(struct store_imap *si)
{
	struct imap_credentials cred = { .auth = si->auth,
	    .user = si->username, .host = si->host, .port = si->port };
	char *why = NULL, *err = NULL;
	int r, temporary, oauth = si->auth != AUTH_PASSWORD;

	if (si->password == NULL &&
	    si->renew_secret(si->renew_arg, &si->password, &err) < 0) {
		/* Token helpers fail while the network is down: retry. */
		store_set_error(&si->store, "%s", err);
		free(err);
		return STORE_CONN_LOST;
	}
	cred.secret = si->password;
	si->in_login = 1;
	r = imap_login(si->imap, &cred, &why, &temporary);
	si->in_login = 0;
	log_debug("imap %s > login as %s <credentials hidden>", si->host,
	    si->username);
	if (si->renew_secret != NULL)
		wipe_secret(si);
	if (r == MAILIMAP_ERROR_LOGIN) {
		/* Dovecot answers "[UNAVAILABLE] Temporary authentication
		 * failure" while its auth process restarts: worth a retry.
		 * So is a refused token once one was accepted: it expired,
		 * and the next login asks for a fresh one. */
		store_set_error(&si->store, temporary ? "login for user %s "
		    "on %s failed for now: %s%s%s" : "login failed for user "
		    "%s on %s: %s%s%s", si->username, si->host, why,
		    oauth ? "; the access token that imap.password_command "
		    "(or password_file) gives must be current and for " : "",
		    oauth ? si->username : "");
		free(why);
		return temporary || (oauth && si->ever_connected) ?
		    STORE_CONN_LOST : STORE_FATAL;
	}
	if (r != MAILIMAP_NO_ERROR)
		return op_fail(si, r, STORE_FATAL, "log in as %s",
		    si->username);
	return STORE_OK;
}

/* The prefixes of one NAMESPACE part: the first of the personal part is
 * the one mailbox names are made with, all others are left alone. */
static void
add_namespaces(struct store_imap *si, struct mailimap_namespace_item *item,
    int personal)
{
	clistiter *it;

	if (item == NULL || item->ns_data_list == NULL)
		return;
	for (it = clist_begin(item->ns_data_list); it != NULL;
	    it = clist_next(it)) {
		struct mailimap_namespace_info *info = clist_content(it);
		char *prefix = NULL, *err = NULL;

		if (mutf7_decode(info->ns_prefix, &prefix, &err) < 0) {
			log_warnx("ignoring namespace '%s' of %s: %s",
			    info->ns_prefix, si->host, err);
			free(err);
			continue;
		}
		if (personal) {
			namespace_set_personal(&si->ns, prefix,
			    info->ns_delimiter);
			personal = 0;
		} else {
			namespace_add_other(&si->ns, prefix);
		}
		free(prefix);
	}
}

/* Learns how the server names mailboxes: NAMESPACE (RFC 2342), else the
 * hierarchy separator of LIST "" "" with no prefix. */
static enum store_status
read_namespace(struct store_imap *si)
{
	struct mailimap_namespace_data *nsd = NULL;
	clist *list = NULL;
	int r;

	namespace_release(&si->ns);
	namespace_init(&si->ns);
	if (mailimap_has_namespace(si->imap)) {
		r = mailimap_namespace(si->imap, &nsd);
		if (r == MAILIMAP_NO_ERROR) {
			add_namespaces(si, nsd->ns_personal, 1);
			add_namespaces(si, nsd->ns_other, 0);
			add_namespaces(si, nsd->ns_shared, 0);
			mailimap_namespace_data_free(nsd);
		} else if (is_conn_error(r)) {
			return op_fail(si, r, STORE_CONN_LOST, "NAMESPACE");
		}
	} else {
		r = mailimap_list(si->imap, "", "", &list);
		if (r == MAILIMAP_NO_ERROR && list != NULL &&
		    clist_begin(list) != NULL) {
			struct mailimap_mailbox_list *mb =
			    clist_content(clist_begin(list));
			namespace_set_personal(&si->ns, "", mb->mb_delimiter);
		} else if (is_conn_error(r)) {
			return op_fail(si, r, STORE_CONN_LOST, "LIST");
		}
		if (list != NULL)
			mailimap_list_result_free(list);
	}
	log_info("mailbox names on %s: personal prefix '%s', separator "
	    "'%c'%s", si->host, si->ns.prefix, si->ns.sep ? si->ns.sep : ' ',
	    si->ns.sep ? "" : " (none)");
	return STORE_OK;
}

/* Dials, secures, verifies and logs in; see imap_connect(). */
static enum store_status
open_session(struct store_imap *si)
{
	struct store *s = &si->store;
	struct mailimap_capability_data *caps = NULL;
	enum store_status st;
	mailstream *stream;
	char *err = NULL;
	int r;

	si->imap = mailimap_new(0, NULL);
	if (si->imap == NULL)
		abort();
	if (log_get_level() >= LOG_LEVEL_DEBUG)
		mailimap_set_logger(si->imap, wire_logger, si);

	if (si->test_fd >= 0) {
		si->stream = imap_stream_from_fd(si->test_fd, si->timeout,
		    si->cancel_fd);
		si->test_fd = -1;
	} else {
		si->stream = imap_stream_connect(si->host, si->port,
		    si->timeout, si->cancel_fd, &err);
		if (si->stream == NULL) {
			store_set_error(s, "%s", err);
			free(err);
			return STORE_CONN_LOST;
		}
	}
	stream = imap_stream_mailstream(si->stream);
	if (si->tls == TLS_IMPLICIT && imap_stream_start_tls(si->stream,
	    tls_host_is_ip(si->host) ? NULL : si->host) < 0) {
		store_set_error(s, "TLS handshake with %s:%d failed: %s%s",
		    si->host, si->port, imap_stream_error(si->stream),
		    imap_stream_nonsense(si->stream) ? "; check imap.port and "
		    "imap.tls (implicit TLS is usually port 993)" : " (a busy "
		    "server refuses new connections like this for a while)");
		/* A server that does not speak TLS there is a setting to
		 * fix, unless the settings have worked before; a handshake
		 * cut short is the network's doing (or the stop signal):
		 * retry. */
		st = si->ever_connected || !imap_stream_nonsense(si->stream) ?
		    STORE_CONN_LOST : STORE_FATAL;
		mailstream_close(stream);
		si->stream = NULL;
		return st;
	}
	r = mailimap_connect(si->imap, stream);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		store_set_error(s, "no greeting from %s:%d: %s", si->host,
		    si->port, r == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION
		    ? "the server does not accept connections"
		    : *imap_stream_error(si->stream) != '\0'
		    ? imap_stream_error(si->stream) : "not an IMAP greeting");
		return STORE_CONN_LOST;
	}

	if (si->tls == TLS_STARTTLS) {
		r = mailimap_starttls(si->imap);
		if (r != MAILIMAP_NO_ERROR) {
			/* Never fall back to plain text. */
			if (is_conn_error(r))
				return op_fail(si, r, si->ever_connected ?
				    STORE_CONN_LOST : STORE_FATAL, "STARTTLS");
			store_set_error(s, "STARTTLS failed on %s: %s; the "
			    "server may not offer it (try imap.tls "
			    "\"implicit\" on port 993)", si->host,
			    server_text(si));
			return STORE_FATAL;
		}
		/* Bytes after the OK would be read as if they had come over
		 * TLS (CVE-2020-15953): refuse them. */
		if (si->imap->imap_stream->read_buffer_len > 0) {
			store_set_error(s, "%s sent data right after agreeing "
			    "to STARTTLS; refusing the session", si->host);
			return STORE_FATAL;
		}
		if (imap_stream_start_tls(si->stream, tls_host_is_ip(si->host)
		    ? NULL : si->host) < 0) {
			store_set_error(s, "TLS handshake after STARTTLS with "
			    "%s:%d failed: %s", si->host, si->port,
			    imap_stream_error(si->stream));
			return si->ever_connected ||
			    !imap_stream_nonsense(si->stream) ?
			    STORE_CONN_LOST : STORE_FATAL;
		}
		forget_capabilities(si);
	}
	if (si->tls != TLS_NONE && (st = verify_peer(si)) != STORE_OK)
		return st;

	if ((st = log_in(si)) != STORE_OK)
		return st;
	/* The capabilities change after login; ask rather than trust the
	 * pre-login list if the server did not send them with its OK. */
	r = imap_safe_capability(si->imap, &caps);
	if (r != MAILIMAP_NO_ERROR)
		return op_fail(si, r, STORE_CONN_LOST, "CAPABILITY");
	mailimap_capability_data_free(caps);
	read_capabilities(si);
	if ((st = read_namespace(si)) != STORE_OK)
		return st;
	si->ever_connected = 1;
	log_info("connected to %s:%d as %s (%s)", si->host, si->port,
	    si->username, si->tls == TLS_IMPLICIT ? "implicit TLS"
	    : si->tls == TLS_STARTTLS ? "STARTTLS" : "no TLS");
	return STORE_OK;
}

static enum store_status
imap_connect(struct store *s)
{
	struct store_imap *si = (struct store_imap *)s;
	enum store_status st;

	if (si->imap != NULL)
		return STORE_OK;
	/* A half-open session (say, refused after STARTTLS) must not make
	 * the next connect() a no-op. */
	if ((st = open_session(si)) != STORE_OK)
		drop(si);
	return st;
}

/* ------------------------------------------------------------ mailbox */

/* UIDNEXT of the selected mailbox from STATUS, for servers whose SELECT
 * does not say (Courier): without it every waiter would think new mail is
 * always there.  STATUS of the selected mailbox is allowed (RFC 3501
 * 6.3.10 advises against it only as a way to look for news).  A refusal
 * leaves si->uidnext 0, which callers take as "unknown". */
static enum store_status
status_uidnext(struct store_imap *si, const char *box, const char *wire)
{
	struct mailimap_status_att_list *atts;
	struct mailimap_mailbox_data_status *status = NULL;
	clistiter *it;
	int r;

	atts = mailimap_status_att_list_new_empty();
	mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UIDNEXT);
	r = mailimap_status(si->imap, wire, atts, &status);
	mailimap_status_att_list_free(atts);
	if (r != MAILIMAP_NO_ERROR) {
		if (is_conn_error(r))
			return op_fail(si, r, STORE_CONN_LOST, "STATUS '%s'",
			    box);
		log_warnx("server %s sends no UIDNEXT for '%s' and refuses "
		    "STATUS: %s", si->host, box, server_text(si));
		return STORE_OK;
	}
	for (it = status->st_info_list ? clist_begin(status->st_info_list) :
	    NULL; it != NULL; it = clist_next(it)) {
		struct mailimap_status_info *info = clist_content(it);

		if (info->st_att == MAILIMAP_STATUS_ATT_UIDNEXT)
			si->uidnext = info->st_value;
	}
	mailimap_mailbox_data_status_free(status);
	return STORE_OK;
}

/* SELECT, or EXAMINE when readonly. */
static enum store_status
open_box(struct store_imap *si, const char *box, int readonly,
    uint32_t *uidvalidity_r, uint32_t *uidnext_r)
{
	enum store_status st;
	char *wire;
	int r;

	if ((st = not_ready(si, 0)) != STORE_OK)
		return st;
	if ((wire = wire_name(si, box)) == NULL)
		return STORE_BOX_BAD;
	free(si->selected);
	si->selected = NULL;
	si->modseq = 0;
	if (si->has_condstore)
		r = readonly ? mailimap_examine_condstore(si->imap, wire,
		    &si->modseq) : mailimap_select_condstore(si->imap, wire,
		    &si->modseq);
	else
		r = readonly ? mailimap_examine(si->imap, wire) :
		    mailimap_select(si->imap, wire);
	if (r != MAILIMAP_NO_ERROR) {
		free(wire);
		return op_fail(si, r, STORE_BOX_BAD, "%s '%s'", readonly ?
		    "examine" : "select", box);
	}
	si->uidnext = si->imap->imap_selection_info->sel_uidnext;
	st = si->uidnext == 0 ? status_uidnext(si, box, wire) : STORE_OK;
	free(wire);
	if (st != STORE_OK)
		return st;
	si->selected = xstrdup(box);
	*uidvalidity_r = si->imap->imap_selection_info->sel_uidvalidity;
	*uidnext_r = si->uidnext;
	si->exists_seen = si->imap->imap_selection_info->sel_exists;
	si->exists = si->exists_seen;
	/* Mail that arrived while another mailbox was selected is in this
	 * SELECT's counts, so no IDLE will announce it: wait() must. */
	si->pending = si->listed_box != NULL &&
	    strcmp(si->listed_box, box) == 0 && *uidnext_r > si->listed_next;
	return STORE_OK;
}

static enum store_status
imap_select(struct store *s, const char *box, uint32_t *uidvalidity_r,
    uint32_t *uidnext_r)
{
	return open_box((struct store_imap *)s, box, 0, uidvalidity_r,
	    uidnext_r);
}

static enum store_status
imap_examine(struct store *s, const char *box, uint32_t *uidvalidity_r,
    uint32_t *uidnext_r)
{
	return open_box((struct store_imap *)s, box, 1, uidvalidity_r,
	    uidnext_r);
}

static enum store_status
imap_box_info(struct store *s, struct store_box_info *info_r)
{
	struct store_imap *si = (struct store_imap *)s;
	enum store_status st;

	memset(info_r, 0, sizeof(*info_r));
	if ((st = not_ready(si, 1)) != STORE_OK)
		return st;
	info_r->exists = si->exists;
	info_r->modseq = si->modseq;
	return STORE_OK;
}

static enum store_status
imap_list_uids(struct store *s, uint32_t min_uid, uint32_t **uids_r,
    size_t *n_r)
{
	struct store_imap *si = (struct store_imap *)s;
	struct mailimap_search_key *key;
	enum store_status st;
	clist *result = NULL;
	int r;

	*uids_r = NULL;
	*n_r = 0;
	if ((st = not_ready(si, 1)) != STORE_OK)
		return st;
	if (min_uid == 0)
		min_uid = 1;
	/* Taken before the command: an EXISTS arriving with its response is
	 * covered by this very search. */
	si->exists_seen = si->imap->imap_selection_info->sel_exists;
	key = mailimap_search_key_new_uid(mailimap_set_new_interval(min_uid,
	    0));
	r = mailimap_uid_search(si->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return op_fail(si, r, STORE_BOX_BAD, "search '%s'",
		    si->selected);
	/* "UID SEARCH UID n:*" matches the last message even below n. */
	search_uids(result, min_uid, uids_r, n_r);
	mailimap_search_result_free(result);
	free(si->listed_box);
	si->listed_box = xstrdup(si->selected);
	si->listed_next = si->uidnext;
	if (si->listed_next < min_uid)
		si->listed_next = min_uid;
	if (*n_r > 0 && si->listed_next <= (*uids_r)[*n_r - 1])
		si->listed_next = (*uids_r)[*n_r - 1] + 1;
	si->pending = 0;
	return STORE_OK;
}

static enum store_status
imap_search(struct store *s, const struct store_query *q, uint32_t **uids_r,
    size_t *n_r)
{
	struct store_imap *si = (struct store_imap *)s;
	struct mailimap_search_key *key;
	enum store_status st;
	uint32_t min_uid = q->min_uid > 0 ? q->min_uid : 1;
	clist *result = NULL;
	struct tm tm;
	int r;

	*uids_r = NULL;
	*n_r = 0;
	if ((st = not_ready(si, 1)) != STORE_OK)
		return st;
	if (q->max_uid > 0 && q->max_uid < min_uid)
		return STORE_OK;
	key = mailimap_search_key_new_multiple_empty();
	mailimap_search_key_multiple_add(key, mailimap_search_key_new_uid(
	    mailimap_set_new_interval(min_uid, q->max_uid)));
	if (q->unseen)
		mailimap_search_key_multiple_add(key, mailimap_search_key_new(
		    MAILIMAP_SEARCH_KEY_UNSEEN, NULL, NULL, NULL, NULL, NULL,
		    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
		    NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL));
	if (q->since > 0) {
		/* SEARCH SINCE takes a date; the server's day boundaries
		 * are unknown, local ones are the best guess. */
		localtime_r(&q->since, &tm);
		mailimap_search_key_multiple_add(key,
		    mailimap_search_key_new_since(mailimap_date_new(tm.tm_mday,
		    tm.tm_mon + 1, tm.tm_year + 1900)));
	}
	r = mailimap_uid_search(si->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return op_fail(si, r, STORE_BOX_BAD, "search '%s'",
		    si->selected);
	/* "UID n:*" matches the last message even below n. */
	search_uids(result, min_uid, uids_r, n_r);
	mailimap_search_result_free(result);
	return STORE_OK;
}

/* What one FETCH response says of a message: *m_r (uid, flags, and the
 * body copied out when there is one, *have_body_r), *size_r its
 * RFC822.SIZE (0 if not given). */
static void
msg_from_att(const struct mailimap_msg_att *att, struct store_msg *m_r,
    uint32_t *size_r, int *have_body_r)
{
	const char *data = NULL;
	size_t len = 0;

	memset(m_r, 0, sizeof(*m_r));
	*size_r = 0;
	*have_body_r = 0;
	for (clistiter *j = clist_begin(att->att_list); j != NULL;
	    j = clist_next(j)) {
		struct mailimap_msg_att_item *item = clist_content(j);
		struct mailimap_msg_att_static *sa;

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			collect_flags(item->att_data.att_dyn, &m_r->flags,
			    &m_r->nflags);
			continue;
		}
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		sa = item->att_data.att_static;
		if (sa->att_type == MAILIMAP_MSG_ATT_UID) {
			m_r->uid = sa->att_data.att_uid;
		} else if (sa->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE) {
			*size_r = sa->att_data.att_rfc822_size;
		} else if (sa->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
		    sa->att_data.att_body_section != NULL) {
			data = sa->att_data.att_body_section->sec_body_part;
			len = sa->att_data.att_body_section->sec_length;
			*have_body_r = 1;
		}
	}
	if (!*have_body_r)
		return;
	m_r->data = xmalloc(len + 1);
	if (len > 0)
		memcpy(m_r->data, data, len);
	m_r->data[len] = '\0';
	m_r->len = len;
}

/* UID FETCH of ft (freed here) for uids[0..n-1], the answer's literals at
 * most literal_max bytes and all of it at most budget (0, 0: the stream's
 * defaults); what says what was fetched, for the error. */
static enum store_status
uid_fetch(struct store_imap *si, const uint32_t *uids, size_t n,
    struct mailimap_fetch_type *ft, size_t literal_max, size_t budget,
    const char *what, clist **result_r)
{
	struct mailimap_set *set = uid_set(uids, n);
	enum store_status st;
	char *which;
	int r;

	*result_r = NULL;
	imap_stream_set_limits(si->stream, literal_max, budget);
	r = mailimap_uid_fetch(si->imap, set, ft, result_r);
	if (si->stream != NULL)
		imap_stream_set_limits(si->stream, 0, 0);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r == MAILIMAP_NO_ERROR)
		return STORE_OK;
	which = uids_text(uids, n);
	st = op_fail(si, r, STORE_BOX_BAD, "fetch %s%s in '%s'", what, which,
	    si->selected);
	free(which);
	return st;
}

/* UID FETCH of the bodies (at most max_bytes each, without \Seen) and
 * flags of uids[0..n-1], answering in at most budget bytes: msgs_r[i] for
 * each uid the server sent (data NULL for the others). */
static enum store_status
fetch_bodies(struct store_imap *si, const uint32_t *uids, size_t n,
    size_t max_bytes, size_t budget, struct store_msg *msgs_r,
    int *truncated_r)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_fetch_att *body;
	enum store_status st;
	clist *result = NULL;

	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_flags());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_rfc822_size());
	/* BODY.PEEK: reading must not mark the message \Seen.  With a limit,
	 * one round trip: the size tells whether the partial was all. */
	if (max_bytes > 0 && max_bytes < UINT32_MAX)
		body = mailimap_fetch_att_new_body_peek_section_partial(
		    mailimap_section_new(NULL), 0, (uint32_t)max_bytes);
	else
		body = mailimap_fetch_att_new_body_peek_section(
		    mailimap_section_new(NULL));
	mailimap_fetch_type_new_fetch_att_list_add(ft, body);
	/* A server sending more than the partial asked for fails the
	 * command instead of filling memory. */
	if ((st = uid_fetch(si, uids, n, ft, max_bytes > 0 ? max_bytes :
	    FETCH_UNLIMITED, budget, "", &result)) != STORE_OK)
		return st;
	/* Unsolicited FETCHes (flag changes of others) may come along. */
	for (clistiter *it = clist_begin(result); it != NULL;
	    it = clist_next(it)) {
		struct store_msg m;
		uint32_t size;
		int have_body;
		size_t k;

		msg_from_att(clist_content(it), &m, &size, &have_body);
		k = uid_index(uids, n, m.uid);
		if (!have_body || k == n || msgs_r[k].data != NULL) {
			store_msg_release(&m);
			continue;
		}
		msgs_r[k] = m;
		truncated_r[k] = max_bytes > 0 && size > m.len;
	}
	mailimap_fetch_list_free(result);
	return STORE_OK;
}

static enum store_status
imap_fetch(struct store *s, uint32_t uid, size_t max_bytes,
    struct store_msg *msg_r, int *truncated_r)
{
	struct store_imap *si = (struct store_imap *)s;
	size_t limit = max_bytes > 0 ? max_bytes : FETCH_UNLIMITED;
	enum store_status st;

	memset(msg_r, 0, sizeof(*msg_r));
	*truncated_r = 0;
	if ((st = not_ready(si, 1)) != STORE_OK)
		return st;
	st = fetch_bodies(si, &uid, 1, max_bytes, limit + FETCH_SLACK, msg_r,
	    truncated_r);
	if (st == STORE_OK && msg_r->data == NULL) {
		store_set_error(s, "uid %u is no longer in '%s'", uid,
		    si->selected);
		return STORE_MSG_GONE;
	}
	return st;
}

/* RFC822.SIZE of each of uids[0..n-1] into sizes_r (0: gone). */
static enum store_status
fetch_sizes(struct store_imap *si, const uint32_t *uids, size_t n,
    uint32_t *sizes_r)
{
	struct mailimap_fetch_type *ft;
	enum store_status st;
	clist *result = NULL;

	memset(sizes_r, 0, n * sizeof(*sizes_r));
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_rfc822_size());
	if ((st = uid_fetch(si, uids, n, ft, 0, 0, "the sizes of ",
	    &result)) != STORE_OK)
		return st;
	for (clistiter *it = clist_begin(result); it != NULL;
	    it = clist_next(it)) {
		struct store_msg m;
		uint32_t size;
		int have_body;
		size_t k;

		msg_from_att(clist_content(it), &m, &size, &have_body);
		if ((k = uid_index(uids, n, m.uid)) < n)
			sizes_r[k] = size;
		store_msg_release(&m);
	}
	mailimap_fetch_list_free(result);
	return STORE_OK;
}

/* Answer bytes per message besides its body: UID, FLAGS, RFC822.SIZE and
 * the literal's announcement. */
#define FETCH_OVERHEAD	512

static enum store_status
imap_fetch_some(struct store *s, const uint32_t *uids, size_t n,
    size_t max_bytes, size_t budget, struct store_msg *msgs_r,
    int *truncated_r, size_t *done_r)
{
	struct store_imap *si = (struct store_imap *)s;
	size_t cap = max_bytes > 0 ? max_bytes : FETCH_UNLIMITED, k = n;
	size_t want = 0;
	uint32_t *sizes = NULL;
	enum store_status st;

	memset(msgs_r, 0, n * sizeof(*msgs_r));
	memset(truncated_r, 0, n * sizeof(*truncated_r));
	*done_r = 0;
	if ((st = not_ready(si, 1)) != STORE_OK || n == 0)
		return st;
	if (n > 1 && n > budget / cap) {
		/* Not all of them at their largest: ask their sizes first,
		 * and take as many as fit. */
		sizes = xcalloc(n, sizeof(*sizes));
		if ((st = fetch_sizes(si, uids, n, sizes)) != STORE_OK)
			goto out;
		for (k = 0; k < n; k++) {
			size_t one = sizes[k] < cap ? sizes[k] : cap;

			if (k > 0 && want + one > budget)
				break;
			want += one;
		}
	} else {
		want = k * cap;
	}
	st = fetch_bodies(si, uids, k, max_bytes, want + k * FETCH_OVERHEAD +
	    FETCH_SLACK, msgs_r, truncated_r);
	if (st == STORE_OK)
		*done_r = k;
out:
	free(sizes);
	return st;
}

static enum store_status
imap_list_flags(struct store *s, uint32_t min_uid, uint64_t changed_since,
    struct store_flags **flags_r, size_t *n_r)
{
	struct store_imap *si = (struct store_imap *)s;
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	struct store_flags *out = NULL;
	enum store_status st;
	clist *result = NULL;
	clistiter *it;
	size_t n = 0;
	int r;

	*flags_r = NULL;
	*n_r = 0;
	if ((st = not_ready(si, 1)) != STORE_OK)
		return st;
	if (min_uid == 0)
		min_uid = 1;
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_flags());
	set = mailimap_set_new_interval(min_uid, 0);
	if (changed_since > 0)
		r = mailimap_uid_fetch_changedsince(si->imap, set, ft,
		    changed_since, &result);
	else
		r = mailimap_uid_fetch(si->imap, set, ft, &result);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR)
		return op_fail(si, r, STORE_BOX_BAD, "fetch flags in '%s'",
		    si->selected);
	for (it = clist_begin(result); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att *att = clist_content(it);
		struct store_flags f = { 0 };

		for (clistiter *j = clist_begin(att->att_list); j != NULL;
		    j = clist_next(j)) {
			struct mailimap_msg_att_item *item = clist_content(j);

			if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC)
				collect_flags(item->att_data.att_dyn, &f.flags,
				    &f.nflags);
			else if (item->att_type ==
			    MAILIMAP_MSG_ATT_ITEM_STATIC &&
			    item->att_data.att_static->att_type ==
			    MAILIMAP_MSG_ATT_UID)
				f.uid = item->att_data.att_static->
				    att_data.att_uid;
		}
		/* Drops the n:* quirk's extra message and FETCHes without
		 * a UID. */
		if (f.uid < min_uid) {
			for (size_t k = 0; k < f.nflags; k++)
				free(f.flags[k]);
			free(f.flags);
			continue;
		}
		out = xreallocarray(out, n + 1, sizeof(*out));
		out[n++] = f;
	}
	mailimap_fetch_list_free(result);
	*flags_r = out;
	*n_r = n;
	return STORE_OK;
}

static enum store_status
store_flag_list(struct store_imap *si, const uint32_t *uids, size_t n,
    const char *const *names, int add)
{
	struct mailimap_flag_list *fl;
	struct mailimap_store_att_flags *sf;
	struct mailimap_set *set;
	enum store_status st;
	char *which;
	int r;

	if (names == NULL || names[0] == NULL)
		return STORE_OK;
	fl = mailimap_flag_list_new_empty();
	for (size_t i = 0; names[i] != NULL; i++)
		mailimap_flag_list_add(fl, flag_from_name(names[i]));
	sf = add ? mailimap_store_att_flags_new_add_flags_silent(fl)
	    : mailimap_store_att_flags_new_remove_flags_silent(fl);
	set = uid_set(uids, n);
	r = mailimap_uid_store(si->imap, set, sf);
	mailimap_set_free(set);
	mailimap_store_att_flags_free(sf);
	if (r == MAILIMAP_NO_ERROR)
		return STORE_OK;
	which = uids_text(uids, n);
	st = op_fail(si, r, STORE_BOX_BAD, "%s flags %s %s in '%s'", add ?
	    "add" : "remove", add ? "to" : "from", which, si->selected);
	free(which);
	return st;
}

static enum store_status
imap_set_flags_some(struct store *s, const uint32_t *uids, size_t n,
    const char *const *add, const char *const *del)
{
	struct store_imap *si = (struct store_imap *)s;
	enum store_status st;

	if ((st = not_ready(si, 1)) != STORE_OK || n == 0)
		return st;
	if ((st = store_flag_list(si, uids, n, add, 1)) != STORE_OK)
		return st;
	return store_flag_list(si, uids, n, del, 0);
}

static enum store_status
imap_set_flags(struct store *s, uint32_t uid, const char *const *add,
    const char *const *del)
{
	return imap_set_flags_some(s, &uid, 1, add, del);
}

/* CREATE + SUBSCRIBE box after a COPY or MOVE into it failed.  Returns
 * STORE_OK if it now exists (created here), else the status to report
 * (the original failure text is kept for a command-level refusal). */
static enum store_status
create_target(struct store_imap *si, const char *box, const char *wire,
    const char *failure)
{
	int r;

	r = mailimap_create(si->imap, wire);
	if (r != MAILIMAP_NO_ERROR) {
		if (is_conn_error(r))
			return op_fail(si, r, STORE_BOX_BAD, "create '%s'",
			    box);
		store_set_error(&si->store, "cannot store into '%s' on %s: "
		    "%s (and CREATE said: %s)", box, si->host, failure,
		    server_text(si));
		return STORE_BOX_BAD;
	}
	log_notice("created mailbox '%s'", box);
	r = mailimap_subscribe(si->imap, wire);
	if (r != MAILIMAP_NO_ERROR) {
		if (is_conn_error(r))
			return op_fail(si, r, STORE_BOX_BAD, "subscribe '%s'",
			    box);
		log_warnx("cannot subscribe to '%s': %s", box,
		    server_text(si));
	}
	return STORE_OK;
}

/* The UIDs of set in its order, at most max of them, into out. */
static size_t
set_expand(const struct mailimap_set *set, uint32_t *out, size_t max)
{
	size_t n = 0;

	if (set == NULL || set->set_list == NULL)
		return 0;
	for (clistiter *it = clist_begin(set->set_list); it != NULL;
	    it = clist_next(it)) {
		const struct mailimap_set_item *item = clist_content(it);

		for (uint32_t u = item->set_first; n < max; u++) {
			out[n++] = u;
			if (u >= item->set_last || u == UINT32_MAX)
				break;
		}
	}
	return n;
}

/* UID COPY or UID MOVE of uids[0..n-1] to box, creating box once if the
 * server refuses; COPYUID gives each one's new uid (0: not said). */
static enum store_status
copy_or_move(struct store_imap *si, const uint32_t *uids, size_t n,
    const char *box, int move, uint32_t *new_uids_r)
{
	const char *verb = move ? "move" : "copy";
	struct mailimap_set *set, *src = NULL, *dst = NULL;
	enum store_status st = STORE_OK;
	uint32_t uidvalidity = 0, *from, *to;
	char *wire, *failure, *which;
	size_t nfrom, nto;
	int r;

	memset(new_uids_r, 0, n * sizeof(*new_uids_r));
	if ((wire = wire_name(si, box)) == NULL)
		return STORE_BOX_BAD;
	set = uid_set(uids, n);
	for (int attempt = 0;; attempt++) {
		if (move)
			r = mailimap_uidplus_uid_move(si->imap, set, wire,
			    &uidvalidity, &src, &dst);
		else
			r = mailimap_uidplus_uid_copy(si->imap, set, wire,
			    &uidvalidity, &src, &dst);
		if (r == MAILIMAP_NO_ERROR)
			break;
		if (is_conn_error(r) || attempt > 0) {
			which = uids_text(uids, n);
			st = op_fail(si, r, STORE_BOX_BAD, "%s %s to '%s'",
			    verb, which, box);
			free(which);
			goto out;
		}
		/* [TRYCREATE], or a server that only says NO. */
		failure = xstrdup(server_text(si));
		st = create_target(si, box, wire, failure);
		free(failure);
		if (st != STORE_OK)
			goto out;
	}
	/* COPYUID pairs the source and destination sets in order. */
	from = xcalloc(n, sizeof(*from));
	to = xcalloc(n, sizeof(*to));
	nfrom = set_expand(src, from, n);
	nto = set_expand(dst, to, n);
	for (size_t i = 0; i < nfrom && i < nto; i++) {
		size_t k = uid_index(uids, n, from[i]);

		if (k < n)
			new_uids_r[k] = to[i];
	}
	free(from);
	free(to);
	if (n == 1 && nto == 0 && si->has_uidplus) {
		/* A UIDPLUS server answers COPYUID whenever it copied:
		 * "OK No messages found" means the uid is gone. */
		store_set_error(&si->store, "uid %u is no longer in '%s'",
		    uids[0], si->selected);
		st = STORE_MSG_GONE;
	}
out:
	if (src != NULL)
		mailimap_set_free(src);
	if (dst != NULL)
		mailimap_set_free(dst);
	mailimap_set_free(set);
	free(wire);
	return st;
}

static enum store_status
imap_copy(struct store *s, uint32_t uid, const char *box,
    uint32_t *new_uid_r)
{
	struct store_imap *si = (struct store_imap *)s;
	enum store_status st;

	*new_uid_r = 0;
	if ((st = not_ready(si, 1)) != STORE_OK)
		return st;
	return copy_or_move(si, &uid, 1, box, 0, new_uid_r);
}

static enum store_status
imap_move_some(struct store *s, const uint32_t *uids, size_t n,
    const char *box, uint32_t *new_uids_r, int *left_behind_r)
{
	struct store_imap *si = (struct store_imap *)s;
	static const char *const deleted[] = { "\\Deleted", NULL };
	struct mailimap_set *set;
	enum store_status st;
	char *which;
	int r;

	memset(new_uids_r, 0, n * sizeof(*new_uids_r));
	*left_behind_r = 0;
	if ((st = not_ready(si, 1)) != STORE_OK || n == 0)
		return st;
	if (si->has_move)
		return copy_or_move(si, uids, n, box, 1, new_uids_r);

	if ((st = copy_or_move(si, uids, n, box, 0, new_uids_r)) != STORE_OK)
		return st;
	which = uids_text(uids, n);
	if ((st = store_flag_list(si, uids, n, deleted, 1)) != STORE_OK) {
		store_set_error(s, "copied %s to '%s' but cannot mark the "
		    "original deleted: %s", which, box, store_last_error(s));
		goto out;
	}
	if (!si->has_uidplus) {
		/* A plain EXPUNGE would also remove every message other
		 * clients marked \Deleted: leave ours to the user. */
		log_notice("server %s lacks UIDPLUS: %s left in '%s' marked "
		    "\\Deleted", si->host, which, si->selected);
		*left_behind_r = 1;
		goto out;
	}
	set = uid_set(uids, n);
	r = mailimap_uid_expunge(si->imap, set);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		st = op_fail(si, r, STORE_BOX_BAD, "expunge %s", which);
		if (st != STORE_CONN_LOST)
			*left_behind_r = 1;
	}
out:
	free(which);
	return st;
}

static enum store_status
imap_move(struct store *s, uint32_t uid, const char *box,
    uint32_t *new_uid_r, int *left_behind_r)
{
	return imap_move_some(s, &uid, 1, box, new_uid_r, left_behind_r);
}

static enum store_status
imap_find_message_id(struct store *s, const char *message_id,
    uint32_t **uids_r, size_t *n_r)
{
	struct store_imap *si = (struct store_imap *)s;
	struct mailimap_search_key *key;
	enum store_status st;
	clist *result = NULL;
	const char *charset = NULL;
	int r;

	*uids_r = NULL;
	*n_r = 0;
	if ((st = not_ready(si, 1)) != STORE_OK)
		return st;
	for (const char *p = message_id; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			charset = "UTF-8";
	key = mailimap_search_key_new_header(xstrdup("Message-ID"),
	    xstrdup(message_id));
	r = mailimap_uid_search(si->imap, charset, key, &result);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return op_fail(si, r, STORE_BOX_BAD, "search '%s' for "
		    "Message-ID", si->selected);
	search_uids(result, 1, uids_r, n_r);
	mailimap_search_result_free(result);
	return STORE_OK;
}

/* 1 if LIST says the mailbox cannot be selected. */
static int
unselectable(const struct mailimap_mailbox_list *mb)
{
	clistiter *f;

	if (mb->mb_flag == NULL)
		return 0;
	if (mb->mb_flag->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
	    mb->mb_flag->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT)
		return 1;
	if (mb->mb_flag->mbf_oflags == NULL)
		return 0;
	for (f = clist_begin(mb->mb_flag->mbf_oflags); f != NULL;
	    f = clist_next(f)) {
		struct mailimap_mbx_list_oflag *of = clist_content(f);

		if (of->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT &&
		    of->of_flag_ext != NULL &&
		    strcasecmp(of->of_flag_ext, "NonExistent") == 0)
			return 1;
	}
	return 0;
}

/* LIST "" "*".  Dovecot (and RFC 6154 servers generally) put
 * special-use attributes on a plain LIST; libetpan cannot send RETURN. */
static enum store_status
list_all(struct store_imap *si, clist **list_r)
{
	enum store_status st;
	int r;

	*list_r = NULL;
	if ((st = not_ready(si, 0)) != STORE_OK)
		return st;
	r = mailimap_list(si->imap, "", "*", list_r);
	if (r != MAILIMAP_NO_ERROR)
		return op_fail(si, r, STORE_BOX_BAD, "list mailboxes");
	return STORE_OK;
}

static enum store_status
imap_list_boxes(struct store *s, char ***names_r, size_t *n_r)
{
	struct store_imap *si = (struct store_imap *)s;
	enum store_status st;
	clist *list;
	clistiter *it;
	char **v = NULL;
	size_t n = 0;

	*names_r = NULL;
	*n_r = 0;
	if ((st = list_all(si, &list)) != STORE_OK)
		return st;
	for (it = clist_begin(list); it != NULL; it = clist_next(it)) {
		struct mailimap_mailbox_list *mb = clist_content(it);
		char *name;

		if (unselectable(mb))
			continue;
		if ((name = owner_name_of(si, mb->mb_name)) == NULL)
			continue;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = name;
	}
	mailimap_list_result_free(list);
	*names_r = v;
	*n_r = n;
	return STORE_OK;
}

static enum store_status
imap_find_special(struct store *s, enum store_special use, char **name_r)
{
	struct store_imap *si = (struct store_imap *)s;
	const char *attr = use == STORE_SPECIAL_JUNK ? "Junk" : "Trash";
	enum store_status st;
	clist *list;
	clistiter *it;

	*name_r = NULL;
	if ((st = list_all(si, &list)) != STORE_OK)
		return st;
	for (it = clist_begin(list); it != NULL && *name_r == NULL;
	    it = clist_next(it)) {
		struct mailimap_mailbox_list *mb = clist_content(it);
		clistiter *f;

		if (mb->mb_flag == NULL || mb->mb_flag->mbf_oflags == NULL)
			continue;
		for (f = clist_begin(mb->mb_flag->mbf_oflags); f != NULL;
		    f = clist_next(f)) {
			struct mailimap_mbx_list_oflag *of = clist_content(f);

			/* Cyrus sends them in lower case (\junk). */
			if (of->of_type != MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT ||
			    of->of_flag_ext == NULL ||
			    strcasecmp(of->of_flag_ext, attr) != 0)
				continue;
			*name_r = owner_name_of(si, mb->mb_name);
			break;
		}
	}
	mailimap_list_result_free(list);
	return STORE_OK;
}

static char *
imap_owner_name(struct store *s, const char *box)
{
	struct store_imap *si = (struct store_imap *)s;
	char *server = namespace_to_server(&si->ns, box);
	char *owner = namespace_to_owner(&si->ns, server);

	free(server);
	return owner;
}

/* ------------------------------------------------------------ wait */

/* Polls the IDLE connection and wake_fd; 1 if the server sent something,
 * 0 on timeout or wake (*woken_r), -1 on a poll error. */
static int
poll_idle(int fd, int wake_fd, int64_t deadline, int *woken_r)
{
	struct pollfd pfd[2];
	nfds_t n = 1;

	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	if (wake_fd >= 0) {
		pfd[1].fd = wake_fd;
		pfd[1].events = POLLIN;
		n = 2;
	}
	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		int r;

		if (deadline >= 0 && left < 0)
			left = 0;
		r = poll(pfd, n, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			if (deadline >= 0 && now_ms() >= deadline)
				return 0;
			continue;
		}
		if (n == 2 && (pfd[1].revents & (POLLIN | POLLHUP))) {
			*woken_r = 1;
			return 0;
		}
		return 1;
	}
}

/* UIDNEXT and MESSAGES of one STATUS response. */
static void
status_values(const struct mailimap_mailbox_data_status *data,
    uint32_t *uidnext_r, uint32_t *messages_r)
{
	clistiter *it;

	for (it = clist_begin(data->st_info_list); it != NULL;
	    it = clist_next(it)) {
		struct mailimap_status_info *info = clist_content(it);

		if (info->st_att == MAILIMAP_STATUS_ATT_UIDNEXT)
			*uidnext_r = info->st_value;
		else if (info->st_att == MAILIMAP_STATUS_ATT_MESSAGES)
			*messages_r = info->st_value;
	}
}

/* STATUS (UIDNEXT MESSAGES) of the notify() mailbox; zeros while it does
 * not exist. */
static enum store_status
notify_status(struct store_imap *si, uint32_t *uidnext_r,
    uint32_t *messages_r)
{
	struct mailimap_status_att_list *atts;
	struct mailimap_mailbox_data_status *data = NULL;
	int r;

	*uidnext_r = 0;
	*messages_r = 0;
	atts = mailimap_status_att_list_new_empty();
	mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UIDNEXT);
	mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_MESSAGES);
	r = mailimap_status(si->imap, si->notify_wire, atts, &data);
	mailimap_status_att_list_free(atts);
	if (r != MAILIMAP_NO_ERROR) {
		if (data != NULL)
			mailimap_mailbox_data_status_free(data);
		return is_conn_error(r) ? op_fail(si, r, STORE_CONN_LOST,
		    "STATUS") : STORE_OK;
	}
	if (data != NULL) {
		status_values(data, uidnext_r, messages_r);
		mailimap_mailbox_data_status_free(data);
	}
	return STORE_OK;
}

/* Before waiting: a change of the notify() mailbox since the last report
 * is reported now.  Its notifications may have come with the responses
 * of other commands, where libetpan keeps them only until the next. */
static enum store_status
notified_before(struct store_imap *si, int *changed_r)
{
	uint32_t uidnext, messages;
	enum store_status st;

	if ((st = notify_status(si, &uidnext, &messages)) != STORE_OK)
		return st;
	if (uidnext != si->notify_uidnext || messages != si->notify_messages) {
		si->notify_uidnext = uidnext;
		si->notify_messages = messages;
		*changed_r |= STORE_WAIT_NOTIFIED;
	}
	return STORE_OK;
}

/* A change of the selected mailbox already known before waiting: mail
 * that arrived while another mailbox was selected (no IDLE will announce
 * it), EXISTS that came with the responses of earlier commands, or data
 * libetpan has buffered.  Reported once: the caller lists now. */
static int
change_known(struct store_imap *si)
{
	if (si->pending) {
		si->pending = 0;
		return 1;
	}
	if (si->imap->imap_selection_info->sel_exists != si->exists_seen ||
	    si->imap->imap_stream->read_buffer_len > 0 ||
	    imap_stream_pending(si->stream)) {
		si->exists_seen = si->imap->imap_selection_info->sel_exists;
		return 1;
	}
	return 0;
}

/* Enters IDLE.  *entered_r = 0 if the server refused it: from now on it
 * is polled, and *changed_r says to look now. */
static enum store_status
idle_enter(struct store_imap *si, int *entered_r, int *changed_r)
{
	int r;

	*entered_r = 0;
	si->idle_exists = si->imap->imap_selection_info->sel_exists;
	r = mailimap_idle(si->imap);
	if (r != MAILIMAP_NO_ERROR) {
		if (is_conn_error(r))
			return op_fail(si, r, STORE_CONN_LOST, "IDLE in '%s'",
			    si->selected);
		/* Advertised but refused: poll from now on. */
		log_warnx("server %s refused IDLE (%s): polling every %d s "
		    "instead", si->host, server_text(si), si->poll_interval);
		si->has_idle = 0;
		*changed_r |= STORE_WAIT_SELECTED;
		return STORE_OK;
	}
	*entered_r = 1;
	return STORE_OK;
}

/* Leaves IDLE (DONE) and adds to *changed_r what came during it; woke:
 * the connection had something to say (a keepalive, if no change). */
static enum store_status
idle_leave(struct store_imap *si, int woke, int *changed_r)
{
	struct mailimap_response_info *ri;
	int r;

	r = mailimap_idle_done(si->imap);
	if (r != MAILIMAP_NO_ERROR) {
		/* Whatever went wrong, the session's state is unknown. */
		op_fail(si, r, STORE_CONN_LOST, "IDLE in '%s'", si->selected);
		drop(si);
		return STORE_CONN_LOST;
	}
	ri = si->imap->imap_response_info;
	if (si->imap->imap_selection_info->sel_exists != si->idle_exists ||
	    (ri != NULL && ri->rsp_expunged != NULL &&
	    clist_count(ri->rsp_expunged) > 0) ||
	    (ri != NULL && ri->rsp_fetch_list != NULL &&
	    clist_count(ri->rsp_fetch_list) > 0))
		*changed_r |= STORE_WAIT_SELECTED;
	/* NOTIFY: "* STATUS box (...)" for the notify() mailbox. */
	if (si->notify_wire != NULL && ri != NULL && ri->rsp_status != NULL &&
	    strcmp(ri->rsp_status->st_mailbox, si->notify_wire) == 0) {
		status_values(ri->rsp_status, &si->notify_uidnext,
		    &si->notify_messages);
		*changed_r |= STORE_WAIT_NOTIFIED;
	}
	if (woke && *changed_r == 0)
		log_debug("imap %s: IDLE woke without a change (keepalive)",
		    si->host);
	return STORE_OK;
}

/* One IDLE ... DONE round of at most until deadline.  *changed_r is set
 * if a mailbox changed; a mere keepalive leaves it 0. */
static enum store_status
idle_once(struct store_imap *si, int wake_fd, int64_t deadline,
    int *changed_r, int *woken_r)
{
	enum store_status st;
	int entered, got;

	if ((st = idle_enter(si, &entered, changed_r)) != STORE_OK ||
	    !entered)
		return st;
	/* libetpan may already have read an untagged response that came
	 * right behind "+ idling": poll() would never see it. */
	if (si->imap->imap_stream->read_buffer_len > 0 ||
	    imap_stream_pending(si->stream)) {
		got = 1;
	} else {
		got = poll_idle(mailimap_idle_get_fd(si->imap), wake_fd,
		    deadline, woken_r);
		if (got < 0) {
			store_set_error(&si->store, "cannot wait on the "
			    "connection to %s: %s", si->host, strerror(errno));
			drop(si);
			return STORE_CONN_LOST;
		}
	}
	return idle_leave(si, got, changed_r);
}

static enum store_status
imap_wait(struct store *s, int timeout_ms, int wake_fd, int *changed_r)
{
	struct store_imap *si = (struct store_imap *)s;
	int64_t end = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	enum store_status st;
	int woken = 0;

	*changed_r = 0;
	if ((st = not_ready(si, 1)) != STORE_OK)
		return st;

	if (!si->has_idle) {
		int64_t ms = (int64_t)si->poll_interval * 1000;
		struct pollfd pfd = { wake_fd, POLLIN, 0 };
		int r;

		if (timeout_ms >= 0 && timeout_ms < ms)
			ms = timeout_ms;
		do
			r = poll(&pfd, wake_fd >= 0 ? 1 : 0, (int)ms);
		while (r < 0 && errno == EINTR);
		/* Without IDLE nothing tells: the caller lists again. */
		if (r == 0)
			*changed_r = STORE_WAIT_SELECTED;
		return STORE_OK;
	}

	if (si->notify_wire != NULL &&
	    (st = notified_before(si, changed_r)) != STORE_OK)
		return st;
	if (change_known(si))
		*changed_r |= STORE_WAIT_SELECTED;
	while (!*changed_r && !woken) {
		int64_t now = now_ms(), deadline;

		if (end >= 0 && now >= end)
			break;
		/* Re-IDLE before servers drop an idle client (RFC 2177:
		 * at least every 29 minutes). */
		deadline = now + (int64_t)si->idle_restart * 1000;
		if (end >= 0 && end < deadline)
			deadline = end;
		st = idle_once(si, wake_fd, deadline, changed_r, &woken);
		if (st != STORE_OK)
			return st;
	}
	return STORE_OK;
}

static void
imap_set_cancel(struct store *s, int fd)
{
	struct store_imap *si = (struct store_imap *)s;

	si->cancel_fd = fd;
	if (si->stream != NULL)
		imap_stream_set_cancel_fd(si->stream, fd);
}

/* A mailbox name as an IMAP quoted string. */
static char *
quoted(const char *s)
{
	struct buf b = { 0 };

	buf_append(&b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_append(&b, "\\", 1);
		buf_append(&b, s, 1);
	}
	buf_append(&b, "\"", 1);
	return buf_steal(&b);
}

static enum store_status
imap_notify(struct store *s, const char *box, int *on_r)
{
	struct store_imap *si = (struct store_imap *)s;
	enum store_status st;
	char *wire, *q, *cmd;
	int r;

	*on_r = 0;
	if ((st = not_ready(si, 0)) != STORE_OK)
		return st;
	if (!si->has_notify)
		return STORE_OK;
	if ((wire = wire_name(si, box)) == NULL)
		return STORE_BOX_BAD;
	q = quoted(wire);
	/* The selected mailbox as without NOTIFY; box: arrivals and
	 * removals, announced as "* STATUS box (UIDNEXT n MESSAGES m)". */
	cmd = xasprintf("NOTIFY SET (SELECTED (MessageNew MessageExpunge "
	    "FlagChange)) (MAILBOXES %s (MessageNew MessageExpunge))", q);
	r = mailimap_custom_command(si->imap, cmd);
	free(cmd);
	free(q);
	if (r != MAILIMAP_NO_ERROR) {
		free(wire);
		if (is_conn_error(r))
			return op_fail(si, r, STORE_CONN_LOST, "NOTIFY");
		log_warnx("server %s refused NOTIFY (%s)", si->host,
		    server_text(si));
		return STORE_OK;
	}
	free(si->notify_wire);
	si->notify_wire = wire;
	if ((st = notify_status(si, &si->notify_uidnext,
	    &si->notify_messages)) != STORE_OK)
		return st;
	*on_r = 1;
	return STORE_OK;
}

static enum store_status
imap_idle_begin(struct store *s, int *fd_r, int *changed_r)
{
	struct store_imap *si = (struct store_imap *)s;
	enum store_status st;
	int entered;

	*fd_r = -1;
	*changed_r = 0;
	if ((st = not_ready(si, 1)) != STORE_OK || !si->has_idle)
		return st;
	if (change_known(si)) {
		*changed_r = STORE_WAIT_SELECTED;
		return STORE_OK;
	}
	if ((st = idle_enter(si, &entered, changed_r)) != STORE_OK ||
	    !entered)
		return st;
	if (si->imap->imap_stream->read_buffer_len > 0 ||
	    imap_stream_pending(si->stream)) {
		/* Already said (see idle_once): end it here; whatever it
		 * was, the caller looks. */
		st = idle_leave(si, 1, changed_r);
		*changed_r = STORE_WAIT_SELECTED;
		return st;
	}
	si->idling = 1;
	*fd_r = mailimap_idle_get_fd(si->imap);
	return STORE_OK;
}

static enum store_status
imap_idle_end(struct store *s, int *changed_r)
{
	struct store_imap *si = (struct store_imap *)s;
	enum store_status st;

	*changed_r = 0;
	if ((st = not_ready(si, 1)) != STORE_OK || !si->idling)
		return st;
	si->idling = 0;
	st = idle_leave(si, 0, changed_r);
	*changed_r &= STORE_WAIT_SELECTED;
	return st;
}

/* ------------------------------------------------------------ lifetime */

static void
imap_free(struct store *s)
{
	struct store_imap *si = (struct store_imap *)s;

	/* (A LOGOUT inside an IDLE would only earn a BAD.) */
	if (si->imap != NULL && !si->idling) {
		/* Goodbye without blocking shutdown on a slow server. */
		imap_stream_set_timeout(si->stream, si->timeout < 5 ?
		    si->timeout : 5);
		mailimap_logout(si->imap);
	}
	if (si->test_fd >= 0)
		close(si->test_fd);
	drop(si);
	free(si->listed_box);
	namespace_release(&si->ns);
	free(si->host);
	free(si->ca_file);
	free(si->certificate);
	free(si->username);
	wipe_secret(si);
	free(si->store.last_error);
	free(si);
}

static const struct store_ops store_imap_ops = {
	.connect = imap_connect,
	.select = imap_select,
	.examine = imap_examine,
	.box_info = imap_box_info,
	.list_uids = imap_list_uids,
	.search = imap_search,
	.fetch = imap_fetch,
	.list_flags = imap_list_flags,
	.set_flags = imap_set_flags,
	.fetch_some = imap_fetch_some,
	.set_flags_some = imap_set_flags_some,
	.move_some = imap_move_some,
	.copy = imap_copy,
	.move = imap_move,
	.find_message_id = imap_find_message_id,
	.list_boxes = imap_list_boxes,
	.find_special = imap_find_special,
	.owner_name = imap_owner_name,
	.wait = imap_wait,
	.server_info = imap_server_info,
	.set_cancel = imap_set_cancel,
	.notify = imap_notify,
	.idle_begin = imap_idle_begin,
	.idle_end = imap_idle_end,
	.free = imap_free,
};

const char store_imap_module_version[] = MAILSIFT_VERSION;

struct store *
store_imap_new(const struct store_imap_params *params)
{
	struct store_imap *si = xcalloc(1, sizeof(*si));

	si->store.ops = &store_imap_ops;
	si->host = xstrdup(params->host);
	si->port = params->port;
	si->tls = params->tls;
	si->ca_file = params->ca_file ? xstrdup(params->ca_file) : NULL;
	si->username = xstrdup(params->username);
	si->auth = params->auth;
	si->renew_secret = params->renew_secret;
	si->renew_arg = params->renew_arg;
	/* Without a way to renew it, the secret is kept for reconnects. */
	if (params->password != NULL || params->renew_secret == NULL)
		si->password = xstrdup(params->password ? params->password :
		    "");
	si->timeout = params->timeout > 0 ? params->timeout : 60;
	si->poll_interval = params->poll_interval > 0
	    ? params->poll_interval : 60;
	si->idle_restart = params->idle_restart > 0
	    ? params->idle_restart : 5 * 60;
	si->cancel_fd = -1;
	si->test_fd = -1;
	namespace_init(&si->ns);
	return &si->store;
}

struct store *
store_imap_new_on_fd(const struct store_imap_params *params, int fd)
{
	struct store *s = store_imap_new(params);

	((struct store_imap *)s)->test_fd = fd;
	return s;
}
