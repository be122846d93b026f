/*
 * vars.c - the variables extension's strings (RFC 5229): reading
 * "${name}" and "${N}" references, expanding a string against the
 * variables and match variables of a run, and set's modifiers.
 *
 * lang.c uses the reader to check names when the script loads; sieve.c
 * expands in the evaluator child as each statement runs.  Every result
 * is bounded: a variable holds at most SV_MAX_VAR bytes (Pigeonhole's
 * default) and one expanded string at most SV_MAX_EXPANSION, cut at a
 * UTF-8 character boundary, so "${a}${a}${a}..." cannot grow without
 * end.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/xmem.h"
#include "sieve/sieve_int.h"

static int
ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static int
ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

int
sv_ref_read(const char *p, struct sv_ref *ref)
{
	const char *q = p + 2;

	memset(ref, 0, sizeof(*ref));
	if (p[0] != '$' || p[1] != '{')
		return 0;
	if (isdigit((unsigned char)*q)) {
		unsigned long n = 0;

		while (isdigit((unsigned char)*q)) {
			if (n < 1000)
				n = n * 10 + (unsigned long)(*q - '0');
			q++;
		}
		if (*q != '}')
			return 0;
		ref->num = (int)n;
		ref->len = (size_t)(q + 1 - p);
		return SV_REF_MATCH;
	}
	if (!ident_start(*q))
		return 0;
	ref->name = q;
	for (;;) {
		while (ident_char(*q))
			q++;
		if (*q == '.' && ident_start(q[1])) {
			if (ref->dots++ == 0)
				ref->ns_len = (size_t)(q - ref->name);
			q++;
			continue;
		}
		break;
	}
	if (*q != '}')
		return 0;
	ref->name_len = (size_t)(q - ref->name);
	ref->len = (size_t)(q + 1 - p);
	return SV_REF_VAR;
}

int
sv_has_refs(const char *s)
{
	struct sv_ref ref;

	for (const char *p = strstr(s, "${"); p; p = strstr(p + 1, "${"))
		if (sv_ref_read(p, &ref))
			return 1;
	return 0;
}

/* Cuts s to at most max bytes without splitting a UTF-8 character. */
static void
cut_utf8(struct buf *b, size_t max)
{
	if (b->len <= max)
		return;
	b->len = max;
	while (b->len > 0 &&
	    ((unsigned char)b->data[b->len] & 0xc0) == 0x80)
		b->len--;
	b->data[b->len] = '\0';
}

char *
sv_expand(const char *s, const struct sv_scope *sc)
{
	struct buf b = { 0 };
	struct sv_ref ref;
	const char *p = s;

	while (*p) {
		const char *v = NULL;
		int kind = p[0] == '$' ? sv_ref_read(p, &ref) : 0;

		if (kind == 0) {
			size_t run = strcspn(p + 1, "$") + 1;

			buf_append(&b, p, run);
			p += run;
		} else {
			if (kind == SV_REF_MATCH) {
				if ((size_t)ref.num < sc->match->n)
					v = sc->match->v[ref.num];
			} else {
				int slot = sc->lookup(sc->ctx, ref.name,
				    ref.name_len);

				if (slot >= 0)
					v = sc->values[slot];
			}
			if (v != NULL)
				buf_appends(&b, v);
			p += ref.len;
		}
		if (b.len > SV_MAX_EXPANSION)
			break;
	}
	buf_appends(&b, "");
	cut_utf8(&b, SV_MAX_EXPANSION);
	return buf_steal(&b);
}

void
sv_put_utf8(struct buf *b, unsigned long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(b, u, n);
}

/* Characters, not bytes (RFC 5229 4.1.4, :length). */
static size_t
utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

char *
sv_set_value(const char *v, unsigned mods)
{
	struct buf b = { 0 };

	buf_appends(&b, v);
	cut_utf8(&b, SV_MAX_VAR);
	/* ASCII only, as Pigeonhole: "élan" keeps its é */
	if (mods & (SV_MOD_LOWER | SV_MOD_UPPER))
		for (size_t i = 0; i < b.len; i++)
			b.data[i] = (char)(mods & SV_MOD_LOWER ?
			    tolower((unsigned char)b.data[i]) :
			    toupper((unsigned char)b.data[i]));
	if (b.len > 0 && (mods & SV_MOD_LOWERFIRST))
		b.data[0] = (char)tolower((unsigned char)b.data[0]);
	if (b.len > 0 && (mods & SV_MOD_UPPERFIRST))
		b.data[0] = (char)toupper((unsigned char)b.data[0]);
	if (mods & SV_MOD_QUOTEWILDCARD) {
		struct buf q = { 0 };

		for (size_t i = 0; i < b.len; i++) {
			if (strchr("*?\\", b.data[i]) != NULL)
				buf_appends(&q, "\\");
			buf_append(&q, &b.data[i], 1);
		}
		buf_appends(&q, "");
		buf_release(&b);
		b = q;
		cut_utf8(&b, SV_MAX_VAR);
	}
	if (mods & SV_MOD_LENGTH) {
		char *n = xasprintf("%zu", utf8_len(b.data));

		buf_release(&b);
		return n;
	}
	return buf_steal(&b);
}
