/*
 * filter.h - the spam classifier as the rest of mailsift sees it:
 * message bytes in, a score in [0,1] and a verdict out; and exact
 * train/untrain.  Tokenizing (tokenize.c), the model (classify.c) and the
 * token store (state/tokens.c) hide behind this seam.
 */
#ifndef MAILSIFT_FILTER_H
#define MAILSIFT_FILTER_H

#include <stddef.h>

enum verdict {
	VERDICT_HAM,
	VERDICT_UNSURE,
	VERDICT_SPAM
};

struct filter_result {
	double score;		/* 0 = surely ham, 1 = surely spam */
	enum verdict verdict;
	char *explain;		/* owned, human-readable lines, or NULL when
				 * not asked for */
};

struct filter;

/* Opens (creating if needed) the token store at db_path.  -1 with a
 * malloc'd *err_r on failure (e.g. a corrupt or foreign database). */
int filter_open(const char *db_path, struct filter **filter_r, char **err_r);
void filter_close(struct filter **filter);

/* Scores len bytes of msg without learning from them. */
int filter_score(struct filter *f, const char *msg, size_t len, int explain,
    struct filter_result *result_r, char **err_r);

/* Learns msg as spam (is_spam=1) or ham; untrain=1 reverses an earlier
 * learn of the same bytes and class exactly. */
int filter_learn(struct filter *f, const char *msg, size_t len, int is_spam,
    int untrain, char **err_r);

void filter_result_release(struct filter_result *r);
const char *verdict_name(enum verdict v);

#endif
