/*
 * namespace.c - mailbox names between the owner's form and the server's
 * (see namespace.h).
 *
 * INBOX is special in both directions (RFC 3501 5.1: case-insensitive), and
 * so is the "INBOX" part of a prefix such as Courier's "INBOX.", which
 * clients may write in any case.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/namespace.h"
#include "agent/xmem.h"

void
namespace_init(struct namespace_map *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns->prefix = xstrdup("");
	ns->sep = '/';
}

void
namespace_release(struct namespace_map *ns)
{
	free(ns->prefix);
	for (size_t i = 0; i < ns->nothers; i++)
		free(ns->others[i]);
	free(ns->others);
	memset(ns, 0, sizeof(*ns));
}

void
namespace_set_personal(struct namespace_map *ns, const char *prefix, char sep)
{
	free(ns->prefix);
	ns->prefix = xstrdup(prefix);
	ns->sep = sep;
}

void
namespace_add_other(struct namespace_map *ns, const char *prefix)
{
	if (prefix[0] == '\0')
		return;		/* would match every name */
	ns->others = xreallocarray(ns->others, ns->nothers + 1,
	    sizeof(*ns->others));
	ns->others[ns->nothers++] = xstrdup(prefix);
}

static int
is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* 1 if name starts with prefix; the five letters of a leading "INBOX" in
 * the prefix match in any case. */
static int
has_prefix(const char *name, const char *prefix)
{
	size_t n = strlen(prefix), k = 0;

	if (n == 0 || strlen(name) < n)
		return 0;
	if (n >= 5 && strncasecmp(prefix, "INBOX", 5) == 0) {
		if (strncasecmp(name, prefix, 5) != 0)
			return 0;
		k = 5;
	}
	return strncmp(name + k, prefix + k, n - k) == 0;
}

/* A copy of name with every from replaced by to. */
static char *
replace_sep(const char *name, char from, char to)
{
	char *out = xstrdup(name);

	if (from == to || from == '\0' || to == '\0')
		return out;
	for (char *p = out; *p != '\0'; p++)
		if (*p == from)
			*p = to;
	return out;
}

static int
in_other_namespace(const struct namespace_map *ns, const char *name)
{
	for (size_t i = 0; i < ns->nothers; i++)
		if (has_prefix(name, ns->others[i]))
			return 1;
	return 0;
}

char *
namespace_to_server(const struct namespace_map *ns, const char *name)
{
	char *conv, *out;
	size_t n;

	if (is_inbox(name))
		return xstrdup("INBOX");
	conv = replace_sep(name, '/', ns->sep);
	if (ns->prefix[0] == '\0' || in_other_namespace(ns, conv))
		return conv;
	n = strlen(ns->prefix);
	if (has_prefix(conv, ns->prefix)) {
		/* Already the server's form; the prefix as the server
		 * spells it ("inbox.Junk" -> "INBOX.Junk"). */
		out = xasprintf("%s%s", ns->prefix, conv + n);
	} else {
		out = xasprintf("%s%s", ns->prefix, conv);
	}
	free(conv);
	return out;
}

char *
namespace_to_owner(const struct namespace_map *ns, const char *name)
{
	size_t n = strlen(ns->prefix);

	if (is_inbox(name))
		return xstrdup("INBOX");
	if (!in_other_namespace(ns, name) && has_prefix(name, ns->prefix) &&
	    name[n] != '\0')
		name += n;
	return replace_sep(name, ns->sep, '/');
}
