/*
 * tokenize.h - message bytes in, the set of distinct features out.
 *
 * A feature is a short UTF-8 text naming one piece of evidence ("viagra",
 * "subject:viagra", "relay-host:mx1.example.net", "url-host:example.com",
 * "free money" for a word pair) and its 64-bit hash, which is what the
 * token store keys on.  Features are binary: a message either has one or
 * not, so training and untraining a message add and remove exactly one
 * count per feature.
 *
 * Sender and relay evidence is kept at full granularity (the exact From
 * address and domain, each exact host name and IP in Received, each exact
 * link host) and never widened to parent domains, so spam from one host
 * cannot condemn its siblings or its provider.
 *
 * Pure: no I/O and no global state; never fails on bad input (malformed
 * MIME or charsets yield fewer or odder features).  Work is bounded by
 * max_bytes: only that many leading bytes of the message are read.
 */
#ifndef MAILSIFT_TOKENIZE_H
#define MAILSIFT_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#include "agent/xmem.h"

/* The default of max_bytes: the first 512 KiB carry all the evidence a
 * spam filter uses; the rest of a big message is attachments. */
#define TOKENIZE_DEFAULT_MAX_BYTES (512u * 1024u)

struct feature {
	uint64_t hash;
	uint32_t text_off;	/* into features.text */
	uint32_t text_len;
};

struct features {
	struct feature *v;	/* owned, distinct, sorted by hash after
				 * tokenize() returns */
	size_t n;
	size_t cap;
	uint32_t *index;	/* owned; working hash index, freed by
				 * tokenize() before it returns */
	size_t index_cap;
	struct buf text;	/* owned; feature texts, NUL-separated */
	size_t bytes_read;	/* bytes of the message looked at */
	size_t bytes_total;	/* size of the message as given */
	int truncated;		/* 1 if bytes_read < bytes_total */
};

/* Fills f (which must be zeroed or released) with the features of the
 * first max_bytes bytes of msg (len bytes).  Never fails. */
void tokenize(const char *msg, size_t len, size_t max_bytes,
    struct features *f);

/* The NUL-terminated text of feature i, borrowed from f. */
const char *feature_text(const struct features *f, size_t i);

/* The hash the store keys a feature text on (stable across versions and
 * platforms: changing it invalidates every trained database). */
uint64_t feature_hash(const char *text, size_t len);

void features_release(struct features *f);

#endif
