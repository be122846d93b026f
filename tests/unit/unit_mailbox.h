/*
 * unit_mailbox.h - what the tests of the sorting engine and of the
 * preview work on: a connected in-memory store and a real ledger in a
 * temporary directory of their own.  Include after unit.h.
 */
#ifndef MAILSIFT_UNIT_MAILBOX_H
#define MAILSIFT_UNIT_MAILBOX_H

#include <stdio.h>
#include <stdlib.h>

#include "agent/store_mem.h"
#include "agent/xmem.h"
#include "state/ledger.h"

/* Makes the directory /tmp/NAME.XXXXXX in dir (size bytes), a connected
 * store_mem in *store_r and the ledger dir/ledger.db in *ledger_r; fails
 * the test if it cannot. */
static inline void
unit_mailbox_open(const char *name, char *dir, size_t size,
    struct store **store_r, struct ledger **ledger_r)
{
	char *path, *err = NULL;

	snprintf(dir, size, "/tmp/%s.XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	*store_r = store_mem_new();
	ck_assert_int_eq((*store_r)->ops->connect(*store_r), STORE_OK);
	path = xasprintf("%s/ledger.db", dir);
	ck_assert_msg(ledger_open(path, ledger_r, &err) == 0, "%s", err);
	free(path);
}

/* Closes both (setting the pointers to NULL) and removes dir. */
static inline void
unit_mailbox_close(const char *dir, struct store **store,
    struct ledger **ledger)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ledger_close(ledger);
	store_free(store);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

#endif
