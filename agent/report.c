/*
 * report.c - writes status.json with json-c (see report.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/report.h"
#include "agent/xmem.h"
#include "state/fsfail.h"
#include "state/owner.h"

char *
report_path(const char *state_dir)
{
	return xasprintf("%s/status.json", state_dir);
}

void
report_init(struct report *r, const char *state_dir)
{
	memset(r, 0, sizeof(*r));
	r->path = report_path(state_dir);
	r->state = "starting";
	r->started = time(NULL);
}

void
report_release(struct report *r)
{
	free(r->path);
	free(r->script_errors);
	free(r->last_error);
	free(r->paused);
	json_object_put(r->connection);
	memset(r, 0, sizeof(*r));
}

static void
replace_string(char **slot, const char *value)
{
	free(*slot);
	*slot = value ? xstrdup(value) : NULL;
}

void
report_set_error(struct report *r, const char *error)
{
	replace_string(&r->last_error, error);
}

void
report_set_paused(struct report *r, const char *reason)
{
	replace_string(&r->paused, reason);
}

void
report_set_script_errors(struct report *r, const char *errors)
{
	replace_string(&r->script_errors, errors);
}

static void
add_string(struct json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, value ? json_object_new_string(value) :
	    NULL);
}

/* Writes text to tmp (0600 whatever the umask or a leftover file's mode,
 * state_dir's owner's) and renames it to path, so a reader never sees
 * half a file.  0 or an errno. */
static int
replace_file(const char *path, const char *tmp, const char *text)
{
	FILE *f = NULL;
	int fd, err = 0;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0 || fchmod(fd, 0600) < 0 ||
	    state_file_own(fd, tmp) < 0 || (f = fdopen(fd, "w")) == NULL) {
		err = errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (fprintf(f, "%s\n", text) < 0)
		err = errno;
	if (fclose(f) != 0 && err == 0)
		err = errno;
	if (err == 0 && rename(tmp, path) < 0)
		err = errno;
	if (err != 0)
		unlink(tmp);
	return err;
}

/* On a full disk a new file cannot be written, but the old one's blocks
 * can be: the status file is rewritten in place, so that `mailsift
 * status` can say why sorting waits (a reader may see half a file for
 * that moment).  0 or -1. */
static int
overwrite_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return -1;
	if (pwrite(fd, text, len, 0) == (ssize_t)len &&
	    pwrite(fd, "\n", 1, (off_t)len) == 1 &&
	    ftruncate(fd, (off_t)len + 1) == 0)
		rc = 0;
	close(fd);
	return rc;
}

static void
add_folder(struct json_object *o, const char *key, const char *name,
    const char *how, int exists)
{
	struct json_object *f = json_object_new_object();

	json_object_object_add(f, "name", json_object_new_string(name));
	json_object_object_add(f, "found", json_object_new_string(how));
	json_object_object_add(f, "exists", json_object_new_boolean(exists));
	json_object_object_add(o, key, f);
}

void
report_set_connection(struct report *r, const struct account_facts *f)
{
	const struct {
		const char *name;
		int on;
	} offered[] = {
		{ "IDLE", f->server.idle }, { "MOVE", f->server.move },
		{ "UIDPLUS", f->server.uidplus },
		{ "CONDSTORE", f->server.condstore },
	};
	struct json_object *o = json_object_new_object();
	struct json_object *caps = json_object_new_object();

	json_object_object_add(o, "time", json_object_new_int64(time(NULL)));
	for (size_t i = 0; i < sizeof(offered) / sizeof(*offered); i++)
		json_object_object_add(caps, offered[i].name,
		    json_object_new_boolean(offered[i].on));
	json_object_object_add(o, "capabilities", caps);
	add_folder(o, "junk", f->junk, f->junk_how, f->junk_exists);
	add_folder(o, "trash", f->trash, f->trash_how, f->trash_exists);
	add_string(o, "certificate", f->server.certificate);
	json_object_put(r->connection);
	r->connection = o;
}

int
report_write(struct report *r)
{
	struct json_object *o, *script, *totals;
	char *tmp;
	const char *text;
	int err, rc;

	if (r->path == NULL)
		return 0;
	o = json_object_new_object();
	script = json_object_new_object();
	totals = json_object_new_object();
	tmp = xasprintf("%s.tmp", r->path);

	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	add_string(o, "account", r->account);
	add_string(o, "state", r->state);
	json_object_object_add(o, "started", json_object_new_int64(r->started));
	json_object_object_add(o, "updated",
	    json_object_new_int64(time(NULL)));
	json_object_object_add(o, "last_sync",
	    json_object_new_int64(r->last_sync));
	add_string(o, "last_error", r->last_error);
	add_string(o, "paused", r->paused);
	add_string(script, "path", r->script_path);
	add_string(script, "state", r->script_path == NULL ? "built-in" :
	    r->script_errors ? (r->script_ok ? "edit rejected, previous "
	    "script in force" : "broken") : "ok");
	add_string(script, "errors", r->script_errors);
	json_object_object_add(script, "loaded",
	    json_object_new_int64(r->script_loaded));
	json_object_object_add(o, "script", script);
	json_object_object_add(totals, "seen",
	    json_object_new_int64(r->totals.seen));
	json_object_object_add(totals, "moved",
	    json_object_new_int64(r->totals.moved));
	json_object_object_add(totals, "kept",
	    json_object_new_int64(r->totals.kept));
	json_object_object_add(totals, "known",
	    json_object_new_int64(r->totals.known));
	json_object_object_add(totals, "failed",
	    json_object_new_int64(r->totals.failed));
	json_object_object_add(o, "totals", totals);
	json_object_object_add(o, "connection",
	    json_object_get(r->connection));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

	if ((err = replace_file(r->path, tmp, text)) != 0 &&
	    fsfail_is_full(err) && overwrite_file(r->path, text) == 0)
		err = 0;
	if (err != 0 && err != r->write_errno) {
		char *msg = fsfail_message("write the status file", r->path,
		    err);
		log_warnx("%s", msg);
		free(msg);
	}
	r->write_errno = err;
	rc = err != 0 ? -1 : 0;
	json_object_put(o);
	free(tmp);
	return rc;
}
