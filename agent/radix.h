/*
 * radix.h - sorting records by a 64-bit key in linear time: the
 * tokenizer's features by hash, the token store's changed counts by
 * their SQLite key.  Both sort hundreds of thousands of records where a
 * comparison sort through qsort's callback cost a tenth of the time of
 * bulk training.
 */
#ifndef MAILSIFT_RADIX_H
#define MAILSIFT_RADIX_H

#include <stddef.h>
#include <stdint.h>

/* Sorts n records of size bytes at base, ascending by the uint64_t at
 * byte offset key_off of each record, compared after XOR with flip
 * (1 << 63 sorts the keys as signed integers).  Stable. */
void radix_sort(void *base, size_t n, size_t size, size_t key_off,
    uint64_t flip);

#endif
