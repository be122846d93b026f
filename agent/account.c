/*
 * account.c - from configuration to a mail store (see account.h).
 *
 * libetpan and GnuTLS (with nettle, gmp, p11-kit, sasl, ...) take a few
 * milliseconds to load and initialise, more than scoring a message, so
 * the IMAP store is a module that only the commands talking to a server
 * load.  It is never unloaded: those libraries keep global state.
 */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/log.h"
#include "agent/store_imap.h"
#include "agent/tls_server.h"
#include "agent/xmem.h"

#define IMAP_MODULE "mailsift-imap.so"

typedef struct store *(*store_imap_new_fn)(const struct store_imap_params *);

/* Opens the module beside the executable (a build tree), else the
 * installed one. */
static void *
module_open(char **err_r)
{
	char exe[PATH_MAX], *path;
	ssize_t n;
	void *h = NULL;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		path = xasprintf("%s/%s", dirname(exe), IMAP_MODULE);
		if (access(path, R_OK) == 0)
			h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL && access(path, R_OK) == 0)
			*err_r = xasprintf("cannot load %s: %s", path,
			    dlerror());
		free(path);
		if (h != NULL || *err_r != NULL)
			return h;
	}
	path = xasprintf("%s/%s", MAILSIFT_LIBDIR, IMAP_MODULE);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		*err_r = xasprintf("cannot load the IMAP module %s: %s; "
		    "reinstall mailsift", path, dlerror());
	free(path);
	return h;
}

/* The module, opened once and checked to be from this mailsift. */
static void *
module_handle(char **err_r)
{
	static void *handle;
	const char *version;
	void *h;

	if (handle != NULL)
		return handle;
	*err_r = NULL;
	if ((h = module_open(err_r)) == NULL)
		return NULL;
	version = dlsym(h, "store_imap_module_version");
	if (version == NULL || strcmp(version, MAILSIFT_VERSION) != 0) {
		*err_r = xasprintf("the IMAP module %s is not from mailsift "
		    "%s; reinstall mailsift", IMAP_MODULE, MAILSIFT_VERSION);
		dlclose(h);
		return NULL;
	}
	handle = h;
	return handle;
}

/* A symbol of the module, or NULL with *err_r set. */
static void *
module_symbol(const char *name, char **err_r)
{
	void *h = module_handle(err_r), *sym;

	if (h == NULL)
		return NULL;
	if ((sym = dlsym(h, name)) == NULL)
		*err_r = xasprintf("the IMAP module %s lacks %s; reinstall "
		    "mailsift", IMAP_MODULE, name);
	return sym;
}

static store_imap_new_fn
module_entry(char **err_r)
{
	store_imap_new_fn entry;

	*(void **)&entry = module_symbol("store_imap_new", err_r);
	return entry;
}

const struct tls_server_ops *
account_tls_server(char **err_r)
{
	return module_symbol("tls_server_module_ops", err_r);
}

/* An OAuth2 access token expires within the hour: the store asks for a
 * fresh one, from the file or the command, before every later login. */
static int
renew_token(void *arg, char **token_r, char **err_r)
{
	return config_password(arg, token_r, err_r);
}

struct store *
account_store(const struct config *c, const char *password, char **err_r)
{
	store_imap_new_fn store_new = module_entry(err_r);
	struct store_imap_params p = {
		.host = c->imap.host,
		.port = c->imap.port,
		.tls = c->imap.tls,
		.ca_file = c->imap.ca_file,
		.username = c->imap.username,
		.auth = c->imap.auth,
		.password = password,
		.renew_secret = c->imap.auth != AUTH_PASSWORD ? renew_token :
		    NULL,
		.renew_arg = (void *)c,
		.timeout = c->imap.timeout,
		.poll_interval = c->imap.poll_interval,
		.idle_restart = c->imap.idle_restart,
	};

	return store_new != NULL ? store_new(&p) : NULL;
}

enum store_status
account_folders(struct store *store, const struct config *c, char **junk_r,
    char **trash_r)
{
	static const struct {
		enum store_special use;
		const char *fallback;
	} specials[] = {
		{ STORE_SPECIAL_JUNK, "Junk" },
		{ STORE_SPECIAL_TRASH, "Trash" },
	};
	const char *configured[] = { c->folders.junk, c->folders.trash };
	char **slots[] = { junk_r, trash_r };

	for (size_t i = 0; i < 2; i++) {
		char *name = NULL;
		enum store_status st;

		free(*slots[i]);
		*slots[i] = NULL;
		if (configured[i] != NULL) {
			*slots[i] = xstrdup(configured[i]);
			continue;
		}
		st = store->ops->find_special(store, specials[i].use, &name);
		if (st != STORE_OK)
			return st;
		*slots[i] = name ? name : xstrdup(specials[i].fallback);
	}
	log_info("junk folder '%s', trash folder '%s'", *junk_r, *trash_r);
	return STORE_OK;
}
