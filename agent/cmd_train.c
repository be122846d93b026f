/* placeholder: replaced by the module's owner */
#include <stdio.h>
#include "agent/commands.h"
int cmd_train(int argc, char **argv) { fprintf(stderr, "mailsift: %s: not built yet\n", argv[0]); return EXIT_RUNTIME; }
int cmd_score(int argc, char **argv) { fprintf(stderr, "mailsift: %s: not built yet\n", argv[0]); return EXIT_RUNTIME; }
