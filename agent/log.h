/*
 * log.h - leveled logging to stderr (systemd-friendly) for every module.
 *
 * Leaf header: includes only libc, so sieve/ and state/ may use it.
 * Lines go to stderr as "<N>mailsift: message" when stderr is not a terminal
 * (journald reads the <N> priority prefix), plain "mailsift: level: message"
 * on a terminal.  Never log passwords, message bodies or tokens.
 * Style: lowercase, no trailing period, what failed first, quote names:
 *   log_warnx("cannot move uid %u to '%s': %s", uid, box, err);
 */
#ifndef MAILSIFT_LOG_H
#define MAILSIFT_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/* Messages above this level are dropped.  Default: LOG_LEVEL_NOTICE. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "error", "warn", "notice", "info" or "debug"; -1 if unknown. */
int log_level_parse(const char *name, enum log_level *level_r);

/* The level of a command with -v / --log-level: name (from the command
 * line) if not NULL, else configured (the configuration's log_level) if
 * not NULL; else the level stays.  An unknown name is reported on stderr
 * with the known ones, and -1 returned with the level unchanged. */
int log_set_level_named(const char *name, const char *configured);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs at error level and exits with the given status.  Startup only. */
void fatalx(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
