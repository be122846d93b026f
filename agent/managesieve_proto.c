/*
 * managesieve_proto.c - the ManageSieve wire syntax (see
 * managesieve_proto.h).
 *
 * A line is tokens separated by spaces and ended by CRLF (a bare LF is
 * taken too).  A token is an atom, a quoted string ("..." with \" and \\)
 * or a literal: {N} or {N+}, CRLF, then N octets.  The server never sends
 * a continuation for {N} (RFC 5804 allows only non-synchronizing
 * literals from clients; Pigeonhole takes both alike).  Nothing is read
 * past the line's end, so a client cannot slip bytes past STARTTLS.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/managesieve_proto.h"

void
ms_line_release(struct ms_line *line)
{
	for (size_t i = 0; i < line->n; i++)
		free(line->tokens[i].text);
	memset(line, 0, sizeof(*line));
}

int
ms_is_atom(const struct ms_token *t, const char *name)
{
	return t->type == MS_ATOM && strcasecmp(t->text, name) == 0;
}

static int
atom_char(unsigned char c)
{
	/* RFC 5804 ATOM-CHAR: CHAR except atom-specials. */
	return c > 0x20 && c < 0x7f && strchr("(){\"\\%*]", c) == NULL;
}

static void
add_token(struct ms_line *line, enum ms_token_type type, char *text,
    size_t len)
{
	line->tokens[line->n].type = type;
	line->tokens[line->n].text = text;
	line->tokens[line->n].len = len;
	line->n++;
}

/* Parses a quoted string starting after its opening quote at in[*pos]:
 * 1 done, 0 more input needed, -1 malformed. */
static int
parse_quoted(const char *in, size_t len, size_t *pos, struct buf *b)
{
	size_t i = *pos;

	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		if (c == '"') {
			*pos = i + 1;
			return 1;
		}
		if (c == '\r' || c == '\n' || c == '\0' ||
		    b->len >= MS_MAX_QUOTED)
			return -1;
		if (c == '\\') {
			if (i + 1 >= len)
				return 0;
			c = (unsigned char)in[i + 1];
			if (c != '"' && c != '\\')
				return -1;
			i++;
		}
		buf_append(b, &c, 1);
		i++;
	}
	return 0;
}

/* Parses "{N}" or "{N+}" and its CRLF at in[*pos] (after the brace):
 * 1 done with *n_r, 0 more input, -1 malformed, -2 over max. */
static int
parse_literal_head(const char *in, size_t len, size_t *pos, size_t max,
    size_t *n_r)
{
	size_t i = *pos;
	uint64_t n = 0;
	int digits = 0;

	while (i < len && isdigit((unsigned char)in[i])) {
		n = n * 10 + (uint64_t)(in[i] - '0');
		if (n > max)
			return -2;
		digits++;
		i++;
	}
	if (i < len && in[i] == '+')
		i++;
	if (i >= len)
		return 0;
	if (in[i] != '}' || digits == 0)
		return -1;
	i++;
	if (i < len && in[i] == '\r')
		i++;
	if (i >= len)
		return 0;
	if (in[i] != '\n')
		return -1;
	*pos = i + 1;
	*n_r = (size_t)n;
	return 1;
}

/* Skips to the end of the line for a malformed one: the bytes used, or 0
 * if its end is not there yet. */
static size_t
skip_line(const char *in, size_t len)
{
	const char *nl = memchr(in, '\n', len);

	return nl != NULL ? (size_t)(nl - in) + 1 : 0;
}

enum ms_parse
ms_parse_line(const char *in, size_t len, size_t max_literal,
    struct ms_line *line_r, size_t *used_r, const char **err_r)
{
	struct ms_line line = { 0 };
	size_t pos = 0, literal_bytes = 0;
	const char *bad = NULL;

	*used_r = 0;
	*err_r = NULL;
	memset(line_r, 0, sizeof(*line_r));
	for (;;) {
		size_t tstart;

		if (pos >= len)
			goto more;
		if (in[pos] == '\n' || (in[pos] == '\r' && pos + 1 < len &&
		    in[pos + 1] == '\n')) {
			pos += in[pos] == '\r' ? 2 : 1;
			break;
		}
		if (in[pos] == '\r' && pos + 1 >= len)
			goto more;
		if (line.n > 0) {
			if (in[pos] != ' ') {
				bad = "expected a space between arguments";
				goto malformed;
			}
			pos++;
			if (pos >= len)
				goto more;
		}
		if (line.n == MS_MAX_TOKENS) {
			bad = "too many arguments";
			goto malformed;
		}
		tstart = pos;
		if (in[pos] == '"') {
			struct buf b = { 0 };
			size_t n;
			int r;

			pos++;
			r = parse_quoted(in, len, &pos, &b);
			if (r <= 0) {
				buf_release(&b);
				if (r == 0)
					goto more;
				bad = "malformed quoted string";
				goto malformed;
			}
			n = b.len;
			add_token(&line, MS_STRING, buf_steal(&b), n);
		} else if (in[pos] == '{') {
			size_t n = 0;
			char *text;
			int r;

			pos++;
			r = parse_literal_head(in, len, &pos, max_literal, &n);
			if (r == -2) {
				*err_r = "literal larger than this server "
				    "accepts";
				ms_line_release(&line);
				return MS_PARSE_FATAL;
			}
			if (r == -1) {
				bad = "malformed literal";
				goto malformed;
			}
			if (r == 0)
				goto more;
			if (len - pos < n) {
				/* Bounded by max_literal, not by the line. */
				ms_line_release(&line);
				return MS_PARSE_MORE;
			}
			/* The octets may hold NULs: keep them all. */
			text = xmalloc(n + 1);
			memcpy(text, in + pos, n);
			text[n] = '\0';
			add_token(&line, MS_STRING, text, n);
			pos += n;
			literal_bytes += n;
		} else if (atom_char((unsigned char)in[pos])) {
			while (pos < len && atom_char((unsigned char)in[pos]))
				pos++;
			if (pos >= len)
				goto more;
			add_token(&line, MS_ATOM, xstrndup(in + tstart,
			    pos - tstart), pos - tstart);
		} else {
			bad = "unexpected character";
			goto malformed;
		}
	}
	if (line.n == 0) {
		*used_r = pos;
		*err_r = "empty command";
		return MS_PARSE_BAD;
	}
	*line_r = line;
	*used_r = pos;
	return MS_PARSE_LINE;
more:
	ms_line_release(&line);
	if (len - literal_bytes > MS_MAX_LINE) {
		*err_r = "line too long";
		return MS_PARSE_FATAL;
	}
	return MS_PARSE_MORE;
malformed:
	ms_line_release(&line);
	*used_r = skip_line(in, len);
	if (*used_r == 0) {
		if (len - literal_bytes > MS_MAX_LINE) {
			*err_r = "line too long";
			return MS_PARSE_FATAL;
		}
		return MS_PARSE_MORE;
	}
	*err_r = bad;
	return MS_PARSE_BAD;
}

int
ms_peer_is_loopback(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr)
		    >> 24) == 127;
	if (sa->ss_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

void
ms_put_string(struct buf *out, const char *s, size_t len)
{
	int quotable = len <= MS_MAX_QUOTED;

	for (size_t i = 0; quotable && i < len; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			quotable = 0;
	if (!quotable) {
		buf_printf(out, "{%zu}\r\n", len);
		buf_append(out, s, len);
		return;
	}
	buf_appends(out, "\"");
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_appends(out, "\\");
		buf_append(out, &s[i], 1);
	}
	buf_appends(out, "\"");
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
ms_base64_encode(const char *in, size_t len)
{
	struct buf b = { 0 };
	const unsigned char *u = (const unsigned char *)in;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)u[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (uint32_t)u[i + 1] << 8;
		if (i + 2 < len)
			v |= u[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		buf_append(&b, q, 4);
	}
	return buf_steal(&b);
}

int
ms_base64_decode(const char *in, size_t len, char **out_r, size_t *len_r)
{
	struct buf b = { 0 };
	uint32_t v = 0;
	size_t bits = 0, pad = 0;

	*out_r = NULL;
	*len_r = 0;
	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const char *p = in[i] != '\0' ? strchr(b64, in[i]) : NULL;

		if (in[i] == '=' && i >= len - 2) {
			pad++;
			continue;
		}
		if (p == NULL || pad > 0)
			goto bad;
		v = (v << 6) | (uint32_t)(p - b64);
		bits += 6;
		if (bits >= 8) {
			unsigned char c = (unsigned char)(v >> (bits - 8));

			buf_append(&b, &c, 1);
			bits -= 8;
		}
	}
	*len_r = b.len;
	*out_r = b.data != NULL ? buf_steal(&b) : xstrdup("");
	return 0;
bad:
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);
	buf_release(&b);
	return -1;
}
