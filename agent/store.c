/*
 * store.c - the parts of the store seam shared by every implementation.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/store.h"
#include "agent/xmem.h"

const char *
store_last_error(const struct store *s)
{
	return s->last_error ? s->last_error : "";
}

void
store_set_error(struct store *s, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(s->last_error);
	s->last_error = msg;
}

void
store_free(struct store **s)
{
	if (*s == NULL)
		return;
	free((*s)->last_error);
	(*s)->last_error = NULL;
	(*s)->ops->free(*s);
	*s = NULL;
}

static void
free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
store_msg_release(struct store_msg *msg)
{
	free(msg->data);
	free_strings(msg->flags, msg->nflags);
	msg->data = NULL;
	msg->flags = NULL;
	msg->len = msg->nflags = 0;
}

void
store_flags_free(struct store_flags *flags, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free_strings(flags[i].flags, flags[i].nflags);
	free(flags);
}

void
store_names_free(char **names, size_t n)
{
	free_strings(names, n);
}

void
store_server_info_release(struct store_server_info *info)
{
	free(info->certificate);
	memset(info, 0, sizeof(*info));
}

int
store_has_flag(char *const *flags, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(flags[i], name) == 0)
			return 1;
	return 0;
}

const char *
store_status_name(enum store_status st)
{
	switch (st) {
	case STORE_OK:		return "ok";
	case STORE_MSG_GONE:	return "message gone";
	case STORE_BOX_BAD:	return "mailbox unusable";
	case STORE_CONN_LOST:	return "connection lost";
	case STORE_FATAL:	return "fatal";
	}
	return "unknown";
}
