/*
 * preview.c - tries a script on the messages of recent decisions (see
 * preview.h).
 *
 * A decision names where the message was (folder, UIDVALIDITY, uid) and,
 * when it was moved, where it went (dest_folder, dest_uid); since then the
 * owner may have moved it again.  So a message is looked for where the
 * decision left it, then where it was, then by Message-ID in those
 * folders and where the learner last saw it, and is taken only when its
 * content hash is the one the ledger knows: the script must see the very
 * bytes the daemon saw.  Every mailbox is opened with EXAMINE.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/message.h"
#include "agent/preview.h"
#include "agent/xmem.h"

/* The mailbox open (EXAMINE) on the store, to avoid opening it again. */
struct cursor {
	const struct preview *pv;
	char *box;			/* owned, or NULL */
	uint32_t uidvalidity;
};

static enum store_status
cursor_open(struct cursor *c, const char *box)
{
	uint32_t uidnext;
	enum store_status st;

	if (c->box != NULL && strcmp(c->box, box) == 0)
		return STORE_OK;
	free(c->box);
	c->box = NULL;
	st = c->pv->store->ops->examine(c->pv->store, box, &c->uidvalidity,
	    &uidnext);
	if (st == STORE_OK)
		c->box = xstrdup(box);
	return st;
}

/* Fetches uid of the open mailbox into msg if its content hash is hash:
 * 1 taken, 0 not there or another message. */
static enum store_status
fetch_if_same(struct cursor *c, uint32_t uid, const char *hash,
    struct store_msg *msg, int *found_r)
{
	char got[MESSAGE_HASH_LEN + 1];
	int truncated = 0;
	enum store_status st;

	*found_r = 0;
	st = c->pv->store->ops->fetch(c->pv->store, uid,
	    c->pv->max_message_bytes, msg, &truncated);
	if (st == STORE_MSG_GONE)
		return STORE_OK;
	if (st != STORE_OK)
		return st;
	message_hash(msg->data, msg->len, got);
	if (strcmp(got, hash) == 0)
		*found_r = 1;
	else
		store_msg_release(msg);
	return STORE_OK;
}

/* Looks in box at uid (0: unknown) and, failing that, by Message-ID. */
static enum store_status
look_in(struct cursor *c, const char *box, uint32_t uidvalidity,
    uint32_t uid, const struct ledger_decision *d, struct store_msg *msg,
    int *found_r)
{
	uint32_t *uids = NULL;
	size_t n = 0;
	enum store_status st;

	*found_r = 0;
	st = cursor_open(c, box);
	if (st == STORE_BOX_BAD)
		return STORE_OK;	/* deleted or renamed since */
	if (st != STORE_OK)
		return st;
	if (uid != 0 && (uidvalidity == 0 || uidvalidity == c->uidvalidity)) {
		st = fetch_if_same(c, uid, d->hash, msg, found_r);
		if (st != STORE_OK || *found_r)
			return st;
	}
	if (d->message_id == NULL)
		return STORE_OK;
	st = c->pv->store->ops->find_message_id(c->pv->store, d->message_id,
	    &uids, &n);
	for (size_t i = 0; st == STORE_OK && !*found_r && i < n; i++)
		st = fetch_if_same(c, uids[i], d->hash, msg, found_r);
	free(uids);
	return st;
}

static enum store_status
find_message(struct cursor *c, const struct ledger_decision *d,
    const char *seen_in, struct store_msg *msg, int *found_r)
{
	const char *places[3];
	size_t n = 0;
	enum store_status st = STORE_OK;

	*found_r = 0;
	if (d->dest_folder != NULL) {
		/* The destination's UIDVALIDITY is not recorded: the hash
		 * tells a renumbered mailbox. */
		st = look_in(c, d->dest_folder, 0, d->dest_uid, d, msg,
		    found_r);
		places[n++] = d->dest_folder;
	}
	if (st == STORE_OK && !*found_r) {
		st = look_in(c, d->folder, d->uidvalidity, d->uid, d, msg,
		    found_r);
		places[n++] = d->folder;
	}
	if (st == STORE_OK && !*found_r && seen_in != NULL) {
		int again = 0;

		for (size_t i = 0; i < n; i++)
			again |= strcmp(places[i], seen_in) == 0;
		if (!again)
			st = look_in(c, seen_in, 0, 0, d, msg, found_r);
	}
	return st;
}

static char *
header_text(const struct message *m, const char *name)
{
	const char *v = message_header(m, name, 0);

	return v != NULL ? message_decode_words(v) : NULL;
}

/* Makes the plan the rules give msg today and compares it with the one
 * recorded; adds a change to r if they differ. */
static void
compare(const struct plan_rules *rules, struct ledger_decision *d,
    int rescued, const struct store_msg *msg, struct preview_result *r)
{
	struct plan now = { 0 }, now_today = { 0 }, would = { 0 };
	const struct plan *recorded = &now;
	struct preview_change *c;
	struct message parsed;
	char *err = NULL;
	int same;

	if (plan_parse(d->actions, &now) < 0) {
		r->unreadable++;
		return;
	}
	r->examined++;
	plan_make(rules, d->folder, msg->data, msg->len, d->score, rescued,
	    &would, &err);
	free(err);
	/* The daemon would also keep a rescued message out of Junk under
	 * the old rules: a rescue since then is not the script's doing. */
	if (rescued && plan_parse(d->actions, &now_today) == 0) {
		plan_respect_rescue(&now_today, rules->junk);
		recorded = &now_today;
	}
	same = plan_same_outcome(recorded, &would);
	plan_release(&now_today);
	if (same) {
		plan_release(&now);
		plan_release(&would);
		return;
	}
	r->changes = xreallocarray(r->changes, r->nchanges + 1,
	    sizeof(*r->changes));
	c = &r->changes[r->nchanges++];
	memset(c, 0, sizeof(*c));
	now.rule = d->rule ? xstrdup(d->rule) : NULL;
	c->now = now;
	c->would = would;
	message_parse(&parsed, msg->data, msg->len);
	c->subject = header_text(&parsed, "Subject");
	c->from = header_text(&parsed, "From");
	message_release(&parsed);
	c->decision = *d;
	memset(d, 0, sizeof(*d));	/* the change owns it now */
}

/* Sieve's fileinto names in the owner's form, as sort.c gives them. */
static char *
owner_box_name(void *store, const char *box)
{
	struct store *s = store;

	return s->ops->owner_name(s, box);
}

enum store_status
preview_run(const struct preview *pv, int n, struct preview_result *r,
    char **err_r)
{
	struct cursor c = { .pv = pv };
	struct plan_rules rules = pv->rules;
	struct ledger_decision *v = NULL;
	char **boxes = NULL;
	size_t nv = 0, nboxes = 0;
	enum store_status st = STORE_OK;

	memset(r, 0, sizeof(*r));
	*err_r = NULL;
	/* The script sees the mailboxes as the daemon shows them to it
	 * (sort.c plan_decide), once for the whole preview. */
	rules.box_name = owner_box_name;
	rules.box_name_arg = pv->store;
	if (rules.script != NULL &&
	    sieve_script_needs_mailboxes(rules.script)) {
		if ((st = pv->store->ops->list_boxes(pv->store, &boxes,
		    &nboxes)) != STORE_OK)
			return st;
		rules.mailboxes = boxes;
		rules.nmailboxes = nboxes;
	}
	if (ledger_decisions_recent(pv->ledger, n, &v, &nv) < 0) {
		*err_r = xasprintf("cannot read the ledger: %s",
		    ledger_error(pv->ledger));
		store_names_free(boxes, nboxes);
		return STORE_FATAL;
	}
	for (size_t i = 0; i < nv && st == STORE_OK; i++) {
		struct ledger_message known = { 0 };
		struct store_msg msg = { 0 };
		int have_known, found = 0;

		have_known = ledger_message_find(pv->ledger, v[i].hash,
		    &known);
		if (have_known < 0) {
			*err_r = xasprintf("cannot read the ledger: %s",
			    ledger_error(pv->ledger));
			st = STORE_FATAL;
			break;
		}
		st = find_message(&c, &v[i], have_known ? known.seen_in : NULL,
		    &msg, &found);
		if (st == STORE_OK && !found)
			r->missing++;
		if (st == STORE_OK && found)
			compare(&rules, &v[i], have_known && known.rescued,
			    &msg, r);
		store_msg_release(&msg);
		ledger_message_release(&known);
	}
	ledger_decisions_free(v, nv);
	store_names_free(boxes, nboxes);
	free(c.box);
	return st;
}

void
preview_result_release(struct preview_result *r)
{
	for (size_t i = 0; i < r->nchanges; i++) {
		struct preview_change *c = &r->changes[i];

		ledger_decision_release(&c->decision);
		free(c->subject);
		free(c->from);
		plan_release(&c->now);
		plan_release(&c->would);
	}
	free(r->changes);
	memset(r, 0, sizeof(*r));
}
