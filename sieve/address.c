/*
 * address.c - address lists in header values (RFC 5322 3.4) for the
 * Sieve address test, read the way Pigeonhole (Dovecot's parser) reads
 * them, as measured: groups flattened, display names, comments and source
 * routes dropped; incomplete entries ("plain text", "<>", "x@") skipped;
 * reading stops at the first malformed local part or domain ("a@@b",
 * "a b@c", "x@y..z"); a value with no address at all is a "non-address"
 * that only :all sees, whole.
 *
 * Every address test is answered here and in match.c: libsieve's own
 * address parser loses RFC 5322 groups, has no non-address fallback, and
 * its :matches backtracks without bound.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/xmem.h"
#include "sieve/sieve_int.h"

/* Calls elem() on each top-level element of an address list: split at
 * "," and ";" outside quotes, comments and angle brackets, with a group's
 * "display-name:" removed and blanks trimmed. */
static void
each_element(const char *s, void (*elem)(void *arg, const char *b,
    const char *e), void *arg)
{
	const char *start = s, *p = s;
	int quote = 0, comment = 0, angle = 0;

	for (;; p++) {
		if (*p == '\0' || (!quote && !comment && !angle &&
		    (*p == ',' || *p == ';'))) {
			const char *b = start, *e = p, *q;
			int bq = 0, bc = 0, ba = 0;

			for (q = b; q < e; q++) {
				if (*q == '\\' && (bq || bc) && q + 1 < e)
					q++;
				else if (*q == '"' && !bc)
					bq = !bq;
				else if (*q == '(' && !bq)
					bc++;
				else if (*q == ')' && !bq && bc)
					bc--;
				else if (*q == '<' && !bq && !bc)
					ba = 1;
				else if (*q == '>' && !bq && !bc)
					ba = 0;
				else if (*q == ':' && !bq && !bc && !ba)
					b = q + 1;
			}
			while (b < e && (*b == ' ' || *b == '\t'))
				b++;
			while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (e > b)
				elem(arg, b, e);
			if (*p == '\0')
				break;
			start = p + 1;
			continue;
		}
		if (*p == '\\' && (quote || comment) && p[1] != '\0')
			p++;
		else if (*p == '"' && !comment)
			quote = !quote;
		else if (*p == '(' && !quote)
			comment++;
		else if (*p == ')' && !quote && comment)
			comment--;
		else if (*p == '<' && !quote && !comment)
			angle = 1;
		else if (*p == '>' && !quote && !comment)
			angle = 0;
	}
}

static int
atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~", c) ||
	    (unsigned char)c >= 0x80;
}

/* dot-atom: atext runs separated by single dots */
static int
dot_atom(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !atext(s[i]))
			return 0;
	}
	return 1;
}

struct collect {
	struct sv_addr *v;
	size_t n;
	int stopped;		/* met a malformed address */
};

/* One element: "Name <local@domain>", "local@domain (comment)", ... */
static void
add_element(void *arg, const char *b, const char *e)
{
	struct collect *c = arg;
	struct buf spec = { 0 };
	const char *p, *lt = NULL, *gt = NULL, *at = NULL;
	int quote = 0, comment = 0, blank = 0, syntax_error = 0;

	if (c->stopped)
		return;

	/* the part in angle brackets, if any, else the whole element */
	for (p = b; p < e; p++) {
		if (*p == '\\' && (quote || comment) && p + 1 < e)
			p++;
		else if (*p == '"' && !comment)
			quote = !quote;
		else if (*p == '(' && !quote)
			comment++;
		else if (*p == ')' && !quote && comment)
			comment--;
		else if (*p == '<' && !quote && !comment && lt == NULL)
			lt = p;
		else if (*p == '>' && !quote && !comment && lt && !gt)
			gt = p;
	}
	if (lt != NULL) {
		if (gt == NULL)
			return;		/* skipped, as by Dovecot */
		b = lt + 1;
		e = gt;
		/* obsolete source route "@a,@b:local@domain" */
		for (p = b; p < e; p++)
			if (*p == ':')
				b = p + 1;
	}
	/* drop comments and folding blanks outside quotes; in an address a
	 * blank anywhere but next to "@" ("a b@x.org", "a . b@x.org") is a
	 * syntax error (a phrase alone, "plain text", is only skipped) */
	quote = comment = 0;
	for (p = b; p < e; p++) {
		if (*p == '\\' && (quote || comment) && p + 1 < e) {
			if (quote)
				buf_append(&spec, p, 2);
			p++;
		} else if (*p == '"' && !comment) {
			quote = !quote;
			buf_append(&spec, p, 1);
		} else if (*p == '(' && !quote) {
			comment++;
		} else if (*p == ')' && !quote && comment) {
			comment--;
		} else if (!comment && !quote && (*p == ' ' || *p == '\t' ||
		    *p == '\r' || *p == '\n')) {
			blank = 1;
		} else if (!comment) {
			if (blank && spec.len > 0 &&
			    spec.data[spec.len - 1] != '@' && *p != '@')
				syntax_error = 1;
			blank = 0;
			buf_append(&spec, p, 1);
		}
	}
	if (syntax_error && memchr(spec.data, '@', spec.len) != NULL) {
		buf_release(&spec);
		c->stopped = 1;
		return;
	}
	if (spec.len == 0) {
		buf_release(&spec);
		return;		/* "<>": skipped */
	}
	quote = 0;
	for (size_t i = 0; i < spec.len; i++) {
		if (spec.data[i] == '\\' && quote)
			i++;
		else if (spec.data[i] == '"')
			quote = !quote;
		else if (spec.data[i] == '@' && !quote)
			at = spec.data + i;
	}
	/* no "@", or nothing on one side of it: an incomplete address,
	 * skipped; a malformed local part or domain stops the reading */
	if (at != NULL && at > spec.data && at < spec.data + spec.len - 1) {
		const char *local = spec.data, *domain = at + 1;
		size_t ll = (size_t)(at - local);
		size_t dl = spec.len - ll - 1;
		int ok = dot_atom(domain, dl) || (dl >= 2 && domain[0] == '[' &&
		    domain[dl - 1] == ']');

		if (ok && ll >= 2 && local[0] == '"' && local[ll - 1] == '"') {
			struct buf u = { 0 };

			for (size_t i = 1; i + 1 < ll; i++) {
				if (local[i] == '\\' && i + 2 < ll)
					i++;
				buf_append(&u, &local[i], 1);
			}
			c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
			c->v[c->n].local = u.data ? buf_steal(&u) : xstrdup("");
			c->v[c->n++].domain = xstrndup(domain, dl);
		} else if (ok && dot_atom(local, ll)) {
			c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
			c->v[c->n].local = xstrndup(local, ll);
			c->v[c->n++].domain = xstrndup(domain, dl);
		} else {
			c->stopped = 1;
		}
	}
	buf_release(&spec);
}

size_t
sv_addresses(const char *value, struct sv_addr **addrs_r,
    int *nonaddress_r)
{
	struct collect c = { NULL, 0, 0 };

	each_element(value, add_element, &c);
	*addrs_r = c.v;
	*nonaddress_r = c.n == 0;
	return c.n;
}

void
sv_addresses_free(struct sv_addr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].local);
		free(a[i].domain);
	}
	free(a);
}

char *
sv_address_part(const struct sv_addr *a, enum sv_part part)
{
	const char *plus = strchr(a->local, '+');

	switch (part) {
	case SV_PART_ALL:
		if (!dot_atom(a->local, strlen(a->local))) {
			/* quoted again, as Pigeonhole writes it */
			struct buf b = { 0 };

			buf_appends(&b, "\"");
			for (const char *p = a->local; *p; p++) {
				if (*p == '"' || *p == '\\')
					buf_appends(&b, "\\");
				buf_append(&b, p, 1);
			}
			buf_printf(&b, "\"@%s", a->domain);
			return buf_steal(&b);
		}
		return xasprintf("%s@%s", a->local, a->domain);
	case SV_PART_LOCAL:
		return xstrdup(a->local);
	case SV_PART_DOMAIN:
		return xstrdup(a->domain);
	case SV_PART_USER:
		return plus ? xstrndup(a->local, (size_t)(plus - a->local)) :
		    xstrdup(a->local);
	case SV_PART_DETAIL:
		return plus ? xstrdup(plus + 1) : NULL;
	}
	return NULL;
}
