/*
 * sieve_bench.c - evaluation speed of the Sieve layer: runs one script on
 * a set of messages many times through sieve_eval() (a forked libsieve
 * child per message, as the daemon does) and prints messages per second.
 * Built and run by tests/bench/sieve.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/xmem.h"
#include "sieve/sieve.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *len_r)
{
	struct buf b = { 0 };
	char chunk[65536];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	*len_r = b.len;
	return buf_steal(&b);
}

int
main(int argc, char **argv)
{
	struct sieve_script *script = NULL;
	char *err = NULL;
	int rounds, nmsg = argc - 3;
	char **msgs;
	size_t *lens;
	double t0, t;
	long evals = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: sieve_bench ROUNDS SCRIPT MSG...\n");
		return 2;
	}
	rounds = atoi(argv[1]);
	t0 = now();
	for (int i = 0; i < 100; i++) {
		sieve_script_free(&script);
		if (sieve_script_load(argv[2], &script, &err) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	}
	printf("load+check: %.2f ms per script\n", (now() - t0) * 1000 / 100);
	msgs = xcalloc((size_t)nmsg, sizeof(char *));
	lens = xcalloc((size_t)nmsg, sizeof(size_t));
	for (int i = 0; i < nmsg; i++)
		msgs[i] = slurp(argv[3 + i], &lens[i]);
	t0 = now();
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < nmsg; i++) {
			struct sieve_result res;

			if (sieve_eval(script, msgs[i], lens[i],
			    (double)((r + i) % 100) / 100, &res, &err) < 0) {
				fprintf(stderr, "eval: %s\n", err);
				return 1;
			}
			sieve_result_release(&res);
			evals++;
		}
	}
	t = now() - t0;
	printf("eval: %ld messages in %.2f s: %.0f messages/s "
	    "(%.3f ms each)\n", evals, t, (double)evals / t,
	    t * 1000 / (double)evals);
	for (int i = 0; i < nmsg; i++)
		free(msgs[i]);
	free(msgs);
	free(lens);
	sieve_script_free(&script);
	return 0;
}
