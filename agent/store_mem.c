/*
 * store_mem.c - the mail store of store.h kept in memory, for unit tests of
 * the sorting engine, with fault injection.
 *
 * It behaves as a well-behaved IMAP server seen through one connection:
 * mailboxes by name (INBOX case-insensitive) with UIDVALIDITY and UIDNEXT,
 * UIDs that only grow, COPYUID only with UIDPLUS, MOVE only with the MOVE
 * capability, and a connection that must be (re)established with connect()
 * after it is lost, losing the selection.  The store_mem_* helpers act as
 * the server itself or as another client, so they never fail and never
 * count as operations for fault injection.  wait() never sleeps: it reports
 * at once whether the selected mailbox received messages (or lost some to
 * another client) since the last list_uids/list_flags/wait on it, and
 * whether the notify() mailbox did since it was last reported, so engine
 * tests stay fast; idle_begin() hands out an eventfd that those helpers
 * make readable when the selected mailbox changes.
 */
#include <assert.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent/message.h"
#include "agent/store_mem.h"
#include "agent/xmem.h"

struct mem_box {
	char *name;
	uint32_t uidvalidity;
	uint32_t uidnext;
	struct store_msg *msgs;		/* in UID order */
	uint64_t *msg_modseq;		/* each one's last change */
	time_t *msg_date;		/* each one's arrival (INTERNALDATE) */
	size_t nmsgs;
	int special[2];			/* by enum store_special */
	uint64_t modseq;		/* grows with every change, as
					 * HIGHESTMODSEQ does */
	unsigned long changes;		/* arrivals, removals by others */
	unsigned long changes_seen;	/* at the last list or wait */
};

struct mem_fault {
	char *op;			/* operation name or "*" */
	int remaining;			/* matching calls until it fires */
	enum store_status status;
	int after_effect;
};

struct store_mem {
	struct store base;
	struct mem_box **boxes;		/* in creation order */
	size_t nboxes;
	struct mem_box *selected;	/* NULL when none */
	struct store_box_info selected_info;	/* as of its SELECT */
	int readonly;			/* it was opened by examine() */
	int connected;
	int has_move, has_uidplus;
	uint32_t next_uidvalidity;
	struct mem_fault *faults;	/* pending, oldest first */
	size_t nfaults;
	struct mem_fault late;		/* fires after this effect */
	int late_pending;
	int cancel_fd;			/* set_cancel(); -1: none */
	int has_notify;
	char *notify_box;		/* given to notify(), or NULL */
	unsigned long notify_seen;	/* its changes when last reported */
	int idle_fd;			/* eventfd of idle_begin(), or -1 */
	int idling;
	char *poison_box;		/* store_mem_poison() */
	uint32_t poison_uid;
};

static struct store_mem *
mem(struct store *s)
{
	return (struct store_mem *)s;
}

static int
box_name_eq(const char *a, const char *b)
{
	/* INBOX is case-insensitive (RFC 3501 5.1), other names are not. */
	if (strcasecmp(a, "INBOX") == 0)
		return strcasecmp(b, "INBOX") == 0;
	return strcmp(a, b) == 0;
}

static struct mem_box *
box_find(struct store_mem *m, const char *name)
{
	for (size_t i = 0; i < m->nboxes; i++)
		if (box_name_eq(m->boxes[i]->name, name))
			return m->boxes[i];
	return NULL;
}

static struct mem_box *
box_get(struct store_mem *m, const char *name)
{
	struct mem_box *b = box_find(m, name);

	if (b != NULL)
		return b;
	b = xcalloc(1, sizeof(*b));
	b->name = xstrdup(name);
	b->uidvalidity = m->next_uidvalidity++;
	b->uidnext = 1;
	b->modseq = 1;
	m->boxes = xreallocarray(m->boxes, m->nboxes + 1, sizeof(*m->boxes));
	m->boxes[m->nboxes++] = b;
	return b;
}

static struct store_msg *
msg_find(struct mem_box *b, uint32_t uid)
{
	for (size_t i = 0; i < b->nmsgs; i++)
		if (b->msgs[i].uid == uid)
			return &b->msgs[i];
	return NULL;
}

static char **
flags_dup(char *const *flags, size_t n)
{
	char **copy;

	if (n == 0)
		return NULL;
	copy = xcalloc(n, sizeof(*copy));
	for (size_t i = 0; i < n; i++)
		copy[i] = xstrdup(flags[i]);
	return copy;
}

static void
flag_add(struct store_msg *msg, const char *flag)
{
	if (store_has_flag(msg->flags, msg->nflags, flag))
		return;
	msg->flags = xreallocarray(msg->flags, msg->nflags + 1,
	    sizeof(*msg->flags));
	msg->flags[msg->nflags++] = xstrdup(flag);
}

static void
flag_del(struct store_msg *msg, const char *flag)
{
	for (size_t i = 0; i < msg->nflags; i++) {
		if (strcasecmp(msg->flags[i], flag) != 0)
			continue;
		free(msg->flags[i]);
		memmove(&msg->flags[i], &msg->flags[i + 1],
		    (msg->nflags - i - 1) * sizeof(*msg->flags));
		msg->nflags--;
		return;
	}
}

/* Appends msg (taken over), which arrived at date, to b with the next
 * UID of b; returns it. */
static uint32_t
box_take(struct mem_box *b, struct store_msg *msg, time_t date)
{
	b->msgs = xreallocarray(b->msgs, b->nmsgs + 1, sizeof(*b->msgs));
	b->msg_modseq = xreallocarray(b->msg_modseq, b->nmsgs + 1,
	    sizeof(*b->msg_modseq));
	b->msg_date = xreallocarray(b->msg_date, b->nmsgs + 1,
	    sizeof(*b->msg_date));
	msg->uid = b->uidnext++;
	b->msg_modseq[b->nmsgs] = ++b->modseq;
	b->msg_date[b->nmsgs] = date;
	b->msgs[b->nmsgs++] = *msg;
	b->changes++;
	return msg->uid;
}

/* Copies msg of box from into b (as COPY does: same bytes, flags and
 * INTERNALDATE, new UID). */
static uint32_t
box_copy_in(struct mem_box *b, const struct mem_box *from,
    const struct store_msg *msg)
{
	struct store_msg copy = { 0 };

	copy.data = xmalloc(msg->len + 1);
	memcpy(copy.data, msg->data, msg->len);
	copy.data[msg->len] = '\0';
	copy.len = msg->len;
	copy.flags = flags_dup(msg->flags, msg->nflags);
	copy.nflags = msg->nflags;
	return box_take(b, &copy, from->msg_date[msg - from->msgs]);
}

/* Removes msg from b, handing its contents to *out and its date to
 * *date_r (or freeing them). */
static void
box_remove(struct mem_box *b, struct store_msg *msg, struct store_msg *out,
    time_t *date_r)
{
	size_t i = (size_t)(msg - b->msgs);

	if (out != NULL) {
		*out = *msg;
		*date_r = b->msg_date[i];
	} else {
		store_msg_release(msg);
	}
	memmove(&b->msgs[i], &b->msgs[i + 1],
	    (b->nmsgs - i - 1) * sizeof(*b->msgs));
	memmove(&b->msg_modseq[i], &b->msg_modseq[i + 1],
	    (b->nmsgs - i - 1) * sizeof(*b->msg_modseq));
	memmove(&b->msg_date[i], &b->msg_date[i + 1],
	    (b->nmsgs - i - 1) * sizeof(*b->msg_date));
	b->nmsgs--;
	b->modseq++;
}

static void
box_free(struct mem_box *b)
{
	for (size_t i = 0; i < b->nmsgs; i++)
		store_msg_release(&b->msgs[i]);
	free(b->msgs);
	free(b->msg_modseq);
	free(b->msg_date);
	free(b->name);
	free(b);
}

/* Fails the current operation as fault f says. */
static enum store_status
fault_fire(struct store_mem *m, const char *op, const struct mem_fault *f)
{
	store_set_error(&m->base, "injected failure of %s: %s", op,
	    store_status_name(f->status));
	if (f->status == STORE_CONN_LOST) {
		m->connected = 0;
		m->selected = NULL;
	}
	return f->status;
}

/* Whether op's effect can happen before its injected failure. */
static int
has_effect(const char *op)
{
	return strcmp(op, "move") == 0 || strcmp(op, "copy") == 0 ||
	    strcmp(op, "set_flags") == 0;
}

/* Ends operation op with status st, unless a fault was waiting for its
 * effect to happen: then that fault's status. */
static enum store_status
op_end(struct store_mem *m, const char *op, enum store_status st)
{
	if (!m->late_pending)
		return st;
	m->late_pending = 0;
	st = fault_fire(m, op, &m->late);
	free(m->late.op);
	m->late.op = NULL;
	return st;
}

/* Starts operation op as the server would: on a connection that must be
 * up, with a mailbox selected if need_box; then counts op against the
 * injected faults.  A fault with after_effect on an operation with an
 * effect is kept for op_end().  Anything but STORE_OK ends the operation. */
static enum store_status
op_begin(struct store_mem *m, const char *op, int need_box)
{
	struct mem_fault f;
	struct pollfd cancel = { m->cancel_fd, POLLIN, 0 };
	size_t i, fire = m->nfaults;

	/* As over IMAP: the stop signal ends the session. */
	if (m->cancel_fd >= 0 && poll(&cancel, 1, 0) > 0) {
		store_set_error(&m->base, "%s: interrupted by the stop signal",
		    op);
		m->connected = 0;
		m->selected = NULL;
		return STORE_CONN_LOST;
	}
	if (!m->connected && strcmp(op, "connect") != 0) {
		store_set_error(&m->base, "%s: not connected", op);
		return STORE_CONN_LOST;
	}
	for (i = 0; i < m->nfaults; i++) {
		if (strcmp(m->faults[i].op, "*") != 0 &&
		    strcmp(m->faults[i].op, op) != 0)
			continue;
		if (--m->faults[i].remaining <= 0 && fire == m->nfaults)
			fire = i;
	}
	if (fire < m->nfaults) {
		f = m->faults[fire];
		memmove(&m->faults[fire], &m->faults[fire + 1],
		    (m->nfaults - fire - 1) * sizeof(*m->faults));
		m->nfaults--;
		if (f.after_effect && has_effect(op)) {
			m->late = f;
			m->late_pending = 1;
		} else {
			enum store_status st = fault_fire(m, op, &f);

			free(f.op);
			return st;
		}
	}
	if (need_box && m->selected == NULL) {
		store_set_error(&m->base, "%s: no mailbox selected", op);
		return op_end(m, op, STORE_BOX_BAD);
	}
	return STORE_OK;
}

static enum store_status
mem_connect(struct store *s)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "connect", 0);

	if (st != STORE_OK)
		return st;
	m->connected = 1;
	return op_end(m, "connect", STORE_OK);
}

/* select() and examine(). */
static enum store_status
mem_open(struct store *s, const char *op, const char *box,
    uint32_t *uidvalidity_r, uint32_t *uidnext_r)
{
	struct store_mem *m = mem(s);
	enum store_status st;
	struct mem_box *b;

	/* A failed SELECT leaves no mailbox selected (RFC 3501 6.3.1). */
	m->selected = NULL;
	st = op_begin(m, op, 0);
	if (st != STORE_OK)
		return st;
	b = box_find(m, box);
	if (b == NULL) {
		store_set_error(s, "%s '%s': no such mailbox", op, box);
		return op_end(m, op, STORE_BOX_BAD);
	}
	m->selected = b;
	m->selected_info.modseq = b->modseq;
	m->selected_info.exists = (uint32_t)b->nmsgs;
	m->readonly = strcmp(op, "examine") == 0;
	*uidvalidity_r = b->uidvalidity;
	*uidnext_r = b->uidnext;
	return op_end(m, op, STORE_OK);
}

static enum store_status
mem_select(struct store *s, const char *box, uint32_t *uidvalidity_r,
    uint32_t *uidnext_r)
{
	return mem_open(s, "select", box, uidvalidity_r, uidnext_r);
}

static enum store_status
mem_examine(struct store *s, const char *box, uint32_t *uidvalidity_r,
    uint32_t *uidnext_r)
{
	return mem_open(s, "examine", box, uidvalidity_r, uidnext_r);
}

/* Writes need a mailbox opened by select(). */
static enum store_status
refuse_readonly(struct store_mem *m, const char *op)
{
	store_set_error(&m->base, "%s in '%s': the mailbox is open "
	    "read-only", op, m->selected->name);
	return op_end(m, op, STORE_BOX_BAD);
}

/* Whether t falls on or after the day of since, by UTC dates (SEARCH SINCE
 * compares dates, not times). */
static int
same_day_or_later(time_t t, time_t since)
{
	return t / 86400 >= since / 86400;
}

/* The UIDs of b's messages that q matches, ascending (NULL when none). */
static void
box_search(const struct mem_box *b, const struct store_query *q,
    uint32_t **uids_r, size_t *n_r)
{
	uint32_t *uids = NULL;
	size_t n = 0;

	for (size_t i = 0; i < b->nmsgs; i++) {
		const struct store_msg *msg = &b->msgs[i];

		if (msg->uid < q->min_uid ||
		    (q->max_uid > 0 && msg->uid > q->max_uid) ||
		    (q->unseen && store_has_flag(msg->flags, msg->nflags,
		    "\\Seen")) ||
		    (q->since > 0 && !same_day_or_later(b->msg_date[i],
		    q->since)))
			continue;
		uids = xreallocarray(uids, n + 1, sizeof(*uids));
		uids[n++] = msg->uid;
	}
	*uids_r = uids;
	*n_r = n;
}

static enum store_status
mem_list_uids(struct store *s, uint32_t min_uid, uint32_t **uids_r,
    size_t *n_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "list_uids", 1);
	struct store_query q = { .min_uid = min_uid };

	*uids_r = NULL;
	*n_r = 0;
	if (st != STORE_OK)
		return st;
	box_search(m->selected, &q, uids_r, n_r);
	m->selected->changes_seen = m->selected->changes;
	return op_end(m, "list_uids", STORE_OK);
}

static enum store_status
mem_search(struct store *s, const struct store_query *q, uint32_t **uids_r,
    size_t *n_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "search", 1);

	*uids_r = NULL;
	*n_r = 0;
	if (st != STORE_OK)
		return st;
	box_search(m->selected, q, uids_r, n_r);
	return op_end(m, "search", STORE_OK);
}

static enum store_status
mem_fetch(struct store *s, uint32_t uid, size_t max_bytes,
    struct store_msg *msg_r, int *truncated_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "fetch", 1);
	const struct store_msg *msg;
	size_t len;

	memset(msg_r, 0, sizeof(*msg_r));
	*truncated_r = 0;
	if (st != STORE_OK)
		return st;
	msg = msg_find(m->selected, uid);
	if (msg == NULL) {
		store_set_error(s, "fetch uid %u in '%s': no such message",
		    uid, m->selected->name);
		return op_end(m, "fetch", STORE_MSG_GONE);
	}
	if (m->poison_box != NULL && uid == m->poison_uid &&
	    box_name_eq(m->poison_box, m->selected->name)) {
		store_set_error(s, "fetch uid %u in '%s': the server died",
		    uid, m->selected->name);
		m->connected = 0;
		m->selected = NULL;
		return STORE_CONN_LOST;
	}
	len = max_bytes > 0 && msg->len > max_bytes ? max_bytes : msg->len;
	msg_r->uid = uid;
	msg_r->data = xmalloc(len + 1);
	memcpy(msg_r->data, msg->data, len);
	msg_r->data[len] = '\0';
	msg_r->len = len;
	msg_r->flags = flags_dup(msg->flags, msg->nflags);
	msg_r->nflags = msg->nflags;
	*truncated_r = len < msg->len;
	return op_end(m, "fetch", STORE_OK);
}

static enum store_status
mem_list_flags(struct store *s, uint32_t min_uid, uint64_t changed_since,
    struct store_flags **flags_r, size_t *n_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "list_flags", 1);
	struct mem_box *b = m->selected;
	struct store_flags *out = NULL;
	size_t n = 0;

	*flags_r = NULL;
	*n_r = 0;
	if (st != STORE_OK)
		return st;
	for (size_t i = 0; i < b->nmsgs; i++) {
		if (b->msgs[i].uid < min_uid ||
		    b->msg_modseq[i] <= changed_since)
			continue;
		out = xreallocarray(out, n + 1, sizeof(*out));
		out[n].uid = b->msgs[i].uid;
		out[n].flags = flags_dup(b->msgs[i].flags, b->msgs[i].nflags);
		out[n].nflags = b->msgs[i].nflags;
		n++;
	}
	b->changes_seen = b->changes;
	*flags_r = out;
	*n_r = n;
	return op_end(m, "list_flags", STORE_OK);
}

static enum store_status
mem_set_flags(struct store *s, uint32_t uid, const char *const *add,
    const char *const *del)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "set_flags", 1);
	struct store_msg *msg;

	if (st != STORE_OK)
		return st;
	if (m->readonly)
		return refuse_readonly(m, "set_flags");
	msg = msg_find(m->selected, uid);
	if (msg == NULL) {
		store_set_error(s, "store flags on uid %u in '%s': no such "
		    "message", uid, m->selected->name);
		return op_end(m, "set_flags", STORE_MSG_GONE);
	}
	for (size_t i = 0; add != NULL && add[i] != NULL; i++)
		flag_add(msg, add[i]);
	for (size_t i = 0; del != NULL && del[i] != NULL; i++)
		flag_del(msg, del[i]);
	m->selected->msg_modseq[msg - m->selected->msgs] =
	    ++m->selected->modseq;
	return op_end(m, "set_flags", STORE_OK);
}

static enum store_status
mem_copy(struct store *s, uint32_t uid, const char *box, uint32_t *new_uid_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "copy", 1);
	const struct store_msg *msg;
	struct mem_box *to;
	uint32_t new_uid;

	*new_uid_r = 0;
	if (st != STORE_OK)
		return st;
	msg = msg_find(m->selected, uid);
	if (msg == NULL) {
		store_set_error(s, "copy uid %u from '%s': no such message",
		    uid, m->selected->name);
		return op_end(m, "copy", STORE_MSG_GONE);
	}
	/* box_get() may grow the box list, never move a box. */
	to = box_get(m, box);
	new_uid = box_copy_in(to, m->selected, msg);
	/* COPYUID comes only with UIDPLUS (RFC 4315). */
	*new_uid_r = m->has_uidplus ? new_uid : 0;
	return op_end(m, "copy", STORE_OK);
}

static enum store_status
mem_move(struct store *s, uint32_t uid, const char *box, uint32_t *new_uid_r,
    int *left_behind_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "move", 1);
	struct mem_box *from = m->selected, *to;
	struct store_msg *msg, taken;
	uint32_t new_uid;
	time_t date;

	*new_uid_r = 0;
	*left_behind_r = 0;
	if (st != STORE_OK)
		return st;
	if (m->readonly)
		return refuse_readonly(m, "move");
	msg = msg_find(from, uid);
	if (msg == NULL) {
		store_set_error(s, "move uid %u from '%s': no such message",
		    uid, from->name);
		return op_end(m, "move", STORE_MSG_GONE);
	}
	to = box_get(m, box);
	if (m->has_move || m->has_uidplus) {
		/* UID MOVE, or UID COPY + \Deleted + UID EXPUNGE of this uid:
		 * the same result. */
		box_remove(from, msg, &taken, &date);
		new_uid = box_take(to, &taken, date);
	} else {
		/* UID COPY + \Deleted; a plain EXPUNGE would also remove
		 * what other clients flagged, so the original stays. */
		new_uid = box_copy_in(to, from, msg);
		/* The copy may have grown this very box. */
		flag_add(msg_find(from, uid), "\\Deleted");
		*left_behind_r = 1;
	}
	*new_uid_r = m->has_uidplus ? new_uid : 0;
	return op_end(m, "move", STORE_OK);
}

/* Whether header value v contains needle, ASCII-case-insensitively, as
 * IMAP SEARCH HEADER matches (RFC 3501 6.4.4). */
static int
contains_nocase(const char *v, const char *needle)
{
	size_t n = strlen(needle);

	for (; *v != '\0'; v++)
		if (strncasecmp(v, needle, n) == 0)
			return 1;
	return n == 0;
}

static enum store_status
mem_find_message_id(struct store *s, const char *message_id,
    uint32_t **uids_r, size_t *n_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "find_message_id", 1);
	struct mem_box *b = m->selected;
	uint32_t *uids = NULL;
	size_t n = 0;

	*uids_r = NULL;
	*n_r = 0;
	if (st != STORE_OK)
		return st;
	for (size_t i = 0; i < b->nmsgs; i++) {
		struct message parsed;
		const char *v;
		int match = 0;

		message_parse(&parsed, b->msgs[i].data, b->msgs[i].len);
		for (size_t k = 0; !match &&
		    (v = message_header(&parsed, "Message-ID", k)) != NULL; k++)
			match = contains_nocase(v, message_id);
		message_release(&parsed);
		if (!match)
			continue;
		uids = xreallocarray(uids, n + 1, sizeof(*uids));
		uids[n++] = b->msgs[i].uid;
	}
	*uids_r = uids;
	*n_r = n;
	return op_end(m, "find_message_id", STORE_OK);
}

static enum store_status
mem_box_info(struct store *s, struct store_box_info *info_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "box_info", 1);

	memset(info_r, 0, sizeof(*info_r));
	if (st != STORE_OK)
		return st;
	*info_r = m->selected_info;
	return op_end(m, "box_info", STORE_OK);
}

static enum store_status
mem_list_boxes(struct store *s, char ***names_r, size_t *n_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "list_boxes", 0);

	*names_r = NULL;
	*n_r = 0;
	if (st != STORE_OK)
		return st;
	*names_r = xreallocarray(NULL, m->nboxes + 1, sizeof(**names_r));
	for (size_t i = 0; i < m->nboxes; i++)
		(*names_r)[(*n_r)++] = xstrdup(m->boxes[i]->name);
	return op_end(m, "list_boxes", STORE_OK);
}

static enum store_status
mem_find_special(struct store *s, enum store_special use, char **name_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "find_special", 0);

	*name_r = NULL;
	if (st != STORE_OK)
		return st;
	for (size_t i = 0; i < m->nboxes; i++) {
		if (m->boxes[i]->special[use]) {
			*name_r = xstrdup(m->boxes[i]->name);
			break;
		}
	}
	return op_end(m, "find_special", STORE_OK);
}

/* Changes of the notify() mailbox since they were last reported. */
static int
notified(struct store_mem *m)
{
	struct mem_box *b;

	if (m->notify_box == NULL ||
	    (b = box_find(m, m->notify_box)) == NULL ||
	    b->changes == m->notify_seen)
		return 0;
	m->notify_seen = b->changes;
	return 1;
}

static enum store_status
mem_notify(struct store *s, const char *box, int *on_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "notify", 0);
	struct mem_box *b;

	*on_r = 0;
	if (st != STORE_OK)
		return st;
	if (m->has_notify) {
		free(m->notify_box);
		m->notify_box = xstrdup(box);
		b = box_find(m, box);
		m->notify_seen = b != NULL ? b->changes : 0;
		*on_r = 1;
	}
	return op_end(m, "notify", STORE_OK);
}

/* The selected mailbox's news since the last list or wait on it. */
static int
selected_changed(struct store_mem *m)
{
	struct mem_box *b = m->selected;
	int changed = b->changes != b->changes_seen;

	b->changes_seen = b->changes;
	return changed;
}

static enum store_status
mem_idle_begin(struct store *s, int *fd_r, int *changed_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "idle_begin", 1);
	uint64_t drain;

	*fd_r = -1;
	*changed_r = 0;
	if (st != STORE_OK)
		return st;
	if (selected_changed(m)) {
		*changed_r = STORE_WAIT_SELECTED;
		return op_end(m, "idle_begin", STORE_OK);
	}
	if (m->idle_fd < 0)
		m->idle_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->idle_fd < 0)
		abort();
	if (read(m->idle_fd, &drain, sizeof(drain)) < 0)
		drain = 0;	/* nothing pending: EAGAIN */
	m->idling = 1;
	*fd_r = m->idle_fd;
	return op_end(m, "idle_begin", STORE_OK);
}

static enum store_status
mem_idle_end(struct store *s, int *changed_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "idle_end", 1);

	*changed_r = 0;
	m->idling = 0;
	if (st != STORE_OK)
		return st;
	if (selected_changed(m))
		*changed_r = STORE_WAIT_SELECTED;
	return op_end(m, "idle_end", STORE_OK);
}

static enum store_status
mem_wait(struct store *s, int timeout_ms, int wake_fd, int *changed_r)
{
	struct store_mem *m = mem(s);
	enum store_status st = op_begin(m, "wait", 1);
	struct mem_box *b = m->selected;

	*changed_r = 0;
	if (st != STORE_OK)
		return st;
	/* Never sleeps: a test that waits for nothing must not hang. */
	(void)b;
	if (selected_changed(m))
		*changed_r |= STORE_WAIT_SELECTED;
	if (notified(m))
		*changed_r |= STORE_WAIT_NOTIFIED;
	return op_end(m, "wait", STORE_OK);
}

/* Names are kept as written: no namespace here. */
static char *
mem_owner_name(struct store *s, const char *box)
{
	return xstrdup(box);
}

/* After another client changed something: the idle_begin() descriptor
 * becomes readable if that was the selected mailbox. */
static void
wake_idler(struct store_mem *m)
{
	uint64_t one = 1;

	if (m->idling && m->selected != NULL &&
	    m->selected->changes != m->selected->changes_seen &&
	    write(m->idle_fd, &one, sizeof(one)) < 0)
		abort();
}

/* The batch operations, one message after the other: each counts as one
 * "fetch", "set_flags" or "move" for fault injection, so a fault can hit
 * in the middle of a batch, as a dropped connection would. */
static enum store_status
mem_fetch_some(struct store *s, const uint32_t *uids, size_t n,
    size_t max_bytes, size_t budget, struct store_msg *msgs_r,
    int *truncated_r, size_t *done_r)
{
	enum store_status st = STORE_OK;
	size_t used = 0, k;

	memset(msgs_r, 0, n * sizeof(*msgs_r));
	memset(truncated_r, 0, n * sizeof(*truncated_r));
	*done_r = 0;
	for (k = 0; k < n; k++) {
		st = mem_fetch(s, uids[k], max_bytes, &msgs_r[k],
		    &truncated_r[k]);
		if (st == STORE_MSG_GONE)
			st = STORE_OK;
		if (st != STORE_OK)
			break;
		used += msgs_r[k].len;
		if (used >= budget) {
			k++;
			break;
		}
	}
	if (st != STORE_OK) {
		for (size_t i = 0; i <= k && i < n; i++)
			store_msg_release(&msgs_r[i]);
		return st;
	}
	*done_r = k;
	return STORE_OK;
}

static enum store_status
mem_set_flags_some(struct store *s, const uint32_t *uids, size_t n,
    const char *const *add, const char *const *del)
{
	enum store_status st = STORE_OK;

	for (size_t i = 0; i < n && st == STORE_OK; i++)
		st = mem_set_flags(s, uids[i], add, del);
	return st;
}

static enum store_status
mem_move_some(struct store *s, const uint32_t *uids, size_t n,
    const char *box, uint32_t *new_uids_r, int *left_behind_r)
{
	enum store_status st = STORE_OK;
	int left;

	memset(new_uids_r, 0, n * sizeof(*new_uids_r));
	*left_behind_r = 0;
	for (size_t i = 0; i < n && st == STORE_OK; i++) {
		st = mem_move(s, uids[i], box, &new_uids_r[i], &left);
		if (st == STORE_MSG_GONE)
			st = STORE_OK;	/* gone: its new uid stays 0 */
		*left_behind_r |= left;
	}
	return st;
}

static void
mem_set_cancel(struct store *s, int fd)
{
	mem(s)->cancel_fd = fd;
}

static enum store_status
mem_server_info(struct store *s, struct store_server_info *info_r)
{
	struct store_mem *m = mem(s);

	/* A server with everything; MOVE and UIDPLUS as set. */
	*info_r = (struct store_server_info){ .idle = 1, .move = m->has_move,
	    .uidplus = m->has_uidplus, .condstore = 1 };
	return STORE_OK;
}

static void
mem_free(struct store *s)
{
	struct store_mem *m = mem(s);

	for (size_t i = 0; i < m->nboxes; i++)
		box_free(m->boxes[i]);
	free(m->boxes);
	for (size_t i = 0; i < m->nfaults; i++)
		free(m->faults[i].op);
	free(m->faults);
	free(m->late.op);
	free(m->notify_box);
	if (m->idle_fd >= 0)
		close(m->idle_fd);
	free(m->poison_box);
	free(m->base.last_error);
	free(m);
}

static const struct store_ops mem_ops = {
	.connect = mem_connect,
	.select = mem_select,
	.examine = mem_examine,
	.list_uids = mem_list_uids,
	.search = mem_search,
	.fetch = mem_fetch,
	.list_flags = mem_list_flags,
	.set_flags = mem_set_flags,
	.copy = mem_copy,
	.move = mem_move,
	.find_message_id = mem_find_message_id,
	.list_boxes = mem_list_boxes,
	.box_info = mem_box_info,
	.find_special = mem_find_special,
	.owner_name = mem_owner_name,
	.wait = mem_wait,
	.server_info = mem_server_info,
	.fetch_some = mem_fetch_some,
	.set_flags_some = mem_set_flags_some,
	.move_some = mem_move_some,
	.set_cancel = mem_set_cancel,
	.notify = mem_notify,
	.idle_begin = mem_idle_begin,
	.idle_end = mem_idle_end,
	.free = mem_free,
};

struct store *
store_mem_new(void)
{
	struct store_mem *m = xcalloc(1, sizeof(*m));

	m->base.ops = &mem_ops;
	m->has_move = 1;
	m->has_uidplus = 1;
	m->cancel_fd = -1;
	m->has_notify = 1;
	m->idle_fd = -1;
	/* Distinct per mailbox, as servers make them. */
	m->next_uidvalidity = 1000;
	return &m->base;
}

uint32_t
store_mem_append(struct store *s, const char *box, const char *data,
    size_t len, const char *const *flags)
{
	struct mem_box *b = box_get(mem(s), box);
	struct store_msg msg = { 0 };
	uint32_t uid;

	msg.data = xmalloc(len + 1);
	memcpy(msg.data, data, len);
	msg.data[len] = '\0';
	msg.len = len;
	for (size_t i = 0; flags != NULL && flags[i] != NULL; i++)
		flag_add(&msg, flags[i]);
	uid = box_take(b, &msg, time(NULL));
	wake_idler(mem(s));
	return uid;
}

void
store_mem_set_date(struct store *s, const char *box, uint32_t uid,
    time_t date)
{
	struct mem_box *b = box_find(mem(s), box);
	struct store_msg *msg = b != NULL ? msg_find(b, uid) : NULL;

	if (msg != NULL)
		b->msg_date[msg - b->msgs] = date;
}

size_t
store_mem_count(struct store *s, const char *box)
{
	struct mem_box *b = box_find(mem(s), box);

	return b != NULL ? b->nmsgs : 0;
}

const struct store_msg *
store_mem_get(struct store *s, const char *box, uint32_t uid)
{
	struct mem_box *b = box_find(mem(s), box);

	return b != NULL ? msg_find(b, uid) : NULL;
}

const struct store_msg *
store_mem_at(struct store *s, const char *box, size_t idx)
{
	struct mem_box *b = box_find(mem(s), box);

	return b != NULL && idx < b->nmsgs ? &b->msgs[idx] : NULL;
}

uint32_t
store_mem_client_move(struct store *s, const char *from, uint32_t uid,
    const char *to)
{
	struct store_mem *m = mem(s);
	struct mem_box *src = box_find(m, from), *dst;
	struct store_msg *msg, taken;
	time_t date;
	uint32_t new_uid;

	msg = src != NULL ? msg_find(src, uid) : NULL;
	if (msg == NULL)
		return 0;
	dst = box_get(m, to);
	box_remove(src, msg, &taken, &date);
	src->changes++;
	new_uid = box_take(dst, &taken, date);
	wake_idler(m);
	return new_uid;
}

void
store_mem_reset_uidvalidity(struct store *s, const char *box)
{
	struct store_mem *m = mem(s);
	struct mem_box *b = box_get(m, box);

	b->uidvalidity = m->next_uidvalidity++;
	for (size_t i = 0; i < b->nmsgs; i++)
		b->msgs[i].uid = (uint32_t)i + 1;
	b->uidnext = (uint32_t)b->nmsgs + 1;
	b->changes++;
}

void
store_mem_set_special(struct store *s, const char *box,
    enum store_special use)
{
	struct store_mem *m = mem(s);
	struct mem_box *b = box_get(m, box);

	for (size_t i = 0; i < m->nboxes; i++)
		m->boxes[i]->special[use] = 0;
	b->special[use] = 1;
}

void
store_mem_set_caps(struct store *s, int has_move, int has_uidplus)
{
	mem(s)->has_move = has_move;
	mem(s)->has_uidplus = has_uidplus;
}

void
store_mem_set_notify(struct store *s, int has_notify)
{
	mem(s)->has_notify = has_notify;
}

void
store_mem_fail(struct store *s, const char *op, int nth,
    enum store_status status, int after_effect)
{
	struct store_mem *m = mem(s);
	struct mem_fault *f;

	assert(nth >= 1 && status != STORE_OK);
	m->faults = xreallocarray(m->faults, m->nfaults + 1,
	    sizeof(*m->faults));
	f = &m->faults[m->nfaults++];
	f->op = xstrdup(op);
	f->remaining = nth;
	f->status = status;
	f->after_effect = after_effect;
}

void
store_mem_poison(struct store *s, const char *box, uint32_t uid)
{
	struct store_mem *m = mem(s);

	free(m->poison_box);
	m->poison_box = xstrdup(box);
	m->poison_uid = uid;
}
