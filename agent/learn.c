/*
 * learn.c - turns what the owner does in a mail client into training, and
 * keeps the ledger's record of every message's training true (learn.h).
 *
 * Everything goes through observe(): one sighting of one message in one
 * folder, with the opinion it carries (or none).  It changes the model
 * only when the opinion differs from the ledger's training state, inside
 * one ledger transaction: the ledger rows are written, the model is
 * changed in its own open transaction, the ledger commits, then the
 * model; a failed ledger commit rolls the model back, a failed model
 * commit takes the ledger change back.  (A crash between the two commits
 * leaves the ledger one training ahead of the model: that message's
 * training is then missing, never doubled.)  Only after that are the
 * message's keywords made to agree, and only after they are set does the
 * ledger record where the message was seen (seen_in, the keyword opinion
 * on its UID, the learner's Junk mark).  So a sighting interrupted at any
 * point is simply observed again: the training is then already right and
 * only the remaining steps are done.
 *
 * The bootstrap ('train --from-folders') keeps one model transaction open
 * over BOOTSTRAP_BATCH messages: a commit per message wrote each
 * message's few hundred b-tree pages to the WAL and back, and trained
 * some 110 messages a second.  The ledger still commits per message,
 * first, so a crash inside a batch leaves the ledger up to a batch
 * ahead of the model (missing trainings, never doubled ones), and the
 * bootstrap makes sure of the model's training of every message the
 * ledger already records as trained so: running it again fills them in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/learn.h"
#include "agent/log.h"
#include "agent/message.h"
#include "agent/xmem.h"

#define MARK_PREFIX	"learn:"
/* Enough of a message to read its Message-ID. */
#define HEADER_BYTES	(16 * 1024)
/* A mailbox that appeared since the learner's first look is read from
 * its first message if it has no more than this many. */
#define NEW_BOX_SCAN_MAX 100
/* A bootstrap's model transaction ends after this many messages or
 * seconds, whichever comes first.  The writes cost little more for
 * 2,000 messages than for one (the SpamAssassin corpus from a local
 * Dovecot: 4.2 s of CPU with batches of 2,000, 5.4 s with 500, 22 s
 * with one message each), and the time bound keeps the token store
 * locked against the daemon's learner (which waits up to 10 s) for
 * short spells however slow the server. */
#define BOOTSTRAP_BATCH		2000
#define BOOTSTRAP_BATCH_SECONDS	2
/* It fetches up to this many messages together, within this many bytes
 * (as a catch-up does, sort.c): one or two round trips for them instead
 * of one each. */
#define BOOTSTRAP_FETCH_MAX	64
#define BOOTSTRAP_FETCH_BYTES	((size_t)4 * 1024 * 1024)

/* Keywords meaning spam / not spam (IANA IMAP keywords; Thunderbird's
 * own names). */
static const char *const spam_keywords[] = { "$Junk", "Junk", NULL };
static const char *const ham_keywords[] = { "$NotJunk", "NotJunk",
	"NonJunk", NULL };

enum retrain_result {
	RETRAIN_SAME,		/* already trained so; ledger bookkeeping done */
	RETRAIN_CHANGED,
	RETRAIN_MODEL_FAILED,	/* logged; nothing changed */
	RETRAIN_LEDGER_FAILED	/* nothing changed (model undone) */
};

/* One sighting of one message. */
struct observation {
	const char *folder;		/* where it is (selected) */
	uint32_t uidvalidity;
	const struct store_msg *msg;	/* fetched, with its flags */
	const char *want;		/* "spam", "ham", or NULL: no opinion */
	const char *reason;		/* for the ledger and the log */
	int rescue;			/* the owner took it out of Junk */
	int fix_flags;			/* make its keywords agree with want */
	int keywords;			/* record the keyword opinion on this
					 * UID as seen (only where it is acted
					 * upon: else it would be lost) */
	const char *mark;		/* ledger folder mark to advance to
					 * msg->uid afterwards, or NULL */
	int bulk;			/* one of many (bootstrap): log each
					 * training at info level only; the
					 * model's transaction is the caller's
					 * (failures roll it back) */
	enum retrain_result result;	/* out */
};

static int
same_box(const char *a, const char *b)
{
	/* INBOX is case-insensitive (RFC 3501 §5.1); other names are not. */
	if (a == NULL || b == NULL)
		return 0;
	if (strcasecmp(a, "INBOX") == 0)
		return strcasecmp(b, "INBOX") == 0;
	return strcmp(a, b) == 0;
}

static int
has_any(char *const *flags, size_t n, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if (store_has_flag(flags, n, names[i]))
			return 1;
	return 0;
}

/* The opinion a message's keywords give: "spam", "ham", "" (none) or
 * "both" (contradictory: no opinion). */
static const char *
keyword_opinion(char *const *flags, size_t n)
{
	int spam = has_any(flags, n, spam_keywords);
	int ham = has_any(flags, n, ham_keywords);

	if (spam && ham)
		return "both";
	return spam ? "spam" : ham ? "ham" : "";
}

static const char *
trained_name(const char *trained)
{
	return trained[0] ? trained : "untrained";
}

static char *
mark_key(const struct learner *l)
{
	return xasprintf(MARK_PREFIX "%s", l->junk);
}

/* Changes the model from one training of msg ("" / "spam" / "ham") to
 * another inside the filter's open transaction.  *missing_r is set when
 * the model did not hold the old training (a new or restored token
 * store): there was nothing to take back.  -1 with *err_r. */
static int
model_change(struct learner *l, const struct store_msg *msg,
    const char *from, const char *to, int *missing_r, char **err_r)
{
	*missing_r = 0;
	if (from[0] != '\0') {
		int rc = filter_learn(l->filter, msg->data, msg->len,
		    strcmp(from, "spam") == 0, 1, err_r);
		if (rc == -2) {
			*missing_r = 1;
			free(*err_r);
			*err_r = NULL;
		} else if (rc < 0) {
			return -1;
		}
	}
	if (to[0] != '\0' && filter_learn(l->filter, msg->data, msg->len,
	    strcmp(to, "spam") == 0, 0, err_r) < 0)
		return -1;
	return 0;
}

/* Takes back a committed ledger change whose model change could not be
 * committed: the ledger must say what the model holds. */
static int
ledger_undo(struct learner *l, int64_t message, const char *old,
    int unrescue, int64_t correction)
{
	if (ledger_begin(l->ledger) < 0)
		return -1;
	if (ledger_message_set_trained(l->ledger, message, old) < 0 ||
	    (unrescue && ledger_message_set_rescued(l->ledger, message,
	    0) < 0) ||
	    ledger_correction_delete(l->ledger, correction) < 0 ||
	    ledger_commit(l->ledger) < 0) {
		ledger_rollback(l->ledger);
		return -1;
	}
	return 0;
}

/* The transactional part of observe(): ledger rows and the model.  The
 * model's transaction is committed only after the ledger's, so a ledger
 * failure is undone exactly by rolling the model back (an online model
 * cannot be restored exactly by training the old class again). */
static enum retrain_result
retrain(struct learner *l, const struct observation *o, const char *hash,
    const char *msgid, int64_t *id_r)
{
	struct ledger_message m = { 0 };
	struct ledger_correction c = { 0 };
	enum retrain_result res = RETRAIN_LEDGER_FAILED;
	char *err = NULL, old[sizeof(m.trained)];
	int64_t cid = 0;
	int found, unrescue = 0, missing;

	if (ledger_begin(l->ledger) < 0)
		return RETRAIN_LEDGER_FAILED;
	if (ledger_message_add(l->ledger, hash, msgid, id_r) < 0 ||
	    (found = ledger_message_find(l->ledger, hash, &m)) <= 0)
		goto rollback;
	snprintf(old, sizeof(old), "%s", m.trained);
	if (o->rescue && !m.rescued) {
		if (ledger_message_set_rescued(l->ledger, m.id, 1) < 0)
			goto rollback;
		unrescue = 1;
	}
	if (o->want == NULL || strcmp(o->want, old) == 0) {
		if (ledger_commit(l->ledger) < 0)
			goto rollback;
		res = RETRAIN_SAME;
		goto out;
	}
	c.message = m.id;
	c.folder = (char *)o->folder;
	c.uidvalidity = o->uidvalidity;
	c.uid = o->msg->uid;
	c.reason = (char *)o->reason;
	snprintf(c.old_trained, sizeof(c.old_trained), "%s", old);
	snprintf(c.new_trained, sizeof(c.new_trained), "%s", o->want);
	if (ledger_message_set_trained(l->ledger, m.id, o->want) < 0 ||
	    ledger_correction_add(l->ledger, &c, &cid) < 0)
		goto rollback;
	if (!o->bulk && filter_begin(l->filter, &err) < 0)
		goto model_failed;
	if (model_change(l, o->msg, old, o->want, &missing, &err) < 0) {
		filter_rollback(l->filter);
		goto model_failed;
	}
	if (ledger_commit(l->ledger) < 0) {
		filter_rollback(l->filter);
		goto rollback;
	}
	if (!o->bulk && filter_commit(l->filter, &err) < 0) {
		filter_rollback(l->filter);
		if (ledger_undo(l, m.id, old, unrescue, cid) < 0) {
			log_error("%s uid %u: the ledger says trained as %s but "
			    "the model could not be changed (%s), and the "
			    "ledger cannot be corrected: %s", o->folder,
			    o->msg->uid, o->want, err, ledger_error(l->ledger));
			goto out;
		}
		goto model_failed_logged;
	}
	if (missing)
		log_warnx("%s uid %u: the model did not hold this message's "
		    "training as %s that the ledger records (token store "
		    "replaced?): nothing to take back", o->folder, o->msg->uid,
		    old);
	(o->bulk ? log_info : log_notice)("%s uid %u: %s: trained as %s, "
	    "was %s (%s)", o->folder, o->msg->uid, o->reason, o->want,
	    trained_name(old), msgid ? msgid : "no Message-ID");
	l->corrections++;
	res = RETRAIN_CHANGED;
	goto out;
model_failed:
	ledger_rollback(l->ledger);
model_failed_logged:
	log_warnx("%s uid %u: cannot train as %s (%s): %s", o->folder,
	    o->msg->uid, o->want, o->reason, err);
	res = RETRAIN_MODEL_FAILED;
	goto out;
rollback:
	ledger_rollback(l->ledger);
	res = RETRAIN_LEDGER_FAILED;
out:
	free(err);
	ledger_message_release(&m);
	return res;
}

/* Sets the keywords that say want and removes those that contradict it;
 * *opinion_r receives the opinion of its keywords afterwards. */
static enum store_status
fix_flags(struct learner *l, const struct observation *o,
    const char **opinion_r)
{
	const struct store_msg *msg = o->msg;
	int spam = strcmp(o->want, "spam") == 0;
	const char *const *yes = spam ? spam_keywords : ham_keywords;
	const char *const *no = spam ? ham_keywords : spam_keywords;
	const char *add[2] = { NULL, NULL }, *del[4] = { NULL };
	size_t ndel = 0;
	enum store_status st;

	*opinion_r = keyword_opinion(msg->flags, msg->nflags);
	if (!store_has_flag(msg->flags, msg->nflags, yes[0]))
		add[0] = yes[0];
	for (size_t i = 0; no[i] != NULL; i++)
		if (store_has_flag(msg->flags, msg->nflags, no[i]))
			del[ndel++] = no[i];
	if (add[0] == NULL && ndel == 0)
		return STORE_OK;
	st = l->store->ops->set_flags(l->store, msg->uid,
	    add[0] ? add : NULL, ndel ? del : NULL);
	if (st == STORE_OK)
		*opinion_r = o->want;
	else if (st == STORE_MSG_GONE)
		st = STORE_OK;	/* moved on meanwhile: seen elsewhere */
	return st;
}

static enum store_status
ledger_failed(struct learner *l)
{
	log_error("cannot write the ledger: %s", ledger_error(l->ledger));
	return STORE_FATAL;
}

/* See the comment at the top of the file. */
static enum store_status
observe(struct learner *l, struct observation *o)
{
	char hash[MESSAGE_HASH_LEN + 1], *msgid;
	const char *opinion;
	struct message parsed;
	enum store_status st = STORE_OK;
	int64_t id = 0;

	message_hash(o->msg->data, o->msg->len, hash);
	message_parse(&parsed, o->msg->data, o->msg->len);
	msgid = message_id(&parsed);
	message_release(&parsed);

	switch ((o->result = retrain(l, o, hash, msgid, &id))) {
	case RETRAIN_CHANGED:
	case RETRAIN_SAME:
		break;
	case RETRAIN_MODEL_FAILED:
		goto out;	/* logged; the sighting still counts */
	case RETRAIN_LEDGER_FAILED:
		st = ledger_failed(l);
		goto out;
	}
	opinion = keyword_opinion(o->msg->flags, o->msg->nflags);
	if (o->fix_flags && o->want != NULL) {
		if ((st = fix_flags(l, o, &opinion)) != STORE_OK)
			goto out;
		o->keywords = 1;	/* they now say what we did */
	}
	/* Only now: a sighting cut short above is observed again. */
	if (ledger_begin(l->ledger) < 0)
		goto failed;
	if (ledger_message_set_seen_in(l->ledger, id, o->folder) < 0 ||
	    (o->keywords && ledger_keyword_set(l->ledger, o->folder,
	    o->uidvalidity, o->msg->uid, id, opinion) < 0) ||
	    (o->mark != NULL && ledger_folder_set(l->ledger, o->mark,
	    o->uidvalidity, o->msg->uid) < 0) ||
	    ledger_commit(l->ledger) < 0) {
		ledger_rollback(l->ledger);
		goto failed;
	}
	goto out;
failed:
	st = ledger_failed(l);
out:
	free(msgid);
	return st;
}

/* A known message seen in folder (not Junk, not Trash): a rescue if it
 * was last in Junk.  mark as for struct observation. */
static enum store_status
seen_elsewhere(struct learner *l, const char *folder, uint32_t uidvalidity,
    const struct store_msg *msg, const struct ledger_message *known,
    const char *mark, int *handled_r)
{
	struct observation o = { .folder = folder,
	    .uidvalidity = uidvalidity, .msg = msg, .mark = mark };
	int from_junk;

	from_junk = same_box(known->seen_in, l->junk) ||
	    (known->junk_by_us != NULL && !known->rescued);
	if (from_junk) {
		/* The owner's drag out of Junk: ham, and never back. */
		o.want = "ham";
		o.reason = LEARN_RESCUE_REASON;
		o.rescue = 1;
		o.fix_flags = 1;
		*handled_r = 1;
	}
	return observe(l, &o);
}

enum store_status
learn_seen_again(struct learner *l, const char *folder,
    const struct store_msg *msg, const struct ledger_message *known,
    int *handled_r)
{
	uint32_t uidvalidity, last_uid;

	*handled_r = known->decided > 0;
	if (same_box(folder, l->junk) || same_box(folder, l->trash) ||
	    store_has_flag(msg->flags, msg->nflags, "\\Deleted"))
		return STORE_OK;	/* Trash is no opinion; Junk is
					 * learn_scan_junk's */
	/* sort_folder recorded the folder's UIDVALIDITY before sorting. */
	if (ledger_folder_get(l->ledger, folder, &uidvalidity,
	    &last_uid) < 0)
		return ledger_failed(l);
	return seen_elsewhere(l, folder, uidvalidity, msg, known, NULL,
	    handled_r);
}

/* Fetches uid of the selected folder as the sorter does and looks it up
 * in the ledger by content: *have_r 1 (known, *known_r filled) or 0.
 * STORE_MSG_GONE if the message left meanwhile; a ledger failure is
 * returned as its status.  Release *msg_r and *known_r either way. */
static enum store_status
fetch_known(struct learner *l, uint32_t uid, struct store_msg *msg_r,
    struct ledger_message *known_r, int *have_r)
{
	char hash[MESSAGE_HASH_LEN + 1];
	enum store_status st;
	int truncated;

	*have_r = 0;
	st = l->store->ops->fetch(l->store, uid, l->max_message_bytes, msg_r,
	    &truncated);
	if (st != STORE_OK)
		return st;
	message_hash(msg_r->data, msg_r->len, hash);
	if ((*have_r = ledger_message_find(l->ledger, hash, known_r)) < 0) {
		*have_r = 0;
		return ledger_failed(l);
	}
	return STORE_OK;
}

/* One new message in Junk. */
static enum store_status
junk_arrival(struct learner *l, uint32_t uidvalidity, uint32_t uid,
    const char *mark)
{
	struct store_msg msg = { 0 };
	struct ledger_message known = { 0 };
	struct observation o = { .folder = l->junk,
	    .uidvalidity = uidvalidity, .msg = &msg, .mark = mark };
	enum store_status st;
	int have;

	if ((st = fetch_known(l, uid, &msg, &known, &have)) != STORE_OK) {
		if (st == STORE_MSG_GONE)
			st = STORE_OK;	/* gone again; the next one moves
					 * the mark past it */
		goto out;
	}
	/* What mailsift filed itself, and originals flagged \Deleted that
	 * another client will expunge, are nobody's opinion. */
	if (!(have && known.junk_by_us != NULL && !known.rescued) &&
	    !store_has_flag(msg.flags, msg.nflags, "\\Deleted")) {
		o.want = "spam";
		o.reason = "moved into Junk by the owner";
		o.fix_flags = 1;
	}
	st = observe(l, &o);
out:
	ledger_message_release(&known);
	store_msg_release(&msg);
	return st;
}

/* Whether a message may have left Junk (selected) since the last look:
 * only then can a rescue have landed in a mailbox that is not watched.
 * EXISTS below the last EXISTS plus the UIDs handed out since means one
 * left.  The next two sweeps are due: a client that copies a message out
 * by APPEND may expunge it first. */
static enum store_status
note_junk_departures(struct learner *l, uint32_t uidnext)
{
	struct store_box_info info;
	enum store_status st = l->store->ops->box_info(l->store, &info);

	if (st != STORE_OK)
		return st;
	if (!l->junk_seen || uidnext < l->junk_uidnext ||
	    info.exists < l->junk_exists + (uidnext - l->junk_uidnext))
		l->sweeps_due = 2;
	l->junk_seen = 1;
	l->junk_uidnext = uidnext;
	l->junk_exists = info.exists;
	return STORE_OK;
}

enum store_status
learn_scan_junk(struct learner *l)
{
	uint32_t uidvalidity, uidnext, known_validity = 0, last_uid = 0;
	uint32_t *uids = NULL;
	size_t n = 0;
	char *mark = mark_key(l);
	enum store_status st;
	int known;

	known = ledger_folder_get(l->ledger, mark, &known_validity, &last_uid);
	if (known < 0) {
		st = ledger_failed(l);
		goto out;
	}
	st = l->store->ops->select(l->store, l->junk, &uidvalidity,
	    &uidnext);
	if (st == STORE_BOX_BAD) {
		/* No Junk yet: whatever appears there later is new.
		 * UIDVALIDITY 0 never matches a real one. */
		st = !known && ledger_folder_set(l->ledger, mark, 0, 0) < 0 ?
		    ledger_failed(l) : STORE_OK;
		goto out;
	}
	if (st != STORE_OK || (st = note_junk_departures(l, uidnext)) !=
	    STORE_OK)
		goto out;
	if (!known) {
		/* What is in Junk already is for 'train --from-folders'. */
		log_info("%s: learning from what arrives from now on (uid %u "
		    "and up)", l->junk, uidnext);
		if (ledger_folder_set(l->ledger, mark, uidvalidity,
		    uidnext > 0 ? uidnext - 1 : 0) < 0)
			st = ledger_failed(l);
		goto out;
	}
	if (known_validity != uidvalidity) {
		if (known_validity != 0)
			log_notice("%s: UIDVALIDITY changed (%u -> %u), "
			    "looking at every message again", l->junk,
			    known_validity, uidvalidity);
		last_uid = 0;
		if (ledger_folder_set(l->ledger, mark, uidvalidity, 0) < 0 ||
		    ledger_keyword_forget(l->ledger, l->junk, uidvalidity,
		    0) < 0) {
			st = ledger_failed(l);
			goto out;
		}
	}
	if (uidnext > 0 && uidnext - 1 <= last_uid)
		goto out;	/* nothing new: no round trip */
	st = l->store->ops->list_uids(l->store, last_uid + 1, &uids, &n);
	for (size_t i = 0; st == STORE_OK && i < n; i++)
		if (uids[i] > last_uid)
			st = junk_arrival(l, uidvalidity, uids[i], mark);
out:
	free(uids);
	free(mark);
	return st;
}

/* One new message in a folder mailsift neither sorts nor learns from
 * otherwise: only a message last seen in Junk can be news here. */
static enum store_status
elsewhere_arrival(struct learner *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid, const char *mark)
{
	struct store_msg head = { 0 }, msg = { 0 };
	struct ledger_message known = { 0 };
	struct message parsed;
	char *msgid = NULL;
	uint32_t now_validity, uidnext;
	enum store_status st;
	int truncated, have, handled;

	/* The header tells whether it can be a rescue; most mail is not. */
	st = l->store->ops->fetch(l->store, uid, HEADER_BYTES, &head,
	    &truncated);
	if (st != STORE_OK)
		return st == STORE_MSG_GONE ? STORE_OK : st;
	message_parse(&parsed, head.data, head.len);
	msgid = message_id(&parsed);
	message_release(&parsed);
	if (msgid == NULL || store_has_flag(head.flags, head.nflags,
	    "\\Deleted"))
		goto out;
	if ((have = ledger_message_id_from_junk(l->ledger, msgid,
	    l->junk)) <= 0) {
		st = have < 0 ? ledger_failed(l) : STORE_OK;
		goto out;
	}
	/* A rescue gets its keywords set: that needs the folder writable. */
	if ((st = l->store->ops->select(l->store, folder, &now_validity,
	    &uidnext)) != STORE_OK)
		goto out;
	if (now_validity != uidvalidity)
		goto out;	/* renumbered meanwhile: the next look */
	if ((st = fetch_known(l, uid, &msg, &known, &have)) != STORE_OK) {
		if (st == STORE_MSG_GONE)
			st = STORE_OK;
		goto out;
	}
	if (have)
		st = seen_elsewhere(l, folder, uidvalidity, &msg, &known,
		    mark, &handled);
out:
	ledger_message_release(&known);
	store_msg_release(&msg);
	store_msg_release(&head);
	free(msgid);
	return st;
}

/* New messages in one such folder since the last look.  first: the
 * learner's first look at all the mailboxes. */
static enum store_status
scan_elsewhere(struct learner *l, const char *folder, int first)
{
	uint32_t uidvalidity, uidnext, known_validity = 0, last_uid = 0;
	uint32_t *uids = NULL;
	size_t n = 0;
	char *mark = xasprintf(MARK_PREFIX "%s", folder);
	enum store_status st;
	int known;

	if ((known = ledger_folder_get(l->ledger, mark, &known_validity,
	    &last_uid)) < 0) {
		st = ledger_failed(l);
		goto out;
	}
	/* Read-only: looking must not take \Recent from the owner's
	 * clients. */
	st = l->store->ops->examine(l->store, folder, &uidvalidity, &uidnext);
	if (st == STORE_BOX_BAD || st == STORE_MSG_GONE) {
		st = STORE_OK;		/* deleted since the LIST */
		goto out;
	}
	if (st != STORE_OK)
		goto out;
	if ((!known && (first || uidnext > NEW_BOX_SCAN_MAX + 1)) ||
	    (known && known_validity != uidvalidity)) {
		/* What was there before is not news (and after a
		 * renumbering, or in a big mailbox imported since, looking
		 * at all of it is too dear). */
		if (ledger_folder_set(l->ledger, mark, uidvalidity,
		    uidnext > 0 ? uidnext - 1 : 0) < 0)
			st = ledger_failed(l);
		goto out;
	}
	/* A small mailbox new since the first look is looked at from its
	 * start: the owner may have made it by dragging a message into it. */
	if (uidnext > 0 && uidnext - 1 <= last_uid)
		goto out;	/* nothing new */
	st = l->store->ops->list_uids(l->store, last_uid + 1, &uids, &n);
	for (size_t i = 0; st == STORE_OK && i < n; i++) {
		if (uids[i] <= last_uid)
			continue;
		st = elsewhere_arrival(l, folder, uidvalidity, uids[i], mark);
		if (st == STORE_OK && ledger_folder_set(l->ledger, mark,
		    uidvalidity, uids[i]) < 0)
			st = ledger_failed(l);
	}
out:
	free(uids);
	free(mark);
	return st;
}

enum store_status
learn_scan_elsewhere(struct learner *l, const char *const *watched,
    size_t nwatched)
{
	char **boxes = NULL;
	size_t n = 0;
	uint32_t v, u;
	enum store_status st;
	int first;

	/* The bare prefix (no mailbox is named "") marks that a first look
	 * at all the mailboxes was taken. */
	if ((first = ledger_folder_get(l->ledger, MARK_PREFIX, &v, &u)) < 0)
		return ledger_failed(l);
	first = !first;
	if (!first && l->sweeps_due == 0)
		return STORE_OK;	/* nothing left Junk: no rescue */
	if ((st = l->store->ops->list_boxes(l->store, &boxes, &n)) !=
	    STORE_OK)
		return st;
	for (size_t i = 0; st == STORE_OK && i < n; i++) {
		int skip = same_box(boxes[i], l->junk) ||
		    same_box(boxes[i], l->trash);

		for (size_t w = 0; !skip && w < nwatched; w++)
			skip = same_box(boxes[i], watched[w]);
		if (!skip)
			st = scan_elsewhere(l, boxes[i], first);
	}
	if (st == STORE_OK && first &&
	    ledger_folder_set(l->ledger, MARK_PREFIX, 0, 0) < 0)
		st = ledger_failed(l);
	if (st == STORE_OK && l->sweeps_due > 0)
		l->sweeps_due--;
	store_names_free(boxes, n);
	return st;
}

static int
cmp_flags_uid(const void *a, const void *b)
{
	uint32_t x = ((const struct store_flags *)a)->uid;
	uint32_t y = ((const struct store_flags *)b)->uid;

	return x < y ? -1 : x > y;
}

static const struct ledger_keyword *
keyword_find(const struct ledger_keyword *v, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].uid == uid)
			return &v[mid];
		if (v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A message whose keyword opinion changed to op; recorded: an opinion
 * was recorded on this UID before (the learner saw its keywords). */
static enum store_status
keyword_change(struct learner *l, const char *folder, uint32_t uidvalidity,
    uint32_t uid, const char *op, int recorded)
{
	struct store_msg msg = { 0 };
	struct ledger_message known = { 0 };
	struct observation o = { .folder = folder,
	    .uidvalidity = uidvalidity, .msg = &msg, .keywords = 1 };
	char *reason = NULL;
	enum store_status st;
	int have;

	/* Flags mailsift put on for a move still to be made (or that failed
	 * and could not be taken back) are nobody's opinion; the next look
	 * sees what the sorter leaves. */
	if ((have = ledger_flags_in_flight(l->ledger, folder, uidvalidity,
	    uid)) != 0)
		return have < 0 ? ledger_failed(l) : STORE_OK;
	if ((st = fetch_known(l, uid, &msg, &known, &have)) != STORE_OK) {
		if (st == STORE_MSG_GONE)
			st = STORE_OK;
		goto out;
	}
	/* The flags may have changed again since list_flags.  $Junk on a
	 * message mailsift filed into Junk, seen there for the first time,
	 * is the one mailsift set, whatever the message was trained as
	 * before (train --from-folders may have taught it as ham): only a
	 * change after that is the owner's. */
	op = keyword_opinion(msg.flags, msg.nflags);
	if ((strcmp(op, "spam") == 0 || strcmp(op, "ham") == 0) &&
	    !(strcmp(op, "spam") == 0 && same_box(folder, l->junk) && have &&
	    known.junk_by_us != NULL && !known.rescued && !recorded)) {
		reason = xasprintf("%s set by a mail client", op[0] == 's' ?
		    "$Junk" : "$NotJunk");
		o.want = op;
		o.reason = reason;
	}
	st = observe(l, &o);
out:
	free(reason);
	ledger_message_release(&known);
	store_msg_release(&msg);
	return st;
}

static void
flags_entry_release(struct store_flags *f)
{
	for (size_t i = 0; i < f->nflags; i++)
		free(f->flags[i]);
	free(f->flags);
}

/* The flags a keyword scan looks at, sorted by UID, each once: all the
 * selected folder's, or (incremental) those of the messages that joined
 * the looked-at range since the last look (before) and of those whose
 * flags changed since then (FETCH CHANGEDSINCE). */
static enum store_status
flags_to_check(struct learner *l, const struct ledger_keyword_scan *before,
    int incremental, struct store_flags **fl_r, size_t *n_r)
{
	const struct store_ops *ops = l->store->ops;
	struct store_flags *fl = NULL, *changed = NULL;
	size_t n = 0, nchanged = 0, k = 0;
	enum store_status st;

	*fl_r = NULL;
	*n_r = 0;
	if (!incremental)
		st = ops->list_flags(l->store, 1, 0, &fl, &n);
	else if ((st = ops->list_flags(l->store, before->last_uid + 1, 0, &fl,
	    &n)) == STORE_OK && (st = ops->list_flags(l->store, 1,
	    before->modseq, &changed, &nchanged)) == STORE_OK &&
	    nchanged > 0) {
		fl = xreallocarray(fl, n + nchanged, sizeof(*fl));
		memcpy(fl + n, changed, nchanged * sizeof(*fl));
		n += nchanged;
		free(changed);		/* its entries now belong to fl */
		changed = NULL;
		nchanged = 0;
	}
	store_flags_free(changed, nchanged);
	if (st != STORE_OK) {
		store_flags_free(fl, n);
		return st;
	}
	if (n > 1)
		qsort(fl, n, sizeof(*fl), cmp_flags_uid);
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && fl[k - 1].uid == fl[i].uid)
			flags_entry_release(&fl[i]);
		else
			fl[k++] = fl[i];
	}
	*fl_r = fl;
	*n_r = k;
	return STORE_OK;
}

enum store_status
learn_scan_keywords(struct learner *l, const char *folder)
{
	uint32_t uidvalidity, uidnext, mark_validity, last_uid;
	struct ledger_keyword_scan now = { 0 }, before = { 0 };
	struct store_box_info info;
	struct store_flags *fl = NULL;
	struct ledger_keyword *rec = NULL;
	size_t nfl = 0, nrec = 0;
	char *mark = NULL;
	enum store_status st;
	int known, incremental = 0;

	if (same_box(folder, l->trash))
		return STORE_OK;
	mark = same_box(folder, l->junk) ? mark_key(l) : xstrdup(folder);
	known = ledger_folder_get(l->ledger, mark, &mark_validity, &last_uid);
	if (known < 0) {
		st = ledger_failed(l);
		goto out;
	}
	st = l->store->ops->select(l->store, folder, &uidvalidity, &uidnext);
	if (st == STORE_BOX_BAD) {
		st = STORE_OK;	/* nothing there to learn from */
		goto out;
	}
	/* Messages not yet seen by their first reader are left to it. */
	if (st != STORE_OK || !known || mark_validity != uidvalidity ||
	    last_uid == 0)
		goto out;
	/* No flag changed and no message joined the range since the last
	 * look (RFC 7162 mod-sequences): nothing to read. */
	if ((st = l->store->ops->box_info(l->store, &info)) != STORE_OK)
		goto out;
	now = (struct ledger_keyword_scan){ uidvalidity, last_uid,
	    info.modseq };
	if (now.modseq != 0) {
		int had = ledger_keyword_scan_get(l->ledger, folder, &before);

		if (had < 0) {
			st = ledger_failed(l);
			goto out;
		}
		if (had && before.uidvalidity == now.uidvalidity &&
		    before.modseq != 0) {
			if (before.last_uid == now.last_uid &&
			    before.modseq == now.modseq)
				goto out;
			incremental = 1;
		}
	}
	if (ledger_keyword_forget(l->ledger, folder, uidvalidity, 0) < 0 ||
	    ledger_keywords_in(l->ledger, folder, uidvalidity, &rec,
	    &nrec) < 0) {
		st = ledger_failed(l);
		goto out;
	}
	if ((st = flags_to_check(l, &before, incremental, &fl, &nfl)) !=
	    STORE_OK)
		goto out;
	for (size_t i = 0; i < nfl && st == STORE_OK; i++) {
		const struct ledger_keyword *r;
		const char *op;

		if (fl[i].uid > last_uid)
			break;
		op = keyword_opinion(fl[i].flags, fl[i].nflags);
		r = keyword_find(rec, nrec, fl[i].uid);
		if (strcmp(op, r != NULL ? r->opinion : "") == 0 ||
		    store_has_flag(fl[i].flags, fl[i].nflags, "\\Deleted"))
			continue;
		st = keyword_change(l, folder, uidvalidity, fl[i].uid, op,
		    r != NULL);
	}
	/* Forget the records of messages that left the folder (a full
	 * look only: an incremental one does not see them all). */
	for (size_t k = 0, i = 0; !incremental && k < nrec &&
	    st == STORE_OK; k++) {
		while (i < nfl && fl[i].uid < rec[k].uid)
			i++;
		if ((i == nfl || fl[i].uid != rec[k].uid) &&
		    ledger_keyword_forget(l->ledger, folder, uidvalidity,
		    rec[k].uid) < 0)
			st = ledger_failed(l);
	}
	if (st == STORE_OK && now.modseq != 0 &&
	    ledger_keyword_scan_set(l->ledger, folder, &now) < 0)
		st = ledger_failed(l);
out:
	store_flags_free(fl, nfl);
	free(rec);
	free(mark);
	return st;
}

/* For the bootstrap: the ledger records msg as trained as want; makes
 * sure the model holds that training (a crash inside a batch may have
 * lost it).  1 if it did, 0 if it was trained now, -1 with *err_r. */
static int
model_ensure(struct learner *l, const char *folder,
    const struct store_msg *msg, const char *want, char **err_r)
{
	int rc = filter_learn(l->filter, msg->data, msg->len,
	    strcmp(want, "spam") == 0, 0, err_r);

	if (rc == 0)
		log_info("%s uid %u: the model did not hold its training as "
		    "%s that the ledger records: trained now", folder,
		    msg->uid, want);
	return rc;
}

/* Trains one fetched message of the bootstrap (o->msg; gone if its data
 * is NULL) as o->want in the caller's model transaction, unless it is
 * empty, flagged \Deleted or carries the other class's keyword.  Returns
 * the store status (a ledger failure included); *model_void_r says that
 * the model transaction cannot be kept: 1 after a ledger failure (the
 * status says why), -1 after a model failure (logged, or in *err_r). */
static enum store_status
bootstrap_message(struct learner *l, struct observation *o,
    struct learn_summary *sum, int *model_void_r, char **err_r)
{
	const struct store_msg *msg = o->msg;
	const char *kw;
	int ensured = 1;
	enum store_status st;

	*model_void_r = 0;
	if (msg->data == NULL)
		return STORE_OK;	/* gone since its flags were read */
	kw = keyword_opinion(msg->flags, msg->nflags);
	if (msg->len == 0 ||
	    store_has_flag(msg->flags, msg->nflags, "\\Deleted") ||
	    ((kw[0] == 's' || kw[0] == 'h') && strcmp(kw, o->want) != 0)) {
		sum->skipped++;
		return STORE_OK;
	}
	st = observe(l, o);
	if (o->result == RETRAIN_SAME)
		ensured = model_ensure(l, o->folder, msg, o->want, err_r);
	if (o->result == RETRAIN_CHANGED || ensured == 0)
		*(o->want[0] == 's' ? &sum->spam : &sum->ham) += 1;
	else if (o->result == RETRAIN_SAME && ensured == 1)
		sum->unchanged++;
	if (o->result == RETRAIN_MODEL_FAILED || ensured < 0)
		*model_void_r = -1;
	else if (o->result == RETRAIN_LEDGER_FAILED)
		*model_void_r = 1;
	return st;
}

/* Whether the bootstrap learns a message with these flags as want: in a
 * ham folder an unread message is left out unless unread_too. */
static int
bootstrap_learns(const struct store_flags *fl, const char *want,
    int unread_too)
{
	return unread_too || want[0] != 'h' ||
	    store_has_flag(fl->flags, fl->nflags, "\\Seen");
}

/* Trains every message of folder as want, once, in model transactions of
 * BOOTSTRAP_BATCH messages (see the top of the file), fetching up to
 * BOOTSTRAP_FETCH_MAX messages together.  In a ham folder an unread
 * message is left out unless unread_too: nobody has looked at it yet, so
 * where it lies says nothing of the owner's judgement (unread spam waits
 * in INBOX as often as ham).  A keyword the owner gave it is the daemon's
 * to learn (learn_scan_keywords). */
static int
bootstrap_folder(struct learner *l, const char *folder, const char *want,
    int unread_too, void (*progress)(void *, const char *, size_t, size_t),
    void *arg, struct learn_summary *sum, char **err_r)
{
	uint32_t uidvalidity, uidnext, uids[BOOTSTRAP_FETCH_MAX];
	struct store_msg msgs[BOOTSTRAP_FETCH_MAX];
	int truncated[BOOTSTRAP_FETCH_MAX];
	struct store_flags *fl = NULL;
	size_t n = 0, batch = 0, fetched = 0, used = 0;
	enum store_status st;
	char *reason = xasprintf("bootstrap from %s", folder), *err = NULL;
	int rc = -1, open = 0, model_void;
	time_t started = 0;

	memset(msgs, 0, sizeof(msgs));
	st = l->store->ops->select(l->store, folder, &uidvalidity, &uidnext);
	if (st == STORE_BOX_BAD) {
		log_notice("%s: no such folder, nothing learned from it",
		    folder);
		rc = 0;
		goto out;
	}
	if (st == STORE_OK)
		st = l->store->ops->list_flags(l->store, 1, 0, &fl, &n);
	if (st == STORE_OK && n > 1)
		qsort(fl, n, sizeof(*fl), cmp_flags_uid);
	for (size_t i = 0; i < n && st == STORE_OK; i++) {
		struct observation o = { .folder = folder,
		    .uidvalidity = uidvalidity, .reason = reason,
		    .bulk = 1, .want = want };

		if (!bootstrap_learns(&fl[i], want, unread_too)) {
			sum->unread++;
			goto next;
		}
		if (used == fetched) {
			/* This one and the next ones learned, together. */
			size_t k = 0;

			for (size_t j = i; j < n && k < BOOTSTRAP_FETCH_MAX;
			    j++)
				if (bootstrap_learns(&fl[j], want, unread_too))
					uids[k++] = fl[j].uid;
			used = 0;
			st = l->store->ops->fetch_some(l->store, uids, k,
			    l->max_message_bytes, BOOTSTRAP_FETCH_BYTES, msgs,
			    truncated, &fetched);
			if (st != STORE_OK) {
				fetched = 0;
				break;
			}
		}
		if (!open) {
			if (filter_begin(l->filter, &err) < 0)
				goto model_failed;
			open = 1;
			started = time(NULL);
		}
		o.msg = &msgs[used];
		st = bootstrap_message(l, &o, sum, &model_void, &err);
		store_msg_release(&msgs[used++]);
		if (model_void != 0) {
			/* The batch is void: what the ledger has of it is
			 * trained again by the next run. */
			filter_rollback(l->filter);
			open = 0;
			if (model_void < 0)
				goto model_failed;
			break;
		}
		if (++batch == BOOTSTRAP_BATCH ||
		    time(NULL) - started >= BOOTSTRAP_BATCH_SECONDS) {
			if (filter_commit(l->filter, &err) < 0)
				goto model_failed;
			open = 0;
			batch = 0;
		}
next:
		if (progress != NULL && st == STORE_OK)
			progress(arg, folder, i + 1, n);
	}
	/* What the ledger recorded is kept, even when a fetch failed. */
	if (open) {
		open = 0;
		if (filter_commit(l->filter, &err) < 0)
			goto model_failed;
	}
	if (st != STORE_OK) {
		/* A ledger failure was logged with its reason. */
		*err_r = xasprintf("cannot learn from '%s' (%s): %s", folder,
		    store_status_name(st), store_last_error(l->store)[0] ?
		    store_last_error(l->store) : "the ledger cannot be "
		    "written, see the log above");
		goto out;
	}
	rc = 0;
	goto out;
model_failed:
	*err_r = xasprintf("cannot train from '%s': %s; run it again to "
	    "train what is missing", folder, err ? err : "see the log above");
out:
	if (open)
		filter_rollback(l->filter);
	while (used < fetched)
		store_msg_release(&msgs[used++]);
	free(err);
	free(reason);
	store_flags_free(fl, n);
	return rc;
}

int
learn_bootstrap(struct learner *l, const char *const *ham_folders,
    size_t nham, int unread_too, void (*progress)(void *arg,
    const char *folder, size_t done, size_t total), void *arg,
    struct learn_summary *sum_r, char **err_r)
{
	memset(sum_r, 0, sizeof(*sum_r));
	if (bootstrap_folder(l, l->junk, "spam", 1, progress, arg, sum_r,
	    err_r) < 0)
		return -1;
	for (size_t i = 0; i < nham; i++) {
		if (same_box(ham_folders[i], l->junk) ||
		    same_box(ham_folders[i], l->trash))
			continue;	/* never ham */
		if (bootstrap_folder(l, ham_folders[i], "ham", unread_too,
		    progress, arg, sum_r, err_r) < 0)
			return -1;
	}
	return 0;
}
