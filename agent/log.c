/*
 * log.c - the one place that writes log lines.
 *
 * Modelled on OpenSMTPD's log.c: one formatter, thin level wrappers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/log.h"

static enum log_level current_level = LOG_LEVEL_NOTICE;

static const char *const level_names[] = {
	"error", "warn", "notice", "info", "debug"
};

/* syslog priorities for the journald "<N>" prefix, by level. */
static const int level_priority[] = { 3, 4, 5, 6, 7 };

void
log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level
log_get_level(void)
{
	return current_level;
}

int
log_level_parse(const char *name, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(*level_names); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int
log_set_level_named(const char *name, const char *configured)
{
	enum log_level level;

	if (name == NULL)
		name = configured;
	if (name == NULL)
		return 0;
	if (log_level_parse(name, &level) < 0) {
		fprintf(stderr, "mailsift: unknown log level '%s': use error, "
		    "warn, notice, info or debug\n", name);
		return -1;
	}
	log_set_level(level);
	return 0;
}

static void
log_vwrite(enum log_level level, const char *suffix, const char *fmt,
    va_list ap)
{
	char line[2048];

	if (level > current_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "mailsift: %s: %s%s%s\n", level_names[level],
		    line, suffix ? ": " : "", suffix ? suffix : "");
	else
		fprintf(stderr, "<%d>mailsift: %s%s%s\n", level_priority[level],
		    line, suffix ? ": " : "", suffix ? suffix : "");
}

#define LOG_WRAPPER(name, level) \
void \
name(const char *fmt, ...) \
{ \
	va_list ap; \
	va_start(ap, fmt); \
	log_vwrite(level, NULL, fmt, ap); \
	va_end(ap); \
}

LOG_WRAPPER(log_error, LOG_LEVEL_ERROR)
LOG_WRAPPER(log_warnx, LOG_LEVEL_WARN)
LOG_WRAPPER(log_notice, LOG_LEVEL_NOTICE)
LOG_WRAPPER(log_info, LOG_LEVEL_INFO)
LOG_WRAPPER(log_debug, LOG_LEVEL_DEBUG)

void
log_warn(const char *fmt, ...)
{
	const char *err = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, err, fmt, ap);
	va_end(ap);
}

void
fatalx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(status);
}
