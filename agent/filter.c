/*
 * filter.c - the classifier seam (filter.h): glues the tokenizer, the
 * model (classify.c) and the token store (state/tokens.c), and words the
 * evidence for --explain.  Used alike by the command line and the daemon.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/classify.h"
#include "agent/filter.h"
#include "agent/message.h"
#include "agent/tokenize.h"
#include "agent/xmem.h"
#include "state/tokens.h"

#define EVIDENCE_PER_SIDE 8

struct filter {
	struct tokens *store;
	struct classify_params params;
	size_t max_bytes;
	int in_batch;		/* between filter_begin and commit/rollback */
};

int
filter_open(const char *db_path, struct filter **filter_r, char **err_r)
{
	struct filter *f = xcalloc(1, sizeof(*f));

	*filter_r = NULL;
	if (tokens_open(db_path, &f->store, err_r) < 0) {
		free(f);
		return -1;
	}
	classify_defaults(&f->params);
	f->max_bytes = TOKENIZE_DEFAULT_MAX_BYTES;
	*filter_r = f;
	return 0;
}

enum state_failure
filter_failure_kind(struct filter *f)
{
	return tokens_failure_kind(f->store);
}

char *
filter_failure(struct filter *f)
{
	return tokens_failure(f->store);
}

int
filter_map_store(struct filter *f, char **err_r)
{
	return tokens_map_file(f->store, err_r);
}

void
filter_release_memory(struct filter *f)
{
	tokens_release_memory(f->store);
}

void
filter_close(struct filter **fp)
{
	if (*fp == NULL)
		return;
	tokens_close(&(*fp)->store);
	free(*fp);
	*fp = NULL;
}

void
filter_configure(struct filter *f, double spam_cut, double ham_cut,
    size_t max_bytes)
{
	f->params.spam_cut = spam_cut;
	f->params.ham_cut = ham_cut;
	f->max_bytes = max_bytes ? max_bytes : TOKENIZE_DEFAULT_MAX_BYTES;
}

int
filter_begin(struct filter *f, char **err_r)
{
	if (tokens_begin(f->store, err_r) < 0)
		return -1;
	f->in_batch = 1;
	return 0;
}

int
filter_commit(struct filter *f, char **err_r)
{
	f->in_batch = 0;
	return tokens_commit(f->store, err_r);
}

void
filter_rollback(struct filter *f)
{
	f->in_batch = 0;
	tokens_rollback(f->store);
}

const char *
verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_HAM:
		return "ham";
	case VERDICT_SPAM:
		return "spam";
	default:
		return "unsure";
	}
}

static uint64_t *
hashes_of(const struct features *ft)
{
	uint64_t *h = xreallocarray(NULL, ft->n ? ft->n : 1, sizeof(*h));

	for (size_t i = 0; i < ft->n; i++)
		h[i] = ft->v[i].hash;
	return h;
}

/* Words for a feature text, e.g. 'Subject word "viagra"'. */
static char *
describe(const char *text)
{
	static const struct { const char *tag, *words; } tags[] = {
		{ "relay-host", "relay host" },
		{ "relay-ip", "relay IP address" },
		{ "url-host", "link to host" },
		{ "from-addr", "sender address" },
		{ "from-domain", "sender domain" },
		{ "sender-addr", "Sender address" },
		{ "sender-domain", "Sender domain" },
		{ "reply-to-addr", "Reply-To address" },
		{ "reply-to-domain", "Reply-To domain" },
		{ "return-path-addr", "Return-Path address" },
		{ "return-path-domain", "Return-Path domain" },
		{ "html", "HTML tag" },
		{ "mime-type", "MIME part of type" },
		{ "mime-encoding", "MIME transfer encoding" },
		{ "charset", "character set" },
		{ "attach-type", "attachment of type" },
		{ "attach-name", "attachment named" },
		{ "attach-ext", "attachment with extension" },
		{ "header", "header field" },
		{ "message-id", "Message-ID host part" },
	};
	const char *colon = strchr(text, ':');
	const char *value = colon ? colon + 1 : text;
	const char *kind = strchr(value, ' ') ? "phrase" : "word";

	if (colon == NULL)
		return xasprintf("body %s \"%s\"", kind, text);
	for (size_t i = 0; i < sizeof(tags) / sizeof(*tags); i++)
		if (strlen(tags[i].tag) == (size_t)(colon - text) &&
		    strncmp(text, tags[i].tag, (size_t)(colon - text)) == 0)
			return xasprintf("%s \"%s\"", tags[i].words, value);
	/* Header words: "subject:free" -> Subject word "free". */
	{
		char *name = xstrndup(text, (size_t)(colon - text));
		char *s;
		for (char *c = name; *c; c++)
			if (c == name || c[-1] == '-')
				*c = (char)(*c >= 'a' && *c <= 'z' ?
				    *c - 'a' + 'A' : *c);
		s = xasprintf("%s %s \"%s\"", name, kind, value);
		free(name);
		return s;
	}
}

struct ranked {
	size_t idx;
	double f;
};

static int
cmp_strength(const void *a, const void *b)
{
	double x = ((const struct ranked *)a)->f - 0.5;
	double y = ((const struct ranked *)b)->f - 0.5;

	x = x < 0 ? -x : x;
	y = y < 0 ? -y : y;
	if (x != y)
		return x > y ? -1 : 1;
	return ((const struct ranked *)a)->idx <
	    ((const struct ranked *)b)->idx ? -1 : 1;
}

/* Fills the evidence and the explanation of r from the features. */
static void
explain(struct filter *f, const struct features *ft,
    const struct token_counts *counts, const double *prob,
    struct filter_result *r)
{
	struct ranked *rk = xreallocarray(NULL, ft->n ? ft->n : 1,
	    sizeof(*rk));
	struct buf out = { 0 };
	size_t nrk = 0, nside[2] = { 0, 0 };

	for (size_t i = 0; i < ft->n; i++) {
		if (!classify_significant(&f->params, prob[i]))
			continue;
		rk[nrk].idx = i;
		rk[nrk++].f = prob[i];
	}
	qsort(rk, nrk, sizeof(*rk), cmp_strength);
	r->evidence = xcalloc(2 * EVIDENCE_PER_SIDE, sizeof(*r->evidence));
	for (int side = 1; side >= 0; side--) {
		for (size_t k = 0; k < nrk; k++) {
			struct filter_evidence *e;
			size_t i = rk[k].idx;

			if ((rk[k].f > 0.5) != side ||
			    nside[side] == EVIDENCE_PER_SIDE)
				continue;
			nside[side]++;
			e = &r->evidence[r->nevidence++];
			e->feature = xstrdup(feature_text(ft, i));
			e->description = describe(e->feature);
			e->spam = counts[i].spam;
			e->ham = counts[i].ham;
			e->probability = prob[i];
		}
	}
	buf_printf(&out, "score %.9g: %s (spam at %g or more, ham below "
	    "%g)\n", r->score, verdict_name(r->verdict), f->params.spam_cut,
	    f->params.ham_cut);
	buf_printf(&out, "learned from %u spam and %u ham messages; this "
	    "message has %zu features, %zu of them telling\n", r->nspam,
	    r->nham, ft->n, nrk);
	for (size_t k = 0; k < r->nevidence; k++) {
		const struct filter_evidence *e = &r->evidence[k];
		if (k == 0 || (e->probability > 0.5) !=
		    (r->evidence[k - 1].probability > 0.5))
			buf_printf(&out, "evidence for %s:\n",
			    e->probability > 0.5 ? "spam" : "ham");
		buf_printf(&out, "  %s: seen in %u spam, %u ham\n",
		    e->description, e->spam, e->ham);
	}
	if (r->nevidence == 0)
		buf_appends(&out, "no telling evidence: the model has not "
		    "seen enough of this kind of mail\n");
	if (ft->truncated)
		buf_printf(&out, "only the first %zu of %zu bytes were read "
		    "(the cap per message)\n", ft->bytes_read,
		    ft->bytes_total);
	r->explain = buf_steal(&out);
	free(rk);
}

/* The regression's log-odds: the bias plus the weights present. */
static double
regression_z(const struct token_counts *counts, size_t n,
    const struct token_totals *tot)
{
	int64_t sum = tot->bias;

	for (size_t i = 0; i < n; i++)
		sum += counts[i].weight;
	return (double)sum / CLASSIFY_WEIGHT_SCALE;
}

/* The key a training is recorded under: the message's content hash
 * (message.h: CRLF read as LF, so a message from a file and from IMAP is
 * one message) of the bytes read, so that training is idempotent and
 * untraining finds the training from the same bytes. */
static uint64_t
content_key(const char *msg, size_t len)
{
	char hex[MESSAGE_HASH_LEN + 1];

	message_hash(msg, len, hex);
	hex[16] = '\0';
	return strtoull(hex, NULL, 16);
}

/* Stores written before trainings were keyed by content recorded them
 * under a hash of the message's feature set; they are still found so. */
static uint64_t
feature_set_key(const struct features *ft)
{
	unsigned char b[8];
	uint64_t h = 0;

	for (size_t i = 0; i < ft->n; i++) {
		for (int k = 0; k < 8; k++)
			b[k] = (unsigned char)(ft->v[i].hash >> (8 * k));
		h = feature_hash((const char *)b, 8) ^
		    (h * 0x9e3779b97f4a7c15ULL);
	}
	return h;
}

int
filter_score(struct filter *f, const char *msg, size_t len, int want_explain,
    struct filter_result *result_r, char **err_r)
{
	struct features ft;
	struct token_counts *counts = NULL;
	struct token_totals tot;
	double *prob = NULL, z, chi;
	uint64_t *hashes = NULL;
	int rc = -1;

	memset(result_r, 0, sizeof(*result_r));
	memset(&ft, 0, sizeof(ft));
	if (len == 0) {
		*err_r = xstrdup("empty message: there is nothing to score");
		return -1;
	}
	tokenize(msg, len, f->max_bytes, &ft);
	hashes = hashes_of(&ft);
	counts = xreallocarray(NULL, ft.n ? ft.n : 1, sizeof(*counts));
	prob = xreallocarray(NULL, ft.n ? ft.n : 1, sizeof(*prob));
	if (tokens_get(f->store, hashes, ft.n, counts, &tot, err_r) < 0)
		goto out;
	z = regression_z(counts, ft.n, &tot);
	for (size_t i = 0; i < ft.n; i++)
		prob[i] = classify_token(&f->params, counts[i].spam,
		    counts[i].ham, tot.spam, tot.ham);
	chi = classify_chi(&f->params, prob, ft.n);
	result_r->score = classify_score(&f->params, chi, z, tot.spam,
	    tot.ham);
	result_r->verdict = (enum verdict)classify_verdict(&f->params,
	    result_r->score);
	result_r->nspam = tot.spam;
	result_r->nham = tot.ham;
	result_r->bytes_read = ft.bytes_read;
	result_r->bytes_total = ft.bytes_total;
	if (want_explain)
		explain(f, &ft, counts, prob, result_r);
	rc = 0;
out:
	free(hashes);
	free(counts);
	free(prob);
	features_release(&ft);
	return rc;
}

/* Untrains the latest training of the message as is_spam, under either
 * of its keys: 0, -2 if it was not trained so, -1 on a store error. */
static int
unlearn(struct filter *f, const uint64_t keys[2], const uint64_t *hashes,
    size_t n, int is_spam, char **err_r)
{
	int not_trained = 0;

	for (int k = 0; k < 2; k++) {
		if (k > 0) {
			free(*err_r);
			*err_r = NULL;
		}
		if (tokens_unlearn(f->store, keys[k], hashes, n, is_spam,
		    &not_trained, err_r) == 0)
			return 0;
		if (!not_trained)
			return -1;
	}
	return -2;
}

/* Takes back any training of the message as the other class: 1 if it
 * is already trained as is_spam, 0 if not (any more), -1 on error. */
static int
unlearn_other(struct filter *f, const uint64_t keys[2],
    const uint64_t *hashes, size_t n, int is_spam, char **err_r)
{
	for (int k = 0; k < 2; k++) {
		int found, cls;

		while ((found = tokens_find(f->store, keys[k], &cls,
		    err_r)) == 1 && cls != is_spam)
			if (tokens_unlearn(f->store, keys[k], hashes, n, cls,
			    NULL, err_r) < 0)
				return -1;
		if (found != 0)
			return found;
	}
	return 0;
}

int
filter_learn(struct filter *f, const char *msg, size_t len, int is_spam,
    int untrain, char **err_r)
{
	struct features ft;
	struct token_counts *counts = NULL;
	struct token_totals tot;
	uint64_t *hashes = NULL, keys[2];
	int rc = -1, own = !f->in_batch;

	memset(&ft, 0, sizeof(ft));
	if (len == 0) {
		*err_r = xstrdup("empty message: there is nothing to learn");
		return -1;
	}
	tokenize(msg, len, f->max_bytes, &ft);
	hashes = hashes_of(&ft);
	keys[0] = content_key(msg, ft.bytes_read);
	keys[1] = feature_set_key(&ft);
	/* A move to the other class is one change. */
	if (own && tokens_begin(f->store, err_r) < 0)
		goto out;
	if (untrain) {
		rc = unlearn(f, keys, hashes, ft.n, is_spam, err_r);
		goto done;
	}
	if ((rc = unlearn_other(f, keys, hashes, ft.n, is_spam, err_r)) != 0)
		goto done;
	rc = -1;
	counts = xreallocarray(NULL, ft.n ? ft.n : 1, sizeof(*counts));
	if (tokens_get(f->store, hashes, ft.n, counts, &tot, err_r) < 0)
		goto done;
	rc = tokens_learn(f->store, keys[0], hashes, ft.n, is_spam,
	    classify_update(&f->params, regression_z(counts, ft.n, &tot),
	    is_spam), err_r);
done:
	if (own && rc >= 0 && tokens_commit(f->store, err_r) < 0)
		rc = -1;
	else if (own && rc < 0)
		tokens_rollback(f->store);
out:
	free(counts);
	free(hashes);
	features_release(&ft);
	return rc;
}

void
filter_result_release(struct filter_result *r)
{
	for (size_t i = 0; i < r->nevidence; i++) {
		free(r->evidence[i].feature);
		free(r->evidence[i].description);
	}
	free(r->evidence);
	free(r->explain);
	memset(r, 0, sizeof(*r));
}
