/*
 * lang.c - mailsift's own reading of a Sieve script (RFC 5228): lexer,
 * parser, the check of what mailsift supports, and the rewrite into the
 * script libsieve actually runs (see sieve_int.h for why).
 *
 * We parse ourselves because libsieve cannot be trusted to: it does not
 * process backslash escapes, reports parse errors only through a callback
 * and then runs half the script anyway, crashes on setflag, and does not
 * know spamtest.  The rewrite keeps every statement on its source line so
 * that any error libsieve still reports carries the owner's line number.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/xmem.h"
#include "sieve/sieve_int.h"

/* ------------------------------------------------------------ lexer */

enum tok {
	T_EOF, T_IDENT, T_TAG, T_NUM, T_STR, T_LBRACK, T_RBRACK, T_LPAREN,
	T_RPAREN, T_LBRACE, T_RBRACE, T_COMMA, T_SEMI, T_ERR
};

struct lexer {
	const char *p, *end;
	int line;
	enum tok t;		/* current token */
	int tline;		/* its line */
	char *text;		/* owned; identifier, tag (no ':'), string */
	unsigned long num;
	char *err;		/* owned; T_ERR */
};

static void
lex_error(struct lexer *lx, const char *msg)
{
	free(lx->err);
	lx->err = xstrdup(msg);
	lx->t = T_ERR;
}

/* Quoted string: RFC 5228 2.4.2, "\x" stands for x whatever x is. */
static void
lex_quoted(struct lexer *lx)
{
	struct buf b = { 0 };

	lx->p++;
	while (lx->p < lx->end && *lx->p != '"') {
		if (*lx->p == '\\') {
			lx->p++;
			if (lx->p >= lx->end)
				break;
		}
		if (*lx->p == '\n')
			lx->line++;
		buf_append(&b, lx->p, 1);
		lx->p++;
	}
	if (lx->p >= lx->end) {
		buf_release(&b);
		lex_error(lx, "this string is never closed: add the missing "
		    "double quote");
		return;
	}
	lx->p++;
	lx->text = buf_steal(&b);
	lx->t = T_STR;
}

/* text: ... lines ... "." (RFC 5228 2.4.2): the value keeps the line
 * ends; a leading ".." stands for ".". */
static void
lex_multiline(struct lexer *lx)
{
	struct buf b = { 0 };

	/* rest of the "text:" line: blanks and an optional comment */
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
		lx->p++;
	if (lx->p < lx->end && *lx->p == '#')
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
	if (lx->p < lx->end && *lx->p == '\r')
		lx->p++;
	if (lx->p >= lx->end || *lx->p != '\n') {
		lex_error(lx, "text: must be followed by a line break");
		return;
	}
	lx->p++;
	lx->line++;
	for (;;) {
		size_t left = (size_t)(lx->end - lx->p);
		const char *eol = memchr(lx->p, '\n', left);
		const char *s = lx->p;
		size_t n;

		if (eol == NULL) {
			buf_release(&b);
			lex_error(lx, "this text: string never ends: add a "
			    "line holding only a dot");
			return;
		}
		n = (size_t)(eol - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		lx->p = eol + 1;
		lx->line++;
		if (n == 1 && s[0] == '.')
			break;
		if (n >= 2 && s[0] == '.' && s[1] == '.') {
			s++;
			n--;
		}
		buf_append(&b, s, n);
		buf_appends(&b, "\r\n");
	}
	lx->text = buf_steal(&b);
	lx->t = T_STR;
}

static void
lex_next(struct lexer *lx)
{
	free(lx->text);
	lx->text = NULL;
	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p < lx->end && *lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		if (lx->end - lx->p >= 2 && lx->p[0] == '/' &&
		    lx->p[1] == '*') {
			const char *q = lx->p + 2;
			int nl = 0;

			while (q + 1 < lx->end &&
			    !(q[0] == '*' && q[1] == '/')) {
				if (*q == '\n')
					nl++;
				q++;
			}
			if (q + 1 >= lx->end) {
				lx->tline = lx->line;
				lex_error(lx, "this comment is never closed: "
				    "add */");
				return;
			}
			lx->line += nl;
			lx->p = q + 2;
			continue;
		}
		break;
	}
	lx->tline = lx->line;
	if (lx->p >= lx->end) {
		lx->t = T_EOF;
		return;
	}
	switch (*lx->p) {
	case '[': lx->t = T_LBRACK; lx->p++; return;
	case ']': lx->t = T_RBRACK; lx->p++; return;
	case '(': lx->t = T_LPAREN; lx->p++; return;
	case ')': lx->t = T_RPAREN; lx->p++; return;
	case '{': lx->t = T_LBRACE; lx->p++; return;
	case '}': lx->t = T_RBRACE; lx->p++; return;
	case ',': lx->t = T_COMMA; lx->p++; return;
	case ';': lx->t = T_SEMI; lx->p++; return;
	case '"': lex_quoted(lx); return;
	default: break;
	}
	if (isdigit((unsigned char)*lx->p)) {
		unsigned long long v = 0;

		while (lx->p < lx->end && isdigit((unsigned char)*lx->p)) {
			v = v * 10 + (unsigned)(*lx->p - '0');
			if (v > (unsigned long long)INT_MAX) {
				lex_error(lx, "this number is too large");
				return;
			}
			lx->p++;
		}
		if (lx->p < lx->end) {
			unsigned long long mul = 1;

			switch (*lx->p) {
			case 'K': case 'k': mul = 1024ULL; break;
			case 'M': case 'm': mul = 1024ULL * 1024; break;
			case 'G': case 'g': mul = 1024ULL * 1024 * 1024; break;
			default: break;
			}
			if (mul != 1) {
				lx->p++;
				v *= mul;
				if (v > (unsigned long long)INT_MAX) {
					lex_error(lx, "this number is too "
					    "large");
					return;
				}
			}
		}
		lx->num = (unsigned long)v;
		lx->t = T_NUM;
		return;
	}
	if (*lx->p == ':' || isalpha((unsigned char)*lx->p) || *lx->p == '_') {
		int tag = *lx->p == ':';
		const char *s = lx->p + tag;
		const char *q = s;

		while (q < lx->end && (isalnum((unsigned char)*q) || *q == '_'))
			q++;
		if (q == s) {
			lex_error(lx, "a ':' must start a tag such as :is");
			return;
		}
		if (!tag && (size_t)(lx->end - s) >= 5 &&
		    strncmp(s, "text:", 5) == 0 && q == s + 4) {
			lx->p = s + 5;
			lex_multiline(lx);
			return;
		}
		/* identifiers and tags are case-insensitive (RFC 5228
		 * 8.1): IF, FileInto and :Contains are fine */
		lx->text = xstrndup(s, (size_t)(q - s));
		for (char *c = lx->text; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		lx->p = q;
		lx->t = tag ? T_TAG : T_IDENT;
		return;
	}
	{
		char msg[96];

		snprintf(msg, sizeof(msg), "unexpected character '%c'",
		    isprint((unsigned char)*lx->p) ? *lx->p : '?');
		lex_error(lx, msg);
	}
}

/* ------------------------------------------------------------ AST */

/* Makes room for element n of an array that grows one at a time, in
 * doubling steps: a script of 100,000 commands or a list of 20,000 keys
 * must not cost a copy per element. */
static void *
grow(void *v, size_t n, size_t size)
{
	if (n == 0 || (n & (n - 1)) == 0)
		v = xreallocarray(v, n ? n * 2 : 1, size);
	return v;
}

enum arg_type { A_TAG, A_NUM, A_STRS };

struct arg {
	enum arg_type type;
	int line;
	int is_list;		/* A_STRS written as [...] */
	char *tag;
	unsigned long num;
	char **strs;
	size_t n;
};

struct test {
	char *name;
	int line;
	struct arg *args;
	size_t nargs;
	struct test *tests;
	size_t ntests;
	int has_list;		/* tests came as ( ... ) */
};

struct cmd {
	char *name;
	int line;
	struct arg *args;
	size_t nargs;
	struct test *tests;
	size_t ntests;
	struct cmd *block;
	size_t nblock;
	int has_block;
};

struct parser {
	struct lexer lx;
	const char *name;
	struct buf errs;
	int nerr;
	struct buf warns;	/* valid, but probably not what was meant */
	size_t ncmds;		/* commands read so far */
	int has_include;	/* requires include: ${global.x} is known */
};

/* Limits that keep a script's cost bounded, each with its own message.
 * libsieve's bison grammar stacks every command of a block and every
 * string of a list (its stack holds 10,000 entries), so the rewrite
 * wraps long blocks into groups and hands long lists to match.c: a
 * 10,000-rule script loads.  Long elsif chains cannot be regrouped
 * without changing their meaning, hence their own limit. */
#define SV_MAX_COMMANDS	100000
#define SV_MAX_ELSIF	1000
/* commands per libsieve block, strings per libsieve list */
#define SV_LSV_GROUP	200

static void
perr(struct parser *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
perr(struct parser *ps, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	/* one problem per line, whatever the quoted script text holds */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	buf_printf(&ps->errs, "%s:%d: %s\n", ps->name, line, msg);
	free(msg);
	ps->nerr++;
}

static void
arg_release(struct arg *a)
{
	free(a->tag);
	for (size_t j = 0; j < a->n; j++)
		free(a->strs[j]);
	free(a->strs);
}

static void
args_free(struct arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		arg_release(&a[i]);
	free(a);
}

static void
tests_free(struct test *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].name);
		args_free(t[i].args, t[i].nargs);
		tests_free(t[i].tests, t[i].ntests);
	}
	free(t);
}

static void
cmds_free(struct cmd *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].name);
		args_free(c[i].args, c[i].nargs);
		tests_free(c[i].tests, c[i].ntests);
		cmds_free(c[i].block, c[i].nblock);
	}
	free(c);
}

static const char *
tok_name(enum tok t)
{
	switch (t) {
	case T_EOF: return "the end of the script";
	case T_IDENT: return "a name";
	case T_TAG: return "a tag";
	case T_NUM: return "a number";
	case T_STR: return "a string";
	case T_LBRACK: return "'['";
	case T_RBRACK: return "']'";
	case T_LPAREN: return "'('";
	case T_RPAREN: return "')'";
	case T_LBRACE: return "'{'";
	case T_RBRACE: return "'}'";
	case T_COMMA: return "','";
	case T_SEMI: return "';'";
	case T_ERR: return "an error";
	}
	return "?";
}

/* Reports the lexer's error or an unexpected token; always -1. */
static int
unexpected(struct parser *ps, const char *want)
{
	if (ps->lx.t == T_ERR)
		perr(ps, ps->lx.tline, "%s", ps->lx.err);
	else
		perr(ps, ps->lx.tline, "expected %s but found %s", want,
		    tok_name(ps->lx.t));
	return -1;
}

static int parse_test(struct parser *ps, struct test *t, int depth);

/* arguments = *argument [test / test-list] */
static int
parse_args(struct parser *ps, struct arg **args_r, size_t *nargs_r,
    struct test **tests_r, size_t *ntests_r, int *has_list_r, int depth)
{
	struct lexer *lx = &ps->lx;

	if (depth > 64) {
		perr(ps, lx->tline, "tests are nested too deeply");
		return -1;
	}
	for (;;) {
		struct arg a = { 0 };

		a.line = lx->tline;
		if (lx->t == T_TAG) {
			a.type = A_TAG;
			a.tag = lx->text;
			lx->text = NULL;
			lex_next(lx);
		} else if (lx->t == T_NUM) {
			a.type = A_NUM;
			a.num = lx->num;
			lex_next(lx);
		} else if (lx->t == T_STR) {
			a.type = A_STRS;
			a.strs = xmalloc(sizeof(char *));
			a.strs[a.n++] = lx->text;
			lx->text = NULL;
			lex_next(lx);
		} else if (lx->t == T_LBRACK) {
			a.type = A_STRS;
			a.is_list = 1;
			lex_next(lx);
			for (;;) {
				if (lx->t != T_STR) {
					arg_release(&a);
					return unexpected(ps, "a string");
				}
				a.strs = grow(a.strs, a.n, sizeof(char *));
				a.strs[a.n++] = lx->text;
				lx->text = NULL;
				lex_next(lx);
				if (lx->t == T_COMMA) {
					lex_next(lx);
					continue;
				}
				if (lx->t == T_RBRACK) {
					lex_next(lx);
					break;
				}
				arg_release(&a);
				return unexpected(ps, "',' or ']'");
			}
		} else {
			break;
		}
		*args_r = grow(*args_r, *nargs_r, sizeof(a));
		(*args_r)[(*nargs_r)++] = a;
	}
	if (lx->t == T_IDENT) {
		*tests_r = xcalloc(1, sizeof(struct test));
		*ntests_r = 1;
		return parse_test(ps, &(*tests_r)[0], depth + 1);
	}
	if (lx->t == T_LPAREN) {
		*has_list_r = 1;
		lex_next(lx);
		for (;;) {
			*tests_r = grow(*tests_r, *ntests_r,
			    sizeof(struct test));
			memset(&(*tests_r)[*ntests_r], 0, sizeof(struct test));
			(*ntests_r)++;
			if (lx->t != T_IDENT)
				return unexpected(ps, "a test");
			if (parse_test(ps, &(*tests_r)[*ntests_r - 1],
			    depth + 1) < 0)
				return -1;
			if (lx->t == T_COMMA) {
				lex_next(lx);
				continue;
			}
			if (lx->t == T_RPAREN) {
				lex_next(lx);
				break;
			}
			return unexpected(ps, "',' or ')'");
		}
	}
	return 0;
}

static int
parse_test(struct parser *ps, struct test *t, int depth)
{
	t->name = ps->lx.text;
	ps->lx.text = NULL;
	t->line = ps->lx.tline;
	lex_next(&ps->lx);
	return parse_args(ps, &t->args, &t->nargs, &t->tests, &t->ntests,
	    &t->has_list, depth);
}

static int parse_commands(struct parser *ps, struct cmd **cmds_r,
    size_t *n_r, int depth);

static int
parse_command(struct parser *ps, struct cmd *c, int depth)
{
	struct lexer *lx = &ps->lx;
	int dummy = 0;

	c->name = lx->text;
	lx->text = NULL;
	c->line = lx->tline;
	lex_next(lx);
	if (parse_args(ps, &c->args, &c->nargs, &c->tests, &c->ntests,
	    &dummy, depth) < 0)
		return -1;
	if (dummy) {
		perr(ps, c->line, "'%s' cannot take a list of tests in "
		    "parentheses: use anyof(...) or allof(...)", c->name);
		return -1;
	}
	if (lx->t != T_LBRACE && lx->t != T_ERR &&
	    (strcmp(c->name, "if") == 0 || strcmp(c->name, "elsif") == 0 ||
	    strcmp(c->name, "else") == 0)) {
		perr(ps, lx->tline, "%s needs a block in braces%s, but found "
		    "%s", c->name, strcmp(c->name, "else") == 0 ?
		    ": else { ... }" : " after its test: if TEST { ... }",
		    tok_name(lx->t));
		return -1;
	}
	if (lx->t == T_SEMI) {
		lex_next(lx);
		return 0;
	}
	if (lx->t == T_LBRACE) {
		lex_next(lx);
		c->has_block = 1;
		if (depth > 64) {
			perr(ps, lx->tline, "blocks are nested too deeply");
			return -1;
		}
		if (parse_commands(ps, &c->block, &c->nblock, depth + 1) < 0)
			return -1;
		if (lx->t != T_RBRACE)
			return unexpected(ps, "'}' to close the block "
			    "opened here or a command");
		lex_next(lx);
		return 0;
	}
	return unexpected(ps, "';' at the end of the command");
}

static int
parse_commands(struct parser *ps, struct cmd **cmds_r, size_t *n_r,
    int depth)
{
	size_t chain = 0;

	while (ps->lx.t == T_IDENT) {
		if (++ps->ncmds > SV_MAX_COMMANDS) {
			perr(ps, ps->lx.tline, "the script has more than %d "
			    "commands: split it or merge rules (one test can "
			    "take a list of keys)", SV_MAX_COMMANDS);
			return -1;
		}
		chain = strcmp(ps->lx.text, "elsif") == 0 ? chain + 1 : 0;
		if (chain > SV_MAX_ELSIF) {
			perr(ps, ps->lx.tline, "this if has more than %d elsif "
			    "branches: split the chain into several if "
			    "commands", SV_MAX_ELSIF);
			return -1;
		}
		*cmds_r = grow(*cmds_r, *n_r, sizeof(struct cmd));
		memset(&(*cmds_r)[*n_r], 0, sizeof(struct cmd));
		(*n_r)++;
		if (parse_command(ps, &(*cmds_r)[*n_r - 1], depth) < 0)
			return -1;
	}
	if (ps->lx.t == T_ERR)
		return unexpected(ps, "a command");
	return 0;
}

/* ------------------------------------------------------------ encoded-character */

/* RFC 5228 2.4.2.4: "${hex:41 42}" and "${unicode:263a}" in strings of a
 * script that requires encoded-character.  A sequence that does not
 * parse stays as written; a code point that is not a Unicode scalar
 * value is an error, as in Pigeonhole. */
static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One "${hex:" or "${unicode:" sequence at p (after the prefix): the
 * decoded bytes into out and the end (after "}") returned, or NULL when
 * it does not parse.  *bad_r gets an invalid code point. */
static const char *
decode_seq(const char *p, int unicode, struct buf *out,
    unsigned long *bad_r)
{
	size_t n = 0;

	*bad_r = 0;
	for (;;) {
		unsigned long v = 0;
		size_t digits = 0;

		while (is_blank(*p))
			p++;
		if (*p == '}')
			break;
		if (n > 0 && !is_blank(p[-1]))
			return NULL;
		while (isxdigit((unsigned char)*p) &&
		    (unicode || digits < 2)) {
			if (v < 0x1000000)
				v = v * 16 + (unsigned long)(isdigit(
				    (unsigned char)*p) ? *p - '0' :
				    tolower((unsigned char)*p) - 'a' + 10);
			p++;
			digits++;
		}
		if (digits == 0)
			return NULL;
		n++;
		if (!unicode) {
			unsigned char c = (unsigned char)v;

			buf_append(out, &c, 1);
		} else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
			if (*bad_r == 0)
				*bad_r = v;
		} else {
			sv_put_utf8(out, v);
		}
	}
	return n > 0 ? p + 1 : NULL;
}

static int
decode_string(struct parser *ps, int line, char **sp)
{
	const char *p = *sp;
	struct buf b = { 0 };

	if (strstr(p, "${") == NULL)
		return 0;
	while (*p) {
		int hex = strncasecmp(p, "${hex:", 6) == 0;
		int uni = strncasecmp(p, "${unicode:", 10) == 0;
		struct buf seq = { 0 };
		unsigned long bad;
		const char *end = NULL;

		if (hex || uni)
			end = decode_seq(p + (hex ? 6 : 10), uni, &seq, &bad);
		if (end != NULL && uni && bad != 0) {
			perr(ps, line, "invalid unicode character 0x%lx in "
			    "${unicode:...}: use a code point below 0x110000 "
			    "that is not a surrogate", bad);
			buf_release(&seq);
			buf_release(&b);
			return -1;
		}
		if (end == NULL) {
			buf_append(&b, p, 1);
			p++;
		} else {
			buf_append(&b, seq.data ? seq.data : "", seq.len);
			p = end;
		}
		buf_release(&seq);
	}
	free(*sp);
	*sp = b.data ? buf_steal(&b) : xstrdup("");
	return 0;
}

/* Calls fn on every string of the script but require's. */
typedef int (*string_fn)(struct parser *ps, int line, char **sp);

static int
walk_args(struct parser *ps, struct arg *a, size_t n, string_fn fn)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < a[i].n; j++)
			if (fn(ps, a[i].line, &a[i].strs[j]) < 0)
				return -1;
	return 0;
}

static int
walk_tests(struct parser *ps, struct test *t, size_t n, string_fn fn)
{
	for (size_t i = 0; i < n; i++)
		if (walk_args(ps, t[i].args, t[i].nargs, fn) < 0 ||
		    walk_tests(ps, t[i].tests, t[i].ntests, fn) < 0)
			return -1;
	return 0;
}

static int
walk_cmds(struct parser *ps, struct cmd *c, size_t n, string_fn fn)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(c[i].name, "require") == 0)
			continue;
		if (walk_args(ps, c[i].args, c[i].nargs, fn) < 0 ||
		    walk_tests(ps, c[i].tests, c[i].ntests, fn) < 0 ||
		    walk_cmds(ps, c[i].block, c[i].nblock, fn) < 0)
			return -1;
	}
	return 0;
}

/* A reference to a namespace mailsift does not have ("${foo.bar}") is
 * an error when the script loads. */
static int
check_refs(struct parser *ps, int line, char **sp)
{
	struct sv_ref ref;

	for (const char *p = strstr(*sp, "${"); p; p = strstr(p + 1, "${")) {
		if (sv_ref_read(p, &ref) == SV_REF_VAR && ref.dots > 0 &&
		    !(ref.dots == 1 && ref.ns_len == 6 &&
		    strncasecmp(ref.name, "global", 6) == 0 &&
		    ps->has_include)) {
			perr(ps, line, "\"%.*s\" refers to the variable "
			    "namespace \"%.*s\", which mailsift does not "
			    "have", (int)ref.len, p, (int)ref.ns_len,
			    ref.name);
			return -1;
		}
	}
	return 0;
}

/* Does the script require extension name (in its require commands)? */
static int
requires(const struct cmd *c, size_t n, const char *name)
{
	for (size_t i = 0; i < n && strcmp(c[i].name, "require") == 0; i++)
		for (size_t k = 0; k < c[i].nargs; k++)
			for (size_t j = 0; j < c[i].args[k].n; j++)
				if (strcmp(c[i].args[k].strs[j], name) == 0)
					return 1;
	return 0;
}

/* ------------------------------------------------------------ checks */

enum cap {
	CAP_FILEINTO = 1 << 0,
	CAP_IMAP4FLAGS = 1 << 1,
	CAP_RELATIONAL = 1 << 2,
	CAP_NUMERIC = 1 << 3,
	CAP_SUBADDRESS = 1 << 4,
	CAP_SPAMTEST = 1 << 5,
	CAP_SPAMTESTPLUS = 1 << 6,
	CAP_COPY = 1 << 7,
	CAP_MAILBOX = 1 << 8,
	CAP_ENCODED = 1 << 9,
	CAP_IHAVE = 1 << 10,
	CAP_VARIABLES = 1 << 11,
	CAP_REGEX = 1 << 12,
	CAP_DATE = 1 << 13,
	CAP_INDEX = 1 << 14,
	CAP_BODY = 1 << 15,
	CAP_INCLUDE = 1 << 16,
	CAP_DUPLICATE = 1 << 17,
	CAP_BUILTIN = 1 << 30	/* always there, never listed */
};

/* Every extension name mailsift knows: supported (cap) or refused with
 * the reason users see.  sieve_extensions() lists the supported ones. */
static const struct {
	const char *name;
	unsigned cap;		/* 0: refused, with why */
	const char *why;
} caps[] = {
	{ "fileinto", CAP_FILEINTO, NULL },
	{ "imap4flags", CAP_IMAP4FLAGS, NULL },
	{ "relational", CAP_RELATIONAL, NULL },
	{ "comparator-i;ascii-numeric", CAP_NUMERIC, NULL },
	{ "comparator-i;octet", CAP_BUILTIN, NULL },
	{ "comparator-i;ascii-casemap", CAP_BUILTIN, NULL },
	{ "subaddress", CAP_SUBADDRESS, NULL },
	{ "spamtest", CAP_SPAMTEST, NULL },
	{ "spamtestplus", CAP_SPAMTEST | CAP_SPAMTESTPLUS, NULL },
	{ "copy", CAP_COPY, NULL },
	{ "mailbox", CAP_MAILBOX, NULL },
	{ "encoded-character", CAP_ENCODED, NULL },
	{ "ihave", CAP_IHAVE, NULL },
	{ "variables", CAP_VARIABLES, NULL },
	{ "regex", CAP_REGEX, NULL },
	{ "date", CAP_DATE, NULL },
	{ "index", CAP_INDEX, NULL },
	{ "body", CAP_BODY, NULL },
	{ "include", CAP_INCLUDE, NULL },
	{ "duplicate", CAP_DUPLICATE, NULL },
	{ "envelope", 0, "mailsift reads mail from IMAP after delivery, "
	    "when the envelope is gone: test the Return-Path or Delivered-To "
	    "header instead" },
	{ "reject", 0, "mailsift sees mail after delivery and cannot refuse "
	    "it: use fileinto, or discard (which moves it to Trash)" },
	{ "ereject", 0, "mailsift sees mail after delivery and cannot refuse "
	    "it: use fileinto, or discard (which moves it to Trash)" },
	{ "vacation", 0, "mailsift never sends mail: set up auto-replies in "
	    "your mail server" },
	{ "vacation-seconds", 0, "mailsift never sends mail" },
	{ "notify", 0, "mailsift never sends notifications" },
	{ "enotify", 0, "mailsift never sends notifications" },
	{ "editheader", 0, "mailsift never changes a message" },
	{ "imapflags", 0, "this is the old draft name: write \"imap4flags\"" },
};

const char *
sieve_extensions(void)
{
	static char list[512];

	if (list[0] == '\0') {
		for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
			if (caps[k].cap == 0 || caps[k].cap == CAP_BUILTIN)
				continue;
			if (list[0] != '\0')
				strcat(list, " ");
			strcat(list, caps[k].name);
		}
	}
	return list;
}

/* The capability bits of extension name: 0 when mailsift does not
 * support it (*why_r then says why, or is NULL for an unknown name). */
static unsigned
cap_of(const char *name, const char **why_r)
{
	*why_r = NULL;
	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		if (strcmp(caps[k].name, name) == 0) {
			*why_r = caps[k].why;
			return caps[k].cap;
		}
	}
	return 0;
}

struct compiler {
	struct parser *ps;
	struct sieve_script *s;
	unsigned caps;
	struct buf out;		/* the rewritten script */
	int out_line;		/* line the next output byte goes to */
	const char *dir;	/* include's :personal scripts, or NULL */
	int scope;		/* the script being compiled (0: the main) */
	int depth;		/* include nesting */
	char *stack[SV_MAX_INCLUDE_DEPTH + 1];	/* their real paths */
	char **scripts;		/* owned; real paths of the included, by id */
	int nscripts;
	int ninstances;		/* includes compiled */
};

/* Pads the output with line breaks so that what follows lands on the
 * source line `line`: libsieve then reports the owner's line numbers. */
static void
emit_at(struct compiler *cc, int line)
{
	/* an included script's lines are another file's */
	while (cc->depth == 0 && cc->out_line < line) {
		buf_appends(&cc->out, "\n");
		cc->out_line++;
	}
	buf_appends(&cc->out, " ");
}

/* libsieve takes the bytes between the quotes literally, so a string can
 * be handed over unless it holds a quote, a line break or ends with a
 * backslash (the lexer would read that as an escaped quote). */
static int
lsv_quotable(const char *s)
{
	size_t n = strlen(s);

	if (strpbrk(s, "\"\r\n") != NULL)
		return 0;
	return n == 0 || s[n - 1] != '\\';
}

static void
emit_strlist(struct compiler *cc, const char *prefix, char *const *v,
    size_t n, int numeric)
{
	buf_appends(&cc->out, "[");
	for (size_t i = 0; i < n; i++) {
		char *num = numeric ? sv_numeric_form(v[i]) : NULL;

		buf_printf(&cc->out, "%s\"%s%s\"", i ? ", " : "", prefix,
		    num ? num : v[i]);
		free(num);
	}
	buf_appends(&cc->out, "]");
}

static char **
strv_dup(char *const *v, size_t n)
{
	char **r = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

static int
need(struct compiler *cc, int line, unsigned cap, const char *what,
    const char *ext)
{
	if (cc->caps & cap)
		return 0;
	perr(cc->ps, line, "%s needs the %s extension: add "
	    "require \"%s\"; at the top of the script", what, ext, ext);
	return -1;
}

/* Does a string of a hold a variable reference (and the script use
 * variables)? */
static int
has_refs(const struct compiler *cc, const struct arg *a)
{
	if (!(cc->caps & CAP_VARIABLES))
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (sv_has_refs(a->strs[i]))
			return 1;
	return 0;
}

/* String lists of t that are not the value of a tag. */
static size_t
count_strlists(const struct test *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nargs; i++) {
		const struct arg *a = &t->args[i];

		if (a->type == A_TAG && (strcmp(a->tag, "comparator") == 0 ||
		    strcmp(a->tag, "value") == 0 ||
		    strcmp(a->tag, "count") == 0))
			i++;
		else
			n += a->type == A_STRS;
	}
	return n;
}

/* The key of variable name in the script being compiled (see struct
 * sieve_script), or NULL when name is no variable name (RFC 5229: an
 * identifier; "global.name" with include). */
static char *
var_key(struct compiler *cc, const char *name)
{
	const char *id = name;
	char *k;
	int global = 0;

	if ((cc->caps & CAP_INCLUDE) && strncasecmp(name, "global.", 7) == 0) {
		id = name + 7;
		global = 1;
	}
	if (!isalpha((unsigned char)*id) && *id != '_')
		return NULL;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return NULL;
	k = xasprintf("%d:%s", cc->scope, id);
	for (char *p = k; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; !global && i < cc->s->nglobals; i++)
		global = strcmp(cc->s->globals[i], k) == 0;
	if (global) {
		char *g = xasprintf("*:%s", strchr(k, ':') + 1);

		free(k);
		k = g;
	}
	return k;
}

/* The slot of variable name, made when new; -1 with a message. */
static int
var_slot(struct compiler *cc, const char *name, int line)
{
	char *v = var_key(cc, name);
	size_t i;

	if (v == NULL) {
		perr(cc->ps, line, "\"%s\" is not a valid variable name: "
		    "use letters, digits and _ (not first a digit)", name);
		return -1;
	}
	for (i = 0; i < cc->s->nvars; i++)
		if (strcmp(cc->s->vars[i], v) == 0)
			break;
	if (i < cc->s->nvars) {
		free(v);
		return (int)i;
	}
	if (cc->s->nvars >= SV_MAX_VARS) {
		perr(cc->ps, line, "the script uses more than %d variables",
		    SV_MAX_VARS);
		free(v);
		return -1;
	}
	cc->s->vars = grow(cc->s->vars, cc->s->nvars, sizeof(char *));
	cc->s->vars[cc->s->nvars++] = v;
	return (int)i;
}

static int
var_slots(struct compiler *cc, const struct arg *a, int **slots_r,
    size_t *n_r)
{
	*slots_r = xcalloc(a->n ? a->n : 1, sizeof(int));
	*n_r = a->n;
	for (size_t i = 0; i < a->n; i++)
		if (((*slots_r)[i] = var_slot(cc, a->strs[i], a->line)) < 0)
			return -1;
	return 0;
}

static int
valid_header_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 33 || (unsigned char)*s > 126 ||
		    *s == ':')
			return 0;
	return 1;
}

/* The headers Pigeonhole accepts in an address test (RFC 5228 requires
 * From, To, Cc, Bcc, Sender, Resent-From, Resent-To; the rest are other
 * standard or common address headers).  The same list keeps scripts
 * portable between the two engines. */
static const char *const address_headers[] = {
	"from", "to", "cc", "bcc", "sender", "resent-from", "resent-to",
	"reply-to", "resent-reply-to", "resent-sender", "resent-cc",
	"resent-bcc", "for-approval", "for-handling", "for-comment",
	"apparently-to", "errors-to", "delivered-to", "return-receipt-to",
	"x-admin", "read-receipt-to", "x-confirm-reading-to",
	"return-receipt-requested", "registered-mail-reply-requested-by",
	"mail-followup-to", "mail-reply-to", "abuse-reports-to",
	"x-complaints-to", "x-report-abuse-to", "x-beenthere",
};

static int
check_address_headers(struct compiler *cc, const struct arg *a)
{
	for (size_t i = 0; i < a->n; i++) {
		size_t k;

		for (k = 0; k < sizeof(address_headers) /
		    sizeof(address_headers[0]); k++)
			if (strcasecmp(a->strs[i], address_headers[k]) == 0)
				break;
		if (k == sizeof(address_headers) / sizeof(address_headers[0])) {
			perr(cc->ps, a->line, "\"%s\" is not an address "
			    "header: the address test reads From, To, Cc, "
			    "Bcc, Sender, Reply-To, Resent-*, Delivered-To "
			    "and similar; use a header test instead",
			    a->strs[i]);
			return -1;
		}
	}
	return 0;
}

static int
check_header_names(struct compiler *cc, const struct arg *a,
    const char *what)
{
	for (size_t i = 0; i < a->n; i++) {
		if (!valid_header_name(a->strs[i])) {
			perr(cc->ps, a->line, "%s: \"%s\" is not a valid "
			    "header name", what, a->strs[i]);
			return -1;
		}
	}
	return 0;
}

/* The tagged arguments of header, address, hasflag, spamtest and the
 * positional string lists after them. */
struct targs {
	struct sv_match m;
	enum sv_part part;
	const char *part_name;	/* the tag, or NULL */
	int percent;
	int index, last;	/* index */
	enum sv_zone zone;	/* date, currentdate */
	int zone_min;
	enum sv_body body;	/* body */
	const struct arg *content;	/* body :content types */
	const struct arg *pos[3];
	size_t npos;
};

/* Where parse_targs() is in the arguments of a test, and which tags of
 * the kinds a test takes once it has seen. */
struct targs_parse {
	struct compiler *cc;
	const struct test *t;
	size_t i;		/* the tag being read: t->args[i] */
	int allow_part, allow_percent;
	int have_cmp, have_mt, have_part, have_transform;
};

/* The argument after the tag, or NULL. */
static const struct arg *
tag_value(const struct targs_parse *tp)
{
	return tp->i + 1 < tp->t->nargs ? &tp->t->args[tp->i + 1] : NULL;
}

/* Each reader of a kind of tag returns 1 when it read tag (and the value
 * after it: tp->i then points at that), 0 when tag is not one of its
 * kind for this test, -1 on an error, reported. */

/* :comparator "NAME" */
static int
targ_comparator(struct targs_parse *tp, const char *tag, struct targs *ta)
{
	const struct arg *a = &tp->t->args[tp->i], *v = tag_value(tp);
	struct compiler *cc = tp->cc;

	if (strcmp(tag, "comparator") != 0)
		return 0;
	if (tp->have_cmp++) {
		perr(cc->ps, a->line, "%s has two comparators", tp->t->name);
		return -1;
	}
	if (v == NULL || v->type != A_STRS || v->n != 1) {
		perr(cc->ps, a->line, ":comparator must be followed by one "
		    "string, e.g. \"i;ascii-numeric\"");
		return -1;
	}
	tp->i++;
	if (strcmp(v->strs[0], "i;ascii-casemap") == 0) {
		ta->m.cmp = SV_CMP_CASEMAP;
	} else if (strcmp(v->strs[0], "i;octet") == 0) {
		ta->m.cmp = SV_CMP_OCTET;
	} else if (strcmp(v->strs[0], "i;ascii-numeric") == 0) {
		if (need(cc, a->line, CAP_NUMERIC,
		    "the i;ascii-numeric comparator",
		    "comparator-i;ascii-numeric") < 0)
			return -1;
		ta->m.cmp = SV_CMP_NUMERIC;
	} else {
		perr(cc->ps, v->line, "unknown comparator \"%s\": use "
		    "i;ascii-casemap, i;octet or i;ascii-numeric", v->strs[0]);
		return -1;
	}
	return 1;
}

/* The relational operator after :value or :count (RFC 5231). */
static int
targ_relation(struct targs_parse *tp, const char *tag, struct targs *ta)
{
	static const char *const rels[] = { "gt", "ge", "lt", "le", "eq",
	    "ne" };
	const struct arg *a = &tp->t->args[tp->i], *v = tag_value(tp);
	struct compiler *cc = tp->cc;
	size_t r;

	if (need(cc, a->line, CAP_RELATIONAL, tag[0] == 'v' ?
	    "the :value match type" : "the :count match type",
	    "relational") < 0)
		return -1;
	if (v == NULL || v->type != A_STRS || v->n != 1) {
		perr(cc->ps, a->line, ":%s must be followed by one of \"gt\", "
		    "\"ge\", \"lt\", \"le\", \"eq\", \"ne\"", tag);
		return -1;
	}
	for (r = 0; r < 6; r++)
		if (strcmp(v->strs[0], rels[r]) == 0)
			break;
	if (r == 6) {
		perr(cc->ps, v->line, "\"%s\" is not a relational operator: "
		    "use \"gt\", \"ge\", \"lt\", \"le\", \"eq\" or \"ne\"",
		    v->strs[0]);
		return -1;
	}
	ta->m.rel = (enum sv_rel)r;
	tp->i++;
	return 1;
}

/* :is, :contains, :matches, :regex, :value OP, :count OP */
static int
targ_match_type(struct targs_parse *tp, const char *tag, struct targs *ta)
{
	struct compiler *cc = tp->cc;
	int line = tp->t->args[tp->i].line;

	if (strcmp(tag, "is") != 0 && strcmp(tag, "contains") != 0 &&
	    strcmp(tag, "matches") != 0 && strcmp(tag, "value") != 0 &&
	    strcmp(tag, "count") != 0 && strcmp(tag, "regex") != 0)
		return 0;
	if (tp->have_mt++) {
		perr(cc->ps, line, "%s has two match types", tp->t->name);
		return -1;
	}
	if (strcmp(tag, "regex") == 0) {
		if (need(cc, line, CAP_REGEX, ":regex", "regex") < 0)
			return -1;
		ta->m.mt = SV_MT_REGEX;
		return 1;
	}
	ta->m.mt = tag[0] == 'i' ? SV_MT_IS :
	    tag[0] == 'c' && tag[1] == 'o' && tag[2] == 'n' ? SV_MT_CONTAINS :
	    tag[0] == 'm' ? SV_MT_MATCHES :
	    tag[0] == 'v' ? SV_MT_VALUE : SV_MT_COUNT;
	if (ta->m.mt == SV_MT_VALUE || ta->m.mt == SV_MT_COUNT)
		return targ_relation(tp, tag, ta);
	return 1;
}

/* :all, :localpart, :domain, :user, :detail (address) */
static int
targ_address_part(struct targs_parse *tp, const char *tag, struct targs *ta)
{
	struct compiler *cc = tp->cc;
	int line = tp->t->args[tp->i].line;

	if (!tp->allow_part || (strcmp(tag, "all") != 0 &&
	    strcmp(tag, "localpart") != 0 && strcmp(tag, "domain") != 0 &&
	    strcmp(tag, "user") != 0 && strcmp(tag, "detail") != 0))
		return 0;
	if (tp->have_part++) {
		perr(cc->ps, line, "%s has two address parts", tp->t->name);
		return -1;
	}
	ta->part_name = tag;
	ta->part = tag[0] == 'a' ? SV_PART_ALL :
	    tag[0] == 'l' ? SV_PART_LOCAL :
	    tag[0] == 'd' && tag[1] == 'o' ? SV_PART_DOMAIN :
	    tag[0] == 'u' ? SV_PART_USER : SV_PART_DETAIL;
	if ((ta->part == SV_PART_USER || ta->part == SV_PART_DETAIL) &&
	    need(cc, line, CAP_SUBADDRESS, tag[0] == 'u' ? ":user" :
	    ":detail", "subaddress") < 0)
		return -1;
	return 1;
}

/* :index N and :last (RFC 5260 section 6) of header, address and date,
 * each once. */
static int
targ_index(struct targs_parse *tp, const char *tag, struct targs *ta)
{
	const char *name = tp->t->name;
	const struct arg *a = &tp->t->args[tp->i], *v = tag_value(tp);
	struct compiler *cc = tp->cc;

	if (strcmp(name, "header") != 0 && strcmp(name, "address") != 0 &&
	    strcmp(name, "date") != 0)
		return 0;
	if (strcmp(tag, "index") == 0 && ta->index == 0) {
		if (need(cc, a->line, CAP_INDEX, ":index", "index") < 0)
			return -1;
		if (v == NULL || v->type != A_NUM || v->num < 1) {
			perr(cc->ps, a->line, ":index must be followed by a "
			    "number from 1, e.g. :index 2");
			return -1;
		}
		ta->index = (int)v->num;
		tp->i++;
		return 1;
	}
	if (strcmp(tag, "last") == 0 && !ta->last) {
		if (need(cc, a->line, CAP_INDEX, ":last", "index") < 0)
			return -1;
		ta->last = 1;
		return 1;
	}
	return 0;
}

/* :zone "+HHMM" (date, currentdate) and :originalzone (date), once. */
static int
targ_zone(struct targs_parse *tp, const char *tag, struct targs *ta)
{
	const char *name = tp->t->name;
	const struct arg *a = &tp->t->args[tp->i], *v = tag_value(tp);

	if ((strcmp(tag, "zone") != 0 && strcmp(tag, "originalzone") != 0) ||
	    ta->zone != SV_ZONE_LOCAL || (strcmp(name, "date") != 0 &&
	    (strcmp(name, "currentdate") != 0 || tag[0] != 'z')))
		return 0;
	if (tag[0] == 'o') {
		ta->zone = SV_ZONE_ORIGINAL;
		return 1;
	}
	if (v == NULL || v->type != A_STRS || v->n != 1 ||
	    sv_zone_parse(v->strs[0], &ta->zone_min) < 0) {
		perr(tp->cc->ps, a->line, ":zone must be followed by a time "
		    "zone such as \"+0100\" or \"-0330\"");
		return -1;
	}
	ta->zone = SV_ZONE_GIVEN;
	tp->i++;
	return 1;
}

/* :raw, :text, :content TYPES (body), one of them. */
static int
targ_body_transform(struct targs_parse *tp, const char *tag,
    struct targs *ta)
{
	const struct arg *a = &tp->t->args[tp->i], *v = tag_value(tp);
	struct compiler *cc = tp->cc;

	if (strcmp(tp->t->name, "body") != 0 || (strcmp(tag, "raw") != 0 &&
	    strcmp(tag, "text") != 0 && strcmp(tag, "content") != 0))
		return 0;
	if (tp->have_transform++) {
		perr(cc->ps, a->line, "body takes one of :raw, :content and "
		    ":text");
		return -1;
	}
	ta->body = tag[0] == 'r' ? SV_BODY_RAW : tag[0] == 't' ?
	    SV_BODY_TEXT : SV_BODY_CONTENT;
	if (ta->body == SV_BODY_CONTENT) {
		if (v == NULL || v->type != A_STRS) {
			perr(cc->ps, a->line, ":content must be followed by "
			    "content types, e.g. :content \"text/html\"");
			return -1;
		}
		ta->content = v;
		tp->i++;
	}
	return 1;
}

/* :percent (spamtest) */
static int
targ_percent(struct targs_parse *tp, const char *tag, struct targs *ta)
{
	if (!tp->allow_percent || strcmp(tag, "percent") != 0)
		return 0;
	if (need(tp->cc, tp->t->args[tp->i].line, CAP_SPAMTESTPLUS,
	    "spamtest :percent", "spamtestplus") < 0)
		return -1;
	ta->percent = 1;
	return 1;
}

/* :value or :count compare text unless told otherwise: a key that is a
 * number is most likely meant as one. */
static void
warn_text_comparison(struct compiler *cc, const struct test *t,
    const struct targs *ta)
{
	const struct arg *keys = ta->pos[ta->npos - 1];

	for (size_t i = 0; i < keys->n; i++) {
		const char *k = keys->strs[i];

		if (*k == '\0' || k[strspn(k, "0123456789")] != '\0')
			continue;
		buf_printf(&cc->ps->warns, "%s:%d: warning: %s compares text "
		    "here, so \"10\" comes before \"9\": add :comparator "
		    "\"i;ascii-numeric\" to compare numbers\n", cc->ps->name,
		    t->line, ta->m.mt == SV_MT_VALUE ? ":value" : ":count");
		break;
	}
}

/* What the tags read must agree on, once all are read. */
static int
targs_check(struct compiler *cc, const struct test *t, size_t want_pos,
    const struct targs *ta)
{
	if (ta->last && ta->index == 0) {
		perr(cc->ps, t->line, ":last needs :index, e.g. :index 1 "
		    ":last for the last one");
		return -1;
	}
	if (ta->npos != want_pos) {
		perr(cc->ps, t->line, "%s needs %zu string%s after its tags",
		    t->name, want_pos, want_pos == 1 ? "" : " lists");
		return -1;
	}
	if (ta->m.cmp == SV_CMP_NUMERIC && (ta->m.mt == SV_MT_CONTAINS ||
	    ta->m.mt == SV_MT_MATCHES || ta->m.mt == SV_MT_REGEX)) {
		perr(cc->ps, t->line, "the i;ascii-numeric comparator can "
		    "only compare whole numbers: use :is or :value");
		return -1;
	}
	if ((ta->m.mt == SV_MT_VALUE || ta->m.mt == SV_MT_COUNT) &&
	    ta->m.cmp != SV_CMP_NUMERIC && ta->npos > 0)
		warn_text_comparison(cc, t, ta);
	return 0;
}

/* Reads the tags of test t and the want_pos string lists after them into
 * *ta: the comparator and match type; the address part (allow_part),
 * :percent (allow_percent) and the tags of index, date and body where
 * the test is one of theirs.  -1 on an error, reported. */
static int
parse_targs(struct compiler *cc, const struct test *t, int allow_part,
    int allow_percent, size_t want_pos, struct targs *ta)
{
	static int (*const readers[])(struct targs_parse *, const char *,
	    struct targs *) = {
		targ_comparator, targ_match_type, targ_address_part,
		targ_index, targ_zone, targ_body_transform, targ_percent,
	};
	struct targs_parse tp = { .cc = cc, .t = t, .allow_part = allow_part,
	    .allow_percent = allow_percent };

	memset(ta, 0, sizeof(*ta));
	ta->m.cmp = SV_CMP_CASEMAP;
	ta->m.mt = SV_MT_IS;
	ta->part = SV_PART_ALL;
	for (tp.i = 0; tp.i < t->nargs; tp.i++) {
		const struct arg *a = &t->args[tp.i];
		int r = 0;

		if (a->type == A_NUM) {
			perr(cc->ps, a->line, "%s does not take a number here",
			    t->name);
			return -1;
		}
		if (a->type == A_STRS) {
			if (ta->npos == 3) {
				perr(cc->ps, a->line, "too many arguments for "
				    "%s", t->name);
				return -1;
			}
			ta->pos[ta->npos++] = a;
			continue;
		}
		if (ta->npos > 0) {
			perr(cc->ps, a->line, "the tag :%s must come before "
			    "the strings of %s", a->tag, t->name);
			return -1;
		}
		for (size_t k = 0; r == 0 &&
		    k < sizeof(readers) / sizeof(*readers); k++)
			r = readers[k](&tp, a->tag, ta);
		if (r < 0)
			return -1;
		if (r == 0) {
			perr(cc->ps, a->line, "%s does not know the tag :%s",
			    t->name, a->tag);
			return -1;
		}
	}
	return targs_check(cc, t, want_pos, ta);
}

/* Stars in a :matches pattern, not counting a trailing run. */
static size_t
inner_stars(const char *p)
{
	size_t n = 0, run = 0;

	for (; *p; p++) {
		if (*p == '*') {
			run++;
		} else {
			n += run;
			run = 0;
		}
	}
	return n;
}

/* Would libsieve get this test right with these keys? */
static int
lsv_can_match(const struct sv_match *m, char *const *keys, size_t n)
{
	if (m->mt == SV_MT_COUNT)	/* false for a missing header */
		return 0;
	if (m->mt == SV_MT_REGEX)	/* libsieve's leaks on every use */
		return 0;
	if (n > SV_LSV_GROUP)	/* libsieve's parser stack */
		return 0;
	if (m->mt == SV_MT_VALUE && m->cmp == SV_CMP_OCTET)
		return 0;	/* libsieve orders i;octet wrongly */
	/* an empty value :is only the empty key, which the numeric normal
	 * form ("infinity" for both) cannot say */
	if (m->mt == SV_MT_IS && m->cmp == SV_CMP_NUMERIC)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (m->cmp != SV_CMP_NUMERIC && !lsv_quotable(keys[i]))
			return 0;
		/* libsieve knows no \* or \? in :matches patterns */
		if (m->mt == SV_MT_MATCHES && strchr(keys[i], '\\') != NULL)
			return 0;
		/* libsieve's :matches backtracks over every star: "*a*b" on
		 * a 30 KB header (the sender chooses) takes 2.7 s, "*a*a*b"
		 * never ends.  match.c is linear; one star before the
		 * trailing ones is harmless. */
		if (m->mt == SV_MT_MATCHES && inner_stars(keys[i]) > 1)
			return 0;
	}
	return 1;
}

static void
emit_match_tags(struct compiler *cc, const struct sv_match *m)
{
	static const char *const rels[] = { "gt", "ge", "lt", "le", "eq",
	    "ne" };

	buf_printf(&cc->out, " :comparator \"%s\"", m->cmp == SV_CMP_OCTET ?
	    "i;octet" : m->cmp == SV_CMP_NUMERIC ? "i;ascii-numeric" :
	    "i;ascii-casemap");
	switch (m->mt) {
	case SV_MT_IS: buf_appends(&cc->out, " :is "); break;
	case SV_MT_CONTAINS: buf_appends(&cc->out, " :contains "); break;
	case SV_MT_MATCHES: buf_appends(&cc->out, " :matches "); break;
	case SV_MT_VALUE:
		buf_printf(&cc->out, " :value \"%s\" ", rels[m->rel]);
		break;
	case SV_MT_COUNT:
		buf_printf(&cc->out, " :count \"%s\" ", rels[m->rel]);
		break;
	case SV_MT_REGEX:	/* never: lsv_can_match() */
		break;
	}
}

/* A test our code answers (match.c, sieve.c), at index N of the
 * script's owns.  Unless inner (a part of an own anyof, allof or not),
 * libsieve gets `exists "X-Mailsift-T-N"` in its place.  Returns N, or
 * -1 for a bad regular expression. */
static long
add_own(struct compiler *cc, int inner, enum sv_own_kind kind,
    const struct targs *ta, const struct arg *names, const struct arg *keys)
{
	struct sv_own *o;
	size_t idx = cc->s->nowns;

	cc->s->owns = grow(cc->s->owns, cc->s->nowns, sizeof(*o));
	o = &cc->s->owns[cc->s->nowns++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->scope = cc->scope;
	if (ta) {
		o->m = ta->m;
		o->percent = ta->percent;
		o->part = ta->part;
		o->index = ta->index;
		o->last = ta->last;
		o->zone = ta->zone;
		o->zone_min = ta->zone_min;
	}
	if (names) {
		o->names = strv_dup(names->strs, names->n);
		o->nnames = names->n;
		o->expand |= has_refs(cc, names);
	}
	o->keys = strv_dup(keys ? keys->strs : NULL, keys ? keys->n : 0);
	o->nkeys = keys ? keys->n : 0;
	if (keys)
		o->expand |= has_refs(cc, keys);
	if (o->m.mt == SV_MT_REGEX && !o->expand) {
		o->rx = xcalloc(o->nkeys ? o->nkeys : 1, sizeof(regex_t));
		for (size_t i = 0; i < o->nkeys; i++) {
			char err[128];

			if (sv_regex_compile(&o->rx[i], o->keys[i], o->m.cmp,
			    err) < 0) {
				perr(cc->ps, keys->line, "%s", err);
				/* free only what compiled */
				for (size_t k = 0; k < i; k++)
					regfree(&o->rx[k]);
				free(o->rx);
				o->rx = NULL;
				return -1;
			}
		}
	}
	if (!inner)
		buf_printf(&cc->out, "exists \"%s%zu\"", SV_TEST_PREFIX, idx);
	return (long)idx;
}

/* hasflag keys of :is and :contains are flag lists like the flags
 * themselves: "A B" is two keys, "" none.  That is what Pigeonhole does
 * (measured); its :matches, :value and :count take the key whole. */
static void
split_keys(struct sv_own *o)
{
	char **keys = NULL;
	size_t n = 0;

	for (size_t i = 0; i < o->nkeys; i++) {
		const char *p = o->keys[i];

		while (*p) {
			size_t len;

			while (*p == ' ')
				p++;
			len = strcspn(p, " ");
			if (len == 0)
				break;
			keys = xreallocarray(keys, n + 2, sizeof(char *));
			keys[n++] = xstrndup(p, len);
			p += len;
		}
		free(o->keys[i]);
	}
	free(o->keys);
	if (keys == NULL)
		keys = xcalloc(1, sizeof(char *));
	keys[n] = NULL;
	o->keys = keys;
	o->nkeys = n;
}

static long compile_test(struct compiler *cc, const struct test *t,
    int inner);

/* ihave (RFC 5463) is decided when the script loads: 1 and the union of
 * the capabilities in *caps_r when mailsift supports every extension
 * named, 0 when not, -1 on a malformed test. */
static int
ihave_caps(struct compiler *cc, const struct test *t, unsigned *caps_r)
{
	int known = 1;

	*caps_r = 0;
	if (need(cc, t->line, CAP_IHAVE, "ihave", "ihave") < 0)
		return -1;
	if (t->nargs != 1 || t->args[0].type != A_STRS || t->ntests) {
		perr(cc->ps, t->line, "ihave takes one list of extension "
		    "names");
		return -1;
	}
	for (size_t i = 0; i < t->args[0].n; i++) {
		const char *why;
		unsigned cap = cap_of(t->args[0].strs[i], &why);

		/* they change how every string reads, which a test cannot
		 * switch on for one block: never there for ihave, required
		 * or not (Pigeonhole, measured) */
		if (cap & (CAP_VARIABLES | CAP_ENCODED))
			cap = 0;
		if (cap == 0)
			known = 0;
		*caps_r |= cap;
	}
	return known;
}

static int
no_args(struct compiler *cc, const struct test *t)
{
	if (t->nargs || t->ntests) {
		perr(cc->ps, t->line, "%s takes no arguments", t->name);
		return -1;
	}
	return 0;
}

/* The tests of a script that uses variables are all answered by our
 * code, whole conditions included: anyof stops at the first true test
 * and the match variables come from the test that matched, exactly as
 * in Pigeonhole, and every string may hold "${...}". */
static int
tree_mode(const struct compiler *cc)
{
	return (cc->caps & CAP_VARIABLES) != 0;
}

/* anyof, allof, not in tree mode: an own test over own tests. */
static long
compile_branch(struct compiler *cc, const struct test *t, int inner,
    enum sv_own_kind kind)
{
	size_t *kids = xcalloc(t->ntests, sizeof(size_t));
	long idx;

	for (size_t i = 0; i < t->ntests; i++) {
		long k = compile_test(cc, &t->tests[i], 1);

		if (k < 0) {
			free(kids);
			return -1;
		}
		kids[i] = (size_t)k;
	}
	idx = add_own(cc, inner, kind, NULL, NULL, NULL);
	cc->s->owns[idx].kids = kids;
	cc->s->owns[idx].nkids = t->ntests;
	return idx;
}

/* duplicate [:handle S] [:header S / :uniqueid S] [:seconds N] [:last]
 * (RFC 7352). */
static long
compile_duplicate(struct compiler *cc, const struct test *t, int inner)
{
	char *v[3] = { "", "", "" };
	struct arg names = { 0 };
	struct targs ta;
	int uniqueid = 0, have_id = 0, have_handle = 0, last = 0;
	long seconds = SV_DUP_PERIOD, idx;

	if (need(cc, t->line, CAP_DUPLICATE, "duplicate", "duplicate") < 0)
		return -1;
	for (size_t i = 0; i < t->nargs; i++) {
		const struct arg *a = &t->args[i];
		const struct arg *next = i + 1 < t->nargs ? &t->args[i + 1] :
		    NULL;
		int str = next && next->type == A_STRS && next->n == 1 &&
		    !next->is_list;

		if (a->type == A_TAG && strcmp(a->tag, "handle") == 0 &&
		    str && !have_handle++) {
			v[0] = next->strs[0];
		} else if (a->type == A_TAG && (strcmp(a->tag, "header") == 0 ||
		    strcmp(a->tag, "uniqueid") == 0) && str && !have_id++) {
			uniqueid = a->tag[0] == 'u';
			v[uniqueid ? 2 : 1] = next->strs[0];
		} else if (a->type == A_TAG && strcmp(a->tag, "seconds") == 0 &&
		    next && next->type == A_NUM) {
			/* as Pigeonhole: no longer than its maximum */
			seconds = (long)next->num < SV_DUP_PERIOD ?
			    (long)next->num : SV_DUP_PERIOD;
		} else if (a->type == A_TAG && strcmp(a->tag, "last") == 0 &&
		    !last) {
			last = 1;
			continue;
		} else {
			perr(cc->ps, a->line, "duplicate takes [:handle "
			    "\"name\"], [:header \"name\" or :uniqueid "
			    "\"value\"], [:seconds N] and [:last]");
			return -1;
		}
		i++;
	}
	if (t->ntests) {
		perr(cc->ps, t->line, "duplicate does not take tests");
		return -1;
	}
	if (!uniqueid && *v[1] == '\0')
		v[1] = "message-id";
	names.strs = v;
	names.n = 3;
	names.line = t->line;
	memset(&ta, 0, sizeof(ta));
	ta.last = last;
	idx = add_own(cc, inner, SV_OWN_DUPLICATE, &ta, &names, NULL);
	cc->s->owns[idx].uniqueid = uniqueid;
	cc->s->owns[idx].seconds = seconds;
	cc->s->needs_duplicates = 1;
	return idx;
}

/* Each test's compiler returns -1 on error; otherwise, inside a tree
 * (inner), the index of the own test made, else 0 or that index. */

/* true, false */
static long
compile_constant(struct compiler *cc, const struct test *t, int inner)
{
	if (no_args(cc, t) < 0)
		return -1;
	if (tree_mode(cc))
		return add_own(cc, inner, t->name[0] == 't' ? SV_OWN_TRUE :
		    SV_OWN_FALSE, NULL, NULL, NULL);
	buf_appends(&cc->out, t->name);
	return 0;
}

static long
compile_not(struct compiler *cc, const struct test *t, int inner)
{
	if (t->nargs || t->ntests != 1 || t->has_list) {
		perr(cc->ps, t->line, "not takes exactly one test");
		return -1;
	}
	if (tree_mode(cc))
		return compile_branch(cc, t, inner, SV_OWN_NOT);
	buf_appends(&cc->out, "not");
	return compile_test(cc, &t->tests[0], 0);
}

/* anyof, allof */
static long
compile_anyof_allof(struct compiler *cc, const struct test *t, int inner)
{
	const char *n = t->name;

	if (t->nargs || !t->has_list || t->ntests == 0) {
		perr(cc->ps, t->line, "%s takes a list of tests in "
		    "parentheses: %s(test1, test2)", n, n);
		return -1;
	}
	if (tree_mode(cc))
		return compile_branch(cc, t, inner, n[1] == 'n' ?
		    SV_OWN_ANYOF : SV_OWN_ALLOF);
	buf_printf(&cc->out, "%s(", n);
	for (size_t i = 0; i < t->ntests; i++) {
		if (i)
			buf_appends(&cc->out, ",");
		if (compile_test(cc, &t->tests[i], 0) < 0)
			return -1;
	}
	buf_appends(&cc->out, ")");
	return 0;
}

static long
compile_exists(struct compiler *cc, const struct test *t, int inner)
{
	if (t->nargs != 1 || t->args[0].type != A_STRS) {
		perr(cc->ps, t->line, "exists takes one list of header names");
		return -1;
	}
	if (check_header_names(cc, &t->args[0], "exists") < 0)
		return -1;
	if (tree_mode(cc) || t->args[0].n > SV_LSV_GROUP)
		return add_own(cc, inner, SV_OWN_EXISTS, NULL, &t->args[0],
		    NULL);
	buf_appends(&cc->out, "exists ");
	emit_strlist(cc, SV_HDR_PREFIX, t->args[0].strs, t->args[0].n, 0);
	return 0;
}

static long
compile_size(struct compiler *cc, const struct test *t, int inner)
{
	long idx;

	if (t->nargs != 2 || t->args[0].type != A_TAG ||
	    (strcmp(t->args[0].tag, "over") != 0 &&
	    strcmp(t->args[0].tag, "under") != 0) ||
	    t->args[1].type != A_NUM) {
		perr(cc->ps, t->line, "size takes :over or :under and a "
		    "number, e.g. size :over 100K");
		return -1;
	}
	if (!tree_mode(cc)) {
		buf_printf(&cc->out, "size :%s %lu", t->args[0].tag,
		    t->args[1].num);
		return 0;
	}
	idx = add_own(cc, inner, SV_OWN_SIZE, NULL, NULL, NULL);
	cc->s->owns[idx].over = t->args[0].tag[0] == 'o';
	cc->s->owns[idx].size = t->args[1].num;
	return idx;
}

static long
compile_header(struct compiler *cc, const struct test *t, int inner)
{
	const struct arg *names, *keys;
	struct targs ta;

	if (parse_targs(cc, t, 0, 0, 2, &ta) < 0)
		return -1;
	names = ta.pos[0];
	keys = ta.pos[1];
	if (check_header_names(cc, names, "header") < 0)
		return -1;
	if (tree_mode(cc) || !lsv_can_match(&ta.m, keys->strs, keys->n) ||
	    names->n > SV_LSV_GROUP || ta.index > 0)
		return add_own(cc, inner, SV_OWN_HEADER, &ta, names, keys);
	buf_appends(&cc->out, "header");
	emit_match_tags(cc, &ta.m);
	emit_strlist(cc, ta.m.cmp == SV_CMP_NUMERIC ? SV_NUM_PREFIX :
	    SV_HDR_PREFIX, names->strs, names->n, 0);
	buf_appends(&cc->out, " ");
	emit_strlist(cc, "", keys->strs, keys->n, ta.m.cmp == SV_CMP_NUMERIC);
	return 0;
}

static long
compile_address(struct compiler *cc, const struct test *t, int inner)
{
	const struct arg *names, *keys;
	struct targs ta;

	if (parse_targs(cc, t, 1, 0, 2, &ta) < 0)
		return -1;
	names = ta.pos[0];
	keys = ta.pos[1];
	if (check_header_names(cc, names, "address") < 0 ||
	    check_address_headers(cc, names) < 0)
		return -1;
	/* Every address test is answered by match.c over address.c:
	 * libsieve's address parser drops RFC 5322 groups, never falls back
	 * to the raw value of an invalid header ("undisclosed-recipients:;",
	 * common in spam) as Pigeonhole does, and its :matches backtracks
	 * without bound. */
	return add_own(cc, inner, SV_OWN_ADDRESS, &ta, names, keys);
}

static long
compile_string(struct compiler *cc, const struct test *t, int inner)
{
	struct targs ta;

	if (need(cc, t->line, CAP_VARIABLES, "the string test",
	    "variables") < 0 || parse_targs(cc, t, 0, 0, 2, &ta) < 0)
		return -1;
	return add_own(cc, inner, SV_OWN_STRING, &ta, ta.pos[0], ta.pos[1]);
}

static long
compile_hasflag(struct compiler *cc, const struct test *t, int inner)
{
	struct targs ta;
	struct sv_own *o;
	long idx;

	if (need(cc, t->line, CAP_IMAP4FLAGS, "hasflag", "imap4flags") < 0)
		return -1;
	/* hasflag ["var", ...] "flags" with variables */
	if (parse_targs(cc, t, 0, 0, tree_mode(cc) && count_strlists(t) == 2 ?
	    2 : 1, &ta) < 0)
		return -1;
	idx = add_own(cc, inner, SV_OWN_HASFLAG, &ta, NULL,
	    ta.pos[ta.npos - 1]);
	if (idx < 0)
		return -1;
	o = &cc->s->owns[idx];
	if (ta.npos == 2 && var_slots(cc, ta.pos[0], &o->vars, &o->nvars) < 0)
		return -1;
	if (!o->expand && (ta.m.mt == SV_MT_IS || ta.m.mt == SV_MT_CONTAINS))
		split_keys(o);
	return idx;
}

static long
compile_spamtest(struct compiler *cc, const struct test *t, int inner)
{
	const struct arg *v;
	const char *hdr;
	struct targs ta;

	if (need(cc, t->line, CAP_SPAMTEST, "spamtest", "spamtest") < 0 ||
	    parse_targs(cc, t, 0, 1, 1, &ta) < 0)
		return -1;
	v = ta.pos[0];
	if (v->n != 1) {
		perr(cc->ps, v->line, "spamtest compares with one value, e.g. "
		    "\"5\"");
		return -1;
	}
	if (tree_mode(cc) || !lsv_can_match(&ta.m, v->strs, 1))
		return add_own(cc, inner, SV_OWN_SPAMTEST, &ta, NULL, v);
	hdr = ta.percent ? SV_SPAMPCT : SV_SPAMTEST;
	buf_appends(&cc->out, "header");
	emit_match_tags(cc, &ta.m);
	emit_strlist(cc, "", (char *const *)&hdr, 1, 0);
	buf_appends(&cc->out, " ");
	emit_strlist(cc, "", v->strs, 1, ta.m.cmp == SV_CMP_NUMERIC);
	return 0;
}

static long
compile_mailboxexists(struct compiler *cc, const struct test *t, int inner)
{
	if (need(cc, t->line, CAP_MAILBOX, "mailboxexists", "mailbox") < 0)
		return -1;
	if (t->nargs != 1 || t->args[0].type != A_STRS) {
		perr(cc->ps, t->line, "mailboxexists takes one list of folder "
		    "names");
		return -1;
	}
	cc->s->needs_mailboxes = 1;
	return add_own(cc, inner, SV_OWN_MAILBOXEXISTS, NULL, &t->args[0],
	    NULL);
}

static long
compile_ihave(struct compiler *cc, const struct test *t, int inner)
{
	unsigned have;
	int known = ihave_caps(cc, t, &have);

	if (known < 0)
		return -1;
	if (tree_mode(cc))
		return add_own(cc, inner, known ? SV_OWN_TRUE : SV_OWN_FALSE,
		    NULL, NULL, NULL);
	buf_appends(&cc->out, known ? "true" : "false");
	return 0;
}

/* date, currentdate */
static long
compile_date(struct compiler *cc, const struct test *t, int inner)
{
	const char *n = t->name;
	int cur = n[0] == 'c';
	struct arg both = { 0 };
	struct targs ta;
	char *part;
	long idx;

	if (need(cc, t->line, CAP_DATE, n, "date") < 0 ||
	    parse_targs(cc, t, 0, 0, cur ? 2 : 3, &ta) < 0)
		return -1;
	if (!cur && check_header_names(cc, ta.pos[0], "date") < 0)
		return -1;
	if (ta.pos[0]->n != 1 || (!cur && ta.pos[1]->n != 1)) {
		perr(cc->ps, t->line, "%s takes %sone date part, e.g. %s", n,
		    cur ? "" : "one header name and ", cur ?
		    "currentdate :is \"weekday\" \"0\"" :
		    "date :value \"ge\" \"date\" \"year\" \"2026\"");
		return -1;
	}
	/* names: the header and the part, or the part */
	both.line = ta.pos[0]->line;
	both.strs = cur ? ta.pos[0]->strs : (char *[]){ ta.pos[0]->strs[0],
	    ta.pos[1]->strs[0] };
	both.n = cur ? 1 : 2;
	idx = add_own(cc, inner, cur ? SV_OWN_CURRENTDATE : SV_OWN_DATE, &ta,
	    &both, ta.pos[cur ? 1 : 2]);
	part = has_refs(cc, &both) ? NULL : sv_date_part(
	    &(struct sv_date){ 0, 0 }, 0, both.strs[both.n - 1]);
	if (idx >= 0 && part == NULL && !has_refs(cc, &both))
		buf_printf(&cc->ps->warns, "%s:%d: warning: \"%s\" is not a "
		    "date part (year, month, day, date, julian, hour, minute, "
		    "second, time, iso8601, std11, zone, weekday): the test is "
		    "never true\n", cc->ps->name, t->line,
		    both.strs[both.n - 1]);
	free(part);
	return idx;
}

static long
compile_body(struct compiler *cc, const struct test *t, int inner)
{
	struct targs ta;
	long idx;

	if (need(cc, t->line, CAP_BODY, "body", "body") < 0 ||
	    parse_targs(cc, t, 0, 0, 1, &ta) < 0)
		return -1;
	idx = add_own(cc, inner, SV_OWN_BODY, &ta, ta.content, ta.pos[0]);
	if (idx >= 0)
		cc->s->owns[idx].body = ta.body;
	return idx;
}

static long
compile_envelope(struct compiler *cc, const struct test *t, int inner)
{
	perr(cc->ps, t->line, "the envelope test is not supported: mailsift "
	    "reads mail from IMAP after delivery, when the envelope is gone; "
	    "test the Return-Path or Delivered-To header instead");
	return -1;
}

/* Registered tests mailsift does not run. */
static long
compile_unsupported(struct compiler *cc, const struct test *t, int inner)
{
	perr(cc->ps, t->line, "the %s test is not supported by mailsift's "
	    "Sieve engine", t->name);
	return -1;
}

static const struct {
	const char *name;
	long (*compile)(struct compiler *cc, const struct test *t, int inner);
	int takes_tests;	/* checks its own tests (or their absence) */
} test_compilers[] = {
	{ "true", compile_constant, 1 },
	{ "false", compile_constant, 1 },
	{ "not", compile_not, 1 },
	{ "anyof", compile_anyof_allof, 1 },
	{ "allof", compile_anyof_allof, 1 },
	{ "exists", compile_exists, 0 },
	{ "size", compile_size, 0 },
	{ "header", compile_header, 0 },
	{ "address", compile_address, 0 },
	{ "string", compile_string, 0 },
	{ "hasflag", compile_hasflag, 0 },
	{ "spamtest", compile_spamtest, 0 },
	{ "mailboxexists", compile_mailboxexists, 0 },
	{ "ihave", compile_ihave, 0 },
	{ "envelope", compile_envelope, 0 },
	{ "date", compile_date, 0 },
	{ "currentdate", compile_date, 0 },
	{ "body", compile_body, 0 },
	{ "duplicate", compile_duplicate, 0 },
	{ "virustest", compile_unsupported, 0 },
	{ "environment", compile_unsupported, 0 },
};

/* Compiles test t (see test_compilers) at its source line unless it is
 * inside a tree. */
static long
compile_test(struct compiler *cc, const struct test *t, int inner)
{
	size_t i, n = sizeof(test_compilers) / sizeof(*test_compilers);

	if (!inner)
		emit_at(cc, t->line);
	for (i = 0; i < n; i++)
		if (strcmp(t->name, test_compilers[i].name) == 0)
			break;
	if (t->ntests && (i == n || !test_compilers[i].takes_tests)) {
		perr(cc->ps, t->line, "%s does not take tests as arguments",
		    t->name);
		return -1;
	}
	if (i == n) {
		perr(cc->ps, t->line, "unknown test '%s'", t->name);
		return -1;
	}
	return test_compilers[i].compile(cc, t, inner);
}

/* Splits each string at spaces into single flags (RFC 5232 section 3). */
static void
split_flags(const struct arg *a, struct sv_op *op)
{
	for (size_t i = 0; a && i < a->n; i++) {
		const char *p = a->strs[i];

		while (*p) {
			size_t len;

			while (*p == ' ')
				p++;
			len = strcspn(p, " ");
			if (len == 0)
				break;
			op->flags = xreallocarray(op->flags, op->nflags + 1,
			    sizeof(char *));
			op->flags[op->nflags++] = xstrndup(p, len);
			p += len;
		}
	}
}

static int
check_flags(struct compiler *cc, const struct arg *a)
{
	for (size_t i = 0; i < a->n; i++) {
		/* what a variable holds is checked when it runs */
		if ((cc->caps & CAP_VARIABLES) && sv_has_refs(a->strs[i]))
			continue;
		for (const char *p = a->strs[i]; *p; p++) {
			if ((unsigned char)*p < 32 || (unsigned char)*p > 126 ||
			    strchr("(){%*\"]", *p) != NULL) {
				perr(cc->ps, a->line, "\"%s\" is not a valid "
				    "IMAP flag: use letters, digits and $ "
				    "(e.g. \"$Junk\") or a system flag such as "
				    "\"\\\\Seen\"", a->strs[i]);
				return -1;
			}
		}
	}
	return 0;
}

/* Flags that are valid Sieve but probably not what the owner wants. */
static void
warn_flags(struct compiler *cc, const struct sv_op *op)
{
	static const char *const sys[] = { "\\Seen", "\\Answered",
	    "\\Flagged", "\\Deleted", "\\Draft" };

	for (size_t i = 0; i < op->nflags; i++) {
		const char *f = op->flags[i];
		size_t k;

		if (f[0] != '\\')
			continue;
		for (k = 0; k < sizeof(sys) / sizeof(sys[0]); k++)
			if (strcasecmp(f, sys[k]) == 0)
				break;
		if (k == sizeof(sys) / sizeof(sys[0]))
			buf_printf(&cc->ps->warns, "%s:%d: warning: \"%s\" is "
			    "not an IMAP system flag (\\Seen, \\Answered, "
			    "\\Flagged, \\Deleted, \\Draft) and is "
			    "ignored\n", cc->ps->name, op->line, f);
		else if (k == 3)
			buf_printf(&cc->ps->warns, "%s:%d: warning: \"%s\" "
			    "lets any mail client's expunge delete the "
			    "message: use discard (mailsift moves it to "
			    "Trash) or a keyword such as \"$Done\"\n",
			    cc->ps->name, op->line, f);
	}
}

/* Records an action or flag statement and emits fileinto "opN". */
static struct sv_op *
add_op(struct compiler *cc, enum sv_op_type type, int line)
{
	struct sv_op *op;

	cc->s->ops = grow(cc->s->ops, cc->s->nops, sizeof(*op));
	op = &cc->s->ops[cc->s->nops];
	memset(op, 0, sizeof(*op));
	op->type = type;
	op->line = line;
	op->var = -1;
	op->scope = cc->scope;
	op->late_flags = !(cc->caps & CAP_IMAP4FLAGS);
	if (cc->depth > 0)
		op->file = xstrdup(strrchr(cc->ps->name, '/') ?
		    strrchr(cc->ps->name, '/') + 1 : cc->ps->name);
	buf_printf(&cc->out, "fileinto \"%s%zu\";", SV_OP_PREFIX,
	    cc->s->nops);
	cc->s->nops++;
	return op;
}

/* The flags of a statement: split now, or kept whole to be expanded
 * and split when it runs. */
static void
take_flags(struct compiler *cc, const struct arg *a, struct sv_op *op)
{
	if (op->expand) {
		op->flags = strv_dup(a->strs, a->n);
		op->nflags = a->n;
		return;
	}
	split_flags(a, op);
	if (op->type != SV_OP_REMOVEFLAG)
		warn_flags(cc, op);
}

/* set [modifiers] "name" "value" (RFC 5229 section 4). */
static int
compile_set(struct compiler *cc, const struct cmd *c)
{
	static const struct {
		const char *tag;
		unsigned mod;
		int prec;
	} mods[] = {
		{ "lower", SV_MOD_LOWER, 40 }, { "upper", SV_MOD_UPPER, 40 },
		{ "lowerfirst", SV_MOD_LOWERFIRST, 30 },
		{ "upperfirst", SV_MOD_UPPERFIRST, 30 },
		{ "quotewildcard", SV_MOD_QUOTEWILDCARD, 20 },
		{ "length", SV_MOD_LENGTH, 10 },
	};
	const struct arg *name = NULL, *value = NULL;
	unsigned have = 0;
	int prec_used[5] = { 0 };
	struct sv_op *op;
	int slot;

	if (need(cc, c->line, CAP_VARIABLES, "set", "variables") < 0)
		return -1;
	for (size_t i = 0; i < c->nargs; i++) {
		const struct arg *a = &c->args[i];
		size_t k;

		if (a->type == A_STRS && a->n == 1 && !a->is_list &&
		    value == NULL) {
			if (name == NULL)
				name = a;
			else
				value = a;
			continue;
		}
		if (a->type != A_TAG || name != NULL) {
			perr(cc->ps, a->line, "set takes [modifiers], a "
			    "variable name and a value: set :lower \"name\" "
			    "\"${1}\"");
			return -1;
		}
		for (k = 0; k < sizeof(mods) / sizeof(mods[0]); k++)
			if (strcmp(a->tag, mods[k].tag) == 0)
				break;
		if (k == sizeof(mods) / sizeof(mods[0])) {
			perr(cc->ps, a->line, "set does not know the modifier "
			    ":%s (there are :lower, :upper, :lowerfirst, "
			    ":upperfirst, :quotewildcard and :length)",
			    a->tag);
			return -1;
		}
		if (prec_used[mods[k].prec / 10]++ && !(have & mods[k].mod)) {
			perr(cc->ps, a->line, "set: the modifier :%s "
			    "conflicts with another of the same kind", a->tag);
			return -1;
		}
		have |= mods[k].mod;
	}
	if (value == NULL) {
		perr(cc->ps, c->line, "set needs a variable name and a value: "
		    "set \"name\" \"value\"");
		return -1;
	}
	if ((slot = var_slot(cc, name->strs[0], name->line)) < 0)
		return -1;
	op = add_op(cc, SV_OP_SET, c->line);
	op->var = slot;
	op->mods = have;
	op->value = xstrdup(value->strs[0]);
	return 0;
}

static int
compile_action(struct compiler *cc, const struct cmd *c)
{
	const char *n = c->name;
	const struct arg *flags = NULL, *mailbox = NULL;
	enum sv_op_type type;
	struct sv_op *op;
	int copy = 0, create = 0;

	if (c->ntests || c->has_block) {
		perr(cc->ps, c->line, "%s takes no test or block", n);
		return -1;
	}
	if (strcmp(n, "stop") == 0 || strcmp(n, "discard") == 0) {
		if (c->nargs) {
			perr(cc->ps, c->line, "%s takes no arguments", n);
			return -1;
		}
		if (n[0] == 's') {
			buf_appends(&cc->out, "stop;");
			return 0;
		}
		add_op(cc, SV_OP_DISCARD, c->line);
		return 0;
	}
	if (strcmp(n, "keep") == 0 || strcmp(n, "fileinto") == 0) {
		type = n[0] == 'k' ? SV_OP_KEEP : SV_OP_FILEINTO;
		if (type == SV_OP_FILEINTO && need(cc, c->line, CAP_FILEINTO,
		    "fileinto", "fileinto") < 0)
			return -1;
		for (size_t i = 0; i < c->nargs; i++) {
			const struct arg *a = &c->args[i];

			if (a->type == A_TAG && strcmp(a->tag, "flags") == 0 &&
			    flags == NULL && i + 1 < c->nargs &&
			    c->args[i + 1].type == A_STRS) {
				if (need(cc, a->line, CAP_IMAP4FLAGS,
				    ":flags", "imap4flags") < 0)
					return -1;
				flags = &c->args[++i];
				continue;
			}
			if (type == SV_OP_FILEINTO && a->type == A_TAG &&
			    strcmp(a->tag, "copy") == 0 && !copy) {
				if (need(cc, a->line, CAP_COPY, ":copy",
				    "copy") < 0)
					return -1;
				copy = 1;
				continue;
			}
			/* mailsift creates missing folders anyway */
			if (type == SV_OP_FILEINTO && a->type == A_TAG &&
			    strcmp(a->tag, "create") == 0 && !create) {
				if (need(cc, a->line, CAP_MAILBOX, ":create",
				    "mailbox") < 0)
					return -1;
				create = 1;
				continue;
			}
			if (type == SV_OP_FILEINTO && a->type == A_STRS &&
			    mailbox == NULL && !a->is_list && a->n == 1) {
				mailbox = a;
				continue;
			}
			perr(cc->ps, a->line, type == SV_OP_KEEP ?
			    "keep takes only :flags [\"flag\", ...]" :
			    "fileinto takes [:flags [\"flag\", ...]], "
			    "[:copy], [:create] and one folder name");
			return -1;
		}
		if (type == SV_OP_FILEINTO && mailbox == NULL) {
			perr(cc->ps, c->line, "fileinto needs a folder name, "
			    "e.g. fileinto \"Junk\";");
			return -1;
		}
		if (mailbox && !has_refs(cc, mailbox) &&
		    sv_folder_unsafe(mailbox->strs[0]) != NULL) {
			perr(cc->ps, mailbox->line, "\"%s\" is not a valid "
			    "folder name: %s", mailbox->strs[0],
			    sv_folder_unsafe(mailbox->strs[0]));
			return -1;
		}
		if (flags && check_flags(cc, flags) < 0)
			return -1;
		op = add_op(cc, type, c->line);
		op->copy = copy;
		op->expand = (mailbox && has_refs(cc, mailbox)) ||
		    (flags && has_refs(cc, flags));
		if (mailbox)
			op->mailbox = xstrdup(mailbox->strs[0]);
		if (flags) {
			op->has_flags = 1;
			take_flags(cc, flags, op);
		}
		return 0;
	}
	if (strcmp(n, "set") == 0)
		return compile_set(cc, c);
	if (strcmp(n, "setflag") == 0 || strcmp(n, "addflag") == 0 ||
	    strcmp(n, "removeflag") == 0) {
		if (need(cc, c->line, CAP_IMAP4FLAGS, n, "imap4flags") < 0)
			return -1;
		const struct arg *list = &c->args[c->nargs - 1];
		int var = -1;

		if (c->nargs == 2 && c->args[0].type == A_STRS &&
		    c->args[0].n == 1 && list->type == A_STRS) {
			/* addflag "variable" "flags" */
			if (need(cc, c->line, CAP_VARIABLES, "a flag command "
			    "on a variable", "variables") < 0 ||
			    (var = var_slot(cc, c->args[0].strs[0],
			    c->line)) < 0)
				return -1;
		} else if (c->nargs != 1 || list->type != A_STRS) {
			perr(cc->ps, c->line, "%s takes one list of flags", n);
			return -1;
		}
		if (check_flags(cc, list) < 0)
			return -1;
		type = n[0] == 's' ? SV_OP_SETFLAG : n[0] == 'a' ?
		    SV_OP_ADDFLAG : SV_OP_REMOVEFLAG;
		op = add_op(cc, type, c->line);
		op->var = var;
		op->expand = has_refs(cc, list);
		take_flags(cc, list, op);
		return 0;
	}
	if (strcmp(n, "error") == 0) {
		if (need(cc, c->line, CAP_IHAVE, "error", "ihave") < 0)
			return -1;
		if (c->nargs != 1 || c->args[0].type != A_STRS ||
		    c->args[0].is_list || c->args[0].n != 1) {
			perr(cc->ps, c->line, "error takes one string: the "
			    "message");
			return -1;
		}
		op = add_op(cc, SV_OP_ERROR, c->line);
		op->mailbox = xstrdup(c->args[0].strs[0]);
		op->expand = has_refs(cc, &c->args[0]);
		return 0;
	}
	if (strcmp(n, "addheader") == 0 || strcmp(n, "deleteheader") == 0) {
		perr(cc->ps, c->line, "%s is not supported: mailsift never "
		    "changes a message", n);
		return -1;
	}
	if (strcmp(n, "redirect") == 0 || strcmp(n, "vacation") == 0 ||
	    strcmp(n, "notify") == 0) {
		perr(cc->ps, c->line, "%s is not supported: mailsift never "
		    "sends mail (it only sorts your mailbox); set this up in "
		    "your mail server's own filters", n);
		return -1;
	}
	if (strcmp(n, "reject") == 0 || strcmp(n, "ereject") == 0) {
		perr(cc->ps, c->line, "%s is not supported: mailsift sees mail "
		    "after delivery and cannot refuse it; use fileinto, or "
		    "discard (which moves the message to Trash)", n);
		return -1;
	}
	perr(cc->ps, c->line, "unknown command '%s'", n);
	return -1;
}

static int
compile_require(struct compiler *cc, const struct cmd *c)
{
	int ret = 0;

	if (c->nargs != 1 || c->args[0].type != A_STRS || c->ntests ||
	    c->has_block) {
		perr(cc->ps, c->line, "require takes one list of extension "
		    "names, e.g. require [\"fileinto\", \"imap4flags\"];");
		return -1;
	}
	for (size_t i = 0; i < c->args[0].n; i++) {
		const char *e = c->args[0].strs[i], *why;
		unsigned cap = cap_of(e, &why);

		if (cap != 0) {
			cc->caps |= cap;
		} else if (why == NULL) {
			perr(cc->ps, c->line, "unknown or unsupported "
			    "extension \"%s\"", e);
			ret = -1;
		} else {
			perr(cc->ps, c->line, "extension \"%s\" is not "
			    "supported: %s", e, why);
			ret = -1;
		}
	}
	return ret;
}

static int compile_block(struct compiler *cc, const struct cmd *c,
    size_t n, int top);

static int
is_branch(const struct cmd *c)
{
	return strcmp(c->name, "elsif") == 0 || strcmp(c->name, "else") == 0;
}

/* Command i of the block c (if, elsif and else look at the one before). */
static int
compile_command(struct compiler *cc, const struct cmd *c, size_t i)
{
	const char *name = c[i].name;
	int is_else, ret = 0;

	if (strcmp(name, "if") != 0 && !is_branch(&c[i]))
		return compile_action(cc, &c[i]);
	is_else = strcmp(name, "else") == 0;
	if (name[0] == 'e' && (i == 0 || (strcmp(c[i - 1].name, "if") != 0 &&
	    strcmp(c[i - 1].name, "elsif") != 0))) {
		perr(cc->ps, c[i].line, "%s must follow an if or elsif block",
		    name);
		return -1;
	}
	if (c[i].nargs || !c[i].has_block ||
	    c[i].ntests != (is_else ? 0u : 1u)) {
		perr(cc->ps, c[i].line, is_else ? "else takes a block only: "
		    "else { ... }" : "%s takes one test and a block: %s TEST "
		    "{ ... }", name, name);
		return -1;
	}
	buf_appends(&cc->out, name);
	if (!is_else && compile_test(cc, &c[i].tests[0], 0) < 0)
		return -1;
	buf_appends(&cc->out, " {");
	if (!is_else && strcmp(c[i].tests[0].name, "ihave") == 0) {
		/* the block may use what ihave found, as if required; a
		 * block for an extension mailsift lacks is never run and
		 * may hold anything (RFC 5463 section 4) */
		unsigned saved = cc->caps, have;

		if (ihave_caps(cc, &c[i].tests[0], &have) == 1) {
			cc->caps |= have;
			if (compile_block(cc, c[i].block, c[i].nblock, 0) < 0)
				ret = -1;
		}
		cc->caps = saved;
	} else if (compile_block(cc, c[i].block, c[i].nblock, 0) < 0) {
		ret = -1;
	}
	buf_appends(&cc->out, " }");
	return ret;
}

static int
has_return(const struct cmd *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, "return") == 0 ||
		    has_return(c[i].block, c[i].nblock))
			return 1;
	return 0;
}

static int compile_include(struct compiler *cc, const struct cmd *c);
static int read_script(struct parser *ps, const char *text,
    struct cmd **cmds_r, size_t *n_r);
static void parser_release(struct parser *ps);

/* global "name" (RFC 6609 section 3.5): the script's variable name is
 * the one all scripts share. */
static int
compile_global(struct compiler *cc, const struct cmd *c)
{
	if (need(cc, c->line, CAP_INCLUDE, "global", "include") < 0 ||
	    need(cc, c->line, CAP_VARIABLES, "global", "variables") < 0)
		return -1;
	if (c->nargs != 1 || c->args[0].type != A_STRS) {
		perr(cc->ps, c->line, "global takes a list of variable names");
		return -1;
	}
	for (size_t i = 0; i < c->args[0].n; i++) {
		char *k = var_key(cc, c->args[0].strs[i]);

		if (k == NULL) {
			perr(cc->ps, c->line, "\"%s\" is not a valid variable "
			    "name", c->args[0].strs[i]);
			return -1;
		}
		for (size_t v = 0; k[0] != '*' && v < cc->s->nvars; v++) {
			if (strcmp(cc->s->vars[v], k) == 0) {
				perr(cc->ps, c->line, "global \"%s\" comes "
				    "after the script used its own \"%s\": "
				    "declare it global before using it",
				    c->args[0].strs[i], c->args[0].strs[i]);
				free(k);
				return -1;
			}
		}
		if (k[0] != '*') {
			cc->s->globals = grow(cc->s->globals,
			    cc->s->nglobals, sizeof(char *));
			cc->s->globals[cc->s->nglobals++] = k;
		} else {
			free(k);
		}
	}
	return 0;
}

static int
compile_return(struct compiler *cc, const struct cmd *c)
{
	struct sv_op *op;

	if (need(cc, c->line, CAP_INCLUDE, "return", "include") < 0)
		return -1;
	if (c->nargs || c->ntests || c->has_block) {
		perr(cc->ps, c->line, "return takes no arguments");
		return -1;
	}
	/* in the main script, return is stop (RFC 6609 section 3.3) */
	if (cc->depth == 0) {
		buf_appends(&cc->out, "stop;");
		return 0;
	}
	op = add_op(cc, SV_OP_RETURN, c->line);
	op->scope = cc->scope;
	return 0;
}

/* A block of more than SV_LSV_GROUP commands goes to libsieve as groups
 * of `if true { ... }` (an if chain is never cut), which keeps its parser
 * stack small whatever the length of the script.  In an included script,
 * what follows a command that may return runs only if it did not. */
static int
compile_block(struct compiler *cc, const struct cmd *c, size_t n, int top)
{
	int ret = 0, seen_other = 0, grouped = n > SV_LSV_GROUP;
	size_t ingroup = 0, chain = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(c[i].name, "require") == 0) {
			if (!top || seen_other) {
				perr(cc->ps, c[i].line, "require must come "
				    "before every other command, at the top "
				    "of the script");
				ret = -1;
			} else if (compile_require(cc, &c[i]) < 0) {
				ret = -1;
			}
			chain = i + 1;
			continue;
		}
		seen_other = 1;
		emit_at(cc, c[i].line);
		if (grouped && ingroup++ == 0)
			buf_appends(&cc->out, "if true { ");
		if (strcmp(c[i].name, "include") == 0 ?
		    compile_include(cc, &c[i]) :
		    strcmp(c[i].name, "global") == 0 ?
		    compile_global(cc, &c[i]) :
		    strcmp(c[i].name, "return") == 0 ?
		    compile_return(cc, &c[i]) : compile_command(cc, c, i))
			ret = -1;
		if (i + 1 < n && is_branch(&c[i + 1]))
			continue;
		if (cc->depth > 0 && i + 1 < n &&
		    has_return(&c[chain], i + 1 - chain)) {
			struct sieve_script *sc = cc->s;
			long idx = add_own(cc, 1, SV_OWN_RETURNED, NULL, NULL,
			    NULL);

			sc->owns[idx].scope = cc->scope;
			buf_printf(&cc->out, " if not exists \"%s%ld\" {",
			    SV_TEST_PREFIX, idx);
			if (compile_block(cc, &c[i + 1], n - i - 1, 0) < 0)
				ret = -1;
			buf_appends(&cc->out, " }");
			break;
		}
		chain = i + 1;
		if (ingroup >= SV_LSV_GROUP) {
			buf_appends(&cc->out, " }");
			ingroup = 0;
		}
	}
	if (ingroup > 0)
		buf_appends(&cc->out, " }");
	return ret;
}

/* include [:personal] [:once] [:optional] "name" (RFC 6609): NAME.sieve
 * from the directory of the running script (after symlinks), compiled
 * in place with its own requires and variables; :global is refused. */
static int
compile_include(struct compiler *cc, const struct cmd *c)
{
	struct parser sub = { 0 };
	struct cmd *cmds = NULL;
	size_t ncmds = 0;
	const char *name = NULL;
	char *path = NULL, *real = NULL, *text = NULL, *why = NULL;
	int once = 0, optional = 0, id, ret = -1;
	unsigned saved_caps = cc->caps;
	int saved_scope = cc->scope;
	struct parser *saved_ps = cc->ps;
	long idx;

	if (need(cc, c->line, CAP_INCLUDE, "include", "include") < 0)
		return -1;
	for (size_t i = 0; i < c->nargs; i++) {
		const struct arg *a = &c->args[i];

		if (a->type == A_TAG && strcmp(a->tag, "global") == 0) {
			perr(cc->ps, a->line, "include :global is not "
			    "supported: mailsift has no global scripts; keep "
			    "the script beside yours and include it with "
			    ":personal");
			return -1;
		}
		if (a->type == A_TAG && (strcmp(a->tag, "personal") == 0 ||
		    (strcmp(a->tag, "once") == 0 && !once++) ||
		    (strcmp(a->tag, "optional") == 0 && !optional++)))
			continue;
		if (a->type == A_STRS && a->n == 1 && !a->is_list &&
		    name == NULL) {
			name = a->strs[0];
			continue;
		}
		perr(cc->ps, a->line, "include takes [:personal] [:once] "
		    "[:optional] and one script name");
		return -1;
	}
	if (name == NULL || c->ntests || c->has_block) {
		perr(cc->ps, c->line, "include needs one script name, e.g. "
		    "include \"lists\"; for lists.sieve");
		return -1;
	}
	if (*name == '\0' || *name == '.' || strpbrk(name, "/\\") != NULL ||
	    sv_folder_unsafe(name) != NULL) {
		perr(cc->ps, c->line, "\"%s\" is not a script name: include "
		    "reads NAME.sieve beside this script, so give NAME "
		    "without / or a leading dot", name);
		return -1;
	}
	if (cc->dir == NULL) {
		perr(cc->ps, c->line, "include needs a script file: the "
		    "included scripts are the files beside it");
		return -1;
	}
	path = xasprintf("%s/%s.sieve", cc->dir, name);
	if ((real = realpath(path, NULL)) == NULL) {
		if (errno == ENOENT && optional) {
			ret = 0;
			goto out;
		}
		perr(cc->ps, c->line, "include \"%s\": cannot read %s: %s%s",
		    name, path, strerror(errno), errno == ENOENT ?
		    " (add :optional if it may be missing)" : "");
		goto out;
	}
	for (int d = 0; d < cc->depth; d++) {
		if (strcmp(cc->stack[d], real) == 0) {
			perr(cc->ps, c->line, "include \"%s\" is a loop: that "
			    "script is already being included", name);
			goto out;
		}
	}
	if (cc->depth >= SV_MAX_INCLUDE_DEPTH ||
	    cc->ninstances >= SV_MAX_INCLUDES) {
		perr(cc->ps, c->line, "include \"%s\": more than %d nested "
		    "includes or %d includes in all", name,
		    SV_MAX_INCLUDE_DEPTH, SV_MAX_INCLUDES);
		goto out;
	}
	if (sv_read_file(real, &text, &why) < 0) {
		perr(cc->ps, c->line, "include \"%s\": %s", name, why);
		goto out;
	}
	for (id = 0; id < cc->nscripts; id++)
		if (strcmp(cc->scripts[id], real) == 0)
			break;
	if (id == cc->nscripts) {
		cc->scripts = grow(cc->scripts, (size_t)cc->nscripts,
		    sizeof(char *));
		cc->scripts[cc->nscripts++] = xstrdup(real);
	}
	/* its own parser for its own file name and lines */
	sub.name = path;
	if (read_script(&sub, text, &cmds, &ncmds) < 0) {
		buf_appends(&cc->ps->errs, sub.errs.data ? sub.errs.data : "");
		cc->ps->nerr += sub.nerr;
		goto out;
	}
	idx = add_own(cc, 1, SV_OWN_INCLUDE, NULL, NULL, NULL);
	cc->s->owns[idx].script_id = id;
	cc->s->owns[idx].once = once;
	buf_printf(&cc->out, "if exists \"%s%ld\" {", SV_TEST_PREFIX, idx);
	cc->ps = &sub;
	cc->caps = 0;
	cc->scope = ++cc->ninstances;
	cc->stack[cc->depth++] = real;
	ret = compile_block(cc, cmds, ncmds, 1);
	cc->depth--;
	cc->scope = saved_scope;
	cc->caps = saved_caps;
	cc->ps = saved_ps;
	buf_appends(&cc->out, " }");
	buf_appends(&cc->ps->errs, sub.errs.data ? sub.errs.data : "");
	buf_appends(&cc->ps->warns, sub.warns.data ? sub.warns.data : "");
	cc->ps->nerr += sub.nerr;
out:
	parser_release(&sub);
	cmds_free(cmds, ncmds);
	free(text);
	free(why);
	free(real);
	free(path);
	return ret;
}

/* Reads the commands of text into *cmds_r with ps (errors go to ps),
 * with encoded characters decoded and variable names checked. */
static int
read_script(struct parser *ps, const char *text, struct cmd **cmds_r,
    size_t *n_r)
{
	ps->lx.p = text;
	ps->lx.end = text + strlen(text);
	ps->lx.line = 1;
	lex_next(&ps->lx);
	if (parse_commands(ps, cmds_r, n_r, 0) < 0)
		return -1;
	if (ps->lx.t != T_EOF)
		return unexpected(ps, "a command");
	if (requires(*cmds_r, *n_r, "encoded-character") &&
	    walk_cmds(ps, *cmds_r, *n_r, decode_string) < 0)
		return -1;
	ps->has_include = requires(*cmds_r, *n_r, "include");
	if (requires(*cmds_r, *n_r, "variables") &&
	    walk_cmds(ps, *cmds_r, *n_r, check_refs) < 0)
		return -1;
	return 0;
}

static void
parser_release(struct parser *ps)
{
	buf_release(&ps->errs);
	buf_release(&ps->warns);
	free(ps->lx.text);
	free(ps->lx.err);
}

int
sv_compile(const char *name, const char *text, const char *dir,
    struct sieve_script *s, char **errors_r)
{
	struct parser ps = { 0 };
	struct compiler cc = { 0 };
	struct cmd *cmds = NULL;
	size_t ncmds = 0;
	int ret = -1;

	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	ps.name = name;
	if (read_script(&ps, text, &cmds, &ncmds) < 0)
		goto out;
	cc.ps = &ps;
	cc.s = s;
	cc.out_line = 1;
	cc.dir = dir;
	/* All the rewrite needs, whatever the owner required: flags and
	 * spamtest never reach libsieve. */
	buf_appends(&cc.out, "require [\"fileinto\", \"relational\", "
	    "\"comparator-i;ascii-numeric\"];");
	if (compile_block(&cc, cmds, ncmds, 1) < 0)
		goto out;
	/* libsieve refuses a script without commands */
	buf_appends(&cc.out, "\nstop;\n");
	s->rewritten = buf_steal(&cc.out);
	s->nscopes = cc.ninstances + 1;
	s->nscripts = cc.nscripts;
	if (ps.warns.len > 0)
		s->warnings = buf_steal(&ps.warns);
	ret = 0;
out:
	if (ret < 0) {
		if (ps.nerr == 0)
			perr(&ps, ps.lx.tline, "invalid script");
		*errors_r = buf_steal(&ps.errs);
		sv_script_release(s);
	}
	for (int i = 0; i < cc.nscripts; i++)
		free(cc.scripts[i]);
	free(cc.scripts);
	parser_release(&ps);
	buf_release(&cc.out);
	cmds_free(cmds, ncmds);
	return ret;
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
sv_script_release(struct sieve_script *s)
{
	for (size_t i = 0; i < s->nops; i++) {
		free(s->ops[i].mailbox);
		free(s->ops[i].value);
		free(s->ops[i].file);
		strv_free(s->ops[i].flags, s->ops[i].nflags);
	}
	for (size_t i = 0; i < s->nowns; i++) {
		struct sv_own *o = &s->owns[i];

		strv_free(o->names, o->nnames);
		strv_free(o->keys, o->nkeys);
		if (o->rx != NULL)
			for (size_t k = 0; k < o->nkeys; k++)
				regfree(&o->rx[k]);
		free(o->rx);
		free(o->vars);
		free(o->kids);
	}
	strv_free(s->vars, s->nvars);
	strv_free(s->globals, s->nglobals);
	free(s->ops);
	free(s->owns);
	free(s->name);
	free(s->rewritten);
	free(s->warnings);
	memset(s, 0, sizeof(*s));
}
