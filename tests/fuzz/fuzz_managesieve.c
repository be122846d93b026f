/*
 * fuzz_managesieve.c - libFuzzer target: arbitrary bytes as what a
 * ManageSieve client sends.  ms_parse_line() must cut any input into
 * lines, refusals and waits without crashing, leaking, reading out of
 * bounds, consuming more than it was given or stalling on input it can
 * never complete; strings it parses must come back unchanged through
 * ms_put_string(), and base64 through the codec.  Seed corpus:
 * tests/fixtures/managesieve/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/managesieve_proto.h"

#define MAX_LITERAL	4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A string written by ms_put_string() parses back to itself. */
static void
round_trip(const struct ms_token *t)
{
	struct buf b = { 0 };
	struct ms_line line;
	size_t used = 0;
	const char *err = NULL;

	buf_appends(&b, "X ");
	ms_put_string(&b, t->text, t->len);
	buf_appends(&b, "\r\n");
	if (ms_parse_line(b.data, b.len, t->len + 1, &line, &used, &err) !=
	    MS_PARSE_LINE || used != b.len || line.n != 2 ||
	    line.tokens[1].len != t->len ||
	    memcmp(line.tokens[1].text, t->text, t->len) != 0)
		abort();
	ms_line_release(&line);
	buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	size_t off = 0;

	while (off < size) {
		struct ms_line line;
		size_t used = 0;
		const char *err = NULL;
		enum ms_parse r = ms_parse_line(in + off, size - off,
		    MAX_LITERAL, &line, &used, &err);

		if (r == MS_PARSE_MORE || r == MS_PARSE_FATAL) {
			if (r == MS_PARSE_FATAL && err == NULL)
				abort();
			break;
		}
		if (used == 0 || used > size - off)
			abort();
		if (r == MS_PARSE_LINE) {
			if (line.n == 0 || line.n > MS_MAX_TOKENS)
				abort();
			for (size_t i = 0; i < line.n; i++) {
				char *dec = NULL;
				size_t n = 0;

				if (line.tokens[i].text[line.tokens[i].len])
					abort();
				if (line.tokens[i].type == MS_STRING)
					round_trip(&line.tokens[i]);
				if (ms_base64_decode(line.tokens[i].text,
				    line.tokens[i].len, &dec, &n) == 0) {
					char *enc = ms_base64_encode(dec, n);

					if (strlen(enc) != line.tokens[i].len)
						abort();
					free(enc);
					free(dec);
				}
			}
			ms_line_release(&line);
		} else if (err == NULL) {
			abort();
		}
		off += used;
	}
	return 0;
}
