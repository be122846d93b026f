/*
 * imap_safe.h - libetpan 1.9.4 calls that a broken or hostile server can
 * crash, made safe.  Found by tests/fuzz/fuzz_imap_server.c; each wrapper
 * says which answer crashed the plain call and why.  Use these instead of
 * the libetpan functions they wrap.
 */
#ifndef MAILSIFT_IMAP_SAFE_H
#define MAILSIFT_IMAP_SAFE_H

#include <libetpan/libetpan.h>

/* mailimap_capability().  Crashed on an OK without any CAPABILITY data
 * when the session knew no capabilities yet (it copies the session's list
 * unchecked): the server then has none. */
int imap_safe_capability(mailimap *imap,
    struct mailimap_capability_data **caps_r);

/* mailimap_has_extension() and mailimap_has_authentication().  Crashed
 * after an empty "[CAPABILITY]" response code (a list object without its
 * list): that is no capability at all. */
int imap_safe_has_extension(mailimap *imap, const char *name);
int imap_safe_has_authentication(mailimap *imap, const char *mechanism);

#endif
