/*
 * check_config.c - config.c: good files, each kind of bad one, path
 * resolution and the two password sources.  Every test writes its files
 * into a fresh temporary directory.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/xmem.h"
#include "tests/unit/unit.h"

static char dir[PATH_MAX];
static char cfg_path[PATH_MAX + 32];

/* A complete imap section plus state_dir: the smallest valid file. */
#define IMAP_OK "\"host\": \"mail.example.org\", \"username\": \"ann\", " \
	"\"password_file\": \"pw\""
#define MINIMAL "{ \"imap\": { " IMAP_OK " }, \"state_dir\": \"state\" }"

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_config.XXXXXX");
	ck_assert(mkdtemp(dir) != NULL);
	snprintf(cfg_path, sizeof(cfg_path), "%s/mailsift.json", dir);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_msg(fd >= 0, "cannot create %s", path);
	ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	free(path);
}

static char *
read_whole(const char *path)
{
	FILE *f = fopen(path, "r");
	char *data = xcalloc(1, 65536);

	ck_assert_ptr_nonnull(f);
	ck_assert(fread(data, 1, 65535, f) < 65535);
	fclose(f);
	return data;
}

/* Writes text as the configuration file and loads it. */
static int
load(const char *text, struct config **c, char **errors)
{
	write_file("mailsift.json", text, 0600);
	return config_load(cfg_path, c, errors);
}

/* Loads text, which must be refused; returns the error text (owned). */
static char *
load_bad(const char *text)
{
	struct config *c = NULL;
	char *errors = NULL;

	ck_assert_int_eq(load(text, &c, &errors), -1);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(errors);
	return errors;
}

static struct config *
load_good(const char *text)
{
	struct config *c = NULL;
	char *errors = NULL;
	int r = load(text, &c, &errors);

	ck_assert_msg(r == 0, "refused: %s", errors ? errors : "(null)");
	ck_assert_ptr_null(errors);
	ck_assert_ptr_nonnull(c);
	return c;
}

static int
count_lines(const char *s)
{
	int n = 1;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* errors holds exactly the line "CFG: rest". */
static void
assert_line(const char *errors, const char *rest)
{
	char *want = xasprintf("%s: %s", cfg_path, rest);
	const char *p = errors;
	size_t wlen = strlen(want);
	int found = 0;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (len == wlen && memcmp(p, want, len) == 0)
			found = 1;
		p = nl != NULL ? nl + 1 : NULL;
	}
	ck_assert_msg(found, "no line \"%s\" in:\n%s", want, errors);
	free(want);
}

/* errors has a line starting with "CFG: prefix". */
static void
assert_line_prefix(const char *errors, const char *prefix)
{
	char *want = xasprintf("%s: %s", cfg_path, prefix);
	const char *p = errors;
	int found = 0;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, want, strlen(want)) == 0)
			found = 1;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	ck_assert_msg(found, "no line starting \"%s\" in:\n%s", want, errors);
	free(want);
}

START_TEST(minimal_gets_defaults)
{
	struct config *c = load_good(MINIMAL);
	char *want, *db;

	ck_assert_str_eq(c->path, cfg_path);
	ck_assert_str_eq(c->imap.host, "mail.example.org");
	ck_assert_int_eq(c->imap.port, 993);
	ck_assert_int_eq(c->imap.tls, TLS_IMPLICIT);
	ck_assert_ptr_null(c->imap.ca_file);
	ck_assert_str_eq(c->imap.username, "ann");
	ck_assert_int_eq(c->imap.auth, AUTH_PASSWORD);
	want = xasprintf("%s/pw", dir);
	ck_assert_str_eq(c->imap.password_file, want);
	free(want);
	ck_assert_ptr_null(c->imap.password_command);
	ck_assert_int_eq(c->imap.timeout, 60);
	ck_assert_int_eq(c->imap.poll_interval, 60);
	ck_assert_int_eq(c->imap.idle_restart, 300);
	ck_assert_int_eq(c->imap.junk_idle, 1);
	ck_assert_uint_eq(c->folders.nwatch, 1);
	ck_assert_str_eq(c->folders.watch[0], "INBOX");
	ck_assert_ptr_null(c->folders.junk);
	ck_assert_ptr_null(c->folders.trash);
	ck_assert_ptr_null(c->sieve);
	want = xasprintf("%s/state", dir);
	ck_assert_str_eq(c->state_dir, want);
	free(want);
	ck_assert_double_eq(c->spam_threshold, 0.999);
	ck_assert_double_eq(c->ham_threshold, 0.5);
	ck_assert_uint_eq(c->max_message_bytes, 10 * 1024 * 1024);
	ck_assert_ptr_null(c->log_level);
	ck_assert_int_eq(c->first_run_days, 30);
	db = config_tokens_db(c);
	want = xasprintf("%s/state/tokens.db", dir);
	ck_assert_str_eq(db, want);
	free(want);
	free(db);
	db = config_ledger_db(c);
	want = xasprintf("%s/state/ledger.db", dir);
	ck_assert_str_eq(db, want);
	free(want);
	free(db);
	config_free(&c);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(full_sets_every_key)
{
	struct config *c = load_good("{\n"
	    " \"imap\": { \"host\": \"imap.example.net\", \"port\": 1143,\n"
	    "   \"tls\": \"starttls\", \"ca_file\": \"/etc/ssl/my-ca.pem\",\n"
	    "   \"username\": \"bob@example.net\", \"auth\": \"xoauth2\",\n"
	    "   \"password_command\": \"pass show mail\",\n"
	    "   \"timeout\": 30, \"poll_interval\": 120,\n"
	    "   \"idle_restart\": 600, \"junk_idle\": false },\n"
	    " \"folders\": { \"watch\": [\"INBOX\", \"Lists/dev\"],\n"
	    "   \"junk\": \"Spam\", \"trash\": \"Deleted Items\" },\n"
	    " \"sieve\": \"/home/bob/rules.sieve\",\n"
	    " \"state_dir\": \"/var/lib/mailsift/bob\",\n"
	    " \"spam_threshold\": 0.95, \"ham_threshold\": 0,\n"
	    " \"max_message_bytes\": 2048,\n"
	    " \"log_level\": \"debug\", \"first_run_days\": 0\n}\n");

	ck_assert_str_eq(c->imap.host, "imap.example.net");
	ck_assert_int_eq(c->imap.port, 1143);
	ck_assert_int_eq(c->imap.tls, TLS_STARTTLS);
	ck_assert_str_eq(c->imap.ca_file, "/etc/ssl/my-ca.pem");
	ck_assert_str_eq(c->imap.username, "bob@example.net");
	ck_assert_int_eq(c->imap.auth, AUTH_XOAUTH2);
	ck_assert_ptr_null(c->imap.password_file);
	ck_assert_str_eq(c->imap.password_command, "pass show mail");
	ck_assert_int_eq(c->imap.timeout, 30);
	ck_assert_int_eq(c->imap.poll_interval, 120);
	ck_assert_int_eq(c->imap.idle_restart, 600);
	ck_assert_int_eq(c->imap.junk_idle, 0);
	ck_assert_uint_eq(c->folders.nwatch, 2);
	ck_assert_str_eq(c->folders.watch[0], "INBOX");
	ck_assert_str_eq(c->folders.watch[1], "Lists/dev");
	ck_assert_str_eq(c->folders.junk, "Spam");
	ck_assert_str_eq(c->folders.trash, "Deleted Items");
	ck_assert_str_eq(c->sieve, "/home/bob/rules.sieve");
	ck_assert_str_eq(c->state_dir, "/var/lib/mailsift/bob");
	ck_assert_double_eq(c->spam_threshold, 0.95);
	ck_assert_double_eq(c->ham_threshold, 0.0);
	ck_assert_uint_eq(c->max_message_bytes, 2048);
	ck_assert_str_eq(c->log_level, "debug");
	ck_assert_int_eq(c->first_run_days, 0);
	config_free(&c);
}
END_TEST

START_TEST(default_port_follows_tls)
{
	struct config *c = load_good("{ \"imap\": { " IMAP_OK ", \"tls\": "
	    "\"starttls\" }, \"state_dir\": \"s\" }");

	ck_assert_int_eq(c->imap.port, 143);
	config_free(&c);
	c = load_good("{ \"imap\": { \"host\": \"127.0.0.1\", \"username\": "
	    "\"u\", \"password_file\": \"pw\", \"tls\": \"none\" }, "
	    "\"state_dir\": \"s\" }");
	ck_assert_int_eq(c->imap.tls, TLS_NONE);
	ck_assert_int_eq(c->imap.port, 143);
	config_free(&c);
}
END_TEST

static const char *const loopback_hosts[] = {
	"127.0.0.1", "127.3.2.1", "localhost", "LocalHost", "::1",
	"::ffff:127.0.0.1"
};

START_TEST(tls_none_allowed_on_loopback)
{
	char *text = xasprintf("{ \"imap\": { \"host\": \"%s\", \"username\": "
	    "\"u\", \"password_file\": \"pw\", \"tls\": \"none\", \"port\": "
	    "10143 }, \"state_dir\": \"s\" }", loopback_hosts[_i]);
	struct config *c = load_good(text);

	ck_assert_int_eq(c->imap.tls, TLS_NONE);
	ck_assert_str_eq(c->imap.host, loopback_hosts[_i]);
	config_free(&c);
	free(text);
}
END_TEST

static const char *const remote_hosts[] = {
	"mail.example.org", "10.0.0.1", "128.0.0.1", "::2",
	"127.example.org", "localhost.example.org"
};

START_TEST(tls_none_refused_elsewhere)
{
	char *text = xasprintf("{ \"imap\": { \"host\": \"%s\", \"username\": "
	    "\"u\", \"password_file\": \"pw\", \"tls\": \"none\" }, "
	    "\"state_dir\": \"s\" }", remote_hosts[_i]);
	char *errors = load_bad(text);
	char *why = xasprintf("imap.tls: \"none\" would send the password "
	    "unencrypted, so it is only allowed for a loopback host "
	    "(127.0.0.0/8, ::1, localhost), not \"%s\"; use \"implicit\" "
	    "(port 993) or \"starttls\" (port 143)", remote_hosts[_i]);

	assert_line(errors, why);
	ck_assert_int_eq(count_lines(errors), 1);
	free(why);
	free(errors);
	free(text);
}
END_TEST

START_TEST(unknown_keys_named_at_every_level)
{
	char *errors = load_bad("{ \"imap\": { " IMAP_OK ", \"hots\": \"x\" },"
	    " \"folders\": { \"spam\": \"Junk\" }, \"colour\": \"blue\", "
	    "\"imap.port\": 993, \"state_dir\": \"s\" }");

	assert_line(errors, "imap.hots: unknown key; the keys allowed in imap "
	    "are: host, port, tls, ca_file, username, auth, password_file, "
	    "password_command, timeout, poll_interval, idle_restart, "
	    "junk_idle");
	assert_line(errors, "folders.spam: unknown key; the keys allowed in "
	    "folders are: watch, junk, trash");
	assert_line_prefix(errors, "colour: unknown key; the keys allowed at "
	    "the top are: imap, folders, sieve, state_dir,");
	/* A dotted name at the top is not a way to reach a nested key. */
	assert_line_prefix(errors, "imap.port: unknown key;");
	ck_assert_int_eq(count_lines(errors), 4);
	free(errors);
	/* A key with a line break in it stays on one line. */
	errors = load_bad("{ \"imap\": { " IMAP_OK ", \"a\\nb\": 1 }, "
	    "\"state_dir\": \"s\" }");
	assert_line_prefix(errors, "imap.a\\u000ab: unknown key;");
	ck_assert_int_eq(count_lines(errors), 1);
	free(errors);
}
END_TEST

/* One wrong value per kind of key, and the exact line it must give. */
static const struct {
	const char *json;	/* members added to a valid file */
	const char *line;
} wrong_types[] = {
	{ "\"imap\": { " IMAP_OK ", \"port\": \"abc\" }",
	  "imap.port: expected an integer from 1 to 65535, got \"abc\"" },
	{ "\"imap\": { " IMAP_OK ", \"port\": 993.5 }",
	  "imap.port: expected an integer from 1 to 65535, got 993.5" },
	{ "\"imap\": { " IMAP_OK ", \"timeout\": null }",
	  "imap.timeout: expected an integer from 1 to 3600, got null" },
	{ "\"imap\": { \"host\": 5, \"username\": \"u\", \"password_file\": "
	  "\"p\" }", "imap.host: expected a string, got 5" },
	{ "\"imap\": { " IMAP_OK ", \"ca_file\": [\"a\"] }",
	  "imap.ca_file: expected a string, got a list" },
	{ "\"imap\": { " IMAP_OK ", \"tls\": true }",
	  "imap.tls: expected \"implicit\", \"starttls\" or \"none\", "
	  "got true" },
	{ "\"imap\": { " IMAP_OK ", \"tls\": \"ssl\" }",
	  "imap.tls: expected \"implicit\", \"starttls\" or \"none\", "
	  "got \"ssl\"" },
	{ "\"imap\": { " IMAP_OK ", \"junk_idle\": 1 }",
	  "imap.junk_idle: expected true or false, got 1" },
	{ "\"imap\": { " IMAP_OK ", \"auth\": \"oauth2\" }",
	  "imap.auth: expected \"password\", \"xoauth2\" or \"oauthbearer\", "
	  "got \"oauth2\"" },
	{ "\"imap\": { " IMAP_OK " }, \"spam_threshold\": \"high\"",
	  "spam_threshold: expected a number from 0 to 1, got \"high\"" },
	{ "\"imap\": { " IMAP_OK " }, \"max_message_bytes\": 1.5",
	  "max_message_bytes: expected an integer from 1024 to 1073741824, "
	  "got 1.5" },
	{ "\"imap\": { " IMAP_OK " }, \"log_level\": \"loud\"",
	  "log_level: expected one of \"error\", \"warn\", \"notice\", "
	  "\"info\", \"debug\", got \"loud\"" },
	{ "\"imap\": { " IMAP_OK " }, \"folders\": { \"watch\": \"INBOX\" }",
	  "folders.watch: expected a list of folder names, got \"INBOX\"" },
	{ "\"imap\": { " IMAP_OK " }, \"folders\": { \"watch\": "
	  "[\"INBOX\", 1] }",
	  "folders.watch[1]: expected a folder name, got 1" },
	{ "\"imap\": { " IMAP_OK " }, \"folders\": { \"junk\": {} }",
	  "folders.junk: expected a string, got an object" },
	{ "\"imap\": { " IMAP_OK " }, \"folders\": [\"INBOX\"]",
	  "folders: expected an object, got a list" },
	{ "\"imap\": { " IMAP_OK " }, \"sieve\": false",
	  "sieve: expected a string, got false" },
	/* Control characters and quotes escaped, long values cut: one
	 * problem, one line. */
	{ "\"imap\": { " IMAP_OK ", \"port\": "
	  "\"9\\n\\\"93\\u0001 and a very long tail after it, and more\" }",
	  "imap.port: expected an integer from 1 to 65535, got "
	  "\"9\\u000a\\\"93\\u0001 and a very long tail after it, an...\"" },
	{ "\"imap\": { " IMAP_OK ", \"username\": \"\" }",
	  "imap.username: the value is empty; give a value or leave the key "
	  "out" },
};

START_TEST(wrong_type_reported_by_name)
{
	char *text = xasprintf("{ %s, \"state_dir\": \"s\" }",
	    wrong_types[_i].json);
	char *errors = load_bad(text);

	assert_line(errors, wrong_types[_i].line);
	ck_assert_msg(count_lines(errors) == 1, "extra lines in:\n%s", errors);
	free(errors);
	free(text);
}
END_TEST

START_TEST(wrong_section_type_is_one_problem)
{
	/* The keys of a section given as a list are not also "missing". */
	char *errors = load_bad("{ \"imap\": [\"mail.example.org\"], "
	    "\"state_dir\": \"s\" }");

	assert_line(errors, "imap: expected an object, got a list");
	ck_assert_int_eq(count_lines(errors), 1);
	free(errors);
}
END_TEST

START_TEST(missing_required_keys)
{
	char *errors = load_bad("{}");

	assert_line(errors, "imap.host: missing; this key is required");
	assert_line(errors, "imap.username: missing; this key is required");
	assert_line(errors, "state_dir: missing; this key is required");
	assert_line_prefix(errors, "imap.password_file: missing; set either "
	    "imap.password_file");
	ck_assert_int_eq(count_lines(errors), 4);
	free(errors);
}
END_TEST

START_TEST(password_source_exactly_one)
{
	char *errors = load_bad("{ \"imap\": { " IMAP_OK ", "
	    "\"password_command\": \"pass mail\" }, \"state_dir\": \"s\" }");

	assert_line(errors, "imap: both password_file and password_command "
	    "are set; keep only one");
	ck_assert_int_eq(count_lines(errors), 1);
	free(errors);
	errors = load_bad("{ \"imap\": { \"host\": \"h\", \"username\": "
	    "\"u\" }, \"state_dir\": \"s\" }");
	assert_line(errors, "imap.password_file: missing; set either "
	    "imap.password_file (a file holding the password) or "
	    "imap.password_command (a command printing it)");
	ck_assert_int_eq(count_lines(errors), 1);
	free(errors);
}
END_TEST

static const struct {
	const char *json;
	const char *line;
} out_of_range[] = {
	{ "\"port\": 0", "imap.port: expected an integer from 1 to 65535, "
	  "got 0" },
	{ "\"port\": 65536", "imap.port: expected an integer from 1 to 65535, "
	  "got 65536" },
	{ "\"port\": -993", "imap.port: expected an integer from 1 to 65535, "
	  "got -993" },
	{ "\"timeout\": 0", "imap.timeout: expected an integer from 1 to "
	  "3600, got 0" },
	{ "\"poll_interval\": 86401", "imap.poll_interval: expected an "
	  "integer from 1 to 86400, got 86401" },
	{ "\"idle_restart\": 1800", "imap.idle_restart: expected an integer "
	  "from 5 to 1740, got 1800" },
	{ "\"idle_restart\": 4", "imap.idle_restart: expected an integer "
	  "from 5 to 1740, got 4" },
};

START_TEST(imap_values_out_of_range)
{
	char *text = xasprintf("{ \"imap\": { " IMAP_OK ", %s }, "
	    "\"state_dir\": \"s\" }", out_of_range[_i].json);
	char *errors = load_bad(text);

	assert_line(errors, out_of_range[_i].line);
	ck_assert_int_eq(count_lines(errors), 1);
	free(errors);
	free(text);
}
END_TEST

START_TEST(thresholds_and_sizes_checked)
{
	char *errors = load_bad("{ \"imap\": { " IMAP_OK " }, \"state_dir\": "
	    "\"s\", \"spam_threshold\": 1.5, \"ham_threshold\": -0.1, "
	    "\"max_message_bytes\": 1023, \"first_run_days\": -1 }");

	assert_line(errors, "spam_threshold: expected a number from 0 to 1, "
	    "got 1.5");
	assert_line(errors, "ham_threshold: expected a number from 0 to 1, "
	    "got -0.1");
	assert_line(errors, "max_message_bytes: expected an integer from 1024 "
	    "to 1073741824, got 1023");
	assert_line(errors, "first_run_days: expected an integer from 0 to "
	    "3650, got -1");
	ck_assert_int_eq(count_lines(errors), 4);
	free(errors);
	errors = load_bad("{ \"imap\": { " IMAP_OK " }, \"state_dir\": \"s\", "
	    "\"spam_threshold\": 0.4, \"ham_threshold\": 0.5 }");
	assert_line(errors, "ham_threshold: 0.5 is above spam_threshold 0.4; "
	    "it must be lower or equal");
	ck_assert_int_eq(count_lines(errors), 1);
	free(errors);
}
END_TEST

START_TEST(equal_thresholds_accepted)
{
	struct config *c = load_good("{ \"imap\": { " IMAP_OK " }, "
	    "\"state_dir\": \"s\", \"spam_threshold\": 1, "
	    "\"ham_threshold\": 1 }");

	ck_assert_double_eq(c->spam_threshold, 1.0);
	ck_assert_double_eq(c->ham_threshold, 1.0);
	config_free(&c);
}
END_TEST

START_TEST(watch_list_checked)
{
	char *errors = load_bad("{ \"imap\": { " IMAP_OK " }, \"state_dir\": "
	    "\"s\", \"folders\": { \"watch\": [] } }");

	assert_line(errors, "folders.watch: the list is empty; name at least "
	    "one folder to sort, e.g. [\"INBOX\"]");
	free(errors);
	errors = load_bad("{ \"imap\": { " IMAP_OK " }, \"state_dir\": \"s\", "
	    "\"folders\": { \"watch\": [\"INBOX\", \"\", \"Work\", \"inbox\", "
	    "\"Work\"] } }");
	assert_line(errors, "folders.watch[1]: the folder name is empty");
	/* INBOX is case-insensitive in IMAP, other names are not. */
	assert_line(errors, "folders.watch[3]: \"inbox\" is listed twice; "
	    "remove one");
	assert_line(errors, "folders.watch[4]: \"Work\" is listed twice; "
	    "remove one");
	ck_assert_int_eq(count_lines(errors), 3);
	free(errors);
}
END_TEST

START_TEST(watch_names_differing_in_case_accepted)
{
	struct config *c = load_good("{ \"imap\": { " IMAP_OK " }, "
	    "\"state_dir\": \"s\", \"folders\": { \"watch\": [\"Work\", "
	    "\"work\"] } }");

	ck_assert_uint_eq(c->folders.nwatch, 2);
	config_free(&c);
}
END_TEST

START_TEST(invalid_json_gives_line)
{
	char *errors = load_bad("{\n  \"imap\": {\n    \"host\": \"h\",,\n"
	    "  }\n}\n");

	ck_assert_int_eq(count_lines(errors), 1);
	assert_line_prefix(errors, "line 3, column ");
	ck_assert_ptr_nonnull(strstr(errors, "invalid JSON: "));
	free(errors);
	errors = load_bad("{\n  \"imap\": {\n    \"host\": \"h\"\n");
	assert_line(errors, "line 4: invalid JSON: the file ends in the "
	    "middle of a value (a missing '}' or ']'?)");
	free(errors);
	errors = load_bad("{ \"state_dir\": \"s\" }\n\n} junk\n");
	assert_line(errors, "line 3, column 1: invalid JSON: unexpected text "
	    "after the end of the configuration object");
	free(errors);
	errors = load_bad("[\"imap\"]");
	assert_line(errors, "the configuration must be a JSON object "
	    "({ ... }), got a list");
	free(errors);
	errors = load_bad("");
	assert_line_prefix(errors, "line 1: invalid JSON: the file ends");
	free(errors);
}
END_TEST

START_TEST(missing_file_is_clear)
{
	struct config *c = NULL;
	char *errors = NULL;
	char *path = xasprintf("%s/nope.json", dir);
	char *want = xasprintf("%s: cannot open the configuration file: No "
	    "such file or directory; check the -c path (a sample is "
	    "/etc/mailsift/example.json.sample)", path);

	ck_assert_int_eq(config_load(path, &c, &errors), -1);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(errors, want);
	free(errors);
	free(want);
	ck_assert_int_eq(config_load(dir, &c, &errors), -1);
	ck_assert_ptr_nonnull(strstr(errors, "not a regular file"));
	free(errors);
	free(path);
}
END_TEST

START_TEST(relative_paths_resolved_against_file)
{
	char cwd[PATH_MAX];
	struct config *c;
	char *errors = NULL;
	char *want, *rel;
	const char *home = getenv("HOME");
	char *saved_home = home != NULL ? xstrdup(home) : NULL;

	ck_assert_int_eq(setenv("HOME", "/home/ann", 1), 0);
	write_file("mailsift.json", "{ \"imap\": { \"host\": \"h\", "
	    "\"username\": \"u\", \"password_file\": \"~/.mailpw\", "
	    "\"ca_file\": \"certs/ca.pem\" }, \"sieve\": \"./rules.sieve\", "
	    "\"state_dir\": \"/var/lib/ms\" }", 0600);
	/* Loaded by a relative path from elsewhere: still anchored at the
	 * file's directory, as an absolute path. */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir("/tmp"), 0);
	rel = xasprintf("%s/mailsift.json", dir + strlen("/tmp/"));
	ck_assert_int_eq(config_load(rel, &c, &errors), 0);
	free(rel);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_str_eq(c->imap.password_file, "/home/ann/.mailpw");
	want = xasprintf("%s/certs/ca.pem", dir);
	ck_assert_str_eq(c->imap.ca_file, want);
	free(want);
	want = xasprintf("%s/./rules.sieve", dir);
	ck_assert_str_eq(c->sieve, want);
	free(want);
	ck_assert_str_eq(c->state_dir, "/var/lib/ms");
	config_free(&c);
	if (saved_home != NULL)
		setenv("HOME", saved_home, 1);
	free(saved_home);
}
END_TEST

START_TEST(tilde_user_refused)
{
	char *errors = load_bad("{ \"imap\": { " IMAP_OK " }, \"state_dir\": "
	    "\"~bob/state\" }");

	assert_line(errors, "state_dir: \"~bob/state\": \"~user\" is not "
	    "supported; write the full path");
	free(errors);
}
END_TEST

START_TEST(all_problems_reported_together)
{
	char *errors = load_bad("{ \"imap\": { \"host\": \"mail.example.org\","
	    " \"port\": \"abc\", \"tls\": \"none\", \"user\": \"ann\", "
	    "\"password_file\": \"pw\", \"password_command\": \"x\" },\n"
	    "\"folders\": { \"watch\": [] }, \"spam_threshold\": 2 }");

	assert_line(errors, "imap.port: expected an integer from 1 to 65535, "
	    "got \"abc\"");
	assert_line_prefix(errors, "imap.user: unknown key;");
	assert_line_prefix(errors, "folders.watch: the list is empty;");
	assert_line(errors, "spam_threshold: expected a number from 0 to 1, "
	    "got 2");
	assert_line(errors, "imap.username: missing; this key is required");
	assert_line(errors, "state_dir: missing; this key is required");
	assert_line(errors, "imap: both password_file and password_command "
	    "are set; keep only one");
	assert_line_prefix(errors, "imap.tls: \"none\" would send the "
	    "password unencrypted");
	ck_assert_int_eq(count_lines(errors), 8);
	free(errors);
}
END_TEST

START_TEST(parse_string_without_file)
{
	struct config *c = NULL;
	char *errors = NULL;
	const char *text = MINIMAL;

	ck_assert_int_eq(config_parse_string(text, strlen(text),
	    "/etc/mailsift/a.json", &c, &errors), 0);
	ck_assert_str_eq(c->state_dir, "/etc/mailsift/state");
	config_free(&c);
	/* Bytes after a NUL are part of the input, not ignored. */
	ck_assert_int_eq(config_parse_string("{}\0{", 4, "/x.json", &c,
	    &errors), -1);
	ck_assert_ptr_nonnull(errors);
	free(errors);
}
END_TEST

/* The fixture files (also the fuzzer's seed corpus) stay valid. */
START_TEST(fixture_files_valid)
{
	struct config *c = NULL;
	char *errors = NULL;

	ck_assert_msg(config_load(FIXTURES "/config/full.json", &c,
	    &errors) == 0, "%s", errors);
	ck_assert_str_eq(c->sieve, FIXTURES "/config/alice.sieve");
	ck_assert_uint_eq(c->folders.nwatch, 2);
	config_free(&c);
	ck_assert_msg(config_load(FIXTURES "/config/loopback.json", &c,
	    &errors) == 0, "%s", errors);
	ck_assert_int_eq(c->imap.tls, TLS_NONE);
	ck_assert_str_eq(c->state_dir, FIXTURES "/config/state");
	config_free(&c);
	/* The example shipped in packaging/ documents every key: it must
	 * stay loadable when keys change. */
	ck_assert_msg(config_load(FIXTURES "/../../packaging/"
	    "config.example.json", &c, &errors) == 0, "%s", errors);
	config_free(&c);
}
END_TEST

static struct config *
password_config(const char *imap_member)
{
	char *text = xasprintf("{ \"imap\": { \"host\": \"h\", \"username\": "
	    "\"u\", %s }, \"state_dir\": \"s\" }", imap_member);
	struct config *c = load_good(text);

	free(text);
	return c;
}

START_TEST(password_file_read)
{
	struct config *c = password_config("\"password_file\": \"pw\"");
	char *pw = NULL, *err = NULL;

	write_file("pw", "s3cret pass\n", 0600);
	ck_assert_int_eq(config_password(c, &pw, &err), 0);
	ck_assert_str_eq(pw, "s3cret pass");
	free(pw);
	write_file("pw", "nonewline", 0600);
	ck_assert_int_eq(config_password(c, &pw, &err), 0);
	ck_assert_str_eq(pw, "nonewline");
	free(pw);
	write_file("pw", "crlf\r\n", 0600);
	ck_assert_int_eq(config_password(c, &pw, &err), 0);
	ck_assert_str_eq(pw, "crlf");
	free(pw);
	config_free(&c);
}
END_TEST

START_TEST(password_file_failures)
{
	struct config *c = password_config("\"password_file\": \"pw\"");
	char *pw = NULL, *err = NULL;
	char *want = xasprintf("cannot open password file '%s/pw': No such "
	    "file or directory", dir);

	ck_assert_int_eq(config_password(c, &pw, &err), -1);
	ck_assert_ptr_null(pw);
	ck_assert_str_eq(err, want);
	free(err);
	free(want);
	write_file("pw", "\n", 0600);
	ck_assert_int_eq(config_password(c, &pw, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "is empty"));
	free(err);
	config_free(&c);
}
END_TEST

START_TEST(password_file_readable_by_others_warns)
{
	struct config *c = password_config("\"password_file\": \"pw\"");
	char *pw = NULL, *err = NULL, *logged, *want;
	char *log_path = xasprintf("%s/stderr", dir);
	int saved = dup(STDERR_FILENO);
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	write_file("pw", "hunter2\n", 0644);
	ck_assert(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	ck_assert_int_eq(config_password(c, &pw, &err), 0);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	ck_assert_str_eq(pw, "hunter2");
	free(pw);
	logged = read_whole(log_path);
	want = xasprintf("password file '%s/pw' is readable by others; run "
	    "'chmod 600 %s/pw'", dir, dir);
	ck_assert_msg(strstr(logged, want) != NULL, "logged: %s", logged);
	ck_assert_ptr_null(strstr(logged, "hunter2"));
	free(want);
	free(logged);
	free(log_path);
	config_free(&c);
}
END_TEST

/* A line break would end the IMAP command carrying the password and
 * start another: refused, whatever the source, before anything is sent.
 * Only one line end at the very end of a file is not the password. */
START_TEST(password_line_breaks_refused)
{
	static const struct {
		const char *file;	/* password file contents */
		const char *what;	/* named in the error */
	} cases[] = {
		{ "x\r\nA9 DELETE INBOX", "a line break (CR LF)" },
		{ "x\nA9 DELETE INBOX\n", "a line break (LF)" },
		{ "x\rA9 DELETE INBOX", "a carriage return (CR)" },
		{ "two\n\n", "a line break (LF)" },
		{ "two\r\n\r\n", "a line break (CR LF)" },
	};
	struct config *c = password_config("\"password_file\": \"pw\"");
	char *pw = NULL, *err = NULL, *want;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file("pw", cases[i].file, 0600);
		ck_assert_int_eq(config_password(c, &pw, &err), -1);
		ck_assert_ptr_null(pw);
		want = xasprintf("password file '%s/pw' holds %s inside the "
		    "password; it must hold the password alone on one line "
		    "(one line end at the end of the file, LF or CRLF, is "
		    "ignored)", dir, cases[i].what);
		ck_assert_str_eq(err, want);
		ck_assert_ptr_null(strstr(err, "DELETE"));
		free(want);
		free(err);
	}
	config_free(&c);
	c = password_config("\"password_command\": "
	    "\"printf 'x\\\\rA9 DELETE INBOX\\\\r\\\\n'\"");
	ck_assert_int_eq(config_password(c, &pw, &err), -1);
	ck_assert_ptr_null(pw);
	ck_assert_str_eq(err, "password command 'printf 'x\\rA9 DELETE "
	    "INBOX\\r\\n'' printed a carriage return (CR) inside its first "
	    "line; it must print the password alone on its first line");
	free(err);
	config_free(&c);
}
END_TEST

START_TEST(password_command_first_line)
{
	struct config *c = password_config("\"password_command\": "
	    "\"printf 'from cmd\\\\nsecond line\\\\n'\"");
	char *pw = NULL, *err = NULL;

	ck_assert_int_eq(config_password(c, &pw, &err), 0);
	ck_assert_str_eq(pw, "from cmd");
	free(pw);
	config_free(&c);
}
END_TEST

START_TEST(password_command_failures)
{
	struct config *c;
	char *pw = NULL, *err = NULL;
	char *want;

	/* The error names the command and its status, never what it
	 * printed. */
	write_file("pw", "hunter2\n", 0600);
	c = password_config("\"password_command\": \"cat pw; exit 3\"");
	/* Commands run in mailsift's working directory. */
	{
		char cwd[PATH_MAX];

		ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
		ck_assert_int_eq(chdir(dir), 0);
		ck_assert_int_eq(config_password(c, &pw, &err), -1);
		ck_assert_int_eq(chdir(cwd), 0);
	}
	ck_assert_ptr_null(pw);
	ck_assert_str_eq(err, "password command 'cat pw; exit 3' failed with "
	    "exit status 3");
	free(err);
	config_free(&c);
	c = password_config("\"password_command\": \"true\"");
	ck_assert_int_eq(config_password(c, &pw, &err), -1);
	ck_assert_str_eq(err, "password command 'true' printed no password; "
	    "it must print the password on its first line");
	free(err);
	config_free(&c);
	c = password_config("\"password_command\": "
	    "\"/nonexistent/mailsift-pass 2>/dev/null\"");
	ck_assert_int_eq(config_password(c, &pw, &err), -1);
	want = xstrdup("password command '/nonexistent/mailsift-pass "
	    "2>/dev/null' failed with exit status 127 (command not found)");
	ck_assert_str_eq(err, want);
	free(want);
	free(err);
	config_free(&c);
	c = password_config("\"password_command\": \"kill -TERM $$\"");
	ck_assert_int_eq(config_password(c, &pw, &err), -1);
	ck_assert_str_eq(err, "password command 'kill -TERM $$' was killed by "
	    "signal 15");
	free(err);
	config_free(&c);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");
	TCase *pw = tcase_create("password");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, minimal_gets_defaults);
	tcase_add_test(tc, full_sets_every_key);
	tcase_add_test(tc, default_port_follows_tls);
	tcase_add_loop_test(tc, tls_none_allowed_on_loopback, 0,
	    sizeof(loopback_hosts) / sizeof(*loopback_hosts));
	tcase_add_loop_test(tc, tls_none_refused_elsewhere, 0,
	    sizeof(remote_hosts) / sizeof(*remote_hosts));
	tcase_add_test(tc, unknown_keys_named_at_every_level);
	tcase_add_loop_test(tc, wrong_type_reported_by_name, 0,
	    sizeof(wrong_types) / sizeof(*wrong_types));
	tcase_add_test(tc, wrong_section_type_is_one_problem);
	tcase_add_test(tc, missing_required_keys);
	tcase_add_test(tc, password_source_exactly_one);
	tcase_add_loop_test(tc, imap_values_out_of_range, 0,
	    sizeof(out_of_range) / sizeof(*out_of_range));
	tcase_add_test(tc, thresholds_and_sizes_checked);
	tcase_add_test(tc, equal_thresholds_accepted);
	tcase_add_test(tc, watch_list_checked);
	tcase_add_test(tc, watch_names_differing_in_case_accepted);
	tcase_add_test(tc, invalid_json_gives_line);
	tcase_add_test(tc, missing_file_is_clear);
	tcase_add_test(tc, relative_paths_resolved_against_file);
	tcase_add_test(tc, tilde_user_refused);
	tcase_add_test(tc, all_problems_reported_together);
	tcase_add_test(tc, parse_string_without_file);
	tcase_add_test(tc, fixture_files_valid);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(pw, setup, teardown);
	tcase_add_test(pw, password_file_read);
	tcase_add_test(pw, password_file_failures);
	tcase_add_test(pw, password_file_readable_by_others_warns);
	tcase_add_test(pw, password_line_breaks_refused);
	tcase_add_test(pw, password_command_first_line);
	tcase_add_test(pw, password_command_failures);
	suite_add_tcase(s, pw);
	return s;
}

UNIT_MAIN(config_suite)
