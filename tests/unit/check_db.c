/*
 * check_db.c - opening SQLite files (state/db.c): a new file is made
 * whole under a temporary name and is 0600 whatever the umask; an empty
 * file is replaced by a complete database; a damaged file is explained
 * without advice to throw it away.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/xmem.h"
#include "state/db.h"
#include "tests/unit/unit.h"

static char dir[64];
static char *path;

static const char *const migrations[] = { "CREATE TABLE t (x);" };
static const struct db_schema schema = {
	.what = "test store",
	.application_id = 0x54455354,
	.migrations = migrations,
	.nmigrations = 1,
	.create_pragmas = "PRAGMA page_size = 1024",
};

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_db.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/test.db", dir);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(path);
}

/* The names in dir, sorted, space separated. */
static char *
listing(void)
{
	struct dirent **names;
	struct buf b = { 0 };
	int n = scandir(dir, &names, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			buf_printf(&b, "%s%s", b.len ? " " : "",
			    names[i]->d_name);
		free(names[i]);
	}
	free(names);
	buf_appends(&b, "");
	return buf_steal(&b);
}

START_TEST(new_file_is_whole_and_private)
{
	sqlite3 *db = NULL;
	char *err = NULL, *names;
	struct stat st;
	mode_t old = umask(0);

	ck_assert_msg(db_open(path, &schema, &db, &err) == 0, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	db_close(&db);
	umask(old);
	names = listing();
	ck_assert_str_eq(names, "test.db");
	free(names);
}
END_TEST

START_TEST(empty_file_is_replaced_by_a_database)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	FILE *f = fopen(path, "w");
	struct stat st;

	ck_assert_ptr_nonnull(f);
	fclose(f);
	chmod(path, 0644);
	ck_assert_int_eq(db_file_state(path), DB_FILE_EMPTY);
	ck_assert_msg(db_open(path, &schema, &db, &err) == 0, "%s", err);
	ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO t VALUES (1)", NULL,
	    NULL, NULL), SQLITE_OK);
	db_close(&db);
	ck_assert_int_eq(db_file_state(path), DB_FILE_PRESENT);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(damaged_file_is_not_to_be_thrown_away)
{
	sqlite3 *db = NULL;
	char *err = NULL, junk[4096];
	FILE *f = fopen(path, "w");

	memset(junk, 'x', sizeof(junk));
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	ck_assert_int_eq(db_open(path, &schema, &db, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, "restore it from a backup"));
	ck_assert_ptr_null(strstr(err, "move it away"));
	free(err);
}
END_TEST

START_TEST(missing_directory_names_file_and_cause)
{
	sqlite3 *db = NULL;
	char *err = NULL, *missing = xasprintf("%s/nope/test.db", dir);

	ck_assert_int_eq(db_open(missing, &schema, &db, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot create the test store"));
	ck_assert_ptr_nonnull(strstr(err, missing));
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
	ck_assert_msg(strstr(err, "the directory that would hold") != NULL &&
	    strstr(err, "does not exist: create it") != NULL,
	    "says what to do: %s", err);
	free(err);
	free(missing);
}
END_TEST

static Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("db");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, new_file_is_whole_and_private);
	tcase_add_test(tc, empty_file_is_replaced_by_a_database);
	tcase_add_test(tc, damaged_file_is_not_to_be_thrown_away);
	tcase_add_test(tc, missing_directory_names_file_and_cause);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(db_suite)
