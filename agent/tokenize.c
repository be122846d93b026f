/*
 * tokenize.c - turns one message into its set of distinct features: the
 * header fields (tagged by field name), the sender and relay evidence at
 * full granularity, and a MIME walk of the body (multipart, base64,
 * quoted-printable, charsets to UTF-8, HTML reduced to text, tag names and
 * link hosts, attachments reduced to their type and name).  Body text
 * gives words and adjacent word pairs.
 *
 * Everything here is bounded: the caller's byte cap, a MIME depth and part
 * limit, and a limit on the length of any one feature.  Header splitting,
 * RFC 2047 and charset conversion come from message.c.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/message.h"
#include "agent/radix.h"
#include "agent/tokenize.h"
#include "agent/xmem.h"

#define WORD_MIN	2	/* bytes; shorter words carry no evidence */
#define WORD_MAX	40	/* bytes; longer ones are encoded junk */
#define FEATURE_MAX	200	/* bytes of one feature text */
#define MIME_DEPTH_MAX	12
#define MIME_PARTS_MAX	256
#define HEADERS_MAX	256
#define RECEIVED_MAX	16

struct tk {
	struct features *f;
	int parts;		/* MIME parts walked so far */
};

/* --- the feature set ---------------------------------------------------- */

uint64_t
feature_hash(const char *text, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a, then a mixer */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)text[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static void
index_grow(struct features *f)
{
	size_t cap = f->index_cap ? f->index_cap * 2 : 1024;

	free(f->index);
	f->index = xcalloc(cap, sizeof(*f->index));
	f->index_cap = cap;
	for (size_t i = 0; i < f->n; i++) {
		size_t j = (size_t)f->v[i].hash & (cap - 1);
		while (f->index[j] != 0)
			j = (j + 1) & (cap - 1);
		f->index[j] = (uint32_t)i + 1;
	}
}

static void
add_feature(struct tk *t, const char *text, size_t len)
{
	struct features *f = t->f;
	uint64_t h;
	size_t j;

	if (len == 0 || len > FEATURE_MAX)
		return;
	h = feature_hash(text, len);
	if ((f->n + 1) * 2 > f->index_cap)
		index_grow(f);
	j = (size_t)h & (f->index_cap - 1);
	while (f->index[j] != 0) {
		if (f->v[f->index[j] - 1].hash == h)
			return;
		j = (j + 1) & (f->index_cap - 1);
	}
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	f->v[f->n].hash = h;
	f->v[f->n].text_off = (uint32_t)f->text.len;
	f->v[f->n].text_len = (uint32_t)len;
	buf_append(&f->text, text, len);
	buf_append(&f->text, "", 1);
	f->index[j] = (uint32_t)++f->n;
}

/* Adds "prefix:text", or text alone when prefix is NULL. */
static void
add_tagged(struct tk *t, const char *prefix, const char *text, size_t len)
{
	char tmp[FEATURE_MAX + 1];
	size_t plen = prefix ? strlen(prefix) : 0;

	if (plen + 1 + len > FEATURE_MAX)
		return;
	if (plen) {
		memcpy(tmp, prefix, plen);
		tmp[plen++] = ':';
	}
	memcpy(tmp + plen, text, len);
	add_feature(t, tmp, plen + len);
}

const char *
feature_text(const struct features *f, size_t i)
{
	return f->text.data + f->v[i].text_off;
}

void
features_release(struct features *f)
{
	free(f->v);
	free(f->index);
	buf_release(&f->text);
	memset(f, 0, sizeof(*f));
}

/* --- words -------------------------------------------------------------- */

static int
word_start(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || c == '$';
}

static int
word_inner(unsigned char c)
{
	return word_start(c) || c == '-' || c == '_' || c == '.' ||
	    c == '\'' || c == '@' || c == '%';
}

/* The length of the UTF-8 punctuation or space character at s (Latin-1
 * punctuation such as the non-breaking space, guillemets and the
 * replacement character that stands for undecodable bytes; the General
 * and CJK punctuation blocks), or 0.  These separate words like ASCII
 * punctuation does. */
static size_t
utf8_punct(const unsigned char *s, size_t left)
{
	if (left >= 2 && s[0] == 0xc2 && s[1] >= 0xa0 && s[1] <= 0xbf)
		return 2;
	if (left >= 2 && s[0] == 0xc3 && (s[1] == 0x97 || s[1] == 0xb7))
		return 2;
	if (left >= 3 && s[0] == 0xe2 && (s[1] == 0x80 || s[1] == 0x81))
		return 3;
	if (left >= 3 && s[0] == 0xe3 && s[1] == 0x80)
		return 3;
	if (left >= 3 && s[0] == 0xef && s[1] == 0xbf && s[2] == 0xbd)
		return 3;
	return 0;
}

/* Long runs of digits (phone numbers, ids, dates) are unique per message:
 * they would bloat the store without ever being seen twice. */
static int
word_useful(const char *w, size_t len)
{
	size_t digits = 0;

	if (len < WORD_MIN || len > WORD_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (isdigit((unsigned char)w[i]))
			digits++;
	return !(digits > 6 || (digits > 0 && digits * 2 >= len && len > 4));
}

/* Emits the words of len bytes of UTF-8 text with the given tag, and with
 * pairs != 0 also each pair of adjacent words ("free money"). */
static void
add_words(struct tk *t, const char *prefix, const char *s, size_t len,
    int pairs)
{
	char prev[WORD_MAX + 1], cur[WORD_MAX + 1], pair[2 * WORD_MAX + 2];
	size_t prev_len = 0, i = 0;

	while (i < len) {
		size_t start, wlen;

		while (i < len) {
			const unsigned char *u = (const unsigned char *)s + i;
			size_t p = *u >= 0x80 ? utf8_punct(u, len - i) : 0;
			if (p == 0 && word_start(*u))
				break;
			i += p ? p : 1;
		}
		start = i;
		while (i < len && word_inner((unsigned char)s[i]) &&
		    ((unsigned char)s[i] < 0x80 ||
		    utf8_punct((const unsigned char *)s + i, len - i) == 0))
			i++;
		wlen = i - start;
		while (wlen > 0 && strchr("-_.'@", s[start + wlen - 1]))
			wlen--;
		if (wlen == 0)
			continue;
		if (!word_useful(s + start, wlen)) {
			prev_len = 0;
			continue;
		}
		for (size_t k = 0; k < wlen; k++)
			cur[k] = (char)tolower((unsigned char)s[start + k]);
		add_tagged(t, prefix, cur, wlen);
		if (pairs && prev_len > 0) {
			memcpy(pair, prev, prev_len);
			pair[prev_len] = ' ';
			memcpy(pair + prev_len + 1, cur, wlen);
			add_tagged(t, prefix, pair, prev_len + 1 + wlen);
		}
		memcpy(prev, cur, wlen);
		prev_len = wlen;
	}
}

/* --- hosts and addresses ------------------------------------------------ */

static int
host_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.';
}

/* Lowercases a host name candidate into out; 0 unless it is a plausible
 * DNS name (a dot, letters in the last label) or a dotted-quad IP. */
static size_t
clean_host(const char *s, size_t len, char *out, size_t outsz, int *is_ip)
{
	size_t dots = 0, alpha_last = 0, digits_only = 1;

	while (len > 0 && s[len - 1] == '.')
		len--;
	if (len < 3 || len >= outsz || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!host_char(c))
			return 0;
		out[i] = (char)tolower(c);
		if (c == '.') {
			dots++;
			alpha_last = 0;
		} else if (isalpha(c) || c == '-') {
			alpha_last = 1;
			digits_only = 0;
		}
	}
	out[len] = '\0';
	*is_ip = digits_only && dots == 3;
	if (dots == 0 || (!alpha_last && !*is_ip))
		return 0;
	return len;
}

/* Relay evidence from one Received field: every exact host name and IP it
 * names, never a parent domain. */
static void
add_received(struct tk *t, const char *v)
{
	size_t i = 0, len = strlen(v);

	while (i < len) {
		char host[256];
		size_t start, n;
		int is_ip;

		while (i < len && !isalnum((unsigned char)v[i]))
			i++;
		start = i;
		while (i < len && host_char((unsigned char)v[i]))
			i++;
		/* Skip the "id" values and the parts of e-mail addresses. */
		if ((start > 0 && v[start - 1] == '@') ||
		    (i < len && v[i] == '@'))
			continue;
		n = clean_host(v + start, i - start, host, sizeof(host),
		    &is_ip);
		if (n > 0)
			add_tagged(t, is_ip ? "relay-ip" : "relay-host", host,
			    n);
	}
}

/* The exact addresses in an address field, as "TAG-addr:a@b" and the
 * exact domain as "TAG-domain:b". */
static void
add_addresses(struct tk *t, const char *tag, const char *v)
{
	char pfx[64], addr[256];
	size_t len = strlen(v);

	for (size_t i = 0; i < len; i++) {
		size_t s, e, n;
		const char *at;

		if (v[i] != '@')
			continue;
		s = i;
		while (s > 0 && !strchr(" \t<>(),;:\"[]", v[s - 1]))
			s--;
		e = i + 1;
		while (e < len && !strchr(" \t<>(),;:\"[]", v[e]))
			e++;
		n = e - s;
		if (n < 3 || n >= sizeof(addr) || e == i + 1)
			continue;
		for (size_t k = 0; k < n; k++)
			addr[k] = (char)tolower((unsigned char)v[s + k]);
		addr[n] = '\0';
		snprintf(pfx, sizeof(pfx), "%s-addr", tag);
		add_tagged(t, pfx, addr, n);
		at = strrchr(addr, '@');
		snprintf(pfx, sizeof(pfx), "%s-domain", tag);
		add_tagged(t, pfx, at + 1, strlen(at + 1));
		i = e;
	}
}

/* The host of a URL starting at s (after "scheme://" or at "www."). */
static void
add_url_host(struct tk *t, const char *s, size_t len)
{
	char host[256];
	size_t e = 0, start = 0;
	int is_ip;

	while (e < len && !strchr("/?#\"'<> \t\r\n)]\\", s[e]))
		e++;
	for (size_t k = 0; k < e; k++)	/* drop user:password@ */
		if (s[k] == '@')
			start = k + 1;
	for (size_t k = start; k < e; k++)	/* drop :port */
		if (s[k] == ':') {
			e = k;
			break;
		}
	if (clean_host(s + start, e - start, host, sizeof(host), &is_ip))
		add_tagged(t, "url-host", host, strlen(host));
}

/* Link hosts named in plain text. */
static void
add_text_urls(struct tk *t, const char *s, size_t len)
{
	for (size_t i = 0; i + 4 < len; i++) {
		if ((s[i] == ':' && i + 3 < len && s[i + 1] == '/' &&
		    s[i + 2] == '/')) {
			add_url_host(t, s + i + 3, len - i - 3);
			i += 2;
		} else if ((s[i] == 'w' || s[i] == 'W') &&
		    strncasecmp(s + i, "www.", 4) == 0 &&
		    (i == 0 || !host_char((unsigned char)s[i - 1]))) {
			add_url_host(t, s + i, len - i);
			i += 3;
		}
	}
}

static void
add_text(struct tk *t, const char *s, size_t len)
{
	add_words(t, NULL, s, len, 1);
	add_text_urls(t, s, len);
}

/* --- HTML --------------------------------------------------------------- */

static void
put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = ' ';
	if (cp < 0x80) {
		u[0] = (char)cp;
		buf_append(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_append(b, u, 4);
	}
}

/* Decodes the character reference at s ("&amp;", "&#65;", "&#x41;") into
 * out; returns the bytes consumed, or 0 if it is not one. */
static size_t
html_entity(const char *s, size_t len, struct buf *out)
{
	static const struct { const char *name; unsigned long cp; } ents[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
		{ "apos", '\'' }, { "nbsp", ' ' }, { "copy", 0xa9 },
		{ "reg", 0xae }, { "euro", 0x20ac }, { "pound", 0xa3 },
	};
	size_t i = 1;
	unsigned long cp = 0;

	if (len > 1 && s[1] == '#') {
		int hex = len > 2 && (s[2] == 'x' || s[2] == 'X');
		size_t d0;
		i = hex ? 3 : 2;
		d0 = i;
		while (i < len && i < d0 + 7 &&
		    (hex ? isxdigit((unsigned char)s[i]) :
		    isdigit((unsigned char)s[i]))) {
			int c = (unsigned char)s[i];
			cp = cp * (hex ? 16 : 10) + (unsigned long)(isdigit(c) ?
			    c - '0' : tolower(c) - 'a' + 10);
			i++;
		}
		if (i == d0)
			return 0;
		if (i < len && s[i] == ';')
			i++;
		put_utf8(out, cp);
		return i;
	}
	for (size_t k = 0; k < sizeof(ents) / sizeof(*ents); k++) {
		size_t n = strlen(ents[k].name);
		if (len > n + 1 && strncasecmp(s + 1, ents[k].name, n) == 0 &&
		    s[n + 1] == ';') {
			put_utf8(out, ents[k].cp);
			return n + 2;
		}
	}
	return 0;
}

/* Link hosts in the attributes of one tag (href, src, action). */
static void
html_tag_links(struct tk *t, const char *s, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++) {
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
			add_url_host(t, s + i + 3, len - i - 3);
	}
}

/* Finds needle (lowercase ASCII) in s, ignoring case; NULL if absent. */
static const char *
find_nocase(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(s + i, needle, n) == 0)
			return s + i;
	return NULL;
}

/* Reduces HTML to its text (into out), its tag names ("html:font") and
 * its link hosts.  Comments vanish without a trace so that words split by
 * them ("vi<!-- -->agra") are seen whole; script and style are dropped. */
static void
html_to_text(struct tk *t, const char *s, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		const char *e;
		size_t j, n, end;
		char name[16];
		int closing;

		if (s[i] == '&') {
			n = html_entity(s + i, len - i, out);
			if (n == 0)
				buf_append(out, s + i, (n = 1));
			i += n;
			continue;
		}
		if (s[i] != '<') {
			for (j = i; j < len && s[j] != '<' && s[j] != '&'; j++)
				;
			buf_append(out, s + i, j - i);
			i = j;
			continue;
		}
		if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			e = memmem(s + i + 4, len - i - 4, "-->", 3);
			i = e ? (size_t)(e - s) + 3 : len;
			continue;
		}
		e = memchr(s + i, '>', len - i);
		end = e ? (size_t)(e - s) : len;
		j = i + 1;
		closing = j < end && s[j] == '/';
		j += (size_t)closing;
		for (n = 0; j < end && n + 1 < sizeof(name) &&
		    isalnum((unsigned char)s[j]); j++)
			name[n++] = (char)tolower((unsigned char)s[j]);
		name[n] = '\0';
		if (n > 0)
			add_tagged(t, "html", name, n);
		html_tag_links(t, s + i, end - i);
		i = end < len ? end + 1 : len;
		buf_append(out, " ", 1);
		if (!closing && (strcmp(name, "script") == 0 ||
		    strcmp(name, "style") == 0)) {
			char close[24];
			snprintf(close, sizeof(close), "</%s", name);
			e = find_nocase(s + i, len - i, close);
			i = e ? (size_t)(e - s) : len;
		}
	}
}

/* --- MIME --------------------------------------------------------------- */

static void walk_message(struct tk *t, const char *raw, size_t len,
    int depth, int top);

static void
walk_multipart(struct tk *t, const char *body, size_t len,
    const char *boundary, int depth)
{
	const char *p = body, *end = body + len, *part = NULL;
	size_t blen = strlen(boundary);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;

		if ((size_t)(end - p) >= blen + 2 && p[0] == '-' &&
		    p[1] == '-' && memcmp(p + 2, boundary, blen) == 0 &&
		    (p + 2 + blen == end ||
		    strchr("-\r\n \t", p[2 + blen]) != NULL)) {
			if (part != NULL) {
				const char *pe = p;
				if (pe > part && pe[-1] == '\n')
					pe--;
				if (pe > part && pe[-1] == '\r')
					pe--;
				walk_message(t, part, (size_t)(pe - part),
				    depth + 1, 0);
			}
			part = next;
			if ((size_t)(end - p) >= blen + 4 &&
			    p[blen + 2] == '-' && p[blen + 3] == '-') {
				part = NULL;	/* closing delimiter */
				break;
			}
		}
		p = next;
	}
	/* Unterminated: keep what came. */
	if (part != NULL && part < end)
		walk_message(t, part, (size_t)(end - part), depth + 1, 0);
}

static void
add_attachment(struct tk *t, const char *type, const char *name)
{
	char lname[256];
	size_t n = 0;
	const char *dot;

	add_tagged(t, "attach-type", type, strlen(type));
	if (name == NULL || *name == '\0')
		return;
	for (; name[n] && n + 1 < sizeof(lname); n++)
		lname[n] = (char)tolower((unsigned char)name[n]);
	lname[n] = '\0';
	add_tagged(t, "attach-name", lname, n);
	dot = strrchr(lname, '.');
	if (dot != NULL && dot[1] != '\0' && strlen(dot + 1) <= 8)
		add_tagged(t, "attach-ext", dot + 1, strlen(dot + 1));
}

static void
walk_text(struct tk *t, const char *body, size_t len, const char *cte,
    const char *charset, int html)
{
	struct buf dec = { 0 }, text = { 0 };
	const char *data = body;
	size_t dlen = len, ulen;
	char *utf8;

	if (message_decode_transfer(cte, body, len, &dec)) {
		data = dec.data ? dec.data : "";
		dlen = dec.len;
	}
	utf8 = message_to_utf8(*charset ? charset : NULL, data, dlen, &ulen);
	if (html) {
		html_to_text(t, utf8, ulen, &text);
		if (text.len > 0)
			add_text(t, text.data, text.len);
	} else {
		add_text(t, utf8, ulen);
	}
	free(utf8);
	buf_release(&dec);
	buf_release(&text);
}

/* The body of one MIME entity whose header fields are in m. */
static void
walk_entity(struct tk *t, const struct message *m, int depth)
{
	const char *ct = message_header(m, "content-type", 0);
	const char *cd = message_header(m, "content-disposition", 0);
	const char *cte_v = message_header(m, "content-transfer-encoding", 0);
	char type[128], cte[64], charset[64], boundary[256], name[256];
	char *dname = NULL;

	message_media_type(ct ? ct : "text/plain", type, sizeof(type));
	if (strchr(type, '/') == NULL)
		snprintf(type, sizeof(type), "text/plain");
	message_media_type(cte_v ? cte_v : "7bit", cte, sizeof(cte));
	if (!ct || !message_param(ct, "charset", charset, sizeof(charset)))
		charset[0] = '\0';
	for (char *c = charset; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	add_tagged(t, "mime-type", type, strlen(type));
	if (strcmp(cte, "7bit") != 0 && strcmp(cte, "8bit") != 0)
		add_tagged(t, "mime-encoding", cte, strlen(cte));
	if (*charset)
		add_tagged(t, "charset", charset, strlen(charset));

	if (strncmp(type, "multipart/", 10) == 0) {
		if (ct && message_param(ct, "boundary", boundary,
		    sizeof(boundary)))
			walk_multipart(t, m->body, m->body_len, boundary,
			    depth);
		else	/* no boundary: all we can do is read it as text */
			walk_text(t, m->body, m->body_len, cte, charset, 0);
		return;
	}
	if (strcmp(type, "message/rfc822") == 0) {
		walk_message(t, m->body, m->body_len, depth + 1, 1);
		return;
	}
	if ((cd && message_param(cd, "filename", name, sizeof(name))) ||
	    (ct && message_param(ct, "name", name, sizeof(name))))
		dname = message_decode_words(name);
	if (dname != NULL || (cd && strncasecmp(cd, "attachment", 10) == 0) ||
	    strncmp(type, "text/", 5) != 0) {
		add_attachment(t, type, dname);
		free(dname);
		return;
	}
	walk_text(t, m->body, m->body_len, cte, charset,
	    strcmp(type, "text/html") == 0);
}

/* The header fields of a message or part, tagged by field name. */
static void
add_headers(struct tk *t, const struct message *m)
{
	size_t received = 0;

	for (size_t i = 0; i < m->nheaders && i < HEADERS_MAX; i++) {
		const char *v = m->headers[i].value;
		char name[48];
		size_t n = 0;
		char *dec;

		for (const char *c = m->headers[i].name; *c; c++) {
			if (n + 1 >= sizeof(name))
				break;
			name[n++] = (char)tolower((unsigned char)*c);
		}
		name[n] = '\0';
		if (n == 0 || n + 1 >= sizeof(name))
			continue;
		add_tagged(t, "header", name, n);
		if (strcmp(name, "received") == 0) {
			if (received++ < RECEIVED_MAX)
				add_received(t, v);
			continue;
		}
		if (strcmp(name, "message-id") == 0) {
			const char *at = strrchr(v, '@');
			if (at != NULL)
				add_words(t, "message-id", at + 1,
				    strlen(at + 1), 0);
			continue;
		}
		/* MIME fields are the walk's business; the rest are unique
		 * per message (dates, ids, signatures) and teach nothing. */
		if (strncmp(name, "content-", 8) == 0 ||
		    strcmp(name, "mime-version") == 0 ||
		    strcmp(name, "date") == 0 ||
		    strcmp(name, "references") == 0 ||
		    strcmp(name, "in-reply-to") == 0 ||
		    strstr(name, "signature") != NULL ||
		    strncmp(name, "arc-", 4) == 0)
			continue;
		dec = message_decode_words(v);
		if (strcmp(name, "from") == 0 || strcmp(name, "sender") == 0 ||
		    strcmp(name, "reply-to") == 0 ||
		    strcmp(name, "return-path") == 0)
			add_addresses(t, name, dec);
		add_words(t, name, dec, strlen(dec),
		    strcmp(name, "subject") == 0);
		free(dec);
	}
}

static void
walk_message(struct tk *t, const char *raw, size_t len, int depth, int top)
{
	struct message m;

	if (depth > MIME_DEPTH_MAX || t->parts >= MIME_PARTS_MAX)
		return;
	t->parts++;
	message_parse(&m, raw, len);
	/* A part's own fields are only MIME fields; an attached message's
	 * are a whole header, tokenized like the outer one. */
	if (top)
		add_headers(t, &m);
	walk_entity(t, &m, depth);
	message_release(&m);
}

void
tokenize(const char *msg, size_t len, size_t max_bytes, struct features *f)
{
	struct tk t = { .f = f, .parts = 0 };
	size_t n = max_bytes > 0 && len > max_bytes ? max_bytes : len;

	memset(f, 0, sizeof(*f));
	f->bytes_total = len;
	f->bytes_read = n;
	f->truncated = n < len;
	if (n == 0)
		return;
	walk_message(&t, msg, n, 0, 1);
	free(f->index);
	f->index = NULL;
	f->index_cap = 0;
	radix_sort(f->v, f->n, sizeof(*f->v), offsetof(struct feature, hash),
	    0);
}
