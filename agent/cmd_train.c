/*
 * cmd_train.c - the classifier's command-line verbs: `train` and `untrain`
 * (argv[0] tells which) learn or unlearn message files, a whole mbox or a
 * Maildir, in one transaction; `score` classifies one message without
 * learning and prints "SCORE VERDICT", optionally the evidence in words or
 * one JSON object.  The store is named by a config file (-c) or directly
 * (--db).  Each message is read only up to the cap per message.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "agent/bootstrap.h"
#include "agent/commands.h"
#include "agent/config.h"
#include "agent/evidence.h"
#include "agent/filter.h"
#include "agent/state_dir.h"
#include "agent/tokenize.h"
#include "agent/xmem.h"

/* Where the store is and how it is tuned, from -c or --db. */
struct target {
	const char *config_path;
	const char *db_path;
	struct filter *filter;
	size_t max_bytes;
};

static int
target_open(struct target *t, const char *cmd)
{
	struct config *cfg = NULL;
	char *err = NULL, *db = NULL;
	int rc = EXIT_RUNTIME;

	t->max_bytes = TOKENIZE_DEFAULT_MAX_BYTES;
	if ((t->config_path == NULL) == (t->db_path == NULL)) {
		fprintf(stderr, "mailsift %s: give either -c CONFIG or --db "
		    "PATH (see 'mailsift %s --help')\n", cmd, cmd);
		return EXIT_USAGE;
	}
	if (t->config_path != NULL) {
		if (config_load(t->config_path, &cfg, &err) < 0) {
			fprintf(stderr, "%s", err);
			if (err[0] && err[strlen(err) - 1] != '\n')
				fputc('\n', stderr);
			rc = EXIT_USAGE;
			goto out;
		}
		/* A new user trains before the first run: make state_dir
		 * as the daemon would. */
		if (state_dir_make(cfg, &err) < 0) {
			fprintf(stderr, "mailsift %s: %s\n", cmd, err);
			goto out;
		}
		db = config_tokens_db(cfg);
	} else {
		db = xstrdup(t->db_path);
	}
	if (filter_open(db, &t->filter, &err) < 0) {
		fprintf(stderr, "mailsift %s: %s\n", cmd, err);
		goto out;
	}
	if (cfg != NULL) {
		t->max_bytes = cfg->max_message_bytes;
		filter_configure(t->filter, cfg->spam_threshold,
		    cfg->ham_threshold, t->max_bytes);
	}
	rc = EXIT_OK;
out:
	free(err);
	free(db);
	config_free(&cfg);
	return rc;
}

/* Reads at most max bytes of fp into out; *total_r is the whole size
 * (the rest is read and dropped, so a pipe is drained, not stored). */
static int
read_capped(FILE *fp, size_t max, struct buf *out, size_t *total_r)
{
	char chunk[65536];
	size_t n, total = 0;

	out->len = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (total < max)
			buf_append(out, chunk, n < max - total ? n :
			    max - total);
		total += n;
	}
	*total_r = total;
	return ferror(fp) ? -1 : 0;
}

static int
read_file(const char *path, size_t max, struct buf *out, size_t *total_r)
{
	FILE *fp = path ? fopen(path, "rb") : stdin;
	int rc;

	if (fp == NULL)
		return -1;
	rc = read_capped(fp, max, out, total_r);
	if (path != NULL)
		fclose(fp);
	return rc;
}

/* --- train / untrain ---------------------------------------------------- */

enum source_kind { SRC_FILE, SRC_MBOX, SRC_MAILDIR };

struct source {
	enum source_kind kind;
	const char *path;	/* NULL: stdin */
};

struct progress {
	const char *verb;	/* "training" */
	int tty;
	size_t done;		/* messages learned */
	size_t unchanged;	/* already trained so: nothing to do */
	size_t skipped;
	size_t total;		/* messages expected, 0 if unknown */
	double fraction;	/* of the input read, when total is 0 */
	struct timespec last;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
progress_show(struct progress *p, int final)
{
	struct timespec ts;
	double frac;
	int width = 30, fill;

	if (!p->tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!final && (ts.tv_sec - p->last.tv_sec) * 1000000000L +
	    (ts.tv_nsec - p->last.tv_nsec) < 100000000L)
		return;
	p->last = ts;
	frac = p->total ? (double)(p->done + p->unchanged + p->skipped) /
	    (double)p->total :
	    p->fraction;
	if (final)
		frac = 1;
	fill = (int)(frac * width);
	fprintf(stderr, "\r%s [%.*s%*s] %3d%% %zu messages", p->verb, fill,
	    "##############################", width - fill, "",
	    (int)(frac * 100), p->done);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

struct learn_ctx {
	struct filter *filter;
	const char *cmd;
	int is_spam;
	int untrain;
	struct progress prog;
	int failed;		/* a store error: the batch is void */
};

/* Learns one message; an empty one is skipped with a warning. */
static void
learn_one(struct learn_ctx *c, const char *where, const char *msg,
    size_t len)
{
	char *err = NULL;
	int rc;

	if (c->failed)
		return;
	if (len == 0) {
		fprintf(stderr, "%smailsift %s: %s: empty message, skipped\n",
		    c->prog.tty ? "\n" : "", c->cmd, where);
		c->prog.skipped++;
		return;
	}
	rc = filter_learn(c->filter, msg, len, c->is_spam, c->untrain, &err);
	if (rc < 0) {
		fprintf(stderr, "%smailsift %s: %s: %s%s\n", c->prog.tty ?
		    "\n" : "", c->cmd, where, err, rc == -2 ? ", skipped" : "");
		free(err);
		if (rc == -2)
			c->prog.skipped++;
		else
			c->failed = 1;
		return;
	}
	if (rc == 1)
		c->prog.unchanged++;
	else
		c->prog.done++;
	progress_show(&c->prog, 0);
}

static int
learn_file(struct learn_ctx *c, const char *path, size_t max)
{
	struct buf msg = { 0 };
	size_t total;

	if (read_file(path, max, &msg, &total) < 0) {
		fprintf(stderr, "mailsift %s: cannot read %s: %s\n", c->cmd,
		    path ? path : "standard input", strerror(errno));
		buf_release(&msg);
		return -1;
	}
	learn_one(c, path ? path : "standard input", msg.data, msg.len);
	buf_release(&msg);
	return 0;
}

/* An mbox: messages start at "From " lines that follow a blank line (or
 * open the file).  Each message is kept only up to max bytes. */
static int
learn_mbox(struct learn_ctx *c, const char *path, size_t max)
{
	FILE *fp = fopen(path, "rb");
	struct buf msg = { 0 };
	char *line = NULL, where[64];
	size_t cap = 0, count = 0, msg_bytes = 0;
	ssize_t n;
	int prev_blank = 1, in_msg = 0;
	struct stat st;
	double size;

	if (fp == NULL) {
		fprintf(stderr, "mailsift %s: cannot open mbox %s: %s\n",
		    c->cmd, path, strerror(errno));
		return -1;
	}
	size = fstat(fileno(fp), &st) == 0 && st.st_size > 0 ?
	    (double)st.st_size : 1;
	while ((n = getline(&line, &cap, fp)) >= 0) {
		if (prev_blank && n >= 5 && memcmp(line, "From ", 5) == 0) {
			if (in_msg) {
				snprintf(where, sizeof(where), "%s message %zu",
				    "mbox", count);
				learn_one(c, where, msg.data, msg.len);
			}
			msg.len = 0;
			msg_bytes = 0;
			in_msg = 1;
			count++;
			c->prog.fraction = (double)ftello(fp) / size;
			prev_blank = 0;
			continue;
		}
		prev_blank = n == 1 || (n == 2 && line[0] == '\r');
		if (!in_msg)
			continue;
		if (msg_bytes < max)
			buf_append(&msg, line, (size_t)n < max - msg_bytes ?
			    (size_t)n : max - msg_bytes);
		msg_bytes += (size_t)n;
	}
	if (in_msg) {
		snprintf(where, sizeof(where), "mbox message %zu", count);
		learn_one(c, where, msg.data, msg.len);
	}
	if (count == 0)
		fprintf(stderr, "mailsift %s: %s: no messages (an mbox starts "
		    "each message with a \"From \" line)\n", c->cmd, path);
	free(line);
	buf_release(&msg);
	n = ferror(fp) ? -1 : 0;
	fclose(fp);
	return (int)n;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The message files of a Maildir (cur/ and new/), sorted. */
static int
maildir_list(const char *dir, char ***files_r, size_t *n_r)
{
	static const char *const sub[] = { "cur", "new" };
	char **files = NULL;
	size_t n = 0, cap = 0;
	int found = 0;

	for (size_t s = 0; s < 2; s++) {
		char *path = xasprintf("%s/%s", dir, sub[s]);
		DIR *d = opendir(path);
		struct dirent *de;

		if (d == NULL) {
			free(path);
			continue;
		}
		found = 1;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				files = xreallocarray(files, cap,
				    sizeof(*files));
			}
			files[n++] = xasprintf("%s/%s", path, de->d_name);
		}
		closedir(d);
		free(path);
	}
	if (!found)
		return -1;
	if (n > 1)
		qsort(files, n, sizeof(*files), cmp_str);
	*files_r = files;
	*n_r = n;
	return 0;
}

static int
learn_maildir(struct learn_ctx *c, const char *dir, size_t max)
{
	char **files = NULL;
	size_t n = 0;
	int rc = 0;

	if (maildir_list(dir, &files, &n) < 0) {
		fprintf(stderr, "mailsift %s: %s is not a Maildir (it has no "
		    "cur/ or new/ directory)\n", c->cmd, dir);
		return -1;
	}
	c->prog.total += n;
	for (size_t i = 0; i < n; i++) {
		if (learn_file(c, files[i], max) < 0)
			rc = -1;
		free(files[i]);
	}
	free(files);
	return rc;
}

/* train -c CONFIG --from-folders: the account's folders, through the
 * ledger (agent/bootstrap.c), so each message is learned once. */
static int
train_from_folders(const char *cmd, const struct target *tg, int conflict,
    const char **ham_folders, size_t nham, int unread_too)
{
	struct config *cfg = NULL;
	char *err = NULL;
	int rc;

	if (conflict || tg->config_path == NULL || tg->db_path != NULL) {
		fprintf(stderr, "mailsift %s: --from-folders needs -c CONFIG "
		    "and no --spam, --ham, --db, files, --mbox or --maildir; "
		    "--ham-folder and --include-unread go with "
		    "--from-folders\n", cmd);
		return EXIT_USAGE;
	}
	if (config_load(tg->config_path, &cfg, &err) < 0) {
		fprintf(stderr, "%s", err);
		if (err[0] && err[strlen(err) - 1] != '\n')
			fputc('\n', stderr);
		free(err);
		return EXIT_USAGE;
	}
	rc = bootstrap_from_folders(cfg, nham ? ham_folders : NULL, nham,
	    unread_too);
	config_free(&cfg);
	return rc;
}

static void
train_usage(FILE *out, const char *cmd)
{
	int untrain = strcmp(cmd, "untrain") == 0;

	fprintf(out,
	    "usage: mailsift %s --spam|--ham [-c CONFIG | --db PATH] "
	    "[FILE...]\n"
	    "       mailsift %s --spam|--ham [-c CONFIG | --db PATH] "
	    "--mbox FILE | --maildir DIR\n"
	    "%s"
	    "\n%s\n\n"
	    "  --spam, --ham     the class of the messages\n"
	    "  -c, --config FILE use the token store of this configuration\n"
	    "  --db PATH         use this token store file (created if "
	    "missing)\n"
	    "  --mbox FILE       every message of an mbox file\n"
	    "  --maildir DIR     every message of a Maildir (cur/ and new/)\n"
	    "%s"
	    "  -h, --help        show this help\n\n"
	    "With no FILE, one message is read from standard input.  All "
	    "messages are\nlearned in one transaction: on a store error "
	    "nothing is kept.  Exit status:\n0 ok, 1 a message or the store "
	    "failed, 2 usage or configuration error.\n", cmd, cmd,
	    untrain ? "" : "       mailsift train -c CONFIG --from-folders "
	    "[--ham-folder NAME]... [--include-unread]\n",
	    untrain ? "Reverses an earlier 'mailsift train' of the same "
	    "messages and class exactly;\na message that was not trained so "
	    "is skipped with a warning." :
	    "Learns messages as spam or as ham, each once: a message "
	    "already trained as\nthat class is left as it is, one trained as "
	    "the other class moves.",
	    untrain ? "" : "  --from-folders    learn the account's Junk "
	    "folder as spam and the read mail\n"
	    "                    of the watched folders as ham, each message "
	    "once (needs -c)\n"
	    "  --ham-folder NAME with --from-folders: learn this folder as "
	    "ham instead\n"
	    "                    (repeatable)\n"
	    "  --include-unread  with --from-folders: learn the unread mail "
	    "of the ham\n"
	    "                    folders as ham too\n");
}

int
cmd_train(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spam", no_argument, NULL, 's' },
		{ "ham", no_argument, NULL, 'H' },
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "mbox", required_argument, NULL, 'm' },
		{ "maildir", required_argument, NULL, 'M' },
		{ "from-folders", no_argument, NULL, 'F' },
		{ "ham-folder", required_argument, NULL, 'f' },
		{ "include-unread", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0];
	const char **ham_folders = xcalloc((size_t)argc + 1,
	    sizeof(*ham_folders));
	size_t nham_folders = 0;
	int from_folders = 0, unread_too = 0;
	struct target tg = { 0 };
	struct learn_ctx c = { .cmd = cmd, .is_spam = -1 };
	struct source *src = xcalloc((size_t)argc + 1, sizeof(*src));
	size_t nsrc = 0;
	double t0 = now_s();
	char *err = NULL;
	int o, rc = EXIT_USAGE, bad = 0;

	c.untrain = strcmp(cmd, "untrain") == 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
		case 'H':
			if (c.is_spam != -1 && c.is_spam != (o == 's')) {
				fprintf(stderr, "mailsift %s: give --spam or "
				    "--ham, not both\n", cmd);
				goto out;
			}
			c.is_spam = o == 's';
			break;
		case 'c':
			tg.config_path = optarg;
			break;
		case 'd':
			tg.db_path = optarg;
			break;
		case 'm':
		case 'M':
			src[nsrc].kind = o == 'm' ? SRC_MBOX : SRC_MAILDIR;
			src[nsrc++].path = optarg;
			break;
		case 'F':
			from_folders = 1;
			break;
		case 'f':
			ham_folders[nham_folders++] = optarg;
			break;
		case 'u':
			unread_too = 1;
			break;
		case 'h':
			train_usage(stdout, cmd);
			rc = EXIT_OK;
			goto out;
		default:
			train_usage(stderr, cmd);
			goto out;
		}
	}
	if (from_folders || nham_folders > 0 || unread_too) {
		rc = train_from_folders(cmd, &tg, c.untrain || !from_folders ||
		    c.is_spam != -1 || nsrc > 0 || optind < argc, ham_folders,
		    nham_folders, unread_too);
		goto out;
	}
	if (c.is_spam == -1) {
		fprintf(stderr, "mailsift %s: say whether the messages are "
		    "spam or ham (--spam or --ham)\n", cmd);
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		src[nsrc].kind = SRC_FILE;
		src[nsrc++].path = argv[i];
	}
	if (nsrc == 0) {
		src[0].kind = SRC_FILE;
		src[nsrc++].path = NULL;
	}
	if ((rc = target_open(&tg, cmd)) != EXIT_OK)
		goto out;
	rc = EXIT_RUNTIME;
	c.filter = tg.filter;
	c.prog.verb = c.untrain ? "untraining" : "training";
	c.prog.tty = isatty(STDERR_FILENO);
	for (size_t i = 0; i < nsrc; i++)
		if (src[i].kind == SRC_FILE)
			c.prog.total++;
	if (filter_begin(tg.filter, &err) < 0) {
		fprintf(stderr, "mailsift %s: %s\n", cmd, err);
		goto out;
	}
	for (size_t i = 0; i < nsrc && !c.failed; i++) {
		int r;
		switch (src[i].kind) {
		case SRC_MBOX:
			r = learn_mbox(&c, src[i].path, tg.max_bytes);
			break;
		case SRC_MAILDIR:
			r = learn_maildir(&c, src[i].path, tg.max_bytes);
			break;
		default:
			r = learn_file(&c, src[i].path, tg.max_bytes);
			break;
		}
		if (r < 0)
			bad = 1;
	}
	if (c.failed) {
		filter_rollback(tg.filter);
		if (c.prog.tty)
			fputc('\n', stderr);
		fprintf(stderr, "mailsift %s: nothing was %sed\n", cmd, cmd);
		goto out;
	}
	if (filter_commit(tg.filter, &err) < 0) {
		fprintf(stderr, "mailsift %s: %s\n", cmd, err);
		goto out;
	}
	progress_show(&c.prog, 1);
	if (!c.prog.tty || c.prog.done + c.prog.unchanged +
	    c.prog.skipped > 1) {
		printf("%sed %zu message%s as %s in %.2f s", cmd, c.prog.done,
		    c.prog.done == 1 ? "" : "s", c.is_spam ? "spam" : "ham",
		    now_s() - t0);
		if (c.prog.unchanged)
			printf(", %zu already trained so", c.prog.unchanged);
		printf("%s\n", c.prog.skipped ? ", some skipped (see above)" :
		    "");
	}
	rc = bad || c.prog.skipped ? EXIT_RUNTIME : EXIT_OK;
out:
	free(err);
	free(src);
	free(ham_folders);
	filter_close(&tg.filter);
	return rc;
}

/* --- score -------------------------------------------------------------- */

static void
score_usage(FILE *out)
{
	fprintf(out,
	    "usage: mailsift score [-c CONFIG | --db PATH] [--json] "
	    "[--explain] [FILE]\n\n"
	    "Classifies one message (FILE, or standard input) without "
	    "learning from it.\nThe first line is \"SCORE VERDICT\": SCORE "
	    "from 0 (surely ham) to 1 (surely\nspam) at full precision, "
	    "VERDICT ham, unsure or spam.\n\n"
	    "  -c, --config FILE use the token store of this configuration\n"
	    "  --db PATH         use this token store file\n"
	    "  --explain         add the strongest evidence on both sides\n"
	    "  --json            print one JSON object instead\n"
	    "  -h, --help        show this help\n\n"
	    "Exit status: 0 scored, 1 could not read or score, 2 usage or "
	    "configuration error.\n");
}

static void
print_json(const struct filter_result *r, size_t read, size_t total,
    int explain)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "score", json_object_new_double(r->score));
	json_object_object_add(o, "verdict",
	    json_object_new_string(verdict_name(r->verdict)));
	json_object_object_add(o, "bytes_read", json_object_new_int64(
	    (int64_t)read));
	json_object_object_add(o, "bytes_total", json_object_new_int64(
	    (int64_t)total));
	json_object_object_add(o, "truncated",
	    json_object_new_boolean(read < total));
	if (explain) {
		json_object_object_add(o, "trained_spam",
		    json_object_new_int64(r->nspam));
		json_object_object_add(o, "trained_ham",
		    json_object_new_int64(r->nham));
		json_object_object_add(o, "evidence", evidence_json(r));
		json_object_object_add(o, "explanation",
		    json_object_new_string(r->explain ? r->explain : ""));
	}
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int
cmd_score(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "explain", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct target tg = { 0 };
	struct filter_result r = { 0 };
	struct buf msg = { 0 };
	const char *path = NULL;
	char *err = NULL;
	size_t total = 0;
	int o, rc = EXIT_USAGE, json = 0, explain = 0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			tg.config_path = optarg;
			break;
		case 'd':
			tg.db_path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'e':
			explain = 1;
			break;
		case 'h':
			score_usage(stdout);
			rc = EXIT_OK;
			goto out;
		default:
			score_usage(stderr);
			goto out;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "mailsift score: one message at a time (see "
		    "'mailsift score --help')\n");
		goto out;
	}
	if (optind < argc)
		path = argv[optind];
	if ((rc = target_open(&tg, "score")) != EXIT_OK)
		goto out;
	rc = EXIT_RUNTIME;
	/* One message, a few hundred random pages, then exit: mapping the
	 * store beats copying each page (training gains nothing from it). */
	if (filter_map_store(tg.filter, &err) < 0) {
		fprintf(stderr, "mailsift score: %s\n", err);
		goto out;
	}
	if (read_file(path, tg.max_bytes, &msg, &total) < 0) {
		fprintf(stderr, "mailsift score: cannot read %s: %s\n",
		    path ? path : "standard input", strerror(errno));
		goto out;
	}
	if (filter_score(tg.filter, msg.data ? msg.data : "", msg.len,
	    explain, &r, &err) < 0) {
		fprintf(stderr, "mailsift score: %s: %s\n",
		    path ? path : "standard input", err);
		goto out;
	}
	if (json) {
		print_json(&r, msg.len, total, explain);
	} else {
		printf("%.17g %s\n", r.score, verdict_name(r.verdict));
		if (explain) {
			fputs(r.explain, stdout);
			if (msg.len < total)
				printf("only the first %zu of %zu bytes were "
				    "read (the cap per message)\n", msg.len,
				    total);
		}
	}
	rc = EXIT_OK;
out:
	filter_result_release(&r);
	buf_release(&msg);
	free(err);
	filter_close(&tg.filter);
	return rc;
}
