/*
 * snapshot.c - the token store's rows in memory (see snapshot.h).  The
 * rows come sorted from the table, so they are kept in two flat arrays
 * (24 bytes a row, nothing else) and found through a directory of the
 * keys' top bits with about two keys a bucket: a lookup reads one
 * directory entry and one short run of keys.  Rows added later go to an
 * open-addressing table, looked at only when a key is not in the arrays.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "agent/xmem.h"
#include "state/snapshot.h"

/* Buckets of the directory per row held: about two keys a bucket. */
#define KEYS_PER_BUCKET 2

struct added {
	uint64_t hash;
	struct token_counts c;
	int used;
};

struct snapshot {
	uint64_t *keys;			/* ascending */
	struct token_counts *counts;	/* counts[i] belongs to keys[i] */
	size_t n, cap, max_rows;
	uint32_t *dir;			/* keys with top bits b are
					 * keys[dir[b] .. dir[b + 1]) */
	int bits;
	int sealed;
	struct added *added;		/* rows added since: open addressing */
	size_t added_slots, added_used;
};

struct snapshot *
snapshot_new(size_t max_rows)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));

	s->max_rows = max_rows;
	return s;
}

void
snapshot_free(struct snapshot **sp)
{
	struct snapshot *s = *sp;

	if (s == NULL)
		return;
	free(s->keys);
	free(s->counts);
	free(s->dir);
	free(s->added);
	free(s);
	*sp = NULL;
}

int
snapshot_append(struct snapshot *s, uint64_t hash,
    const struct token_counts *c)
{
	assert(!s->sealed && (s->n == 0 || s->keys[s->n - 1] < hash));
	if (s->n == s->max_rows)
		return -1;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		if (s->cap > s->max_rows)
			s->cap = s->max_rows;
		s->keys = xreallocarray(s->keys, s->cap, sizeof(*s->keys));
		s->counts = xreallocarray(s->counts, s->cap,
		    sizeof(*s->counts));
	}
	s->keys[s->n] = hash;
	s->counts[s->n++] = *c;
	return 0;
}

void
snapshot_seal(struct snapshot *s)
{
	size_t nb, i = 0;

	s->bits = 1;
	while (s->bits < 30 &&
	    ((size_t)1 << s->bits) * KEYS_PER_BUCKET < s->n)
		s->bits++;
	nb = (size_t)1 << s->bits;
	s->dir = xreallocarray(NULL, nb + 1, sizeof(*s->dir));
	for (size_t b = 0; b < nb; b++) {
		s->dir[b] = (uint32_t)i;
		while (i < s->n && (s->keys[i] >> (64 - s->bits)) == b)
			i++;
	}
	s->dir[nb] = (uint32_t)s->n;
	s->sealed = 1;
}

size_t
snapshot_rows(const struct snapshot *s)
{
	return s->n + s->added_used;
}

/* The index of hash in the arrays, or -1. */
static long
find_sorted(const struct snapshot *s, uint64_t hash)
{
	size_t b = (size_t)(hash >> (64 - s->bits));

	for (size_t i = s->dir[b]; i < s->dir[b + 1]; i++) {
		if (s->keys[i] == hash)
			return (long)i;
		if (s->keys[i] > hash)
			break;
	}
	return -1;
}

/* The slot of hash among the added rows: its own, or the free one where
 * it goes.  The table must exist. */
static struct added *
added_slot(const struct snapshot *s, uint64_t hash)
{
	size_t mask = s->added_slots - 1;
	size_t j = (size_t)(hash ^ (hash >> 29)) & mask;

	while (s->added[j].used && s->added[j].hash != hash)
		j = (j + 1) & mask;
	return &s->added[j];
}

void
snapshot_get(const struct snapshot *s, uint64_t hash,
    struct token_counts *c_r)
{
	long i;

	assert(s->sealed);
	if ((i = find_sorted(s, hash)) >= 0) {
		*c_r = s->counts[i];
		return;
	}
	if (s->added_used > 0) {
		const struct added *a = added_slot(s, hash);
		if (a->used) {
			*c_r = a->c;
			return;
		}
	}
	memset(c_r, 0, sizeof(*c_r));
}

static void
added_grow(struct snapshot *s)
{
	struct added *old = s->added;
	size_t nold = s->added_slots;

	s->added_slots = nold ? nold * 2 : 1024;
	s->added = xcalloc(s->added_slots, sizeof(*s->added));
	for (size_t i = 0; i < nold; i++)
		if (old[i].used)
			*added_slot(s, old[i].hash) = old[i];
	free(old);
}

int
snapshot_put(struct snapshot *s, uint64_t hash, const struct token_counts *c)
{
	struct added *a;
	long i;

	assert(s->sealed);
	if ((i = find_sorted(s, hash)) >= 0) {
		s->counts[i] = *c;
		return 0;
	}
	if (s->added_slots > 0 && (a = added_slot(s, hash))->used) {
		a->c = *c;
		return 0;
	}
	if ((s->added_used + 1) * 10 > s->added_slots * 7) {
		if (s->added_used >= 1024 && s->added_used >= s->n / 4)
			return -1;
		added_grow(s);
	}
	a = added_slot(s, hash);
	a->used = 1;
	a->hash = hash;
	a->c = *c;
	s->added_used++;
	return 0;
}
