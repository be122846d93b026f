/*
 * check_tokens.c - the token store: counts and weights in and out, exact
 * reversal (train then untrain leaves every row bit-identical), refusal
 * to untrain what was not trained, and clear errors for a corrupt, a
 * foreign and a too-new database file.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agent/xmem.h"
#include "state/tokens.h"
#include "tests/unit/unit.h"

static char dir[] = "/tmp/check_tokens.XXXXXX";

static void
setup(void)
{
	ck_assert(mkdtemp(dir) != NULL);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	strcpy(dir, "/tmp/check_tokens.XXXXXX");
}

/* Every row of the store as text, in key order. */
static char *
dump(const char *path)
{
	static const char *const q[] = {
		"SELECT hash, spam, ham, weight FROM tokens ORDER BY hash",
		"SELECT spam, ham, bias FROM totals",
		"SELECT msg, is_spam, delta FROM trained ORDER BY id",
	};
	struct buf b = { 0 };
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	for (size_t i = 0; i < 3; i++) {
		sqlite3_stmt *st;
		ck_assert_int_eq(sqlite3_prepare_v2(db, q[i], -1, &st, NULL),
		    SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++)
				buf_printf(&b, "%lld ", (long long)
				    sqlite3_column_int64(st, c));
			buf_appends(&b, "\n");
		}
		sqlite3_finalize(st);
		buf_appends(&b, "--\n");
	}
	sqlite3_close(db);
	return buf_steal(&b);
}

static const uint64_t msg_a[] = { 1, 5, 9, 0xffffffffffffffffULL };
static const uint64_t msg_b[] = { 5, 7, 9 };

START_TEST(test_learn_get)
{
	struct tokens *t;
	struct token_counts c[4];
	struct token_totals tot;
	char *err = NULL;

	ck_assert_int_eq(tokens_open(":memory:", &t, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 100, msg_a, 4, 1, 500, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 200, msg_b, 3, 0, -300, &err), 0);
	ck_assert_int_eq(tokens_get(t, msg_a, 4, c, &tot, &err), 0);
	ck_assert_uint_eq(tot.spam, 1);
	ck_assert_uint_eq(tot.ham, 1);
	ck_assert_int_eq(tot.bias, 200);
	ck_assert_uint_eq(c[0].spam, 1);
	ck_assert_uint_eq(c[0].ham, 0);
	ck_assert_int_eq(c[0].weight, 500);
	ck_assert_uint_eq(c[1].spam, 1);	/* hash 5: in both */
	ck_assert_uint_eq(c[1].ham, 1);
	ck_assert_int_eq(c[1].weight, 200);
	ck_assert_uint_eq(c[3].spam, 1);	/* the top bit survives */
	tokens_close(&t);
}
END_TEST

START_TEST(test_untrain_exact)
{
	char *path = xasprintf("%s/tokens.db", dir), *before, *after;
	struct tokens *t;
	char *err = NULL;

	ck_assert_int_eq(tokens_open(path, &t, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 100, msg_a, 4, 1, 500, &err), 0);
	tokens_close(&t);
	before = dump(path);

	ck_assert_int_eq(tokens_open(path, &t, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 200, msg_b, 3, 0, -321, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 300, msg_a, 4, 0, -77, &err), 0);
	/* Untrain in another order than trained. */
	ck_assert_int_eq(tokens_unlearn(t, 200, msg_b, 3, 0, NULL, &err), 0);
	ck_assert_int_eq(tokens_unlearn(t, 300, msg_a, 4, 0, NULL, &err), 0);
	tokens_close(&t);
	after = dump(path);
	ck_assert_str_eq(before, after);
	free(after);

	/* Untraining the first leaves an empty store. */
	ck_assert_int_eq(tokens_open(path, &t, &err), 0);
	ck_assert_int_eq(tokens_unlearn(t, 100, msg_a, 4, 1, NULL, &err), 0);
	tokens_close(&t);
	after = dump(path);
	ck_assert_str_eq(after, "--\n0 0 0 \n--\n--\n");
	free(after);
	free(before);
	free(path);
}
END_TEST

/* A process that opens the store for one message must not make and
 * remove the -wal and -shm files each time (inode work costs a quarter of
 * a score call): they stay, the WAL empty, so the next process has
 * nothing to recover. */
START_TEST(test_side_files_kept)
{
	char *path = xasprintf("%s/tokens.db", dir);
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
	struct tokens *t;
	struct stat st;
	char *err = NULL;

	ck_assert_int_eq(tokens_open(path, &t, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 100, msg_a, 4, 1, 500, &err), 0);
	tokens_close(&t);
	ck_assert_int_eq(stat(wal, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(stat(shm, &st), 0);
	ck_assert_int_eq(tokens_open(path, &t, &err), 0);
	tokens_close(&t);
	ck_assert_int_eq(stat(wal, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	free(shm);
	free(wal);
	free(path);
}
END_TEST

/* Asserts that t reads the same counts and totals for keys[0..n-1] as a
 * connection just opened on path (which reads SQLite: too few lookups
 * for a snapshot). */
static void
assert_same_view(struct tokens *t, const char *path, const uint64_t *keys,
    size_t n)
{
	struct token_counts got[8], want[8];
	struct token_totals tot_got, tot_want;
	struct tokens *fresh;
	char *err = NULL;

	ck_assert_uint_le(n, 8);
	ck_assert_int_eq(tokens_open(path, &fresh, &err), 0);
	ck_assert_int_eq(tokens_get(fresh, keys, n, want, &tot_want, &err), 0);
	tokens_close(&fresh);
	ck_assert_int_eq(tokens_get(t, keys, n, got, &tot_got, &err), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(got[i].spam, want[i].spam);
		ck_assert_uint_eq(got[i].ham, want[i].ham);
		ck_assert_int_eq(got[i].weight, want[i].weight);
	}
	ck_assert_uint_eq(tot_got.spam, tot_want.spam);
	ck_assert_uint_eq(tot_got.ham, tot_want.ham);
	ck_assert_int_eq(tot_got.bias, tot_want.bias);
}

/* A connection that looks up many messages reads from a snapshot of the
 * table in memory: it must still see every change, its own (train,
 * untrain, a batch rolled back) and another connection's. */
START_TEST(test_snapshot_coherent)
{
	static const uint64_t msg_c[] = { 2, 7, 0x8000000000000000ULL };
	static const uint64_t all[] = { 1, 2, 5, 7, 9,
	    0x8000000000000000ULL, 0xffffffffffffffffULL };
	char *path = xasprintf("%s/tokens.db", dir);
	struct token_counts c[4];
	struct token_totals tot;
	struct tokens *t, *other;
	struct rlimit fsize;
	char *err = NULL;

	ck_assert_int_eq(tokens_open(path, &t, &err), 0);
	ck_assert_int_eq(tokens_open(path, &other, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 100, msg_a, 4, 1, 500, &err), 0);
	/* Enough lookups for the snapshot. */
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(tokens_get(t, msg_a, 4, c, &tot, &err), 0);
	ck_assert_uint_eq(c[0].spam, 1);
	assert_same_view(t, path, all, 7);

	/* Another connection trains. */
	ck_assert_int_eq(tokens_learn(other, 200, msg_b, 3, 0, -300, &err),
	    0);
	assert_same_view(t, path, all, 7);
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(tokens_get(t, msg_a, 4, c, &tot, &err), 0);

	/* This one trains: new rows, changed rows. */
	ck_assert_int_eq(tokens_learn(t, 300, msg_c, 3, 1, 40, &err), 0);
	assert_same_view(t, path, all, 7);

	/* A batch rolled back leaves nothing behind. */
	ck_assert_int_eq(tokens_begin(t, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 400, msg_b, 3, 1, 9, &err), 0);
	tokens_rollback(t);
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(tokens_get(t, msg_a, 4, c, &tot, &err), 0);
	assert_same_view(t, path, all, 7);

	/* A commit that fails (the file may not grow) after the snapshot
	 * took the batch's changes. */
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &fsize), 0);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &(struct rlimit){ 1,
	    fsize.rlim_max }), 0);
	ck_assert_int_eq(tokens_learn(t, 400, msg_b, 3, 1, 9, &err), -1);
	free(err);
	err = NULL;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &fsize), 0);
	assert_same_view(t, path, all, 7);

	/* Rows that go away; then another connection again, inside a
	 * batch of this one. */
	ck_assert_int_eq(tokens_unlearn(t, 300, msg_c, 3, 1, NULL, &err), 0);
	assert_same_view(t, path, all, 7);
	ck_assert_int_eq(tokens_unlearn(other, 200, msg_b, 3, 0, NULL, &err),
	    0);
	ck_assert_int_eq(tokens_begin(t, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 500, msg_c, 3, 0, -8, &err), 0);
	ck_assert_int_eq(tokens_commit(t, &err), 0);
	assert_same_view(t, path, all, 7);

	/* After the memory is given back, the same again. */
	tokens_release_memory(t);
	assert_same_view(t, path, all, 7);
	tokens_close(&other);
	tokens_close(&t);
	free(path);
}
END_TEST

START_TEST(test_untrain_refused)
{
	struct tokens *t;
	struct token_totals tot;
	char *err = NULL;
	int not_trained = 0;

	ck_assert_int_eq(tokens_open(":memory:", &t, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 100, msg_a, 4, 1, 500, &err), 0);
	/* Trained as spam, not as ham; and an unknown message. */
	ck_assert_int_eq(tokens_unlearn(t, 100, msg_a, 4, 0, &not_trained,
	    &err), -1);
	ck_assert_int_eq(not_trained, 1);
	ck_assert_ptr_nonnull(strstr(err, "not trained as ham"));
	free(err);
	err = NULL;
	ck_assert_int_eq(tokens_unlearn(t, 999, msg_b, 3, 1, &not_trained,
	    &err), -1);
	free(err);
	err = NULL;
	ck_assert_int_eq(tokens_totals(t, &tot, &err), 0);
	ck_assert_uint_eq(tot.spam, 1);
	ck_assert_int_eq(tot.bias, 500);
	tokens_close(&t);
}
END_TEST

START_TEST(test_batch_rollback)
{
	struct tokens *t;
	struct token_totals tot;
	char *err = NULL;

	ck_assert_int_eq(tokens_open(":memory:", &t, &err), 0);
	ck_assert_int_eq(tokens_begin(t, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 1, msg_a, 4, 1, 5, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 2, msg_b, 3, 1, 5, &err), 0);
	tokens_rollback(t);
	ck_assert_int_eq(tokens_totals(t, &tot, &err), 0);
	ck_assert_uint_eq(tot.spam, 0);
	ck_assert_int_eq(tokens_begin(t, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 1, msg_a, 4, 1, 5, &err), 0);
	ck_assert_int_eq(tokens_commit(t, &err), 0);
	ck_assert_int_eq(tokens_totals(t, &tot, &err), 0);
	ck_assert_uint_eq(tot.spam, 1);
	tokens_close(&t);
}
END_TEST

/* A batch bigger than the write-back cache: it is written out and
 * emptied mid-batch (features then come back from SQLite), and past
 * the first reads the batch stops looking up features its Bloom filter
 * says are new.  Counts must come out as if written one by one, and
 * untraining everything must give back the empty store exactly. */
START_TEST(test_big_batch)
{
	char *path = xasprintf("%s/big.db", dir), *empty, *after;
	size_t n = 150000;
	uint64_t *x = xreallocarray(NULL, n, sizeof(*x));
	uint64_t *y = xreallocarray(NULL, n, sizeof(*y));
	struct token_counts c[3];
	struct token_totals tot;
	uint64_t probe[3];
	struct tokens *t;
	char *err = NULL;

	ck_assert_int_eq(tokens_open(path, &t, &err), 0);
	tokens_close(&t);
	empty = dump(path);
	/* x: keys 0..n-1 scrambled (both signs); y: the upper half of x's
	 * keys and n new ones. */
	for (size_t i = 0; i < n; i++) {
		x[i] = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		y[i] = (uint64_t)(i + n / 2) * 0x9e3779b97f4a7c15ULL;
	}
	ck_assert_int_eq(tokens_open(path, &t, &err), 0);
	ck_assert_int_eq(tokens_begin(t, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 1, x, n, 1, 7, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 2, y, n, 0, -3, &err), 0);
	ck_assert_int_eq(tokens_learn(t, 3, x, 1000, 0, 2, &err), 0);
	probe[0] = x[10];		/* in x (twice) only */
	probe[1] = y[0];		/* in both */
	probe[2] = y[n - 1];		/* in y only */
	ck_assert_int_eq(tokens_get(t, probe, 3, c, &tot, &err), 0);
	ck_assert_int_eq(tokens_commit(t, &err), 0);
	ck_assert_uint_eq(tot.spam, 1);
	ck_assert_uint_eq(tot.ham, 2);
	ck_assert_int_eq(tot.bias, 6);
	ck_assert_uint_eq(c[0].spam, 1);
	ck_assert_uint_eq(c[0].ham, 1);
	ck_assert_int_eq(c[0].weight, 9);
	ck_assert_uint_eq(c[1].spam, 1);
	ck_assert_uint_eq(c[1].ham, 1);
	ck_assert_int_eq(c[1].weight, 4);
	ck_assert_uint_eq(c[2].spam, 0);
	ck_assert_int_eq(c[2].weight, -3);
	/* The same, read back outside a batch. */
	ck_assert_int_eq(tokens_get(t, probe, 3, c, &tot, &err), 0);
	ck_assert_int_eq(c[0].weight, 9);
	ck_assert_int_eq(c[1].weight, 4);
	ck_assert_int_eq(c[2].ham, 1);
	ck_assert_int_eq(tokens_begin(t, &err), 0);
	ck_assert_int_eq(tokens_unlearn(t, 2, y, n, 0, NULL, &err), 0);
	ck_assert_int_eq(tokens_unlearn(t, 1, x, n, 1, NULL, &err), 0);
	ck_assert_int_eq(tokens_unlearn(t, 3, x, 1000, 0, NULL, &err), 0);
	ck_assert_int_eq(tokens_commit(t, &err), 0);
	tokens_close(&t);
	after = dump(path);
	ck_assert_str_eq(empty, after);
	free(after);
	free(empty);
	free(x);
	free(y);
	free(path);
}
END_TEST

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

START_TEST(test_bad_files)
{
	char *path = xasprintf("%s/bad.db", dir), *err = NULL;
	struct tokens *t = NULL;
	char junk[8192];
	sqlite3 *db;

	/* Not SQLite at all. */
	memset(junk, 'x', sizeof(junk));
	write_file(path, junk, sizeof(junk));
	ck_assert_int_eq(tokens_open(path, &t, &err), -1);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(err, path));
	free(err);
	err = NULL;
	unlink(path);

	/* SQLite, but someone else's. */
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE x (y)", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(tokens_open(path, &t, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "not made by mailsift"));
	free(err);
	err = NULL;
	unlink(path);

	/* Ours, from a newer mailsift. */
	ck_assert_int_eq(tokens_open(path, &t, &err), 0);
	tokens_close(&t);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(tokens_open(path, &t, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "newer"));
	free(err);
	free(path);
}
END_TEST

static Suite *
tokens_suite(void)
{
	Suite *s = suite_create("tokens");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_learn_get);
	tcase_add_test(tc, test_untrain_exact);
	tcase_add_test(tc, test_side_files_kept);
	tcase_add_test(tc, test_snapshot_coherent);
	tcase_add_test(tc, test_untrain_refused);
	tcase_add_test(tc, test_batch_rollback);
	tcase_add_test(tc, test_big_batch);
	tcase_add_test(tc, test_bad_files);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(tokens_suite)
