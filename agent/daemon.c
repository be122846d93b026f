/*
 * daemon.c - the event loop around sort.c (see daemon.h).
 *
 * One connection, one selected folder at a time.  The first watched folder
 * is watched with IDLE; the wait is capped at the poll interval so the
 * other watched folders and Junk (for learning) are looked at regularly.  Signals and edits of the
 * Sieve script wake the wait through one epoll descriptor, which the store
 * polls beside its socket (a self-pipe for signals, inotify for the
 * script's directory); news of Junk (junkwatch.c: NOTIFY, or a second
 * connection whose IDLE descriptor joins that epoll set) makes the look
 * at Junk due at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/command.h"
#include "agent/commands.h"
#include "agent/daemon.h"
#include "agent/filter.h"
#include "agent/junkwatch.h"
#include "agent/learn.h"
#include "agent/log.h"
#include "agent/report.h"
#include "agent/selfpipe.h"
#include "agent/sort.h"
#include "agent/state_dir.h"
#include "agent/xmem.h"
#include "sieve/sieve.h"
#include "state/ledger.h"
#include "state/lock.h"

#define BACKOFF_MAX_SECONDS	300
#define ONCE_MAX_ATTEMPTS	3

struct daemon {
	const struct config *config;
	struct state_lock *lock;	/* one sorter per state_dir */
	struct ledger *ledger;
	struct filter *filter;
	struct sieve_script *script;
	struct stat script_stat;	/* of the script in force */
	struct store *store;
	char *junk;			/* resolved for this connection */
	char *trash;
	char **watch;			/* folders.watch in the owner's form */
	size_t nwatch;
	struct learner learner;		/* refers to the fields above */
	int64_t next_learn_scan;	/* monotonic ms: Junk and keywords due */
	struct junkwatch junkwatch;	/* Junk's news at once, not when due */
	int junk_news;			/* Junk changed: look at it now */
	char *account;
	struct report report;
	int epoll_fd;
	int inotify_fd;
	int once;
	const struct run_options *opts;
	int stop;
	int reload;			/* SIGHUP: read the script again */
	int script_touched;		/* the script's directory entry changed */
	char *script_name;		/* its file name, for inotify events */
	char *target_name;		/* when the script is a link (as
					 * ManageSieve makes it): its target's
					 * file name, whose directory is
					 * watched too */
};

static int
watch_fd(int epoll_fd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

static int
wake_setup(struct daemon *d)
{
	/* SIGHUP reloads the script; the others stop. */
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };

	if (selfpipe_open(signals, 3) < 0 ||
	    (d->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    watch_fd(d->epoll_fd, selfpipe_fd()) < 0) {
		log_warn("cannot set up signal handling");
		return -1;
	}
	command_set_cancel_fd(selfpipe_stop_fd());

	d->inotify_fd = -1;
	if (d->config->sieve != NULL) {
		/* Watch the directory: editors replace files by rename. */
		char *copy = xstrdup(d->config->sieve);
		d->script_name = xstrdup(basename(copy));
		d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (d->inotify_fd < 0 ||
		    inotify_add_watch(d->inotify_fd, dirname(copy),
		    IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
		    IN_ATTRIB) < 0 || watch_fd(d->epoll_fd, d->inotify_fd) < 0)
			log_warn("cannot watch %s for edits; send SIGHUP to "
			    "reload it", d->config->sieve);
		free(copy);
	}
	return 0;
}

static void
wake_teardown(struct daemon *d)
{
	command_set_cancel_fd(-1);
	selfpipe_close();
	if (d->epoll_fd >= 0)
		close(d->epoll_fd);
	if (d->inotify_fd >= 0)
		close(d->inotify_fd);
}

/* Reads what woke us: signals set stop or reload, changes in the script's
 * directory set script_touched. */
static void
wake_drain(struct daemon *d)
{
	char events[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	int signo;

	while ((signo = selfpipe_next()) != 0) {
		if (signo == SIGHUP)
			d->reload = 1;
		else
			d->stop = 1;
	}
	if (d->inotify_fd < 0)
		return;
	while ((n = read(d->inotify_fd, events, sizeof(events))) > 0) {
		for (ssize_t off = 0; off < n; ) {
			const struct inotify_event *ev =
			    (const struct inotify_event *)(events + off);
			if (ev->len > 0 && (strcmp(ev->name,
			    d->script_name) == 0 || (d->target_name != NULL &&
			    strcmp(ev->name, d->target_name) == 0)))
				d->script_touched = 1;
			off += (ssize_t)(sizeof(*ev) + ev->len);
		}
	}
}

static int
stopping(struct daemon *d)
{
	if (*selfpipe_stop_flag())
		d->stop = 1;
	return d->stop;
}

/* Sleeps up to seconds, or until a signal or script edit. */
static void
pause_for(struct daemon *d, int seconds)
{
	struct epoll_event ev;

	if (epoll_wait(d->epoll_fd, &ev, 1, seconds * 1000) > 0)
		wake_drain(d);
}

/* Follows the script through a link: edits of the file it points to
 * (an owner's PUTSCRIPT of the active script) wake the daemon too. */
static void
watch_target(struct daemon *d)
{
	char *target = realpath(d->config->sieve, NULL), *slash;

	free(d->target_name);
	d->target_name = NULL;
	if (target == NULL || d->inotify_fd < 0 ||
	    (slash = strrchr(target, '/')) == NULL) {
		free(target);
		return;
	}
	d->target_name = xstrdup(slash + 1);
	*slash = '\0';
	/* The same directory again gives the same watch. */
	if (inotify_add_watch(d->inotify_fd, target[0] ? target : "/",
	    IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
	    IN_ATTRIB) < 0)
		log_warn("cannot watch %s for edits of the script", target);
	free(target);
}

/* ManageSieve removes the script's link to deactivate it: then the
 * built-in policy applies (mailboxes without sieve_dir keep the last
 * script in force, as for any removal). */
static int
script_deactivated(const struct daemon *d)
{
	struct stat st;

	return d->config->sieve_dir != NULL &&
	    lstat(d->config->sieve, &st) < 0 && errno == ENOENT;
}

static int
script_changed(const struct daemon *d, struct stat *now)
{
	if (stat(d->config->sieve, now) < 0)
		return d->script != NULL && script_deactivated(d);
	return now->st_ino != d->script_stat.st_ino ||
	    now->st_size != d->script_stat.st_size ||
	    now->st_mtim.tv_sec != d->script_stat.st_mtim.tv_sec ||
	    now->st_mtim.tv_nsec != d->script_stat.st_mtim.tv_nsec;
}

/* Loads the owner's script.  At startup a broken script is an error; later
 * a broken edit is reported and the previous script stays in force. */
static int
script_load(struct daemon *d, int startup)
{
	struct sieve_script *script = NULL;
	struct stat st;
	char *errors = NULL;

	if (script_deactivated(d)) {
		if (d->script != NULL || startup)
			log_notice("no script at %s (none active in %s): the "
			    "built-in policy applies", d->config->sieve,
			    d->config->sieve_dir);
		sieve_script_free(&d->script);
		memset(&d->script_stat, 0, sizeof(d->script_stat));
		d->report.script_ok = 1;
		report_set_script_errors(&d->report, NULL);
		report_write(&d->report);
		return 0;
	}
	if (stat(d->config->sieve, &st) < 0) {
		if (startup) {
			log_error("cannot read sieve script %s: %s",
			    d->config->sieve, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (sieve_script_load(d->config->sieve, &script, &errors) < 0) {
		if (startup) {
			log_error("sieve script %s has errors; fix them (see "
			    "'mailsift check %s'):\n%s", d->config->sieve,
			    d->config->sieve, errors);
		} else {
			log_error("edited sieve script %s has errors; the "
			    "previous version stays in force:\n%s",
			    d->config->sieve, errors);
			d->script_stat = st;	/* report once per edit */
		}
		report_set_script_errors(&d->report, errors);
		report_write(&d->report);
		free(errors);
		return startup ? -1 : 0;
	}
	watch_target(d);
	if (!startup)
		log_notice("reloaded sieve script %s", d->config->sieve);
	if (sieve_script_warnings(script) != NULL)
		log_warnx("sieve script %s:\n%s", d->config->sieve,
		    sieve_script_warnings(script));
	sieve_script_free(&d->script);
	d->script = script;
	/* at startup, before the IMAP libraries and the backlog: each
	 * message's evaluator is a fork of this helper */
	sieve_script_start_evaluator(d->script);
	d->script_stat = st;
	d->report.script_ok = 1;
	d->report.script_loaded = time(NULL);
	report_set_script_errors(&d->report, NULL);
	report_write(&d->report);
	return 0;
}

static void
script_maybe_reload(struct daemon *d)
{
	struct stat now;

	if (d->config->sieve == NULL)
		return;
	if (d->script_touched)
		watch_target(d);	/* the link may point elsewhere */
	if (d->reload || (d->script_touched && script_changed(d, &now)))
		script_load(d, 0);
	d->reload = 0;
	d->script_touched = 0;
}

/* Finds the Junk and Trash folders for this connection and sets up the
 * learner over them; what the connection showed goes to the status file
 * (`mailsift status` tells it like `mailsift init`). */
static enum store_status
resolve_folders(struct daemon *d)
{
	struct account_facts facts;
	enum store_status st;

	st = account_facts(d->store, d->config, &facts);
	if (st == STORE_OK) {
		report_set_connection(&d->report, &facts);
		free(d->junk);
		free(d->trash);
		d->junk = facts.junk;
		d->trash = facts.trash;
		facts.junk = facts.trash = NULL;
	}
	account_facts_release(&facts);
	if (st != STORE_OK)
		return st;
	/* The ledger and the learner compare names: one form for each. */
	store_names_free(d->watch, d->nwatch);
	d->nwatch = d->config->folders.nwatch;
	d->watch = xcalloc(d->nwatch, sizeof(*d->watch));
	for (size_t i = 0; i < d->nwatch; i++)
		d->watch[i] = d->store->ops->owner_name(d->store,
		    d->config->folders.watch[i]);
	d->learner = (struct learner){
		.store = d->store,
		.ledger = d->ledger,
		.filter = d->filter,
		.junk = d->junk,
		.trash = d->trash,
		/* Content hashes must match sort.c's: same fetch cap. */
		.max_message_bytes = d->config->max_message_bytes,
	};
	if (d->once)
		return STORE_OK;
	return junkwatch_start(&d->junkwatch, d->store, d->junk);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A long catch-up shows where it is, on a terminal only. */
static void
show_progress(const char *folder, size_t done, size_t total)
{
	if (total < 20)
		return;
	fprintf(stderr, "\rmailsift: sorting %s: %zu/%zu%s", folder, done,
	    total, done == total ? "\n" : "");
}

static enum store_status
sort_all(struct daemon *d)
{
	struct sorter sorter = {
		.store = d->store,
		.ledger = d->ledger,
		.filter = d->filter,
		.script = d->script,
		.learner = &d->learner,
		.junk = d->junk,
		.trash = d->trash,
		.spam_threshold = d->config->spam_threshold,
		.ham_threshold = d->config->ham_threshold,
		.max_message_bytes = d->config->max_message_bytes,
		.progress = isatty(STDERR_FILENO) ? show_progress : NULL,
		.first_run_since = time(NULL) -
		    (time_t)d->config->first_run_days * 86400,
		.backlog = d->opts->backlog,
		.backlog_since = d->opts->since,
		.dry_run = d->opts->dry_run ? stdout : NULL,
		.stop = selfpipe_stop_flag(),
		.retry_seconds = d->config->imap.poll_interval,
	};
	enum store_status st = STORE_OK;
	int due;

	d->report.state = "sorting";
	for (size_t i = 0; i < d->nwatch && !stopping(d); i++) {
		const char *folder = d->watch[i];

		st = sort_folder(&sorter, folder, &d->report.totals);
		if (st == STORE_BOX_BAD) {
			log_error("cannot open watched folder '%s': %s; check "
			    "folders.watch in %s", folder,
			    store_last_error(d->store), d->config->path);
			st = STORE_FATAL;
		}
		if (st != STORE_OK)
			break;
	}
	/* The owner's opinions: drags into Junk, rescues into folders that
	 * are not watched, and keywords.  A keyword scan fetches the flags
	 * of whole folders, so these run once per poll_interval, not on
	 * every new message (rescues into a watched folder are seen by
	 * sort_folder at once); Junk and what left it are looked at also
	 * as soon as junkwatch.c brings news of Junk.  Not in a dry run. */
	due = !d->opts->dry_run && now_ms() >= d->next_learn_scan;
	if (st == STORE_OK && !stopping(d) && !d->opts->dry_run &&
	    (due || d->junk_news)) {
		st = learn_scan_junk(&d->learner);
		if (st == STORE_OK && !stopping(d))
			st = learn_scan_elsewhere(&d->learner,
			    (const char *const *)d->watch, d->nwatch);
		if (st == STORE_OK)
			d->junk_news = 0;
	}
	if (st == STORE_OK && !stopping(d) && due) {
		for (size_t i = 0; st == STORE_OK && !stopping(d) &&
		    i < d->nwatch; i++)
			st = learn_scan_keywords(&d->learner, d->watch[i]);
		if (st == STORE_OK && !stopping(d))
			st = learn_scan_keywords(&d->learner, d->junk);
		if (st == STORE_OK)
			d->next_learn_scan = now_ms() +
			    (int64_t)d->config->imap.poll_interval * 1000;
	}
	if (st == STORE_OK)
		d->report.last_sync = time(NULL);
	return st;
}

/* 1 if the ledger's mark for folder is behind what the server holds.
 * UIDNEXT 0 (a server that gave none, store.h) is no news: IDLE, or the
 * poll, tells instead. */
static int
behind(struct daemon *d, const char *folder, uint32_t uidvalidity,
    uint32_t uidnext)
{
	uint32_t known_validity, mark;

	if (ledger_folder_get(d->ledger, folder, &known_validity, &mark) <= 0)
		return 1;
	return known_validity != uidvalidity || (uidnext > 0 &&
	    uidnext - 1 > mark);
}

/* Waits on the first watched folder until it changes, Junk changes (its
 * learning is then due at once), poll_interval passes (the other
 * folders and Junk are due), or a signal or script edit arrives.
 * Wake-ups for other files next to the script go back to waiting without
 * a pass. */
static enum store_status
wait_for_news(struct daemon *d)
{
	const struct config *c = d->config;
	uint32_t uidvalidity, uidnext;
	int changed = 0, timeout;
	int64_t deadline;
	enum store_status st;

	d->report.state = "idle";
	report_write(&d->report);
	st = d->store->ops->select(d->store, d->watch[0], &uidvalidity,
	    &uidnext);
	if (st != STORE_OK)
		return st;
	/* Mail that arrived before this SELECT is never announced by IDLE. */
	if (behind(d, d->watch[0], uidvalidity, uidnext))
		return STORE_OK;
	/* SQLite's page caches, the parsed TLS trust store and messages
	 * leave heap that an idle daemon should not hold: give it back. */
	filter_release_memory(d->filter);
	ledger_release_memory(d->ledger);
	malloc_trim(0);
	timeout = c->imap.poll_interval < c->imap.idle_restart ?
	    c->imap.poll_interval : c->imap.idle_restart;
	deadline = now_ms() + (int64_t)timeout * 1000;
	if (d->next_learn_scan > now_ms() && d->next_learn_scan < deadline)
		deadline = d->next_learn_scan;	/* Junk is due sooner */
	st = STORE_OK;
	if (!junkwatch_arm(&d->junkwatch)) {
		while (!changed && !stopping(d) && !d->reload &&
		    !d->script_touched && !junkwatch_pending(&d->junkwatch)) {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				break;
			st = d->store->ops->wait(d->store, (int)left,
			    d->epoll_fd, &changed);
			wake_drain(d);
			if (st != STORE_OK)
				break;
		}
	}
	/* When stopping, junkwatch_free() ends the second connection as it
	 * is, without a goodbye the stop signal would cut short. */
	if (!stopping(d) && junkwatch_disarm(&d->junkwatch, changed))
		d->junk_news = 1;
	return st;
}

/* Takes the one-sorter lock of state_dir.  Returns -1 when this
 * run may go on, else the exit status to leave with: a second --once
 * beside a running sorter has nothing to do (0, so that cron stays
 * quiet), a second daemon is refused (1: systemd retries it, and it takes
 * over once the other one has stopped), and so is a --backlog run (1: the
 * owner asked for work the running sorter will not do).  A dry run
 * changes nothing: it needs no lock. */
static int
daemon_lock(struct daemon *d)
{
	const struct config *c = d->config;
	char *err = NULL, who[32] = "pid unknown";
	pid_t holder;
	int rc;

	if (d->opts->dry_run)
		return -1;
	rc = state_lock_take(c->state_dir, &d->lock, &holder, &err);
	if (rc == 0)
		return -1;
	if (rc < 0) {
		log_error("%s", err);
		free(err);
		return EXIT_RUNTIME;
	}
	if (holder > 0)
		snprintf(who, sizeof(who), "pid %ld", (long)holder);
	if (d->opts->backlog) {
		log_error("another mailsift (%s) is sorting with state_dir %s; "
		    "stop it (systemctl stop mailsift@NAME) for the --backlog "
		    "run, then start it again", who, c->state_dir);
		return EXIT_RUNTIME;
	}
	if (d->once) {
		log_notice("another mailsift (%s) is sorting with state_dir "
		    "%s: nothing to do", who, c->state_dir);
		return EXIT_OK;
	}
	log_error("another mailsift (%s) is already sorting with state_dir "
	    "%s; stop it first, or give this configuration a state_dir of "
	    "its own", who, c->state_dir);
	return EXIT_RUNTIME;
}

/* Opens the ledger and the token store.  Returns -1 when this run may
 * go on, else the exit status to leave with.  With --fresh-ledger the
 * ledger is made later, from the folders as the server shows them. */
static int
daemon_open(struct daemon *d, const struct config *c)
{
	char *path, *err = NULL;
	int rc = 0;

	if (!d->opts->fresh_ledger) {
		rc = state_dir_ledger(c, &d->ledger, &err);
	} else if (state_dir_ledger_present(c)) {
		log_error("the ledger of %s is there and not empty: "
		    "--fresh-ledger only replaces a lost or empty ledger, and "
		    "this one is healthy; run without it", c->state_dir);
		return EXIT_USAGE;
	}
	if (rc == 0) {
		path = config_tokens_db(c);
		rc = filter_open(path, &d->filter, &err);
		free(path);
	}
	if (rc == 0)
		return -1;
	log_error("%s", err);
	free(err);
	return rc == STATE_DIR_LEDGER_LOST ? EXIT_USAGE : EXIT_RUNTIME;
}

/* --fresh-ledger: the new ledger counts what the watched folders hold
 * now as sorted. */
static int
daemon_fresh_ledger(struct daemon *d)
{
	char *err = NULL;

	if (state_dir_fresh_ledger(d->config, d->store, &err) < 0 ||
	    state_dir_ledger(d->config, &d->ledger, &err) != 0) {
		log_error("%s", err);
		free(err);
		return -1;
	}
	log_notice("started a new ledger in %s: the messages now in the "
	    "watched folders count as sorted", d->config->state_dir);
	return 0;
}

static void
daemon_close(struct daemon *d)
{
	junkwatch_free(&d->junkwatch);
	store_free(&d->store);
	sieve_script_free(&d->script);
	filter_close(&d->filter);
	ledger_close(&d->ledger);
	report_release(&d->report);
	free(d->junk);
	free(d->trash);
	store_names_free(d->watch, d->nwatch);
	free(d->account);
	free(d->script_name);
	free(d->target_name);
	state_lock_release(&d->lock);
}

/* Whether the last failure was the state files': a failure that can
 * pass (disk full, read-only, permissions) or one of the file itself.
 * *reason_r (malloc'd) then says which file, why and what to do. */
static enum state_failure
state_failure(struct daemon *d, char **reason_r)
{
	enum state_failure kind;

	if (d->ledger != NULL &&
	    (kind = ledger_failure_kind(d->ledger)) != STATE_NO_FAILURE) {
		*reason_r = xstrdup(ledger_error(d->ledger));
		return kind;
	}
	if (d->filter != NULL &&
	    (kind = filter_failure_kind(d->filter)) != STATE_NO_FAILURE) {
		*reason_r = filter_failure(d->filter);
		return kind;
	}
	return STATE_NO_FAILURE;
}

/* The ledger or the token store cannot be written: sorting waits,
 * touching no mail (every change to a message is recorded in the ledger
 * first).  Every poll_interval the file system is looked at, and sorting
 * is tried again once it shows nothing in the way. */
static void
pause_sorting(struct daemon *d, char *reason)
{
	char *problem;

	if (d->report.paused == NULL || strcmp(d->report.paused, reason) != 0)
		log_error("sorting paused: %s; trying again every %d s",
		    reason, d->config->imap.poll_interval);
	report_set_paused(&d->report, reason);
	free(reason);
	d->report.state = "paused";
	report_write(&d->report);
	do {
		pause_for(d, d->config->imap.poll_interval);
		problem = state_dir_problem(d->config);
		free(problem);
	} while (problem != NULL && !d->stop);
}

static void
resume_sorting(struct daemon *d)
{
	if (d->report.paused == NULL)
		return;
	log_notice("the state files can be written again: sorting resumed");
	report_set_paused(&d->report, NULL);
}

/* Messages handled so far (not merely looked at): a session that
 * handled some did useful work. */
static unsigned
handled(const struct daemon *d)
{
	const struct sort_stats *t = &d->report.totals;

	return t->moved + t->kept + t->known + t->failed;
}

/* Connects, sorts, waits; forever, or once. */
static int
daemon_loop(struct daemon *d)
{
	int backoff = 1, attempts = 0, useful;
	unsigned before;
	enum store_status st;
	enum state_failure kind;
	char *reason;

	while (!stopping(d)) {
		useful = 0;
		before = handled(d);
		script_maybe_reload(d);
		d->report.state = "connecting";
		st = d->store->ops->connect(d->store);
		if (st == STORE_OK) {
			if (attempts > 0)
				log_notice("connected to %s", d->account);
			st = resolve_folders(d);
		}
		while (st == STORE_OK && !stopping(d)) {
			report_set_error(&d->report, NULL);
			st = sort_all(d);
			if (st != STORE_OK || d->once)
				break;
			useful = 1;		/* a whole pass */
			resume_sorting(d);
			st = wait_for_news(d);
			script_maybe_reload(d);
		}
		/* A failure may be the stop signal cutting an operation. */
		wake_drain(d);
		if (st == STORE_OK || stopping(d))
			break;
		kind = st != STORE_CONN_LOST ? state_failure(d, &reason) :
		    STATE_NO_FAILURE;
		if (kind == STATE_FAILURE_WAIT && !d->once) {
			pause_sorting(d, reason);
			continue;
		}
		if (kind != STATE_NO_FAILURE) {
			/* Not the store's error: that one may be old. */
			log_error("cannot sort: %s", reason);
			free(reason);
			return EXIT_RUNTIME;
		}
		report_set_error(&d->report, store_last_error(d->store));
		if (st != STORE_CONN_LOST) {
			log_error("%s: %s", d->account,
			    store_last_error(d->store));
			return EXIT_RUNTIME;
		}
		/* Only a session that got something done starts the backoff
		 * again: a server that drops every session right after login
		 * is not to be tried every second, nor forever by --once. */
		if (useful || handled(d) != before) {
			attempts = 0;
			backoff = 1;
		}
		if (d->once && ++attempts >= ONCE_MAX_ATTEMPTS) {
			log_error("gave up after %d sessions with %s in a row "
			    "that did not get anything done; the last one "
			    "failed with: %s", attempts, d->account,
			    store_last_error(d->store));
			return EXIT_RUNTIME;
		}
		if (!d->once)
			attempts++;
		log_warnx("connection to %s failed: %s; retrying in %d s "
		    "(attempt %d)", d->account, store_last_error(d->store),
		    backoff, attempts);
		d->report.state = "waiting to reconnect";
		report_write(&d->report);
		pause_for(d, backoff);
		backoff = backoff * 2 > BACKOFF_MAX_SECONDS ?
		    BACKOFF_MAX_SECONDS : backoff * 2;
	}
	return EXIT_OK;
}

int
daemon_run(const struct config *config, const struct run_options *opts)
{
	struct daemon d = { .config = config, .once = opts->once,
	    .opts = opts, .epoll_fd = -1, .inotify_fd = -1,
	    .junkwatch = { .fd = -1 } };
	struct store *second = NULL;
	char *password = NULL, *err = NULL;
	int rc = EXIT_RUNTIME;

	/* Big per-message buffers (message bytes, token arrays) get their own
	 * mappings, returned whole when freed, instead of fragmenting the heap
	 * that the idle daemon keeps for days. */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	report_init(&d.report, config->state_dir);
	if (opts->dry_run) {
		/* The status file belongs to the daemon, which may run. */
		free(d.report.path);
		d.report.path = NULL;
	}
	d.report.script_path = config->sieve;
	d.account = xasprintf("%s@%s:%d", config->imap.username,
	    config->imap.host, config->imap.port);
	d.report.account = d.account;
	if (state_dir_make(config, &err) < 0) {
		log_error("%s", err);
		goto out;
	}
	/* The ledger first: the lock file and the status file show that a
	 * sorter had one (state_dir.h). */
	if ((rc = daemon_open(&d, config)) >= 0 ||
	    (rc = daemon_lock(&d)) >= 0)
		goto out;
	rc = EXIT_RUNTIME;
	if (config->sieve != NULL && script_load(&d, 1) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	/* Signals first: SIGTERM must stop a password command that hangs. */
	if (wake_setup(&d) < 0)
		goto out;
	if (config_password(config, &password, &err) < 0) {
		wake_drain(&d);
		if (d.stop) {
			log_notice("stopped while the password command ran");
			rc = EXIT_OK;
		} else {
			log_error("%s", err);
		}
		goto out;
	}
	if (config->sieve != NULL)
		watch_target(&d);
	if ((d.store = account_store(config, password, &err)) == NULL) {
		log_error("%s", err);
		goto out;
	}
	d.store->ops->set_cancel(d.store, selfpipe_stop_fd());
	/* Where the server lacks NOTIFY, a second connection watches Junk;
	 * with OAuth2 it asks for a token of its own. */
	if (!opts->once && config->imap.junk_idle) {
		if ((second = account_store(config, config->imap.auth ==
		    AUTH_PASSWORD ? password : NULL, &err)) == NULL) {
			log_error("%s", err);
			goto out;
		}
		second->ops->set_cancel(second, selfpipe_stop_fd());
	}
	junkwatch_init(&d.junkwatch, d.epoll_fd, second);
	if (opts->fresh_ledger && daemon_fresh_ledger(&d) < 0)
		goto out;
	log_notice("mailsift %s sorting %s for %s%s", MAILSIFT_VERSION,
	    config->folders.watch[0], d.account, opts->dry_run ?
	    " (dry run: nothing is changed)" : opts->once ? " (once)" : "");
	rc = daemon_loop(&d);
	d.report.state = "stopped";
	report_write(&d.report);
	log_notice("stopped: %u seen, %u moved, %u kept, %u known, %u failed",
	    d.report.totals.seen, d.report.totals.moved, d.report.totals.kept,
	    d.report.totals.known, d.report.totals.failed);
out:
	config_password_free(&password);
	free(err);
	/* The store first: its goodbye still watches the stop pipe. */
	daemon_close(&d);
	wake_teardown(&d);
	return rc;
}
