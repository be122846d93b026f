/*
 * account.c - from configuration to a mail store (see account.h).
 */
#include <stdlib.h>

#include "agent/account.h"
#include "agent/log.h"
#include "agent/store_imap.h"
#include "agent/xmem.h"

struct store *
account_store(const struct config *c, const char *password)
{
	struct store_imap_params p = {
		.host = c->imap.host,
		.port = c->imap.port,
		.tls = c->imap.tls,
		.ca_file = c->imap.ca_file,
		.username = c->imap.username,
		.password = password,
		.timeout = c->imap.timeout,
		.poll_interval = c->imap.poll_interval,
		.idle_restart = c->imap.idle_restart,
	};

	return store_imap_new(&p);
}

enum store_status
account_folders(struct store *store, const struct config *c, char **junk_r,
    char **trash_r)
{
	static const struct {
		enum store_special use;
		const char *fallback;
	} specials[] = {
		{ STORE_SPECIAL_JUNK, "Junk" },
		{ STORE_SPECIAL_TRASH, "Trash" },
	};
	const char *configured[] = { c->folders.junk, c->folders.trash };
	char **slots[] = { junk_r, trash_r };

	for (size_t i = 0; i < 2; i++) {
		char *name = NULL;
		enum store_status st;

		free(*slots[i]);
		*slots[i] = NULL;
		if (configured[i] != NULL) {
			*slots[i] = xstrdup(configured[i]);
			continue;
		}
		st = store->ops->find_special(store, specials[i].use, &name);
		if (st != STORE_OK)
			return st;
		*slots[i] = name ? name : xstrdup(specials[i].fallback);
	}
	log_info("junk folder '%s', trash folder '%s'", *junk_r, *trash_r);
	return STORE_OK;
}
