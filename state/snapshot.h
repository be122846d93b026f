/*
 * snapshot.h - the token store's rows held in memory for fast lookups:
 * keys sorted (as unsigned integers) in one array, their counts in a
 * parallel one, and a directory by the keys' top bits, so that finding a
 * key costs a couple of cache misses instead of a b-tree descent through
 * SQLite.  Rows added after the snapshot was built go into a small hash
 * table beside it.
 *
 * A pure data structure: state/tokens.c decides when one is built from
 * the table, keeps it equal to the table, and drops it.
 */
#ifndef MAILSIFT_SNAPSHOT_H
#define MAILSIFT_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "state/tokens.h"

struct snapshot;

/* An empty snapshot that will hold at most max_rows rows from the
 * table (snapshot_append); rows added later by snapshot_put do not count
 * against that bound but against their own, a quarter of the rows. */
struct snapshot *snapshot_new(size_t max_rows);
void snapshot_free(struct snapshot **s);

/* Appends a row while building; keys must come in ascending unsigned
 * order.  -1 (nothing added) when max_rows are already held. */
int snapshot_append(struct snapshot *s, uint64_t hash,
    const struct token_counts *c);

/* Ends the building: makes the directory.  Lookups before are refused
 * by assertion. */
void snapshot_seal(struct snapshot *s);

/* The rows held (appended plus added since). */
size_t snapshot_rows(const struct snapshot *s);

/* *c_r = the counts of hash, zeros if the snapshot has no such row. */
void snapshot_get(const struct snapshot *s, uint64_t hash,
    struct token_counts *c_r);

/* Sets the counts of hash (all zero: the row is gone).  -1 when the room
 * for added rows is used up: the snapshot no longer matches the table
 * and must be dropped. */
int snapshot_put(struct snapshot *s, uint64_t hash,
    const struct token_counts *c);

#endif
