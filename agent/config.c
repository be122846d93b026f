/*
 * config.c - reads the JSON configuration file into a validated struct
 * config, and reads the IMAP password it points to.
 *
 * This file owns the schema: one table lists every key by its dotted name
 * with its kind, its place in struct config and its range.  The JSON tree is
 * walked against the table, so an unknown key at any depth, a value of the
 * wrong type or out of range is reported by name; then the cross-key rules
 * (required keys, one password source, TLS only off on loopback, threshold
 * order) run.  Every problem is collected and reported together, so a user
 * fixes the file in one pass.  No json-c object leaves this file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json.h>

#include "agent/classify.h"
#include "agent/command.h"
#include "agent/config.h"
#include "agent/log.h"
#include "agent/xmem.h"

/* A configuration file is a few hundred bytes; refuse anything that could
 * only be a mistake (a mailbox passed as -c) before reading it whole. */
#define CONFIG_MAX_BYTES	(1024 * 1024)
/* A password longer than this is certainly a wrong file. */
#define PASSWORD_MAX_BYTES	4096
#define DEFAULT_PORT_IMPLICIT	993
#define DEFAULT_PORT_PLAIN	143

enum key_kind {
	KEY_OBJECT,		/* a section: its keys are in the table */
	KEY_STRING,		/* non-empty string */
	KEY_PATH,		/* non-empty string, resolved to a full path */
	KEY_INT,		/* integer in [min, max] */
	KEY_BOOL,		/* true or false, stored as int */
	KEY_NUMBER,		/* number in [min, max] */
	KEY_SIZE,		/* integer in [min, max], stored as size_t */
	KEY_TLS,		/* "implicit", "starttls" or "none" */
	KEY_AUTH,		/* "password", "xoauth2" or "oauthbearer" */
	KEY_LOG_LEVEL,		/* a level log_level_parse() accepts */
	KEY_FOLDERS,		/* non-empty list of distinct mailboxes */
	KEY_STRINGS		/* non-empty list of non-empty strings, stored
				 * NULL-terminated */
};

struct key {
	const char *name;	/* dotted path from the top */
	enum key_kind kind;
	size_t offset;		/* of the field in struct config */
	double min, max;
};

#define OFF(field) offsetof(struct config, field)

static const struct key keys[] = {
	{ "imap", KEY_OBJECT, 0, 0, 0 },
	{ "imap.host", KEY_STRING, OFF(imap.host), 0, 0 },
	{ "imap.port", KEY_INT, OFF(imap.port), 1, 65535 },
	{ "imap.tls", KEY_TLS, OFF(imap.tls), 0, 0 },
	{ "imap.ca_file", KEY_PATH, OFF(imap.ca_file), 0, 0 },
	{ "imap.username", KEY_STRING, OFF(imap.username), 0, 0 },
	{ "imap.auth", KEY_AUTH, OFF(imap.auth), 0, 0 },
	{ "imap.password_file", KEY_PATH, OFF(imap.password_file), 0, 0 },
	{ "imap.password_command", KEY_STRING, OFF(imap.password_command),
	    0, 0 },
	{ "imap.timeout", KEY_INT, OFF(imap.timeout), 1, 3600 },
	{ "imap.poll_interval", KEY_INT, OFF(imap.poll_interval), 1, 86400 },
	/* Servers may drop an IDLE after 29 minutes (RFC 2177), some
	 * silently after 5; a few seconds is for tests. */
	{ "imap.idle_restart", KEY_INT, OFF(imap.idle_restart), 5, 1740 },
	{ "imap.junk_idle", KEY_BOOL, OFF(imap.junk_idle), 0, 0 },
	{ "folders", KEY_OBJECT, 0, 0, 0 },
	{ "folders.watch", KEY_FOLDERS, OFF(folders.watch), 0, 0 },
	{ "folders.junk", KEY_STRING, OFF(folders.junk), 0, 0 },
	{ "folders.trash", KEY_STRING, OFF(folders.trash), 0, 0 },
	{ "sieve", KEY_PATH, OFF(sieve), 0, 0 },
	{ "state_dir", KEY_PATH, OFF(state_dir), 0, 0 },
	{ "spam_threshold", KEY_NUMBER, OFF(spam_threshold), 0, 1 },
	{ "ham_threshold", KEY_NUMBER, OFF(ham_threshold), 0, 1 },
	/* Each message is held in memory while it is scored: cap at 1 GiB. */
	{ "max_message_bytes", KEY_SIZE, OFF(max_message_bytes), 1024,
	    1024.0 * 1024 * 1024 },
	{ "log_level", KEY_LOG_LEVEL, OFF(log_level), 0, 0 },
	/* Up to ten years back; 0: only mail that arrives from now on. */
	{ "first_run_days", KEY_INT, OFF(first_run_days), 0, 3650 },
	{ "sieve_dir", KEY_PATH, OFF(sieve_dir), 0, 0 },
};

#define NKEYS (sizeof(keys) / sizeof(*keys))

#define MS_OFF(field) offsetof(struct managesieve_config, field)

/* The ManageSieve service's own file (`mailsift managesieve -c`). */
static const struct key managesieve_keys[] = {
	{ "listen", KEY_STRINGS, MS_OFF(listen), 0, 0 },
	{ "port", KEY_INT, MS_OFF(port), 1, 65535 },
	{ "tls_cert", KEY_PATH, MS_OFF(tls_cert), 0, 0 },
	{ "tls_key", KEY_PATH, MS_OFF(tls_key), 0, 0 },
	{ "config_dir", KEY_PATH, MS_OFF(config_dir), 0, 0 },
	{ "max_connections", KEY_INT, MS_OFF(max_connections), 1, 100000 },
	{ "max_connections_per_address", KEY_INT,
	    MS_OFF(max_connections_per_address), 1, 100000 },
	{ "idle_timeout", KEY_INT, MS_OFF(idle_timeout), 10, 86400 },
	{ "max_script_bytes", KEY_SIZE, MS_OFF(max_script_bytes), 1024,
	    64.0 * 1024 * 1024 },
	{ "quota_scripts", KEY_INT, MS_OFF(quota_scripts), 1, 100000 },
	{ "quota_bytes", KEY_SIZE, MS_OFF(quota_bytes), 1024,
	    1024.0 * 1024 * 1024 },
	{ "auth_failure_delay", KEY_INT, MS_OFF(auth_failure_delay), 0, 60 },
	{ "log_level", KEY_LOG_LEVEL, MS_OFF(log_level), 0, 0 },
};

#define MAX_KEYS	64
_Static_assert(NKEYS <= MAX_KEYS, "raise MAX_KEYS");
_Static_assert(sizeof(managesieve_keys) / sizeof(*managesieve_keys) <=
    MAX_KEYS, "raise MAX_KEYS");

struct parse {
	const char *path;	/* as given, for messages */
	char *base;		/* absolute directory of the file */
	const struct key *keys;	/* the table of this kind of file */
	size_t nkeys;
	char *target;		/* the struct the offsets point into */
	struct config *config;	/* target, for a mailbox configuration */
	int seen[MAX_KEYS];	/* key present (valid or not) */
	int hidden[MAX_KEYS];	/* inside a section given as a non-object */
	struct buf errors;
	int nerrors;
};

static void
problem(struct parse *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
problem(struct parse *p, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (p->errors.len > 0)
		buf_appends(&p->errors, "\n");
	if (key != NULL)
		buf_printf(&p->errors, "%s: %s: %s", p->path, key, msg);
	else
		buf_printf(&p->errors, "%s: %s", p->path, msg);
	free(msg);
	p->nerrors++;
}

/* s for a message: control characters, quotes and backslashes escaped so
 * one problem stays one line, cut after 40 characters. */
static char *
escaped(const char *s, int quote)
{
	struct buf b = { 0 };
	size_t i;

	buf_appends(&b, quote ? "\"" : "");
	for (i = 0; s[i] != '\0' && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			buf_printf(&b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			buf_printf(&b, "\\u%04x", c);
		else
			buf_append(&b, &s[i], 1);
	}
	buf_appends(&b, s[i] != '\0' ? "..." : "");
	buf_appends(&b, quote ? "\"" : "");
	return buf_steal(&b);
}

static char *
quoted(const char *s)
{
	return escaped(s, 1);
}

/* A short rendering of a JSON value for "got ..." in messages. */
static char *
describe(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return xstrdup("null");
	case json_type_object:
		return xstrdup("an object");
	case json_type_array:
		return xstrdup("a list");
	case json_type_string:
		return quoted(json_object_get_string(v));
	default:
		return xstrdup(json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
	}
}

static void
wrong(struct parse *p, const char *key, const char *expected,
    struct json_object *v)
{
	char *got = describe(v);

	problem(p, key, "expected %s, got %s", expected, got);
	free(got);
}

static const struct key *
find_key(const struct parse *p, const char *name)
{
	for (size_t i = 0; i < p->nkeys; i++)
		if (strcmp(p->keys[i].name, name) == 0)
			return &p->keys[i];
	return NULL;
}

/* The keys directly inside section prefix ("" for the top), comma-separated,
 * so an unknown-key message can list the right ones. */
static char *
section_keys(const struct parse *p, const char *prefix)
{
	struct buf b = { 0 };
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < p->nkeys; i++) {
		const char *rest = p->keys[i].name;

		if (plen > 0) {
			if (strncmp(rest, prefix, plen) != 0 ||
			    rest[plen] != '.')
				continue;
			rest += plen + 1;
		}
		if (strchr(rest, '.') != NULL)
			continue;
		if (b.len > 0)
			buf_appends(&b, ", ");
		buf_appends(&b, rest);
	}
	return buf_steal(&b);
}

static int
is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return 0;
}

/* Resolves a path from the file: "~/x" under $HOME, relative paths against
 * the directory of the configuration file.  NULL after a problem. */
static char *
resolve_path(struct parse *p, const char *key, const char *value)
{
	const char *home;
	char *q;

	if (value[0] == '/')
		return xstrdup(value);
	if (value[0] == '~') {
		if (value[1] != '\0' && value[1] != '/') {
			q = quoted(value);
			problem(p, key, "%s: \"~user\" is not supported; "
			    "write the full path", q);
			free(q);
			return NULL;
		}
		home = getenv("HOME");
		if (home == NULL || home[0] == '\0') {
			q = quoted(value);
			problem(p, key, "cannot expand \"~\" in %s: HOME is "
			    "not set; write the full path", q);
			free(q);
			return NULL;
		}
		return xasprintf("%s%s", home, value + 1);
	}
	return xasprintf("%s/%s", p->base, value);
}

static int
folder_same(const char *a, const char *b)
{
	/* INBOX is case-insensitive in IMAP (RFC 3501 5.1); other names are
	 * not. */
	if (strcasecmp(a, "INBOX") == 0)
		return strcasecmp(b, "INBOX") == 0;
	return strcmp(a, b) == 0;
}

static void
set_folders(struct parse *p, const struct key *k, struct json_object *v)
{
	struct config *c = p->config;
	size_t n, i, j;
	int bad = 0;

	if (!json_object_is_type(v, json_type_array)) {
		wrong(p, k->name, "a list of folder names", v);
		return;
	}
	n = json_object_array_length(v);
	if (n == 0) {
		problem(p, k->name, "the list is empty; name at least one "
		    "folder to sort, e.g. [\"INBOX\"]");
		return;
	}
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		char *name = xasprintf("%s[%zu]", k->name, i);

		if (!json_object_is_type(e, json_type_string)) {
			wrong(p, name, "a folder name", e);
			bad = 1;
		} else if (json_object_get_string_len(e) == 0) {
			problem(p, name, "the folder name is empty");
			bad = 1;
		} else {
			for (j = 0; j < i; j++) {
				struct json_object *o =
				    json_object_array_get_idx(v, j);

				if (json_object_is_type(o, json_type_string) &&
				    folder_same(json_object_get_string(o),
				    json_object_get_string(e))) {
					char *q = quoted(
					    json_object_get_string(e));

					problem(p, name, "%s is listed twice; "
					    "remove one", q);
					free(q);
					bad = 1;
					break;
				}
			}
		}
		free(name);
	}
	if (bad)
		return;
	for (i = 0; i < c->folders.nwatch; i++)
		free(c->folders.watch[i]);
	free(c->folders.watch);
	c->folders.watch = xcalloc(n, sizeof(*c->folders.watch));
	for (i = 0; i < n; i++)
		c->folders.watch[i] = xstrdup(json_object_get_string(
		    json_object_array_get_idx(v, i)));
	c->folders.nwatch = n;
}

static void
strings_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void
set_strings(struct parse *p, const struct key *k, struct json_object *v,
    char ***field)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) == 0) {
		wrong(p, k->name, "a non-empty list of strings", v);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string) ||
		    json_object_get_string_len(e) == 0 ||
		    strlen(json_object_get_string(e)) !=
		    (size_t)json_object_get_string_len(e)) {
			char *name = xasprintf("%s[%zu]", k->name, i);

			wrong(p, name, "a non-empty string", e);
			free(name);
			return;
		}
	}
	strings_free(*field);
	*field = xcalloc(n + 1, sizeof(**field));
	for (size_t i = 0; i < n; i++)
		(*field)[i] = xstrdup(json_object_get_string(
		    json_object_array_get_idx(v, i)));
}

static void walk(struct parse *p, struct json_object *obj, const char *prefix);

/* Checks one value against its key and stores it in the config. */
static void
set_value(struct parse *p, const struct key *k, struct json_object *v)
{
	char *field = p->target + k->offset;
	size_t klen = strlen(k->name);
	char *expected;
	const char *s;
	int64_t n;
	double d;
	enum log_level level;

	switch (k->kind) {
	case KEY_OBJECT:
		if (!json_object_is_type(v, json_type_object)) {
			wrong(p, k->name, "an object", v);
			/* Its keys were given, wrongly: do not also call
			 * them missing. */
			for (size_t i = 0; i < p->nkeys; i++)
				if (strncmp(p->keys[i].name, k->name, klen) ==
				    0 && p->keys[i].name[klen] == '.')
					p->hidden[i] = 1;
			return;
		}
		walk(p, v, k->name);
		return;
	case KEY_STRING:
	case KEY_PATH:
		if (!json_object_is_type(v, json_type_string)) {
			wrong(p, k->name, "a string", v);
			return;
		}
		s = json_object_get_string(v);
		if (s[0] == '\0') {
			problem(p, k->name, "the value is empty; give a value "
			    "or leave the key out");
			return;
		}
		if (strlen(s) != (size_t)json_object_get_string_len(v)) {
			problem(p, k->name, "the value contains a NUL "
			    "character");
			return;
		}
		free(*(char **)field);
		*(char **)field = k->kind == KEY_PATH ?
		    resolve_path(p, k->name, s) : xstrdup(s);
		return;
	case KEY_INT:
	case KEY_SIZE:
		expected = xasprintf("an integer from %.0f to %.0f", k->min,
		    k->max);
		if (!json_object_is_type(v, json_type_int)) {
			wrong(p, k->name, expected, v);
			free(expected);
			return;
		}
		n = json_object_get_int64(v);
		if (n < (int64_t)k->min || n > (int64_t)k->max) {
			wrong(p, k->name, expected, v);
			free(expected);
			return;
		}
		free(expected);
		if (k->kind == KEY_INT)
			*(int *)field = (int)n;
		else
			*(size_t *)field = (size_t)n;
		return;
	case KEY_BOOL:
		if (!json_object_is_type(v, json_type_boolean)) {
			wrong(p, k->name, "true or false", v);
			return;
		}
		*(int *)field = json_object_get_boolean(v);
		return;
	case KEY_NUMBER:
		if (!json_object_is_type(v, json_type_double) &&
		    !json_object_is_type(v, json_type_int)) {
			wrong(p, k->name, "a number from 0 to 1", v);
			return;
		}
		d = json_object_get_double(v);
		/* Written so that NaN (json-c accepts it) fails too. */
		if (!(d >= k->min && d <= k->max)) {
			wrong(p, k->name, "a number from 0 to 1", v);
			return;
		}
		*(double *)field = d;
		return;
	case KEY_TLS:
		s = json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : NULL;
		if (s != NULL && strcmp(s, "implicit") == 0)
			*(enum tls_mode *)field = TLS_IMPLICIT;
		else if (s != NULL && strcmp(s, "starttls") == 0)
			*(enum tls_mode *)field = TLS_STARTTLS;
		else if (s != NULL && strcmp(s, "none") == 0)
			*(enum tls_mode *)field = TLS_NONE;
		else
			wrong(p, k->name, "\"implicit\", \"starttls\" or "
			    "\"none\"", v);
		return;
	case KEY_AUTH:
		s = json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : NULL;
		if (s != NULL && strcmp(s, "password") == 0)
			p->config->imap.auth = AUTH_PASSWORD;
		else if (s != NULL && strcmp(s, "xoauth2") == 0)
			p->config->imap.auth = AUTH_XOAUTH2;
		else if (s != NULL && strcmp(s, "oauthbearer") == 0)
			p->config->imap.auth = AUTH_OAUTHBEARER;
		else
			wrong(p, k->name, "\"password\", \"xoauth2\" or "
			    "\"oauthbearer\"", v);
		return;
	case KEY_LOG_LEVEL:
		s = json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : NULL;
		if (s == NULL || log_level_parse(s, &level) < 0) {
			wrong(p, k->name, "one of \"error\", \"warn\", "
			    "\"notice\", \"info\", \"debug\"", v);
			return;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(s);
		return;
	case KEY_FOLDERS:
		set_folders(p, k, v);
		return;
	case KEY_STRINGS:
		set_strings(p, k, v, (char ***)field);
		return;
	}
}

/* Matches every member of obj (the section prefix, "" at the top) against
 * the table. */
static void
walk(struct parse *p, struct json_object *obj, const char *prefix)
{
	json_object_object_foreach(obj, name, v) {
		char *dotted = prefix[0] != '\0' ?
		    xasprintf("%s.%s", prefix, name) : xstrdup(name);
		const struct key *k = strchr(name, '.') == NULL ?
		    find_key(p, dotted) : NULL;

		if (k == NULL) {
			char *known = section_keys(p, prefix);
			char *shown = escaped(dotted, 0);

			problem(p, shown, "unknown key; the keys allowed "
			    "%s%s are: %s", prefix[0] != '\0' ? "in " :
			    "at the top", prefix, known);
			free(shown);
			free(known);
		} else {
			p->seen[k - p->keys] = 1;
			set_value(p, k, v);
		}
		free(dotted);
	}
}

static int
seen(const struct parse *p, const char *name)
{
	return p->seen[find_key(p, name) - p->keys];
}

static int
hidden(const struct parse *p, const char *name)
{
	return p->hidden[find_key(p, name) - p->keys];
}

/* The rules that involve more than one key, and the defaults that depend on
 * other keys. */
static void
cross_check(struct parse *p)
{
	struct config *c = p->config;
	static const char *const required[] = {
		"imap.host", "imap.username", "state_dir"
	};

	for (size_t i = 0; i < sizeof(required) / sizeof(*required); i++)
		if (!seen(p, required[i]) && !hidden(p, required[i]))
			problem(p, required[i], "missing; this key is "
			    "required");
	/* A broken imap section was reported already, as one problem. */
	if (!hidden(p, "imap.password_file")) {
		if (seen(p, "imap.password_file") &&
		    seen(p, "imap.password_command"))
			problem(p, "imap", "both password_file and "
			    "password_command are set; keep only one");
		else if (!seen(p, "imap.password_file") &&
		    !seen(p, "imap.password_command"))
			problem(p, "imap.password_file", "missing; set either "
			    "imap.password_file (a file holding the password) "
			    "or imap.password_command (a command printing it)");
	}
	if (!seen(p, "imap.port"))
		c->imap.port = c->imap.tls == TLS_IMPLICIT ?
		    DEFAULT_PORT_IMPLICIT : DEFAULT_PORT_PLAIN;
	if (c->imap.tls == TLS_NONE && c->imap.host != NULL &&
	    !is_loopback(c->imap.host)) {
		char *q = quoted(c->imap.host);

		problem(p, "imap.tls", "\"none\" would send the password "
		    "unencrypted, so it is only allowed for a loopback host "
		    "(127.0.0.0/8, ::1, localhost), not %s; use \"implicit\" "
		    "(port 993) or \"starttls\" (port 143)", q);
		free(q);
	}
	if (c->ham_threshold > c->spam_threshold)
		problem(p, "ham_threshold", "%g is above spam_threshold %g; "
		    "it must be lower or equal", c->ham_threshold,
		    c->spam_threshold);
	if (c->sieve_dir != NULL && c->sieve == NULL)
		problem(p, "sieve_dir", "needs \"sieve\" too: the path the "
		    "daemon runs, which ManageSieve points at the active script "
		    "in sieve_dir (e.g. \"sieve\": \"%s/active.sieve\")",
		    c->state_dir ? c->state_dir : "STATE_DIR");
	if (c->folders.watch == NULL) {
		c->folders.watch = xcalloc(1, sizeof(*c->folders.watch));
		c->folders.watch[0] = xstrdup("INBOX");
		c->folders.nwatch = 1;
	}
}

/* The absolute directory holding path, so relative paths in the file do not
 * depend on where mailsift is started. */
static char *
base_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *cwd, *abs;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	if (dir[0] == '/')
		return dir;
	cwd = getcwd(NULL, 0);
	if (cwd == NULL) {
		/* Unreachable cwd: relative paths stay relative. */
		return dir;
	}
	abs = strcmp(dir, ".") == 0 ? xstrdup(cwd) :
	    xasprintf("%s/%s", cwd, dir);
	free(cwd);
	free(dir);
	return abs;
}

/* 1-based line and column of byte offset end in text. */
static void
line_of(const char *text, size_t end, size_t *line_r, size_t *col_r)
{
	*line_r = 1;
	*col_r = 1;
	for (size_t i = 0; i < end; i++) {
		if (text[i] == '\n') {
			(*line_r)++;
			*col_r = 1;
		} else {
			(*col_r)++;
		}
	}
}

static void
json_error(struct parse *p, const char *text, size_t len,
    struct json_tokener *tok, enum json_tokener_error jerr)
{
	size_t end = json_tokener_get_parse_end(tok);
	size_t line, col;

	if (end > len)
		end = len;
	line_of(text, end, &line, &col);
	if (jerr == json_tokener_continue)
		problem(p, NULL, "line %zu: invalid JSON: the file ends in the "
		    "middle of a value (a missing '}' or ']'?)", line);
	else
		problem(p, NULL, "line %zu, column %zu: invalid JSON: %s",
		    line, col, json_tokener_error_desc(jerr));
}

void
config_free(struct config **config)
{
	struct config *c = *config;

	if (c == NULL)
		return;
	free(c->path);
	free(c->imap.host);
	free(c->imap.ca_file);
	free(c->imap.username);
	free(c->imap.password_file);
	free(c->imap.password_command);
	for (size_t i = 0; i < c->folders.nwatch; i++)
		free(c->folders.watch[i]);
	free(c->folders.watch);
	free(c->folders.junk);
	free(c->folders.trash);
	free(c->sieve);
	free(c->state_dir);
	free(c->log_level);
	free(c->sieve_dir);
	free(c);
	*config = NULL;
}

static struct config *
config_defaults(const char *path)
{
	struct config *c = xcalloc(1, sizeof(*c));

	c->path = xstrdup(path);
	c->imap.tls = TLS_IMPLICIT;
	c->imap.timeout = 60;
	c->imap.poll_interval = 60;
	c->imap.idle_restart = 300;
	c->imap.junk_idle = 1;
	/* The classifier's own cut-offs (classify_defaults() in
	 * agent/classify.c), so a file without thresholds scores as
	 * "mailsift score" does. */
	c->spam_threshold = CLASSIFY_SPAM_CUT;
	c->ham_threshold = 0.5;
	c->max_message_bytes = 10 * 1024 * 1024;
	c->first_run_days = 30;
	return c;
}

/* Parses text as a JSON object and walks it against p's table: 0, or
 * -1 if it is not a JSON object.  The problems are in p. */
static int
parse_json(struct parse *p, const char *text, size_t len)
{
	struct json_tokener *tok;
	struct json_object *root = NULL;
	enum json_tokener_error jerr;
	size_t end, line, col;
	int ret = -1;

	tok = json_tokener_new();
	if (tok == NULL) {
		problem(p, NULL, "out of memory parsing the file");
		return -1;
	}
	if (len > INT_MAX) {
		problem(p, NULL, "the file is too large");
		goto out;
	}
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (root == NULL || jerr != json_tokener_success) {
		json_error(p, text, len, tok, jerr);
		goto out;
	}
	end = json_tokener_get_parse_end(tok);
	while (end < len && text[end] != '\0' &&
	    strchr(" \t\r\n", text[end]) != NULL)
		end++;
	if (end < len) {
		line_of(text, end, &line, &col);
		problem(p, NULL, "line %zu, column %zu: invalid JSON: "
		    "unexpected text after the end of the configuration "
		    "object", line, col);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		char *got = describe(root);

		problem(p, NULL, "the configuration must be a JSON object "
		    "({ ... }), got %s", got);
		free(got);
		goto out;
	}
	walk(p, root, "");
	ret = 0;
out:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

int
config_parse_string(const char *text, size_t len, const char *path,
    struct config **config_r, char **errors_r)
{
	struct parse p = { 0 };
	int ret = -1;

	*config_r = NULL;
	*errors_r = NULL;
	p.path = path;
	p.base = base_dir(path);
	p.keys = keys;
	p.nkeys = NKEYS;
	p.config = config_defaults(path);
	p.target = (char *)p.config;
	if (parse_json(&p, text, len) == 0)
		cross_check(&p);
	if (p.nerrors > 0)
		goto out;
	*config_r = p.config;
	p.config = NULL;
	ret = 0;
out:
	if (ret < 0)
		*errors_r = buf_steal(&p.errors);
	buf_release(&p.errors);
	config_free(&p.config);
	free(p.base);
	return ret;
}

/* Reads at most max bytes of the open file fd into a malloc'd,
 * NUL-terminated buffer.  -1 with errno set, or 1 if it is longer. */
static int
read_fd(int fd, size_t max, char **data_r, size_t *len_r)
{
	struct buf b = { 0 };
	char chunk[4096];
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			explicit_bzero(b.data, b.len);
			buf_release(&b);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			explicit_bzero(b.data, b.len);
			buf_release(&b);
			return 1;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	explicit_bzero(chunk, sizeof(chunk));
	*len_r = b.len;
	*data_r = buf_steal(&b);
	return 0;
}

/* Reads a configuration file whole: 0, or -1 with *errors_r set. */
static int
read_config_file(const char *path, char **text_r, size_t *len_r,
    char **errors_r)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*errors_r = xasprintf("%s: cannot open the configuration "
		    "file: %s%s", path, strerror(errno), errno == ENOENT ?
		    "; check the -c path (a sample is "
		    "/etc/mailsift/example.json.sample)" :
		    "");
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*errors_r = xasprintf("%s: not a regular file; give the path "
		    "of the JSON configuration file", path);
		close(fd);
		return -1;
	}
	r = read_fd(fd, CONFIG_MAX_BYTES, text_r, len_r);
	if (r != 0) {
		*errors_r = r < 0 ? xasprintf("%s: cannot read the "
		    "configuration file: %s", path, strerror(errno)) :
		    xasprintf("%s: larger than %d bytes; is this really the "
		    "configuration file?", path, CONFIG_MAX_BYTES);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
config_load(const char *path, struct config **config_r, char **errors_r)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*config_r = NULL;
	*errors_r = NULL;
	if (read_config_file(path, &text, &len, errors_r) < 0)
		return -1;
	r = config_parse_string(text, len, path, config_r, errors_r);
	free(text);
	return r;
}

void
managesieve_config_free(struct managesieve_config **config)
{
	struct managesieve_config *c = *config;

	if (c == NULL)
		return;
	free(c->path);
	strings_free(c->listen);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->config_dir);
	free(c->log_level);
	free(c);
	*config = NULL;
}

int
managesieve_config_parse_string(const char *text, size_t len,
    const char *path, struct managesieve_config **config_r, char **errors_r)
{
	struct managesieve_config *c = xcalloc(1, sizeof(*c));
	struct parse p = { 0 };
	int ret = -1;

	*config_r = NULL;
	*errors_r = NULL;
	c->path = xstrdup(path);
	c->port = 4190;
	c->max_connections = 100;
	c->max_connections_per_address = 10;
	c->idle_timeout = 300;
	c->max_script_bytes = 1024 * 1024;
	c->quota_scripts = 100;
	c->quota_bytes = 10 * 1024 * 1024;
	c->auth_failure_delay = 2;
	p.path = path;
	p.base = base_dir(path);
	p.keys = managesieve_keys;
	p.nkeys = sizeof(managesieve_keys) / sizeof(*managesieve_keys);
	p.target = (char *)c;
	if (parse_json(&p, text, len) == 0) {
		if ((c->tls_cert == NULL) != (c->tls_key == NULL))
			problem(&p, c->tls_cert ? "tls_key" : "tls_cert",
			    "missing; STARTTLS needs both tls_cert and "
			    "tls_key (PEM files)");
		if (c->max_connections_per_address > c->max_connections)
			problem(&p, "max_connections_per_address", "%d is "
			    "above max_connections %d",
			    c->max_connections_per_address,
			    c->max_connections);
	}
	if (p.nerrors > 0)
		goto out;
	if (c->listen == NULL) {
		c->listen = xcalloc(3, sizeof(*c->listen));
		c->listen[0] = xstrdup("127.0.0.1");
		c->listen[1] = xstrdup("::1");
	}
	if (c->config_dir == NULL)
		c->config_dir = xstrdup("/etc/mailsift");
	*config_r = c;
	c = NULL;
	ret = 0;
out:
	if (ret < 0)
		*errors_r = buf_steal(&p.errors);
	buf_release(&p.errors);
	managesieve_config_free(&c);
	free(p.base);
	return ret;
}

int
managesieve_config_load(const char *path,
    struct managesieve_config **config_r, char **errors_r)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*config_r = NULL;
	*errors_r = NULL;
	if (read_config_file(path, &text, &len, errors_r) < 0)
		return -1;
	r = managesieve_config_parse_string(text, len, path, config_r,
	    errors_r);
	free(text);
	return r;
}

static int
password_from_file(const struct config *c, char **password_r, char **err_r)
{
	const char *path = c->imap.password_file;
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int fd, r, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err_r = xasprintf("cannot open password file '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		*err_r = xasprintf("cannot stat password file '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		log_warnx("password file '%s' is readable by others; run "
		    "'chmod 600 %s'", path, path);
	r = read_fd(fd, PASSWORD_MAX_BYTES, &data, &len);
	if (r != 0) {
		*err_r = r < 0 ? xasprintf("cannot read password file '%s': "
		    "%s", path, strerror(errno)) : xasprintf("password file "
		    "'%s' is larger than %d bytes; it should hold only the "
		    "password", path, PASSWORD_MAX_BYTES);
		goto out;
	}
	/* One line end, LF or CRLF, as editors leave it. */
	if (len > 0 && data[len - 1] == '\n') {
		data[--len] = '\0';
		if (len > 0 && data[len - 1] == '\r')
			data[--len] = '\0';
	}
	if (len == 0 || strlen(data) != len) {
		*err_r = xasprintf("password file '%s' is %s; put the password "
		    "on its first line", path, len == 0 ? "empty" :
		    "binary (it contains a NUL byte)");
		goto out;
	}
	*password_r = data;
	data = NULL;
	ret = 0;
out:
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	close(fd);
	return ret;
}

static int
password_from_command(const struct config *c, char **password_r,
    char **err_r)
{
	const char *cmd = c->imap.password_command;
	struct buf out = { 0 };
	char *nl, *why = NULL;
	size_t got = 0;
	int status = 0, ret = -1;

	switch (command_run(cmd, c->imap.timeout, PASSWORD_MAX_BYTES + 1,
	    &out, &status, &why)) {
	case COMMAND_OK:
		break;
	case COMMAND_FAILED:
		*err_r = xasprintf("cannot run password command '%s': %s", cmd,
		    why);
		goto out;
	case COMMAND_TIMED_OUT:
		*err_r = xasprintf("password command '%s' did not finish "
		    "within %d s (imap.timeout); it was stopped.  Run it by "
		    "hand to see why it waits (a passphrase prompt?), or "
		    "raise imap.timeout", cmd, c->imap.timeout);
		goto out;
	case COMMAND_CANCELLED:
		*err_r = xasprintf("password command '%s' stopped: mailsift "
		    "is stopping", cmd);
		goto out;
	}
	if (WIFSIGNALED(status)) {
		*err_r = xasprintf("password command '%s' was killed by signal "
		    "%d", cmd, WTERMSIG(status));
		goto out;
	}
	if (WEXITSTATUS(status) != 0) {
		*err_r = xasprintf("password command '%s' failed with exit "
		    "status %d%s", cmd, WEXITSTATUS(status),
		    WEXITSTATUS(status) == 127 ? " (command not found)" : "");
		goto out;
	}
	got = out.len;
	if (out.len > 0 && (nl = memchr(out.data, '\n', out.len)) != NULL)
		out.len = (size_t)(nl - out.data);
	if (out.len > PASSWORD_MAX_BYTES) {
		*err_r = xasprintf("password command '%s' printed a first line "
		    "longer than %d bytes; it must print only the password",
		    cmd, PASSWORD_MAX_BYTES);
		goto out;
	}
	if (out.len > 0 && out.data[out.len - 1] == '\r')
		out.len--;
	if (out.len == 0 || memchr(out.data, '\0', out.len) != NULL) {
		*err_r = xasprintf("password command '%s' printed %s; it must "
		    "print the password on its first line", cmd,
		    out.len == 0 ? "no password" : "a NUL byte");
		goto out;
	}
	*password_r = xstrndup(out.data, out.len);
	ret = 0;
out:
	if (out.data != NULL)
		explicit_bzero(out.data, got > out.len ? got : out.len);
	buf_release(&out);
	free(why);
	return ret;
}

void
config_password_free(char **password)
{
	if (*password == NULL)
		return;
	explicit_bzero(*password, strlen(*password));
	free(*password);
	*password = NULL;
}

/* The secret goes into an IMAP command: a line break in it would end that
 * command and start another ("pw\r\nA9 DELETE INBOX").  NUL bytes were
 * refused while reading. */
static int
secret_one_line(const struct config *c, const char *secret, char **err_r)
{
	const char *p = strpbrk(secret, "\r\n");
	const char *what;

	if (p == NULL)
		return 0;
	what = *p == '\n' ? "a line break (LF)" : p[1] == '\n' ?
	    "a line break (CR LF)" : "a carriage return (CR)";
	if (c->imap.password_file != NULL)
		*err_r = xasprintf("password file '%s' holds %s inside the "
		    "password; it must hold the password alone on one line "
		    "(one line end at the end of the file, LF or CRLF, is "
		    "ignored)", c->imap.password_file, what);
	else
		*err_r = xasprintf("password command '%s' printed %s inside "
		    "its first line; it must print the password alone on its "
		    "first line", c->imap.password_command, what);
	return -1;
}

int
config_password(const struct config *config, char **password_r,
    char **err_r)
{
	int r;

	*password_r = NULL;
	*err_r = NULL;
	if (config->imap.password_file != NULL)
		r = password_from_file(config, password_r, err_r);
	else
		r = password_from_command(config, password_r, err_r);
	if (r == 0 && secret_one_line(config, *password_r, err_r) < 0) {
		config_password_free(password_r);
		r = -1;
	}
	return r;
}

char *
config_tokens_db(const struct config *config)
{
	return xasprintf("%s/tokens.db", config->state_dir);
}

char *
config_ledger_db(const struct config *config)
{
	return xasprintf("%s/ledger.db", config->state_dir);
}
