/*
 * account.h - the configured IMAP account as a connected mail store, and
 * its Junk and Trash folders: shared by the daemon and by
 * `mailsift train --from-folders`.
 */
#ifndef MAILSIFT_ACCOUNT_H
#define MAILSIFT_ACCOUNT_H

#include "agent/config.h"
#include "agent/store.h"
#include "agent/tls_server.h"

/* A new, unconnected store for the account; password (or, with OAuth2,
 * the access token for the first login) is copied.  With OAuth2 every
 * later login runs config_password() again for a fresh token.  The IMAP
 * code lives in the module mailsift-imap.so, found beside the executable
 * or in MAILSIFT_LIBDIR and loaded on first use; NULL with a malloc'd
 * *err_r if it cannot be loaded. */
struct store *account_store(const struct config *config,
    const char *password, char **err_r);

/* The server side of TLS, from the same module (see tls_server.h). */
const struct tls_server_ops *account_tls_server(char **err_r);

/* Finds the Junk and Trash folders, in the owner's form (store.h
 * owner_name): the configured names; else the folders carrying the \Junk
 * / \Trash special-use attribute; else an existing folder with a name
 * servers use for them (Junk, Spam, Junk Email, Junk E-mail, Bulk Mail,
 * [Gmail]/Spam; Trash, Deleted Items, Deleted Messages, [Gmail]/Trash);
 * else "Junk" and "Trash", created when first needed.  Logs which and
 * why.  The names are malloc'd and replace *junk_r / *trash_r. */
enum store_status account_folders(struct store *store,
    const struct config *config, char **junk_r, char **trash_r);

/* What a connection showed, for people: `mailsift init` prints it and
 * the daemon keeps it in its status file for `mailsift status`. */
struct account_facts {
	struct store_server_info server;
	char *junk;			/* the folders mailsift will use */
	char *trash;
	const char *junk_how;		/* "configured", "SPECIAL-USE" or */
	const char *trash_how;		/* "by name" */
	int junk_exists;		/* else created when first needed */
	int trash_exists;
};

/* Fills *facts_r for a connected store (release it even on failure). */
enum store_status account_facts(struct store *store,
    const struct config *config, struct account_facts *facts_r);
void account_facts_release(struct account_facts *facts);

#endif
