/*
 * replay.c - the bench's protocols replayed inside one process, through
 * filter.h exactly as the daemon calls it, so that a model variant can be
 * judged on several independent views in a minute rather than in the
 * harness's hour of process starts:
 *
 *   online       score each message, then train it with its label
 *   split        train the first half, score the rest
 *   corrections  train the first tenth, then score each message and train
 *                it only when the verdict was wrong (spam not filed as
 *                spam, ham filed as spam): how the daemon learns
 *   timesplit    train the 2002 sets (easy-ham-1, hard-ham-1, spam-1),
 *                score the later ones (easy-ham-2, spam-2)
 *
 * The order is the harness's (index.tsv) or, with -s SEED, ascending
 * sha256("SEED:path") as prepare-corpus makes it for its own seed.
 * Metrics as report.py computes them.  --speed instead trains the first
 * half in one batch and scores the rest in-process, as the daemon does
 * (no process start): messages per second on one core.
 *
 *   replay [-p PROTOCOL] [-s SEED] [-n N] [-o SCORES] CORPUS_DIR
 *   replay --speed [-r ROUNDS] CORPUS_DIR
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/filter.h"
#include "agent/message.h"
#include "agent/xmem.h"

struct msg {
	char *path;		/* relative to the corpus */
	int is_spam;
	int early;		/* one of the 2002 sets */
	char *data;
	size_t len;
	char key[MESSAGE_HASH_LEN + 1];
};

struct outcome {
	double score;
	int is_spam;
	enum verdict verdict;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: on a shared machine the wall clock also
 * counts the time other processes held the core. */
static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "replay: %s: %s\n", what, err);
	exit(1);
}

static char *
slurp(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[65536];
	size_t n;

	if (fp == NULL)
		die(path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	*len_r = b.len;
	return buf_steal(&b);
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct msg *)a)->key,
	    ((const struct msg *)b)->key);
}

/* The corpus in index.tsv order, or reshuffled by seed. */
static struct msg *
load(const char *dir, const char *seed, size_t *n_r)
{
	char *index = xasprintf("%s/index.tsv", dir), *text, *line, *save;
	struct msg *v = NULL;
	size_t n = 0, cap = 0, len;

	text = slurp(index, &len);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t'), *full;
		if (tab == NULL)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8192;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].is_spam = strncmp(line, "spam", 4) == 0;
		v[n].path = xstrdup(tab + 1);
		v[n].early = strstr(tab + 1, "-1/") != NULL;
		full = xasprintf("%s/%s", dir, tab + 1);
		v[n].data = slurp(full, &v[n].len);
		free(full);
		if (seed != NULL) {
			char *k = xasprintf("%s:%s", seed, v[n].path);
			message_hash(k, strlen(k), v[n].key);
			free(k);
		}
		n++;
	}
	if (seed != NULL)
		qsort(v, n, sizeof(*v), cmp_key);
	free(text);
	free(index);
	*n_r = n;
	return v;
}

static void
train(struct filter *f, const struct msg *m)
{
	char *err = NULL;

	if (filter_learn(f, m->data, m->len, m->is_spam, 0, &err) < 0)
		die(m->path, err);
}

static void
score(struct filter *f, const struct msg *m, struct outcome *o)
{
	struct filter_result r;
	char *err = NULL;

	if (filter_score(f, m->data, m->len, 0, &r, &err) < 0)
		die(m->path, err);
	o->score = r.score;
	o->verdict = r.verdict;
	o->is_spam = m->is_spam;
	filter_result_release(&r);
}

static int
cmp_outcome(const void *a, const void *b)
{
	double x = ((const struct outcome *)a)->score;
	double y = ((const struct outcome *)b)->score;

	return x < y ? -1 : x > y;
}

static int
cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* 1-AUC%, FP%, FN%, unsure%, FN%@0.1%FP as report.py has them. */
static void
report(const char *name, struct outcome *o, size_t n, size_t trained,
    double secs)
{
	double rank_sum = 0, *hams, thr, auc;
	size_t ns = 0, nh = 0, fp = 0, fn = 0, uns = 0, caught = 0, k;

	for (size_t i = 0; i < n; i++) {
		if (o[i].is_spam) {
			ns++;
			fn += o[i].verdict != VERDICT_SPAM;
		} else {
			nh++;
			fp += o[i].verdict == VERDICT_SPAM;
		}
		uns += o[i].verdict == VERDICT_UNSURE;
	}
	hams = xreallocarray(NULL, nh ? nh : 1, sizeof(*hams));
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (!o[i].is_spam)
			hams[k++] = o[i].score;
	qsort(hams, nh, sizeof(*hams), cmp_desc);
	thr = nh ? hams[(size_t)floor(0.001 * (double)nh)] : 0;
	for (size_t i = 0; i < n; i++)
		caught += o[i].is_spam && o[i].score > thr;
	qsort(o, n, sizeof(*o), cmp_outcome);
	for (size_t i = 0; i < n;) {
		size_t j = i, spam_here = 0;
		while (j + 1 < n && o[j + 1].score == o[i].score)
			j++;
		for (size_t q = i; q <= j; q++)
			spam_here += o[q].is_spam;
		rank_sum += ((double)(i + j) / 2 + 1) * (double)spam_here;
		i = j + 1;
	}
	auc = ns && nh ? (rank_sum - (double)ns * ((double)ns + 1) / 2) /
	    ((double)ns * (double)nh) : NAN;
	printf("%-12s %5zu %5zu %7.3f %6.2f %6.2f %6.2f %8.1f %6.1f %.9f\n",
	    name, n, trained, 100 * (1 - auc), nh ? 100.0 * (double)fp /
	    (double)nh : NAN, ns ? 100.0 * (double)fn / (double)ns : NAN,
	    n ? 100.0 * (double)uns / (double)n : NAN, ns ? 100.0 *
	    (double)(ns - caught) / (double)ns : NAN, secs, thr);
	free(hams);
}

static struct filter *
open_fresh(const char *dbdir)
{
	char *path = xasprintf("%s/tokens.db", dbdir), *err = NULL;
	struct filter *f;

	unlink(path);
	if (filter_open(path, &f, &err) < 0)
		die(path, err);
	free(path);
	return f;
}

static void
dump(FILE *out, const struct msg *m, const struct outcome *o)
{
	if (out != NULL)
		fprintf(out, "%s\t%.17g\t%s\t%s\n", m->is_spam ? "spam" : "ham",
		    o->score, verdict_name(o->verdict), m->path);
}

static void
run(const char *proto, struct msg *v, size_t n, const char *dbdir,
    FILE *out)
{
	struct filter *f = open_fresh(dbdir);
	struct outcome *o = xcalloc(n ? n : 1, sizeof(*o));
	size_t no = 0, trained = 0, first = 0;
	double t0 = now_s();
	char *err = NULL;
	int online = strcmp(proto, "online") == 0;
	int corrections = strcmp(proto, "corrections") == 0;
	int timesplit = strcmp(proto, "timesplit") == 0;

	if (strcmp(proto, "split") == 0)
		first = n / 2;
	else if (corrections)
		first = n / 10;
	else if (!online && !timesplit)
		die(proto, "no such protocol");
	if (filter_begin(f, &err) < 0)
		die("begin", err);
	for (size_t i = 0; i < n; i++) {
		if (timesplit ? v[i].early : i < first) {
			train(f, &v[i]);
			trained++;
		}
	}
	if (filter_commit(f, &err) < 0)
		die("commit", err);
	for (size_t i = 0; i < n; i++) {
		if (timesplit ? v[i].early : i < first)
			continue;
		score(f, &v[i], &o[no]);
		dump(out, &v[i], &o[no]);
		if (online || (corrections && (o[no].verdict ==
		    VERDICT_SPAM) != v[i].is_spam)) {
			train(f, &v[i]);
			trained++;
		}
		no++;
	}
	report(proto, o, no, trained, now_s() - t0);
	free(o);
	filter_close(&f);
}

/* The daemon's path: one open store, messages scored one after another
 * with the evidence the sorter keeps (it asks for it). */
static void
speed(struct msg *v, size_t n, const char *dbdir, int rounds)
{
	struct filter *f = open_fresh(dbdir);
	struct filter_result r;
	size_t half = n / 2, scored = 0, bytes = 0;
	double t0, t1, c0, c1;
	char *err = NULL;

	t0 = now_s();
	if (filter_begin(f, &err) < 0)
		die("begin", err);
	for (size_t i = 0; i < half; i++)
		train(f, &v[i]);
	if (filter_commit(f, &err) < 0)
		die("commit", err);
	t1 = now_s();
	printf("in-process bulk training: %zu messages in %.2f s, %.0f msg/s\n",
	    half, t1 - t0, (double)half / (t1 - t0));
	t0 = now_s();
	c0 = cpu_s();
	for (int k = 0; k < rounds; k++) {
		for (size_t i = half; i < n; i++) {
			if (filter_score(f, v[i].data, v[i].len, 1, &r,
			    &err) < 0)
				die(v[i].path, err);
			filter_result_release(&r);
			scored++;
			bytes += v[i].len;
		}
	}
	t1 = now_s();
	c1 = cpu_s();
	printf("daemon path (in-process score with evidence): %zu messages, "
	    "mean %.1f KB, %.0f msg/s (%.3f ms each); %.0f msg/s per CPU "
	    "second\n", scored, (double)bytes / (double)scored / 1024,
	    (double)scored / (t1 - t0), 1000 * (t1 - t0) / (double)scored,
	    (double)scored / (c1 - c0));
	filter_close(&f);
}

int
main(int argc, char **argv)
{
	const char *proto = "online", *seed = NULL, *outpath = NULL;
	char dbdir[4096] = "/tmp/replay.XXXXXX";
	size_t n, total, limit = 0;
	struct msg *v;
	FILE *out = NULL;
	int o, do_speed = 0, rounds = 1, keep = 0;
	char *dir_arg = NULL;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--speed") == 0) {
			do_speed = 1;
			memmove(argv + i, argv + i + 1,
			    (size_t)(argc - i) * sizeof(*argv));
			argc--;
			break;
		}
	while ((o = getopt(argc, argv, "p:s:n:o:r:k:")) != -1) {
		switch (o) {
		case 'k': dir_arg = optarg; keep = 1; break;
		case 'p': proto = optarg; break;
		case 's': seed = optarg; break;
		case 'n': limit = (size_t)atol(optarg); break;
		case 'o': outpath = optarg; break;
		case 'r': rounds = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: replay [-p online|split|"
			    "corrections|timesplit] [-s SEED] [-n N] [-o FILE] "
			    "CORPUS_DIR\n       replay --speed [-r ROUNDS] "
			    "CORPUS_DIR\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "replay: give the corpus directory\n");
		return 2;
	}
	if (keep)
		snprintf(dbdir, sizeof(dbdir), "%s", dir_arg);
	else if (mkdtemp(dbdir) == NULL)
		die("mkdtemp", strerror(errno));
	v = load(argv[optind], seed, &total);
	n = total;
	if (limit > 0 && limit < n)
		n = limit;
	if (outpath != NULL && (out = fopen(outpath, "w")) == NULL)
		die(outpath, strerror(errno));
	if (do_speed) {
		speed(v, n, dbdir, rounds);
	} else {
		run(proto, v, n, dbdir, out);
	}
	if (out != NULL)
		fclose(out);
	if (!keep) {
		char *cmd = xasprintf("rm -rf '%s'", dbdir);
		if (system(cmd) != 0)
			fprintf(stderr, "replay: could not remove %s\n", dbdir);
		free(cmd);
	}
	for (size_t i = 0; i < total; i++) {
		free(v[i].path);
		free(v[i].data);
	}
	free(v);
	return 0;
}
