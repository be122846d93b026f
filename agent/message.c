/*
 * message.c - header fields, RFC 2047 words, charsets, MIME transfer
 * encodings and parameters, Message-ID and the content hash of one
 * message.
 *
 * Everything here is lenient by design: mail is hostile input, so a line
 * that is not a header field ends the header section instead of failing,
 * and text in a charset iconv does not know is kept (as UTF-8 if it is
 * valid UTF-8, else as Latin-1) rather than dropped.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/message.h"
#include "agent/xmem.h"

/* Length of the line starting at p (up to end), without its line end;
 * *next_r receives the start of the following line. */
static size_t
line_length(const char *p, const char *end, const char **next_r)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t len;

	if (nl == NULL) {
		*next_r = end;
		return (size_t)(end - p);
	}
	*next_r = nl + 1;
	len = (size_t)(nl - p);
	if (len > 0 && p[len - 1] == '\r')
		len--;
	return len;
}

/* Length of the field name if line is "name:", else 0. */
static size_t
field_name_length(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == ':')
			break;
		if (c <= ' ' || c >= 127)
			return 0;
	}
	return i < len && i > 0 ? i : 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends a physical line to an unfolded value: the line break goes, the
 * leading white space of a continuation stays (RFC 5322 §2.2.3). */
static void
add_header(struct message *m, size_t *cap, const char *name, size_t name_len,
    struct buf *value)
{
	char *v = value->data ? value->data : "";
	size_t start = 0, end = value->len;

	while (start < end && is_blank(v[start]))
		start++;
	while (end > start && is_blank(v[end - 1]))
		end--;
	if (m->nheaders == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		m->headers = xreallocarray(m->headers, *cap,
		    sizeof(*m->headers));
	}
	m->headers[m->nheaders].name = xstrndup(name, name_len);
	m->headers[m->nheaders].value = xstrndup(v + start, end - start);
	m->nheaders++;
	value->len = 0;
}

void
message_parse(struct message *m, const char *raw, size_t len)
{
	const char *p = raw, *end = raw + len, *next;
	const char *name = NULL;
	size_t name_len = 0, cap = 0, line_len;
	struct buf value = { 0 };

	memset(m, 0, sizeof(*m));
	m->raw = raw;
	m->len = len;
	/* An mbox envelope line is not part of the message. */
	if (len >= 5 && memcmp(raw, "From ", 5) == 0)
		line_length(p, end, &p);
	while (p < end) {
		line_len = line_length(p, end, &next);
		if (line_len == 0) {		/* blank line: body follows */
			p = next;
			break;
		}
		if ((*p == ' ' || *p == '\t') && name != NULL) {
			buf_append(&value, p, line_len);
		} else {
			size_t n = field_name_length(p, line_len);
			if (n == 0)		/* not a header: body starts */
				break;
			if (name != NULL)
				add_header(m, &cap, name, name_len, &value);
			name = p;
			name_len = n;
			buf_append(&value, p + n + 1, line_len - n - 1);
		}
		p = next;
	}
	if (name != NULL)
		add_header(m, &cap, name, name_len, &value);
	buf_release(&value);
	m->body = p;
	m->body_len = (size_t)(end - p);
}

void
message_release(struct message *m)
{
	for (size_t i = 0; i < m->nheaders; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	memset(m, 0, sizeof(*m));
}

const char *
message_header(const struct message *m, const char *name, size_t idx)
{
	for (size_t i = 0; i < m->nheaders; i++) {
		if (strcasecmp(m->headers[i].name, name) != 0)
			continue;
		if (idx-- == 0)
			return m->headers[i].value;
	}
	return NULL;
}

static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1; cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2; cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3; cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= n)	/* sequence cut off by the end */
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		    || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += n + 1;
	}
	return 1;
}

static void
append_latin1(struct buf *out, unsigned char c)
{
	char u[2];

	if (c < 0x80) {
		buf_append(out, &c, 1);
		return;
	}
	u[0] = (char)(0xc0 | c >> 6);
	u[1] = (char)(0x80 | (c & 0x3f));
	buf_append(out, u, 2);
}

/* True for labels that mean UTF-8 or plain ASCII, which need no iconv. */
static int
charset_is_utf8ish(const char *charset)
{
	return charset == NULL || *charset == '\0' ||
	    strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "utf8") == 0 ||
	    strcasecmp(charset, "us-ascii") == 0 ||
	    strcasecmp(charset, "ascii") == 0;
}

/* True for the usual labels of ISO-8859-1, whose every byte is its own
 * code point: converted without iconv, which would load its converter
 * module (dlopen) the first time a process uses it, and each forked
 * Sieve evaluator is a new process: that load was a quarter of the
 * evaluation of a message with a Latin-1 part. */
static int
charset_is_latin1(const char *charset)
{
	return charset != NULL && (strcasecmp(charset, "iso-8859-1") == 0 ||
	    strcasecmp(charset, "iso8859-1") == 0 ||
	    strcasecmp(charset, "iso_8859-1") == 0 ||
	    strcasecmp(charset, "latin1") == 0);
}

char *
message_to_utf8(const char *charset, const char *in, size_t len,
    size_t *out_len)
{
	struct buf out = { 0 };
	iconv_t cd = (iconv_t)-1;
	char *inp = (char *)in;
	size_t inleft = len;

	if (charset_is_latin1(charset)) {
		for (size_t i = 0; i < len; i++)
			append_latin1(&out, (unsigned char)in[i]);
		goto out;
	}
	if (!charset_is_utf8ish(charset))
		cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1) {
		/* UTF-8, ASCII or unknown label: keep valid UTF-8 as is. */
		if (utf8_valid((const unsigned char *)in, len)) {
			buf_append(&out, in, len);
		} else {
			for (size_t i = 0; i < len; i++)
				append_latin1(&out, (unsigned char)in[i]);
		}
		goto out;
	}
	while (inleft > 0) {
		char chunk[4096], *outp = chunk;
		size_t outleft = sizeof(chunk);
		size_t rc = iconv(cd, &inp, &inleft, &outp, &outleft);

		buf_append(&out, chunk, sizeof(chunk) - outleft);
		if (rc != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		/* Invalid or truncated input: keep the byte, move on. */
		append_latin1(&out, (unsigned char)*inp);
		inp++;
		inleft--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	iconv_close(cd);
out:
	if (out_len)
		*out_len = out.len;
	return buf_steal(&out);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* --- MIME parts ------------------------------------------------------- */

void
message_media_type(const char *v, char *out, size_t outsz)
{
	size_t n = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	while (*v && *v != ';' && *v != ' ' && *v != '\t' && n + 1 < outsz)
		out[n++] = (char)tolower((unsigned char)*v++);
	out[n] = '\0';
}

size_t
message_param(const char *v, const char *name, char *out, size_t outsz)
{
	size_t nlen = strlen(name);
	const char *p = strchr(v, ';');

	while (p != NULL) {
		int ext;
		size_t n = 0;

		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nlen) != 0 ||
		    (p[nlen] != '=' && p[nlen] != '*')) {
			p = strchr(p, ';');
			continue;
		}
		p += nlen;
		ext = *p == '*';
		while (*p && *p != '=')
			p++;
		if (*p != '=')
			return 0;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '"') {
			for (p++; *p && *p != '"' && n + 1 < outsz; p++) {
				if (*p == '\\' && p[1])
					p++;
				out[n++] = *p;
			}
		} else {
			while (*p && *p != ';' && *p != ' ' && *p != '\t' &&
			    n + 1 < outsz)
				out[n++] = *p++;
		}
		out[n] = '\0';
		if (ext) {		/* charset'lang'percent-encoded */
			char *q = strrchr(out, '\'');
			size_t k = 0;
			for (char *r = q ? q + 1 : out; *r; r++) {
				if (r[0] == '%' && isxdigit((unsigned char)r[1])
				    && isxdigit((unsigned char)r[2])) {
					char hex[3] = { r[1], r[2], 0 };
					out[k++] = (char)strtol(hex, NULL, 16);
					r += 2;
				} else {
					out[k++] = *r;
				}
			}
			out[k] = '\0';
			n = k;
		}
		return n;
	}
	return 0;
}

/* Base64 with anything outside the alphabet skipped, as mail readers do. */
static void
decode_base64(const char *s, size_t len, struct buf *out)
{
	unsigned long acc = 0;
	int bits = 0;

	for (size_t i = 0; i < len && s[i] != '='; i++) {
		int v = b64val((unsigned char)s[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			char c;
			bits -= 8;
			c = (char)((acc >> bits) & 0xff);
			buf_append(out, &c, 1);
		}
	}
}

/* Appends s, a line break written as a bare LF made CRLF. */
static void
append_crlf(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 ? out->len == 0 ||
		    out->data[out->len - 1] != '\r' : s[i - 1] != '\r'))
			buf_append(out, "\r", 1);
		buf_append(out, &s[i], 1);
	}
}

/* Quoted-printable; a malformed escape is kept as written.  A line
 * break of the encoded text is CRLF in the decoded one (RFC 2045 6.7),
 * also in a file with bare LF line ends, as Dovecot decodes it. */
static void
decode_qp(const char *s, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		const char *eq = memchr(s + i, '=', len - i);
		size_t j = eq ? (size_t)(eq - s) : len;
		int hi, lo;

		append_crlf(out, s + i, j - i);
		if (j >= len)
			break;
		i = j + 1;
		if (i < len && s[i] == '\n') {
			i++;
		} else if (i + 1 < len && s[i] == '\r' && s[i + 1] == '\n') {
			i += 2;
		} else if (i + 1 < len &&
		    (hi = hexval(s[i])) >= 0 &&
		    (lo = hexval(s[i + 1])) >= 0) {
			char c = (char)(hi * 16 + lo);
			buf_append(out, &c, 1);
			i += 2;
		} else {
			buf_append(out, "=", 1);
		}
	}
}

int
message_decode_transfer(const char *cte, const char *in, size_t len,
    struct buf *out)
{
	if (strcasecmp(cte, "base64") == 0) {
		decode_base64(in, len, out);
		return 1;
	}
	if (strcasecmp(cte, "quoted-printable") == 0) {
		decode_qp(in, len, out);
		return 1;
	}
	return 0;
}


/* Decodes the text of one encoded word; -1 if it is malformed. */
static int
decode_word_text(char enc, const char *text, size_t len, struct buf *out)
{
	if (enc == 'Q' || enc == 'q') {
		for (size_t i = 0; i < len; i++) {
			if (text[i] == '_') {
				buf_append(out, " ", 1);
			} else if (text[i] == '=' && i + 2 < len &&
			    hexval(text[i + 1]) >= 0 &&
			    hexval(text[i + 2]) >= 0) {
				char c = (char)(hexval(text[i + 1]) << 4 |
				    hexval(text[i + 2]));
				buf_append(out, &c, 1);
				i += 2;
			} else {
				buf_append(out, &text[i], 1);
			}
		}
		return 0;
	}
	if (enc == 'B' || enc == 'b') {
		uint32_t acc = 0;
		int bits = 0;
		for (size_t i = 0; i < len; i++) {
			int v;
			if (text[i] == '=')
				break;
			if ((v = b64val((unsigned char)text[i])) < 0)
				return -1;
			acc = acc << 6 | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				char c = (char)(acc >> (bits - 8));
				bits -= 8;
				buf_append(out, &c, 1);
			}
		}
		return 0;
	}
	return -1;
}

/* If s starts an encoded word "=?cs?e?text?=", decodes it into out (as
 * UTF-8) and returns its length; else 0. */
static size_t
decode_word(const char *s, struct buf *out)
{
	const char *cs, *q1, *q2, *endw;
	char charset[64];
	struct buf raw = { 0 };
	char *utf8;
	size_t cs_len, n;

	if (s[0] != '=' || s[1] != '?')
		return 0;
	cs = s + 2;
	if ((q1 = strchr(cs, '?')) == NULL || q1[1] == '\0' || q1[2] != '?')
		return 0;
	q2 = q1 + 2;
	if ((endw = strstr(q2 + 1, "?=")) == NULL)
		return 0;
	for (const char *p = cs; p < endw; p++)
		if (is_blank(*p))
			return 0;
	cs_len = (size_t)(q1 - cs);
	if (cs_len == 0 || cs_len >= sizeof(charset))
		return 0;
	memcpy(charset, cs, cs_len);
	charset[cs_len] = '\0';
	/* RFC 2231 language suffix: "utf-8*en". */
	if (strchr(charset, '*'))
		*strchr(charset, '*') = '\0';
	if (decode_word_text(q1[1], q2 + 1, (size_t)(endw - q2 - 1), &raw) < 0) {
		buf_release(&raw);
		return 0;
	}
	utf8 = message_to_utf8(charset, raw.data ? raw.data : "", raw.len, &n);
	buf_append(out, utf8, n);
	free(utf8);
	buf_release(&raw);
	return (size_t)(endw + 2 - s);
}

char *
message_decode_words(const char *value)
{
	struct buf out = { 0 };
	const char *p = value;
	char *decoded, *utf8;
	int after_word = 0;

	while (*p) {
		size_t n = decode_word(p, &out);
		if (n > 0) {
			p += n;
			after_word = 1;
			continue;
		}
		if (after_word && is_blank(*p)) {
			/* White space between two encoded words is dropped. */
			const char *q = p;
			struct buf tmp = { 0 };
			while (is_blank(*q))
				q++;
			if (decode_word(q, &tmp) > 0) {
				buf_release(&tmp);
				p = q;
				continue;
			}
			buf_release(&tmp);
		}
		after_word = 0;
		buf_append(&out, p, 1);
		p++;
	}
	/* Raw 8-bit bytes outside encoded words: make the result UTF-8. */
	decoded = buf_steal(&out);
	utf8 = message_to_utf8(NULL, decoded, strlen(decoded), NULL);
	free(decoded);
	return utf8;
}

char *
message_header_display(const struct message *m, const char *name,
    size_t max)
{
	const char *v = message_header(m, name, 0);
	char *decoded, *p;
	struct buf out = { 0 };
	int blank = 1;

	if (v == NULL)
		return NULL;
	decoded = message_decode_words(v);
	for (p = decoded; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		int is_control = c < 0x20 || c == 0x7f || (c == 0xc2 &&
		    (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] < 0xa0);

		if (is_control && c == 0xc2)
			p++;		/* a C1 control: two bytes */
		if (is_control || c == ' ') {
			if (!blank)
				buf_appends(&out, " ");
			blank = 1;
			continue;
		}
		buf_append(&out, p, 1);
		blank = 0;
	}
	free(decoded);
	while (out.len > 0 && out.data[out.len - 1] == ' ')
		out.len--;
	if (max >= 4 && out.len > max) {
		/* Cut on a character boundary, room left for "...". */
		out.len = max - 3;
		while (out.len > 0 &&
		    ((unsigned char)out.data[out.len] & 0xc0) == 0x80)
			out.len--;
		buf_appends(&out, "...");
	}
	return buf_steal(&out);
}

char *
message_id(const struct message *m)
{
	const char *v = message_header(m, "Message-ID", 0);
	const char *lt, *gt;

	if (v == NULL)
		return NULL;
	lt = strchr(v, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (lt != NULL && gt != NULL && gt > lt + 1)
		return xstrndup(lt, (size_t)(gt - lt + 1));
	while (is_blank(*v))
		v++;
	if (*v == '\0')
		return NULL;
	return xstrdup(v);
}

/* SHA-256 (FIPS 180-4), here so that reading mail needs no TLS library:
 * the classifier's command-line verbs start several times faster without
 * loading GnuTLS. */
struct sha256 {
	uint32_t h[8];
	unsigned char block[64];
	size_t fill;
	uint64_t bytes;
};

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) ((x) >> (n) | (x) << (32 - (n)))

static void
sha256_block(struct sha256 *c, const unsigned char *p)
{
	uint32_t w[64], a, b, d, e, f, g, h, cc, t1, t2;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^
		    w[i - 15] >> 3;
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^
		    w[i - 2] >> 10;
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3];
	e = c->h[4]; f = c->h[5]; g = c->h[6]; h = c->h[7];
	for (int i = 0; i < 64; i++) {
		t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
		    ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
		    ((a & b) ^ (a & cc) ^ (b & cc));
		h = g; g = f; f = e; e = d + t1;
		d = cc; cc = b; b = a; a = t1 + t2;
	}
	c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
	c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

static void
sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->fill = 0;
	c->bytes = 0;
}

static void
sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	c->bytes += len;
	while (len > 0) {
		size_t n = 64 - c->fill < len ? 64 - c->fill : len;

		memcpy(c->block + c->fill, p, n);
		c->fill += n;
		p += n;
		len -= n;
		if (c->fill == 64) {
			sha256_block(c, c->block);
			c->fill = 0;
		}
	}
}

static void
sha256_final(struct sha256 *c, unsigned char digest[32])
{
	uint64_t bits = c->bytes * 8;
	unsigned char pad = 0x80, zero = 0, len[8];

	sha256_update(c, &pad, 1);
	while (c->fill != 56)
		sha256_update(c, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(c, len, 8);
	for (int i = 0; i < 8; i++) {
		digest[4 * i] = (unsigned char)(c->h[i] >> 24);
		digest[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		digest[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		digest[4 * i + 3] = (unsigned char)c->h[i];
	}
}

void
message_hash(const char *raw, size_t len, char out[MESSAGE_HASH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[32];
	struct sha256 c;
	size_t start = 0;

	sha256_init(&c);
	for (size_t i = 0; i < len; i++) {
		if (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n') {
			sha256_update(&c, raw + start, i - start);
			start = i + 1;
		}
	}
	sha256_update(&c, raw + start, len - start);
	sha256_final(&c, digest);
	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[MESSAGE_HASH_LEN] = '\0';
}
