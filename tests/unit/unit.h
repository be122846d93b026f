/*
 * unit.h - shared scaffolding for the check unit tests.  Each
 * tests/unit/check_NAME.c defines its test cases, a function
 * "Suite *NAME_suite(void)" and then UNIT_MAIN(NAME_suite).
 */
#ifndef MAILSIFT_UNIT_H
#define MAILSIFT_UNIT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads tests/fixtures/NAME whole; aborts the test if missing. */
static inline char *
unit_fixture(const char *name, size_t *len_r)
{
	char path[4096];
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "missing fixture %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	ck_assert(fread(data, 1, (size_t)n, f) == (size_t)n);
	data[n] = '\0';
	fclose(f);
	if (len_r)
		*len_r = (size_t)n;
	return data;
}

#define UNIT_MAIN(suite_fn) \
int \
main(void) \
{ \
	SRunner *sr = srunner_create(suite_fn()); \
	int failed; \
	srunner_run_all(sr, CK_NORMAL); \
	failed = srunner_ntests_failed(sr); \
	srunner_free(sr); \
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE; \
}

#endif
