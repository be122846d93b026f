/*
 * radix.c - least-significant-digit radix sort on a 64-bit key (see
 * radix.h): eight passes of one byte, each skipped when every key has the
 * same byte there.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/radix.h"
#include "agent/xmem.h"

static uint64_t
key_of(const unsigned char *rec, size_t key_off, uint64_t flip)
{
	uint64_t k;

	memcpy(&k, rec + key_off, sizeof(k));
	return k ^ flip;
}

void
radix_sort(void *base, size_t n, size_t size, size_t key_off, uint64_t flip)
{
	unsigned char *a = base, *b, *tmp;

	if (n < 2)
		return;
	tmp = b = xreallocarray(NULL, n, size);
	for (int shift = 0; shift < 64; shift += 8) {
		size_t count[256] = { 0 }, pos = 0;
		int same = 0;

		for (size_t i = 0; i < n; i++)
			count[(key_of(a + i * size, key_off, flip) >> shift) &
			    255]++;
		for (size_t d = 0; d < 256; d++) {
			size_t c = count[d];
			same |= c == n;
			count[d] = pos;
			pos += c;
		}
		if (same)
			continue;
		for (size_t i = 0; i < n; i++) {
			size_t d = (key_of(a + i * size, key_off, flip) >>
			    shift) & 255;
			memcpy(b + count[d]++ * size, a + i * size, size);
		}
		tmp = a;
		a = b;
		b = tmp;
	}
	if (a != base) {
		memcpy(base, a, n * size);
		b = a;
	}
	free(b);
}
