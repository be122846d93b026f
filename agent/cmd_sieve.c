/*
 * cmd_sieve.c - the Sieve subcommands: `mailsift check` validates a
 * script the way the daemon will load it, `mailsift sieve-test` runs a
 * script on a message file, without any server, and prints the actions as
 * JSON.  Both go through sieve.h only, exactly as the daemon does.
 */
#include <errno.h>
#include <getopt.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/commands.h"
#include "agent/config.h"
#include "agent/xmem.h"
#include "sieve/sieve.h"
#include "state/ledger.h"

static void
check_usage(FILE *out)
{
	fprintf(out,
	    "usage: mailsift check [-c CONFIG] [SCRIPT]\n"
	    "       mailsift check --extensions\n\n"
	    "Checks a Sieve script as the daemon would load it.  With -c and "
	    "no SCRIPT,\nchecks the script the configuration names (or the "
	    "built-in default).\n\n"
	    "  -c, --config FILE also check this configuration\n"
	    "  --extensions      list the Sieve extensions scripts may "
	    "require\n"
	    "  -h, --help        show this help\n\n"
	    "The spam score is also the header X-Spam-Score (0.0000 to "
	    "1.0000).\ndiscard never deletes: mailsift moves the message to "
	    "the Trash folder.\nreject, ereject, redirect, vacation, notify "
	    "(mailsift never sends mail),\neditheader (it never changes a "
	    "message) and envelope (gone after\ndelivery) are refused with "
	    "the reason.\n\n"
	    "Prints SCRIPT:LINE: message for each problem.  Exit status: 0 "
	    "valid,\n1 invalid script, 2 usage or configuration error.\n");
}

int
cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "extensions", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config *config = NULL;
	struct sieve_script *script = NULL;
	const char *config_path = NULL, *path = NULL;
	char *errors = NULL, *text = NULL;
	int o, rc = EXIT_USAGE;

	optind = 1;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			config_path = optarg;
			break;
		case 'e':
			if (argc != 2) {
				check_usage(stderr);
				return EXIT_USAGE;
			}
			printf("%s\n", sieve_extensions());
			return EXIT_OK;
		case 'h':
			check_usage(stdout);
			return EXIT_OK;
		default:
			check_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || (argc - optind == 0 && config_path == NULL)) {
		check_usage(stderr);
		return EXIT_USAGE;
	}
	if (config_path != NULL &&
	    config_load(config_path, &config, &errors) < 0) {
		fprintf(stderr, "%s", errors);
		goto out;
	}
	path = argc - optind == 1 ? argv[optind] : config->sieve;
	if (path != NULL) {
		if (sieve_script_load(path, &script, &errors) < 0) {
			fprintf(stderr, "%s%s", errors,
			    errors[strlen(errors) - 1] == '\n' ? "" : "\n");
			rc = EXIT_RUNTIME;
			goto out;
		}
		if (sieve_script_warnings(script) != NULL)
			fprintf(stderr, "%s", sieve_script_warnings(script));
		printf("%s: ok\n", path);
	} else {
		text = sieve_default_script(config->folders.junk ?
		    config->folders.junk : "Junk", config->spam_threshold);
		if (sieve_script_parse("(built-in)", text, &script,
		    &errors) < 0) {
			fprintf(stderr, "%s\n", errors);
			rc = EXIT_RUNTIME;
			goto out;
		}
		printf("no script configured: the built-in rule applies:\n%s",
		    text);
	}
	rc = EXIT_OK;
out:
	sieve_script_free(&script);
	config_free(&config);
	free(errors);
	free(text);
	return rc;
}

static void
sieve_test_usage(FILE *out)
{
	fprintf(out,
	    "usage: mailsift sieve-test [--score S] [--trace] [--mailboxes "
	    "LIST]\n                           [--duplicates LEDGER] SCRIPT "
	    "MESSAGE\n\n"
	    "Runs a Sieve script on a message file, without any server, and "
	    "prints the\nactions as JSON, the implicit keep included, e.g.\n"
	    "  {\"actions\":[{\"action\":\"fileinto\",\"mailbox\":\"Junk\","
	    "\"flags\":[\"$Junk\"]}],\n   \"rule\":\"line 3: fileinto "
	    "\\\"Junk\\\"\"}\n"
	    "\"keep\" means the folder the message is in; \"discard\" means "
	    "mailsift would\nmove it to Trash (it never deletes).\n\n"
	    "  --score S    the spam score in [0,1] as 'mailsift score' prints "
	    "it, seen by\n               spamtest and as the header "
	    "X-Spam-Score (default: not scored)\n"
	    "  --trace      also print \"trace\": the lines of the actions "
	    "and flag\n               commands that ran, in order\n"
	    "  --mailboxes LIST  the folders mailboxexists sees, comma-"
	    "separated\n               (default: not known, and "
	    "mailboxexists fails)\n"
	    "  --duplicates LEDGER  the duplicate test's IDs are read from "
	    "and recorded\n               in this ledger file (created if "
	    "missing), as the daemon\n               does (default: no ID "
	    "was ever seen, none is kept)\n"
	    "  -h, --help   show this help\n\n"
	    "Exit status: 0 ok, 1 invalid script or evaluation failure, "
	    "2 usage error.\n");
}

static int
read_file(const char *path, struct buf *b)
{
	char chunk[65536];
	FILE *f = fopen(path, "rb");
	size_t n;
	int ret = 0;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	if (ferror(f))
		ret = -1;
	fclose(f);
	return ret;
}

static int
dup_lookup(void *ctx, const char *id, long long *seen_at_r)
{
	return ledger_duplicate_get(ctx, id, seen_at_r);
}

static json_object *
action_json(const struct sieve_action *a)
{
	json_object *o = json_object_new_object();
	json_object *flags = json_object_new_array();

	json_object_object_add(o, "action", json_object_new_string(
	    a->type == SIEVE_ACTION_KEEP ? "keep" :
	    a->type == SIEVE_ACTION_FILEINTO ? "fileinto" : "discard"));
	if (a->type == SIEVE_ACTION_FILEINTO)
		json_object_object_add(o, "mailbox",
		    json_object_new_string(a->mailbox));
	if (a->type == SIEVE_ACTION_KEEP)
		json_object_object_add(o, "implicit",
		    json_object_new_boolean(a->implicit));
	for (size_t i = 0; i < a->nflags; i++)
		json_object_array_add(flags,
		    json_object_new_string(a->flags[i]));
	json_object_object_add(o, "flags", flags);
	return o;
}

int
cmd_sieve_test(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "score", required_argument, NULL, 's' },
		{ "trace", no_argument, NULL, 't' },
		{ "mailboxes", required_argument, NULL, 'm' },
		{ "duplicates", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sieve_script *script = NULL;
	struct sieve_result res = { 0 };
	struct buf msg = { 0 };
	json_object *root = NULL, *actions;
	char *errors = NULL, *end, *boxes = NULL;
	const char *dups = NULL;
	struct ledger *ledger = NULL;
	struct sieve_env env = { 0 };
	double score = -1;
	int o, rc = EXIT_USAGE, trace = 0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			errno = 0;
			score = strtod(optarg, &end);
			if (errno || end == optarg || *end != '\0' ||
			    !(score >= 0 && score <= 1)) {
				fprintf(stderr, "mailsift sieve-test: --score "
				    "takes a number from 0 to 1, not '%s'\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			trace = 1;
			break;
		case 'm':
			free(boxes);
			boxes = xstrdup(optarg);
			break;
		case 'd':
			dups = optarg;
			break;
		case 'h':
			sieve_test_usage(stdout);
			return EXIT_OK;
		default:
			sieve_test_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		sieve_test_usage(stderr);
		free(boxes);
		return EXIT_USAGE;
	}
	rc = EXIT_RUNTIME;
	if (sieve_script_load(argv[optind], &script, &errors) < 0) {
		fprintf(stderr, "%s%s", errors,
		    errors[strlen(errors) - 1] == '\n' ? "" : "\n");
		goto out;
	}
	if (read_file(argv[optind + 1], &msg) < 0) {
		fprintf(stderr, "mailsift sieve-test: cannot read '%s': %s\n",
		    argv[optind + 1], strerror(errno));
		goto out;
	}
	env.score = score;
	if (boxes != NULL) {
		char **v = NULL;
		size_t n = 0;

		for (char *p = boxes, *q; p != NULL; p = q) {
			q = strchr(p, ',');
			if (q != NULL)
				*q++ = '\0';
			v = xreallocarray(v, n + 1, sizeof(char *));
			v[n++] = p;
		}
		env.mailboxes = v;
		env.nmailboxes = n;
	}
	if (dups != NULL) {
		if (ledger_open(dups, &ledger, &errors) < 0) {
			fprintf(stderr, "mailsift sieve-test: %s\n", errors);
			goto out;
		}
		env.dup_lookup = dup_lookup;
		env.dup_ctx = ledger;
	}
	if (sieve_eval_env(script, msg.data ? msg.data : "", msg.len, &env,
	    &res, &errors) < 0) {
		fprintf(stderr, "mailsift sieve-test: %s\n", errors);
		goto out;
	}
	/* the actions "happened" once printed: record as the daemon does */
	for (size_t i = 0; ledger != NULL && i < res.ndups; i++) {
		if (sieve_dup_record(&res.dups[i]) &&
		    ledger_duplicate_mark(ledger, res.dups[i].id,
		    (long long)time(NULL), SIEVE_DUP_MAX_AGE) < 0) {
			fprintf(stderr, "mailsift sieve-test: cannot record "
			    "the duplicate IDs in %s: %s\n", dups,
			    ledger_error(ledger));
			goto out;
		}
	}
	root = json_object_new_object();
	actions = json_object_new_array();
	for (size_t i = 0; i < res.n; i++)
		json_object_array_add(actions, action_json(&res.actions[i]));
	json_object_object_add(root, "actions", actions);
	if (res.rule)
		json_object_object_add(root, "rule",
		    json_object_new_string(res.rule));
	if (trace) {
		json_object *lines = json_object_new_array();

		for (size_t i = 0; i < res.nlines; i++)
			json_object_array_add(lines,
			    json_object_new_int(res.lines[i]));
		json_object_object_add(root, "trace", lines);
	}
	printf("%s\n", json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = EXIT_OK;
out:
	json_object_put(root);
	ledger_close(&ledger);
	free((void *)env.mailboxes);
	free(boxes);
	sieve_result_release(&res);
	sieve_script_free(&script);
	buf_release(&msg);
	free(errors);
	return rc;
}
