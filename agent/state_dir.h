/*
 * state_dir.h - the state directory of one mailbox (state_dir): the
 * ledger (ledger.db, what was sorted), the token store (tokens.db, what
 * was learned), the status file (status.json) and the one-sorter lock.
 *
 * The ledger is the memory of what was sorted: without it every message
 * in the watched folders looks new and is sorted again, so a script that
 * copies would file every copy twice.  `run` makes the ledger before its
 * lock file and its status file, and state/db.c makes database files
 * complete or not at all: a missing or empty ledger beside either of
 * those was lost, and is refused with the way forward instead of being
 * silently replaced.  (The token store says nothing: training may come
 * before the first run.)
 */
#ifndef MAILSIFT_STATE_DIR_H
#define MAILSIFT_STATE_DIR_H

#include "agent/config.h"
#include "agent/store.h"
#include "state/ledger.h"

/* Makes state_dir (mode 0700; made by root, it belongs to the owner of
 * the directory it is in, see state/owner.h) if missing.  0, or -1 with
 * a malloc'd *err_r. */
int state_dir_make(const struct config *config, char **err_r);

#define STATE_DIR_LEDGER_LOST	1

/* Opens the ledger, making it if no sorter used state_dir yet.  0 with
 * *ledger_r; STATE_DIR_LEDGER_LOST if it is missing or empty while
 * state_dir shows earlier use, with *err_r saying so and what to do
 * (restore it, or run --fresh-ledger); -1 with *err_r on other errors.
 * *err_r is malloc'd. */
int state_dir_ledger(const struct config *config, struct ledger **ledger_r,
    char **err_r);

/* What keeps state_dir from being written now, found without writing:
 * a read-only or full file system, or missing permission; as "PATH:
 * CAUSE; FIX", malloc'd, or NULL if nothing does.  For `status`, since a
 * daemon that cannot write cannot update its status file either. */
char *state_dir_problem(const struct config *config);

/* 1 if the ledger file is there and not empty (nothing to replace). */
int state_dir_ledger_present(const struct config *config);

/* The way forward after losing the ledger: makes a new one that counts
 * every message now in the watched folders as sorted (their current
 * UIDNEXT), so nothing is sorted twice and only mail arriving later is
 * sorted.  Connects store to read the folders; the new ledger is
 * complete before it takes the lost one's place.  The caller holds the
 * one-sorter lock.  0, or -1 with a malloc'd *err_r. */
int state_dir_fresh_ledger(const struct config *config, struct store *store,
    char **err_r);

#endif
