/*
 * learn.h - learning from the owner's corrections: what the owner does in
 * any mail client (dragging mail out of Junk or into it, setting $Junk or
 * $NotJunk) becomes training of the classifier, exactly once.
 *
 * Opinions:
 *   - a message seen again in a watched folder (not Junk, not Trash) that
 *     was last in Junk (filed there by mailsift, or by the owner) is ham:
 *     a rescue.  It is marked rescued in the ledger, so sort.c never files
 *     it into Junk again, and it gets $NotJunk instead of $Junk;
 *   - a message that appears in Junk and was not filed there by mailsift
 *     is spam (it gets $Junk, loses $NotJunk);
 *   - $Junk or Junk set on a message is spam, $NotJunk, NotJunk or NonJunk
 *     is ham; both at once is no opinion (IANA keyword registry);
 *   - Trash is never an opinion.
 * Each message's training lives in the ledger (messages.trained: "",
 * "spam", "ham").  An opinion changes the model only when it differs from
 * that state: the old training is undone and the new one done, with the
 * ledger row written in the same ledger transaction (a model change whose
 * ledger write fails is undone).  So restarts, re-syncs and UIDVALIDITY
 * changes never train twice, and flip-flops leave the model as if only the
 * last opinion had been given.  Every change is a row of the ledger's
 * corrections table.  Messages are matched across folders by content hash
 * (message_hash) and recorded with their Message-ID, never by UID.
 *
 * All functions leave the store with some folder selected; callers that
 * need a particular folder select it again.  They log what they change
 * (box, uid, Message-ID, old and new training) and return the store
 * status; ledger failures are logged and returned as STORE_FATAL.
 */
#ifndef MAILSIFT_LEARN_H
#define MAILSIFT_LEARN_H

#include <stddef.h>

#include "agent/filter.h"
#include "agent/store.h"
#include "state/ledger.h"

/* The reason a rescue's correction gives (struct ledger_correction). */
#define LEARN_RESCUE_REASON	"moved out of Junk by the owner"

struct learner {
	struct store *store;		/* borrowed; connected */
	struct ledger *ledger;		/* borrowed */
	struct filter *filter;		/* borrowed */
	const char *junk;		/* resolved Junk folder name */
	const char *trash;		/* resolved Trash folder name */
	size_t max_message_bytes;	/* the sorter's fetch cap (0: none):
					 * content hashes must match sort.c's */
	unsigned corrections;		/* out: opinions that changed the model
					 * so far (the caller may reset it) */
	/* Kept between scans: Junk as the last learn_scan_junk saw it, and
	 * how many sweeps of the other mailboxes (learn_scan_elsewhere) are
	 * due because something left Junk. */
	uint32_t junk_uidnext;
	uint32_t junk_exists;
	int junk_seen;
	int sweeps_due;
};

/* For sort.c: msg (fetched from folder, which is selected) is known to
 * the ledger as *known and has no pending decision.  If it was last seen
 * in Junk and folder is neither Junk nor Trash, the owner rescued it:
 * train ham (untraining spam), mark it rescued, record the correction,
 * set $NotJunk and remove $Junk/Junk on it.  *handled_r = 1 when sort.c
 * must leave the message alone (decided before, or placed here by the
 * owner), 0 when it should sort it as a new message.  A failure of the
 * classifier is logged and the message left alone (*handled_r = 1). */
enum store_status learn_seen_again(struct learner *l, const char *folder,
    const struct store_msg *msg, const struct ledger_message *known,
    int *handled_r);

/* Looks at the messages of the Junk folder above the learner's own mark
 * (ledger folder "learn:" + junk, with UIDVALIDITY: a change re-scans,
 * without training twice).  Each one mailsift did not file there is the
 * owner's opinion: spam.  The first scan of an existing Junk folder only
 * sets the mark (what was there before is 'mailsift train --from-folders'
 * business); a Junk folder that appears later is scanned from its start.
 * A missing Junk folder is not an error. */
enum store_status learn_scan_junk(struct learner *l);

/* When a message may have left Junk since the learner's last sweep (see
 * learn_scan_junk, which must run first) or at the first look: looks at
 * what arrived, since the last look, in every other mailbox
 * (not Junk, not Trash, not one of the watched[0..nwatched-1] folders,
 * which sort_folder sees): a message last seen in Junk that shows up
 * there is the owner's rescue, as in learn_seen_again.  The header of
 * each new message is fetched to read its Message-ID; the whole message
 * only when the ledger knows that Message-ID from Junk.  Marks are kept
 * per mailbox (ledger folder "learn:" + name).  At the learner's first
 * look, and after a renumbering, a mailbox is looked at from its next UID
 * on; one that appears later from its start, if it is small (the owner's
 * drag may have made it). */
enum store_status learn_scan_elsewhere(struct learner *l,
    const char *const *watched, size_t nwatched);

/* Looks at the keywords of every message of folder (a watched folder or
 * Junk; Trash is ignored) up to the folder's mark (sort.c's for watched
 * folders, the learner's for Junk: newer messages are theirs to see
 * first).  A keyword opinion that changed since the last look at that
 * message (kept per folder, UIDVALIDITY and UID in the ledger) trains it,
 * unless it is mailsift's own $Junk on what it filed into Junk.  Without
 * CONDSTORE it costs one FETCH FLAGS of the whole folder per call; with
 * it (the ledger keeps where the last look was), nothing when the
 * folder's HIGHESTMODSEQ and the mark did not move, else the flags of
 * the messages that joined the range and of those changed since.  A
 * message is fetched only when its opinion changed. */
enum store_status learn_scan_keywords(struct learner *l, const char *folder);

/* What learn_bootstrap did. */
struct learn_summary {
	size_t spam;		/* messages now trained as spam */
	size_t ham;		/* messages now trained as ham */
	size_t unchanged;	/* already trained so: left as they were */
	size_t skipped;		/* unreadable, empty, or flagged against
				 * their folder ($Junk in a ham folder, ...) */
	size_t unread;		/* unread in a ham folder: left out */
};

/* 'mailsift train --from-folders': trains every message of the Junk
 * folder as spam and every message of ham_folders (nham names, e.g.
 * INBOX) that the owner has read as ham, exactly once (ledger training
 * state: running it again changes nothing, and it continues where an
 * interrupted run stopped, or learns what was read since).  An unread
 * message of a ham folder is not yet the owner's judgement: it is left
 * out (counted in unread) unless unread_too.
 * progress (may be NULL) is called after each message with arg, the
 * folder being read, and the messages done and in total there.  The
 * model is changed in transactions of many messages, after the ledger:
 * a crash can leave up to one transaction's trainings recorded in the
 * ledger but missing from the model, and every run makes sure the model
 * holds each training the ledger records for the messages it reads,
 * so running it again fills them in.  Returns 0, or -1 with a malloc'd
 * *err_r (store, ledger or model failure; what was trained before it
 * stays trained and recorded, or is filled in by the next run). */
int learn_bootstrap(struct learner *l, const char *const *ham_folders,
    size_t nham, int unread_too, void (*progress)(void *arg,
    const char *folder, size_t done, size_t total), void *arg,
    struct learn_summary *sum_r, char **err_r);

#endif
