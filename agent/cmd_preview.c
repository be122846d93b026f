/*
 * cmd_preview.c - `mailsift preview`: which of the recently sorted
 * messages a script would put somewhere else (preview.h does the work),
 * as text or JSON.  It reads the ledger and EXAMINEs mailboxes; it writes
 * nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/commands.h"
#include "agent/config.h"
#include "agent/preview.h"
#include "agent/xmem.h"
#include "sieve/sieve.h"
#include "state/ledger.h"

#define DEFAULT_COUNT	200

static const char preview_usage[] =
    "usage: mailsift preview -c CONFIG [--script FILE] [-n N] [--json]\n"
    "\n"
    "Runs a Sieve script (FILE, else the configured one, else the built-in\n"
    "policy) on the messages of the N most recent decisions, each with the\n"
    "spam score it had then, and lists every message whose outcome would\n"
    "change: what happened (folder, flags, rule) and what would happen.\n"
    "Changes nothing: the ledger is only read, mailboxes are opened\n"
    "read-only (EXAMINE), messages read without setting \\Seen.  A message\n"
    "rescued from Junk stays out of Junk, as in the daemon.\n"
    "\n"
    "  -c, --config FILE   the JSON configuration\n"
    "      --script FILE   the script to try (default: the configured one)\n"
    "  -n N                how many recent decisions (default 200)\n"
    "      --json          one JSON object instead of text\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 ok, 1 runtime failure (server, ledger), 2 usage,\n"
    "configuration or script error (SCRIPT:LINE: message, as 'check').\n";

static struct json_object *
json_str(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

static struct json_object *
flags_json(char *const *flags, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(flags[i]));
	return a;
}

/* {"folder", "flags", "rule", "copies": [{"folder", "flags"}], "actions"} */
static struct json_object *
outcome_json(const struct plan *p, const char *folder)
{
	struct json_object *o = json_object_new_object();
	struct json_object *copies = json_object_new_array();
	char *const *flags;
	size_t nflags, ncopies = p->keep ? p->ntargets :
	    (p->ntargets > 0 ? p->ntargets - 1 : 0);

	plan_final_flags(p, &flags, &nflags);
	json_object_object_add(o, "folder",
	    json_object_new_string(plan_final_folder(p, folder)));
	json_object_object_add(o, "flags", flags_json(flags, nflags));
	json_object_object_add(o, "rule", json_str(p->rule));
	for (size_t i = 0; i < ncopies; i++) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "folder",
		    json_object_new_string(p->targets[i].box));
		json_object_object_add(c, "flags", flags_json(
		    p->targets[i].flags, p->targets[i].nflags));
		json_object_array_add(copies, c);
	}
	json_object_object_add(o, "copies", copies);
	json_object_object_add(o, "actions", json_str(p->text));
	return o;
}

static void
print_json(const struct preview_result *r)
{
	struct json_object *root = json_object_new_object();
	struct json_object *list = json_object_new_array();

	json_object_object_add(root, "examined",
	    json_object_new_int64((int64_t)r->examined));
	json_object_object_add(root, "missing",
	    json_object_new_int64((int64_t)r->missing));
	json_object_object_add(root, "unreadable",
	    json_object_new_int64((int64_t)r->unreadable));
	for (size_t i = 0; i < r->nchanges; i++) {
		const struct preview_change *c = &r->changes[i];
		const struct ledger_decision *d = &c->decision;
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "decision",
		    json_object_new_int64(d->id));
		json_object_object_add(o, "message_id", json_str(d->message_id));
		json_object_object_add(o, "subject", json_str(c->subject));
		json_object_object_add(o, "from", json_str(c->from));
		json_object_object_add(o, "time", json_object_new_int64(d->time));
		json_object_object_add(o, "score", d->score < 0 ? NULL :
		    json_object_new_double(d->score));
		json_object_object_add(o, "state", json_object_new_string(
		    decision_state_name(d->state)));
		json_object_object_add(o, "now", outcome_json(&c->now,
		    d->folder));
		json_object_object_add(o, "would", outcome_json(&c->would,
		    d->folder));
		json_object_array_add(list, o);
	}
	json_object_object_add(root, "changes", list);
	printf("%s\n", json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

/* "keep in 'INBOX' +\Seen" rather than "keep +\Seen". */
static void
print_outcome(const char *label, const struct plan *p, const char *folder)
{
	if (p->keep)
		printf("    %s keep in '%s'%s", label, folder, p->text + 4);
	else
		printf("    %s %s", label, p->text);
	printf("  (%s)\n", p->rule ? p->rule : "rule not recorded");
}

static void
print_text(const struct preview_result *r)
{
	char when[64];

	for (size_t i = 0; i < r->nchanges; i++) {
		const struct preview_change *c = &r->changes[i];
		const struct ledger_decision *d = &c->decision;
		time_t t = (time_t)d->time;
		struct tm tm;

		if (localtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm) == 0)
			snprintf(when, sizeof(when), "?");
		printf("#%lld  %s  %s  %s\n", (long long)d->id, when,
		    d->folder, d->message_id ? d->message_id :
		    "(no Message-ID)");
		printf("    subject: %s\n", c->subject ? c->subject : "");
		printf("    from:    %s\n", c->from ? c->from : "");
		if (d->score >= 0)
			printf("    score:   %.4f\n", d->score);
		print_outcome("now:  ", &c->now, d->folder);
		if (d->state != DECISION_DONE)
			printf("           (decision %s)\n",
			    decision_state_name(d->state));
		print_outcome("would:", &c->would, d->folder);
	}
	printf("%zu of %zu decisions would change", r->nchanges, r->examined);
	if (r->missing > 0)
		printf("; %zu messages are no longer in the mailbox",
		    r->missing);
	if (r->unreadable > 0)
		printf("; %zu decisions could not be read", r->unreadable);
	printf("\n");
}

/* The script to try: a file, or the built-in policy.  Exit status or -1. */
static int
load_script(const char *path, struct sieve_script **script_r)
{
	char *errors = NULL;

	if (path == NULL)
		return -1;
	if (sieve_script_load(path, script_r, &errors) == 0)
		return -1;
	fprintf(stderr, "%s%s", errors, errors[0] != '\0' &&
	    errors[strlen(errors) - 1] == '\n' ? "" : "\n");
	free(errors);
	return EXIT_USAGE;
}

struct preview_opts {
	const char *config;
	const char *script;
	int count;
	int json;
};

/* Parses the command line: exit status, or -1 to go on. */
static int
parse_args(int argc, char **argv, struct preview_opts *o)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "script", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	long n;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:n:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': o->config = optarg; break;
		case 's': o->script = optarg; break;
		case 'j': o->json = 1; break;
		case 'n':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end != '\0' || n <= 0 ||
			    n > INT_MAX) {
				fprintf(stderr, "mailsift preview: -n takes a "
				    "positive count, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			o->count = (int)n;
			break;
		case 'h': fputs(preview_usage, stdout); return EXIT_OK;
		default: fputs(preview_usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc || o->config == NULL) {
		fprintf(stderr, "mailsift preview: %s\n\n%s", optind < argc ?
		    "unexpected argument" : "-c CONFIG is required",
		    preview_usage);
		return EXIT_USAGE;
	}
	return -1;
}

int
cmd_preview(int argc, char **argv)
{
	struct preview_opts o = { .count = DEFAULT_COUNT };
	struct config *config = NULL;
	struct sieve_script *script = NULL;
	struct ledger *ledger = NULL;
	struct store *store = NULL;
	struct preview_result r = { 0 };
	struct preview pv = { 0 };
	char *err = NULL, *password = NULL, *ledger_path = NULL;
	char *junk = NULL, *trash = NULL;
	enum store_status st;
	int rc;

	if ((rc = parse_args(argc, argv, &o)) >= 0)
		return rc;
	if (config_load(o.config, &config, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	if ((rc = load_script(o.script ? o.script : config->sieve,
	    &script)) >= 0)
		goto out;
	rc = EXIT_RUNTIME;
	/* Opening would create an empty ledger: there is nothing to see. */
	ledger_path = config_ledger_db(config);
	if (access(ledger_path, F_OK) < 0) {
		if (o.json)
			printf("{ \"examined\": 0, \"missing\": 0, "
			    "\"unreadable\": 0, \"changes\": [ ] }\n");
		else
			printf("no decisions yet: mailsift has not sorted "
			    "anything with state_dir %s\n", config->state_dir);
		rc = EXIT_OK;
		goto out;
	}
	if (ledger_open(ledger_path, &ledger, &err) < 0 ||
	    config_password(config, &password, &err) < 0 ||
	    (store = account_store(config, password, &err)) == NULL) {
		fprintf(stderr, "mailsift preview: %s\n", err);
		goto out;
	}
	if ((st = store->ops->connect(store)) != STORE_OK ||
	    (st = account_folders(store, config, &junk, &trash)) != STORE_OK) {
		fprintf(stderr, "mailsift preview: %s@%s: %s\n",
		    config->imap.username, config->imap.host,
		    store_last_error(store));
		goto out;
	}
	pv = (struct preview){
		.store = store,
		.ledger = ledger,
		.rules = {
			.script = script,
			.junk = junk,
			.trash = trash,
			.spam_threshold = config->spam_threshold,
		},
		.max_message_bytes = config->max_message_bytes,
	};
	st = preview_run(&pv, o.count, &r, &err);
	if (st != STORE_OK) {
		fprintf(stderr, "mailsift preview: %s\n", err ? err :
		    store_last_error(store));
		goto out;
	}
	if (o.json)
		print_json(&r);
	else
		print_text(&r);
	rc = EXIT_OK;
out:
	preview_result_release(&r);
	store_free(&store);
	ledger_close(&ledger);
	sieve_script_free(&script);
	config_password_free(&password);
	config_free(&config);
	free(ledger_path);
	free(junk);
	free(trash);
	free(err);
	return rc;
}
