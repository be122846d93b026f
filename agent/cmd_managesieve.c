/*
 * cmd_managesieve.c - `mailsift managesieve`: reads the service's
 * configuration and runs the ManageSieve server (managesieve.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/commands.h"
#include "agent/config.h"
#include "agent/log.h"
#include "agent/managesieve.h"

#define DEFAULT_CONFIG	"/etc/mailsift/managesieve.json"

static const char usage[] =
    "usage: mailsift managesieve [-c FILE] [-v | --log-level LEVEL]\n"
    "       mailsift managesieve --extensions\n"
    "\n"
    "Serves ManageSieve (RFC 5804, port 4190) for every mailbox whose\n"
    "configuration in config_dir has a sieve_dir: Roundcube, Thunderbird\n"
    "or sieve-connect edit the owner's scripts, checked by mailsift's own\n"
    "checker; SETACTIVE makes one the script the daemon runs.  A login is\n"
    "checked by logging in to that mailbox's IMAP server.\n"
    "\n"
    "  -c, --config FILE   the service's configuration (default\n"
    "                      " DEFAULT_CONFIG ")\n"
    "      --extensions    print the Sieve extensions offered, and exit\n"
    "  -v, --verbose       log every connection (level info)\n"
    "      --log-level L   error, warn, notice (default), info or debug\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 stopped, 1 runtime failure, 2 configuration error.\n";

int
cmd_managesieve(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "extensions", no_argument, NULL, 'e' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct managesieve_config *config = NULL;
	const char *path = DEFAULT_CONFIG, *level_name = NULL;
	char *errors = NULL;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'e': {
			char *ext = managesieve_extensions();

			printf("%s\n", ext);
			free(ext);
			return EXIT_OK;
		}
		case 'v': level_name = "info"; break;
		case 'l': level_name = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mailsift: unexpected argument '%s'\n\n%s",
		    argv[optind], usage);
		return EXIT_USAGE;
	}
	if (managesieve_config_load(path, &config, &errors) < 0) {
		fprintf(stderr, "%s\n", errors);
		free(errors);
		return EXIT_USAGE;
	}
	if (log_set_level_named(level_name, config->log_level) < 0) {
		managesieve_config_free(&config);
		return EXIT_USAGE;
	}
	rc = managesieve_run(config);
	managesieve_config_free(&config);
	return rc;
}
