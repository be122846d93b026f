/*
 * match.c - Sieve comparators and match types (RFC 5228 2.7, RFC 4790,
 * RFC 5231), the spamtest values (RFC 5235) and the imap4flags flag set
 * (RFC 5232), evaluated by mailsift itself.
 *
 * Used for the tests libsieve 2.2.6 gets wrong or cannot see (see
 * sieve_int.h) and to put numbers into the form libsieve's atoi()-based
 * i;ascii-numeric compares correctly.  Where the RFC and Pigeonhole
 * differ, Pigeonhole wins: scripts must mean the same on both.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/xmem.h"
#include "sieve/sieve_int.h"

/* RFC 4790 i;ascii-numeric: the leading digits as a number, or positive
 * infinity for a string that does not start with a digit.  Returns <0, 0
 * or >0. */
static int
numeric_cmp(const char *a, const char *b)
{
	int ia = isdigit((unsigned char)*a), ib = isdigit((unsigned char)*b);
	size_t la, lb;

	if (!ia || !ib)
		return ia ? -1 : ib ? 1 : 0;
	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	for (la = 0; isdigit((unsigned char)a[la]); la++)
		;
	for (lb = 0; isdigit((unsigned char)b[lb]); lb++)
		;
	if (la != lb)
		return la < lb ? -1 : 1;
	return strncmp(a, b, la);
}

/* i;ascii-casemap folds to lower case here: RFC 4790 says upper, which
 * orders "[" and "\\" differently against letters, but Pigeonhole and
 * libsieve both fold to lower case, and scripts must mean the same on
 * both. */
static int
fold(enum sv_cmp cmp, unsigned char c)
{
	return cmp == SV_CMP_CASEMAP ? tolower(c) : c;
}

static int
order(enum sv_cmp cmp, const char *a, const char *b)
{
	if (cmp == SV_CMP_NUMERIC)
		return numeric_cmp(a, b);
	for (;; a++, b++) {
		int ca = fold(cmp, (unsigned char)*a);
		int cb = fold(cmp, (unsigned char)*b);

		if (ca != cb || ca == 0)
			return ca - cb;
	}
}

static int
rel_holds(enum sv_rel rel, int c)
{
	switch (rel) {
	case SV_REL_GT: return c > 0;
	case SV_REL_GE: return c >= 0;
	case SV_REL_LT: return c < 0;
	case SV_REL_LE: return c <= 0;
	case SV_REL_EQ: return c == 0;
	case SV_REL_NE: return c != 0;
	}
	return 0;
}

static int
contains(enum sv_cmp cmp, const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++) {
		size_t i;

		for (i = 0; i < n && hay[i]; i++)
			if (fold(cmp, (unsigned char)hay[i]) !=
			    fold(cmp, (unsigned char)needle[i]))
				break;
		if (i == n)
			return 1;
	}
	return n == 0;
}

/* :matches with "*", "?" and "\\" escaping the next character.  "?" is
 * one octet, not one UTF-8 character: that is what both libsieve and
 * Pigeonhole do with i;ascii-casemap and i;octet.  Backtracks only to the
 * last "*", so a hostile pattern costs at most length(s) * length(p). */
static int
glob(enum sv_cmp cmp, const char *s, const char *p)
{
	const char *star_p = NULL, *star_s = NULL;

	while (*s) {
		const char *pc = p;

		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return 1;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*p == '?') {
			p++;
			s++;
			continue;
		}
		if (*p == '\\' && p[1] != '\0')
			pc = p + 1;
		if (*pc != '\0' && fold(cmp, (unsigned char)*pc) ==
		    fold(cmp, (unsigned char)*s)) {
			p = pc + 1;
			s++;
			continue;
		}
		if (star_p == NULL)
			return 0;
		p = star_p;
		s = ++star_s;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int
sv_match_values(const struct sv_match *m, char *const *values, size_t n,
    char *const *keys, size_t nkeys)
{
	if (m->mt == SV_MT_COUNT) {
		char count[32];

		snprintf(count, sizeof(count), "%zu", n);
		for (size_t k = 0; k < nkeys; k++)
			if (rel_holds(m->rel, order(m->cmp, count, keys[k])))
				return 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < nkeys; k++) {
			int hit = 0;

			switch (m->mt) {
			case SV_MT_IS:
				/* an empty value is only ever the empty key
				 * (Pigeonhole; it matters for i;ascii-numeric,
				 * where both would be "infinity") */
				hit = values[i][0] == '\0' ? keys[k][0] == '\0' :
				    order(m->cmp, values[i], keys[k]) == 0;
				break;
			case SV_MT_CONTAINS:
				hit = contains(m->cmp, values[i], keys[k]);
				break;
			case SV_MT_MATCHES:
				hit = glob(m->cmp, values[i], keys[k]);
				break;
			case SV_MT_VALUE:
				hit = rel_holds(m->rel,
				    order(m->cmp, values[i], keys[k]));
				break;
			case SV_MT_COUNT:
				break;
			}
			if (hit)
				return 1;
		}
	}
	return 0;
}

char *
sv_numeric_form(const char *s)
{
	size_t n;

	if (!isdigit((unsigned char)*s))
		return xstrdup(SV_NUM_INFINITY);
	while (*s == '0' && isdigit((unsigned char)s[1]))
		s++;
	for (n = 0; isdigit((unsigned char)s[n]); n++)
		;
	/* atoi() stops at INT_MAX: larger numbers all compare alike */
	if (n > 9)
		return xstrdup(SV_NUM_MAX);
	return xstrndup(s, n);
}

void
sv_spamtest_value(double score, int percent, char out[8])
{
	/* The same float arithmetic as Pigeonhole, so that both engines
	 * agree at the boundaries (a score of 0.9 is 90 percent, not 89). */
	float ratio = (float)score;
	int v;

	if (score < 0) {
		strcpy(out, "0");
		return;
	}
	if (ratio > 1)
		ratio = 1;
	if (percent)
		v = (int)(ratio * 100 + 0.001);
	else
		v = (int)(ratio * 9 + 1.001);
	snprintf(out, 8, "%d", v);
}

static int
flag_index(const struct sv_flags *f, const char *flag)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcasecmp(f->v[i], flag) == 0)
			return (int)i;
	return -1;
}

void
sv_flags_add(struct sv_flags *f, char *const *flags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (flag_index(f, flags[i]) >= 0)
			continue;
		f->v = xreallocarray(f->v, f->n + 1, sizeof(char *));
		f->v[f->n++] = xstrdup(flags[i]);
	}
}

void
sv_flags_remove(struct sv_flags *f, char *const *flags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int k = flag_index(f, flags[i]);

		if (k < 0)
			continue;
		free(f->v[k]);
		memmove(&f->v[k], &f->v[k + 1],
		    (f->n - (size_t)k - 1) * sizeof(char *));
		f->n--;
	}
}

void
sv_flags_release(struct sv_flags *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}
