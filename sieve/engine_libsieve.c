/*
 * engine_libsieve.c - the only file that knows libsieve 2.2.6 exists.
 *
 * It runs the script lang.c rewrote, with one fresh context per call (a
 * reused context leaks imap4flags state and header data between
 * messages, and two live contexts crash), and always with our own
 * GETHEADER callback (libsieve's header parser crashes on malformed
 * mail).  libsieve returns OK for broken scripts and then runs part of
 * them, so any parse error it reports through the callback is a failure.
 * The caller runs this in a forked child: libsieve can still crash or
 * leak, and that must not reach the daemon.
 */
#include <stddef.h>
#include <sieve2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/xmem.h"
#include "sieve/sieve_int.h"

struct run {
	const char *script;
	const char *name;		/* validate: prefix of messages */
	const struct sv_engine_msg *msg;	/* NULL when validating */
	struct buf errs;
	int nparse;
	int nruntime;
};

static int
cb_getscript(sieve2_context_t *c, void *u)
{
	struct run *r = u;

	sieve2_setvalue_string(c, "script", (char *)r->script);
	return SIEVE2_OK;
}

static int
cb_getheader(sieve2_context_t *c, void *u)
{
	struct run *r = u;
	const char *name = sieve2_getvalue_string(c, "header");
	static char *none[] = { NULL };
	char **v = none;

	if (r->msg != NULL && name != NULL)
		v = r->msg->get_header(r->msg->ctx, name);
	sieve2_setvalue_stringlist(c, "body", v ? v : none);
	return SIEVE2_OK;
}

static int
cb_getsize(sieve2_context_t *c, void *u)
{
	struct run *r = u;
	size_t n = r->msg ? r->msg->size : 0;

	sieve2_setvalue_int(c, "size", n > 0x7fffffff ? 0x7fffffff : (int)n);
	return SIEVE2_OK;
}

static int
cb_fileinto(sieve2_context_t *c, void *u)
{
	struct run *r = u;
	const char *mb = sieve2_getvalue_string(c, "mailbox");
	size_t plen = strlen(SV_OP_PREFIX);
	char *end;
	unsigned long op;

	if (r->msg == NULL)
		return SIEVE2_OK;
	if (mb == NULL || strncmp(mb, SV_OP_PREFIX, plen) != 0) {
		buf_printf(&r->errs, "libsieve filed into an unknown folder\n");
		r->nruntime++;
		return SIEVE2_OK;
	}
	op = strtoul(mb + plen, &end, 10);
	if (*end != '\0' || r->msg->on_op(r->msg->ctx, (size_t)op) < 0) {
		buf_printf(&r->errs, "libsieve ran an unknown statement\n");
		r->nruntime++;
	}
	return SIEVE2_OK;
}

/* The rewritten script never keeps, discards or redirects by itself. */
static int
cb_unexpected(sieve2_context_t *c, void *u)
{
	struct run *r = u;

	if (r->msg != NULL) {
		buf_printf(&r->errs, "libsieve took an action the script "
		    "does not contain\n");
		r->nruntime++;
	}
	return SIEVE2_OK;
}

static int
cb_parse_error(sieve2_context_t *c, void *u)
{
	struct run *r = u;
	const char *msg = sieve2_getvalue_string(c, "message");

	char *clean = xstrdup(msg ? msg : "syntax error");

	for (char *p = clean; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	buf_printf(&r->errs, "%s:%d: %s\n", r->name,
	    sieve2_getvalue_int(c, "lineno"), clean);
	free(clean);
	r->nparse++;
	return SIEVE2_OK;
}

static int
cb_runtime_error(sieve2_context_t *c, void *u)
{
	struct run *r = u;
	const char *msg = sieve2_getvalue_string(c, "message");

	buf_printf(&r->errs, "runtime error: %s\n", msg ? msg : "unknown");
	r->nruntime++;
	return SIEVE2_OK;
}

/* The rewritten script has no address test; a bad header line is
 * skipped.  Neither stops the script. */
static int
cb_ignore(sieve2_context_t *c, void *u)
{
	return SIEVE2_OK;
}

static int
run_libsieve(struct run *r, int execute)
{
	sieve2_callback_t cbs[] = {
		{ SIEVE2_SCRIPT_GETSCRIPT, cb_getscript },
		{ SIEVE2_MESSAGE_GETHEADER, cb_getheader },
		{ SIEVE2_MESSAGE_GETSIZE, cb_getsize },
		{ SIEVE2_ACTION_FILEINTO, cb_fileinto },
		{ SIEVE2_ACTION_KEEP, cb_unexpected },
		{ SIEVE2_ACTION_DISCARD, cb_unexpected },
		{ SIEVE2_ACTION_REDIRECT, cb_unexpected },
		{ SIEVE2_ERRCALL_PARSE, cb_parse_error },
		{ SIEVE2_ERRCALL_RUNTIME, cb_runtime_error },
		{ SIEVE2_ERRCALL_ADDRESS, cb_ignore },
		{ SIEVE2_ERRCALL_HEADER, cb_ignore },
		{ 0, NULL }
	};
	sieve2_context_t *ctx = NULL;
	int rc;

	if ((rc = sieve2_alloc(&ctx)) != SIEVE2_OK) {
		buf_printf(&r->errs, "libsieve: %s\n", sieve2_errstr(rc));
		return -1;
	}
	rc = sieve2_callbacks(ctx, cbs);
	if (rc == SIEVE2_OK)
		rc = execute ? sieve2_execute(ctx, r) : sieve2_validate(ctx, r);
	if (rc != SIEVE2_OK)
		buf_printf(&r->errs, "libsieve: %s\n", sieve2_errstr(rc));
	sieve2_free(&ctx);
	return rc == SIEVE2_OK && r->nparse == 0 && r->nruntime == 0 ? 0 : -1;
}

static void
run_release(struct run *r)
{
	buf_release(&r->errs);
}

int
sv_engine_run(const char *script, const struct sv_engine_msg *msg,
    char **err_r)
{
	struct run r = { 0 };
	int ret;

	r.script = script;
	r.name = "script";
	r.msg = msg;
	ret = run_libsieve(&r, 1);
	if (ret < 0)
		*err_r = buf_steal(&r.errs);
	run_release(&r);
	return ret;
}

int
sv_engine_validate(const char *name, const char *script, char **errors_r)
{
	struct run r = { 0 };
	int ret;

	r.script = script;
	r.name = name;
	ret = run_libsieve(&r, 0);
	if (ret < 0)
		*errors_r = buf_steal(&r.errs);
	run_release(&r);
	return ret;
}
