/*
 * check_managesieve.c - the ManageSieve wire syntax
 * (agent/managesieve_proto.c) and a mailbox's script files
 * (agent/sieve_store.c): parsing whole, split and hostile input; names,
 * quota, the active link, renaming the active script, keeping a script
 * written by hand.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/managesieve_proto.h"
#include "agent/sieve_store.h"
#include "agent/xmem.h"
#include "tests/unit/unit.h"

static enum ms_parse
parse(const char *in, struct ms_line *l, size_t *used)
{
	const char *err = NULL;

	return ms_parse_line(in, strlen(in), 100, l, used, &err);
}

START_TEST(proto_tokens)
{
	static const char in[] = "PUTSCRIPT \"a \\\"b\\\\\" {5+}\r\nx\0y\r\n"
	    "\r\nNOOP\r\n";
	struct ms_line l;
	size_t used = 0;
	const char *err = NULL;

	ck_assert_int_eq(ms_parse_line(in, sizeof(in) - 1, 100, &l, &used,
	    &err), MS_PARSE_LINE);
	ck_assert_uint_eq(l.n, 3);
	ck_assert(ms_is_atom(&l.tokens[0], "putscript"));
	ck_assert_str_eq(l.tokens[1].text, "a \"b\\");
	ck_assert_uint_eq(l.tokens[2].len, 5);
	ck_assert(memcmp(l.tokens[2].text, "x\0y\r\n", 5) == 0);
	ck_assert_str_eq(in + used, "NOOP\r\n");
	ms_line_release(&l);
}
END_TEST

START_TEST(proto_waits_for_whole_lines)
{
	static const char *const partial[] = {
		"", "LIST", "LISTSCRIPTS\r", "GETSCRIPT \"ab", "PUTSCRIPT {5+",
		"PUTSCRIPT \"x\" {5+}\r\nabc",
	};
	struct ms_line l;
	size_t used;

	for (size_t i = 0; i < sizeof(partial) / sizeof(*partial); i++)
		ck_assert_msg(parse(partial[i], &l, &used) == MS_PARSE_MORE,
		    "'%s'", partial[i]);
	/* A bare LF ends a line too. */
	ck_assert_int_eq(parse("LOGOUT\n", &l, &used), MS_PARSE_LINE);
	ms_line_release(&l);
}
END_TEST

START_TEST(proto_refuses_and_limits)
{
	static const char *const bad[] = {
		"\r\n", "GET(\r\n", "A \"x\r\n", "A \"\\n\"\r\n", "A  B\r\n",
		"A {x}\r\n", "A B C D E F G H I\r\n",
	};
	struct ms_line l;
	size_t used;
	char *big;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		ck_assert_msg(parse(bad[i], &l, &used) == MS_PARSE_BAD,
		    "'%s'", bad[i]);
		ck_assert_uint_eq(used, strlen(bad[i]));
	}
	/* A literal over the limit, a line without end. */
	ck_assert_int_eq(parse("PUTSCRIPT \"a\" {101+}\r\n", &l, &used),
	    MS_PARSE_FATAL);
	ck_assert_int_eq(parse("PUTSCRIPT \"a\" {99999999999999999999+}\r\n",
	    &l, &used), MS_PARSE_FATAL);
	big = xmalloc(MS_MAX_LINE + 2);
	memset(big, 'A', MS_MAX_LINE + 1);
	big[MS_MAX_LINE + 1] = '\0';
	ck_assert_int_eq(parse(big, &l, &used), MS_PARSE_FATAL);
	free(big);
}
END_TEST

START_TEST(proto_strings_and_base64)
{
	struct buf b = { 0 };
	char *dec = NULL, *enc;
	size_t n;

	ms_put_string(&b, "a\"b", 3);
	ms_put_string(&b, "l1\nl2", 5);
	ck_assert_str_eq(b.data, "\"a\\\"b\"{5}\r\nl1\nl2");
	buf_release(&b);
	enc = ms_base64_encode("\0alice\0secret", 13);
	ck_assert_str_eq(enc, "AGFsaWNlAHNlY3JldA==");
	ck_assert_int_eq(ms_base64_decode(enc, strlen(enc), &dec, &n), 0);
	ck_assert_uint_eq(n, 13);
	ck_assert(memcmp(dec, "\0alice\0secret", 13) == 0);
	free(dec);
	free(enc);
	ck_assert_int_eq(ms_base64_decode("AG=a", 4, &dec, &n), -1);
	ck_assert_int_eq(ms_base64_decode("abc", 3, &dec, &n), -1);
}
END_TEST

START_TEST(proto_loopback_peers)
{
	static const struct {
		const char *addr;
		int loopback;
	} peers[] = {
		{ "127.0.0.1", 1 }, { "127.45.0.9", 1 }, { "::1", 1 },
		{ "::ffff:127.0.0.1", 1 }, { "10.0.0.1", 0 },
		{ "192.0.2.7", 0 }, { "::ffff:192.0.2.7", 0 }, { "2001:db8::1", 0 },
		{ "128.0.0.1", 0 }, { "::", 0 },
	};

	for (size_t i = 0; i < sizeof(peers) / sizeof(*peers); i++) {
		struct sockaddr_storage sa = { 0 };

		if (strchr(peers[i].addr, ':') != NULL) {
			struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&sa;

			a6->sin6_family = AF_INET6;
			ck_assert_int_eq(inet_pton(AF_INET6, peers[i].addr,
			    &a6->sin6_addr), 1);
		} else {
			struct sockaddr_in *a4 = (struct sockaddr_in *)&sa;

			a4->sin_family = AF_INET;
			ck_assert_int_eq(inet_pton(AF_INET, peers[i].addr,
			    &a4->sin_addr), 1);
		}
		ck_assert_msg(ms_peer_is_loopback(&sa) == peers[i].loopback,
		    "%s", peers[i].addr);
	}
}
END_TEST

/* ------------------------------------------------------------ store */

static char dir[64];
static struct sieve_store st;
static char *scripts, *active;

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_managesieve.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	scripts = xasprintf("%s/scripts", dir);
	active = xasprintf("%s/active.sieve", dir);
	st = (struct sieve_store){ .dir = scripts, .active = active,
	    .max_script_bytes = 100, .quota_scripts = 3,
	    .quota_bytes = 150 };
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(scripts);
	free(active);
}

static char *
listing(void)
{
	char **names = NULL, *act = NULL, *err = NULL;
	struct buf b = { 0 };
	size_t n = 0;

	ck_assert_int_eq(sieve_store_list(&st, &names, &n, &act, &err),
	    SIEVE_STORE_OK);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s%s", i ? " " : "", names[i],
		    act && strcmp(act, names[i]) == 0 ? "*" : "");
	sieve_store_names_free(names, n);
	free(act);
	return buf_steal(&b);
}

#define LIST_IS(want) do { \
	char *got_ = listing(); \
	ck_assert_str_eq(got_, want); \
	free(got_); \
} while (0)

START_TEST(store_names)
{
	ck_assert(sieve_store_name_ok("roundcube", 9));
	ck_assert(sieve_store_name_ok("Mes règles", strlen("Mes règles")));
	ck_assert(!sieve_store_name_ok("", 0));
	ck_assert(!sieve_store_name_ok(".hidden", 7));
	ck_assert(!sieve_store_name_ok("a/b", 3));
	ck_assert(!sieve_store_name_ok("a\nb", 3));
	ck_assert(!sieve_store_name_ok("\xff", 1));
	ck_assert(!sieve_store_name_ok("a\0b", 3));
}
END_TEST

START_TEST(store_scripts_and_the_active_link)
{
	char *err = NULL, *kept = NULL, *text = NULL, *target;
	size_t len = 0;
	struct stat sb;

	LIST_IS("");
	ck_assert_int_eq(sieve_store_put(&st, "b", "keep;\n", 6, &err),
	    SIEVE_STORE_OK);
	ck_assert_int_eq(sieve_store_put(&st, "a", "stop;\n", 6, &err),
	    SIEVE_STORE_OK);
	LIST_IS("a b");
	ck_assert_int_eq(sieve_store_activate(&st, "b", &kept, &err),
	    SIEVE_STORE_OK);
	LIST_IS("a b*");
	ck_assert_int_eq(lstat(active, &sb), 0);
	ck_assert(S_ISLNK(sb.st_mode));
	ck_assert_int_eq(sieve_store_delete(&st, "b", &err),
	    SIEVE_STORE_ACTIVE);
	ck_assert_int_eq(sieve_store_rename(&st, "b", "a", &err),
	    SIEVE_STORE_EXISTS);
	ck_assert_int_eq(sieve_store_rename(&st, "x", "y", &err),
	    SIEVE_STORE_NONEXISTENT);
	/* Renaming the active script keeps it active: the link follows. */
	ck_assert_int_eq(sieve_store_rename(&st, "b", "c", &err),
	    SIEVE_STORE_OK);
	LIST_IS("a c*");
	target = realpath(active, NULL);
	ck_assert_ptr_nonnull(target);
	ck_assert(strstr(target, "/scripts/c.sieve") != NULL);
	free(target);
	ck_assert_int_eq(sieve_store_get(&st, "c", &text, &len, &err),
	    SIEVE_STORE_OK);
	ck_assert_str_eq(text, "keep;\n");
	free(text);
	ck_assert_int_eq(sieve_store_activate(&st, "nope", &kept, &err),
	    SIEVE_STORE_NONEXISTENT);
	ck_assert_int_eq(sieve_store_activate(&st, NULL, &kept, &err),
	    SIEVE_STORE_OK);
	ck_assert_int_eq(lstat(active, &sb), -1);
	LIST_IS("a c");
	ck_assert_int_eq(sieve_store_delete(&st, "c", &err), SIEVE_STORE_OK);
	ck_assert_int_eq(sieve_store_delete(&st, "c", &err),
	    SIEVE_STORE_NONEXISTENT);
	LIST_IS("a");
}
END_TEST

START_TEST(store_quota)
{
	char *err = NULL, body[100];

	memset(body, '#', sizeof(body));
	ck_assert_int_eq(sieve_store_space(&st, "a", 101, &err),
	    SIEVE_STORE_TOO_BIG);
	ck_assert_int_eq(sieve_store_put(&st, "a", body, 100, &err),
	    SIEVE_STORE_OK);
	ck_assert_int_eq(sieve_store_space(&st, "b", 51, &err),
	    SIEVE_STORE_OVER_QUOTA);
	/* Replacing a script counts its new size only. */
	ck_assert_int_eq(sieve_store_space(&st, "a", 100, &err),
	    SIEVE_STORE_OK);
	ck_assert_int_eq(sieve_store_put(&st, "b", body, 10, &err),
	    SIEVE_STORE_OK);
	ck_assert_int_eq(sieve_store_put(&st, "c", body, 10, &err),
	    SIEVE_STORE_OK);
	ck_assert_int_eq(sieve_store_space(&st, "d", 1, &err),
	    SIEVE_STORE_TOO_MANY);
	ck_assert_int_eq(sieve_store_space(&st, "c", 1, &err),
	    SIEVE_STORE_OK);
}
END_TEST

START_TEST(store_keeps_a_script_written_by_hand)
{
	char *err = NULL, *kept = NULL, *text = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_int_eq(sieve_store_put(&st, "new", "stop;\n", 6, &err),
	    SIEVE_STORE_OK);
	ck_assert_int_eq(sieve_store_put(&st, "active", "x", 1, &err),
	    SIEVE_STORE_OK);
	f = fopen(active, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# mine\nkeep;\n", f);
	fclose(f);
	ck_assert_int_eq(sieve_store_activate(&st, "new", &kept, &err),
	    SIEVE_STORE_OK);
	ck_assert_str_eq(kept, "active-2");
	ck_assert_int_eq(sieve_store_get(&st, kept, &text, &len, &err),
	    SIEVE_STORE_OK);
	ck_assert_str_eq(text, "# mine\nkeep;\n");
	free(text);
	free(kept);
	LIST_IS("active active-2 new*");
}
END_TEST

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void
assert_text(const char *name, const char *want)
{
	char *err = NULL, *text = NULL;
	size_t len = 0;

	ck_assert_int_eq(sieve_store_get(&st, name, &text, &len, &err),
	    SIEVE_STORE_OK);
	ck_assert_str_eq(text, want);
	free(text);
}

/* A script kept by hand at the active path is the active script, listed
 * under the name it will keep in the directory (RFC 5804: LISTSCRIPTS
 * shows the script in force); it is read where it is and left alone
 * until the owner changes it through ManageSieve. */
START_TEST(store_lists_a_script_kept_by_hand_as_active)
{
	char *err = NULL, *kept = NULL, *target;
	struct stat sb;

	write_file(active, "# mine\nkeep;\n");
	LIST_IS("active*");
	assert_text("active", "# mine\nkeep;\n");
	unlink(active);
	ck_assert_int_eq(sieve_store_put(&st, "active", "x", 1, &err),
	    SIEVE_STORE_OK);
	ck_assert_int_eq(sieve_store_put(&st, "new", "stop;\n", 6, &err),
	    SIEVE_STORE_OK);
	write_file(active, "# mine\nkeep;\n");
	LIST_IS("active active-2* new");
	assert_text("active-2", "# mine\nkeep;\n");
	assert_text("active", "x");
	ck_assert_int_eq(sieve_store_delete(&st, "active-2", &err),
	    SIEVE_STORE_ACTIVE);
	/* Activating it again changes nothing. */
	ck_assert_int_eq(sieve_store_activate(&st, "active-2", &kept, &err),
	    SIEVE_STORE_OK);
	ck_assert_ptr_null(kept);
	ck_assert_int_eq(lstat(active, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	/* An upload over it keeps it in the directory, still active. */
	ck_assert_int_eq(sieve_store_put(&st, "active-2", "discard;\n", 9,
	    &err), SIEVE_STORE_OK);
	LIST_IS("active active-2* new");
	assert_text("active-2", "discard;\n");
	ck_assert_int_eq(lstat(active, &sb), 0);
	ck_assert(S_ISLNK(sb.st_mode));
	target = realpath(active, NULL);
	ck_assert_ptr_nonnull(target);
	ck_assert(strstr(target, "/scripts/active-2.sieve") != NULL);
	free(target);
}
END_TEST

START_TEST(store_renames_a_script_kept_by_hand)
{
	char *err = NULL;
	struct stat sb;

	write_file(active, "# mine\nkeep;\n");
	ck_assert_int_eq(sieve_store_rename(&st, "active", "mine", &err),
	    SIEVE_STORE_OK);
	LIST_IS("mine*");
	assert_text("mine", "# mine\nkeep;\n");
	ck_assert_int_eq(lstat(active, &sb), 0);
	ck_assert(S_ISLNK(sb.st_mode));
}
END_TEST

/* The `sieve` path may itself be a file of the directory. */
START_TEST(store_active_file_inside_the_directory)
{
	char *err = NULL, *target;

	ck_assert_int_eq(sieve_store_put(&st, "x", "keep;\n", 6, &err),
	    SIEVE_STORE_OK);
	ck_assert_int_eq(sieve_store_put(&st, "other", "stop;\n", 6, &err),
	    SIEVE_STORE_OK);
	free(active);
	active = xasprintf("%s/x.sieve", scripts);
	st.active = active;
	LIST_IS("other x*");
	ck_assert_int_eq(sieve_store_delete(&st, "x", &err),
	    SIEVE_STORE_ACTIVE);
	ck_assert_int_eq(sieve_store_rename(&st, "x", "y", &err),
	    SIEVE_STORE_OK);
	LIST_IS("other y*");
	assert_text("y", "keep;\n");
	target = realpath(active, NULL);
	ck_assert_ptr_nonnull(target);
	ck_assert(strstr(target, "/scripts/y.sieve") != NULL);
	free(target);
}
END_TEST

static Suite *
managesieve_suite(void)
{
	Suite *s = suite_create("managesieve");
	TCase *proto = tcase_create("proto");
	TCase *store = tcase_create("store");

	tcase_add_test(proto, proto_tokens);
	tcase_add_test(proto, proto_waits_for_whole_lines);
	tcase_add_test(proto, proto_refuses_and_limits);
	tcase_add_test(proto, proto_strings_and_base64);
	tcase_add_test(proto, proto_loopback_peers);
	suite_add_tcase(s, proto);
	tcase_add_checked_fixture(store, setup, teardown);
	tcase_add_test(store, store_names);
	tcase_add_test(store, store_scripts_and_the_active_link);
	tcase_add_test(store, store_quota);
	tcase_add_test(store, store_keeps_a_script_written_by_hand);
	tcase_add_test(store, store_lists_a_script_kept_by_hand_as_active);
	tcase_add_test(store, store_renames_a_script_kept_by_hand);
	tcase_add_test(store, store_active_file_inside_the_directory);
	suite_add_tcase(s, store);
	return s;
}

UNIT_MAIN(managesieve_suite)
