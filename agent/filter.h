/*
 * filter.h - the spam classifier as the rest of mailsift sees it:
 * message bytes in, a score in [0,1] and a verdict out; and exact
 * train/untrain.  Tokenizing (tokenize.c), the model (classify.c) and the
 * token store (state/tokens.c) hide behind this seam.
 */
#ifndef MAILSIFT_FILTER_H
#define MAILSIFT_FILTER_H

#include <stddef.h>

#include "state/fsfail.h"

enum verdict {
	VERDICT_HAM,
	VERDICT_UNSURE,
	VERDICT_SPAM
};

/* One piece of evidence, for --explain and --json. */
struct filter_evidence {
	char *feature;		/* owned; the feature text, e.g.
				 * "subject:viagra" */
	char *description;	/* owned; in words, e.g. 'Subject word
				 * "viagra"' */
	unsigned spam;		/* trained spam messages that had it */
	unsigned ham;		/* trained ham messages that had it */
	double probability;	/* the model's spam probability for it */
};

struct filter_result {
	double score;		/* 0 = surely ham, 1 = surely spam */
	enum verdict verdict;
	char *explain;		/* owned, human-readable lines, or NULL when
				 * not asked for */
	/* The rest is filled only when explain was asked for. */
	struct filter_evidence *evidence;	/* owned; strongest first,
						 * spam side then ham side */
	size_t nevidence;
	unsigned nspam;		/* messages trained as spam */
	unsigned nham;		/* messages trained as ham */
	size_t bytes_read;	/* bytes of the message looked at */
	size_t bytes_total;	/* its size: more than bytes_read when the
				 * message was cut at the configured cap */
};

struct filter;

/* Opens (creating if needed) the token store at db_path.  -1 with a
 * malloc'd *err_r on failure (e.g. a corrupt or foreign database). */
int filter_open(const char *db_path, struct filter **filter_r, char **err_r);
void filter_close(struct filter **filter);

/* For a command that scores or trains a few messages and exits: reads
 * the token store through mmap (see tokens_map_file). */
int filter_map_store(struct filter *f, char **err_r);

/* Gives back the token store's cache; for a daemon about to sit idle. */
void filter_release_memory(struct filter *f);

/* Whether the token store's last call failed, and whether that can pass
 * (disk full, read-only, ...; state/fsfail.h). */
enum state_failure filter_failure_kind(struct filter *f);
/* Why the token store's last call failed, as "PATH: CAUSE; FIX";
 * malloc'd. */
char *filter_failure(struct filter *f);

/* Sets the verdict thresholds (spam at score >= spam_cut, ham below
 * ham_cut, unsure between) and the bytes read per message (0: the
 * default, TOKENIZE_DEFAULT_MAX_BYTES).  filter_open uses the defaults
 * of classify.h. */
void filter_configure(struct filter *f, double spam_cut, double ham_cut,
    size_t max_bytes);

/* Bulk training: every filter_learn between filter_begin and
 * filter_commit is one transaction.  After a failed filter_learn inside
 * a batch, call filter_rollback (nothing of the batch is kept). */
int filter_begin(struct filter *f, char **err_r);
int filter_commit(struct filter *f, char **err_r);
void filter_rollback(struct filter *f);

/* Scores len bytes of msg without learning from them.  An empty message
 * is refused (-1).  Only the first max_bytes bytes are read. */
int filter_score(struct filter *f, const char *msg, size_t len, int explain,
    struct filter_result *result_r, char **err_r);

/* Learns msg as spam (is_spam=1) or ham, once: the same bytes (CRLF read
 * as LF) learned again as the same class change nothing and return 1; as
 * the other class, the earlier training is taken back first (a move).
 * untrain=1 reverses the training of the same bytes as that class
 * exactly.  0 on a change; -1 with *err_r on failure; -2 when untraining
 * a message that was not learned as that class (nothing changed: an open
 * batch stays usable). */
int filter_learn(struct filter *f, const char *msg, size_t len, int is_spam,
    int untrain, char **err_r);

void filter_result_release(struct filter_result *r);
const char *verdict_name(enum verdict v);

#endif
