/*
 * commands.h - the subcommands of the mailsift binary.  Each takes the
 * arguments after the subcommand name (argv[0] is the subcommand) and
 * returns the process exit status: 0 ok, 1 runtime failure, 2 usage or
 * configuration error.
 */
#ifndef MAILSIFT_COMMANDS_H
#define MAILSIFT_COMMANDS_H

#define EXIT_OK		0
#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

int cmd_run(int argc, char **argv);		/* cmd_run.c */
int cmd_status(int argc, char **argv);		/* cmd_run.c */
int cmd_undo(int argc, char **argv);		/* cmd_undo.c */
int cmd_train(int argc, char **argv);		/* cmd_train.c: train, untrain */
int cmd_score(int argc, char **argv);		/* cmd_train.c */
int cmd_check(int argc, char **argv);		/* cmd_sieve.c */
int cmd_sieve_test(int argc, char **argv);	/* cmd_sieve.c */
int cmd_preview(int argc, char **argv);		/* cmd_preview.c */
int cmd_managesieve(int argc, char **argv);	/* cmd_managesieve.c */
int cmd_init(int argc, char **argv);		/* cmd_init.c */

#endif
