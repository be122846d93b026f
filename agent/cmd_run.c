/*
 * cmd_run.c - `mailsift run` (the daemon) and `mailsift status`.
 */
#include <errno.h>
#include <getopt.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/config.h"
#include "agent/daemon.h"
#include "agent/evidence.h"
#include "agent/learn.h"
#include "agent/log.h"
#include "agent/report.h"
#include "agent/sort.h"
#include "agent/state_dir.h"
#include "agent/xmem.h"
#include "state/fsfail.h"
#include "state/ledger.h"

static const char run_usage[] =
    "usage: mailsift run -c CONFIG [--once] [-v | --log-level LEVEL]\n"
    "       mailsift run -c CONFIG --once --backlog [--since DATE] [--dry-run]\n"
    "       mailsift run -c CONFIG [--once] --fresh-ledger\n"
    "\n"
    "Logs in to the IMAP account in CONFIG, sorts every new message of the\n"
    "watched folders (score, then the owner's Sieve script, or the built-in\n"
    "policy: spam to Junk tagged $Junk, the rest kept), then waits for new\n"
    "mail with IDLE and sorts it as it arrives.  Messages are moved and\n"
    "tagged, never deleted.  The first look at a folder sorts only unread\n"
    "mail of the last first_run_days (default 30); the rest is left as it\n"
    "was, until --backlog.\n"
    "\n"
    "  -c, --config FILE     the JSON configuration (see mailsift.json(5))\n"
    "      --once            sort what is new, then exit (for cron, tests)\n"
    "      --backlog         with --once: also sort what the first look left\n"
    "                        as found\n"
    "      --since DATE      with --backlog: only what arrived from DATE\n"
    "                        (YYYY-MM-DD) on\n"
    "      --dry-run         with --once: print what would be done, folder by\n"
    "                        folder, and change nothing\n"
    "      --fresh-ledger    the ledger was lost: start a new one that counts\n"
    "                        every message now in the watched folders as\n"
    "                        sorted (refused while the ledger is healthy)\n"    "  -v, --verbose         log every decision (level info)\n"
    "      --log-level L     error, warn, notice (default), info or debug\n"
    "  -h, --help            this text\n"
    "\n"
    "One sorter per state_dir: run holds state_dir/lock while it runs.  A\n"
    "second run beside it names the running pid and exits: a daemon with\n"
    "status 1, --once with status 0 (the mail is being sorted; nothing for\n"
    "cron to report: with --log-level warn it prints nothing).  train,\n"
    "untrain, undo and status work beside a running sorter.\n"
    "\n"
    "Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error.\n";

static const char status_usage[] =
    "usage: mailsift status -c CONFIG [--json] [-n COUNT]\n"
    "\n"
    "Shows what the daemon is doing, whether the Sieve script is in force,\n"
    "and the latest decisions with their score and the rule that fired.\n"
    "\n"
    "  -c, --config FILE     the JSON configuration\n"
    "      --json            one JSON object instead of text\n"
    "  -n COUNT              how many recent decisions (default 10)\n"
    "  -h, --help            this text\n";

/* Loads the config named by -c; prints problems; exit status or -1. */
static int
load_config(const char *path, const char *usage, struct config **config_r)
{
	char *errors = NULL;

	if (path == NULL) {
		fprintf(stderr, "mailsift: -c CONFIG is required\n\n%s", usage);
		return EXIT_USAGE;
	}
	if (config_load(path, config_r, &errors) < 0) {
		fprintf(stderr, "%s\n", errors);
		free(errors);
		return EXIT_USAGE;
	}
	return -1;
}

/* Checks how the options combine and reads --since; exit status or -1. */
static int
run_options_check(struct run_options *opts, const char *since)
{
	struct tm tm = { 0 };
	const char *end;

	if ((opts->backlog || opts->dry_run) && !opts->once) {
		fprintf(stderr, "mailsift: --%s needs --once: it is a single "
		    "pass, not a way to run the daemon\n", opts->backlog ?
		    "backlog" : "dry-run");
		return EXIT_USAGE;
	}
	if (opts->fresh_ledger && (opts->backlog || opts->dry_run)) {
		fprintf(stderr, "mailsift: --fresh-ledger counts every message "
		    "now in the watched folders as sorted: not with --%s\n",
		    opts->backlog ? "backlog" : "dry-run");
		return EXIT_USAGE;
	}
	if (since == NULL)
		return -1;
	if (!opts->backlog) {
		fprintf(stderr, "mailsift: --since goes with --backlog\n");
		return EXIT_USAGE;
	}
	end = strptime(since, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0') {
		fprintf(stderr, "mailsift: --since '%s': give a date as "
		    "YYYY-MM-DD, e.g. 2026-11-01\n", since);
		return EXIT_USAGE;
	}
	tm.tm_isdst = -1;
	opts->since = mktime(&tm);
	return -1;
}

int
cmd_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "backlog", no_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "fresh-ledger", no_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct config *config = NULL;
	const char *path = NULL, *level_name = NULL, *since = NULL;
	struct run_options opts = { 0 };
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'o': opts.once = 1; break;
		case 'b': opts.backlog = 1; break;
		case 's': since = optarg; break;
		case 'n': opts.dry_run = 1; break;
		case 'F': opts.fresh_ledger = 1; break;
		case 'v': level_name = "info"; break;
		case 'l': level_name = optarg; break;
		case 'h': fputs(run_usage, stdout); return EXIT_OK;
		default: fputs(run_usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mailsift: unexpected argument '%s'\n\n%s",
		    argv[optind], run_usage);
		return EXIT_USAGE;
	}
	if ((rc = run_options_check(&opts, since)) >= 0)
		return rc;
	if ((rc = load_config(path, run_usage, &config)) >= 0)
		return rc;
	if (log_set_level_named(level_name, config->log_level) < 0) {
		config_free(&config);
		return EXIT_USAGE;
	}
	rc = daemon_run(config, &opts);
	config_free(&config);
	return rc;
}

static const char *
time_text(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0 || localtime_r(&tt, &tm) == NULL)
		return "never";
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

/* What was done to a decision's message afterwards: the changes of its
 * training since the decision (the first nafter of corrections, newest
 * first), and whether the owner took it out of the Junk folder this
 * decision filed it into.  A rescue of a message trained as ham already
 * leaves no correction (rescue_trained 0). */
struct afterwards {
	struct ledger_correction *corrections;
	size_t n;
	size_t nafter;
	int rescued;
	int rescue_trained;
};

static int
afterwards_get(struct ledger *ledger, const struct ledger_decision *d,
    struct afterwards *a_r)
{
	struct ledger_message m = { 0 };
	int found = 0;

	memset(a_r, 0, sizeof(*a_r));
	if (ledger_corrections_recent(ledger, d->message, 0, &a_r->corrections,
	    &a_r->n) < 0 || (d->hash != NULL &&
	    (found = ledger_message_find(ledger, d->hash, &m)) < 0))
		return -1;
	for (; a_r->nafter < a_r->n &&
	    a_r->corrections[a_r->nafter].time_ms > d->time_ms; a_r->nafter++)
		if (a_r->corrections[a_r->nafter].reason != NULL &&
		    strcmp(a_r->corrections[a_r->nafter].reason,
		    LEARN_RESCUE_REASON) == 0)
			a_r->rescue_trained = 1;
	a_r->rescued = found && m.rescued && m.junk_by_us != NULL &&
	    d->dest_folder != NULL && strcmp(m.junk_by_us, d->dest_folder) == 0;
	if (found)
		ledger_message_release(&m);
	return 0;
}

static void
afterwards_release(struct afterwards *a)
{
	ledger_corrections_free(a->corrections, a->n);
	memset(a, 0, sizeof(*a));
}

static struct json_object *
afterwards_json(const struct afterwards *a)
{
	struct json_object *list = json_object_new_array();

	for (size_t i = a->nafter; i-- > 0; ) {
		const struct ledger_correction *c = &a->corrections[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "time_ms",
		    json_object_new_int64(c->time_ms));
		json_object_object_add(o, "reason", c->reason ?
		    json_object_new_string(c->reason) : NULL);
		json_object_object_add(o, "folder", c->folder ?
		    json_object_new_string(c->folder) : NULL);
		json_object_object_add(o, "uid", json_object_new_int64(c->uid));
		json_object_object_add(o, "old_trained",
		    json_object_new_string(c->old_trained));
		json_object_object_add(o, "new_trained",
		    json_object_new_string(c->new_trained));
		json_object_array_add(list, o);
	}
	return list;
}

static void
print_afterwards(const struct afterwards *a)
{
	char tbuf[64];

	for (size_t i = a->nafter; i-- > 0; ) {
		const struct ledger_correction *c = &a->corrections[i];

		printf("    later, %s: %s, in %s: trained as %s (was %s)\n",
		    time_text(c->time_ms / 1000, tbuf, sizeof(tbuf)),
		    c->reason ? c->reason : "corrected",
		    c->folder ? c->folder : "?", c->new_trained,
		    c->old_trained[0] ? c->old_trained : "untrained");
	}
	if (a->rescued && !a->rescue_trained)
		printf("    later: " LEARN_RESCUE_REASON " (trained as ham "
		    "already); never filed there again\n");
}

static struct json_object *
decision_json(const struct ledger_decision *d, const struct afterwards *a)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(d->id));
	json_object_object_add(o, "time", json_object_new_int64(d->time));
	json_object_object_add(o, "time_ms",
	    json_object_new_int64(d->time_ms));
	json_object_object_add(o, "folder", json_object_new_string(d->folder));
	json_object_object_add(o, "uid", json_object_new_int64(d->uid));
	json_object_object_add(o, "message_id", d->message_id ?
	    json_object_new_string(d->message_id) : NULL);
	json_object_object_add(o, "subject", d->subject ?
	    json_object_new_string(d->subject) : NULL);
	json_object_object_add(o, "from", d->sender ?
	    json_object_new_string(d->sender) : NULL);
	json_object_object_add(o, "score", d->score < 0 ? NULL :
	    json_object_new_double(d->score));
	json_object_object_add(o, "verdict", d->verdict ?
	    json_object_new_string(d->verdict) : NULL);
	json_object_object_add(o, "rule", d->rule ?
	    json_object_new_string(d->rule) : NULL);
	json_object_object_add(o, "actions",
	    json_object_new_string(d->actions));
	json_object_object_add(o, "state",
	    json_object_new_string(decision_state_name(d->state)));
	json_object_object_add(o, "dest_folder", d->dest_folder ?
	    json_object_new_string(d->dest_folder) : NULL);
	json_object_object_add(o, "dest_uid", d->dest_uid ?
	    json_object_new_int64(d->dest_uid) : NULL);
	json_object_object_add(o, "error", d->error ?
	    json_object_new_string(d->error) : NULL);
	json_object_object_add(o, "attempts", json_object_new_int(d->attempts));
	json_object_object_add(o, "retry_at", d->retry_at ?
	    json_object_new_int64(d->retry_at) : NULL);
	json_object_object_add(o, "evidence", d->evidence ?
	    json_tokener_parse(d->evidence) : NULL);
	json_object_object_add(o, "corrections_since", afterwards_json(a));
	json_object_object_add(o, "rescued_from_junk",
	    json_object_new_boolean(a->rescued));
	return o;
}

/* What the first look at each watched folder left as found: a JSON
 * object of folder -> count, the folders with none left out; NULL on a
 * ledger error. */
static struct json_object *
backlog_json(const struct config *config, struct ledger *ledger)
{
	struct json_object *o = json_object_new_object();
	struct ledger_backlog b;

	for (size_t i = 0; i < config->folders.nwatch; i++) {
		if (ledger_backlog_get(ledger, config->folders.watch[i],
		    &b) < 0) {
			json_object_put(o);
			return NULL;
		}
		if (b.left > 0)
			json_object_object_add(o, config->folders.watch[i],
			    json_object_new_int64(b.left));
	}
	return o;
}

static void
print_backlog_text(struct json_object *backlog)
{
	if (json_object_object_length(backlog) == 0)
		return;
	printf("left as found by the first look (read, or older than "
	    "first_run_days; 'mailsift run --once --backlog' sorts them):\n");
	json_object_object_foreach(backlog, folder, count)
		printf("  %s: %lld\n", folder,
		    (long long)json_object_get_int64(count));
}

static const char *
yes_no(struct json_object *o, const char *key)
{
	return json_object_get_boolean(json_object_object_get(o, key)) ?
	    "yes" : "no";
}

/* What the daemon's last connection showed, as `mailsift init` says it. */
static void
print_connection(struct json_object *c)
{
	struct json_object *caps = json_object_object_get(c, "capabilities");
	const char *kinds[] = { "junk", "trash" };
	const char *cert, *line, *nl;
	char tbuf[64];

	printf("last connection: %s: IDLE %s, MOVE %s, UIDPLUS %s, "
	    "CONDSTORE %s\n", time_text(json_object_get_int64(
	    json_object_object_get(c, "time")), tbuf, sizeof(tbuf)),
	    yes_no(caps, "IDLE"), yes_no(caps, "MOVE"),
	    yes_no(caps, "UIDPLUS"), yes_no(caps, "CONDSTORE"));
	for (size_t i = 0; i < 2; i++) {
		struct json_object *f = json_object_object_get(c, kinds[i]);

		printf("  %s folder: %s (%s%s)\n", kinds[i],
		    json_object_get_string(json_object_object_get(f, "name")),
		    json_object_get_string(json_object_object_get(f,
		    "found")), json_object_get_boolean(
		    json_object_object_get(f, "exists")) ? "" :
		    "; created when first needed");
	}
	cert = json_object_get_string(json_object_object_get(c,
	    "certificate"));
	for (line = cert; line != NULL && *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		printf("  certificate %.*s\n", nl != NULL ? (int)(nl - line) :
		    (int)strlen(line), line);
		if (nl != NULL)
			nl++;
	}
}

static void
print_status_text(struct json_object *status, struct json_object *backlog,
    struct ledger_decision *v, struct afterwards *after, size_t n)
{
	struct json_object *script = NULL, *x;
	char tbuf[64];

	if (status == NULL) {
		printf("daemon: has not run with this state_dir yet\n");
	} else {
		printf("daemon: %s (pid %d), account %s\n",
		    json_object_get_string(json_object_object_get(status,
		    "state")),
		    json_object_get_int(json_object_object_get(status, "pid")),
		    json_object_get_string(json_object_object_get(status,
		    "account")));
		printf("last sync: %s\n", time_text(json_object_get_int64(
		    json_object_object_get(status, "last_sync")), tbuf,
		    sizeof(tbuf)));
		if ((x = json_object_object_get(status, "last_error")) != NULL)
			printf("last error: %s\n", json_object_get_string(x));
		if ((x = json_object_object_get(status, "paused")) != NULL)
			printf("sorting paused: %s\n(it resumes by itself "
			    "once that is fixed)\n", json_object_get_string(x));
		if ((x = json_object_object_get(status, "connection")) != NULL)
			print_connection(x);
		json_object_object_get_ex(status, "script", &script);
		if (script != NULL) {
			x = json_object_object_get(script, "path");
			printf("sieve script: %s: %s\n", x ?
			    json_object_get_string(x) : "(built-in policy)",
			    json_object_get_string(json_object_object_get(
			    script, "state")));
			if ((x = json_object_object_get(script, "errors")))
				printf("%s\n", json_object_get_string(x));
		}
	}
	print_backlog_text(backlog);
	printf("\nrecent decisions (newest first; 'mailsift undo -c CONFIG "
	    "#' moves one back):\n");
	if (n == 0)
		printf("  none yet\n");
	for (size_t i = 0; i < n; i++) {
		printf("  #%lld  %s  %s uid %u  %s\n", (long long)v[i].id,
		    time_text(v[i].time, tbuf, sizeof(tbuf)), v[i].folder,
		    v[i].uid,
		    v[i].message_id ? v[i].message_id : "(no Message-ID)");
		/* Decisions recorded before mailsift kept these have none. */
		if (v[i].sender != NULL)
			printf("    From: %s\n", v[i].sender[0] != '\0' ?
			    v[i].sender : "(none)");
		if (v[i].subject != NULL)
			printf("    Subject: %s\n", v[i].subject[0] != '\0' ?
			    v[i].subject : "(none)");
		if (v[i].score >= 0)
			printf("    score %.4f (%s)\n", v[i].score,
			    v[i].verdict ? v[i].verdict : "?");
		evidence_print(v[i].evidence, "    ", 3);
		printf("    %s: %s\n", decision_state_name(v[i].state),
		    v[i].actions);
		if (v[i].rule)
			printf("    rule: %s\n", v[i].rule);
		if (v[i].error)
			printf("    error: %s\n", v[i].error);
		if (v[i].state == DECISION_FAILED && v[i].retry_at)
			printf("    will retry after %s (attempt %d of %d)\n",
			    time_text(v[i].retry_at, tbuf, sizeof(tbuf)),
			    v[i].attempts + 1, SORT_MAX_ATTEMPTS);
		else if (v[i].state == DECISION_FAILED && v[i].attempts > 1)
			printf("    gave up after %d attempts\n", v[i].attempts);
		print_afterwards(&after[i]);
	}
}

int
cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct config *config = NULL;
	struct ledger *ledger = NULL;
	struct ledger_decision *v = NULL;
	struct afterwards *after = NULL;
	struct json_object *status = NULL, *backlog = NULL;
	const char *path = NULL;
	char *err = NULL, *file, *problem = NULL;
	size_t n = 0;
	int json = 0, count = 10, opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:n:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'j': json = 1; break;
		case 'n': count = atoi(optarg); break;
		case 'h': fputs(status_usage, stdout); return EXIT_OK;
		default: fputs(status_usage, stderr); return EXIT_USAGE;
		}
	}
	if (count <= 0) {
		fprintf(stderr, "mailsift: -n needs a positive count\n");
		return EXIT_USAGE;
	}
	if ((rc = load_config(path, status_usage, &config)) >= 0)
		return rc;
	file = report_path(config->state_dir);
	status = json_object_from_file(file);
	/* Missing: the daemon has not run yet.  Unreadable: say so. */
	if (status == NULL && access(file, R_OK) < 0 && errno != ENOENT) {
		err = fsfail_message("read the status file", file, errno);
		fprintf(stderr, "mailsift: %s\n", err);
		free(file);
		rc = EXIT_RUNTIME;
		goto out;
	}
	free(file);
	if ((rc = state_dir_ledger(config, &ledger, &err)) != 0 ||
	    ledger_decisions_recent(ledger, count, &v, &n) < 0 ||
	    (backlog = backlog_json(config, ledger)) == NULL) {
		fprintf(stderr, "mailsift: %s\n", err ? err :
		    ledger_error(ledger));
		rc = rc == STATE_DIR_LEDGER_LOST ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	after = xcalloc(n + 1, sizeof(*after));
	for (size_t i = 0; i < n; i++) {
		if (afterwards_get(ledger, &v[i], &after[i]) < 0) {
			fprintf(stderr, "mailsift: %s\n", ledger_error(ledger));
			rc = EXIT_RUNTIME;
			goto out;
		}
	}
	problem = state_dir_problem(config);
	if (json) {
		struct json_object *o = json_object_new_object();
		struct json_object *list = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(list, decision_json(&v[i],
			    &after[i]));
		json_object_object_add(o, "daemon", json_object_get(status));
		json_object_object_add(o, "state_dir_problem", problem ?
		    json_object_new_string(problem) : NULL);
		json_object_object_add(o, "left_as_found",
		    json_object_get(backlog));
		json_object_object_add(o, "decisions", list);
		printf("%s\n", json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		if (problem != NULL)
			printf("state_dir: %s\n", problem);
		print_status_text(status, backlog, v, after, n);
	}
	rc = EXIT_OK;
out:
	free(problem);
	free(err);
	for (size_t i = 0; after != NULL && i < n; i++)
		afterwards_release(&after[i]);
	free(after);
	ledger_decisions_free(v, n);
	ledger_close(&ledger);
	json_object_put(backlog);
	json_object_put(status);
	config_free(&config);
	return rc;
}
