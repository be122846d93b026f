/*
 * fuzz_tokenize.c - libFuzzer target: arbitrary bytes as a mail message.
 * tokenize() must never crash, leak, loop or read out of bounds, whatever
 * the MIME structure, encodings or charsets claim; and its result must
 * hold what the token store relies on: distinct features sorted by hash,
 * each a non-empty text of bounded length whose hash matches, and no more
 * bytes read than the cap.  The first byte picks a small cap sometimes,
 * so the truncation path is exercised too.  Seed corpus:
 * tests/fixtures/classifier/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/tokenize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct features f;
	size_t cap = TOKENIZE_DEFAULT_MAX_BYTES;

	if (size > 0 && data[0] < 16)
		cap = (size_t)data[0] * 64 + 1;
	tokenize((const char *)data, size, cap, &f);
	if (f.bytes_read > cap || f.bytes_read > size ||
	    f.bytes_total != size || f.truncated != (f.bytes_read < size))
		abort();
	for (size_t i = 0; i < f.n; i++) {
		const char *text = feature_text(&f, i);
		size_t len = strlen(text);

		if (len == 0 || len != f.v[i].text_len || len > 200 ||
		    feature_hash(text, len) != f.v[i].hash)
			abort();
		if (i > 0 && f.v[i - 1].hash >= f.v[i].hash)
			abort();
	}
	features_release(&f);
	return 0;
}
