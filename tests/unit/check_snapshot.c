/*
 * check_snapshot.c - the token store's rows in memory (state/snapshot.c):
 * every appended row is found, absent keys read as zeros, changes and
 * added rows are seen, and the room for added rows is bounded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/snapshot.h"
#include "tests/unit/unit.h"

/* Distinct keys spread over the whole 64-bit range, ascending for i
 * below 40,000. */
static uint64_t
key(size_t i)
{
	return (uint64_t)i * (UINT64_MAX / 40000) + 7;
}

static struct token_counts
counts_of(uint64_t k)
{
	struct token_counts c = { .spam = (uint32_t)(k % 97),
	    .ham = (uint32_t)(k % 89), .weight = -(int64_t)(k % 100003) };

	return c;
}

START_TEST(test_lookup)
{
	size_t n = 5000;
	struct snapshot *s = snapshot_new(n);
	struct token_counts c;

	for (size_t i = 0; i < n; i++) {
		struct token_counts want = counts_of(key(i));
		ck_assert_int_eq(snapshot_append(s, key(i), &want), 0);
	}
	/* Full: one more is refused. */
	c = counts_of(key(n));
	ck_assert_int_eq(snapshot_append(s, key(n), &c), -1);
	snapshot_seal(s);
	ck_assert_uint_eq(snapshot_rows(s), n);
	for (size_t i = 0; i < n; i++) {
		struct token_counts want = counts_of(key(i));
		snapshot_get(s, key(i), &c);
		ck_assert_uint_eq(c.spam, want.spam);
		ck_assert_uint_eq(c.ham, want.ham);
		ck_assert_int_eq(c.weight, want.weight);
		/* Between two keys, and the extremes: nothing. */
		snapshot_get(s, key(i) + 1, &c);
		ck_assert(c.spam == 0 && c.ham == 0 && c.weight == 0);
	}
	snapshot_get(s, 0, &c);
	ck_assert(c.spam == 0 && c.ham == 0 && c.weight == 0);
	snapshot_get(s, UINT64_MAX, &c);
	ck_assert(c.spam == 0 && c.ham == 0 && c.weight == 0);
	snapshot_free(&s);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_put)
{
	size_t n = 8000, added = 0;
	struct snapshot *s = snapshot_new(n);
	struct token_counts c, one = { .spam = 1, .ham = 2, .weight = 3 };
	struct token_counts zero = { 0 };

	for (size_t i = 0; i < n; i++) {
		c = counts_of(key(2 * i));
		ck_assert_int_eq(snapshot_append(s, key(2 * i), &c), 0);
	}
	snapshot_seal(s);
	/* A row changed, a row gone. */
	ck_assert_int_eq(snapshot_put(s, key(10), &one), 0);
	snapshot_get(s, key(10), &c);
	ck_assert_int_eq(c.weight, 3);
	ck_assert_int_eq(snapshot_put(s, key(12), &zero), 0);
	snapshot_get(s, key(12), &c);
	ck_assert(c.spam == 0 && c.ham == 0 && c.weight == 0);
	/* New rows, between the old keys, until the room is used up: at
	 * least a quarter of the rows fit, and never more than half. */
	for (size_t i = 0; i < n; i++) {
		struct token_counts want = counts_of(key(2 * i + 1));
		if (snapshot_put(s, key(2 * i + 1), &want) < 0)
			break;
		added++;
	}
	ck_assert_uint_ge(added, n / 4);
	ck_assert_uint_le(added, n / 2);
	ck_assert_uint_eq(snapshot_rows(s), n + added);
	for (size_t i = 0; i < added; i++) {
		struct token_counts want = counts_of(key(2 * i + 1));
		snapshot_get(s, key(2 * i + 1), &c);
		ck_assert_int_eq(c.weight, want.weight);
		ck_assert_uint_eq(c.ham, want.ham);
	}
	/* An added row changed again takes no more room. */
	ck_assert_int_eq(snapshot_put(s, key(1), &one), 0);
	snapshot_get(s, key(1), &c);
	ck_assert_uint_eq(c.ham, 2);
	snapshot_get(s, key(2 * added + 1), &c);
	ck_assert(c.spam == 0 && c.ham == 0 && c.weight == 0);
	snapshot_free(&s);
}
END_TEST

START_TEST(test_empty)
{
	struct snapshot *s = snapshot_new(10);
	struct token_counts c, one = { .spam = 1 };

	snapshot_seal(s);
	snapshot_get(s, 42, &c);
	ck_assert_uint_eq(c.spam, 0);
	ck_assert_int_eq(snapshot_put(s, 42, &one), 0);
	snapshot_get(s, 42, &c);
	ck_assert_uint_eq(c.spam, 1);
	snapshot_free(&s);
}
END_TEST

static Suite *
snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_put);
	tcase_add_test(tc, test_empty);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(snapshot_suite)
