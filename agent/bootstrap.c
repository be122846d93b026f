/*
 * bootstrap.c - training from the folders on the server (see
 * bootstrap.h); the per-message rules live in learn.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/bootstrap.h"
#include "agent/commands.h"
#include "agent/filter.h"
#include "agent/learn.h"
#include "agent/log.h"
#include "agent/state_dir.h"
#include "agent/xmem.h"
#include "state/ledger.h"

static void
show_progress(void *arg, const char *folder, size_t done, size_t total)
{
	if (!isatty(STDERR_FILENO) || total == 0)
		return;
	fprintf(stderr, "\rtraining from %s: %zu/%zu", folder, done, total);
	if (done == total)
		fputc('\n', stderr);
}

int
bootstrap_from_folders(const struct config *c, const char *const *ham,
    size_t nham, int unread_too)
{
	struct learner learner = { 0 };
	struct learn_summary sum = { 0 };
	struct ledger *ledger = NULL;
	struct filter *filter = NULL;
	struct store *store = NULL;
	char *password = NULL, *err = NULL, *path = NULL;
	char *junk = NULL, *trash = NULL;
	char **ham_boxes = NULL;
	int rc = EXIT_RUNTIME;
	enum store_status st;

	if (ham == NULL || nham == 0) {
		ham = (const char *const *)c->folders.watch;
		nham = c->folders.nwatch;
	}
	if (state_dir_make(c, &err) < 0 ||
	    state_dir_ledger(c, &ledger, &err) != 0)
		goto failed;
	path = config_tokens_db(c);
	if (filter_open(path, &filter, &err) < 0 ||
	    config_password(c, &password, &err) < 0)
		goto failed;
	if ((store = account_store(c, password, &err)) == NULL)
		goto failed;
	if ((st = store->ops->connect(store)) != STORE_OK ||
	    (st = account_folders(store, c, &junk, &trash)) != STORE_OK) {
		err = xasprintf("%s@%s: %s", c->imap.username, c->imap.host,
		    store_last_error(store));
		goto failed;
	}
	/* In the owner's form, as the daemon names them: the ledger and the
	 * Junk and Trash checks compare names ("INBOX.Junk" is "Junk" on
	 * Courier). */
	ham_boxes = xcalloc(nham, sizeof(*ham_boxes));
	for (size_t i = 0; i < nham; i++)
		ham_boxes[i] = store->ops->owner_name(store, ham[i]);
	learner = (struct learner){
		.store = store, .ledger = ledger, .filter = filter,
		.junk = junk, .trash = trash,
		.max_message_bytes = c->max_message_bytes,
	};
	if (learn_bootstrap(&learner, (const char *const *)ham_boxes, nham,
	    unread_too, show_progress, NULL, &sum, &err) < 0)
		goto failed;
	printf("trained %zu spam and %zu ham; %zu already trained so, "
	    "%zu skipped, %zu unread left out\n", sum.spam, sum.ham,
	    sum.unchanged, sum.skipped, sum.unread);
	if (sum.unread > 0)
		printf("%zu unread message%s of the ham folders %s not learned "
		    "as ham: unread mail\nis not yet the owner's judgement "
		    "(it may be spam).  Once it is read, and\nthe spam among "
		    "it moved to Junk, run this again to learn it; or add\n"
		    "--include-unread to learn it all as ham now.\n",
		    sum.unread, sum.unread == 1 ? "" : "s",
		    sum.unread == 1 ? "was" : "were");
	rc = EXIT_OK;
	goto out;
failed:
	log_error("%s", err);
out:
	config_password_free(&password);
	free(err);
	free(path);
	free(junk);
	free(trash);
	store_names_free(ham_boxes, ham_boxes != NULL ? nham : 0);
	store_free(&store);
	filter_close(&filter);
	ledger_close(&ledger);
	return rc;
}
