/*
 * sieve_bench.c - evaluation speed of the Sieve layer: runs one script on
 * a set of messages many times through sieve_eval() (a fresh libsieve
 * child per message, forked by the script's helper, as in the daemon)
 * and prints messages per second of wall time and per CPU second (parent,
 * helper and children: one core's worth, which a loaded machine disturbs
 * less).
 * Built and run by tests/bench/sieve.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "agent/xmem.h"
#include "sieve/sieve.h"

/* CPU seconds of this process and its reaped children: what one core
 * spends, whatever else the machine runs. */
static double
cpu(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
	    kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) +
	    (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
	    kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) / 1e6;
}

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
	struct sieve_result warm;
	char *err = NULL;
	int rounds, nmsg = argc - 3;
	char **msgs;
	size_t *lens;
	double t0, t, c0, c;
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
	/* the daemon's evaluator helper starts with its first message,
	 * before a backlog is read: here too, not with every message of
	 * the benchmark in its heap */
	if (sieve_eval(script, "\n", 1, 0, &warm, &err) < 0) {
		fprintf(stderr, "eval: %s\n", err);
		return 1;
	}
	sieve_result_release(&warm);
	msgs = xcalloc((size_t)nmsg, sizeof(char *));
	lens = xcalloc((size_t)nmsg, sizeof(size_t));
	for (int i = 0; i < nmsg; i++)
		msgs[i] = slurp(argv[3 + i], &lens[i]);
	t0 = now();
	c0 = cpu();
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
	/* the script's evaluator helper is reaped here: its CPU, and its
	 * children's, counts */
	sieve_script_free(&script);
	t = now() - t0;
	c = cpu() - c0;
	printf("eval: %ld messages in %.2f s: %.0f messages/s "
	    "(%.3f ms each); %.2f CPU s: %.0f messages per CPU second\n",
	    evals, t, (double)evals / t, t * 1000 / (double)evals, c,
	    (double)evals / c);
	for (int i = 0; i < nmsg; i++)
		free(msgs[i]);
	free(msgs);
	free(lens);
	return 0;
}
