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
#include <regex.h>
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
 * last "*", so a hostile pattern costs at most length(s) * length(p).
 * With cap (SV_NMATCH entries), records where each wildcard matched:
 * every "*" as short as the rest allows, from the left (measured on
 * Pigeonhole: "*l*o*" on "Hello World" gives "He", "l", " World"). */
struct span {
	size_t start, len;
};

static int
glob(enum sv_cmp cmp, const char *s, const char *p, struct span *cap,
    size_t *ncap_r)
{
	const char *s0 = s, *star_p = NULL, *star_s = NULL;
	size_t ncap = 0, star_cap = 0;

	while (*s) {
		const char *pc = p;

		if (*p == '*') {
			/* a run of stars: the last takes what they match */
			while (p[1] == '*') {
				if (cap && ncap < SV_NMATCH - 1) {
					cap[ncap].start = (size_t)(s - s0);
					cap[ncap++].len = 0;
				}
				p++;
			}
			p++;
			star_cap = ncap;
			if (cap && ncap < SV_NMATCH - 1) {
				cap[ncap].start = (size_t)(s - s0);
				cap[ncap++].len = 0;
			}
			if (*p == '\0') {
				if (cap && star_cap < ncap)
					cap[star_cap].len = strlen(s);
				goto matched;
			}
			star_p = p;
			star_s = s;
			continue;
		}
		if (*p == '?') {
			if (cap && ncap < SV_NMATCH - 1) {
				cap[ncap].start = (size_t)(s - s0);
				cap[ncap++].len = 1;
			}
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
		/* the last star takes one more octet */
		p = star_p;
		s = ++star_s;
		ncap = star_cap;
		if (cap && ncap < SV_NMATCH - 1)
			cap[ncap++].len = (size_t)(s - s0) - cap[star_cap].start;
	}
	while (*p == '*') {
		if (cap && ncap < SV_NMATCH - 1) {
			cap[ncap].start = (size_t)(s - s0);
			cap[ncap++].len = 0;
		}
		p++;
	}
	if (*p != '\0')
		return 0;
matched:
	if (ncap_r)
		*ncap_r = ncap;
	return 1;
}

void
sv_captures_release(struct sv_captures *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
	c->n = 0;
}

static void
capture_glob(struct sv_captures *c, const char *value,
    const struct span *sp, size_t n)
{
	sv_captures_release(c);
	c->v[c->n++] = xstrdup(value);
	for (size_t i = 0; i < n && c->n < SV_NMATCH; i++)
		c->v[c->n++] = xstrndup(value + sp[i].start, sp[i].len);
}

static void
capture_regex(struct sv_captures *c, const char *value,
    const regmatch_t *m, size_t n)
{
	sv_captures_release(c);
	for (size_t i = 0; i < n && c->n < SV_NMATCH; i++)
		c->v[c->n++] = m[i].rm_so < 0 ? xstrdup("") :
		    xstrndup(value + m[i].rm_so,
		    (size_t)(m[i].rm_eo - m[i].rm_so));
}

int
sv_regex_compile(regex_t *rx, const char *key, enum sv_cmp cmp,
    char err[128])
{
	int rc;

	if (strlen(key) > SV_MAX_REGEX) {
		snprintf(err, 128, "the regular expression is longer than %d "
		    "bytes", SV_MAX_REGEX);
		return -1;
	}
	rc = regcomp(rx, key, REG_EXTENDED |
	    (cmp == SV_CMP_CASEMAP ? REG_ICASE : 0));
	if (rc != 0) {
		char why[48];

		regerror(rc, rx, why, sizeof(why));
		snprintf(err, 128, "invalid regular expression \"%.40s\": %s",
		    key, why);
		return -1;
	}
	return 0;
}

int
sv_match_values(const struct sv_match *m, char *const *values, size_t n,
    char *const *keys, size_t nkeys, const regex_t *rx,
    struct sv_captures *cap)
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
			case SV_MT_MATCHES: {
				struct span sp[SV_NMATCH];
				size_t nsp = 0;

				hit = glob(m->cmp, values[i], keys[k],
				    cap ? sp : NULL, &nsp);
				if (hit && cap)
					capture_glob(cap, values[i], sp, nsp);
				break;
			}
			case SV_MT_REGEX: {
				regmatch_t rm[SV_NMATCH];

				hit = rx != NULL && regexec(&rx[k], values[i],
				    SV_NMATCH, rm, 0) == 0;
				if (hit && cap)
					capture_regex(cap, values[i], rm,
					    SV_NMATCH);
				break;
			}
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

const char *
sv_folder_unsafe(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (*name == '\0')
		return "it is empty";
	while (*p) {
		int n;

		if (*p < 0x20 || *p == 0x7f)
			return "it holds a control character";
		if (*p < 0x80)
			n = 0;
		else if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			n = 3;
		else
			return "it is not valid UTF-8";
		p++;
		while (n-- > 0) {
			if ((*p & 0xc0) != 0x80)
				return "it is not valid UTF-8";
			p++;
		}
	}
	for (const char *level = name;; level++) {
		size_t len = strcspn(level, "/");

		if (len == 0 || (len == 1 && level[0] == '.') ||
		    (len == 2 && level[0] == '.' && level[1] == '.'))
			return "it has an empty, \".\" or \"..\" level";
		level += len;
		if (*level == '\0')
			break;
	}
	return NULL;
}
