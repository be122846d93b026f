/*
 * store_mem.h - an in-memory mail store with fault injection, for unit
 * tests of the sorting engine (see store.h).  Never used by the daemon.
 */
#ifndef MAILSIFT_STORE_MEM_H
#define MAILSIFT_STORE_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "agent/store.h"

struct store *store_mem_new(void);

/* Adds a message to box (created if needed); returns its new UID. */
uint32_t store_mem_append(struct store *s, const char *box,
    const char *data, size_t len, const char *const *flags);

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
/* Sets a new UIDVALIDITY on box and renumbers its messages. */
void store_mem_reset_uidvalidity(struct store *s, const char *box);
/* Marks box as carrying a special-use attribute. */
void store_mem_set_special(struct store *s, const char *box,
    enum store_special use);
/* Disables the MOVE capability (COPY+EXPUNGE fallback); with uidplus=0
 * the original is left flagged \Deleted. */
void store_mem_set_caps(struct store *s, int has_move, int has_uidplus);

/* Fault injection: the nth operation from now (1 = the next one) whose
 * name is op ("move", "copy", "fetch", "set_flags", "select", ... or "*")
 * fails with status.  For "move", after_effect=1 performs the move before
 * failing (the connection dropped after the server did it). */
void store_mem_fail(struct store *s, const char *op, int nth,
    enum store_status status, int after_effect);

#endif
