/*
 * store.h - THE seam between the sorting engine and a mail store.
 *
 * The engine (sort.c, daemon.c, learn.c) never sees IMAP: it talks to a
 * struct store through these operations.  store_imap.c implements them over
 * libetpan against a real server; store_mem.c keeps mailboxes in memory,
 * with fault injection, for unit tests.  The interface is synchronous: one
 * store is one connection with at most one selected mailbox.
 *
 * Every operation returns an enum store_status.  On anything but STORE_OK
 * the store records a human-readable reason, read with store_last_error().
 * Status codes follow the scope of the failure (mbsync):
 *   STORE_MSG_GONE   that message no longer exists: skip it
 *   STORE_BOX_BAD    that mailbox cannot be used (missing, no permission)
 *   STORE_CONN_LOST  the connection is unusable: close, reconnect, resync
 *   STORE_FATAL      retrying cannot help (bad password, bad certificate,
 *                    server lacks something required): stop and tell the user
 */
#ifndef MAILSIFT_STORE_H
#define MAILSIFT_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum store_status {
	STORE_OK = 0,
	STORE_MSG_GONE,
	STORE_BOX_BAD,
	STORE_CONN_LOST,
	STORE_FATAL
};

/* What wait() reports (a mask). */
#define STORE_WAIT_SELECTED	1
#define STORE_WAIT_NOTIFIED	2

/* Special-use attributes a mailbox can carry (RFC 6154). */
enum store_special {
	STORE_SPECIAL_JUNK,
	STORE_SPECIAL_TRASH
};

/* One message as fetched.  All fields owned by the caller after fetch;
 * release with store_msg_release(). */
struct store_msg {
	uint32_t uid;
	char *data;		/* raw RFC 822 bytes, NUL-terminated */
	size_t len;
	char **flags;		/* system flags ("\\Seen") and keywords ("$Junk") */
	size_t nflags;
};

/* Flags and UID of one message, for cheap flag scans (learning). */
struct store_flags {
	uint32_t uid;
	char **flags;		/* owned */
	size_t nflags;
};

/* A mailbox as its SELECT reported it. */
struct store_box_info {
	uint32_t exists;	/* messages in it (EXISTS) */
	uint64_t modseq;	/* HIGHESTMODSEQ (RFC 7162): grows with every
				 * change of the mailbox, flags included; 0
				 * when the server or the mailbox keeps no
				 * mod-sequences (any change is possible) */
};

/* What search() looks for in the selected mailbox. */
struct store_query {
	uint32_t min_uid;	/* UIDs from here (0 counts as 1) */
	uint32_t max_uid;	/* up to here; 0: no upper bound */
	int unseen;		/* only messages without \Seen */
	time_t since;		/* 0, or only messages that arrived on or
				 * after the day of since: IMAP SEARCH SINCE
				 * compares the date of INTERNALDATE, in
				 * the server's time zone, not the time */
};

/* What a connection showed of the server, for people (mailsift init,
 * mailsift status): the capabilities mailsift's behaviour depends on and
 * the certificate it presented. */
struct store_server_info {
	int idle;		/* IDLE (else polling) */
	int move;		/* MOVE (else COPY + EXPUNGE) */
	int uidplus;		/* UIDPLUS (else originals left \Deleted
				 * without MOVE) */
	int condstore;		/* CONDSTORE (keyword scans of changes only) */
	char *certificate;	/* owned: the server's certificate as
				 * "subject: ...\nissuer: ...\nvalid: ...
				 * to ...\nSHA-256: ..."; NULL without TLS */
	int certificate_trusted;	/* it passed verification */
};

struct store;

struct store_ops {
	/* Connects and authenticates.  Idempotent: a connected store returns
	 * STORE_OK at once. */
	enum store_status (*connect)(struct store *s);

	/* Selects box read-write.  *uidvalidity_r and *uidnext_r receive the
	 * mailbox's UIDVALIDITY and UIDNEXT (asked with STATUS where the
	 * SELECT does not say; 0 if the server will not tell at all). */
	enum store_status (*select)(struct store *s, const char *box,
	    uint32_t *uidvalidity_r, uint32_t *uidnext_r);

	/* Opens box read-only (EXAMINE): for looking, without taking the
	 * \Recent flags from other clients (RFC 3501 6.3.2).  Select it
	 * before changing anything in it. */
	enum store_status (*examine)(struct store *s, const char *box,
	    uint32_t *uidvalidity_r, uint32_t *uidnext_r);

	/* What the SELECT (or EXAMINE) of the selected mailbox reported. */
	enum store_status (*box_info)(struct store *s,
	    struct store_box_info *info_r);

	/* UIDs >= min_uid in the selected mailbox, ascending.  The array is
	 * malloc'd and owned by the caller (NULL when empty). */
	enum store_status (*list_uids)(struct store *s, uint32_t min_uid,
	    uint32_t **uids_r, size_t *n_r);

	/* UIDs of the messages of the selected mailbox that match q,
	 * ascending; the array is malloc'd and owned by the caller (NULL when
	 * none).  Changes nothing, so it works on an EXAMINEd mailbox: the
	 * first look at a folder and the backlog (sort.c) ask which messages
	 * the owner has not read yet and when they arrived. */
	enum store_status (*search)(struct store *s,
	    const struct store_query *q, uint32_t **uids_r, size_t *n_r);

	/* Fetches the whole message without setting \Seen (BODY.PEEK[]),
	 * with its flags.  At most max_bytes of the message are returned
	 * (0 = no limit); *truncated_r tells if it was cut.  STORE_MSG_GONE if
	 * the uid does not exist. */
	enum store_status (*fetch)(struct store *s, uint32_t uid,
	    size_t max_bytes, struct store_msg *msg_r, int *truncated_r);

	/* Flags of the messages with uid >= min_uid in the selected mailbox;
	 * with changed_since > 0 only of those whose flags changed after that
	 * mod-sequence (FETCH CHANGEDSINCE, RFC 7162: only where
	 * box_info gave a modseq).  Array owned by the caller; release
	 * with store_flags_free(). */
	enum store_status (*list_flags)(struct store *s, uint32_t min_uid,
	    uint64_t changed_since, struct store_flags **flags_r, size_t *n_r);

	/* Adds and removes flags/keywords (NULL-terminated lists, either may be
	 * NULL) on one message of the selected mailbox. */
	enum store_status (*set_flags)(struct store *s, uint32_t uid,
	    const char *const *add, const char *const *del);

	/* Copies uid from the selected mailbox to box (created if missing).
	 * *new_uid_r is its UID there, or 0 if the server did not say. */
	enum store_status (*copy)(struct store *s, uint32_t uid,
	    const char *box, uint32_t *new_uid_r);

	/* Moves uid from the selected mailbox to box (created if missing):
	 * UID MOVE, else UID COPY + \Deleted + UID EXPUNGE of that uid only.
	 * Without MOVE and UIDPLUS the original stays, flagged \Deleted, and
	 * *left_behind_r is set to 1 (never a plain EXPUNGE).  *new_uid_r as
	 * for copy. */
	enum store_status (*move)(struct store *s, uint32_t uid,
	    const char *box, uint32_t *new_uid_r, int *left_behind_r);

	/* Several messages at once, for a catch-up: one or two round trips
	 * instead of one per message.  uids[0..n-1] are ascending.
	 *
	 * fetch_some fetches, as fetch() does, the first of uids that fit
	 * together in budget bytes, each counted at its size but at most
	 * max_bytes (always at least one): *done_r receives how many.
	 * msgs_r[i] and truncated_r[i] are set for each of those; a uid that
	 * no longer exists gets msgs_r[i].data == NULL.  The caller releases
	 * every msgs_r[i].
	 *
	 * set_flags_some and move_some are set_flags and move for all of
	 * uids; move_some sets new_uids_r[i] to uids[i]'s UID in box (0 if
	 * the server did not say).  A refusal refuses all of them. */
	enum store_status (*fetch_some)(struct store *s, const uint32_t *uids,
	    size_t n, size_t max_bytes, size_t budget,
	    struct store_msg *msgs_r, int *truncated_r, size_t *done_r);
	enum store_status (*set_flags_some)(struct store *s,
	    const uint32_t *uids, size_t n, const char *const *add,
	    const char *const *del);
	enum store_status (*move_some)(struct store *s, const uint32_t *uids,
	    size_t n, const char *box, uint32_t *new_uids_r,
	    int *left_behind_r);

	/* Searches the selected mailbox for messages whose Message-ID header
	 * is message_id; UIDs ascending, array owned by the caller. */
	enum store_status (*find_message_id)(struct store *s,
	    const char *message_id, uint32_t **uids_r, size_t *n_r);

	/* Every mailbox that can be selected (LIST "" "*" without \Noselect
	 * or \NonExistent), names in UTF-8.  Free with store_names_free(). */
	enum store_status (*list_boxes)(struct store *s, char ***names_r,
	    size_t *n_r);

	/* Name of the mailbox carrying a special-use attribute, or NULL in
	 * *name_r if none does.  Name owned by the caller. */
	enum store_status (*find_special)(struct store *s,
	    enum store_special use, char **name_r);

	/* The owner's form of mailbox name box, however it was written:
	 * the form list_boxes and find_special give, to compare names by.
	 * "Lists/dev" and "INBOX.Lists.dev" are both "Lists/dev" on a
	 * server whose personal namespace is "INBOX." with separator "."
	 * (Courier); every op taking a mailbox name accepts both.  Known
	 * once connected.  malloc'd. */
	char *(*owner_name)(struct store *s, const char *box);

	/* Waits for a change in the selected mailbox (IDLE; where the server
	 * lacks IDLE, sleeps for the poll interval) or in the mailbox given
	 * to notify(), for at most timeout_ms or until wake_fd (if >= 0)
	 * becomes readable.  Returns STORE_OK with *changed_r a mask of
	 * STORE_WAIT_SELECTED (the selected mailbox may have changed) and
	 * STORE_WAIT_NOTIFIED (messages may have come to or left the notify()
	 * mailbox since the last time this was reported, or since notify()),
	 * 0 on timeout or wake.  Data already buffered before the wait counts
	 * as a change. */
	enum store_status (*wait)(struct store *s, int timeout_ms,
	    int wake_fd, int *changed_r);

	/* From now on, every operation gives up with STORE_CONN_LOST soon
	 * (well within a second) after fd becomes readable, whatever it is
	 * waiting for: name lookup, connect, TLS handshake, a stalled or
	 * trickling server, a server answering instantly.  For the stop
	 * signal: fd stays readable once it is set.  -1 turns it off. */
	void (*set_cancel)(struct store *s, int fd);

	/* What the last connection attempt showed (with or without a
	 * connection now): the certificate once TLS was set up, also one
	 * that was refused; the capabilities once logged in (all 0 before).
	 * Release with store_server_info_release(). */
	enum store_status (*server_info)(struct store *s,
	    struct store_server_info *info_r);

	/* Asks the server to report, during wait(), messages coming to or
	 * leaving box as well as changes of the selected mailbox, for the
	 * rest of this connection (NOTIFY, RFC 5465).  *on_r = 0, and nothing
	 * else changes, where the server does not offer it: the caller
	 * watches box some other way. */
	enum store_status (*notify)(struct store *s, const char *box,
	    int *on_r);

	/* The two halves of wait() for a caller that waits on several stores
	 * at once (a second connection watching another mailbox beside the
	 * first): idle_begin() starts waiting for a change in the selected
	 * mailbox without blocking.  It sets *fd_r to a descriptor that
	 * becomes readable when the server says something: the caller polls
	 * it and then must call idle_end().  Or, with nothing to end after
	 * it, *changed_r = 1 (a change is already known) or *fd_r = -1 (the
	 * server cannot tell: look again later). */
	enum store_status (*idle_begin)(struct store *s, int *fd_r,
	    int *changed_r);
	/* Ends the wait idle_begin() started (whether its descriptor became
	 * readable or not); *changed_r = 1 if the mailbox may have changed
	 * (a mere keepalive is no change). */
	enum store_status (*idle_end)(struct store *s, int *changed_r);

	/* Logs out (if connected) and frees the store. */
	void (*free)(struct store *s);
};

/* Each implementation embeds this first. */
struct store {
	const struct store_ops *ops;
	char *last_error;	/* owned; set by store_set_error() */
};

/* Human-readable reason of the last failure ("" if none).  Borrowed: valid
 * until the next operation on s. */
const char *store_last_error(const struct store *s);
/* Records the reason of a failure; used by implementations. */
void store_set_error(struct store *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Frees the store and sets *s to NULL. */
void store_free(struct store **s);
void store_msg_release(struct store_msg *msg);
void store_flags_free(struct store_flags *flags, size_t n);
void store_names_free(char **names, size_t n);
void store_server_info_release(struct store_server_info *info);
/* 1 if flags (n entries) contain name, compared ASCII-case-insensitively. */
int store_has_flag(char *const *flags, size_t n, const char *name);
const char *store_status_name(enum store_status st);

#endif
