/*
 * sieve_int.h - what the files of sieve/ share and nobody else sees.
 *
 * The design in one paragraph (README "Sieve" explains it for users):
 * lang.c parses the owner's script itself, checks it against what mailsift
 * supports, and writes a rewritten script for libsieve in which every
 * action and imap4flags command became `fileinto "opN"` (so libsieve's
 * callbacks tell us, in order, which statement ran), every header name got
 * a prefix saying how the header must be served (decoded, or in a numeric
 * normal form), and the tests libsieve gets wrong (address, hasflag,
 * :count, numeric :is, i;octet :value, :matches with escapes or several
 * stars, keys it cannot quote) became `exists "X-Mailsift-T-N"`,
 * answered by match.c (with address.c) at the moment libsieve asks.
 * libsieve still evaluates the control flow and the header, exists, size
 * and spamtest tests, except in a script that uses variables, where our
 * code answers every test (whole conditions: anyof, allof, not) so that
 * match variables and expansion happen in Pigeonhole's order.  include
 * is compiled in place (ops and tests carry the script's scope).
 * engine_libsieve.c is the only file that includes <sieve2.h>; sieve.c
 * runs it in a forked child and turns the trace of executed statements
 * into actions.
 */
#ifndef MAILSIFT_SIEVE_INT_H
#define MAILSIFT_SIEVE_INT_H

#include <regex.h>
#include <stddef.h>

#include "agent/xmem.h"
#include "sieve/sieve.h"

struct child_server;

/* Names the rewritten script asks libsieve's GETHEADER callback for. */
/* decoded, unfolded values */
#define SV_HDR_PREFIX	"X-Mailsift-H-"
/* i;ascii-numeric normal form */
#define SV_NUM_PREFIX	"X-Mailsift-N-"
/* test N, evaluated by match.c */
#define SV_TEST_PREFIX	"X-Mailsift-T-"
/* spamtest and spamtestplus :percent values */
#define SV_SPAMTEST	"X-Mailsift-Spamtest"
#define SV_SPAMPCT	"X-Mailsift-Spamtest-Percent"
/* fileinto "opN": statement N ran */
#define SV_OP_PREFIX	"op"

/* The spam score as a header, for scripts written for other filters. */
#define SV_SCORE_HEADER	"X-Spam-Score"

/* i;ascii-numeric values at or above this stand for "positive infinity"
 * (RFC 4790: a string that does not start with a digit). */
#define SV_NUM_INFINITY	"2147483647"
#define SV_NUM_MAX	"2147483646"

/* variables (RFC 5229): what a variable holds at most (as Pigeonhole),
 * what one expanded string may reach, how many variables a script may
 * name, and the match variables ${0} to ${9} */
#define SV_MAX_VAR	4096
#define SV_MAX_EXPANSION	65536
#define SV_MAX_VARS	255
#define SV_NMATCH	10
/* duplicate: the default and longest time an ID is remembered (as
 * Pigeonhole, whose default of 14 days its 7-day maximum cuts) */
#define SV_DUP_PERIOD	((long)SIEVE_DUP_MAX_AGE)

/* include (RFC 6609): nesting depth and included scripts in all, as
 * Pigeonhole's defaults */
#define SV_MAX_INCLUDE_DEPTH	10
#define SV_MAX_INCLUDES	255

/* regex: the longest pattern compiled */
#define SV_MAX_REGEX	1024

/* set modifiers (RFC 5229 section 4.1), applied highest precedence
 * first: lower/upper (40), lowerfirst/upperfirst (30), quotewildcard
 * (20), length (10) */
enum sv_mod {
	SV_MOD_LOWER = 1 << 0,
	SV_MOD_UPPER = 1 << 1,
	SV_MOD_LOWERFIRST = 1 << 2,
	SV_MOD_UPPERFIRST = 1 << 3,
	SV_MOD_QUOTEWILDCARD = 1 << 4,
	SV_MOD_LENGTH = 1 << 5
};

enum sv_op_type {
	SV_OP_KEEP,
	SV_OP_FILEINTO,
	SV_OP_DISCARD,
	SV_OP_SETFLAG,
	SV_OP_ADDFLAG,
	SV_OP_REMOVEFLAG,
	SV_OP_ERROR,		/* ihave's error: the run fails */
	SV_OP_SET,		/* variables' set */
	SV_OP_RETURN		/* include's return from an included script */
};

/* One action or imap4flags statement of the script. */
struct sv_op {
	enum sv_op_type type;
	int line;
	char *mailbox;		/* owned; FILEINTO; ERROR: the message */
	char **flags;		/* owned; split at spaces */
	size_t nflags;
	int has_flags;		/* KEEP/FILEINTO: :flags was given */
	int copy;		/* FILEINTO :copy: the implicit keep stays */
	/* the strings hold variables: mailbox and flags are expanded (and
	 * flags split) when the statement runs */
	int expand;
	int var;		/* SET, flag commands on a variable: its
				 * slot; otherwise -1 */
	char *value;		/* owned; SET */
	unsigned mods;		/* SET: enum sv_mod bits */
	int scope;		/* the script it is in: 0 the main one, or an
				 * included one (also RETURN's) */
	char *file;		/* owned; an included script's name, or NULL */
	int late_flags;		/* KEEP/FILEINTO in a script without
				 * imap4flags: the flags the run ends with */
};

enum sv_cmp { SV_CMP_CASEMAP, SV_CMP_OCTET, SV_CMP_NUMERIC };
enum sv_mt { SV_MT_IS, SV_MT_CONTAINS, SV_MT_MATCHES, SV_MT_VALUE,
	SV_MT_COUNT, SV_MT_REGEX };
enum sv_rel { SV_REL_GT, SV_REL_GE, SV_REL_LT, SV_REL_LE, SV_REL_EQ,
	SV_REL_NE };

struct sv_match {
	enum sv_cmp cmp;
	enum sv_mt mt;
	enum sv_rel rel;	/* SV_MT_VALUE and SV_MT_COUNT */
};

enum sv_own_kind { SV_OWN_HEADER, SV_OWN_ADDRESS, SV_OWN_HASFLAG,
	SV_OWN_SPAMTEST, SV_OWN_EXISTS, SV_OWN_MAILBOXEXISTS, SV_OWN_STRING,
	SV_OWN_SIZE, SV_OWN_TRUE, SV_OWN_FALSE, SV_OWN_NOT, SV_OWN_ANYOF,
	SV_OWN_ALLOF, SV_OWN_DATE, SV_OWN_CURRENTDATE, SV_OWN_BODY,
	SV_OWN_INCLUDE, SV_OWN_RETURNED, SV_OWN_DUPLICATE };

/* body transforms (RFC 5173) */
enum sv_body { SV_BODY_TEXT, SV_BODY_RAW, SV_BODY_CONTENT };

/* date and currentdate: the zone the date parts are written in */
enum sv_zone { SV_ZONE_LOCAL, SV_ZONE_ORIGINAL, SV_ZONE_GIVEN };

/* address test parts (RFC 5228 5.1, RFC 5233) */
enum sv_part { SV_PART_ALL, SV_PART_LOCAL, SV_PART_DOMAIN, SV_PART_USER,
	SV_PART_DETAIL };

/* A test match.c evaluates because libsieve would get it wrong. */
struct sv_own {
	enum sv_own_kind kind;
	struct sv_match m;
	char **names;		/* owned; HEADER, ADDRESS: header names */
	size_t nnames;
	char **keys;		/* owned */
	size_t nkeys;
	int percent;		/* SPAMTEST: spamtestplus :percent */
	enum sv_part part;	/* ADDRESS */
	int expand;		/* names and keys hold variables */
	/* SV_MT_REGEX with constant keys: compiled at load, one a key */
	regex_t *rx;		/* owned */
	int *vars;		/* owned; HASFLAG on variables: their slots */
	size_t nvars;
	int over;		/* SIZE: :over (else :under) */
	unsigned long size;	/* SIZE */
	size_t *kids;		/* owned; NOT, ANYOF, ALLOF: own tests */
	size_t nkids;
	/* index (RFC 5260): only the index-th header field (from 1), counted
	 * from the last with last; 0: all (date: the first) */
	int index;
	int last;
	/* DATE: names[0] the header, names[1] the date part; CURRENTDATE:
	 * names[0] the date part */
	enum sv_zone zone;
	int zone_min;		/* SV_ZONE_GIVEN: minutes east */
	enum sv_body body;	/* BODY; :content: names are the types */
	int scope;		/* as in struct sv_op; RETURNED: has that
				 * included script returned? */
	/* INCLUDE: true (and marks the script as run) unless once and the
	 * script ran already */
	int script_id;
	int once;
	/* DUPLICATE: names are :handle, :header, :uniqueid (or ""); with
	 * uniqueid the third is the ID, else the header's first value */
	int uniqueid;
	long seconds;
};

struct sieve_script {
	char *name;		/* owned; for messages */
	char *rewritten;	/* owned; what libsieve parses */
	struct sv_op *ops;	/* owned */
	size_t nops;
	struct sv_own *owns;	/* owned */
	size_t nowns;
	/* owned; "NAME:LINE: warning: ..." lines, or NULL */
	char *warnings;
	int needs_mailboxes;	/* has a mailboxexists test */
	int needs_duplicates;	/* has a duplicate test */
	char **vars;		/* owned; variables by slot: "SCOPE:name" of a
				 * script, "*:name" global (lower case) */
	size_t nvars;
	char **globals;		/* owned; "SCOPE:name" declared global */
	size_t nglobals;
	int nscopes;		/* the main script and each included one */
	int nscripts;		/* distinct scripts included */
	/* owned; the helper that evaluates this script on each message
	 * (agent/child_server.h), or NULL before the script is checked */
	struct child_server *server;
};

/* lang.c: parses and checks text, fills everything in *s but nothing that
 * needs libsieve.  include :personal reads NAME.sieve in dir (NULL: the
 * script is no file, and cannot include).  On error returns -1 with
 * "NAME:LINE: message" lines in *errors_r (malloc'd). */
int sv_compile(const char *name, const char *text, const char *dir,
    struct sieve_script *s, char **errors_r);
void sv_script_release(struct sieve_script *s);
/* sieve.c: a script file's text, at most 1 MB, without NUL bytes;
 * -1 with a malloc'd reason. */
int sv_read_file(const char *path, char **text_r, char **why_r);

/* match.c */
/* What a successful :matches or :regex matched: ${0} the whole value,
 * ${1}... each wildcard or group (RFC 5229 section 3.2).  Malloc'd. */
struct sv_captures {
	char *v[SV_NMATCH];
	size_t n;
};
void sv_captures_release(struct sv_captures *c);
/* Does any of the n values match any key under m?  (RFC 5228 2.7, RFC
 * 5231; :count compares n itself.)  With cap, a match by :matches or
 * :regex replaces *cap.  :regex needs rx, the keys compiled. */
int sv_match_values(const struct sv_match *m, char *const *values,
    size_t n, char *const *keys, size_t nkeys, const regex_t *rx,
    struct sv_captures *cap);
/* Compiles a :regex key as Pigeonhole does (POSIX extended; case
 * blind under i;ascii-casemap).  Returns 0, or -1 with a message in
 * err (a pattern longer than SV_MAX_REGEX is refused). */
int sv_regex_compile(regex_t *rx, const char *key, enum sv_cmp cmp,
    char err[128]);
/* vars.c */
/* A "${...}" reference as read at some p. */
enum { SV_REF_MATCH = 1, SV_REF_VAR = 2 };
struct sv_ref {
	size_t len;		/* "${...}" */
	int num;		/* SV_REF_MATCH: N (1000 and over: 1000) */
	const char *name;	/* SV_REF_VAR: in the string, not owned */
	size_t name_len;
	int dots;		/* "ns.name": namespace parts */
	size_t ns_len;		/* length of the first part when dots */
};
/* 0 when p does not start a reference (it is then literal text),
 * else its kind with *ref filled. */
int sv_ref_read(const char *p, struct sv_ref *ref);
int sv_has_refs(const char *s);
/* What expansion sees: the match variables and the variables, whose
 * slot lookup(ctx, name, len) gives (-1: never set, expands to ""). */
struct sv_scope {
	const struct sv_captures *match;
	char *const *values;
	int (*lookup)(void *ctx, const char *name, size_t len);
	void *ctx;
};
/* s with every reference replaced; malloc'd, at most SV_MAX_EXPANSION
 * bytes. */
char *sv_expand(const char *s, const struct sv_scope *sc);
/* Appends code point cp as UTF-8. */
void sv_put_utf8(struct buf *b, unsigned long cp);
/* The value set stores: v cut to SV_MAX_VAR bytes, then the modifiers
 * (enum sv_mod) applied; malloc'd. */
char *sv_set_value(const char *v, unsigned mods);

/* body.c */
struct message;
struct sv_values {
	char **v;		/* owned, NULL-terminated */
	size_t n;
};
void sv_values_release(struct sv_values *v);
/* The values body compares: the raw body, the parts of the ntypes
 * types (:content), or the text parts with HTML made plain (:text). */
void sv_body_values(const struct message *m, enum sv_body mode,
    char *const *types, size_t ntypes, struct sv_values *out);

/* date.c */
struct sv_date {
	long long t;		/* seconds since the epoch, UTC */
	int zone;		/* the zone it was written in, minutes east */
};
/* A header's date (RFC 5322 and its obsolete forms, as Dovecot reads
 * them); for received, the part after the last ';'.  0 or -1. */
int sv_date_parse(const char *value, int received, struct sv_date *d);
/* "+hhmm" or "-hhmm" in minutes east; 0 or -1. */
int sv_zone_parse(const char *s, int *min_r);
/* The RFC 5260 date part (year, month, day, date, julian, hour, minute,
 * second, time, iso8601, std11, zone, weekday) of d written in zone
 * (minutes east), malloc'd; NULL for an unknown part. */
char *sv_date_part(const struct sv_date *d, int zone, const char *part);

/* Why name cannot be a folder (empty, a control character, invalid
 * UTF-8, an empty, "." or ".." level), or NULL when it can. */
const char *sv_folder_unsafe(const char *name);
/* The i;ascii-numeric normal form of s that libsieve's atoi() compares
 * the way RFC 4790 does (digits without leading zeros, or infinity);
 * malloc'd. */
char *sv_numeric_form(const char *s);
/* RFC 5235 values of the spamtest and spamtestplus :percent tests for a
 * score in [0,1], or "0" (not tested) for a negative score.  Writes at
 * most 4 bytes plus NUL. */
void sv_spamtest_value(double score, int percent, char out[8]);

/* address.c */
struct sv_addr {
	char *local;		/* owned; unquoted */
	char *domain;		/* owned */
};
/* The addresses in an address-list header value (raw, unfolded), up to
 * the first entry that is not an address, as Pigeonhole reads them.
 * Returns the count; *addrs_r is malloc'd, free it with
 * sv_addresses_free().  Zero addresses in a value that is not a valid
 * address list ("undisclosed-recipients:;", "plain words", "") set
 * *nonaddress_r: the test then sees the whole value as :all. */
size_t sv_addresses(const char *value, struct sv_addr **addrs_r,
    int *nonaddress_r);
void sv_addresses_free(struct sv_addr *a, size_t n);
/* The part of a as a malloc'd string, or NULL when it has none (:detail
 * of an address without "+"). */
char *sv_address_part(const struct sv_addr *a, enum sv_part part);

/* Flag set in the order flags were first added, compared without case
 * (RFC 5232 section 3). */
struct sv_flags {
	char **v;
	size_t n;
};
void sv_flags_add(struct sv_flags *f, char *const *flags, size_t n);
void sv_flags_remove(struct sv_flags *f, char *const *flags, size_t n);
void sv_flags_release(struct sv_flags *f);

/* engine_libsieve.c: runs s->rewritten once on one message in this
 * process (the caller forks).  Calls back on_op(op index) in execution
 * order; on_own(test index) must return whether own test N is true.
 * Returns 0, or -1 with *err_r set on a parse or runtime error. */
struct sv_engine_msg {
	/* values of header name (SV_* prefixed name as libsieve asked),
	 * NULL-terminated, owned by the callee until the next call */
	char **(*get_header)(void *ctx, const char *name);
	int (*on_op)(void *ctx, size_t op);
	size_t size;
	void *ctx;
};
int sv_engine_run(const char *script, const struct sv_engine_msg *msg,
    char **err_r);
/* Parses script with libsieve only; -1 with "NAME:LINE: message" lines in
 * *errors_r if libsieve reported any parse error. */
int sv_engine_validate(const char *name, const char *script,
    char **errors_r);

#endif
