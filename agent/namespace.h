/*
 * namespace.h - mailbox names between the owner's form and the server's
 * (RFC 2342 NAMESPACE).
 *
 * The owner writes "Lists/dev" in the configuration and in Sieve: "/"
 * between levels, no namespace prefix.  Servers differ: Dovecot and Cyrus
 * usually take that as it is (prefix "", separator "/"), Dovecot's maildir
 * layout wants "Lists.dev", Courier "INBOX.Lists.dev" (personal prefix
 * "INBOX.", separator ".").  The IMAP store turns every name into the
 * server's form on the way out and back into the owner's form on the way
 * in, so that logs, status and the ledger show the name the owner wrote.
 * Pure functions; names are UTF-8 (modified UTF-7 is the wire's business,
 * mutf7.h).
 */
#ifndef MAILSIFT_NAMESPACE_H
#define MAILSIFT_NAMESPACE_H

#include <stddef.h>

struct namespace_map {
	char *prefix;		/* the personal namespace's prefix ("" if
				 * none), owned */
	char sep;		/* its hierarchy separator; '\0': flat */
	char **others;		/* prefixes of the other users' and shared
				 * namespaces (names there are left as they
				 * are), owned */
	size_t nothers;
};

/* The map of a server that said nothing: prefix "", separator "/". */
void namespace_init(struct namespace_map *ns);
void namespace_release(struct namespace_map *ns);
/* The personal namespace (the first one NAMESPACE lists). */
void namespace_set_personal(struct namespace_map *ns, const char *prefix,
    char sep);
void namespace_add_other(struct namespace_map *ns, const char *prefix);

/* The server's form of name, written by the owner in the owner's form
 * ("Lists/dev") or already in the server's ("INBOX.Lists.dev"): "/"
 * becomes the separator, and the personal prefix is put in front unless
 * the name is INBOX (any case), already starts with that prefix, or
 * starts with the prefix of another namespace.  malloc'd. */
char *namespace_to_server(const struct namespace_map *ns, const char *name);

/* The owner's form of a name the server sent: the personal prefix taken
 * off, the separator shown as "/"; INBOX (any case) as "INBOX".
 * namespace_to_server() gives the server's name back.  malloc'd. */
char *namespace_to_owner(const struct namespace_map *ns, const char *name);

#endif
