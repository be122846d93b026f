/*
 * fuzz_config.c - libFuzzer target: arbitrary bytes as a configuration
 * file.  config_parse_string() must accept or refuse every input with a
 * message, without crashing, leaking or reading out of bounds.  It never
 * reads the password, so no command from the input is ever run.  Seed
 * corpus: tests/fixtures/config/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"

#define PATH "/fuzz/config.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *config = NULL;
	char *errors = NULL;

	if (config_parse_string((const char *)data, size, PATH, &config,
	    &errors) == 0) {
		/* Accepted: what the rest of mailsift relies on holds. */
		if (config->imap.host == NULL || config->state_dir == NULL ||
		    config->folders.nwatch == 0 ||
		    (config->imap.password_file == NULL) ==
		    (config->imap.password_command == NULL) ||
		    config->ham_threshold > config->spam_threshold ||
		    errors != NULL)
			abort();
		config_free(&config);
	} else {
		if (config != NULL || errors == NULL)
			abort();
		/* One problem per line, each naming the file: no input may
		 * smuggle a line break into a message. */
		for (const char *line = errors; line != NULL;
		    line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
			if (strncmp(line, PATH ": ", strlen(PATH ": ")) != 0)
				abort();
		free(errors);
	}
	return 0;
}
