/*
 * check_log.c - choosing the log level (agent/log.c): the command line
 * over the configuration over the default; an unknown name changes
 * nothing.
 */
#include "agent/log.h"
#include "tests/unit/unit.h"

START_TEST(command_line_over_configuration)
{
	log_set_level(LOG_LEVEL_NOTICE);
	ck_assert_int_eq(log_set_level_named(NULL, NULL), 0);
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_NOTICE);
	ck_assert_int_eq(log_set_level_named(NULL, "debug"), 0);
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_DEBUG);
	ck_assert_int_eq(log_set_level_named("warn", "debug"), 0);
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_WARN);
}
END_TEST

START_TEST(unknown_name_changes_nothing)
{
	log_set_level(LOG_LEVEL_INFO);
	ck_assert_int_eq(log_set_level_named("loud", "debug"), -1);
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_INFO);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, command_line_over_configuration);
	tcase_add_test(tc, unknown_name_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(log_suite)
