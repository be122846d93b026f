/*
 * sieve_store.h - one mailbox's Sieve scripts as ManageSieve sees them:
 * NAME.sieve files in one directory (sieve_dir), and the active one, which
 * is what the daemon's configured `sieve` path resolves to: a symbolic
 * link into that directory, replaced atomically.  Keeping the scripts as
 * siblings lets `include :personal "x"` find x.sieve next to the running
 * script.  A regular file at the `sieve` path (a script the owner kept
 * there by hand) is the active script all the same (RFC 5804 lists the
 * script in force): it is listed under the name it keeps in the
 * directory (its base name without ".sieve", made unique), read where it
 * is, and copied into the directory and linked before anything changes
 * it.  Plain file operations: no protocol, no Sieve checking here.
 */
#ifndef MAILSIFT_SIEVE_STORE_H
#define MAILSIFT_SIEVE_STORE_H

#include <stddef.h>

enum sieve_store_status {
	SIEVE_STORE_OK,
	SIEVE_STORE_NONEXISTENT,	/* no script of that name */
	SIEVE_STORE_EXISTS,		/* the new name is taken */
	SIEVE_STORE_ACTIVE,		/* the active script cannot go */
	SIEVE_STORE_TOO_BIG,		/* over the size of one script */
	SIEVE_STORE_TOO_MANY,		/* over the number of scripts */
	SIEVE_STORE_OVER_QUOTA,		/* over the bytes of all scripts */
	SIEVE_STORE_ERROR		/* a file operation failed: *err_r */
};

struct sieve_store {
	const char *dir;		/* borrowed: sieve_dir */
	const char *active;		/* borrowed: the daemon's `sieve` path */
	size_t max_script_bytes;
	int quota_scripts;
	size_t quota_bytes;
};

/* 1 if name can be a script name: 1 to 128 bytes of UTF-8 without
 * control characters or '/', not starting with '.'. */
int sieve_store_name_ok(const char *name, size_t len);

/* The scripts, names sorted (free with sieve_store_names_free), and the
 * active one's name (malloc'd) or NULL. */
enum sieve_store_status sieve_store_list(const struct sieve_store *st,
    char ***names_r, size_t *n_r, char **active_r, char **err_r);
void sieve_store_names_free(char **names, size_t n);

/* The active script's name (a script kept by hand: the name it keeps
 * in the directory), or NULL. */
char *sieve_store_active(const struct sieve_store *st);

/* Would a script of size bytes fit under name (replacing one of that
 * name)? */
enum sieve_store_status sieve_store_space(const struct sieve_store *st,
    const char *name, size_t size, char **err_r);

/* The path of the script name (malloc'd); it may not exist. */
char *sieve_store_path(const struct sieve_store *st, const char *name);

enum sieve_store_status sieve_store_get(const struct sieve_store *st,
    const char *name, char **text_r, size_t *len_r, char **err_r);
/* Writes the script atomically (temporary file, fsync, rename): an edit
 * of the active script is picked up by the daemon in one piece.  Over a
 * script kept by hand, the new text is kept in the directory and stays
 * active. */
enum sieve_store_status sieve_store_put(const struct sieve_store *st,
    const char *name, const char *text, size_t len, char **err_r);
enum sieve_store_status sieve_store_delete(const struct sieve_store *st,
    const char *name, char **err_r);
/* Renames a script; the active one stays active under its new name. */
enum sieve_store_status sieve_store_rename(const struct sieve_store *st,
    const char *from, const char *to, char **err_r);
/* Makes name the active script (NULL: none, the built-in policy).  A
 * regular file found at the active path (a script the owner kept by
 * hand) is first kept in the directory as a script of its own, under
 * its base name; *kept_r (malloc'd, or NULL) says which.  Activating the
 * script kept by hand leaves it as it is. */
enum sieve_store_status sieve_store_activate(const struct sieve_store *st,
    const char *name, char **kept_r, char **err_r);

#endif
