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
#include <strings.h>
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

/* What real servers call their Junk and Trash folders when they do not
 * mark them special-use (Exchange and Outlook.com, Yahoo, Gmail, Apple),
 * in the owner's form (store.h owner_name), in order of preference. */
static const char *const junk_names[] = {
	"Junk", "Spam", "Junk Email", "Junk E-mail", "Bulk Mail",
	"[Gmail]/Spam", NULL
};
static const char *const trash_names[] = {
	"Trash", "Deleted Items", "Deleted Messages", "[Gmail]/Trash", NULL
};

/* The first of names (any case) that is among boxes, or NULL. */
static const char *
usual_name(const char *const *names, char *const *boxes, size_t nboxes)
{
	for (size_t i = 0; names[i] != NULL; i++)
		for (size_t k = 0; k < nboxes; k++)
			if (strcasecmp(boxes[k], names[i]) == 0)
				return boxes[k];
	return NULL;
}

enum store_status
account_folders(struct store *store, const struct config *c, char **junk_r,
    char **trash_r)
{
	static const struct {
		enum store_special use;
		const char *what, *attr, *key;
		const char *const *names;
	} folders[] = {
		{ STORE_SPECIAL_JUNK, "junk", "\\Junk", "folders.junk",
		    junk_names },
		{ STORE_SPECIAL_TRASH, "trash", "\\Trash", "folders.trash",
		    trash_names },
	};
	const char *configured[] = { c->folders.junk, c->folders.trash };
	char **slots[] = { junk_r, trash_r };
	char **boxes = NULL;
	size_t nboxes = 0;
	int listed = 0;
	enum store_status st = STORE_OK;

	for (size_t i = 0; i < 2; i++) {
		const char *found;
		char *name = NULL;

		free(*slots[i]);
		*slots[i] = NULL;
		if (configured[i] != NULL) {
			*slots[i] = store->ops->owner_name(store, configured[i]);
			log_info("%s folder '%s': %s in %s", folders[i].what,
			    *slots[i], folders[i].key, c->path);
			continue;
		}
		st = store->ops->find_special(store, folders[i].use, &name);
		if (st != STORE_OK)
			goto out;
		if (name != NULL) {
			*slots[i] = name;
			log_info("%s folder '%s': it carries the %s special-use "
			    "attribute", folders[i].what, name, folders[i].attr);
			continue;
		}
		if (!listed && (st = store->ops->list_boxes(store, &boxes,
		    &nboxes)) != STORE_OK)
			goto out;
		listed = 1;
		if ((found = usual_name(folders[i].names, boxes, nboxes))) {
			*slots[i] = xstrdup(found);
			log_info("%s folder '%s': no folder carries %s, and this "
			    "is the usual name of one", folders[i].what, found,
			    folders[i].attr);
			continue;
		}
		*slots[i] = xstrdup(folders[i].names[0]);
		log_info("%s folder '%s': none exists yet (no folder carries "
		    "%s or a usual name); created when first needed",
		    folders[i].what, *slots[i], folders[i].attr);
	}
out:
	store_names_free(boxes, nboxes);
	return st;
}

/* How name, the folder account_folders() chose for use, was found. */
static enum store_status
folder_how(struct store *store, const char *configured,
    enum store_special use, const char *name, const char **how_r)
{
	enum store_status st;
	char *special = NULL;

	*how_r = "configured";
	if (configured != NULL)
		return STORE_OK;
	st = store->ops->find_special(store, use, &special);
	*how_r = special != NULL && strcmp(special, name) == 0 ?
	    "SPECIAL-USE" : "by name";
	free(special);
	return st;
}

static int
listed(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

enum store_status
account_facts(struct store *store, const struct config *c,
    struct account_facts *f)
{
	enum store_status st;
	char **boxes = NULL;
	size_t n = 0;

	memset(f, 0, sizeof(*f));
	if ((st = store->ops->server_info(store, &f->server)) != STORE_OK ||
	    (st = account_folders(store, c, &f->junk, &f->trash)) !=
	    STORE_OK ||
	    (st = folder_how(store, c->folders.junk, STORE_SPECIAL_JUNK,
	    f->junk, &f->junk_how)) != STORE_OK ||
	    (st = folder_how(store, c->folders.trash, STORE_SPECIAL_TRASH,
	    f->trash, &f->trash_how)) != STORE_OK ||
	    (st = store->ops->list_boxes(store, &boxes, &n)) != STORE_OK)
		return st;
	f->junk_exists = listed(boxes, n, f->junk);
	f->trash_exists = listed(boxes, n, f->trash);
	store_names_free(boxes, n);
	return STORE_OK;
}

void
account_facts_release(struct account_facts *f)
{
	store_server_info_release(&f->server);
	free(f->junk);
	free(f->trash);
	memset(f, 0, sizeof(*f));
}
