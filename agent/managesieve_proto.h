/*
 * managesieve_proto.h - the ManageSieve (RFC 5804) wire syntax, without
 * any I/O: splitting what a client sent into lines of tokens (atoms,
 * quoted strings, literals), and writing strings back.  The server
 * (managesieve.c) feeds it its input buffer; the fuzz target feeds it
 * anything.  Every size is bounded by the caller's limits.
 */
#ifndef MAILSIFT_MANAGESIEVE_PROTO_H
#define MAILSIFT_MANAGESIEVE_PROTO_H

#include <stddef.h>
#include <sys/socket.h>

#include "agent/xmem.h"

#define MS_MAX_TOKENS	8	/* the longest command has 3 arguments */
#define MS_MAX_LINE	8192	/* bytes of a line outside literals */
#define MS_MAX_QUOTED	1024	/* RFC 5804 4: quoted strings are short */

enum ms_token_type {
	MS_ATOM,		/* command names, numbers */
	MS_STRING		/* quoted string or literal, unescaped */
};

struct ms_token {
	enum ms_token_type type;
	char *text;		/* owned, NUL-terminated */
	size_t len;		/* may hold NUL bytes (literals) */
};

struct ms_line {
	struct ms_token tokens[MS_MAX_TOKENS];
	size_t n;
};

enum ms_parse {
	MS_PARSE_MORE,		/* an incomplete line: read more */
	MS_PARSE_LINE,		/* *line_r filled */
	MS_PARSE_BAD,		/* a malformed line, skipped: answer NO */
	MS_PARSE_FATAL		/* over a limit or unrecoverable: say BYE */
};

/* Parses the first line of in (len bytes).  On MS_PARSE_LINE and
 * MS_PARSE_BAD, *used_r is the number of bytes consumed; on MS_PARSE_BAD
 * and MS_PARSE_FATAL *err_r is a static message.  A literal longer than
 * max_literal is fatal, as is a line longer than MS_MAX_LINE without its
 * end.  Release a line with ms_line_release(). */
enum ms_parse ms_parse_line(const char *in, size_t len, size_t max_literal,
    struct ms_line *line_r, size_t *used_r, const char **err_r);
void ms_line_release(struct ms_line *line);

/* Appends s as a quoted string when it can be one, else as a literal. */
void ms_put_string(struct buf *out, const char *s, size_t len);

/* 1 if the token is the atom name (case-insensitive). */
int ms_is_atom(const struct ms_token *t, const char *name);

/* 1 if a client at sa is on this host (127.0.0.0/8, ::1, or IPv4-mapped
 * 127/8): the only clients that may AUTHENTICATE without TLS. */
int ms_peer_is_loopback(const struct sockaddr_storage *sa);

/* base64 (RFC 4648) of len bytes, and back: -1 on bad input. */
char *ms_base64_encode(const char *in, size_t len);
int ms_base64_decode(const char *in, size_t len, char **out_r,
    size_t *len_r);

#endif
