/*
 * store_mem.h - an in-memory mail store with fault injection, for unit
 * tests of the sorting engine (see store.h).  Never used by the daemon.
 *
 * It acts as a well-behaved IMAP server behind one connection: a new store
 * is not connected (call connect() first, as over IMAP); a STORE_CONN_LOST
 * failure drops the connection and the selection, and every operation but
 * connect() then fails with STORE_CONN_LOST until connect() succeeds.
 * Mailbox names are case-sensitive except INBOX.  MOVE and UIDPLUS are on
 * by default; copy/move report the new UID only with UIDPLUS (COPYUID).
 * wait() never sleeps: STORE_WAIT_SELECTED if the selected mailbox received
 * messages, or lost some to store_mem_client_move(), since the last
 * list_uids, list_flags, wait or idle on it; STORE_WAIT_NOTIFIED if the
 * notify() mailbox did since that was last reported; else 0 at once.
 * NOTIFY is on by default.  idle_begin() returns an eventfd that
 * store_mem_append() and store_mem_client_move() make readable when they
 * change the selected mailbox.  find_message_id() matches as
 * IMAP SEARCH HEADER does: a case-insensitive substring of the field.
 * fetch_some, set_flags_some and move_some work one message after the
 * other, each counting as a "fetch", "set_flags" or "move" for
 * store_mem_fail(), so a fault can cut a batch in the middle.
 * Once the descriptor given to set_cancel() is readable, every operation
 * fails with STORE_CONN_LOST, dropping the connection.
 * The store_mem_* helpers below play the server or another client: they
 * need no connection and never count as operations for store_mem_fail().
 */
#ifndef MAILSIFT_STORE_MEM_H
#define MAILSIFT_STORE_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent/store.h"

struct store *store_mem_new(void);

/* Adds a message to box (created if needed); returns its new UID. */
uint32_t store_mem_append(struct store *s, const char *box,
    const char *data, size_t len, const char *const *flags);

/* Sets the arrival time (INTERNALDATE) of a message: store_mem_append()
 * dates it now, copies and moves keep it, search() looks at it. */
void store_mem_set_date(struct store *s, const char *box, uint32_t uid,
    time_t date);

/* Number of messages in box. */
size_t store_mem_count(struct store *s, const char *box);
/* The message with uid in box, or NULL; borrowed. */
const struct store_msg *store_mem_get(struct store *s, const char *box,
    uint32_t uid);
/* The idx-th message of box in UID order, or NULL; borrowed. */
const struct store_msg *store_mem_at(struct store *s, const char *box,
    size_t idx);
/* Moves a message between boxes as another client would. */
uint32_t store_mem_client_move(struct store *s, const char *from,
    uint32_t uid, const char *to);
/* Sets a new UIDVALIDITY on box and renumbers its messages from 1. */
void store_mem_reset_uidvalidity(struct store *s, const char *box);
/* Marks box (created if needed) as the one carrying a special-use
 * attribute, taking it from any other box. */
void store_mem_set_special(struct store *s, const char *box,
    enum store_special use);
/* Disables the MOVE capability (COPY+EXPUNGE fallback); with uidplus=0
 * the original is left flagged \Deleted. */
void store_mem_set_caps(struct store *s, int has_move, int has_uidplus);

/* Turns the NOTIFY capability on or off (notify() then says it is off). */
void store_mem_set_notify(struct store *s, int has_notify);

/* Fault injection: the nth operation from now (1 = the next one) whose
 * name is op ("connect", "select", "examine", "box_info", "list_uids",
 * "search", "fetch", "list_flags", "set_flags", "copy", "move",
 * "find_message_id", "list_boxes", "find_special", "wait", "notify",
 * "idle_begin", "idle_end", or "*" for any) fails with status (not
 * STORE_OK), its reason in store_last_error().  Only operations that
 * reach the server count: not those refused for want of a connection.
 * For "move", "copy" and "set_flags", after_effect=1 performs the
 * operation before failing (the connection dropped after the server did
 * it).  Several faults may be pending; each fires once. */
void store_mem_fail(struct store *s, const char *op, int nth,
    enum store_status status, int after_effect);

/* Every fetch of uid in box drops the connection, as a server that
 * crashes on one broken message does. */
void store_mem_poison(struct store *s, const char *box, uint32_t uid);

#endif
