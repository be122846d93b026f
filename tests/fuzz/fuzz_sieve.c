/*
 * fuzz_sieve.c - libFuzzer target: a random Sieve script and a random
 * message.  The input is SCRIPT, a line "%%", then MESSAGE; the first
 * byte after "%%\n" (if any) also picks the spam score.
 *
 * sieve_script_parse() must accept or refuse every script with
 * "NAME:LINE: message" lines; an accepted script must evaluate on every
 * message (a crash or timeout of the libsieve child shows up as a failed
 * evaluation, which is a bug here) into a well-formed action list: at
 * least one action, at most one implicit keep (last, beside fileinto
 * :copy only), discard only alone, every
 * fileinto with a folder; a run may only fail by the script's own
 * doing (error, a folder a variable made unsafe...).  It runs with a
 * folder list, a fixed clock and a store of duplicate IDs, so that every
 * extension of issue 13 is reached.  Seed corpus: tests/fixtures/sieve/ (the
 * fuzz-pair-* files are SCRIPT, "%%", MESSAGE) and
 * tests/sieve-conformance/scripts/ (scripts alone are valid inputs).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve.h"

#define NAME "fuzz.sieve"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_result(const struct sieve_result *r)
{
	size_t implicit = 0, discard = 0;

	if (r->n == 0 || r->rule == NULL)
		abort();
	for (size_t i = 0; i < r->n; i++) {
		const struct sieve_action *a = &r->actions[i];

		if (a->type == SIEVE_ACTION_FILEINTO &&
		    (a->mailbox == NULL || a->mailbox[0] == '\0'))
			abort();
		if (a->implicit)
			implicit++;
		if (a->type == SIEVE_ACTION_DISCARD)
			discard++;
		for (size_t j = 0; j < a->nflags; j++)
			if (a->flags[j] == NULL || a->flags[j][0] == '\0')
				abort();
		if (a->flags == NULL || a->flags[a->nflags] != NULL)
			abort();
	}
	/* the implicit keep comes last, beside fileinto :copy only */
	if (implicit > 1 || (implicit && !r->actions[r->n - 1].implicit) ||
	    (discard && r->n != 1))
		abort();
	for (size_t i = 0; implicit && i + 1 < r->n; i++)
		if (r->actions[i].type != SIEVE_ACTION_FILEINTO)
			abort();
}

/* A run may fail by the script's own doing (error, a folder name a
 * variable made unsafe, a regular expression a variable broke, too many
 * duplicate IDs); anything else (a crash, a timeout, garbage) is a
 * bug. */
static int
script_failure(const char *err)
{
	static const char *const own[] = { "the script says",
	    "cannot be a folder name", "regular expression",
	    "duplicate IDs" };

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strstr(err, own[i]) != NULL)
			return 1;
	return 0;
}

/* Every other ID was seen an hour before "now". */
static int
dup_lookup(void *ctx, const char *id, long long *seen_at_r)
{
	*seen_at_r = 1800000000 - 3600;
	return id[0] < '8';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *sep = "\n%%\n";
	const uint8_t *split = NULL;
	struct sieve_script *script = NULL;
	struct sieve_result r;
	char *text, *errors = NULL, *err = NULL;
	const char *msg = "From: a@example.org\nSubject: x\n\nbody\n";
	size_t msg_len = strlen(msg);
	double score = -1;

	for (size_t i = 0; i + 4 <= size; i++) {
		if (memcmp(data + i, sep, 4) == 0) {
			split = data + i;
			break;
		}
	}
	text = malloc((split ? (size_t)(split - data) : size) + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, split ? (size_t)(split - data) : size);
	text[split ? (size_t)(split - data) : size] = '\0';
	if (split != NULL) {
		msg = (const char *)split + 4;
		msg_len = size - (size_t)(split + 4 - data);
		if (msg_len > 0)
			score = msg[0] % 2 ? -1 :
			    (double)(uint8_t)msg[0] / 255.0;
	}
	if (sieve_script_parse(NAME, text, &script, &errors) == 0) {
		if (errors != NULL)
			abort();
		char *boxes[] = { "INBOX", "Junk", "Lists/Dev" };
		struct sieve_env env = { 0 };

		env.score = score;
		env.now = 1800000000;
		env.mailboxes = boxes;
		env.nmailboxes = 3;
		env.dup_lookup = dup_lookup;
		if (sieve_eval_env(script, msg, msg_len, &env, &r, &err) < 0) {
			if (!script_failure(err))
				abort();
			free(err);
		} else {
			check_result(&r);
			sieve_result_release(&r);
		}
		sieve_script_free(&script);
	} else {
		if (script != NULL || errors == NULL)
			abort();
		/* the messages of `mailsift check`: "NAME:LINE: ..." */
		for (const char *line = errors; *line;) {
			const char *nl = strchr(line, '\n');

			if (strncmp(line, NAME ":", strlen(NAME ":")) != 0)
				abort();
			if (nl == NULL)
				break;
			line = nl + 1;
		}
		free(errors);
	}
	free(text);
	return 0;
}
