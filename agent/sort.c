/*
 * sort.c - decide what happens to each new message and make it so,
 * exactly once.
 *
 * Crash safety rests on three rules: the intent goes into the ledger
 * before the store is touched; a plan copies to every extra target first
 * and ends with at most one MOVE (so the message leaves its folder only
 * when everything else is done, and UID MOVE is atomic on the server); and
 * the folder's UID mark advances only after the outcome is recorded.  On a
 * restart, a pending decision whose message is gone from its folder was
 * completed by that final MOVE; one whose message is still there is
 * resumed, checking each copy target before copying again.
 *
 * Messages go through in batches (sort_batch): fetched together, decided
 * one by one, all their intents written in one transaction before any of
 * them touches the store, the plans carried out (single moves and flag
 * changes grouped into one command per target and flags), then all the
 * outcomes and the mark in one transaction.  The rules hold for each
 * message: the mark stops at the first message whose plan did not finish,
 * and a message whose decision depends on an earlier one of the batch
 * (the same message again, or Sieve's duplicate test) starts the next
 * batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/evidence.h"
#include "agent/log.h"
#include "agent/message.h"
#include "agent/plan.h"
#include "agent/sort.h"
#include "agent/xmem.h"

enum verdict
sort_verdict(const struct sorter *s, double score)
{
	if (score >= s->spam_threshold)
		return VERDICT_SPAM;
	if (score < s->ham_threshold)
		return VERDICT_HAM;
	return VERDICT_UNSURE;
}

/* Flags in want that are not in have[0..nhave-1], NULL-terminated in a
 * malloc'd array of borrowed strings (NULL when none). */
static const char **
missing_flags(const char *const *want, size_t nwant, char *const *have,
    size_t nhave)
{
	const char **add = NULL;
	size_t n = 0;

	for (size_t i = 0; i < nwant; i++) {
		if (store_has_flag(have, nhave, want[i]))
			continue;
		add = xreallocarray(add, n + 2, sizeof(*add));
		add[n++] = want[i];
		add[n] = NULL;
	}
	return add;
}

/* The flags of a space-separated list, NULL-terminated; free the array
 * and *text_r (which the strings point into). */
static char **
split_flags(const char *list, char **text_r, size_t *n_r)
{
	char **v = NULL, *save = NULL, *f;
	size_t n = 0;

	*text_r = xstrdup(list);
	for (f = strtok_r(*text_r, " ", &save); f != NULL;
	    f = strtok_r(NULL, " ", &save)) {
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = f;
		v[n] = NULL;
	}
	*n_r = n;
	return v;
}

static char *
join_flags(const char *const *flags)
{
	struct buf b = { 0 };

	for (size_t i = 0; flags[i] != NULL; i++)
		buf_printf(&b, "%s%s", i > 0 ? " " : "", flags[i]);
	return buf_steal(&b);
}

/* 1 if box already holds a message with this Message-ID, 0 if not or
 * unknown.  Leaves folder selected again. */
static enum store_status
already_in(struct sorter *s, const char *folder, const char *box,
    const char *message_id, int *found_r)
{
	uint32_t uidvalidity, uidnext, *uids = NULL;
	size_t n = 0;
	enum store_status st;

	*found_r = 0;
	if (message_id == NULL)
		return STORE_OK;
	st = s->store->ops->select(s->store, box, &uidvalidity, &uidnext);
	if (st == STORE_OK) {
		st = s->store->ops->find_message_id(s->store, message_id,
		    &uids, &n);
		*found_r = st == STORE_OK && n > 0;
		free(uids);
	}
	if (st == STORE_BOX_BAD || st == STORE_MSG_GONE)
		st = STORE_OK;		/* the box does not exist yet */
	if (st != STORE_OK)
		return st;
	return s->store->ops->select(s->store, folder, &uidvalidity, &uidnext);
}

static enum store_status
record_progress(struct sorter *s, int64_t decision, int copies_done,
    const char *const *temp_flags)
{
	char *temp = temp_flags ? join_flags(temp_flags) : NULL;
	int rc = ledger_decision_progress(s->ledger, decision, copies_done,
	    temp);

	free(temp);
	if (rc == 0)
		return STORE_OK;
	log_error("cannot write the ledger: %s", ledger_error(s->ledger));
	return STORE_FATAL;
}

/* Takes the flags pending (a decision being resumed) put on message uid
 * for its next step off the message, and records that. */
static enum store_status
drop_temp_flags(struct sorter *s, uint32_t uid,
    const struct ledger_decision *pending)
{
	char **temp, *text;
	size_t n;
	enum store_status st;

	temp = split_flags(pending->temp_flags, &text, &n);
	st = n > 0 ? s->store->ops->set_flags(s->store, uid, NULL,
	    (const char *const *)temp) : STORE_OK;
	if (st == STORE_OK)
		st = record_progress(s, pending->id, pending->copies_done, NULL);
	free(temp);
	free(text);
	return st;
}

/* Takes flags put on message uid for decision's next step off again
 * after that step failed with *st, and records that they are off
 * (copies_done copies stand).  If that fails too, they stay recorded as
 * the decision's (the resumed or retried decision takes them off) and
 * *st becomes that failure's status when it is worse. */
static void
take_back_flags(struct sorter *s, uint32_t uid, int64_t decision,
    int copies_done, const char *const *flags, enum store_status *st)
{
	char *why = xstrdup(store_last_error(s->store));
	enum store_status st2;

	st2 = s->store->ops->set_flags(s->store, uid, NULL, flags);
	if (st2 == STORE_OK)
		st2 = record_progress(s, decision, copies_done, NULL);
	if (st2 == STORE_CONN_LOST || st2 == STORE_FATAL)
		*st = st2;
	else
		store_set_error(s->store, "%s", why);
	free(why);
}

/* Carries out a plan on msg as decision (pending: the interrupted run of
 * it being resumed, else NULL).  Copies come first, each recorded in the
 * ledger once made, with the flags it needs put on the original only for
 * the copy and recorded before they go on; then the one final MOVE,
 * which cannot half-happen.  *dest_r / *dest_uid_r receive where the
 * message went (NULL / 0 when kept). */
static enum store_status
plan_execute(struct sorter *s, const char *folder, const struct plan *p,
    const struct store_msg *msg, const char *message_id, int64_t decision,
    const struct ledger_decision *pending, const char **dest_r,
    uint32_t *dest_uid_r)
{
	const struct store_ops *ops = s->store->ops;
	enum store_status st = STORE_OK;
	const char **add = NULL;
	char **have = msg->flags, **temp = NULL, *temp_text = NULL;
	size_t nhave = msg->nflags, ntemp = 0;
	int done = pending ? pending->copies_done : 0;

	*dest_r = NULL;
	*dest_uid_r = 0;
	if (pending != NULL && pending->temp_flags != NULL) {
		/* A copy's (or the move's) flags are still on the
		 * original: take them off, and forget them as flags the
		 * original has. */
		if ((st = drop_temp_flags(s, msg->uid, pending)) != STORE_OK)
			goto out;
		temp = split_flags(pending->temp_flags, &temp_text, &ntemp);
		have = xreallocarray(NULL, msg->nflags + 1, sizeof(*have));
		nhave = 0;
		for (size_t i = 0; i < msg->nflags; i++)
			if (!store_has_flag(temp, ntemp, msg->flags[i]))
				have[nhave++] = msg->flags[i];
	}
	for (size_t i = 0; i < p->ntargets; i++) {
		const struct plan_target *t = &p->targets[i];
		int last = !p->keep && i + 1 == p->ntargets;
		int left_behind = 0, found = 0;
		uint32_t new_uid = 0;

		free(add);
		add = missing_flags((const char *const *)t->flags, t->nflags,
		    have, nhave);
		if (last) {
			/* Recorded before they go on, so that no one takes
			 * mailsift's $Junk for the owner's (learn.c). */
			if (add != NULL && ((st = record_progress(s, decision,
			    (int)i, add)) != STORE_OK || (st =
			    ops->set_flags(s->store, msg->uid, add, NULL)) !=
			    STORE_OK))
				goto out;
			st = ops->move(s->store, msg->uid, t->box, &new_uid,
			    &left_behind);
			if (st != STORE_OK) {
				/* Refused: the message stays, without the
				 * flags it was to carry there. */
				if (add != NULL && st != STORE_CONN_LOST &&
				    st != STORE_FATAL)
					take_back_flags(s, msg->uid, decision,
					    (int)i, add, &st);
				goto out;
			}
			if (left_behind)
				log_warnx("%s uid %u: moved to '%s' but the "
				    "server has neither MOVE nor UIDPLUS: the "
				    "original is left flagged \\Deleted for "
				    "your client to expunge", folder,
				    msg->uid, t->box);
			*dest_r = t->box;
			*dest_uid_r = new_uid;
			break;
		}
		if ((int)i < done)
			continue;	/* made before the interruption */
		if (pending != NULL) {
			/* Made, but the line dropped before it was recorded? */
			st = already_in(s, folder, t->box, message_id, &found);
			if (st != STORE_OK)
				goto out;
		}
		if (!found) {
			if (add != NULL && ((st = record_progress(s, decision,
			    (int)i, add)) != STORE_OK || (st =
			    ops->set_flags(s->store, msg->uid, add, NULL)) !=
			    STORE_OK))
				goto out;
			if ((st = ops->copy(s->store, msg->uid, t->box,
			    &new_uid)) != STORE_OK ||
			    (st = record_progress(s, decision, (int)i + 1,
			    add)) != STORE_OK)
				goto out;
			if (add == NULL)
				continue;
			/* This copy's flags are not the original's. */
			if ((st = ops->set_flags(s->store, msg->uid, NULL,
			    add)) != STORE_OK)
				goto out;
		}
		if ((st = record_progress(s, decision, (int)i + 1, NULL)) !=
		    STORE_OK)
			goto out;
	}
	if (p->keep) {
		free(add);
		add = missing_flags((const char *const *)p->keep_flags,
		    p->nkeep_flags, have,
		    nhave);
		if (add != NULL)
			st = ops->set_flags(s->store, msg->uid, add, NULL);
	}
out:
	if (have != msg->flags)
		free(have);
	free(temp);
	free(temp_text);
	free(add);
	return st;
}

/* Sieve's duplicate test reads the IDs seen before from the ledger. */
static int
dup_lookup(void *ctx, const char *id, long long *seen_at_r)
{
	return ledger_duplicate_get(ctx, id, seen_at_r);
}

/* Records the IDs Sieve's duplicate tests tracked, now that the plan was
 * carried out (never before: a crash must not make unseen mail look
 * seen). */
static int
record_duplicates(struct sorter *s, const struct plan *p)
{
	long long now = (long long)time(NULL);

	for (size_t i = 0; i < p->ndups; i++)
		if (sieve_dup_record(&p->dups[i]) &&
		    ledger_duplicate_mark(s->ledger, p->dups[i].id, now,
		    SIEVE_DUP_MAX_AGE) < 0)
			return -1;
	return 0;
}

/* Evidence items kept per side with each decision: what status shows;
 * about 400 bytes of ledger per message. */
#define EVIDENCE_KEPT	3

/* Seconds until the next try of a decision that failed on its attempts-th
 * try: retry_seconds, doubling with each try, at most an hour. */
static int64_t
retry_delay(const struct sorter *s, int attempts)
{
	int64_t delay = s->retry_seconds > 0 ? s->retry_seconds : 60;

	for (int i = 1; i < attempts && delay < 3600; i++)
		delay *= 2;
	return delay < 3600 ? delay : 3600;
}

/* Records that decision (its attempts-th try) failed with err; a store
 * refusal (retryable) is tried again later, up to SORT_MAX_ATTEMPTS.
 * -1 if the ledger cannot be written. */
static int
record_failure(struct sorter *s, const char *folder, uint32_t uid,
    int64_t decision, int attempts, enum store_status st, const char *what,
    const char *err)
{
	int64_t delay = retry_delay(s, attempts);

	if (ledger_decision_finish(s->ledger, decision, DECISION_FAILED, NULL,
	    0, err) < 0)
		return -1;
	if (st != STORE_BOX_BAD || attempts >= SORT_MAX_ATTEMPTS) {
		log_warnx("%s uid %u: %s failed, message left in place%s: %s",
		    folder, uid, what, attempts > 1 ? " (gave up after the "
		    "last attempt)" : "", err);
		return 0;
	}
	log_warnx("%s uid %u: %s failed (attempt %d of %d), message left in "
	    "place; trying again in %lld s: %s", folder, uid, what, attempts,
	    SORT_MAX_ATTEMPTS, (long long)delay, err);
	return ledger_decision_retry_at(s->ledger, decision,
	    (int64_t)time(NULL) + delay);
}

/* Sieve's fileinto names in the owner's form: "INBOX.Junk" is "Junk" on
 * Courier (plan_rules.box_name). */
static char *
owner_box_name(void *store, const char *box)
{
	struct store *st = store;

	return st->ops->owner_name(st, box);
}

/* Decides what to do with msg: scores it and asks Sieve (or the default).
 * *evidence_r gets the classifier's evidence (evidence.h), NULL when the
 * message could not be scored. */
static void
plan_decide(struct sorter *s, const char *folder, const struct store_msg *msg,
    const struct ledger_message *known, char *const *boxes, size_t nboxes,
    double *score_r, enum verdict *v_r, char **evidence_r, struct plan *p)
{
	const struct plan_rules rules = {
		.script = s->script,
		.junk = s->junk,
		.trash = s->trash,
		.spam_threshold = s->spam_threshold,
		.mailboxes = boxes,
		.nmailboxes = nboxes,
		.dup_lookup = dup_lookup,
		.dup_ctx = s->ledger,
		.box_name = owner_box_name,
		.box_name_arg = s->store,
	};
	struct filter_result fr = { 0 };
	char *err = NULL;

	*score_r = -1;
	*v_r = VERDICT_UNSURE;
	*evidence_r = NULL;
	if (s->filter != NULL) {
		if (filter_score(s->filter, msg->data, msg->len, 1, &fr,
		    &err) == 0) {
			*score_r = fr.score;
			*v_r = sort_verdict(s, fr.score);
			*evidence_r = evidence_text(&fr, EVIDENCE_KEPT);
		} else {
			log_warnx("%s uid %u: cannot score: %s", folder,
			    msg->uid, err);
			free(err);
			err = NULL;
		}
		filter_result_release(&fr);
	}
	plan_make(&rules, folder, msg->data, msg->len, *score_r,
	    known != NULL && known->rescued, p, &err);
	if (err != NULL)
		log_warnx("%s uid %u: sieve script failed, message kept: %s",
		    folder, msg->uid, err);
	free(err);
}

/* Subject and From shown with a decision, in bytes. */
#define SHOWN_HEADER_MAX	120

/* Prints what a dry run would do with one message. */
static void
preview(struct sorter *s, uint32_t uid, const struct plan *p, double score,
    enum verdict v, const char *subject, const char *from, int resumed)
{
	fprintf(s->dry_run, "  uid %u: %s%s", uid, resumed ?
	    "resume interrupted: " : "", p->text);
	if (score >= 0)
		fprintf(s->dry_run, " (score %.4f, %s)", score,
		    verdict_name(v));
	fprintf(s->dry_run, "\n    From: %s\n    Subject: %s\n    rule: %s\n",
	    from ? from : "(none)", subject ? subject : "(none)", p->rule);
}

/* Fetching a message broke the connection this many times in a row: it
 * is left where it is, unread, and the folder's mark moves past it. */
#define UNREADABLE_TRIES	3

/* Fetches uid of folder into msg_r, counting in the ledger each fetch that
 * broke the connection.  A message that did so UNREADABLE_TRIES times
 * already is not fetched again: STORE_MSG_GONE with *given_up_r set (a
 * server that crashes on it, or sends more than asked for, must neither
 * wedge the daemon in a reconnect loop nor lose the message). */
static enum store_status
fetch_message(struct sorter *s, const char *folder, uint32_t uidvalidity,
    uint32_t uid, struct store_msg *msg_r, int *truncated_r, int *given_up_r)
{
	enum store_status st;
	int tries;

	*given_up_r = 0;
	if (ledger_unreadable_get(s->ledger, folder, uidvalidity, uid,
	    &tries) < 0)
		goto ledger_failed;
	if (tries >= UNREADABLE_TRIES) {
		log_warnx("%s uid %u: left in place unread: fetching it broke "
		    "the connection %d times in a row; it is not tried again "
		    "(see the log for why)", folder, uid, tries);
		*given_up_r = 1;
		return STORE_MSG_GONE;
	}
	st = s->store->ops->fetch(s->store, uid, s->max_message_bytes, msg_r,
	    truncated_r);
	if (st == STORE_CONN_LOST && s->dry_run == NULL &&
	    ledger_unreadable_note(s->ledger, folder, uidvalidity, uid,
	    store_last_error(s->store)) < 0)
		goto ledger_failed;
	if (st == STORE_OK && tries > 0 && s->dry_run == NULL &&
	    ledger_unreadable_forget(s->ledger, folder, uidvalidity, uid) < 0)
		goto ledger_failed;
	return st;
ledger_failed:
	store_msg_release(msg_r);
	log_error("cannot write the ledger: %s", ledger_error(s->ledger));
	return STORE_FATAL;
}

/* A catch-up goes through a folder in batches: up to BATCH_MAX messages
 * fetched together (within BATCH_BYTES), decided one by one, their
 * intents written in one transaction, the plans carried out (the common
 * single moves and flag changes grouped into one command per target),
 * and the outcomes and the folder's mark written in one transaction.
 * Each rule of the top of this file holds per message. */
#define BATCH_MAX	64
#define BATCH_BYTES	((size_t)4 * 1024 * 1024)

/* A message a pass sorts. */
struct todo {
	uint32_t uid;
	int above;			/* above the folder's mark */
	int from_backlog;		/* chosen from the backlog */
};

/* One message of a batch, from its fetch to its outcome. */
struct work {
	uint32_t uid;
	struct store_msg msg;
	int truncated;
	int act;			/* a plan to carry out (else done) */
	int counted_known;		/* handled earlier: left alone */
	char hash[MESSAGE_HASH_LEN + 1];
	char *msgid, *subject, *from, *evidence;
	struct ledger_message known;
	struct ledger_decision pending;
	int have_known, have_pending;
	struct plan plan;
	double score;
	enum verdict verdict;
	int64_t decision_id;
	enum store_status st;		/* of carrying out the plan */
	int executed;			/* st is set */
	const char *dest;
	uint32_t dest_uid;
};

static void
work_release(struct work *w)
{
	store_msg_release(&w->msg);
	free(w->msgid);
	free(w->subject);
	free(w->from);
	free(w->evidence);
	ledger_message_release(&w->known);
	ledger_decision_release(&w->pending);
	plan_release(&w->plan);
	memset(w, 0, sizeof(*w));
}

/* Decides what to do with the message of w (fetched, its hash taken):
 * everything up to the intent.  Handles at once what needs no plan
 * (gone, handled before, a dry run, an interrupted plan the rules no
 * longer give); else sets w->act. */
static enum store_status
decide(struct sorter *s, const char *folder, uint32_t uidvalidity,
    struct work *w, struct sort_stats *stats)
{
	struct message parsed;
	char **boxes = NULL;
	size_t nboxes = 0;
	enum store_status st = STORE_OK;

	message_parse(&parsed, w->msg.data, w->msg.len);
	w->msgid = message_id(&parsed);
	w->subject = message_header_display(&parsed, "Subject",
	    SHOWN_HEADER_MAX);
	w->from = message_header_display(&parsed, "From", SHOWN_HEADER_MAX);
	message_release(&parsed);

	w->have_known = ledger_message_find(s->ledger, w->hash, &w->known);
	w->have_pending = ledger_decision_pending(s->ledger, folder,
	    uidvalidity, w->uid, &w->pending);
	if (w->have_known < 0 || w->have_pending < 0)
		goto ledger_failed;
	if (w->have_known && !w->have_pending) {
		/* Known before: decided already (a re-scan after a UIDVALIDITY
		 * change, or filed here by a rule), or moved here by the
		 * owner, perhaps out of Junk.  Never handle it twice. */
		int handled = w->known.decided > 0;

		if (s->learner != NULL && s->dry_run == NULL) {
			st = learn_seen_again(s->learner, folder, &w->msg,
			    &w->known, &handled);
			if (st != STORE_OK)
				return st;
		}
		if (handled) {
			log_info("%s uid %u: already handled (%s), left alone",
			    folder, w->uid, w->msgid ? w->msgid :
			    "no Message-ID");
			stats->known++;
			w->counted_known = 1;
			return STORE_OK;
		}
		/* Learning may have marked it rescued: read it again. */
		ledger_message_release(&w->known);
		if ((w->have_known = ledger_message_find(s->ledger, w->hash,
		    &w->known)) < 0)
			goto ledger_failed;
	}

	/* mailboxexists answers from the server's folder list */
	if (s->script != NULL && sieve_script_needs_mailboxes(s->script) &&
	    (st = s->store->ops->list_boxes(s->store, &boxes, &nboxes)) !=
	    STORE_OK)
		return st;
	plan_decide(s, folder, &w->msg, w->have_known ? &w->known : NULL,
	    boxes, nboxes, &w->score, &w->verdict, &w->evidence, &w->plan);
	store_names_free(boxes, nboxes);
	if (s->dry_run != NULL) {
		preview(s, w->uid, &w->plan, w->score, w->verdict, w->subject,
		    w->from, w->have_pending);
		if (w->plan.keep)
			stats->kept++;
		else
			stats->moved++;
		return STORE_OK;
	}
	if (w->have_pending && strcmp(w->plan.text, w->pending.actions) != 0) {
		/* The script or the model changed while the decision was
		 * half done: carrying out another plan on top of the copies
		 * already made could file the message twice.  Leave it,
		 * without the flags that were for a copy or the move. */
		if (w->pending.temp_flags != NULL &&
		    (st = drop_temp_flags(s, w->uid, &w->pending)) != STORE_OK)
			return st;
		log_warnx("%s uid %u: interrupted decision (%s) would now be "
		    "'%s'; message left in place", folder, w->uid,
		    w->pending.actions, w->plan.text);
		if (ledger_decision_finish(s->ledger, w->pending.id,
		    DECISION_FAILED, NULL, 0, "interrupted, and the rules "
		    "changed before it could be resumed: left in place") < 0)
			goto ledger_failed;
		stats->failed++;
		return STORE_OK;
	}
	if (w->have_pending) {
		w->decision_id = w->pending.id;
		log_notice("%s uid %u: resuming interrupted decision: %s",
		    folder, w->uid, w->pending.actions);
	}
	w->act = 1;
	return STORE_OK;
ledger_failed:
	log_error("cannot write the ledger: %s", ledger_error(s->ledger));
	return STORE_FATAL;
}

/* Records the intent of every new decision of the batch, in one
 * transaction, before the store is touched: a message row never exists
 * without the decision that explains it. */
static int
record_intents(struct sorter *s, const char *folder, uint32_t uidvalidity,
    struct work *v, size_t n)
{
	if (ledger_begin(s->ledger) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct work *w = &v[i];
		struct ledger_decision d = { 0 };

		if (!w->act || w->have_pending)
			continue;
		d.folder = (char *)folder;
		d.uidvalidity = uidvalidity;
		d.uid = w->uid;
		d.score = w->score;
		d.verdict = w->score < 0 ? NULL :
		    (char *)verdict_name(w->verdict);
		d.rule = w->plan.rule;
		d.actions = w->plan.text;
		d.evidence = w->evidence;
		/* "": the message has none (NULL is an older decision). */
		d.subject = w->subject ? w->subject : "";
		d.sender = w->from ? w->from : "";
		if (ledger_message_add(s->ledger, w->hash, w->msgid,
		    &d.message) < 0 ||
		    ledger_decision_begin(s->ledger, &d, &w->decision_id) < 0) {
			ledger_rollback(s->ledger);
			return -1;
		}
	}
	if (ledger_commit(s->ledger) < 0) {
		ledger_rollback(s->ledger);
		return -1;
	}
	return 0;
}

/* What a plan does that can go with others': one MOVE to one folder (the
 * box in *box_r), or a keep; the flags it adds first in *add_r
 * (NULL-terminated, borrowed strings, NULL for none).  0 for a plan with
 * copies, or one resumed after an interruption: carried out alone. */
static int
groupable(const struct work *w, const char **box_r, const char ***add_r)
{
	const struct plan *p = &w->plan;

	if (w->have_pending)
		return 0;
	if (!p->keep && p->ntargets == 1) {
		*box_r = p->targets[0].box;
		*add_r = missing_flags((const char *const *)
		    p->targets[0].flags, p->targets[0].nflags,
		    w->msg.flags, w->msg.nflags);
		return 1;
	}
	if (p->keep && p->ntargets == 0) {
		*box_r = NULL;
		*add_r = missing_flags((const char *const *)p->keep_flags,
		    p->nkeep_flags, w->msg.flags, w->msg.nflags);
		return 1;
	}
	return 0;
}

static int
same_flags(const char *const *a, const char *const *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	for (i = 0; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return a[i] == b[i];
}

/* Carries out together the groupable plans of v[0..n-1] that move to box
 * (NULL: keep) adding add: the flags first (recorded before they go on,
 * as plan_execute does), then one MOVE.  Sets each member's outcome. */
static enum store_status
execute_group(struct sorter *s, const char *folder, struct work **g,
    size_t ng, const char *box, const char *const *add)
{
	const struct store_ops *ops = s->store->ops;
	uint32_t *uids = xcalloc(ng, sizeof(*uids));
	uint32_t *new_uids = xcalloc(ng, sizeof(*new_uids));
	enum store_status st = STORE_OK;
	int left_behind = 0;
	char *temp = add != NULL ? join_flags(add) : NULL;

	for (size_t i = 0; i < ng; i++)
		uids[i] = g[i]->uid;
	if (add != NULL && box != NULL) {
		if (ledger_begin(s->ledger) < 0)
			goto ledger_failed;
		for (size_t i = 0; i < ng; i++)
			if (ledger_decision_progress(s->ledger,
			    g[i]->decision_id, 0, temp) < 0) {
				ledger_rollback(s->ledger);
				goto ledger_failed;
			}
		if (ledger_commit(s->ledger) < 0) {
			ledger_rollback(s->ledger);
			goto ledger_failed;
		}
	}
	if (add != NULL)
		st = ops->set_flags_some(s->store, uids, ng, add, NULL);
	if (st == STORE_OK && box != NULL) {
		st = ops->move_some(s->store, uids, ng, box, new_uids,
		    &left_behind);
		if (st != STORE_OK && add != NULL && st != STORE_CONN_LOST &&
		    st != STORE_FATAL) {
			/* Refused: they stay, without the flags they were to
			 * carry there. */
			char *why = xstrdup(store_last_error(s->store));
			enum store_status st2 = ops->set_flags_some(s->store,
			    uids, ng, NULL, add);

			for (size_t i = 0; st2 == STORE_OK && i < ng; i++)
				st2 = record_progress(s, g[i]->decision_id, 0,
				    NULL);
			if (st2 == STORE_CONN_LOST || st2 == STORE_FATAL)
				st = st2;
			else
				store_set_error(s->store, "%s", why);
			free(why);
		}
	}
	if (st == STORE_OK && left_behind)
		log_warnx("%s: %zu message(s) moved to '%s' but the server has "
		    "neither MOVE nor UIDPLUS: the originals are left flagged "
		    "\\Deleted for your client to expunge", folder, ng, box);
	for (size_t i = 0; i < ng; i++) {
		g[i]->st = st;
		g[i]->executed = 1;
		if (st == STORE_OK && box != NULL) {
			g[i]->dest = box;
			g[i]->dest_uid = new_uids[i];
		}
	}
	goto out;
ledger_failed:
	log_error("cannot write the ledger: %s", ledger_error(s->ledger));
	st = STORE_FATAL;
out:
	free(temp);
	free(uids);
	free(new_uids);
	return st;
}

/* Carries out the plans of the batch: those with copies or resumed alone
 * (plan_execute), the others grouped by target and flags.  Stops at a
 * lost connection or an unwritable ledger (the rest stays pending). */
static enum store_status
execute(struct sorter *s, const char *folder, struct work *v, size_t n)
{
	struct work **g = xcalloc(n, sizeof(*g));
	enum store_status st = STORE_OK;

	for (size_t i = 0; i < n && st == STORE_OK; i++) {
		struct work *w = &v[i];
		const char *box;
		const char **add = NULL;
		size_t ng = 0;

		if (!w->act || w->executed)
			continue;
		if (!groupable(w, &box, &add)) {
			w->st = st = plan_execute(s, folder, &w->plan, &w->msg,
			    w->msgid, w->decision_id, w->have_pending ?
			    &w->pending : NULL, &w->dest, &w->dest_uid);
			w->executed = 1;
			if (st != STORE_CONN_LOST && st != STORE_FATAL)
				st = STORE_OK;
			continue;
		}
		/* Everything later in the batch that goes the same way. */
		for (size_t k = i; k < n; k++) {
			const char *box2;
			const char **add2 = NULL;

			if (v[k].act && !v[k].executed &&
			    groupable(&v[k], &box2, &add2) &&
			    (box == NULL ? box2 == NULL : box2 != NULL &&
			    strcmp(box, box2) == 0) &&
			    same_flags((const char *const *)add,
			    (const char *const *)add2))
				g[ng++] = &v[k];
			free(add2);
		}
		if (box == NULL && add == NULL) {
			/* Kept as it is: nothing to do. */
			for (size_t k = 0; k < ng; k++) {
				g[k]->st = STORE_OK;
				g[k]->executed = 1;
			}
		} else {
			st = execute_group(s, folder, g, ng, box,
			    (const char *const *)add);
			if (st != STORE_CONN_LOST && st != STORE_FATAL)
				st = STORE_OK;
		}
		free(add);
	}
	free(g);
	return st;
}

/* Records the outcome of an executed plan; -1 if the ledger cannot be
 * written. */
static int
record_outcome(struct sorter *s, const char *folder, struct work *w,
    struct sort_stats *stats)
{
	if (w->st != STORE_OK) {
		stats->failed++;
		return record_failure(s, folder, w->uid, w->decision_id,
		    w->have_pending ? w->pending.attempts : 1, w->st,
		    w->plan.text, store_last_error(s->store));
	}
	if (ledger_decision_finish(s->ledger, w->decision_id, DECISION_DONE,
	    w->dest, w->dest_uid, NULL) < 0 ||
	    record_duplicates(s, &w->plan) < 0)
		return -1;
	if (plan_files_into(&w->plan, s->junk)) {
		int64_t id;

		if (ledger_message_add(s->ledger, w->hash, w->msgid, &id) < 0 ||
		    ledger_message_set_junk_by_us(s->ledger, id, s->junk) < 0)
			return -1;
	}
	if (w->dest != NULL)
		stats->moved++;
	else
		stats->kept++;
	log_info("%s uid %u: %s (score %.4f, %s; %s)", folder, w->uid,
	    w->plan.text, w->score, w->score < 0 ? "not scored" :
	    verdict_name(w->verdict), w->plan.rule);
	return 0;
}

/* Fetches the messages of v[0..*n_r-1] (uids ascending), together where
 * it can: a message whose fetch broke the connection before is fetched
 * alone (fetch_message counts it), the others in one fetch_some, whose
 * failure counts for each of them.  *n_r becomes how many were fetched
 * (or found gone). */
static enum store_status
prefetch(struct sorter *s, const char *folder, uint32_t uidvalidity,
    struct work *v, size_t *n_r, struct sort_stats *stats)
{
	size_t n = *n_r, k, done = 0;
	uint32_t *uids;
	struct store_msg *msgs;
	int *trunc, tries, given_up;
	enum store_status st;

	for (k = 0; k < n; k++) {
		if (ledger_unreadable_get(s->ledger, folder, uidvalidity,
		    v[k].uid, &tries) < 0)
			goto ledger_failed;
		if (tries > 0)
			break;
	}
	if (k == 0) {
		/* Alone, counted, perhaps given up. */
		*n_r = 1;
		st = fetch_message(s, folder, uidvalidity, v[0].uid,
		    &v[0].msg, &v[0].truncated, &given_up);
		if (st == STORE_MSG_GONE) {
			if (given_up)
				stats->failed++;
			else
				log_info("%s uid %u: gone before it could be "
				    "read", folder, v[0].uid);
			st = STORE_OK;
		}
		return st;
	}
	uids = xcalloc(k, sizeof(*uids));
	msgs = xcalloc(k, sizeof(*msgs));
	trunc = xcalloc(k, sizeof(*trunc));
	for (size_t i = 0; i < k; i++)
		uids[i] = v[i].uid;
	st = s->store->ops->fetch_some(s->store, uids, k, s->max_message_bytes,
	    BATCH_BYTES, msgs, trunc, &done);
	if (st == STORE_CONN_LOST && s->dry_run == NULL) {
		/* Which one broke it is not known: each is fetched alone
		 * next time. */
		char *why = xstrdup(store_last_error(s->store));

		for (size_t i = 0; i < k; i++)
			if (ledger_unreadable_note(s->ledger, folder,
			    uidvalidity, uids[i], why) < 0) {
				free(why);
				st = STORE_FATAL;
				break;
			}
		free(why);
	}
	for (size_t i = 0; i < done; i++) {
		v[i].msg = msgs[i];
		v[i].truncated = trunc[i];
		if (msgs[i].data == NULL)
			log_info("%s uid %u: gone before it could be read",
			    folder, uids[i]);
	}
	free(uids);
	free(msgs);
	free(trunc);
	*n_r = done;
	if (st == STORE_FATAL)
		goto ledger_failed;
	return st;
ledger_failed:
	log_error("cannot write the ledger: %s", ledger_error(s->ledger));
	return STORE_FATAL;
}

/* 1 if deciding v[i] needs the outcome of an earlier message of the
 * batch first: the same message again (known by then: never handled
 * twice), or after a plan with Sieve duplicate IDs (recorded with the
 * outcome). */
static int
depends_on_batch(const struct work *v, size_t i)
{
	for (size_t k = 0; k < i; k++) {
		if (!v[k].act)
			continue;
		if (v[k].plan.ndups > 0 || strcmp(v[k].hash, v[i].hash) == 0)
			return 1;
	}
	return 0;
}

/* Sorts a batch: the first messages of t[0..n-1] (uids ascending), as
 * many as are fetched together.  Advances the folder's mark (*mark_r)
 * and backlog past every message finished, in uid order, in the
 * transaction of the outcomes.  *done_r receives how many were
 * finished; fewer than fetched only when sorting stops (the status). */
static enum store_status
sort_batch(struct sorter *s, const char *folder, uint32_t uidvalidity,
    const struct todo *t, size_t n, struct ledger_backlog *backlog,
    uint32_t *mark_r, struct sort_stats *stats, size_t *done_r)
{
	struct work *v = xcalloc(n, sizeof(*v));
	enum store_status st, run_st = STORE_OK;
	uint32_t mark = *mark_r;
	size_t fetched = n, finished = 0;
	int backlog_changed = 0;

	*done_r = 0;
	for (size_t i = 0; i < n; i++)
		v[i].uid = t[i].uid;
	if ((st = prefetch(s, folder, uidvalidity, v, &fetched, stats)) !=
	    STORE_OK)
		goto out;
	for (size_t i = 0; i < fetched; i++) {
		if (v[i].msg.data != NULL) {
			message_hash(v[i].msg.data, v[i].msg.len, v[i].hash);
			if (depends_on_batch(v, i)) {
				fetched = i;	/* the next batch starts here */
				break;
			}
		}
		stats->seen++;
		if (v[i].msg.data == NULL)
			continue;	/* gone, or given up */
		if ((st = decide(s, folder, uidvalidity, &v[i], stats)) !=
		    STORE_OK)
			goto out;	/* redone next time from the mark */
	}
	if (s->dry_run != NULL) {
		*done_r = fetched;
		goto out;
	}
	if (record_intents(s, folder, uidvalidity, v, fetched) < 0) {
		log_error("cannot write the ledger: %s",
		    ledger_error(s->ledger));
		st = STORE_FATAL;
		goto out;
	}
	run_st = execute(s, folder, v, fetched);
	/* The outcomes, and the mark up to the first message not finished
	 * (its decision stays pending: resumed from there). */
	if (ledger_begin(s->ledger) < 0)
		goto ledger_failed;
	for (finished = 0; finished < fetched; finished++) {
		struct work *w = &v[finished];

		if (w->act && (!w->executed || w->st == STORE_CONN_LOST ||
		    w->st == STORE_FATAL))
			break;
		if (w->act && record_outcome(s, folder, w, stats) < 0)
			goto ledger_rollback;
		if (t[finished].from_backlog && !w->counted_known &&
		    backlog->left > 0) {
			backlog->left--;
			backlog_changed = 1;
		}
		if (t[finished].above)
			mark = w->uid;
	}
	if ((mark != *mark_r && ledger_folder_set(s->ledger, folder,
	    uidvalidity, mark) < 0) || (backlog_changed &&
	    ledger_backlog_set(s->ledger, folder, backlog) < 0) ||
	    ledger_commit(s->ledger) < 0)
		goto ledger_rollback;
	*mark_r = mark;
	*done_r = finished;
	st = run_st;
	goto out;
ledger_rollback:
	ledger_rollback(s->ledger);
ledger_failed:
	log_error("cannot write the ledger: %s", ledger_error(s->ledger));
	st = STORE_FATAL;
out:
	for (size_t i = 0; i < n; i++)
		work_release(&v[i]);
	free(v);
	return st;
}

/* Pending decisions whose message left the folder were completed by their
 * final MOVE before a crash or disconnect: record them as done. */
static enum store_status
settle_vanished(struct sorter *s, const char *folder, uint32_t uidvalidity,
    const uint32_t *uids, size_t n)
{
	struct ledger_decision *v = NULL;
	size_t nv = 0;

	if (ledger_decisions_pending_in(s->ledger, folder, &v, &nv) < 0)
		return STORE_FATAL;
	for (size_t i = 0; i < nv; i++) {
		int present = 0;
		if (v[i].uidvalidity == uidvalidity)
			for (size_t k = 0; k < n && !present; k++)
				present = uids[k] == v[i].uid;
		if (present)
			continue;	/* resumed by sort_batch */
		log_notice("%s uid %u: interrupted decision had completed "
		    "(%s)", folder, v[i].uid, v[i].actions);
		if (ledger_decision_finish(s->ledger, v[i].id, DECISION_DONE,
		    NULL, 0, "completed before an interruption") < 0) {
			ledger_decisions_free(v, nv);
			return STORE_FATAL;
		}
	}
	ledger_decisions_free(v, nv);
	return STORE_OK;
}

/* Which messages up to the folder's backlog mark a pass sorts. */
struct selection {
	struct ledger_backlog backlog;
	uint32_t *first;	/* the first look's choice, ascending */
	size_t nfirst;
	uint32_t *extra;	/* a backlog pass's choice, ascending */
	size_t nextra;
};

static int
cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
uid_in(const uint32_t *v, size_t n, uint32_t uid)
{
	return n > 0 && bsearch(&uid, v, n, sizeof(*v), cmp_uid) != NULL;
}

/* The first look at folder: what the owner has not read and what came
 * recently is sorted, the rest (up to the last of uids[0..n-1], all the
 * folder holds) is left as found and recorded as the folder's backlog,
 * with a fresh UID mark, before anything is sorted. */
static enum store_status
first_look(struct sorter *s, const char *folder, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, struct selection *sel)
{
	struct store_query q = { .min_uid = 1, .unseen = 1,
	    .since = s->first_run_since };
	struct ledger_backlog *b = &sel->backlog;
	enum store_status st;
	char day[32];

	memset(b, 0, sizeof(*b));
	if (s->first_run_since != 0 && n > 0) {
		b->uid_max = q.max_uid = uids[n - 1];
		b->since = s->first_run_since;
		st = s->store->ops->search(s->store, &q, &sel->first,
		    &sel->nfirst);
		if (st != STORE_OK)
			return st;
		b->left = (uint32_t)(n - sel->nfirst);
	}
	if (b->left > 0 && s->dry_run == NULL) {
		strftime(day, sizeof(day), "%Y-%m-%d",
		    localtime(&s->first_run_since));
		log_notice("%s: first look: %zu unread message(s) that arrived "
		    "since %s are sorted; %u read or older one(s) are left as "
		    "you had them ('mailsift run --once --backlog' sorts "
		    "them)", folder, sel->nfirst, day, b->left);
	}
	if (s->dry_run != NULL)
		return STORE_OK;
	if (ledger_begin(s->ledger) < 0)
		return STORE_FATAL;
	if (ledger_folder_set(s->ledger, folder, uidvalidity, 0) < 0 ||
	    ledger_backlog_set(s->ledger, folder, b) < 0 ||
	    ledger_commit(s->ledger) < 0) {
		ledger_rollback(s->ledger);
		return STORE_FATAL;
	}
	return STORE_OK;
}

/* Reads what a pass above last_uid sorts of the backlog range: what an
 * interrupted first look chose, and in a backlog pass the backlog. */
static enum store_status
choose(struct sorter *s, uint32_t last_uid, int fresh, struct selection *sel)
{
	const struct ledger_backlog *b = &sel->backlog;
	struct store_query q = { 0 };
	enum store_status st;

	if (b->uid_max == 0)
		return STORE_OK;
	if (!fresh && last_uid < b->uid_max) {
		q = (struct store_query){ .min_uid = last_uid + 1,
		    .max_uid = b->uid_max, .unseen = 1, .since = b->since };
		st = s->store->ops->search(s->store, &q, &sel->first,
		    &sel->nfirst);
		if (st != STORE_OK)
			return st;
	}
	if (!s->backlog)
		return STORE_OK;
	q = (struct store_query){ .min_uid = 1, .max_uid = b->uid_max,
	    .since = s->backlog_since };
	return s->store->ops->search(s->store, &q, &sel->extra, &sel->nextra);
}

/* The dry run's account of a folder. */
static void
preview_summary(struct sorter *s, const char *folder,
    const struct sort_stats *before, const struct sort_stats *after,
    const struct selection *sel)
{
	fprintf(s->dry_run, "%s: would move %u, keep %u; %u already handled",
	    folder, after->moved - before->moved, after->kept - before->kept,
	    after->known - before->known);
	if (sel->backlog.left > 0 && !s->backlog)
		fprintf(s->dry_run, "; %u left as found (--backlog sorts "
		    "them)", sel->backlog.left);
	fprintf(s->dry_run, "\n");
}

/* Tries again the failed decisions of folder whose time has come: each
 * is reopened and resumed as an interrupted one, if its message is still
 * there. */
static enum store_status
retry_due(struct sorter *s, const char *folder, uint32_t uidvalidity,
    struct sort_stats *stats)
{
	struct ledger_decision *v = NULL;
	size_t n = 0;
	enum store_status st = STORE_OK;

	if (ledger_decisions_due(s->ledger, folder, uidvalidity, time(NULL),
	    &v, &n) < 0)
		return STORE_FATAL;
	for (size_t i = 0; i < n && st == STORE_OK; i++) {
		struct store_msg probe = { 0 };
		int truncated;

		if (s->stop != NULL && *s->stop)
			break;
		st = s->store->ops->fetch(s->store, v[i].uid, 1, &probe,
		    &truncated);
		store_msg_release(&probe);
		if (st == STORE_MSG_GONE) {
			log_info("%s uid %u: left the folder before it could "
			    "be tried again", folder, v[i].uid);
			st = ledger_decision_finish(s->ledger, v[i].id,
			    DECISION_FAILED, NULL, 0, "the message left the "
			    "folder before it could be tried again") < 0 ?
			    STORE_FATAL : STORE_OK;
			continue;
		}
		if (st != STORE_OK)
			break;
		if (ledger_decision_reopen(s->ledger, v[i].id) < 0) {
			st = STORE_FATAL;
			break;
		}
		log_notice("%s uid %u: trying again (attempt %d of %d): %s",
		    folder, v[i].uid, v[i].attempts + 1, SORT_MAX_ATTEMPTS,
		    v[i].actions);
		{
			struct todo one = { .uid = v[i].uid };
			struct ledger_backlog none = { 0 };
			uint32_t mark = 0;
			size_t done;

			st = sort_batch(s, folder, uidvalidity, &one, 1, &none,
			    &mark, stats, &done);
		}
	}
	if (st == STORE_FATAL)
		log_error("cannot write the ledger: %s",
		    ledger_error(s->ledger));
	ledger_decisions_free(v, n);
	return st;
}

enum store_status
sort_folder(struct sorter *s, const char *folder, struct sort_stats *stats)
{
	uint32_t uidvalidity, uidnext, known_validity = 0, last_uid = 0;
	uint32_t *uids = NULL;
	struct selection sel = { 0 };
	struct sort_stats before = *stats;
	struct todo *todo = NULL;
	size_t n = 0, ntodo = 0;
	enum store_status st;
	int known, fresh;

	st = s->dry_run != NULL ?
	    s->store->ops->examine(s->store, folder, &uidvalidity, &uidnext) :
	    s->store->ops->select(s->store, folder, &uidvalidity, &uidnext);
	if (st != STORE_OK)
		return st;
	known = ledger_folder_get(s->ledger, folder, &known_validity,
	    &last_uid);
	if (known < 0)
		goto ledger_failed;
	fresh = !known || known_validity != uidvalidity;
	if (known && known_validity != uidvalidity) {
		/* The server renumbered the folder: look at it afresh; the
		 * ledger's content hashes stop double handling. */
		log_notice("%s: UIDVALIDITY changed (%u -> %u), re-scanning",
		    folder, known_validity, uidvalidity);
	}
	if (fresh)
		last_uid = 0;
	else if (ledger_backlog_get(s->ledger, folder, &sel.backlog) < 0)
		goto ledger_failed;
	if (s->dry_run != NULL)
		fprintf(s->dry_run, "%s:\n", folder);
	st = s->store->ops->list_uids(s->store, s->backlog &&
	    sel.backlog.uid_max > 0 ? 1 : last_uid + 1, &uids, &n);
	if (st != STORE_OK)
		goto out;
	if (fresh && (st = first_look(s, folder, uidvalidity, uids, n,
	    &sel)) != STORE_OK) {
		if (st == STORE_FATAL)
			goto ledger_failed;
		goto out;
	}
	if ((st = choose(s, last_uid, fresh, &sel)) != STORE_OK)
		goto out;
	if (s->dry_run == NULL && (st = settle_vanished(s, folder, uidvalidity,
	    uids, n)) != STORE_OK)
		goto ledger_failed;
	todo = xcalloc(n > 0 ? n : 1, sizeof(*todo));
	for (size_t i = 0; i < n; i++) {
		uint32_t uid = uids[i];
		int above = uid > last_uid, from_backlog = 0;

		if (uid <= sel.backlog.uid_max) {
			int first = above && uid_in(sel.first, sel.nfirst, uid);

			from_backlog = !first &&
			    uid_in(sel.extra, sel.nextra, uid);
			if (!first && !from_backlog)
				continue;	/* left as found */
		} else if (!above) {
			continue;
		}
		todo[ntodo++] = (struct todo){ uid, above, from_backlog };
	}
	for (size_t i = 0; i < ntodo; ) {
		size_t done;

		if (s->stop != NULL && *s->stop)
			goto out;	/* the mark says where to go on */
		if (s->progress != NULL)
			s->progress(folder, i, ntodo);
		st = sort_batch(s, folder, uidvalidity, &todo[i],
		    ntodo - i < BATCH_MAX ? ntodo - i : BATCH_MAX,
		    &sel.backlog, &last_uid, stats, &done);
		if (st != STORE_OK)
			goto out;
		i += done;
	}
	st = STORE_OK;
	if (s->dry_run != NULL) {
		preview_summary(s, folder, &before, stats, &sel);
		goto out;
	}
	if ((st = retry_due(s, folder, uidvalidity, stats)) != STORE_OK)
		goto out;
	/* Every UID below UIDNEXT was listed after the SELECT or is gone:
	 * the mark may move past the gaps, so a waiter can tell news by
	 * comparing UIDNEXT with it. */
	if (uidnext > 0 && uidnext - 1 > last_uid &&
	    ledger_folder_set(s->ledger, folder, uidvalidity, uidnext - 1) < 0)
		goto ledger_failed;
	if (s->backlog && s->backlog_since == 0 && sel.backlog.uid_max > 0) {
		/* All of it was looked at: nothing is left as found. */
		memset(&sel.backlog, 0, sizeof(sel.backlog));
		if (ledger_backlog_set(s->ledger, folder, &sel.backlog) < 0)
			goto ledger_failed;
	}
	goto out;
ledger_failed:
	log_error("cannot write the ledger: %s", ledger_error(s->ledger));
	st = STORE_FATAL;
out:
	if (s->progress != NULL && ntodo > 0)
		s->progress(folder, ntodo, ntodo);
	free(todo);
	free(uids);
	free(sel.first);
	free(sel.extra);
	return st;
}
