/*
 * sieve.c - the Sieve seam (sieve.h): load and check a script, evaluate it
 * on one message in a forked child, and turn what ran into actions.
 *
 * Evaluation happens in a child process per message, with a time limit:
 * libsieve 2.2.6 can crash, abort or leak, and none of that may reach the
 * daemon; a crash or a timeout is an error and the caller leaves the
 * message where it is.  The children are forked by one helper per script
 * (agent/child_server.h), not by the caller, whose large heap would make
 * every fork costly; a request carries everything a run may look at.  The child reports only the list of statements that
 * ran (see lang.c); the parent replays that list against the compiled
 * script to get the actions, applying RFC 5228 and RFC 5232 itself:
 * implicit keep unless keep, fileinto or discard cancelled it; the
 * internal flag variable; one action per folder, the last flags winning
 * (as Pigeonhole does); discard only when nothing stores the message.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/child.h"
#include "agent/child_server.h"
#include "agent/message.h"
#include "agent/xmem.h"
#include "sieve/sieve.h"
#include "sieve/sieve_int.h"

#define SV_TIMEOUT_MS	5000
/* runs of one message at most, for the duplicate IDs to look up */
#define SV_DUP_ROUNDS	16
#define SV_MAX_SCRIPT	(1024 * 1024)

/* ------------------------------------------------------------ loading */

static int serve_eval(void *ctx, const char *req, size_t len,
    struct buf *out);

struct validate_arg {
	const char *name;
	const char *text;
};

static int
child_validate(void *arg, struct buf *out)
{
	struct validate_arg *va = arg;
	char *errors = NULL;

	if (sv_engine_validate(va->name, va->text, &errors) == 0)
		return 0;
	buf_appends(out, errors);
	free(errors);
	return -1;
}

static int
parse(const char *name, const char *text, const char *dir,
    struct sieve_script **script_r, char **errors_r)
{
	struct sieve_script *s = xcalloc(1, sizeof(*s));
	struct validate_arg va;
	char *out = NULL;

	*script_r = NULL;
	/* read the time zone once here, not in every evaluator child */
	tzset();
	if (sv_compile(name, text, dir, s, errors_r) < 0) {
		free(s);
		return -1;
	}
	/* Our parser is stricter than libsieve's, but libsieve must agree
	 * too: a script it cannot parse would be half-run. */
	va.name = name;
	va.text = s->rewritten;
	/* a 10,000-rule script takes libsieve some 40 ms to parse here (and
	 * again at every run): the limit grows with the script, for slow
	 * machines and valgrind */
	if (child_run(child_validate, &va, "the sieve checker (libsieve)",
	    SV_TIMEOUT_MS + (int)(strlen(s->rewritten) / 100), &out,
	    errors_r) < 0) {
		sieve_script_free(&s);
		return -1;
	}
	free(out);
	/* the helper that runs the evaluations forks on the first one */
	s->server = child_server_new(serve_eval, s, "the sieve evaluator "
	    "(libsieve)");
	*script_r = s;
	return 0;
}

int
sieve_script_parse(const char *name, const char *text,
    struct sieve_script **script_r, char **errors_r)
{
	return parse(name, text, NULL, script_r, errors_r);
}

int
sieve_script_parse_in(const char *name, const char *text, const char *dir,
    struct sieve_script **script_r, char **errors_r)
{
	return parse(name, text, dir, script_r, errors_r);
}

int
sv_read_file(const char *path, char **text_r, char **why_r)
{
	struct buf text = { 0 };
	char chunk[8192];
	FILE *f;
	size_t n;
	int ret = -1;

	*text_r = NULL;
	f = fopen(path, "rb");
	if (f == NULL) {
		*why_r = xasprintf("%s: cannot read the script: %s", path,
		    strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_append(&text, chunk, n);
		if (text.len > SV_MAX_SCRIPT)
			break;
	}
	if (ferror(f)) {
		*why_r = xasprintf("%s: cannot read the script: %s", path,
		    strerror(errno));
	} else if (text.len > SV_MAX_SCRIPT) {
		*why_r = xasprintf("%s: the script is larger than %d bytes",
		    path, SV_MAX_SCRIPT);
	} else if (text.len > 0 && memchr(text.data, '\0', text.len)) {
		*why_r = xasprintf("%s: the script contains a NUL byte: is it "
		    "a text file?", path);
	} else {
		*text_r = buf_steal(&text);
		ret = 0;
	}
	fclose(f);
	buf_release(&text);
	return ret;
}

int
sieve_script_load(const char *path, struct sieve_script **script_r,
    char **errors_r)
{
	char *text = NULL, *real, *dir = NULL;
	int ret;

	*script_r = NULL;
	if (sv_read_file(path, &text, errors_r) < 0)
		return -1;
	/* include :personal reads the scripts beside the real file (the
	 * configured path may be a symlink to the active script) */
	if ((real = realpath(path, NULL)) != NULL) {
		char *slash = strrchr(real, '/');

		dir = slash == real ? xstrdup("/") :
		    xstrndup(real, (size_t)(slash - real));
		free(real);
	}
	ret = parse(path, text, dir, script_r, errors_r);
	free(dir);
	free(text);
	return ret;
}

void
sieve_script_free(struct sieve_script **script)
{
	if (*script == NULL)
		return;
	child_server_free(&(*script)->server);
	sv_script_release(*script);
	free(*script);
	*script = NULL;
}

const char *
sieve_script_warnings(const struct sieve_script *script)
{
	return script->warnings;
}

char *
sieve_default_script(const char *junk, double threshold)
{
	char pct[8];
	struct buf b = { 0 };

	sv_spamtest_value(threshold, 1, pct);
	buf_appends(&b, "# mailsift's built-in rule: spam goes to the junk "
	    "folder, tagged $Junk.\n"
	    "require [\"fileinto\", \"imap4flags\", \"spamtestplus\", "
	    "\"relational\",\n"
	    "         \"comparator-i;ascii-numeric\"];\n");
	buf_printf(&b, "if spamtest :percent :value \"ge\" :comparator "
	    "\"i;ascii-numeric\" \"%s\" {\n", pct);
	buf_appends(&b, "\tfileinto :flags \"$Junk\" \"");
	for (const char *p = junk; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_appends(&b, "\\");
		buf_append(&b, p, 1);
	}
	buf_appends(&b, "\";\n}\n");
	return buf_steal(&b);
}

/* ------------------------------------------------------------ evaluation */

/* What the parent knows of a duplicate ID (found in its store or not). */
struct known_id {
	char id[65];
	int found;
	long long seen_at;
};

/* The entry of the 64 hex digits at id, or NULL. */
static const struct known_id *
known_find(const struct known_id *k, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(k[i].id, id, 64) == 0)
			return &k[i];
	return NULL;
}

struct eval_arg {
	const struct sieve_script *s;
	const char *msg;
	size_t len;
	const struct sieve_env *env;
	long long now;
	const struct known_id *known;
	size_t nknown;
};

struct eval {
	const struct sieve_script *s;
	struct message m;
	const struct sieve_env *env;
	double score;
	char *error;		/* owned; why the run fails, or NULL */
	struct sv_flags flags;	/* the imap4flags variable, as it runs */
	char **values;		/* owned; the variables, by slot */
	int scope;		/* the script of the statement running */
	char *ran;		/* owned; included scripts that ran, by id */
	char *returned;		/* owned; by scope */
	const struct eval_arg *arg;
	struct buf need;	/* "?ID" lines: duplicate IDs to look up */
	struct buf dups;	/* "!ID SEEN LAST" lines: duplicates tracked */
	struct sv_values body[2];	/* :text and :raw, once read */
	struct sv_captures match;	/* ${0}..${9} */
	struct buf trace;	/* "N N N" of the statements that ran */
	char **last;		/* values handed to libsieve last time */
	size_t nlast;
};

static void
values_add(struct eval *ev, char *v)
{
	ev->last = xreallocarray(ev->last, ev->nlast + 2, sizeof(char *));
	ev->last[ev->nlast++] = v;
	ev->last[ev->nlast] = NULL;
}

static void
values_clear(struct eval *ev)
{
	for (size_t i = 0; i < ev->nlast; i++)
		free(ev->last[i]);
	ev->nlast = 0;
	if (ev->last)
		ev->last[0] = NULL;
}

/* Adds one value, decoded (RFC 2047) unless raw, numeric if asked. */
static void
value_add(struct eval *ev, const char *v, size_t len, int raw, int numeric)
{
	char *s = xstrndup(v, len);

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	if (!raw) {
		char *d = message_decode_words(s);

		free(s);
		s = d;
	}
	if (numeric) {
		char *num = sv_numeric_form(s);

		free(s);
		s = num;
	}
	values_add(ev, s);
}

/* The values of header name as Pigeonhole sees them: leading blanks of
 * the first line dropped, line breaks of folded lines removed with a
 * leading tab becoming a space, trailing blanks dropped.  message.c
 * finds where the header section ends; the unfolding is done here to
 * match the reference engine byte for byte.  The score replaces any
 * X-Spam-Score in the message: a sender could forge that. */
static void
header_values(struct eval *ev, const char *name, int raw, int numeric)
{
	const char *p = ev->m.raw;
	const char *end = ev->m.body ? ev->m.body : ev->m.raw + ev->m.len;
	size_t nlen = strlen(name);
	struct buf cur = { 0 };
	int in = 0;

	if (strcasecmp(name, SV_SCORE_HEADER) == 0 && ev->score >= 0) {
		char *s = xasprintf("%.4f", ev->score);

		value_add(ev, s, strlen(s), 1, numeric);
		free(s);
		return;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		size_t len = (size_t)((eol ? eol : end) - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > 0 && (p[0] == ' ' || p[0] == '\t')) {
			if (in) {
				buf_appends(&cur, " ");
				buf_append(&cur, p + 1, len - 1);
			}
		} else {
			if (in)
				value_add(ev, cur.data ? cur.data : "",
				    cur.len, raw, numeric);
			buf_release(&cur);
			in = len > nlen && p[nlen] == ':' &&
			    strncasecmp(p, name, nlen) == 0;
			if (in) {
				const char *v = p + nlen + 1;
				const char *vend = p + len;

				while (v < vend && (*v == ' ' || *v == '\t'))
					v++;
				buf_append(&cur, v, (size_t)(vend - v));
			}
		}
		p = next;
	}
	if (in)
		value_add(ev, cur.data ? cur.data : "", cur.len, raw, numeric);
	buf_release(&cur);
}

/* The address test over the addresses in values (raw header values). */
static int
address_match(const struct sv_own *o, char *const *values, size_t n,
    char *const *keys, size_t nkeys, const regex_t *rx,
    struct sv_captures *cap)
{
	char **parts = NULL;
	size_t nparts = 0, naddrs = 0;
	int hit;

	for (size_t i = 0; i < n; i++) {
		struct sv_addr *a;
		int nonaddress;
		size_t na = sv_addresses(values[i], &a, &nonaddress);

		if (nonaddress) {
			/* Pigeonhole: the whole value, for :all only; an
			 * empty value is "" for every part */
			naddrs++;
			if (o->part == SV_PART_ALL || values[i][0] == '\0') {
				parts = xreallocarray(parts, nparts + 1,
				    sizeof(char *));
				parts[nparts++] = xstrdup(values[i]);
			}
		}
		naddrs += na;
		for (size_t k = 0; k < na; k++) {
			char *part = sv_address_part(&a[k], o->part);

			if (part == NULL)
				continue;
			parts = xreallocarray(parts, nparts + 1,
			    sizeof(char *));
			parts[nparts++] = part;
		}
		sv_addresses_free(a, na);
	}
	/* :count counts addresses, whether or not they have the part (an
	 * address without "+" has no :detail), as Pigeonhole does */
	if (o->m.mt == SV_MT_COUNT)
		hit = sv_match_values(&o->m, NULL, naddrs, keys, nkeys, NULL,
		    NULL);
	else
		hit = sv_match_values(&o->m, parts, nparts, keys, nkeys, rx,
		    cap);
	for (size_t i = 0; i < nparts; i++)
		free(parts[i]);
	free(parts);
	return hit;
}

/* mailboxexists (RFC 5490): every folder named is in the caller's list
 * (INBOX in any case).  Without a list the run fails: mailsift cannot
 * tell, and guessing would file mail by a wrong answer. */
static int
mailboxes_exist(struct eval *ev, char *const *names, size_t n)
{
	if (ev->env->mailboxes == NULL) {
		if (ev->error == NULL)
			ev->error = xstrdup("mailboxexists: the list of "
			    "folders is not known here");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = names[i];
		size_t k;

		for (k = 0; k < ev->env->nmailboxes; k++) {
			const char *have = ev->env->mailboxes[k];

			if (strcmp(have, name) == 0 ||
			    (strcasecmp(have, "INBOX") == 0 &&
			    strcasecmp(name, "INBOX") == 0))
				break;
		}
		if (k == ev->env->nmailboxes)
			return 0;
	}
	return 1;
}

/* The slot of variable name as the running script sees it: its own,
 * or the shared one when declared global or written "global.name". */
static int
var_lookup(void *ctx, const char *name, size_t len)
{
	struct eval *ev = ctx;
	char *key;
	int slot = -1;

	if (len > 7 && strncasecmp(name, "global.", 7) == 0)
		key = xasprintf("*:%.*s", (int)(len - 7), name + 7);
	else
		key = xasprintf("%d:%.*s", ev->scope, (int)len, name);
	for (char *p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; key[0] != '*' && i < ev->s->nglobals; i++) {
		if (strcmp(ev->s->globals[i], key) == 0) {
			char *g = xasprintf("*:%s", strchr(key, ':') + 1);

			free(key);
			key = g;
			break;
		}
	}
	for (size_t i = 0; i < ev->s->nvars && slot < 0; i++)
		if (strcmp(ev->s->vars[i], key) == 0)
			slot = (int)i;
	free(key);
	return slot;
}

static char *
expand(struct eval *ev, const char *s)
{
	struct sv_scope sc;

	sc.match = &ev->match;
	sc.values = ev->values;
	sc.lookup = var_lookup;
	sc.ctx = ev;
	return sv_expand(s, &sc);
}

static char **
expand_list(struct eval *ev, char *const *v, size_t n)
{
	char **r = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		r[i] = expand(ev, v[i]);
	return r;
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

/* Appends the space-separated flags of s to *v (RFC 5232 section 3). */
static void
split_into(struct sv_flags *f, const char *s)
{
	while (*s) {
		size_t len;

		while (*s == ' ')
			s++;
		len = strcspn(s, " ");
		if (len == 0)
			break;
		f->v = xreallocarray(f->v, f->n + 1, sizeof(char *));
		f->v[f->n++] = xstrndup(s, len);
		s += len;
	}
}

static int
own_test(struct eval *ev, size_t idx);

/* The test's names and keys as this run sees them: expanded when they
 * hold variables (hasflag :is and :contains keys then split at spaces;
 * :regex keys then compiled).  Returns -1 (and sets ev->error) for a
 * regular expression that does not compile. */
struct live_args {
	char **names, **keys;
	size_t nkeys;
	regex_t *rx;
	int own;		/* the above are ours to free */
};

static int
live_args(struct eval *ev, const struct sv_own *o, struct live_args *la)
{
	memset(la, 0, sizeof(*la));
	la->names = o->names;
	la->keys = o->keys;
	la->nkeys = o->nkeys;
	la->rx = o->rx;
	if (!o->expand)
		return 0;
	la->own = 1;
	la->names = expand_list(ev, o->names, o->nnames);
	la->keys = expand_list(ev, o->keys, o->nkeys);
	la->rx = NULL;
	if (o->kind == SV_OWN_HASFLAG && (o->m.mt == SV_MT_IS ||
	    o->m.mt == SV_MT_CONTAINS)) {
		struct sv_flags f = { 0 };

		for (size_t i = 0; i < o->nkeys; i++)
			split_into(&f, la->keys[i]);
		strv_free(la->keys, o->nkeys);
		la->keys = f.v;
		la->nkeys = f.n;
	}
	if (o->m.mt == SV_MT_REGEX) {
		la->rx = xcalloc(la->nkeys + 1, sizeof(regex_t));
		for (size_t i = 0; i < la->nkeys; i++) {
			char err[128];

			if (sv_regex_compile(&la->rx[i], la->keys[i],
			    o->m.cmp, err) == 0)
				continue;
			if (ev->error == NULL)
				ev->error = xstrdup(err);
			for (size_t k = 0; k < i; k++)
				regfree(&la->rx[k]);
			free(la->rx);
			la->rx = NULL;
			return -1;
		}
	}
	return 0;
}

static void
live_args_release(const struct sv_own *o, struct live_args *la)
{
	if (!la->own)
		return;
	strv_free(la->names, o->nnames);
	strv_free(la->keys, la->nkeys);
	if (la->rx != NULL)
		for (size_t i = 0; i < la->nkeys; i++)
			regfree(&la->rx[i]);
	free(la->rx);
}

/* hasflag on variables: the flags their values hold. */
static void
variable_flags(struct eval *ev, const struct sv_own *o, struct sv_flags *f)
{
	for (size_t i = 0; i < o->nvars; i++)
		if (ev->values[o->vars[i]] != NULL)
			split_into(f, ev->values[o->vars[i]]);
}

/* :index (RFC 5260 section 6): keeps only the index-th value, counted
 * from the last with :last. */
static void
keep_index(struct eval *ev, const struct sv_own *o)
{
	size_t want;

	if (o->index == 0)
		return;
	if ((size_t)o->index > ev->nlast) {
		values_clear(ev);
		return;
	}
	want = o->last ? ev->nlast - (size_t)o->index : (size_t)o->index - 1;
	for (size_t i = 0; i < ev->nlast; i++)
		if (i != want)
			free(ev->last[i]);
	ev->last[0] = ev->last[want];
	ev->nlast = 1;
	ev->last[1] = NULL;
}

static int
local_zone(long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return (int)(tm.tm_gmtoff / 60);
}

/* duplicate (RFC 7352): has the store seen this message's ID within
 * :seconds?  An ID the parent has not looked up yet is asked for (the
 * run is then done again with the answer); every tracked ID is reported
 * for the caller to record once the actions happened. */
static int
duplicate_test(struct eval *ev, const struct sv_own *o, char **names)
{
	const struct known_id *k = NULL;
	struct buf key = { 0 };
	char id[MESSAGE_HASH_LEN + 1];
	int seen;

	if (o->uniqueid) {
		buf_appends(&key, names[2]);
	} else {
		values_clear(ev);
		header_values(ev, names[1], 1, 0);
		if (ev->nlast == 0)	/* nothing to track */
			return 0;
		buf_appends(&key, ev->last[0]);
	}
	/* the handle keeps apart what different tests track */
	buf_printf(&key, "\n%s", names[0]);
	message_hash(key.data, key.len, id);
	buf_release(&key);
	if ((k = known_find(ev->arg->known, ev->arg->nknown, id)) == NULL) {
		buf_printf(&ev->need, "?%s\n", id);
		return 0;
	}
	seen = k->found && ev->arg->now - k->seen_at < o->seconds;
	buf_printf(&ev->dups, "!%s %d %d\n", id, seen, o->last);
	return seen;
}

/* date and currentdate: the one value they compare, the date part (none
 * when the header holds no date). */
static void
date_values(struct eval *ev, const struct sv_own *o, char **names)
{
	struct sv_date d;
	const char *part;
	char *v;
	int zone;

	values_clear(ev);
	if (o->kind == SV_OWN_CURRENTDATE) {
		d.t = ev->arg->now;
		d.zone = local_zone(d.t);
		part = names[0];
	} else {
		header_values(ev, names[0], 1, 0);
		/* the first field, or the index-th (Pigeonhole 0.5.19
		 * ignores :index here: mailsift follows RFC 5260) */
		keep_index(ev, o);
		if (ev->nlast == 0 || sv_date_parse(ev->last[0],
		    strcasecmp(names[0], "received") == 0, &d) < 0) {
			values_clear(ev);
			return;
		}
		values_clear(ev);
		part = names[1];
	}
	zone = o->zone == SV_ZONE_ORIGINAL ? d.zone : o->zone ==
	    SV_ZONE_GIVEN ? o->zone_min : local_zone(d.t);
	if ((v = sv_date_part(&d, zone, part)) != NULL)
		values_add(ev, v);
}

static int
own_leaf(struct eval *ev, const struct sv_own *o, struct live_args *la)
{
	struct sv_captures *cap = &ev->match;
	struct sv_flags f = { 0 };
	char value[8];
	char *vp = value;
	int hit = 0;

	switch (o->kind) {
	case SV_OWN_HEADER:
		values_clear(ev);
		for (size_t i = 0; i < o->nnames; i++)
			header_values(ev, la->names[i], 0, 0);
		keep_index(ev, o);
		hit = sv_match_values(&o->m, ev->last, ev->nlast, la->keys,
		    la->nkeys, la->rx, cap);
		break;
	case SV_OWN_BODY: {
		/* no match variables from body (RFC 5173 section 5); :text
		 * and :raw are read once a run */
		struct sv_values bv, *v = &bv;

		if (o->body == SV_BODY_CONTENT) {
			sv_body_values(&ev->m, o->body, la->names, o->nnames,
			    &bv);
		} else {
			v = &ev->body[o->body];
			if (v->v == NULL)
				sv_body_values(&ev->m, o->body, NULL, 0, v);
		}
		hit = sv_match_values(&o->m, v->v, v->n, la->keys, la->nkeys,
		    la->rx, NULL);
		if (v == &bv)
			sv_values_release(&bv);
		break;
	}
	case SV_OWN_DATE:
	case SV_OWN_CURRENTDATE:
		date_values(ev, o, la->names);
		hit = sv_match_values(&o->m, ev->last, ev->nlast, la->keys,
		    la->nkeys, la->rx, cap);
		break;
	case SV_OWN_ADDRESS:
		values_clear(ev);
		for (size_t i = 0; i < o->nnames; i++)
			header_values(ev, la->names[i], 1, 0);
		keep_index(ev, o);
		hit = address_match(o, ev->last, ev->nlast, la->keys,
		    la->nkeys, la->rx, cap);
		break;
	case SV_OWN_STRING:
		/* :count counts the strings that are not empty */
		values_clear(ev);
		for (size_t i = 0; i < o->nnames; i++)
			if (o->m.mt != SV_MT_COUNT || la->names[i][0] != '\0')
				values_add(ev, xstrdup(la->names[i]));
		hit = sv_match_values(&o->m, ev->last, ev->nlast, la->keys,
		    la->nkeys, la->rx, cap);
		break;
	case SV_OWN_EXISTS:
		hit = 1;
		for (size_t i = 0; i < o->nnames && hit; i++) {
			values_clear(ev);
			header_values(ev, la->names[i], 1, 0);
			hit = ev->nlast > 0;
		}
		break;
	case SV_OWN_MAILBOXEXISTS:
		hit = mailboxes_exist(ev, la->names, o->nnames);
		break;
	case SV_OWN_HASFLAG:
		if (o->vars != NULL) {
			variable_flags(ev, o, &f);
			hit = sv_match_values(&o->m, f.v, f.n, la->keys,
			    la->nkeys, la->rx, cap);
			sv_flags_release(&f);
		} else {
			hit = sv_match_values(&o->m, ev->flags.v, ev->flags.n,
			    la->keys, la->nkeys, la->rx, cap);
		}
		break;
	case SV_OWN_SPAMTEST:
		sv_spamtest_value(ev->score, o->percent, value);
		hit = sv_match_values(&o->m, &vp, 1, la->keys, la->nkeys,
		    la->rx, cap);
		break;
	case SV_OWN_SIZE:
		hit = o->over ? ev->m.len > o->size : ev->m.len < o->size;
		break;
	case SV_OWN_TRUE:
		hit = 1;
		break;
	case SV_OWN_INCLUDE:
		hit = !(o->once && ev->ran[o->script_id]);
		ev->ran[o->script_id] = 1;
		break;
	case SV_OWN_RETURNED:
		hit = ev->returned[o->scope];
		break;
	case SV_OWN_DUPLICATE:
		hit = duplicate_test(ev, o, la->names);
		break;
	case SV_OWN_FALSE:
		break;
	case SV_OWN_NOT:
		hit = !own_test(ev, o->kids[0]);
		break;
	case SV_OWN_ANYOF:
		for (size_t i = 0; i < o->nkids && !hit; i++)
			hit = own_test(ev, o->kids[i]);
		break;
	case SV_OWN_ALLOF:
		hit = 1;
		for (size_t i = 0; i < o->nkids && hit; i++)
			hit = own_test(ev, o->kids[i]);
		break;
	}
	return hit;
}

static int
own_test(struct eval *ev, size_t idx)
{
	const struct sv_own *o = &ev->s->owns[idx];
	struct live_args la;
	int hit = 0;

	ev->scope = o->scope;
	if (live_args(ev, o, &la) == 0)
		hit = own_leaf(ev, o, &la);
	live_args_release(o, &la);
	return hit;
}

static char **
eval_get_header(void *ctx, const char *name)
{
	struct eval *ev = ctx;
	size_t hl = strlen(SV_HDR_PREFIX), nl = strlen(SV_NUM_PREFIX);
	size_t tl = strlen(SV_TEST_PREFIX);
	char value[8];

	/* own_test may fill ev->last itself: decide first, then clear */
	if (strncasecmp(name, SV_TEST_PREFIX, tl) == 0) {
		unsigned long idx = strtoul(name + tl, NULL, 10);
		int hit = idx < ev->s->nowns && own_test(ev, idx);

		values_clear(ev);
		if (hit)
			values_add(ev, xstrdup("1"));
		return ev->last;
	}
	values_clear(ev);
	if (strncasecmp(name, SV_HDR_PREFIX, hl) == 0) {
		header_values(ev, name + hl, 0, 0);
	} else if (strncasecmp(name, SV_NUM_PREFIX, nl) == 0) {
		header_values(ev, name + nl, 0, 1);
	} else if (strcasecmp(name, SV_SPAMPCT) == 0 ||
	    strcasecmp(name, SV_SPAMTEST) == 0) {
		sv_spamtest_value(ev->score, strcasecmp(name, SV_SPAMPCT) == 0,
		    value);
		values_add(ev, xstrdup(value));
	}
	return ev->last;
}

static void
apply_flag_op(struct sv_flags *f, const struct sv_op *op)
{
	switch (op->type) {
	case SV_OP_SETFLAG:
		sv_flags_release(f);
		sv_flags_add(f, op->flags, op->nflags);
		break;
	case SV_OP_ADDFLAG:
		sv_flags_add(f, op->flags, op->nflags);
		break;
	case SV_OP_REMOVEFLAG:
		sv_flags_remove(f, op->flags, op->nflags);
		break;
	default:
		break;
	}
}

/* A flag written by a variable that is no IMAP flag is dropped when the
 * statement runs, as Pigeonhole does (a constant one is refused when the
 * script loads). */
static int
flag_ok(const char *f)
{
	for (; *f; f++)
		if ((unsigned char)*f < 33 || (unsigned char)*f > 126 ||
		    strchr("(){%*\"]", *f) != NULL)
			return 0;
	return 1;
}

/* The statement as it runs: its strings expanded, flags split. */
static void
live_op(struct eval *ev, const struct sv_op *op, struct sv_op *live)
{
	struct sv_flags f = { 0 };

	*live = *op;
	live->mailbox = op->mailbox ? expand(ev, op->mailbox) : NULL;
	for (size_t i = 0; i < op->nflags; i++) {
		char *v = expand(ev, op->flags[i]);
		struct sv_flags one = { 0 };

		split_into(&one, v);
		for (size_t k = 0; k < one.n; k++) {
			if (flag_ok(one.v[k])) {
				f.v = xreallocarray(f.v, f.n + 1,
				    sizeof(char *));
				f.v[f.n++] = one.v[k];
			} else {
				free(one.v[k]);
			}
		}
		free(one.v);
		free(v);
	}
	live->flags = f.v;
	live->nflags = f.n;
}

/* addflag "var" "flags" and the like: the flag list in a variable. */
static void
variable_flag_op(struct eval *ev, const struct sv_op *op)
{
	struct sv_flags f = { 0 };
	struct buf b = { 0 };
	char **slot = &ev->values[op->var];

	if (*slot != NULL)
		split_into(&f, *slot);
	apply_flag_op(&f, op);
	for (size_t i = 0; i < f.n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", f.v[i]);
	free(*slot);
	*slot = sv_set_value(b.data ? b.data : "", 0);
	buf_release(&b);
	sv_flags_release(&f);
}

/* The trace: a line per statement that ran, "N", or for a statement
 * with variables "N" and its expanded folder and flags, each after a
 * 0x1f (neither can hold a control character). */
static int
eval_on_op(void *ctx, size_t idx)
{
	struct eval *ev = ctx;
	const struct sv_op *op;
	struct sv_op live;
	const char *why;

	if (idx >= ev->s->nops)
		return -1;
	op = &ev->s->ops[idx];
	ev->scope = op->scope;
	if (op->type == SV_OP_RETURN) {
		ev->returned[op->scope] = 1;
		return 0;
	}
	if (op->type == SV_OP_SET) {
		char *v = expand(ev, op->value);

		free(ev->values[op->var]);
		ev->values[op->var] = sv_set_value(v, op->mods);
		free(v);
		return 0;
	}
	if (!op->expand) {
		live = *op;
	} else if (op->type == SV_OP_ERROR) {
		live = *op;
		live.mailbox = expand(ev, op->mailbox);
		live.flags = NULL;
		live.nflags = 0;
	} else {
		live_op(ev, op, &live);
	}
	if (op->type == SV_OP_ERROR && ev->error == NULL)
		ev->error = xasprintf("line %d: the script says: error "
		    "\"%s\"", op->line, live.mailbox);
	if (op->type == SV_OP_FILEINTO && op->expand &&
	    (why = sv_folder_unsafe(live.mailbox)) != NULL &&
	    ev->error == NULL)
		ev->error = xasprintf("line %d: fileinto \"%s\" would file "
		    "into \"%s\", which cannot be a folder name: %s; the "
		    "message is kept", op->line, op->mailbox, live.mailbox,
		    why);
	if (op->var >= 0) {
		variable_flag_op(ev, &live);
	} else if (op->type != SV_OP_ERROR) {	/* that ends the run */
		apply_flag_op(&ev->flags, &live);
		buf_printf(&ev->trace, "%zu", idx);
		if (op->expand) {
			buf_printf(&ev->trace, "\x1f%s", live.mailbox ?
			    live.mailbox : "");
			for (size_t i = 0; i < live.nflags; i++)
				buf_printf(&ev->trace, "\x1f%s",
				    live.flags[i]);
		}
		buf_appends(&ev->trace, "\n");
	}
	if (op->expand) {
		free(live.mailbox);
		strv_free(live.flags, live.nflags);
	}
	return 0;
}

static int
child_eval(void *arg, struct buf *out)
{
	struct eval_arg *ea = arg;
	struct eval ev = { 0 };
	struct sv_engine_msg em;
	char *err = NULL;
	int ret;

	ev.s = ea->s;
	ev.arg = ea;
	ev.env = ea->env;
	ev.score = ea->env->score;
	ev.values = xcalloc(ea->s->nvars + 1, sizeof(char *));
	ev.ran = xcalloc((size_t)ea->s->nscripts + 1, 1);
	ev.returned = xcalloc((size_t)ea->s->nscopes + 1, 1);
	message_parse(&ev.m, ea->msg, ea->len);
	em.get_header = eval_get_header;
	em.on_op = eval_on_op;
	em.size = ea->len;
	em.ctx = &ev;
	ret = sv_engine_run(ea->s->rewritten, &em, &err);
	if (ev.need.len > 0) {
		/* the parent looks these up and runs the script again */
		free(err);
		err = NULL;
		buf_appends(out, ev.need.data);
		ret = 0;
		goto out;
	}
	if (ret == 0 && ev.error != NULL) {
		/* the script's own error, or a test it could not answer:
		 * the run fails and the message stays where it is */
		err = ev.error;
		ev.error = NULL;
		ret = -1;
	}
	if (ret == 0) {
		buf_appends(out, ev.dups.data ? ev.dups.data : "");
		buf_appends(out, ev.trace.data ? ev.trace.data : "");
	} else {
		buf_appends(out, err);
		free(err);
	}
out:
	sv_values_release(&ev.body[SV_BODY_TEXT]);
	sv_values_release(&ev.body[SV_BODY_RAW]);
	buf_release(&ev.need);
	buf_release(&ev.dups);
	values_clear(&ev);
	strv_free(ev.values, ev.s->nvars);
	free(ev.ran);
	free(ev.returned);
	sv_captures_release(&ev.match);
	free(ev.error);
	free(ev.last);
	sv_flags_release(&ev.flags);
	buf_release(&ev.trace);
	message_release(&ev.m);
	return ret;
}

/* A request to the script's evaluator helper: everything a run may look
 * at, in this process's own representation (the helper is a fork of it).
 * The strings and the message end in a NUL. */
static void
put_bytes(struct buf *b, const void *data, size_t len)
{
	buf_append(b, &len, sizeof(len));
	buf_append(b, data, len);
}

static char *
request_encode(const struct eval_arg *ea, size_t *len_r)
{
	struct buf b = { 0 };
	size_t nboxes = ea->env->mailboxes == NULL ? (size_t)-1 :
	    ea->env->nmailboxes;

	buf_append(&b, &ea->now, sizeof(ea->now));
	buf_append(&b, &ea->env->score, sizeof(ea->env->score));
	buf_append(&b, &nboxes, sizeof(nboxes));
	for (size_t i = 0; ea->env->mailboxes != NULL && i < nboxes; i++)
		put_bytes(&b, ea->env->mailboxes[i],
		    strlen(ea->env->mailboxes[i]) + 1);
	put_bytes(&b, ea->known, ea->nknown * sizeof(*ea->known));
	put_bytes(&b, ea->msg, ea->len);
	buf_append(&b, "", 1);
	*len_r = b.len;
	return buf_steal(&b);
}

struct reader {
	const char *p;
	size_t left;
};

static int
get(struct reader *r, void *dst, size_t len)
{
	if (len > r->left)
		return -1;
	memcpy(dst, r->p, len);
	r->p += len;
	r->left -= len;
	return 0;
}

/* The next put_bytes item, in place. */
static const char *
get_bytes(struct reader *r, size_t *len_r)
{
	const char *at;

	if (get(r, len_r, sizeof(*len_r)) < 0 || *len_r > r->left)
		return NULL;
	at = r->p;
	r->p += *len_r;
	r->left -= *len_r;
	return at;
}

/* Runs in the evaluator's grandchild: decodes a request_encode. */
static int
serve_eval(void *ctx, const char *req, size_t len, struct buf *out)
{
	struct reader r = { req, len };
	struct sieve_env env = { 0 };
	struct eval_arg ea = { 0 };
	struct known_id *known = NULL;
	const char **boxes = NULL;
	const char *known_at;
	size_t nboxes, nknown_bytes, n;
	int ret = -1;

	ea.s = ctx;
	ea.env = &env;
	if (get(&r, &ea.now, sizeof(ea.now)) < 0 ||
	    get(&r, &env.score, sizeof(env.score)) < 0 ||
	    get(&r, &nboxes, sizeof(nboxes)) < 0)
		goto garbled;
	if (nboxes != (size_t)-1) {
		if (nboxes > r.left)
			goto garbled;
		boxes = xcalloc(nboxes + 1, sizeof(*boxes));
		for (size_t i = 0; i < nboxes; i++)
			if ((boxes[i] = get_bytes(&r, &n)) == NULL || n == 0 ||
			    boxes[i][n - 1] != '\0')
				goto garbled;
		env.mailboxes = (char *const *)boxes;
		env.nmailboxes = nboxes;
	}
	if ((known_at = get_bytes(&r, &nknown_bytes)) == NULL ||
	    nknown_bytes % sizeof(*known) != 0 ||
	    (ea.msg = get_bytes(&r, &ea.len)) == NULL)
		goto garbled;
	ea.nknown = nknown_bytes / sizeof(*known);
	known = xmalloc(nknown_bytes + 1);
	memcpy(known, known_at, nknown_bytes);
	ea.known = known;
	ret = child_eval(&ea, out);
	goto out;
garbled:
	buf_appends(out, "the sieve evaluator got a garbled request");
out:
	free(boxes);
	free(known);
	return ret;
}

/* IMAP system flags are case-insensitive: the action list writes them
 * the usual way.  The script's flag variable keeps them as written,
 * which hasflag with i;octet can tell apart (as in Pigeonhole).  Other
 * "\\" names (\\Recent, typos) cannot be set: NULL, dropped, as
 * Pigeonhole does (`check` warns). */
static char *
canonical_flag(const char *flag)
{
	static const char *const sys[] = { "\\Seen", "\\Answered",
	    "\\Flagged", "\\Deleted", "\\Draft" };

	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (strcasecmp(flag, sys[i]) == 0)
			return xstrdup(sys[i]);
	return flag[0] == '\\' ? NULL : xstrdup(flag);
}

static void
action_set_flags(struct sieve_action *a, const struct sv_flags *f)
{
	for (size_t i = 0; i < a->nflags; i++)
		free(a->flags[i]);
	free(a->flags);
	a->flags = xcalloc(f->n + 1, sizeof(char *));
	a->nflags = 0;
	for (size_t i = 0; i < f->n; i++) {
		char *c = canonical_flag(f->v[i]);
		size_t j;

		if (c == NULL)
			continue;
		for (j = 0; j < a->nflags; j++)
			if (strcmp(a->flags[j], c) == 0)
				break;
		if (j < a->nflags)
			free(c);
		else
			a->flags[a->nflags++] = c;
	}
}

static struct sieve_action *
action_add(struct sieve_result *r, enum sieve_action_type type)
{
	struct sieve_action *a;

	r->actions = xreallocarray(r->actions, r->n + 1, sizeof(*a));
	a = &r->actions[r->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->flags = xcalloc(1, sizeof(char *));
	return a;
}

static void
describe(struct buf *rule, const struct sv_op *op)
{
	if (rule->len)
		buf_appends(rule, "; ");
	if (op->file != NULL)
		buf_printf(rule, "%s ", op->file);
	buf_printf(rule, "line %d: ", op->line);
	switch (op->type) {
	case SV_OP_KEEP: buf_appends(rule, "keep"); break;
	case SV_OP_DISCARD: buf_appends(rule, "discard"); break;
	default: buf_printf(rule, "fileinto \"%s\"", op->mailbox); break;
	}
}

/* The rest of a trace line at *p for op: its expanded folder and flags
 * when it has variables (each checked again: the child is not trusted),
 * nothing otherwise.  Moves *p past the line. */
static int
read_fields(const struct sv_op *op, char **p, struct sv_flags *f)
{
	char *q = *p;

	while (*q == '\x1f') {
		size_t len = strcspn(q + 1, "\x1f\n");

		f->v = xreallocarray(f->v, f->n + 1, sizeof(char *));
		f->v[f->n++] = xstrndup(q + 1, len);
		q += 1 + len;
	}
	if (*q != '\n')
		return -1;
	*p = q + 1;
	if (!op->expand)
		return f->n == 0 ? 0 : -1;
	if (f->n == 0)
		return -1;
	if (op->type == SV_OP_FILEINTO && sv_folder_unsafe(f->v[0]) != NULL)
		return -1;
	for (size_t i = 1; i < f->n; i++)
		if (!flag_ok(f->v[i]))
			return -1;
	return 0;
}

static char *
mark_late(char *late, size_t n, ptrdiff_t i, int on)
{
	late = xreallocarray(late, n, 1);
	late[i] = (char)on;
	return late;
}

/* Replays the statements that ran (trace: a line each) into actions. */
static int
resolve(const struct sieve_script *s, const char *trace,
    struct sieve_result *r, char **err_r)
{
	struct sv_flags cur = { 0 };
	struct buf rule = { 0 };
	const struct sv_op *discard = NULL;
	const char *p = trace;
	int cancelled = 0;	/* the implicit keep */
	char *late = NULL;	/* by action: takes the final flags */

	memset(r, 0, sizeof(*r));
	while (*p) {
		char *end;
		unsigned long idx = strtoul(p, &end, 10);
		const struct sv_op *op;
		struct sv_op live;
		struct sv_flags fields = { 0 };
		struct sieve_action *a = NULL;
		struct sv_flags given = { 0 };

		if (end == p || idx >= s->nops ||
		    read_fields(&s->ops[idx], &end, &fields) < 0) {
			*err_r = xstrdup("the sieve evaluator returned "
			    "garbage");
			sv_flags_release(&fields);
			free(late);
			sieve_result_release(r);
			sv_flags_release(&cur);
			buf_release(&rule);
			return -1;
		}
		p = end;
		op = &s->ops[idx];
		if (op->expand) {
			/* what the statement was when it ran */
			live = *op;
			live.mailbox = fields.v[0];
			live.flags = fields.v + 1;
			live.nflags = fields.n - 1;
			op = &live;
		}
		r->lines = xreallocarray(r->lines, r->nlines + 1,
		    sizeof(int));
		r->lines[r->nlines++] = op->line;
		switch (op->type) {
		case SV_OP_SETFLAG:
		case SV_OP_ADDFLAG:
		case SV_OP_REMOVEFLAG:
			apply_flag_op(&cur, op);
			break;
		case SV_OP_ERROR:
		case SV_OP_SET:
		case SV_OP_RETURN:
			break;
		case SV_OP_DISCARD:
			cancelled = 1;
			if (discard == NULL)
				discard = op;
			break;
		case SV_OP_KEEP:
		case SV_OP_FILEINTO:
			for (size_t i = 0; i < r->n && a == NULL; i++) {
				struct sieve_action *b = &r->actions[i];

				if (op->type == SV_OP_KEEP ?
				    b->type == SIEVE_ACTION_KEEP :
				    b->type == SIEVE_ACTION_FILEINTO &&
				    strcmp(b->mailbox, op->mailbox) == 0)
					a = b;
			}
			/* only a new store cancels the implicit keep: a
			 * repeat of a :copy store is that store (as in
			 * Pigeonhole) */
			if (a == NULL && !op->copy)
				cancelled = 1;
			if (a == NULL) {
				a = action_add(r, op->type == SV_OP_KEEP ?
				    SIEVE_ACTION_KEEP : SIEVE_ACTION_FILEINTO);
				if (op->mailbox)
					a->mailbox = xstrdup(op->mailbox);
				describe(&rule, op);
			}
			/* a repeated store keeps its place and takes the
			 * latest flags, as Pigeonhole does */
			if (op->has_flags) {
				/* :flags is taken as written (Pigeonhole
				 * keeps "b" and "B"); only exact repeats
				 * go */
				for (size_t i = 0; i < op->nflags; i++) {
					size_t j;

					for (j = 0; j < given.n; j++)
						if (strcmp(given.v[j],
						    op->flags[i]) == 0)
							break;
					if (j < given.n)
						continue;
					given.v = xreallocarray(given.v,
					    given.n + 1, sizeof(char *));
					given.v[given.n++] =
					    xstrdup(op->flags[i]);
				}
				action_set_flags(a, &given);
				sv_flags_release(&given);
				late = mark_late(late, r->n, a - r->actions,
				    0);
			} else {
				action_set_flags(a, &cur);
				late = mark_late(late, r->n, a - r->actions,
				    op->late_flags);
			}
			break;
		}
		sv_flags_release(&fields);
	}
	/* a store in a script without imap4flags takes the flags the run
	 * ends with (Pigeonhole, measured with include) */
	for (size_t i = 0; late != NULL && i < r->n; i++)
		if (late[i])
			action_set_flags(&r->actions[i], &cur);
	free(late);
	if (r->n == 0 && discard != NULL) {
		action_add(r, SIEVE_ACTION_DISCARD);
		describe(&rule, discard);
	} else if (!cancelled) {
		/* nothing ran, or only fileinto :copy */
		struct sieve_action *a = action_add(r, SIEVE_ACTION_KEEP);

		a->implicit = 1;
		action_set_flags(a, &cur);
		buf_appends(&rule, r->n > 1 ? "; implicit keep: only copies "
		    "were filed" : "implicit keep: no rule filed or "
		    "discarded the message");
	}
	r->rule = buf_steal(&rule);
	sv_flags_release(&cur);
	return 0;
}

int
sieve_script_needs_mailboxes(const struct sieve_script *script)
{
	return script->needs_mailboxes;
}

void
sieve_script_start_evaluator(const struct sieve_script *script)
{
	char *err = NULL;

	if (child_server_start(script->server, &err) < 0)
		free(err);
}

int
sieve_eval(const struct sieve_script *script, const char *msg, size_t len,
    double score, struct sieve_result *result_r, char **err_r)
{
	struct sieve_env env = { 0 };

	env.score = score;
	return sieve_eval_env(script, msg, len, &env, result_r, err_r);
}

int
sieve_eval_env(const struct sieve_script *script, const char *msg,
    size_t len, const struct sieve_env *env, struct sieve_result *result_r,
    char **err_r)
{
	struct eval_arg ea = { script, msg, len, env, 0, NULL, 0 };
	struct known_id *known = NULL;
	char *trace = NULL, *ops, *req;
	size_t reqlen;
	int ret = -1, rc;

	memset(result_r, 0, sizeof(*result_r));
	ea.now = env->now ? (long long)env->now : (long long)time(NULL);
	/* a run that meets a duplicate ID the parent has not looked up
	 * ends asking for it; each round answers at least one more */
	for (int round = 0;; round++) {
		req = request_encode(&ea, &reqlen);
		rc = child_server_run(script->server, req, reqlen,
		    SV_TIMEOUT_MS + (int)(strlen(script->rewritten) / 100),
		    &trace, err_r);
		free(req);
		if (rc < 0)
			goto out;
		if (trace[0] != '?')
			break;
		if (round == SV_DUP_ROUNDS) {
			*err_r = xstrdup("the script tracks more than 16 "
			    "different duplicate IDs");
			goto out;
		}
		for (char *p = trace; *p == '?'; p = strchr(p, '\n') + 1) {
			struct known_id *k;

			if (strlen(p) < 66 || p[65] != '\n') {
				*err_r = xstrdup("the sieve evaluator returned "
				    "garbage");
				goto out;
			}
			if (known_find(known, ea.nknown, p + 1) != NULL)
				continue;
			known = xreallocarray(known, ea.nknown + 1,
			    sizeof(*known));
			k = &known[ea.nknown++];
			/* the entries travel to the evaluator as bytes */
			memset(k, 0, sizeof(*k));
			memcpy(k->id, p + 1, 64);
			k->id[64] = '\0';
			k->seen_at = 0;
			k->found = env->dup_lookup == NULL ? 0 :
			    env->dup_lookup(env->dup_ctx, k->id, &k->seen_at);
			if (k->found < 0) {
				*err_r = xstrdup("cannot read the duplicate "
				    "IDs seen before");
				goto out;
			}
		}
		ea.known = known;
		free(trace);
		trace = NULL;
	}
	ops = trace;
	while (*ops == '!') {
		struct sieve_dup *d;
		char *nl = strchr(ops, '\n');

		if (nl == NULL || nl - ops != 69) {
			*err_r = xstrdup("the sieve evaluator returned garbage");
			goto out;
		}
		result_r->dups = xreallocarray(result_r->dups,
		    result_r->ndups + 1, sizeof(*d));
		d = &result_r->dups[result_r->ndups++];
		memcpy(d->id, ops + 1, 64);
		d->id[64] = '\0';
		d->seen = ops[66] == '1';
		d->last = ops[68] == '1';
		ops = nl + 1;
	}
	{
		struct sieve_dup *dups = result_r->dups;
		size_t ndups = result_r->ndups;

		ret = resolve(script, ops, result_r, err_r);
		result_r->dups = dups;
		result_r->ndups = ndups;
	}
out:
	if (ret < 0)
		sieve_result_release(result_r);
	free(known);
	free(trace);
	return ret;
}

int
sieve_dup_record(const struct sieve_dup *d)
{
	return !d->seen || d->last;
}

int
sieve_script_needs_duplicates(const struct sieve_script *script)
{
	return script->needs_duplicates;
}

void
sieve_result_release(struct sieve_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->actions[i].mailbox);
		for (size_t j = 0; j < r->actions[i].nflags; j++)
			free(r->actions[i].flags[j]);
		free(r->actions[i].flags);
	}
	free(r->actions);
	free(r->rule);
	free(r->lines);
	free(r->dups);
	memset(r, 0, sizeof(*r));
}
