/*
 * sieve.h - the owner's Sieve script as the rest of mailsift sees it:
 * load and check a script; evaluate it on one message with the spam score
 * available; get back a plain list of actions.
 *
 * Only sieve/ knows libsieve exists.  No IMAP, no SQLite here.
 */
#ifndef MAILSIFT_SIEVE_H
#define MAILSIFT_SIEVE_H

#include <stddef.h>
#include <time.h>

enum sieve_action_type {
	SIEVE_ACTION_KEEP,	/* leave in the folder it is in */
	SIEVE_ACTION_FILEINTO,	/* move (or copy, with other actions) */
	SIEVE_ACTION_DISCARD	/* mailsift moves it to Trash, never deletes */
};

struct sieve_action {
	enum sieve_action_type type;
	char *mailbox;		/* owned; FILEINTO only, UTF-8 */
	char **flags;		/* owned; IMAP flags/keywords to set */
	size_t nflags;
	int implicit;		/* KEEP only: the implicit keep */
};

struct sieve_result {
	struct sieve_action *actions;	/* owned */
	size_t n;
	char *rule;		/* owned; which rule decided, for the ledger
				 * and explanations (e.g. "line 4: fileinto
				 * \"Junk\""), or NULL */
	int *lines;		/* owned; source lines of the actions and
				 * flag commands that ran, in order */
	size_t nlines;
	/* owned; the IDs duplicate tests tracked.  The caller records them
	 * (see sieve_dup_record) only once the actions were carried out,
	 * so that a crash never makes unseen mail look seen. */
	struct sieve_dup *dups;
	size_t ndups;
};

/* How long the caller keeps a duplicate ID: the longest :seconds. */
#define SIEVE_DUP_MAX_AGE	(7LL * 24 * 3600)

/* Should the caller store d->id as seen now?  Yes for a new ID, and for
 * every sight with :last; a plain repeat keeps its first time. */
int sieve_dup_record(const struct sieve_dup *d);

struct sieve_script;

/* Reads and checks the script at path.  On error returns -1 and sets
 * *errors_r to malloc'd "PATH:LINE: message" lines.  A script that loads
 * is fully supported: nothing in it is ignored or half-run. */
int sieve_script_load(const char *path, struct sieve_script **script_r,
    char **errors_r);
/* The same for a script held in memory; name is used in messages.  It
 * cannot include other scripts (it has no directory). */
int sieve_script_parse(const char *name, const char *text,
    struct sieve_script **script_r, char **errors_r);
/* A script held in memory whose include :personal "x" reads x.sieve in
 * dir, as it will when stored there (ManageSieve's PUTSCRIPT and
 * CHECKSCRIPT). */
int sieve_script_parse_in(const char *name, const char *text,
    const char *dir, struct sieve_script **script_r, char **errors_r);
void sieve_script_free(struct sieve_script **script);
/* "NAME:LINE: warning: ..." lines about constructs that are valid but
 * probably not what the owner meant, or NULL.  Borrowed from script. */
const char *sieve_script_warnings(const struct sieve_script *script);

/* duplicate (RFC 7352): one ID a duplicate test tracked, the hex
 * SHA-256 of its :handle and the unique ID (Message-ID by default). */
struct sieve_dup {
	char id[65];
	int seen;		/* the test found it within its :seconds */
	int last;		/* :last: the window restarts at each sight */
};

/* What a run may look at besides the message. */
struct sieve_env {
	double score;		/* [0,1], or negative: not scored */
	time_t now;		/* for currentdate; 0: the clock */
	/* mailboxexists: the mailboxes as scripts name them (through the
	 * server's namespace, UTF-8), or NULL when not known, which makes
	 * a mailboxexists test fail the run (the message is kept) */
	char *const *mailboxes;
	size_t nmailboxes;
	/* duplicate: when the caller's store of IDs last saw id: 1 with
	 * *seen_at_r (seconds since the epoch), 0 never, -1 on an error
	 * (the run fails).  Called in the caller's process, not in the
	 * evaluator child.  NULL: no ID was ever seen. */
	int (*dup_lookup)(void *ctx, const char *id, long long *seen_at_r);
	void *dup_ctx;
};

/* The extensions a script may require, space-separated, in the form of
 * the ManageSieve SIEVE capability (RFC 5804); static. */
const char *sieve_extensions(void);

/* Does the script test mailboxexists (so the caller should list the
 * mailboxes into sieve_env)? */
int sieve_script_needs_mailboxes(const struct sieve_script *script);
/* Does the script use duplicate (so the caller should give dup_lookup
 * and record the result's dups)? */
int sieve_script_needs_duplicates(const struct sieve_script *script);

/* Starts the script's evaluator helper now rather than at the first
 * evaluation (optional).  Each evaluation forks a copy of the helper, and
 * the helper is a copy of the caller as it was when it started: a daemon
 * calls this before it loads its IMAP libraries or reads a backlog.  A
 * failure is left for the first evaluation to report. */
void sieve_script_start_evaluator(const struct sieve_script *script);

/* Runs the script on len bytes of msg.  score is the classifier's score in
 * [0,1], or negative if the message was not scored.  On failure (the
 * evaluator crashed or timed out) returns -1 with *err_r set, and the
 * caller keeps the message where it is.
 * The evaluation runs in a forked child (libsieve can crash or leak)
 * that is given 5 seconds and reaped with waitpid(): the caller must not
 * ignore SIGCHLD nor reap children with waitpid(-1).  result_r is always
 * at least one action; sieve_result_release() it after success. */
int sieve_eval(const struct sieve_script *script, const char *msg,
    size_t len, double score, struct sieve_result *result_r, char **err_r);
/* The same with everything a run may look at. */
int sieve_eval_env(const struct sieve_script *script, const char *msg,
    size_t len, const struct sieve_env *env, struct sieve_result *result_r,
    char **err_r);
void sieve_result_release(struct sieve_result *r);

/* The built-in script used when the owner configured none: a message
 * whose spamtest :percent value reaches threshold (in [0,1]) goes to the
 * junk folder tagged $Junk; everything else is kept.  Returns malloc'd
 * Sieve text for sieve_script_parse(). */
char *sieve_default_script(const char *junk, double threshold);

#endif
