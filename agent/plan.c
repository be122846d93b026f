/*
 * plan.c - the plan for one message (see plan.h): built from the Sieve
 * result or the built-in policy, with the promises the daemon keeps
 * whatever the rules say (discard goes to Trash, whatever goes into Junk
 * is tagged $Junk, a rescued message never goes back to Junk), written
 * as the text the ledger keeps, read back from it, and compared.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/plan.h"
#include "agent/store.h"
#include "agent/xmem.h"

int
plan_same_box(const char *a, const char *b)
{
	/* INBOX is case-insensitive (RFC 3501 §5.1); other names are not. */
	if (strcasecmp(a, "INBOX") == 0)
		return strcasecmp(b, "INBOX") == 0;
	return strcmp(a, b) == 0;
}

static void
flags_free(char **flags, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(flags[i]);
	free(flags);
}

/* A copy of n flags, with room for one more. */
static char **
flags_copy(const char *const *flags, size_t n)
{
	char **v = xreallocarray(NULL, n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(flags[i]);
	return v;
}

static void
target_release(struct plan_target *t)
{
	free(t->box);
	flags_free(t->flags, t->nflags);
}

void
plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->ntargets; i++)
		target_release(&p->targets[i]);
	free(p->targets);
	flags_free(p->keep_flags, p->nkeep_flags);
	free(p->text);
	free(p->rule);
	free(p->dups);
	memset(p, 0, sizeof(*p));
}

static void
plan_keep(struct plan *p, const char *const *flags, size_t nflags)
{
	flags_free(p->keep_flags, p->nkeep_flags);
	p->keep = 1;
	p->keep_flags = flags_copy(flags, nflags);
	p->nkeep_flags = nflags;
}

/* Adds a copy target.  Whatever goes into Junk carries $Junk, so that
 * mail clients agree with mailsift. */
static void
plan_add_target(struct plan *p, const char *junk, const char *box,
    const char *const *flags, size_t nflags)
{
	struct plan_target *t;

	for (size_t i = 0; i < p->ntargets; i++)
		if (plan_same_box(p->targets[i].box, box))
			return;		/* Sieve files a message once per box */
	p->targets = xreallocarray(p->targets, p->ntargets + 1,
	    sizeof(*p->targets));
	t = &p->targets[p->ntargets++];
	t->box = xstrdup(box);
	t->flags = flags_copy(flags, nflags);
	t->nflags = nflags;
	if (junk != NULL && plan_same_box(box, junk) &&
	    !store_has_flag((char *const *)flags, nflags, "$Junk"))
		t->flags[t->nflags++] = xstrdup("$Junk");
}

static void
describe_flags(struct buf *b, char *const *flags, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_printf(b, " +%s", flags[i]);
}

void
plan_describe(struct plan *p)
{
	struct buf b = { 0 };

	if (p->keep) {
		buf_appends(&b, "keep");
		describe_flags(&b, p->keep_flags, p->nkeep_flags);
	}
	for (size_t i = 0; i < p->ntargets; i++) {
		if (b.len > 0)
			buf_appends(&b, "; ");
		buf_printf(&b, "%s '%s'", !p->keep && i + 1 == p->ntargets ?
		    "move to" : "copy to", p->targets[i].box);
		describe_flags(&b, p->targets[i].flags, p->targets[i].nflags);
	}
	free(p->text);
	p->text = buf_steal(&b);
}

/* Turns Sieve's actions into a plan; never drops the message. */
static void
plan_from_sieve(struct plan *p, const struct plan_rules *rules,
    const char *folder, const struct sieve_result *r)
{
	int discard = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct sieve_action *a = &r->actions[i];
		const char *const *flags = (const char *const *)a->flags;
		char *box;

		switch (a->type) {
		case SIEVE_ACTION_KEEP:
			plan_keep(p, flags, a->nflags);
			break;
		case SIEVE_ACTION_FILEINTO:
			box = rules->box_name != NULL ? rules->box_name(
			    rules->box_name_arg, a->mailbox) :
			    xstrdup(a->mailbox);
			if (plan_same_box(box, folder))
				plan_keep(p, flags, a->nflags);	/* itself */
			else
				plan_add_target(p, rules->junk, box, flags,
				    a->nflags);
			free(box);
			break;
		case SIEVE_ACTION_DISCARD:
			discard = 1;
			break;
		}
	}
	/* discard never deletes: the message goes to Trash, unless another
	 * action already gives it a home. */
	if (discard && !p->keep && p->ntargets == 0)
		plan_add_target(p, rules->junk, rules->trash, NULL, 0);
	if (!p->keep && p->ntargets == 0)
		plan_keep(p, NULL, 0);
	p->rule = r->rule ? xstrdup(r->rule) : xstrdup("sieve script");
}

static void
plan_default(struct plan *p, const struct plan_rules *r, const char *folder,
    double score)
{
	if (score >= r->spam_threshold && !plan_same_box(folder, r->junk)) {
		plan_add_target(p, r->junk, r->junk, NULL, 0);
		p->rule = xasprintf("built-in default: score %.4f >= %.2f, "
		    "spam goes to '%s'", score, r->spam_threshold, r->junk);
	} else {
		plan_keep(p, NULL, 0);
		p->rule = xstrdup(score < 0 ? "built-in default: not scored, "
		    "kept" : "built-in default: not spam, kept");
	}
}

void
plan_respect_rescue(struct plan *p, const char *junk)
{
	size_t j = 0;
	int dropped = 0;
	char *rule;

	for (size_t i = 0; i < p->ntargets; i++) {
		if (plan_same_box(p->targets[i].box, junk)) {
			target_release(&p->targets[i]);
			dropped = 1;
			continue;
		}
		p->targets[j++] = p->targets[i];
	}
	p->ntargets = j;
	if (!dropped)
		return;
	if (p->ntargets == 0 && !p->keep)
		plan_keep(p, NULL, 0);
	rule = xasprintf("%s; not filed into '%s': the owner rescued this "
	    "message from there", p->rule ? p->rule : "rules", junk);
	free(p->rule);
	p->rule = rule;
}

void
plan_make(const struct plan_rules *r, const char *folder, const char *msg,
    size_t len, double score, int rescued, struct plan *p, char **err_r)
{
	struct sieve_result sr = { 0 };
	struct sieve_env env = { 0 };

	*err_r = NULL;
	env.score = score;
	env.mailboxes = r->mailboxes;
	env.nmailboxes = r->nmailboxes;
	env.dup_lookup = r->dup_lookup;
	env.dup_ctx = r->dup_ctx;
	if (r->script == NULL) {
		plan_default(p, r, folder, score);
	} else if (sieve_eval_env(r->script, msg, len, &env, &sr,
	    err_r) == 0) {
		plan_from_sieve(p, r, folder, &sr);
		p->dups = sr.dups;
		p->ndups = sr.ndups;
		sr.dups = NULL;
		sr.ndups = 0;
		sieve_result_release(&sr);
	} else {
		/* A broken evaluation must not move anything. */
		plan_keep(p, NULL, 0);
		p->rule = xasprintf("sieve script failed (%s): kept", *err_r);
	}
	if (rescued)
		plan_respect_rescue(p, r->junk);
	plan_describe(p);
}

int
plan_files_into(const struct plan *p, const char *box)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (plan_same_box(p->targets[i].box, box))
			return 1;
	return 0;
}

const char *
plan_final_folder(const struct plan *p, const char *folder)
{
	return p->keep || p->ntargets == 0 ? folder :
	    p->targets[p->ntargets - 1].box;
}

void
plan_final_flags(const struct plan *p, char *const **flags_r, size_t *n_r)
{
	if (p->keep || p->ntargets == 0) {
		*flags_r = p->keep_flags;
		*n_r = p->nkeep_flags;
	} else {
		*flags_r = p->targets[p->ntargets - 1].flags;
		*n_r = p->targets[p->ntargets - 1].nflags;
	}
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* At s: "; copy to '" or "; move to '", the start of the next target. */
static int
next_target(const char *s)
{
	return starts(s, "; copy to '") || starts(s, "; move to '");
}

/* Reads " +FLAG" items at *pos.  A flag ending in ';' right before the
 * next target gives that ';' back: it is the separator. */
static void
parse_flags(const char **pos, char ***flags_r, size_t *n_r)
{
	const char *s = *pos;

	while (starts(s, " +")) {
		const char *start = s + 2, *end = strchr(start, ' ');
		size_t n;

		if (end == NULL)
			end = start + strlen(start);
		n = (size_t)(end - start);
		if (*end == ' ' && !starts(end, " +") && n > 0 &&
		    start[n - 1] == ';' && next_target(end - 1))
			n--;
		*flags_r = xreallocarray(*flags_r, *n_r + 2,
		    sizeof(**flags_r));
		(*flags_r)[(*n_r)++] = xstrndup(start, n);
		s = start + n;
	}
	*pos = s;
}

int
plan_parse(const char *text, struct plan *p)
{
	const char *s = text;
	int moved = 0;

	memset(p, 0, sizeof(*p));
	if (starts(s, "keep") && (s[4] == '\0' || s[4] == ' ' ||
	    s[4] == ';')) {
		p->keep = 1;
		s += 4;
		parse_flags(&s, &p->keep_flags, &p->nkeep_flags);
	}
	while (*s != '\0' && !moved) {
		struct plan_target t = { 0 };
		const char *q;

		if (s != text) {
			if (!starts(s, "; "))
				goto bad;
			s += 2;
		}
		if (starts(s, "move to '"))
			moved = 1;
		else if (!starts(s, "copy to '"))
			goto bad;
		s += strlen("copy to '");
		for (q = strchr(s, '\''); q != NULL; q = strchr(q + 1, '\''))
			if (q[1] == '\0' || starts(q + 1, " +") ||
			    next_target(q + 1))
				break;
		if (q == NULL)
			goto bad;
		t.box = xstrndup(s, (size_t)(q - s));
		s = q + 1;
		parse_flags(&s, &t.flags, &t.nflags);
		p->targets = xreallocarray(p->targets, p->ntargets + 1,
		    sizeof(*p->targets));
		p->targets[p->ntargets++] = t;
	}
	/* A plan keeps the message or ends with its one move. */
	if (*s != '\0' || moved == p->keep || (!p->keep && p->ntargets == 0))
		goto bad;
	p->text = xstrdup(text);
	return 0;
bad:
	plan_release(p);
	return -1;
}

static int
same_flags(char *const *a, size_t na, char *const *b, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		if (!store_has_flag(b, nb, a[i]))
			return 0;
	for (size_t i = 0; i < nb; i++)
		if (!store_has_flag(a, na, b[i]))
			return 0;
	return 1;
}

int
plan_same_outcome(const struct plan *a, const struct plan *b)
{
	if (a->keep != b->keep || a->ntargets != b->ntargets)
		return 0;
	if (a->keep && !same_flags(a->keep_flags, a->nkeep_flags,
	    b->keep_flags, b->nkeep_flags))
		return 0;
	/* The message ends up in the same folders either way; which copy
	 * was made first does not matter.  Names are unique in a plan. */
	for (size_t i = 0; i < a->ntargets; i++) {
		size_t k;

		for (k = 0; k < b->ntargets; k++)
			if (plan_same_box(a->targets[i].box,
			    b->targets[k].box))
				break;
		if (k == b->ntargets || !same_flags(a->targets[i].flags,
		    a->targets[i].nflags, b->targets[k].flags,
		    b->targets[k].nflags))
			return 0;
	}
	return 1;
}
