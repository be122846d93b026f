/*
 * mutf7.h - modified UTF-7 for IMAP mailbox names (RFC 3501 section 5.1.3).
 *
 * mailsift speaks UTF-8 everywhere (config, Sieve fileinto, logs); IMAP
 * servers without UTF8=ACCEPT want mailbox names in modified UTF-7 on the
 * wire, and libetpan 1.9.4 converts nothing.  Both directions are strict, so
 * that a name always round-trips to the same bytes: the encoder emits the one
 * canonical form and the decoder rejects every other form.
 */
#ifndef MAILSIFT_MUTF7_H
#define MAILSIFT_MUTF7_H

/* Encodes the UTF-8 string utf8 as modified UTF-7 into *out_r (malloc'd,
 * owned by the caller).  Returns 0, or -1 with *err_r (malloc'd) if utf8 is
 * not valid UTF-8 (overlong forms, surrogates, code points above U+10FFFF
 * and truncated sequences are refused). */
int mutf7_encode(const char *utf8, char **out_r, char **err_r);

/* Decodes the modified UTF-7 string in into UTF-8 in *out_r (malloc'd,
 * owned by the caller).  Returns 0, or -1 with *err_r (malloc'd) if in is
 * not canonical modified UTF-7: a byte outside 0x20..0x7e, an unterminated
 * "&" run, a character outside the modified base64 alphabet, non-zero
 * padding bits, a partial UTF-16 unit, an unpaired surrogate, a printable
 * ASCII character or "&" encoded in base64, or two adjacent base64 runs. */
int mutf7_decode(const char *in, char **out_r, char **err_r);

#endif
