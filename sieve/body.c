/*
 * body.c - what the body test compares (RFC 5173): the raw body, or
 * the MIME parts of the wanted content types decoded to UTF-8 (transfer
 * encodings and charsets as agent/message.c decodes them for the
 * classifier), or the text of the message with HTML made plain.
 *
 * Measured on Pigeonhole 0.5.19: :text reads the text parts, HTML
 * without its tags; :content "text/html" reads the HTML as written;
 * :content "multipart" reads a multipart's prologue and epilogue, not
 * its parts; :content "" reads every part.  The message is what the
 * daemon fetched, at most max_message_bytes; decoding cannot make it
 * more than four times larger, and MIME nesting stops at
 * SV_BODY_DEPTH, parts at SV_BODY_PARTS, as hostile mail nests deeper.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/message.h"
#include "agent/xmem.h"
#include "sieve/sieve_int.h"

#define SV_BODY_DEPTH	32
#define SV_BODY_PARTS	1000

struct walk {
	enum sv_body mode;
	char *const *types;	/* :content */
	size_t ntypes;
	struct sv_values *out;
	size_t nparts;
};

static void
add_value(struct sv_values *v, char *s)
{
	v->v = xreallocarray(v->v, v->n + 2, sizeof(char *));
	v->v[v->n++] = s;
	v->v[v->n] = NULL;
}

void
sv_values_release(struct sv_values *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

/* Does media type (lower case) match a :content type ("" all, "text"
 * any text, "text/plain" just that)? */
static int
type_wanted(const struct walk *w, const char *type)
{
	size_t major = strcspn(type, "/");

	for (size_t i = 0; i < w->ntypes; i++) {
		const char *want = w->types[i];

		if (*want == '\0')
			return 1;
		if (strchr(want, '/') == NULL ? strlen(want) == major &&
		    strncasecmp(want, type, major) == 0 :
		    strcasecmp(want, type) == 0)
			return 1;
	}
	return 0;
}

static int
starts_tag(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(end - p) > n && strncasecmp(p, name, n) == 0 &&
	    !isalnum((unsigned char)p[n]);
}

/* HTML as text: tags dropped (a block tag leaves a space), script and
 * style left out, the common entities decoded. */
static char *
html_text(const char *s, size_t len)
{
	static const struct {
		const char *name;
		const char *text;
	} ent[] = {
		{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" },
		{ "apos", "'" }, { "nbsp", " " },
	};
	struct buf b = { 0 };
	const char *p = s, *end = s + len;

	while (p < end) {
		if (*p == '<') {
			const char *q = memchr(p, '>', (size_t)(end - p));
			const char *skip = NULL;

			if (q == NULL)
				break;
			if (starts_tag(p + 1, end, "script"))
				skip = "</script";
			else if (starts_tag(p + 1, end, "style"))
				skip = "</style";
			if (skip != NULL) {
				const char *c = q;

				while (c < end && !(*c == '<' &&
				    (size_t)(end - c) >= strlen(skip) &&
				    strncasecmp(c, skip, strlen(skip)) == 0))
					c++;
				q = memchr(c, '>', (size_t)(end - c));
				if (q == NULL)
					break;
			}
			/* a block tag is a space, but not at the start */
			if (b.len > 0 && (starts_tag(p + 1, end, "br") ||
			    starts_tag(p + 1, end, "p") ||
			    starts_tag(p + 1, end, "/p") ||
			    starts_tag(p + 1, end, "div") ||
			    starts_tag(p + 1, end, "/div") ||
			    starts_tag(p + 1, end, "li") ||
			    starts_tag(p + 1, end, "tr")))
				buf_appends(&b, " ");
			p = q + 1;
			continue;
		}
		if (*p == '&') {
			const char *semi = memchr(p, ';',
			    (size_t)(end - p) < 12 ? (size_t)(end - p) : 12);
			size_t k;

			if (semi != NULL && p[1] == '#') {
				unsigned long cp = p[2] == 'x' || p[2] == 'X' ?
				    strtoul(p + 3, NULL, 16) :
				    strtoul(p + 2, NULL, 10);

				if (cp > 0 && cp < 0x110000) {
					sv_put_utf8(&b, cp);
					p = semi + 1;
					continue;
				}
			}
			for (k = 0; semi && k < sizeof(ent) / sizeof(ent[0]);
			    k++)
				if ((size_t)(semi - p - 1) ==
				    strlen(ent[k].name) &&
				    strncmp(p + 1, ent[k].name,
				    strlen(ent[k].name)) == 0)
					break;
			if (semi != NULL && k < sizeof(ent) / sizeof(ent[0])) {
				buf_appends(&b, ent[k].text);
				p = semi + 1;
				continue;
			}
		}
		buf_append(&b, p, 1);
		p++;
	}
	buf_appends(&b, "");
	return buf_steal(&b);
}

/* One leaf part: its content decoded, text converted to UTF-8. */
static void
leaf(struct walk *w, const struct message *m, const char *type,
    const char *ct)
{
	const char *cte_v = message_header(m, "content-transfer-encoding", 0);
	char cte[64], charset[64];
	struct buf dec = { 0 };
	const char *data = m->body ? m->body : "";
	size_t dlen = m->body ? m->body_len : 0;
	int text = strncmp(type, "text/", 5) == 0;
	char *v;

	if (w->mode == SV_BODY_TEXT ? !text : !type_wanted(w, type))
		return;
	message_media_type(cte_v ? cte_v : "7bit", cte, sizeof(cte));
	if (message_decode_transfer(cte, data, dlen, &dec)) {
		data = dec.data ? dec.data : "";
		dlen = dec.len;
	}
	if (!ct || !message_param(ct, "charset", charset, sizeof(charset)))
		charset[0] = '\0';
	v = text ? message_to_utf8(*charset ? charset : NULL, data, dlen,
	    NULL) : xstrndup(data, dlen);
	if (w->mode == SV_BODY_TEXT && strcmp(type, "text/html") == 0) {
		char *plain = html_text(v, strlen(v));

		free(v);
		v = plain;
	}
	add_value(w->out, v);
	buf_release(&dec);
}

static void walk_entity(struct walk *w, const char *raw, size_t len,
    int depth);

/* The end of the text before the boundary line at p: its line break
 * belongs to the boundary (RFC 2046 5.1.1). */
static const char *
before_boundary(const char *start, const char *p)
{
	if (p > start && p[-1] == '\n')
		p--;
	if (p > start && p[-1] == '\r')
		p--;
	return p;
}

static void
add_text(struct walk *w, const char *s, size_t len)
{
	add_value(w->out, message_to_utf8(NULL, s, len, NULL));
}

/* The parts of a multipart body.  Its own values (:content "multipart")
 * are the prologue and, when there is one, the epilogue, as in
 * Pigeonhole. */
static void
walk_multipart(struct walk *w, const char *body, size_t len,
    const char *boundary, int depth, int wanted)
{
	const char *p = body, *end = body + len, *part = NULL;
	size_t blen = strlen(boundary);
	int first = 1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;

		if ((size_t)(end - p) >= blen + 2 && p[0] == '-' &&
		    p[1] == '-' && memcmp(p + 2, boundary, blen) == 0 &&
		    (p + 2 + blen == end ||
		    strchr("-\r\n \t", p[2 + blen]) != NULL)) {
			const char *pe = before_boundary(part ? part : body,
			    p);

			if (first && wanted)
				add_text(w, body, (size_t)(pe - body));
			else if (part != NULL)
				walk_entity(w, part, (size_t)(pe - part),
				    depth + 1);
			first = 0;
			part = next;
			if ((size_t)(end - p) >= blen + 4 &&
			    p[blen + 2] == '-' && p[blen + 3] == '-') {
				part = NULL;
				if (wanted && next < end)
					add_text(w, next, (size_t)(end - next));
				break;
			}
		}
		p = next;
	}
	if (part != NULL && part < end)	/* unterminated: keep what came */
		walk_entity(w, part, (size_t)(end - part), depth + 1);
}

static void
walk_entity(struct walk *w, const char *raw, size_t len, int depth)
{
	struct message m;
	const char *ct;
	char type[128], boundary[256];

	if (depth > SV_BODY_DEPTH || ++w->nparts > SV_BODY_PARTS)
		return;
	message_parse(&m, raw, len);
	ct = message_header(&m, "content-type", 0);
	message_media_type(ct ? ct : "text/plain", type, sizeof(type));
	if (strchr(type, '/') == NULL)
		snprintf(type, sizeof(type), "text/plain");
	if (strncmp(type, "multipart/", 10) == 0 && ct &&
	    message_param(ct, "boundary", boundary, sizeof(boundary))) {
		walk_multipart(w, m.body ? m.body : "", m.body ? m.body_len :
		    0, boundary, depth, w->mode == SV_BODY_CONTENT &&
		    type_wanted(w, type));
	} else if (strcmp(type, "message/rfc822") == 0 && m.body != NULL) {
		if (w->mode == SV_BODY_CONTENT && type_wanted(w, type))
			add_value(w->out, xstrndup(m.body, m.body_len));
		walk_entity(w, m.body, m.body_len, depth + 1);
	} else {
		leaf(w, &m, type, ct);
	}
	message_release(&m);
}

void
sv_body_values(const struct message *m, enum sv_body mode,
    char *const *types, size_t ntypes, struct sv_values *out)
{
	struct walk w = { 0 };

	memset(out, 0, sizeof(*out));
	if (mode == SV_BODY_RAW) {
		add_value(out, xstrndup(m->body ? m->body : "", m->body ?
		    m->body_len : 0));
		return;
	}
	w.mode = mode;
	w.types = types;
	w.ntypes = ntypes;
	w.out = out;
	walk_entity(&w, m->raw, m->len, 0);
}
