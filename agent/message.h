/*
 * message.h - a read-only view of one RFC 5322 message: its header fields
 * (unfolded), body, Message-ID, content hash, RFC 2047 decoding, MIME
 * transfer decoding and charset conversion to UTF-8.
 *
 * Leaf module (libc + iconv only): the classifier, the Sieve layer and the
 * ledger all read messages through it.  Never fails on bad input: malformed
 * mail yields fewer or odder headers, never a crash.  The raw bytes are
 * borrowed and must outlive the struct message.
 */
#ifndef MAILSIFT_MESSAGE_H
#define MAILSIFT_MESSAGE_H

#include <stddef.h>

#include "agent/xmem.h"

struct message_header {
	char *name;		/* owned; as written, without the colon */
	char *value;		/* owned; unfolded, leading/trailing blanks
				 * stripped, still RFC 2047 encoded */
};

struct message {
	const char *raw;	/* borrowed */
	size_t len;
	struct message_header *headers;	/* owned, in message order */
	size_t nheaders;
	const char *body;	/* borrowed, points into raw */
	size_t body_len;
};

/* Splits raw into header fields and body.  Accepts CRLF or LF line ends.
 * A header section without a blank line ends at the first line that is
 * not a header field. */
void message_parse(struct message *m, const char *raw, size_t len);
void message_release(struct message *m);

/* The idx-th (0-based) value of header name (case-insensitive), unfolded
 * but not decoded, or NULL.  Borrowed from m. */
const char *message_header(const struct message *m, const char *name,
    size_t idx);

/* Decodes RFC 2047 encoded words in value and converts them to UTF-8.
 * Undecodable words are kept as written.  Returns a malloc'd string. */
char *message_decode_words(const char *value);

/* Converts len bytes in charset to UTF-8 (malloc'd, NUL-terminated,
 * *out_len set if non-NULL).  An unknown charset, or invalid input, is
 * treated as Latin-1 for bytes >= 0x80 so text is never lost. */
char *message_to_utf8(const char *charset, const char *in, size_t len,
    size_t *out_len);

/* The first value of header name decoded for showing to a person: RFC
 * 2047 words decoded to UTF-8, control characters (terminal escapes
 * included) and runs of blanks made one space, and cut to at most max
 * bytes (>= 4) on a character boundary, ending in "..." when cut.
 * Malloc'd, or NULL if the header is absent. */
char *message_header_display(const struct message *m, const char *name,
    size_t max);

/* The media type of a Content-Type value ("text/html"), lowercased,
 * into out; also reads Content-Transfer-Encoding values. */
void message_media_type(const char *value, char *out, size_t outsz);

/* The value of parameter name in a structured field value (quotes
 * removed; RFC 2231 "name*=charset''value" percent-decoded) into out;
 * its length, 0 if absent. */
size_t message_param(const char *value, const char *name, char *out,
    size_t outsz);

/* Appends len bytes of in decoded by Content-Transfer-Encoding cte to
 * out and returns 1 for base64 (anything outside the alphabet skipped,
 * as mail readers do) and quoted-printable (a malformed escape kept as
 * written); returns 0, appending nothing, for identity encodings. */
int message_decode_transfer(const char *cte, const char *in, size_t len,
    struct buf *out);

/* The Message-ID, trimmed to "<...>" form, malloc'd, or NULL if absent. */
char *message_id(const struct message *m);

/* Hex SHA-256 of the raw bytes with CRLF folded to LF, so the same message
 * hashes alike whether read from IMAP or from a file. */
#define MESSAGE_HASH_LEN 64
void message_hash(const char *raw, size_t len,
    char out[MESSAGE_HASH_LEN + 1]);

#endif
