/*
 * mutf7.c - the modified UTF-7 codec for IMAP mailbox names (RFC 3501
 * section 5.1.3), see mutf7.h.
 *
 * Printable US-ASCII (0x20..0x7e) stands for itself, "&" is written "&-",
 * and every run of other characters becomes "&" + modified base64 (","
 * instead of "/", no "=" padding) of its UTF-16 units + "-".  The decoder
 * accepts only what the encoder produces, so a name read from LIST and
 * encoded again reaches the server byte for byte as it was listed.
 */
#include <stdint.h>
#include <stdlib.h>

#include "agent/mutf7.h"
#include "agent/xmem.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
is_printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/* Reads one code point at *pp and advances; -1 on invalid UTF-8. */
static int
utf8_next(const unsigned char **pp, uint32_t *cp_r)
{
	const unsigned char *p = *pp;
	uint32_t cp, min;
	int n;

	if (p[0] < 0x80) {
		cp = p[0];
		n = 1;
		min = 0;
	} else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		cp = p[0] & 0x1f;
		n = 2;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		cp = p[0] & 0x0f;
		n = 3;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		cp = p[0] & 0x07;
		n = 4;
		min = 0x10000;
	} else {
		return -1;
	}
	/* A NUL terminator fails the continuation test: no overrun. */
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*pp = p + n;
	*cp_r = cp;
	return 0;
}

static void
utf8_put(struct buf *b, uint32_t cp)
{
	char s[4];
	size_t n;

	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xc0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		s[0] = (char)(0xf0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(b, s, n);
}

/* Base64 bit accumulator for the encoder. */
struct b64_out {
	uint32_t bits;
	int nbits;
};

static void
b64_put_unit(struct buf *b, struct b64_out *o, uint32_t unit)
{
	o->bits = (o->bits << 16) | unit;
	o->nbits += 16;
	while (o->nbits >= 6) {
		o->nbits -= 6;
		buf_append(b, &b64[(o->bits >> o->nbits) & 0x3f], 1);
	}
	o->bits &= (1u << o->nbits) - 1;
}

int
mutf7_encode(const char *utf8, char **out_r, char **err_r)
{
	const unsigned char *p = (const unsigned char *)utf8;
	struct buf b = { 0 };
	uint32_t cp;

	*out_r = NULL;
	while (*p != '\0') {
		if (is_printable(*p)) {
			if (*p == '&')
				buf_appends(&b, "&-");
			else
				buf_append(&b, p, 1);
			p++;
			continue;
		}
		struct b64_out o = { 0, 0 };

		buf_appends(&b, "&");
		while (*p != '\0' && !is_printable(*p)) {
			const unsigned char *at = p;

			if (utf8_next(&p, &cp) < 0) {
				*err_r = xasprintf("invalid UTF-8 at byte %zu "
				    "of mailbox name",
				    (size_t)(at - (const unsigned char *)utf8));
				buf_release(&b);
				return -1;
			}
			if (cp >= 0x10000) {
				cp -= 0x10000;
				b64_put_unit(&b, &o, 0xd800 | (cp >> 10));
				b64_put_unit(&b, &o, 0xdc00 | (cp & 0x3ff));
			} else {
				b64_put_unit(&b, &o, cp);
			}
		}
		if (o.nbits > 0)
			buf_append(&b, &b64[(o.bits << (6 - o.nbits)) & 0x3f],
			    1);
		buf_appends(&b, "-");
	}
	*out_r = buf_steal(&b);
	return 0;
}

/* Decodes one base64 run starting after "&"; *pp ends after its "-". */
static int
decode_run(const char **pp, struct buf *b, const char **why_r)
{
	const char *p = *pp;
	uint32_t bits = 0, high = 0;
	int nbits = 0;

	for (; *p != '-'; p++) {
		int v;

		if (*p == '\0') {
			*why_r = "unterminated '&' sequence";
			return -1;
		}
		v = b64_value((unsigned char)*p);
		if (v < 0) {
			*why_r = "invalid character in base64 run";
			return -1;
		}
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = (bits >> nbits) & 0xffff;

		bits &= (1u << nbits) - 1;
		if (high != 0) {
			if (unit < 0xdc00 || unit > 0xdfff) {
				*why_r = "unpaired UTF-16 surrogate";
				return -1;
			}
			utf8_put(b, 0x10000 + ((high - 0xd800) << 10) +
			    (unit - 0xdc00));
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			*why_r = "unpaired UTF-16 surrogate";
			return -1;
		} else if (unit == 0) {
			*why_r = "NUL character";
			return -1;
		} else if (unit <= 0x7e && is_printable((unsigned char)unit)) {
			*why_r = "printable ASCII character in base64 run";
			return -1;
		} else {
			utf8_put(b, unit);
		}
	}
	if (nbits >= 6) {
		*why_r = "partial UTF-16 unit in base64 run";
		return -1;
	}
	if (bits != 0) {
		*why_r = "non-zero padding bits in base64 run";
		return -1;
	}
	if (high != 0) {
		*why_r = "unpaired UTF-16 surrogate";
		return -1;
	}
	*pp = p + 1;
	return 0;
}

int
mutf7_decode(const char *in, char **out_r, char **err_r)
{
	const char *p = in, *why = NULL;
	struct buf b = { 0 };
	int after_run = 0;

	*out_r = NULL;
	while (*p != '\0') {
		unsigned char c = (unsigned char)*p;

		if (!is_printable(c)) {
			why = "byte outside printable ASCII";
			goto bad;
		}
		if (c != '&') {
			buf_append(&b, p, 1);
			p++;
			after_run = 0;
			continue;
		}
		if (p[1] == '-') {
			buf_appends(&b, "&");
			p += 2;
			after_run = 0;
			continue;
		}
		if (after_run) {
			/* The encoder would have made one run of both. */
			why = "two adjacent base64 runs";
			goto bad;
		}
		p++;
		if (decode_run(&p, &b, &why) < 0)
			goto bad;
		after_run = 1;
	}
	*out_r = buf_steal(&b);
	return 0;
bad:
	*err_r = xasprintf("invalid modified UTF-7 mailbox name at byte %zu: "
	    "%s", (size_t)(p - in), why);
	buf_release(&b);
	return -1;
}
