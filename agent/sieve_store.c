/*
 * sieve_store.c - a mailbox's scripts as files (see sieve_store.h).
 *
 * Every change is one rename(2) (or link(2)) that either happens whole or
 * not at all: a script is written to a hidden temporary file and renamed
 * over its name, the active link is made under a temporary name and
 * renamed over the `sieve` path.  The daemon, watching those names with
 * inotify, never reads half a script.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/sieve_store.h"
#include "agent/xmem.h"

#define SUFFIX		".sieve"
#define SUFFIX_LEN	(sizeof(SUFFIX) - 1)
#define NAME_MAX_BYTES	128

static enum sieve_store_status adopt_kept(const struct sieve_store *,
    const char *, char **);

static int
utf8_ok(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; ) {
		size_t n = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 :
		    (s[i] & 0xf0) == 0xe0 ? 3 : (s[i] & 0xf8) == 0xf0 ? 4 : 0;

		if (n == 0 || i + n > len || (n == 2 && s[i] < 0xc2))
			return 0;
		for (size_t k = 1; k < n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += n;
	}
	return 1;
}

int
sieve_store_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > NAME_MAX_BYTES || name[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '/')
			return 0;
	}
	return utf8_ok((const unsigned char *)name, len);
}

char *
sieve_store_path(const struct sieve_store *st, const char *name)
{
	return xasprintf("%s/%s" SUFFIX, st->dir, name);
}

static enum sieve_store_status
fail(char **err_r, const char *what, const char *path)
{
	*err_r = xasprintf("cannot %s %s: %s", what, path, strerror(errno));
	return SIEVE_STORE_ERROR;
}

void
sieve_store_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The scripts with their sizes; a missing directory holds none. */
static enum sieve_store_status
scan(const struct sieve_store *st, char ***names_r, off_t **sizes_r,
    size_t *n_r, char **err_r)
{
	DIR *d = opendir(st->dir);
	struct dirent *e;
	char **names = NULL;
	off_t *sizes = NULL;
	size_t n = 0;

	*names_r = NULL;
	*sizes_r = NULL;
	*n_r = 0;
	if (d == NULL)
		return errno == ENOENT ? SIEVE_STORE_OK :
		    fail(err_r, "read the script directory", st->dir);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		struct stat sb;

		if (len <= SUFFIX_LEN || strcmp(e->d_name + len - SUFFIX_LEN,
		    SUFFIX) != 0 || !sieve_store_name_ok(e->d_name,
		    len - SUFFIX_LEN) || fstatat(dirfd(d), e->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		sizes = xreallocarray(sizes, n + 1, sizeof(*sizes));
		names[n] = xstrndup(e->d_name, len - SUFFIX_LEN);
		sizes[n++] = sb.st_size;
	}
	closedir(d);
	*names_r = names;
	*sizes_r = sizes;
	*n_r = n;
	return SIEVE_STORE_OK;
}

/* 1 (and *sb_r) if the active path is a regular file: a script the
 * owner kept there by hand, not mailsift's link. */
static int
hand_kept(const struct sieve_store *st, struct stat *sb_r)
{
	return lstat(st->active, sb_r) == 0 && S_ISREG(sb_r->st_mode);
}

/* The name of the script kept by hand at the active path as a script of
 * the directory: its base name without ".sieve" ("kept" if that cannot
 * be a name), or NAME-2, NAME-3... if that is another script.  self: the
 * kept file, which may be one of the directory's scripts already
 * (*inside_r set then); NULL: a name for a copy of it. */
static char *
kept_name(const struct sieve_store *st, const struct stat *self,
    int *inside_r)
{
	char *copy = xstrdup(st->active), *base = basename(copy), *name = NULL;
	size_t blen = strlen(base);
	int taken = 1;

	if (inside_r != NULL)
		*inside_r = 0;
	if (blen > SUFFIX_LEN && strcmp(base + blen - SUFFIX_LEN, SUFFIX) == 0)
		base[blen - SUFFIX_LEN] = '\0';
	if (!sieve_store_name_ok(base, strlen(base)))
		base = "kept";
	for (int i = 1; taken; i++) {
		char *path;
		struct stat sb;

		free(name);
		name = i == 1 ? xstrdup(base) : xasprintf("%s-%d", base, i);
		path = sieve_store_path(st, name);
		taken = lstat(path, &sb) == 0;
		if (taken && self != NULL && sb.st_dev == self->st_dev &&
		    sb.st_ino == self->st_ino) {
			taken = 0;
			if (inside_r != NULL)
				*inside_r = 1;
		}
		free(path);
	}
	free(copy);
	return name;
}

/* 1 if name is the script kept by hand at the active path and that is
 * not a file of the directory (yet). */
static int
kept_outside(const struct sieve_store *st, const char *name)
{
	struct stat sb;
	char *kept;
	int inside, yes;

	if (!hand_kept(st, &sb))
		return 0;
	kept = kept_name(st, &sb, &inside);
	yes = !inside && strcmp(kept, name) == 0;
	free(kept);
	return yes;
}

char *
sieve_store_active(const struct sieve_store *st)
{
	char *target = NULL, *dir = NULL, *name = NULL;
	char *slash;
	size_t len;
	struct stat sb;

	if (hand_kept(st, &sb))
		return kept_name(st, &sb, NULL);
	target = realpath(st->active, NULL);
	if (target == NULL || lstat(st->active, &sb) < 0 ||
	    !S_ISLNK(sb.st_mode) || (dir = realpath(st->dir, NULL)) == NULL)
		goto out;
	slash = strrchr(target, '/');
	len = strlen(slash + 1);
	if ((size_t)(slash - target) == strlen(dir) &&
	    strncmp(target, dir, strlen(dir)) == 0 && len > SUFFIX_LEN &&
	    strcmp(slash + 1 + len - SUFFIX_LEN, SUFFIX) == 0 &&
	    sieve_store_name_ok(slash + 1, len - SUFFIX_LEN))
		name = xstrndup(slash + 1, len - SUFFIX_LEN);
out:
	free(target);
	free(dir);
	return name;
}

enum sieve_store_status
sieve_store_list(const struct sieve_store *st, char ***names_r, size_t *n_r,
    char **active_r, char **err_r)
{
	off_t *sizes = NULL;
	enum sieve_store_status s = scan(st, names_r, &sizes, n_r, err_r);

	free(sizes);
	*active_r = NULL;
	if (s != SIEVE_STORE_OK)
		return s;
	*active_r = sieve_store_active(st);
	if (*active_r != NULL && kept_outside(st, *active_r)) {
		*names_r = xreallocarray(*names_r, *n_r + 1,
		    sizeof(**names_r));
		(*names_r)[(*n_r)++] = xstrdup(*active_r);
	}
	if (*n_r > 1)
		qsort(*names_r, *n_r, sizeof(**names_r), by_name);
	return SIEVE_STORE_OK;
}

enum sieve_store_status
sieve_store_space(const struct sieve_store *st, const char *name,
    size_t size, char **err_r)
{
	char **names = NULL;
	off_t *sizes = NULL;
	size_t n = 0, total = size;
	int count = 1;
	enum sieve_store_status s;

	if (size > st->max_script_bytes)
		return SIEVE_STORE_TOO_BIG;
	if ((s = scan(st, &names, &sizes, &n, err_r)) != SIEVE_STORE_OK)
		return s;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			continue;	/* replaced */
		count++;
		total += (size_t)sizes[i];
	}
	sieve_store_names_free(names, n);
	free(sizes);
	if (count > st->quota_scripts)
		return SIEVE_STORE_TOO_MANY;
	if (total > st->quota_bytes)
		return SIEVE_STORE_OVER_QUOTA;
	return SIEVE_STORE_OK;
}

static enum sieve_store_status
read_whole(const char *path, char **text_r, size_t *len_r, char **err_r)
{
	struct buf b = { 0 };
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT ? SIEVE_STORE_NONEXISTENT :
		    fail(err_r, "open", path);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&b, chunk, (size_t)n);
	close(fd);
	if (n < 0) {
		buf_release(&b);
		return fail(err_r, "read", path);
	}
	*len_r = b.len;
	*text_r = buf_steal(&b);
	return SIEVE_STORE_OK;
}

enum sieve_store_status
sieve_store_get(const struct sieve_store *st, const char *name,
    char **text_r, size_t *len_r, char **err_r)
{
	char *path = kept_outside(st, name) ? xstrdup(st->active) :
	    sieve_store_path(st, name);
	enum sieve_store_status s = read_whole(path, text_r, len_r, err_r);

	free(path);
	return s;
}

/* Writes len bytes to path through a temporary file and a rename. */
static enum sieve_store_status
write_atomically(const char *dir, const char *path, const char *text,
    size_t len, char **err_r)
{
	char *tmp = xasprintf("%s/.tmp.%ld.sieve", dir, (long)getpid());
	enum sieve_store_status s = SIEVE_STORE_OK;
	size_t done = 0;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		s = fail(err_r, "create the script directory", dir);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		s = fail(err_r, "create", tmp);
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		done += (size_t)n;
	}
	if (done < len || fsync(fd) < 0) {
		s = fail(err_r, "write", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		s = fail(err_r, "write", path);
		unlink(tmp);
	}
out:
	free(tmp);
	return s;
}

enum sieve_store_status
sieve_store_put(const struct sieve_store *st, const char *name,
    const char *text, size_t len, char **err_r)
{
	char *path = sieve_store_path(st, name);
	enum sieve_store_status s = adopt_kept(st, name, err_r);

	if (s == SIEVE_STORE_OK)
		s = write_atomically(st->dir, path, text, len, err_r);
	free(path);
	return s;
}

static int
is_active(const struct sieve_store *st, const char *name)
{
	char *active = sieve_store_active(st);
	int yes = active != NULL && strcmp(active, name) == 0;

	free(active);
	return yes;
}

enum sieve_store_status
sieve_store_delete(const struct sieve_store *st, const char *name,
    char **err_r)
{
	char *path = sieve_store_path(st, name);
	enum sieve_store_status s = SIEVE_STORE_OK;

	if (is_active(st, name))
		s = SIEVE_STORE_ACTIVE;
	else if (unlink(path) < 0)
		s = errno == ENOENT ? SIEVE_STORE_NONEXISTENT :
		    fail(err_r, "delete", path);
	free(path);
	return s;
}

/* Points the active path at name's file: a link made aside, renamed. */
static enum sieve_store_status
link_active(const struct sieve_store *st, const char *name, char **err_r)
{
	char *copy = xstrdup(st->active), *dir = realpath(st->dir, NULL);
	char *tmp = xasprintf("%s/.mailsift-active.%ld", dirname(copy),
	    (long)getpid());
	char *target = dir != NULL ? xasprintf("%s/%s" SUFFIX, dir, name) :
	    NULL;
	enum sieve_store_status s = SIEVE_STORE_OK;

	if (target == NULL)
		s = fail(err_r, "find the script directory", st->dir);
	else if ((unlink(tmp) < 0 && errno != ENOENT) ||
	    symlink(target, tmp) < 0)
		s = fail(err_r, "make the link", tmp);
	else if (rename(tmp, st->active) < 0) {
		s = fail(err_r, "replace", st->active);
		unlink(tmp);
	}
	free(copy);
	free(dir);
	free(tmp);
	free(target);
	return s;
}

enum sieve_store_status
sieve_store_rename(const struct sieve_store *st, const char *from,
    const char *to, char **err_r)
{
	char *src = sieve_store_path(st, from), *dst = sieve_store_path(st, to);
	int active = is_active(st, from), self;
	struct stat asb, ssb;
	enum sieve_store_status s = adopt_kept(st, from, err_r);

	if (s != SIEVE_STORE_OK)
		goto out;
	/* The active path may be this very file (a `sieve` path inside the
	 * directory): the link made over it takes the old name away. */
	self = hand_kept(st, &asb) && lstat(src, &ssb) == 0 &&
	    asb.st_dev == ssb.st_dev && asb.st_ino == ssb.st_ino;
	/* link() refuses an existing name without a window; the active
	 * link moves before the old name goes, so it never dangles. */
	if (link(src, dst) < 0) {
		s = errno == ENOENT ? SIEVE_STORE_NONEXISTENT :
		    errno == EEXIST ? SIEVE_STORE_EXISTS :
		    fail(err_r, "rename", src);
		goto out;
	}
	if (active && (s = link_active(st, to, err_r)) != SIEVE_STORE_OK) {
		unlink(dst);
		goto out;
	}
	if (!self && unlink(src) < 0)
		s = fail(err_r, "remove", src);
out:
	free(src);
	free(dst);
	return s;
}

/* A script the owner kept by hand at the active path becomes a script
 * of the directory, under its base name (made unique). */
static enum sieve_store_status
keep_hand_written(const struct sieve_store *st, char **kept_r, char **err_r)
{
	char *name = NULL, *path = NULL, *text = NULL;
	size_t len = 0;
	struct stat sb;
	enum sieve_store_status s = SIEVE_STORE_OK;

	*kept_r = NULL;
	if (!hand_kept(st, &sb))
		return SIEVE_STORE_OK;
	name = kept_name(st, NULL, NULL);
	path = sieve_store_path(st, name);
	/* A copy, not a rename: the directory may be on another device. */
	if ((s = read_whole(st->active, &text, &len, err_r)) ==
	    SIEVE_STORE_OK &&
	    (s = write_atomically(st->dir, path, text, len, err_r)) ==
	    SIEVE_STORE_OK) {
		*kept_r = name;
		name = NULL;
	}
	free(name);
	free(path);
	free(text);
	return s;
}

/* Before name is changed: if it is the script kept by hand at the active
 * path, outside the directory, it is kept in the directory and linked
 * as the active one first (the listing showed it under that name). */
static enum sieve_store_status
adopt_kept(const struct sieve_store *st, const char *name, char **err_r)
{
	char *kept = NULL;
	enum sieve_store_status s;

	if (!kept_outside(st, name))
		return SIEVE_STORE_OK;
	if ((s = keep_hand_written(st, &kept, err_r)) == SIEVE_STORE_OK &&
	    kept != NULL)
		s = link_active(st, kept, err_r);
	free(kept);
	return s;
}

enum sieve_store_status
sieve_store_activate(const struct sieve_store *st, const char *name,
    char **kept_r, char **err_r)
{
	char *path = name != NULL ? sieve_store_path(st, name) : NULL;
	enum sieve_store_status s;
	struct stat sb;

	*kept_r = NULL;
	if (name != NULL && hand_kept(st, &sb) && is_active(st, name)) {
		free(path);
		return SIEVE_STORE_OK;	/* in force already: left as it is */
	}
	if (path != NULL && (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))) {
		free(path);
		return SIEVE_STORE_NONEXISTENT;
	}
	free(path);
	if ((s = keep_hand_written(st, kept_r, err_r)) != SIEVE_STORE_OK)
		return s;
	if (name != NULL)
		return link_active(st, name, err_r);
	if (unlink(st->active) < 0 && errno != ENOENT)
		return fail(err_r, "remove", st->active);
	return SIEVE_STORE_OK;
}
