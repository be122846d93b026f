/*
 * tokens.h - the token store: for each feature hash, in how many spam and
 * how many ham messages it was seen and its regression weight (an
 * integer, see classify.h); the numbers of spam and ham messages trained
 * and the regression bias; and a record of each training (the message's
 * key, its class and the weight update it applied).  SQLite under
 * state_dir (tokens.db); this module alone owns that file's schema.
 * Callers see numbers, never SQL.
 *
 * Untraining looks up the record of the training it reverses and applies
 * exactly the opposite integer changes, so train then untrain restores
 * every count and weight bit for bit; a feature whose counts return to
 * zero is deleted, so the rows are restored too.
 */
#ifndef MAILSIFT_TOKENS_H
#define MAILSIFT_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "state/fsfail.h"

struct tokens;

struct token_counts {
	uint32_t spam;
	uint32_t ham;
	int64_t weight;
};

struct token_totals {
	uint32_t spam;		/* messages trained as spam */
	uint32_t ham;
	int64_t bias;		/* the regression's bias weight */
};

/* Opens or creates the store at path (":memory:" for tests).  A file
 * that is not SQLite, belongs to another program or to a newer mailsift
 * is refused: -1 with a malloc'd *err_r telling what to do. */
int tokens_open(const char *path, struct tokens **t_r, char **err_r);
void tokens_close(struct tokens **t);

/* Reads pages through a read-only mapping of the file rather than
 * copying each into the page cache of SQLite: for short-lived processes
 * that look up a few hundred random pages and exit.  Not for the daemon,
 * whose RSS would keep every page it ever mapped. */
int tokens_map_file(struct tokens *t, char **err_r);

/* Frees the page cache and the copy of the table in memory (see
 * tokens_get); for a process about to sit idle. */
void tokens_release_memory(struct tokens *t);

/* Whether the last call on t failed, and whether that can pass without
 * touching the store (state/fsfail.h): a daemon waits and retries. */
enum state_failure tokens_failure_kind(struct tokens *t);
/* Why the last call on t failed, as "PATH: CAUSE; FIX"; malloc'd. */
char *tokens_failure(struct tokens *t);

/* The totals alone. */
int tokens_totals(struct tokens *t, struct token_totals *totals_r,
    char **err_r);

/* counts_r[i] = the counts of hashes[i] (zeros if never seen), and the
 * totals, read in one snapshot.  Sorted hashes read fastest.  From the
 * 100th call on (outside a batch), the table is read into memory once
 * (24 bytes a row, up to 2^20 rows) and looked up there, kept equal to
 * the table through this connection's commits and dropped when another
 * connection commits; tokens_release_memory frees it. */
int tokens_get(struct tokens *t, const uint64_t *hashes, size_t n,
    struct token_counts *counts_r, struct token_totals *totals_r,
    char **err_r);

/* Records one message (msg_key identifies its feature set) of the class
 * is_spam with the n distinct hashes: each count +1, each weight and the
 * bias + delta.  Runs in the open batch if any, else in its own
 * transaction. */
int tokens_learn(struct tokens *t, uint64_t msg_key, const uint64_t *hashes,
    size_t n, int is_spam, int64_t delta, char **err_r);

/* The class of the latest training recorded under msg_key: 1 with
 * *is_spam_r set, 0 if there is none, -1 with *err_r. */
int tokens_find(struct tokens *t, uint64_t msg_key, int *is_spam_r,
    char **err_r);

/* Reverses the latest tokens_learn of msg_key as is_spam exactly.  If
 * there is none, refuses (-1, *err_r saying so; *not_trained_r = 1 if
 * given) and changes nothing. */
int tokens_unlearn(struct tokens *t, uint64_t msg_key,
    const uint64_t *hashes, size_t n, int is_spam, int *not_trained_r,
    char **err_r);

/* A batch: every tokens_learn/unlearn until tokens_commit is one
 * transaction, so bulk training pays for one commit; inside it the
 * counts are kept in memory (bounded) and each feature is written once,
 * in key order.  tokens_rollback
 * drops it; after a failed call inside a batch, roll it back. */
int tokens_begin(struct tokens *t, char **err_r);
int tokens_commit(struct tokens *t, char **err_r);
void tokens_rollback(struct tokens *t);

#endif
