/*
 * report.c - writes status.json with json-c (see report.h).
 */
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

int
report_write(struct report *r)
{
	struct json_object *o, *script, *totals;
	char *tmp;
	const char *text;
	FILE *f;
	int fd, rc = -1, written;

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
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

	/* 0600 whatever the umask or a leftover temporary file's mode. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0 || fchmod(fd, 0600) < 0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		log_warn("cannot write %s", tmp);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	written = fprintf(f, "%s\n", text) >= 0;
	if (fclose(f) != 0 || !written) {
		log_warn("cannot write %s", tmp);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, r->path) < 0) {
		log_warn("cannot rename %s to %s", tmp, r->path);
		goto out;
	}
	rc = 0;
out:
	json_object_put(o);
	free(tmp);
	return rc;
}
