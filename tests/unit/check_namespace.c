/*
 * check_namespace.c - mailbox names between the owner's form and the
 * server's (agent/namespace.c), for the namespaces real servers announce:
 * Dovecot and Cyrus (("" "/")), Dovecot's maildir layout (("" ".")),
 * Courier (("INBOX." ".")), Cyrus without altnamespace (("INBOX/" "/")),
 * a flat server (("" NIL)).  Each row: what the owner wrote, the server's
 * name, and the owner's form of that name coming back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/namespace.h"
#include "tests/unit/unit.h"

static const struct {
	const char *prefix;
	char sep;
	const char *written;	/* by the owner */
	const char *server;	/* namespace_to_server(written) */
	const char *owner;	/* namespace_to_owner(server) */
} rows[] = {
	/* Dovecot, Cyrus, Gmail: nothing changes. */
	{ "", '/', "INBOX", "INBOX", "INBOX" },
	{ "", '/', "Junk", "Junk", "Junk" },
	{ "", '/', "Lists/dev", "Lists/dev", "Lists/dev" },
	{ "", '/', "[Gmail]/Spam", "[Gmail]/Spam", "[Gmail]/Spam" },
	{ "", '/', "Mr. Smith", "Mr. Smith", "Mr. Smith" },
	{ "", '/', "inbox", "INBOX", "INBOX" },
	/* Dovecot with the maildir++ layout's separator. */
	{ "", '.', "Lists/dev", "Lists.dev", "Lists/dev" },
	{ "", '.', "Lists.dev", "Lists.dev", "Lists/dev" },
	{ "", '.', "Junk", "Junk", "Junk" },
	/* Courier: every personal folder under INBOX. */
	{ "INBOX.", '.', "INBOX", "INBOX", "INBOX" },
	{ "INBOX.", '.', "Inbox", "INBOX", "INBOX" },
	{ "INBOX.", '.', "Junk", "INBOX.Junk", "Junk" },
	{ "INBOX.", '.', "Lists/dev", "INBOX.Lists.dev", "Lists/dev" },
	{ "INBOX.", '.', "B\xc3\xbcro/Rechnungen", "INBOX.B\xc3\xbcro.Rechnungen",
	  "B\xc3\xbcro/Rechnungen" },
	/* Already in the server's form (the old workaround). */
	{ "INBOX.", '.', "INBOX.Junk", "INBOX.Junk", "Junk" },
	{ "INBOX.", '.', "inbox.Junk", "INBOX.Junk", "Junk" },
	{ "INBOX.", '.', "INBOX/Lists/dev", "INBOX.Lists.dev", "Lists/dev" },
	{ "INBOX.", '.', "INBOX.Lists.dev", "INBOX.Lists.dev", "Lists/dev" },
	/* A folder called INBOX-something is not INBOX. */
	{ "INBOX.", '.', "INBOXES", "INBOX.INBOXES", "INBOXES" },
	/* Another namespace stays as it is. */
	{ "INBOX.", '.', "#shared.team", "#shared.team", "#shared/team" },
	{ "INBOX.", '.', "#shared/team", "#shared.team", "#shared/team" },
	/* Cyrus without altnamespace. */
	{ "INBOX/", '/', "Junk", "INBOX/Junk", "Junk" },
	{ "INBOX/", '/', "Lists/dev", "INBOX/Lists/dev", "Lists/dev" },
	{ "INBOX/", '/', "INBOX/Lists", "INBOX/Lists", "Lists" },
	/* A server without hierarchy. */
	{ "", '\0', "Lists/dev", "Lists/dev", "Lists/dev" },
};

static void
map_of(struct namespace_map *ns, const char *prefix, char sep)
{
	namespace_init(ns);
	namespace_set_personal(ns, prefix, sep);
	namespace_add_other(ns, "#shared.");
	namespace_add_other(ns, "shared.");
	namespace_add_other(ns, "");	/* ignored: would match all */
}

START_TEST(test_rows)
{
	struct namespace_map ns;
	char *server, *owner, *again;

	map_of(&ns, rows[_i].prefix, rows[_i].sep);
	server = namespace_to_server(&ns, rows[_i].written);
	ck_assert_msg(strcmp(server, rows[_i].server) == 0,
	    "(\"%s\" '%c') %s -> %s, want %s", rows[_i].prefix, rows[_i].sep,
	    rows[_i].written, server, rows[_i].server);
	owner = namespace_to_owner(&ns, server);
	ck_assert_msg(strcmp(owner, rows[_i].owner) == 0,
	    "(\"%s\" '%c') %s <- %s, want %s", rows[_i].prefix, rows[_i].sep,
	    owner, server, rows[_i].owner);
	/* The owner's form leads back to the same server name. */
	again = namespace_to_server(&ns, owner);
	ck_assert_str_eq(again, server);
	free(server);
	free(owner);
	free(again);
	namespace_release(&ns);
}
END_TEST

START_TEST(test_default_map)
{
	struct namespace_map ns;
	char *s;

	namespace_init(&ns);
	s = namespace_to_server(&ns, "Lists/dev");
	ck_assert_str_eq(s, "Lists/dev");
	free(s);
	s = namespace_to_owner(&ns, "INBOX");
	ck_assert_str_eq(s, "INBOX");
	free(s);
	namespace_release(&ns);
}
END_TEST

static Suite *
namespace_suite(void)
{
	Suite *s = suite_create("namespace");
	TCase *tc = tcase_create("names");

	tcase_add_loop_test(tc, test_rows, 0,
	    (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_default_map);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(namespace_suite)
