/*
 * imap_safe.c - libetpan calls made safe against hostile answers, see
 * imap_safe.h.  Each wrapper sets up the session so that the plain call's
 * unchecked assumption holds, then makes it.
 */
#include <stdlib.h>

#include "agent/imap_safe.h"

int
imap_safe_capability(mailimap *imap, struct mailimap_capability_data **caps_r)
{
	struct mailimap_connection_info *ci = imap->imap_connection_info;

	if (ci != NULL && ci->imap_capability == NULL) {
		clist *none = clist_new();

		if (none == NULL ||
		    (ci->imap_capability = mailimap_capability_data_new(none))
		    == NULL)
			abort();
	}
	return mailimap_capability(imap, caps_r);
}

/* 1 if the session holds a list of capabilities to look into. */
static int
has_list(mailimap *imap)
{
	struct mailimap_connection_info *ci = imap->imap_connection_info;

	return ci != NULL && ci->imap_capability != NULL &&
	    ci->imap_capability->cap_list != NULL;
}

int
imap_safe_has_extension(mailimap *imap, const char *name)
{
	return has_list(imap) && mailimap_has_extension(imap, name);
}

int
imap_safe_has_authentication(mailimap *imap, const char *mechanism)
{
	return has_list(imap) &&
	    mailimap_has_authentication(imap, mechanism);
}
