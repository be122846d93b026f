/*
 * cmd_undo.c - `mailsift undo`: put a message back where it was before
 * one of mailsift's decisions moved it, and remember that the owner
 * disagreed.
 *
 * The message is found in the folder it was moved to by Message-ID (or
 * its recorded UID) and recognised by content hash, so undo never moves
 * the wrong message; if it is no longer there, nothing is changed.
 * Undoing a move into Junk is a rescue: the learner trains the message
 * as ham and mailsift never files it into Junk again.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/account.h"
#include "agent/commands.h"
#include "agent/config.h"
#include "agent/filter.h"
#include "agent/learn.h"
#include "agent/log.h"
#include "agent/message.h"
#include "agent/state_dir.h"
#include "agent/xmem.h"
#include "state/ledger.h"

static const char undo_usage[] =
    "usage: mailsift undo -c CONFIG DECISION\n"
    "\n"
    "Moves the message of one decision back to the folder it came from.\n"
    "DECISION is the number `mailsift status` shows.  Undoing a move into\n"
    "Junk also trains the message as ham, and mailsift will not file it\n"
    "into Junk again.  A message that was moved on or deleted since is\n"
    "left alone.\n"
    "\n"
    "  -c, --config FILE     the JSON configuration\n"
    "  -h, --help            this text\n";

struct undo {
	const struct config *config;
	struct ledger *ledger;
	struct filter *filter;
	struct store *store;
	char *junk;
	char *trash;
	struct ledger_decision d;
};

/* Finds the message of the decision in the selected folder: the UID
 * hint first (0 for none), then by Message-ID; a candidate counts only
 * if its content hash is the decision's.  msg_r->data is NULL if no such
 * message is there. */
static enum store_status
locate(struct undo *u, uint32_t hint, struct store_msg *msg_r)
{
	const struct store_ops *ops = u->store->ops;
	uint32_t *uids = NULL;
	size_t n = 0;
	enum store_status st = STORE_OK;

	memset(msg_r, 0, sizeof(*msg_r));
	if (u->d.message_id != NULL &&
	    (st = ops->find_message_id(u->store, u->d.message_id, &uids,
	    &n)) != STORE_OK)
		return st;
	uids = xreallocarray(uids, n + 1, sizeof(*uids));
	memmove(uids + 1, uids, n * sizeof(*uids));
	uids[0] = hint;
	for (size_t i = 0; i <= n && msg_r->data == NULL; i++) {
		char hash[MESSAGE_HASH_LEN + 1];
		int truncated;

		if (uids[i] == 0)
			continue;
		st = ops->fetch(u->store, uids[i],
		    u->config->max_message_bytes, msg_r, &truncated);
		if (st == STORE_MSG_GONE) {
			st = STORE_OK;
			continue;
		}
		if (st != STORE_OK)
			break;
		message_hash(msg_r->data, msg_r->len, hash);
		if (u->d.hash == NULL || strcmp(hash, u->d.hash) != 0)
			store_msg_release(msg_r);
	}
	free(uids);
	return st;
}

/* After moving a message out of Junk: the owner's opinion, at once. */
static enum store_status
learn_rescue(struct undo *u, uint32_t new_uid)
{
	struct learner learner = {
		.store = u->store, .ledger = u->ledger, .filter = u->filter,
		.junk = u->junk, .trash = u->trash,
		.max_message_bytes = u->config->max_message_bytes,
	};
	struct ledger_message known = { 0 };
	struct store_msg msg = { 0 };
	uint32_t uidvalidity, uidnext;
	int handled, found;
	enum store_status st;

	st = u->store->ops->select(u->store, u->d.folder, &uidvalidity,
	    &uidnext);
	if (st == STORE_OK)
		st = locate(u, new_uid, &msg);
	if (st != STORE_OK || msg.data == NULL)
		goto out;	/* the daemon will see it on its next pass */
	found = ledger_message_find(u->ledger, u->d.hash, &known);
	if (found < 0)
		st = STORE_FATAL;
	else if (found)
		st = learn_seen_again(&learner, u->d.folder, &msg, &known,
		    &handled);
out:
	ledger_message_release(&known);
	store_msg_release(&msg);
	return st;
}

static int
undo_decision(struct undo *u)
{
	const struct store_ops *ops = u->store->ops;
	struct store_msg msg;
	uint32_t uidvalidity, uidnext, uid = 0, new_uid = 0;
	int left_behind = 0, from_junk, found = 0;
	enum store_status st;
	const char *const unjunk[] = { "$Junk", NULL };

	st = ops->select(u->store, u->d.dest_folder, &uidvalidity, &uidnext);
	if (st == STORE_OK) {
		st = locate(u, u->d.dest_uid, &msg);
		uid = msg.uid;
		found = msg.data != NULL;
		store_msg_release(&msg);
	}
	if (st == STORE_BOX_BAD || (st == STORE_OK && !found)) {
		fprintf(stderr, "mailsift: decision %lld: the message is no "
		    "longer in '%s' (moved or deleted by a mail client); "
		    "nothing changed\n", (long long)u->d.id,
		    u->d.dest_folder);
		return EXIT_RUNTIME;
	}
	if (st != STORE_OK)
		goto failed;
	from_junk = strcmp(u->d.dest_folder, u->junk) == 0;
	if (from_junk && (st = ops->set_flags(u->store, uid, NULL, unjunk)) !=
	    STORE_OK)
		goto failed;
	st = ops->move(u->store, uid, u->d.folder, &new_uid, &left_behind);
	if (st != STORE_OK)
		goto failed;
	if (ledger_decision_finish(u->ledger, u->d.id, DECISION_UNDONE,
	    u->d.dest_folder, u->d.dest_uid, "undone by the owner") < 0) {
		fprintf(stderr, "mailsift: cannot write the ledger: %s\n",
		    ledger_error(u->ledger));
		return EXIT_RUNTIME;
	}
	if (from_junk && (st = learn_rescue(u, new_uid)) != STORE_OK)
		goto failed;
	printf("decision %lld undone: moved back from '%s' to '%s'%s\n",
	    (long long)u->d.id, u->d.dest_folder, u->d.folder,
	    from_junk ? "; trained as ham, and it will stay out of Junk" :
	    "");
	return EXIT_OK;
failed:
	fprintf(stderr, "mailsift: cannot undo decision %lld: %s\n",
	    (long long)u->d.id, store_last_error(u->store));
	return EXIT_RUNTIME;
}

static int
undo_run(struct undo *u, long long id)
{
	char *path = NULL, *err = NULL, *password = NULL;
	enum store_status st;
	int rc = EXIT_RUNTIME, found;

	path = config_ledger_db(u->config);
	if ((rc = state_dir_ledger(u->config, &u->ledger, &err)) != 0) {
		rc = rc == STATE_DIR_LEDGER_LOST ? EXIT_USAGE : EXIT_RUNTIME;
		goto failed;
	}
	rc = EXIT_RUNTIME;
	found = ledger_decision_get(u->ledger, id, &u->d);
	if (found <= 0) {
		fprintf(stderr, "mailsift: no decision %lld in %s (see "
		    "'mailsift status')\n", id, path);
		goto out;
	}
	if (u->d.state == DECISION_UNDONE) {
		fprintf(stderr, "mailsift: decision %lld was undone already "
		    "(%s); nothing to undo\n", id, u->d.actions);
		goto out;
	}
	if (u->d.state != DECISION_DONE || u->d.dest_folder == NULL) {
		fprintf(stderr, "mailsift: decision %lld did not move the "
		    "message (%s: %s); nothing to undo\n", id,
		    decision_state_name(u->d.state), u->d.actions);
		goto out;
	}
	free(path);
	path = config_tokens_db(u->config);
	if (filter_open(path, &u->filter, &err) < 0 ||
	    config_password(u->config, &password, &err) < 0)
		goto failed;
	if ((u->store = account_store(u->config, password, &err)) == NULL)
		goto failed;
	if ((st = u->store->ops->connect(u->store)) != STORE_OK ||
	    (st = account_folders(u->store, u->config, &u->junk,
	    &u->trash)) != STORE_OK) {
		fprintf(stderr, "mailsift: %s\n", store_last_error(u->store));
		goto out;
	}
	rc = undo_decision(u);
	goto out;
failed:
	fprintf(stderr, "mailsift: %s\n", err);
out:
	config_password_free(&password);
	free(err);
	free(path);
	return rc;
}

int
cmd_undo(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct config *config = NULL;
	struct undo u = { 0 };
	const char *path = NULL;
	char *errors = NULL, *end;
	long long id;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'h': fputs(undo_usage, stdout); return EXIT_OK;
		default: fputs(undo_usage, stderr); return EXIT_USAGE;
		}
	}
	if (path == NULL || optind + 1 != argc) {
		fputs(undo_usage, stderr);
		return EXIT_USAGE;
	}
	id = strtoll(argv[optind], &end, 10);
	if (*argv[optind] == '\0' || *end != '\0' || id <= 0) {
		fprintf(stderr, "mailsift: '%s' is not a decision number\n",
		    argv[optind]);
		return EXIT_USAGE;
	}
	if (config_load(path, &config, &errors) < 0) {
		fprintf(stderr, "%s\n", errors);
		free(errors);
		return EXIT_USAGE;
	}
	u.config = config;
	rc = undo_run(&u, id);
	store_free(&u.store);
	filter_close(&u.filter);
	ledger_decision_release(&u.d);
	ledger_close(&u.ledger);
	free(u.junk);
	free(u.trash);
	config_free(&config);
	return rc;
}
