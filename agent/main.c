/*
 * main.c - the mailsift binary: dispatches to a subcommand.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent/commands.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", cmd_run, "sort a mailbox: wait for new mail and file it" },
	{ "init", cmd_init, "write a first configuration and try it" },
	{ "status", cmd_status, "show recent decisions and the script state" },
	{ "undo", cmd_undo, "move a message back where a decision took it from" },
	{ "train", cmd_train, "learn messages as spam or ham" },
	{ "untrain", cmd_train, "reverse an earlier training exactly" },
	{ "score", cmd_score, "classify a message without learning" },
	{ "check", cmd_check, "validate a Sieve script" },
	{ "sieve-test", cmd_sieve_test, "run a Sieve script on a message" },
	{ "preview", cmd_preview, "show which sorted messages a script would "
	    "file elsewhere" },
	{ "managesieve", cmd_managesieve, "serve the owners' Sieve scripts "
	    "over ManageSieve" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: mailsift COMMAND [OPTIONS] [ARGS]\n"
	    "       mailsift --version | --help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		fprintf(out, "  %-11s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(out, "\nRun 'mailsift COMMAND --help' for the options of a "
	    "command.\n");
}

int
main(int argc, char **argv)
{
	/* A write on a socket the server closed must be an error, not death
	 * (libetpan does not guard against SIGPIPE). */
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("mailsift %s\n", MAILSIFT_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "mailsift: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
