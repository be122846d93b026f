/*
 * bootstrap.h - `mailsift train -c CONFIG --from-folders`: give a new
 * user's classifier a head start from the mail already sorted on the
 * server (spam from Junk, ham from the given folders), exactly once.
 */
#ifndef MAILSIFT_BOOTSTRAP_H
#define MAILSIFT_BOOTSTRAP_H

#include <stddef.h>

#include "agent/config.h"

/* Connects to the account, trains every message of the Junk folder as
 * spam and every read message of ham_folders (nham names; NULL/0: the
 * watched folders) as ham, the unread ones too with unread_too,
 * recording each in the ledger so a second run changes nothing.  Shows
 * progress on a terminal, prints a one-line summary on stdout, and why
 * unread messages were left out if some were.  Returns an exit status
 * (0, 1 runtime failure). */
int bootstrap_from_folders(const struct config *config,
    const char *const *ham_folders, size_t nham, int unread_too);

#endif
