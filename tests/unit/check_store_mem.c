/*
 * check_store_mem.c - store_mem.c: every store operation as a well-behaved
 * IMAP server performs it, the helpers, and each fault injection mode.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/store_mem.h"
#include "tests/unit/unit.h"

#define MSG_A "Message-ID: <a1@example.org>\r\nSubject: a\r\n\r\nbody a\r\n"
#define MSG_B "Subject: b\nMessage-Id:   <B2@Example.ORG>  \n\nbody b\n"
#define MSG_C "Subject: no id\n\nbody c\n"

static struct store *s;
static const struct store_ops *ops;

static void
setup(void)
{
	s = store_mem_new();
	ops = s->ops;
	ck_assert_int_eq(ops->connect(s), STORE_OK);
}

static void
teardown(void)
{
	store_free(&s);
	ck_assert_ptr_null(s);
}

static uint32_t
append(const char *box, const char *data, const char *const *flags)
{
	return store_mem_append(s, box, data, strlen(data), flags);
}

static void
select_ok(const char *box)
{
	uint32_t uidvalidity, uidnext;

	ck_assert_int_eq(ops->select(s, box, &uidvalidity, &uidnext),
	    STORE_OK);
}

/* The UIDs of the selected mailbox from min_uid, as "1,2,3". */
static char *
uids_of(uint32_t min_uid)
{
	uint32_t *uids;
	size_t n;
	char *out = calloc(1, 256);

	ck_assert_int_eq(ops->list_uids(s, min_uid, &uids, &n), STORE_OK);
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), 256 - strlen(out), "%s%u",
		    i > 0 ? "," : "", uids[i]);
	free(uids);
	return out;
}

static void
assert_uids(uint32_t min_uid, const char *want)
{
	char *got = uids_of(min_uid);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(needs_connect)
{
	struct store *fresh = store_mem_new();
	uint32_t uidvalidity, uidnext;
	char *name;

	store_mem_append(fresh, "INBOX", "x", 1, NULL);
	ck_assert_int_eq(fresh->ops->select(fresh, "INBOX", &uidvalidity,
	    &uidnext), STORE_CONN_LOST);
	ck_assert_str_eq(store_last_error(fresh), "select: not connected");
	ck_assert_int_eq(fresh->ops->find_special(fresh, STORE_SPECIAL_JUNK,
	    &name), STORE_CONN_LOST);
	ck_assert_int_eq(fresh->ops->connect(fresh), STORE_OK);
	/* Idempotent. */
	ck_assert_int_eq(fresh->ops->connect(fresh), STORE_OK);
	ck_assert_int_eq(fresh->ops->select(fresh, "INBOX", &uidvalidity,
	    &uidnext), STORE_OK);
	store_free(&fresh);
}
END_TEST

START_TEST(select_reports_uidvalidity_and_uidnext)
{
	uint32_t v1, n1, v2, n2;

	ck_assert_uint_eq(append("INBOX", MSG_A, NULL), 1);
	ck_assert_uint_eq(append("INBOX", MSG_B, NULL), 2);
	ck_assert_uint_eq(append("Work", MSG_C, NULL), 1);
	ck_assert_int_eq(ops->select(s, "INBOX", &v1, &n1), STORE_OK);
	ck_assert_uint_eq(n1, 3);
	ck_assert_int_eq(ops->select(s, "Work", &v2, &n2), STORE_OK);
	ck_assert_uint_eq(n2, 2);
	ck_assert_uint_ne(v1, v2);
	/* INBOX is case-insensitive, other names are not. */
	ck_assert_int_eq(ops->select(s, "inbox", &v2, &n2), STORE_OK);
	ck_assert_uint_eq(v2, v1);
	ck_assert_int_eq(ops->select(s, "work", &v2, &n2), STORE_BOX_BAD);
	ck_assert_str_eq(store_last_error(s),
	    "select 'work': no such mailbox");
}
END_TEST

START_TEST(failed_select_deselects)
{
	uint32_t *uids, v, n;
	size_t nuids;
	int changed;

	append("INBOX", MSG_A, NULL);
	select_ok("INBOX");
	ck_assert_int_eq(ops->select(s, "Missing", &v, &n), STORE_BOX_BAD);
	ck_assert_int_eq(ops->list_uids(s, 1, &uids, &nuids), STORE_BOX_BAD);
	ck_assert_str_eq(store_last_error(s), "list_uids: no mailbox selected");
	ck_assert_int_eq(ops->wait(s, 0, -1, &changed), STORE_BOX_BAD);
}
END_TEST

START_TEST(list_uids_from_min)
{
	uint32_t *uids = (uint32_t *)1;
	size_t n = 99;

	for (int i = 0; i < 4; i++)
		append("INBOX", MSG_C, NULL);
	select_ok("INBOX");
	assert_uids(1, "1,2,3,4");
	assert_uids(3, "3,4");
	/* No "n:*" quirk: nothing above the last UID. */
	ck_assert_int_eq(ops->list_uids(s, 5, &uids, &n), STORE_OK);
	ck_assert_ptr_null(uids);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(search_by_range_seen_and_date)
{
	static const char *const seen[] = { "\\Seen", NULL };
	struct store_query q = { .min_uid = 1 };
	uint32_t *uids;
	size_t n;
	time_t now = time(NULL);

	append("INBOX", MSG_A, NULL);			/* 1: today */
	append("INBOX", MSG_B, seen);			/* 2: today, read */
	append("INBOX", MSG_C, NULL);			/* 3: old */
	store_mem_set_date(s, "INBOX", 3, now - 40 * 86400);
	select_ok("INBOX");
	ck_assert_int_eq(ops->search(s, &q, &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 3);
	free(uids);
	q.unseen = 1;
	ck_assert_int_eq(ops->search(s, &q, &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(uids[0], 1);
	ck_assert_uint_eq(uids[1], 3);
	free(uids);
	q.since = now - 30 * 86400;
	ck_assert_int_eq(ops->search(s, &q, &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(uids[0], 1);
	free(uids);
	q = (struct store_query){ .min_uid = 2, .max_uid = 2 };
	ck_assert_int_eq(ops->search(s, &q, &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(uids[0], 2);
	free(uids);
	/* A move keeps the date (INTERNALDATE). */
	store_mem_client_move(s, "INBOX", 3, "Old");
	select_ok("Old");
	q = (struct store_query){ .since = now - 30 * 86400 };
	ck_assert_int_eq(ops->search(s, &q, &uids, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(uids);
}
END_TEST

START_TEST(server_info_follows_caps)
{
	struct store_server_info info;

	ck_assert_int_eq(ops->server_info(s, &info), STORE_OK);
	ck_assert(info.idle && info.move && info.uidplus && info.condstore);
	ck_assert_ptr_null(info.certificate);
	store_server_info_release(&info);
	store_mem_set_caps(s, 0, 1);
	ck_assert_int_eq(ops->server_info(s, &info), STORE_OK);
	ck_assert(!info.move && info.uidplus);
	store_server_info_release(&info);
}
END_TEST

START_TEST(fetch_returns_bytes_and_flags)
{
	const char *const flags[] = { "$Junk", "\\Flagged", NULL };
	struct store_msg msg;
	int truncated;

	append("INBOX", MSG_A, flags);
	select_ok("INBOX");
	ck_assert_int_eq(ops->fetch(s, 1, 0, &msg, &truncated), STORE_OK);
	ck_assert_uint_eq(msg.uid, 1);
	ck_assert_uint_eq(msg.len, strlen(MSG_A));
	ck_assert_str_eq(msg.data, MSG_A);
	ck_assert_int_eq(truncated, 0);
	ck_assert_uint_eq(msg.nflags, 2);
	ck_assert(store_has_flag(msg.flags, msg.nflags, "$junk"));
	ck_assert(store_has_flag(msg.flags, msg.nflags, "\\Flagged"));
	store_msg_release(&msg);
	/* BODY.PEEK: fetching does not mark it read. */
	ck_assert(!store_has_flag(store_mem_get(s, "INBOX", 1)->flags,
	    store_mem_get(s, "INBOX", 1)->nflags, "\\Seen"));
	ck_assert_int_eq(ops->fetch(s, 1, 10, &msg, &truncated), STORE_OK);
	ck_assert_uint_eq(msg.len, 10);
	ck_assert_str_eq(msg.data, "Message-ID");
	ck_assert_int_eq(truncated, 1);
	store_msg_release(&msg);
	ck_assert_int_eq(ops->fetch(s, 1, strlen(MSG_A), &msg, &truncated),
	    STORE_OK);
	ck_assert_int_eq(truncated, 0);
	store_msg_release(&msg);
	ck_assert_int_eq(ops->fetch(s, 2, 0, &msg, &truncated),
	    STORE_MSG_GONE);
	ck_assert_ptr_null(msg.data);
	ck_assert_str_eq(store_last_error(s),
	    "fetch uid 2 in 'INBOX': no such message");
}
END_TEST

START_TEST(examine_is_read_only)
{
	const char *const add[] = { "$Junk", NULL };
	struct store_box_info i1, i2;
	uint32_t v, next, new_uid;
	int left;

	append("INBOX", MSG_A, NULL);
	ck_assert_int_eq(ops->examine(s, "INBOX", &v, &next), STORE_OK);
	ck_assert_uint_eq(next, 2);
	ck_assert_int_eq(ops->box_info(s, &i1), STORE_OK);
	ck_assert_int_eq(ops->set_flags(s, 1, add, NULL), STORE_BOX_BAD);
	ck_assert_int_eq(ops->move(s, 1, "Junk", &new_uid, &left),
	    STORE_BOX_BAD);
	ck_assert_int_eq(ops->copy(s, 1, "Copies", &new_uid), STORE_OK);
	select_ok("INBOX");
	ck_assert_int_eq(ops->set_flags(s, 1, add, NULL), STORE_OK);
	select_ok("INBOX");
	ck_assert_int_eq(ops->box_info(s, &i2), STORE_OK);
	ck_assert_uint_eq(i1.exists, 1);
	ck_assert_uint_gt(i2.modseq, i1.modseq);	/* the flag change */
}
END_TEST

START_TEST(list_flags_changed_since)
{
	const char *const add[] = { "$Junk", NULL };
	struct store_box_info i1;
	struct store_flags *fl;
	size_t n;

	append("INBOX", MSG_A, NULL);
	append("INBOX", MSG_B, NULL);
	select_ok("INBOX");
	ck_assert_int_eq(ops->box_info(s, &i1), STORE_OK);
	ck_assert_int_eq(ops->list_flags(s, 1, i1.modseq, &fl, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(ops->set_flags(s, 2, add, NULL), STORE_OK);
	ck_assert_int_eq(ops->list_flags(s, 1, i1.modseq, &fl, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(fl[0].uid, 2);
	store_flags_free(fl, n);
}
END_TEST

START_TEST(list_flags_and_set_flags)
{
	const char *const seen[] = { "\\Seen", NULL };
	const char *const add[] = { "$Junk", "$junk", "\\Flagged", NULL };
	const char *const del[] = { "\\SEEN", "$NotJunk", NULL };
	struct store_flags *fl;
	size_t n;

	append("INBOX", MSG_A, seen);
	append("INBOX", MSG_B, NULL);
	select_ok("INBOX");
	ck_assert_int_eq(ops->set_flags(s, 1, add, del), STORE_OK);
	ck_assert_int_eq(ops->set_flags(s, 2, add, NULL), STORE_OK);
	ck_assert_int_eq(ops->set_flags(s, 2, NULL, NULL), STORE_OK);
	ck_assert_int_eq(ops->list_flags(s, 1, 0, &fl, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(fl[0].uid, 1);
	/* Keywords are case-insensitive: "$junk" adds nothing new. */
	ck_assert_uint_eq(fl[0].nflags, 2);
	ck_assert_str_eq(fl[0].flags[0], "$Junk");
	ck_assert_str_eq(fl[0].flags[1], "\\Flagged");
	ck_assert_uint_eq(fl[1].uid, 2);
	ck_assert_uint_eq(fl[1].nflags, 2);
	store_flags_free(fl, n);
	ck_assert_int_eq(ops->list_flags(s, 2, 0, &fl, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(fl[0].uid, 2);
	store_flags_free(fl, n);
	ck_assert_int_eq(ops->set_flags(s, 7, add, NULL), STORE_MSG_GONE);
}
END_TEST

START_TEST(copy_creates_box_and_keeps_original)
{
	const char *const flags[] = { "$Label1", NULL };
	const struct store_msg *m;
	uint32_t new_uid;

	append("INBOX", MSG_A, flags);
	select_ok("INBOX");
	ck_assert_int_eq(ops->copy(s, 1, "Archive/2026", &new_uid), STORE_OK);
	ck_assert_uint_eq(new_uid, 1);
	ck_assert_int_eq(ops->copy(s, 1, "Archive/2026", &new_uid), STORE_OK);
	ck_assert_uint_eq(new_uid, 2);
	ck_assert_uint_eq(store_mem_count(s, "INBOX"), 1);
	ck_assert_uint_eq(store_mem_count(s, "Archive/2026"), 2);
	m = store_mem_get(s, "Archive/2026", 2);
	ck_assert_str_eq(m->data, MSG_A);
	ck_assert(store_has_flag(m->flags, m->nflags, "$Label1"));
	/* Into the selected box itself. */
	ck_assert_int_eq(ops->copy(s, 1, "INBOX", &new_uid), STORE_OK);
	ck_assert_uint_eq(new_uid, 2);
	ck_assert_str_eq(store_mem_get(s, "INBOX", 2)->data, MSG_A);
	ck_assert_int_eq(ops->copy(s, 9, "Archive/2026", &new_uid),
	    STORE_MSG_GONE);
	/* Without UIDPLUS the server does not say the new UID. */
	store_mem_set_caps(s, 1, 0);
	ck_assert_int_eq(ops->copy(s, 1, "Archive/2026", &new_uid), STORE_OK);
	ck_assert_uint_eq(new_uid, 0);
	ck_assert_uint_eq(store_mem_count(s, "Archive/2026"), 3);
}
END_TEST

static void
move_and_check(int has_move, int has_uidplus)
{
	const char *const deleted[] = { "\\Deleted", NULL };
	const struct store_msg *m;
	uint32_t new_uid;
	int left;

	store_mem_set_caps(s, has_move, has_uidplus);
	append("INBOX", MSG_A, NULL);
	/* Another client's message waiting for its own expunge. */
	append("INBOX", MSG_B, deleted);
	append("Junk", MSG_C, NULL);
	select_ok("INBOX");
	ck_assert_int_eq(ops->move(s, 1, "Junk", &new_uid, &left), STORE_OK);
	ck_assert_uint_eq(store_mem_count(s, "Junk"), 2);
	m = store_mem_at(s, "Junk", 1);
	ck_assert_uint_eq(m->uid, 2);
	ck_assert_str_eq(m->data, MSG_A);
	ck_assert(!store_has_flag(m->flags, m->nflags, "\\Deleted"));
	ck_assert_uint_eq(new_uid, has_uidplus ? 2 : 0);
	/* The other client's \Deleted message is never expunged. */
	ck_assert_ptr_nonnull(store_mem_get(s, "INBOX", 2));
	if (has_move || has_uidplus) {
		ck_assert_int_eq(left, 0);
		ck_assert_uint_eq(store_mem_count(s, "INBOX"), 1);
		ck_assert_ptr_null(store_mem_get(s, "INBOX", 1));
	} else {
		ck_assert_int_eq(left, 1);
		ck_assert_uint_eq(store_mem_count(s, "INBOX"), 2);
		m = store_mem_get(s, "INBOX", 1);
		ck_assert(store_has_flag(m->flags, m->nflags, "\\Deleted"));
	}
}

START_TEST(move_with_move)
{
	move_and_check(1, 1);
}
END_TEST

START_TEST(move_with_uidplus_only)
{
	move_and_check(0, 1);
}
END_TEST

START_TEST(move_with_neither_leaves_original)
{
	move_and_check(0, 0);
}
END_TEST

START_TEST(move_with_move_but_no_uidplus)
{
	move_and_check(1, 0);
}
END_TEST

START_TEST(move_edge_cases)
{
	uint32_t new_uid;
	int left;

	append("INBOX", MSG_A, NULL);
	select_ok("INBOX");
	ck_assert_int_eq(ops->move(s, 5, "Junk", &new_uid, &left),
	    STORE_MSG_GONE);
	ck_assert_uint_eq(store_mem_count(s, "Junk"), 0);
	ck_assert_int_eq(ops->move(s, 1, "Spam folder", &new_uid, &left),
	    STORE_OK);
	ck_assert_uint_eq(new_uid, 1);
	ck_assert_uint_eq(store_mem_count(s, "Spam folder"), 1);
	/* Fallback copy into the selected box itself. */
	append("INBOX", MSG_B, NULL);
	store_mem_set_caps(s, 0, 0);
	ck_assert_int_eq(ops->move(s, 2, "INBOX", &new_uid, &left), STORE_OK);
	ck_assert_int_eq(left, 1);
	ck_assert_uint_eq(store_mem_count(s, "INBOX"), 2);
	ck_assert(store_has_flag(store_mem_get(s, "INBOX", 2)->flags,
	    store_mem_get(s, "INBOX", 2)->nflags, "\\Deleted"));
	ck_assert(!store_has_flag(store_mem_get(s, "INBOX", 3)->flags,
	    store_mem_get(s, "INBOX", 3)->nflags, "\\Deleted"));
}
END_TEST

START_TEST(find_message_id_searches_header)
{
	uint32_t *uids;
	size_t n;

	append("INBOX", MSG_A, NULL);
	append("INBOX", MSG_B, NULL);
	append("INBOX", MSG_C, NULL);
	append("INBOX", MSG_A, NULL);
	append("Other", MSG_B, NULL);
	select_ok("INBOX");
	ck_assert_int_eq(ops->find_message_id(s, "<a1@example.org>", &uids,
	    &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(uids[0], 1);
	ck_assert_uint_eq(uids[1], 4);
	free(uids);
	/* Case-insensitive, as IMAP SEARCH is. */
	ck_assert_int_eq(ops->find_message_id(s, "<b2@example.org>", &uids,
	    &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(uids[0], 2);
	free(uids);
	ck_assert_int_eq(ops->find_message_id(s, "<zz@example.org>", &uids,
	    &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(uids);
}
END_TEST

START_TEST(find_special_and_set_special)
{
	char *name = (char *)"x";

	store_mem_append(s, "Junk", "x", 1, NULL);
	ck_assert_int_eq(ops->find_special(s, STORE_SPECIAL_JUNK, &name),
	    STORE_OK);
	ck_assert_ptr_null(name);
	store_mem_set_special(s, "Spam", STORE_SPECIAL_JUNK);
	store_mem_set_special(s, "Bin", STORE_SPECIAL_TRASH);
	ck_assert_int_eq(ops->find_special(s, STORE_SPECIAL_JUNK, &name),
	    STORE_OK);
	ck_assert_str_eq(name, "Spam");
	free(name);
	ck_assert_int_eq(ops->find_special(s, STORE_SPECIAL_TRASH, &name),
	    STORE_OK);
	ck_assert_str_eq(name, "Bin");
	free(name);
	store_mem_set_special(s, "Junk", STORE_SPECIAL_JUNK);
	ck_assert_int_eq(ops->find_special(s, STORE_SPECIAL_JUNK, &name),
	    STORE_OK);
	ck_assert_str_eq(name, "Junk");
	free(name);
	/* set_special created the box. */
	select_ok("Spam");
}
END_TEST

START_TEST(wait_reports_arrivals_without_sleeping)
{
	struct store_flags *fl;
	uint32_t new_uid;
	size_t n;
	int changed = -1, left;

	append("INBOX", MSG_A, NULL);
	append("INBOX", MSG_B, NULL);
	select_ok("INBOX");
	/* Arrived before the first list: a change. */
	ck_assert_int_eq(ops->wait(s, 60000, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(ops->wait(s, 60000, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 0);
	append("INBOX", MSG_C, NULL);
	assert_uids(1, "1,2,3");
	ck_assert_int_eq(ops->wait(s, 60000, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 0);
	append("INBOX", MSG_C, NULL);
	ck_assert_int_eq(ops->list_flags(s, 1, 0, &fl, &n), STORE_OK);
	store_flags_free(fl, n);
	ck_assert_int_eq(ops->wait(s, 60000, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 0);
	/* Our own move out is no news; another client's is. */
	ck_assert_int_eq(ops->move(s, 1, "Junk", &new_uid, &left), STORE_OK);
	ck_assert_int_eq(ops->wait(s, 60000, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 0);
	ck_assert_uint_ne(store_mem_client_move(s, "INBOX", 2, "Archive"), 0);
	ck_assert_int_eq(ops->wait(s, 60000, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 1);
	/* What we moved into Junk is news there. */
	select_ok("Junk");
	ck_assert_int_eq(ops->wait(s, 60000, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(ops->wait(s, 60000, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 0);
}
END_TEST

START_TEST(helpers_count_get_at_client_move)
{
	const struct store_msg *m;

	ck_assert_uint_eq(store_mem_count(s, "Nowhere"), 0);
	ck_assert_ptr_null(store_mem_get(s, "Nowhere", 1));
	ck_assert_ptr_null(store_mem_at(s, "Nowhere", 0));
	append("INBOX", MSG_A, NULL);
	append("INBOX", MSG_B, NULL);
	ck_assert_uint_eq(store_mem_count(s, "INBOX"), 2);
	ck_assert_str_eq(store_mem_at(s, "INBOX", 1)->data, MSG_B);
	ck_assert_ptr_null(store_mem_at(s, "INBOX", 2));
	append("Junk", MSG_C, NULL);
	ck_assert_uint_eq(store_mem_client_move(s, "INBOX", 1, "Junk"), 2);
	ck_assert_uint_eq(store_mem_count(s, "INBOX"), 1);
	m = store_mem_get(s, "Junk", 2);
	ck_assert_str_eq(m->data, MSG_A);
	ck_assert_uint_eq(store_mem_client_move(s, "INBOX", 1, "Junk"), 0);
	ck_assert_uint_eq(store_mem_client_move(s, "Nowhere", 1, "Junk"), 0);
	/* UIDs are never reused: a message moved back gets a new one. */
	ck_assert_uint_eq(store_mem_client_move(s, "Junk", 2, "INBOX"), 3);
}
END_TEST

START_TEST(reset_uidvalidity_renumbers)
{
	uint32_t v1, n1, v2, n2;

	append("INBOX", MSG_A, NULL);
	append("INBOX", MSG_B, NULL);
	append("INBOX", MSG_C, NULL);
	store_mem_client_move(s, "INBOX", 1, "Junk");
	ck_assert_int_eq(ops->select(s, "INBOX", &v1, &n1), STORE_OK);
	ck_assert_uint_eq(n1, 4);
	assert_uids(1, "2,3");
	store_mem_reset_uidvalidity(s, "INBOX");
	ck_assert_int_eq(ops->select(s, "INBOX", &v2, &n2), STORE_OK);
	ck_assert_uint_ne(v1, v2);
	ck_assert_uint_eq(n2, 3);
	assert_uids(1, "1,2");
	ck_assert_str_eq(store_mem_get(s, "INBOX", 1)->data, MSG_B);
	ck_assert_str_eq(store_mem_get(s, "INBOX", 2)->data, MSG_C);
}
END_TEST

START_TEST(fault_nth_matching_operation)
{
	struct store_msg msg;
	int truncated;

	append("INBOX", MSG_A, NULL);
	select_ok("INBOX");
	store_mem_fail(s, "fetch", 2, STORE_MSG_GONE, 0);
	ck_assert_int_eq(ops->fetch(s, 1, 0, &msg, &truncated), STORE_OK);
	store_msg_release(&msg);
	/* Other operations do not count. */
	assert_uids(1, "1");
	select_ok("INBOX");
	ck_assert_int_eq(ops->fetch(s, 1, 0, &msg, &truncated),
	    STORE_MSG_GONE);
	ck_assert_ptr_null(msg.data);
	ck_assert_str_eq(store_last_error(s),
	    "injected failure of fetch: message gone");
	/* It fired once. */
	ck_assert_int_eq(ops->fetch(s, 1, 0, &msg, &truncated), STORE_OK);
	store_msg_release(&msg);
}
END_TEST

START_TEST(fault_any_operation)
{
	char *name;
	uint32_t v, n;

	append("INBOX", MSG_A, NULL);
	store_mem_fail(s, "*", 1, STORE_BOX_BAD, 0);
	ck_assert_int_eq(ops->select(s, "INBOX", &v, &n), STORE_BOX_BAD);
	ck_assert_str_eq(store_last_error(s),
	    "injected failure of select: mailbox unusable");
	store_mem_fail(s, "*", 1, STORE_FATAL, 0);
	ck_assert_int_eq(ops->find_special(s, STORE_SPECIAL_JUNK, &name),
	    STORE_FATAL);
	ck_assert_ptr_null(name);
	select_ok("INBOX");
}
END_TEST

START_TEST(fault_fatal_from_any_then_next)
{
	uint32_t *uids;
	size_t n;

	append("INBOX", MSG_A, NULL);
	select_ok("INBOX");
	store_mem_fail(s, "*", 2, STORE_FATAL, 0);
	assert_uids(1, "1");
	ck_assert_int_eq(ops->list_uids(s, 1, &uids, &n), STORE_FATAL);
	ck_assert_ptr_null(uids);
	/* FATAL does not drop the connection by itself. */
	assert_uids(1, "1");
}
END_TEST

START_TEST(conn_lost_persists_until_connect)
{
	uint32_t *uids, v, n;
	size_t nuids;
	char *name;
	int changed;

	append("INBOX", MSG_A, NULL);
	select_ok("INBOX");
	store_mem_fail(s, "list_uids", 1, STORE_CONN_LOST, 0);
	ck_assert_int_eq(ops->list_uids(s, 1, &uids, &nuids),
	    STORE_CONN_LOST);
	ck_assert_int_eq(ops->wait(s, 0, -1, &changed), STORE_CONN_LOST);
	ck_assert_int_eq(ops->select(s, "INBOX", &v, &n), STORE_CONN_LOST);
	ck_assert_int_eq(ops->find_special(s, STORE_SPECIAL_JUNK, &name),
	    STORE_CONN_LOST);
	/* The server side still works meanwhile. */
	append("INBOX", MSG_B, NULL);
	ck_assert_int_eq(ops->connect(s), STORE_OK);
	/* The selection was lost with the connection. */
	ck_assert_int_eq(ops->list_uids(s, 1, &uids, &nuids), STORE_BOX_BAD);
	select_ok("INBOX");
	assert_uids(1, "1,2");
}
END_TEST

START_TEST(fault_on_connect)
{
	uint32_t v, n;

	store_mem_fail(s, "select", 1, STORE_CONN_LOST, 0);
	store_mem_fail(s, "connect", 1, STORE_FATAL, 0);
	ck_assert_int_eq(ops->select(s, "INBOX", &v, &n), STORE_CONN_LOST);
	ck_assert_int_eq(ops->connect(s), STORE_FATAL);
	ck_assert_str_eq(store_last_error(s),
	    "injected failure of connect: fatal");
	ck_assert_int_eq(ops->select(s, "INBOX", &v, &n), STORE_CONN_LOST);
	ck_assert_int_eq(ops->connect(s), STORE_OK);
	append("INBOX", MSG_A, NULL);
	select_ok("INBOX");
}
END_TEST

START_TEST(refused_operations_do_not_count)
{
	uint32_t v, n;

	append("INBOX", MSG_A, NULL);
	store_mem_fail(s, "select", 1, STORE_CONN_LOST, 0);
	store_mem_fail(s, "select", 3, STORE_BOX_BAD, 0);
	ck_assert_int_eq(ops->select(s, "INBOX", &v, &n), STORE_CONN_LOST);
	/* Refused for want of a connection: not the server's 2nd select. */
	ck_assert_int_eq(ops->select(s, "INBOX", &v, &n), STORE_CONN_LOST);
	ck_assert_int_eq(ops->connect(s), STORE_OK);
	select_ok("INBOX");
	ck_assert_int_eq(ops->select(s, "INBOX", &v, &n), STORE_BOX_BAD);
	select_ok("INBOX");
}
END_TEST

START_TEST(move_lost_after_effect)
{
	uint32_t new_uid = 7;
	int left = 7;

	append("INBOX", MSG_A, NULL);
	select_ok("INBOX");
	store_mem_fail(s, "move", 1, STORE_CONN_LOST, 1);
	ck_assert_int_eq(ops->move(s, 1, "Junk", &new_uid, &left),
	    STORE_CONN_LOST);
	/* The server did it; the client never heard. */
	ck_assert_uint_eq(store_mem_count(s, "INBOX"), 0);
	ck_assert_uint_eq(store_mem_count(s, "Junk"), 1);
	ck_assert_str_eq(store_mem_at(s, "Junk", 0)->data, MSG_A);
	ck_assert_str_eq(store_last_error(s),
	    "injected failure of move: connection lost");
	ck_assert_int_eq(ops->connect(s), STORE_OK);
	select_ok("INBOX");
	assert_uids(1, "");
}
END_TEST

START_TEST(move_lost_before_effect)
{
	uint32_t new_uid;
	int left;

	append("INBOX", MSG_A, NULL);
	select_ok("INBOX");
	store_mem_fail(s, "move", 1, STORE_CONN_LOST, 0);
	ck_assert_int_eq(ops->move(s, 1, "Junk", &new_uid, &left),
	    STORE_CONN_LOST);
	ck_assert_uint_eq(store_mem_count(s, "INBOX"), 1);
	ck_assert_uint_eq(store_mem_count(s, "Junk"), 0);
}
END_TEST

START_TEST(copy_and_set_flags_lost_after_effect)
{
	const char *const junk[] = { "$Junk", NULL };
	const struct store_msg *m;
	uint32_t new_uid;

	append("INBOX", MSG_A, NULL);
	select_ok("INBOX");
	store_mem_fail(s, "copy", 1, STORE_CONN_LOST, 1);
	ck_assert_int_eq(ops->copy(s, 1, "Junk", &new_uid), STORE_CONN_LOST);
	ck_assert_uint_eq(store_mem_count(s, "Junk"), 1);
	ck_assert_uint_eq(store_mem_count(s, "INBOX"), 1);
	ck_assert_int_eq(ops->connect(s), STORE_OK);
	select_ok("INBOX");
	store_mem_fail(s, "set_flags", 1, STORE_CONN_LOST, 1);
	ck_assert_int_eq(ops->set_flags(s, 1, junk, NULL), STORE_CONN_LOST);
	m = store_mem_get(s, "INBOX", 1);
	ck_assert(store_has_flag(m->flags, m->nflags, "$Junk"));
	/* after_effect means nothing for an operation without effect. */
	ck_assert_int_eq(ops->connect(s), STORE_OK);
	select_ok("INBOX");
	store_mem_fail(s, "list_uids", 1, STORE_CONN_LOST, 1);
	{
		uint32_t *uids;
		size_t n;

		ck_assert_int_eq(ops->list_uids(s, 1, &uids, &n),
		    STORE_CONN_LOST);
		ck_assert_ptr_null(uids);
	}
}
END_TEST

START_TEST(several_faults_pending)
{
	struct store_msg msg;
	int truncated;

	append("INBOX", MSG_A, NULL);
	select_ok("INBOX");
	store_mem_fail(s, "fetch", 1, STORE_MSG_GONE, 0);
	store_mem_fail(s, "fetch", 1, STORE_BOX_BAD, 0);
	store_mem_fail(s, "fetch", 3, STORE_FATAL, 0);
	/* Two due at once: the first registered fires, the other next. */
	ck_assert_int_eq(ops->fetch(s, 1, 0, &msg, &truncated),
	    STORE_MSG_GONE);
	ck_assert_int_eq(ops->fetch(s, 1, 0, &msg, &truncated),
	    STORE_BOX_BAD);
	ck_assert_int_eq(ops->fetch(s, 1, 0, &msg, &truncated), STORE_FATAL);
	ck_assert_int_eq(ops->fetch(s, 1, 0, &msg, &truncated), STORE_OK);
	store_msg_release(&msg);
}
END_TEST

START_TEST(free_with_everything_pending)
{
	const char *const flags[] = { "\\Seen", "$Junk", NULL };

	/* Leaks show under valgrind/ASan: boxes, messages, flags, faults and
	 * a last error all go with the store. */
	append("INBOX", MSG_A, flags);
	append("Junk", MSG_B, flags);
	store_mem_set_special(s, "Junk", STORE_SPECIAL_JUNK);
	store_mem_fail(s, "move", 3, STORE_CONN_LOST, 1);
	store_mem_fail(s, "*", 9, STORE_FATAL, 0);
	{
		uint32_t v, n;

		ck_assert_int_eq(ops->select(s, "Nope", &v, &n),
		    STORE_BOX_BAD);
	}
	ck_assert_str_ne(store_last_error(s), "");
}
END_TEST

/* notify(): wait() also reports arrivals in, and removals from, the
 * notified mailbox, once each; not with NOTIFY off. */
START_TEST(notify_reports_the_other_mailbox)
{
	uint32_t uid;
	int on, changed;

	append("INBOX", MSG_A, NULL);
	select_ok("INBOX");
	free(uids_of(1));
	ck_assert_int_eq(ops->notify(s, "Junk", &on), STORE_OK);
	ck_assert_int_eq(on, 1);
	ck_assert_int_eq(ops->wait(s, 0, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 0);
	uid = append("Junk", MSG_B, NULL);
	ck_assert_int_eq(ops->wait(s, 0, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, STORE_WAIT_NOTIFIED);
	ck_assert_int_eq(ops->wait(s, 0, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, 0);
	/* Out of Junk into INBOX: both. */
	store_mem_client_move(s, "Junk", uid, "INBOX");
	ck_assert_int_eq(ops->wait(s, 0, -1, &changed), STORE_OK);
	ck_assert_int_eq(changed, STORE_WAIT_SELECTED | STORE_WAIT_NOTIFIED);
	store_mem_set_notify(s, 0);
	ck_assert_int_eq(ops->notify(s, "Spam", &on), STORE_OK);
	ck_assert_int_eq(on, 0);
}
END_TEST

/* idle_begin(): a descriptor that another client's change makes
 * readable; idle_end() tells the change once. */
START_TEST(idle_halves_report_changes)
{
	struct pollfd pfd = { .events = POLLIN };
	int fd, changed;

	append("Junk", MSG_A, NULL);
	ck_assert_int_eq(ops->idle_begin(s, &fd, &changed), STORE_BOX_BAD);
	select_ok("Junk");
	/* The message that was there before the SELECT: already known. */
	ck_assert_int_eq(ops->idle_begin(s, &fd, &changed), STORE_OK);
	ck_assert_int_eq(changed, STORE_WAIT_SELECTED);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(ops->idle_begin(s, &fd, &changed), STORE_OK);
	ck_assert_int_eq(changed, 0);
	ck_assert_int_ge(fd, 0);
	pfd.fd = fd;
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	append("INBOX", MSG_B, NULL);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	append("Junk", MSG_C, NULL);
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(ops->idle_end(s, &changed), STORE_OK);
	ck_assert_int_eq(changed, STORE_WAIT_SELECTED);
	ck_assert_int_eq(ops->idle_begin(s, &fd, &changed), STORE_OK);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(ops->idle_end(s, &changed), STORE_OK);
	ck_assert_int_eq(changed, 0);
}
END_TEST

static Suite *
store_mem_suite(void)
{
	Suite *su = suite_create("store_mem");
	TCase *tc = tcase_create("ops");
	TCase *tf = tcase_create("faults");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, needs_connect);
	tcase_add_test(tc, select_reports_uidvalidity_and_uidnext);
	tcase_add_test(tc, failed_select_deselects);
	tcase_add_test(tc, list_uids_from_min);
	tcase_add_test(tc, search_by_range_seen_and_date);
	tcase_add_test(tc, server_info_follows_caps);
	tcase_add_test(tc, fetch_returns_bytes_and_flags);
	tcase_add_test(tc, list_flags_and_set_flags);
	tcase_add_test(tc, examine_is_read_only);
	tcase_add_test(tc, list_flags_changed_since);
	tcase_add_test(tc, copy_creates_box_and_keeps_original);
	tcase_add_test(tc, move_with_move);
	tcase_add_test(tc, move_with_uidplus_only);
	tcase_add_test(tc, move_with_neither_leaves_original);
	tcase_add_test(tc, move_with_move_but_no_uidplus);
	tcase_add_test(tc, move_edge_cases);
	tcase_add_test(tc, find_message_id_searches_header);
	tcase_add_test(tc, find_special_and_set_special);
	tcase_add_test(tc, wait_reports_arrivals_without_sleeping);
	tcase_add_test(tc, notify_reports_the_other_mailbox);
	tcase_add_test(tc, idle_halves_report_changes);
	tcase_add_test(tc, helpers_count_get_at_client_move);
	tcase_add_test(tc, reset_uidvalidity_renumbers);
	suite_add_tcase(su, tc);
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_add_test(tf, fault_nth_matching_operation);
	tcase_add_test(tf, fault_any_operation);
	tcase_add_test(tf, fault_fatal_from_any_then_next);
	tcase_add_test(tf, conn_lost_persists_until_connect);
	tcase_add_test(tf, fault_on_connect);
	tcase_add_test(tf, refused_operations_do_not_count);
	tcase_add_test(tf, move_lost_after_effect);
	tcase_add_test(tf, move_lost_before_effect);
	tcase_add_test(tf, copy_and_set_flags_lost_after_effect);
	tcase_add_test(tf, several_faults_pending);
	tcase_add_test(tf, free_with_everything_pending);
	suite_add_tcase(su, tf);
	return su;
}

UNIT_MAIN(store_mem_suite)
