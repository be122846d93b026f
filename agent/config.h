/*
 * config.h - the validated, read-only configuration everyone else reads.
 *
 * config.c alone parses the JSON file (json-c); no json-c object leaves it.
 * Every problem is reported by key name with the file, all of them at once,
 * before mailsift connects anywhere.  The reference of every key is in
 * README.md ("Configuration").
 */
#ifndef MAILSIFT_CONFIG_H
#define MAILSIFT_CONFIG_H

#include <stddef.h>

enum tls_mode {
	TLS_IMPLICIT,		/* "implicit": TLS from the first byte (993) */
	TLS_STARTTLS,		/* "starttls": plain, then STARTTLS */
	TLS_NONE		/* "none": loopback hosts only */
};

enum imap_auth {
	AUTH_PASSWORD,		/* "password": AUTHENTICATE PLAIN, else LOGIN */
	AUTH_XOAUTH2,		/* "xoauth2": an OAuth2 access token */
	AUTH_OAUTHBEARER	/* "oauthbearer": the same, RFC 7628 */
};

struct config {
	char *path;			/* the file this came from */
	struct {
		char *host;
		int port;
		enum tls_mode tls;
		char *ca_file;		/* extra trust anchor, or NULL */
		char *username;
		enum imap_auth auth;
		char *password_file;	/* exactly one of these two: the */
		char *password_command;	/* password or the access token */
		int timeout;		/* seconds per command */
		int poll_interval;	/* seconds, when the server lacks IDLE */
		int idle_restart;	/* seconds before IDLE is re-issued */
		int junk_idle;		/* without NOTIFY, watch Junk over a
					 * second connection */
	} imap;
	struct {
		char **watch;		/* mailboxes sorted, >= 1 */
		size_t nwatch;
		char *junk;		/* NULL: find by \Junk, else "Junk" */
		char *trash;		/* NULL: find by \Trash, else "Trash" */
	} folders;
	char *sieve;			/* the owner's script, or NULL */
	char *state_dir;
	double spam_threshold;		/* score >= this is spam */
	double ham_threshold;		/* score < this is ham; between: unsure */
	size_t max_message_bytes;	/* read at most this much per message */
	char *log_level;		/* NULL: notice */
	int first_run_days;		/* the first look at a folder sorts
					 * unread mail of these last days */
	char *sieve_dir;		/* the owner's scripts (NAME.sieve) for
					 * ManageSieve, or NULL: not served */
};

/* The ManageSieve service (`mailsift managesieve`), from its own file. */
struct managesieve_config {
	char *path;
	char **listen;			/* addresses, NULL-terminated */
	int port;
	char *tls_cert;			/* PEM; both or neither: STARTTLS */
	char *tls_key;
	char *config_dir;		/* the mailboxes' configurations */
	int max_connections;
	int max_connections_per_address;
	int idle_timeout;		/* seconds without a command */
	size_t max_script_bytes;	/* also the largest literal */
	int quota_scripts;		/* per mailbox */
	size_t quota_bytes;		/* per mailbox, all scripts */
	int auth_failure_delay;		/* seconds after the first failure,
					 * doubled for each further one */
	char *log_level;		/* NULL: notice */
};

/* Loads and validates path.  On failure returns -1 and sets *errors_r to
 * malloc'd text, one "PATH: problem" line per problem, lines separated by
 * '\n' with no newline after the last. */
int config_load(const char *path, struct config **config_r, char **errors_r);
/* As config_load on len bytes of JSON already read (tests, fuzzing): path
 * names the file in messages and anchors relative paths in it. */
int config_parse_string(const char *text, size_t len, const char *path,
    struct config **config_r, char **errors_r);
void config_free(struct config **config);

/* The same for the ManageSieve service's file; defaults filled in. */
int managesieve_config_load(const char *path,
    struct managesieve_config **config_r, char **errors_r);
int managesieve_config_parse_string(const char *text, size_t len,
    const char *path, struct managesieve_config **config_r,
    char **errors_r);
void managesieve_config_free(struct managesieve_config **config);

/* Reads the password as configured (file contents without the trailing
 * newline, or the first line the command prints).  -1 with *err_r set,
 * also for a password holding a CR or LF (it would end the IMAP command
 * carrying it) or a NUL byte. */
int config_password(const struct config *config, char **password_r,
    char **err_r);
/* Wipes and frees a password from config_password (NULL is fine). */
void config_password_free(char **password);

/* Paths of the databases under state_dir; malloc'd. */
char *config_tokens_db(const struct config *config);
char *config_ledger_db(const struct config *config);

#endif
