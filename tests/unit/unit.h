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
#include <string.h>
#include <unistd.h>

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

/* This thread's children, as /proc/self/task/TID/children lists them
 * ("PID PID "). */
static inline void
unit_children(char *list, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
	    (long)gettid());
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot read %s", path);
	list[0] = '\0';
	ck_assert(fgets(list, (int)size, f) != NULL || feof(f));
	fclose(f);
}

/* The one child this thread has beyond those listed in before (from
 * unit_children), 0 when it has no more, -1 when it has several more or
 * lost one. */
static inline long
unit_new_child(const char *before)
{
	char now[4096], *rest;
	size_t n = strlen(before);
	long pid;

	unit_children(now, sizeof(now));
	if (strncmp(now, before, n) != 0)
		return -1;
	if (now[n] == '\0')
		return 0;
	pid = strtol(now + n, &rest, 10);
	return strcmp(rest, " ") == 0 ? pid : -1;
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
