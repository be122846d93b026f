/*
 * cmd_init.c - `mailsift init`: the first configuration of a mailbox,
 * written and then tried.
 *
 * It owns the guided setup: the options become a configuration that is
 * checked by the same code the daemon uses (config.c) before anything is
 * written, written with mode 0600 (0640 for the daemon's user, see
 * config_reader_group(); never over an existing file without
 * --force), and then tried the way the daemon will use it: connect,
 * verify TLS, log in, list the mailboxes, find Junk and Trash.  Every step
 * says what it found; a failure says what to do, and a certificate that
 * is not trusted is shown (subject, issuer, validity, SHA-256) with how to
 * trust it through imap.ca_file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json.h>
#include <libgen.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/commands.h"
#include "agent/config.h"
#include "agent/xmem.h"

static const char init_usage[] =
    "usage: mailsift init -c FILE --host HOST --user USER [--port P]\n"
    "           [--tls implicit|starttls|none] [--ca-file PEM]\n"
    "           (--password-file F | --password-command CMD)\n"
    "           [--state-dir DIR] [--force]\n"
    "\n"
    "Writes a configuration for one mailbox to FILE (mode 0600; as root,\n"
    "for a password file of another user, such as mailsift: 0640 with that\n"
    "user's group, so that the daemon can read it), then tries\n"
    "it: connects, verifies the server's certificate, logs in, lists the\n"
    "mailboxes and names the Junk and Trash folders mailsift will use and\n"
    "the server capabilities that matter.  FILE is never overwritten\n"
    "without --force.  Every key is described in mailsift.json(5).\n"
    "\n"
    "  -c, --config FILE          the configuration to write, e.g.\n"
    "                             /etc/mailsift/NAME.json\n"
    "      --host HOST            the IMAP server\n"
    "      --user USER            the login name\n"
    "      --port P               default 993 (implicit TLS), else 143\n"
    "      --tls MODE             implicit (default), starttls, or none\n"
    "                             (loopback hosts only)\n"
    "      --ca-file PEM          trust this certificate (or CA) too\n"
    "      --password-file F      a file holding the password (mode 0600)\n"
    "      --password-command CMD a command printing the password\n"
    "      --state-dir DIR        default /var/lib/mailsift/NAME\n"
    "      --force                replace FILE if it exists\n"
    "  -h, --help                 this text\n"
    "\n"
    "Exit status: 0 the configuration works, 1 it was written but the\n"
    "server refused it (see the message), 2 usage error (nothing written).\n";

struct init_options {
	const char *path, *host, *user, *port, *tls, *ca_file;
	const char *password_file, *password_command, *state_dir;
	int force;
};

/* A TCP port given as digits, or -1 (atoi() would take "99999999999"
 * for some other number). */
static int
port_parse(const char *s)
{
	char *end;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
		return -1;
	return (int)v;
}

/* NAME of /dir/NAME.json: the unit's instance name. */
static char *
instance_name(const char *path)
{
	char *copy = xstrdup(path), *base = basename(copy), *name, *dot;

	dot = strrchr(base, '.');
	if (dot != NULL && dot != base && strcmp(dot, ".json") == 0)
		*dot = '\0';
	name = xstrdup(base);
	free(copy);
	return name;
}

/* A path given on the command line, from the current directory: in the
 * file, relative paths would count from the file's directory. */
static char *
from_cwd(const char *path)
{
	char *cwd, *abs;

	if (path[0] == '/' || (cwd = getcwd(NULL, 0)) == NULL)
		return xstrdup(path);
	abs = xasprintf("%s/%s", cwd, path);
	free(cwd);
	return abs;
}

static void
add_path(struct json_object *o, const char *key, const char *path)
{
	char *abs;

	if (path == NULL)
		return;
	abs = from_cwd(path);
	json_object_object_add(o, key, json_object_new_string(abs));
	free(abs);
}

/* The configuration as JSON text (keys in the order of the manual). */
static char *
build_config(const struct init_options *o, const char *name)
{
	struct json_object *root = json_object_new_object();
	struct json_object *imap = json_object_new_object();
	struct json_object *folders = json_object_new_object();
	struct json_object *watch = json_object_new_array();
	char *text, *state;

	json_object_object_add(imap, "host", json_object_new_string(o->host));
	if (o->port != NULL)
		json_object_object_add(imap, "port",
		    json_object_new_int(port_parse(o->port)));
	json_object_object_add(imap, "tls", json_object_new_string(
	    o->tls != NULL ? o->tls : "implicit"));
	add_path(imap, "ca_file", o->ca_file);
	json_object_object_add(imap, "username",
	    json_object_new_string(o->user));
	add_path(imap, "password_file", o->password_file);
	if (o->password_command != NULL)
		json_object_object_add(imap, "password_command",
		    json_object_new_string(o->password_command));
	json_object_object_add(root, "imap", imap);
	json_object_array_add(watch, json_object_new_string("INBOX"));
	json_object_object_add(folders, "watch", watch);
	json_object_object_add(root, "folders", folders);
	state = o->state_dir != NULL ? from_cwd(o->state_dir) :
	    xasprintf("/var/lib/mailsift/%s", name);
	json_object_object_add(root, "state_dir",
	    json_object_new_string(state));
	free(state);
	text = xasprintf("%s\n", json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return text;
}

/* The group that must read the configuration besides its owner: run as
 * root for a password file that belongs to another user (README: the
 * unit's user "mailsift" owns it), that user's group, so the daemon and
 * `sudo -u mailsift mailsift train` can read what root wrote.  Else none
 * (-1): the file is its writer's alone. */
static gid_t
config_reader_group(const struct init_options *o)
{
	const struct passwd *pw;
	struct stat st;

	if (geteuid() != 0 || o->password_file == NULL ||
	    stat(o->password_file, &st) < 0 || st.st_uid == 0)
		return (gid_t)-1;
	pw = getpwuid(st.st_uid);
	return pw != NULL ? pw->pw_gid : st.st_gid;
}

/* Writes text to path, mode 0600, or 0640 with group reader when that is
 * not -1: with force through a temporary file renamed over it, else only
 * if path does not exist. */
static int
write_config(const char *path, const char *text, int force, gid_t reader)
{
	char *tmp = force ? xasprintf("%s.tmp.%ld", path, (long)getpid()) :
	    NULL;
	const char *target = force ? tmp : path;
	size_t len = strlen(text), off = 0;
	int fd, ret = -1;

	fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST && !force)
			fprintf(stderr, "mailsift: %s exists already; give "
			    "--force to replace it (nothing was written)\n",
			    path);
		else
			fprintf(stderr, "mailsift: cannot create %s: %s\n",
			    target, strerror(errno));
		free(tmp);
		return -1;
	}
	/* The umask may have taken bits away, never added: say it anyway. */
	if ((reader != (gid_t)-1 && fchown(fd, (uid_t)-1, reader) < 0) ||
	    fchmod(fd, reader != (gid_t)-1 ? 0640 : 0600) < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (force && rename(tmp, path) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "mailsift: cannot write %s: %s\n", target,
	    strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(target);
out:
	free(tmp);
	return ret;
}

static void
print_certificate(const char *text)
{
	const char *line = text;

	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		int n = nl != NULL ? (int)(nl - line) : (int)strlen(line);

		printf("  %.*s\n", n, line);
		line = nl != NULL ? nl + 1 : NULL;
	}
}

/* How to trust a certificate the server presented. */
static void
explain_trust(const struct config *c)
{
	char *dir = xstrdup(c->path), *pem;

	pem = xasprintf("%s/%s.pem", dirname(dir), c->imap.host);
	printf("\nTo trust this server, first make sure the certificate is "
	    "its own: compare the\nSHA-256 fingerprint with the one its "
	    "administrator gives you.  Then save it\n(or the CA that signed "
	    "it) as PEM and name that file in the configuration:\n"
	    "  openssl s_client -connect %s:%d%s -showcerts </dev/null "
	    "| openssl x509 > %s\n"
	    "  mailsift init -c %s ... --ca-file %s --force\n"
	    "(or add \"ca_file\": \"%s\" to the \"imap\" section of %s).\n",
	    c->imap.host, c->imap.port, c->imap.tls == TLS_STARTTLS ?
	    " -starttls imap" : "", pem, c->path, pem, pem, c->path);
	free(pem);
	free(dir);
}

/* INBOX first, then by name. */
static int
box_order(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int xi = strcasecmp(x, "INBOX") == 0, yi = strcasecmp(y, "INBOX") == 0;

	return xi != yi ? yi - xi : strcmp(x, y);
}

static const char *
yes_no(int v)
{
	return v ? "yes" : "no";
}

/* Tries the configuration as the daemon will use it. */
static int
try_config(const struct config *c, const char *name)
{
	struct store *store = NULL;
	struct account_facts facts = { 0 };
	char *password = NULL, *err = NULL, **boxes = NULL;
	size_t nboxes = 0;
	enum store_status st;
	int rc = EXIT_RUNTIME;

	if (config_password(c, &password, &err) < 0) {
		printf("cannot read the password: %s\n", err);
		goto out;
	}
	if ((store = account_store(c, password, &err)) == NULL) {
		printf("%s\n", err);
		goto out;
	}
	printf("connecting to %s:%d (%s)...\n", c->imap.host, c->imap.port,
	    c->imap.tls == TLS_IMPLICIT ? "implicit TLS" :
	    c->imap.tls == TLS_STARTTLS ? "STARTTLS" : "no TLS");
	st = store->ops->connect(store);
	store->ops->server_info(store, &facts.server);
	if (st != STORE_OK) {
		printf("failed: %s\n", store_last_error(store));
		if (facts.server.certificate != NULL &&
		    !facts.server.certificate_trusted) {
			printf("the server's certificate:\n");
			print_certificate(facts.server.certificate);
			explain_trust(c);
		}
		goto out;
	}
	if (facts.server.certificate != NULL) {
		printf("certificate verified:\n");
		print_certificate(facts.server.certificate);
	}
	printf("logged in as %s\n", c->imap.username);
	store_server_info_release(&facts.server);
	if ((st = account_facts(store, c, &facts)) != STORE_OK ||
	    (st = store->ops->list_boxes(store, &boxes, &nboxes)) !=
	    STORE_OK) {
		printf("failed: %s\n", store_last_error(store));
		goto out;
	}
	printf("capabilities: IDLE %s, MOVE %s, UIDPLUS %s, CONDSTORE %s\n",
	    yes_no(facts.server.idle), yes_no(facts.server.move),
	    yes_no(facts.server.uidplus), yes_no(facts.server.condstore));
	if (!facts.server.idle)
		printf("  without IDLE new mail is found by polling every "
		    "imap.poll_interval seconds\n");
	if (!facts.server.move && !facts.server.uidplus)
		printf("  without MOVE and UIDPLUS a moved message's original "
		    "stays flagged \\Deleted for your mail client to expunge\n");
	qsort(boxes, nboxes, sizeof(*boxes), box_order);
	printf("mailboxes (%zu):", nboxes);
	for (size_t i = 0; i < nboxes; i++)
		printf("%s %s", i > 0 ? "," : "", boxes[i]);
	printf("\njunk folder: %s (%s%s)\n", facts.junk, facts.junk_how,
	    facts.junk_exists ? "" : "; created when first needed");
	printf("trash folder: %s (%s%s)\n", facts.trash, facts.trash_how,
	    facts.trash_exists ? "" : "; created when first needed");
	printf("sorting: %s\n", c->folders.watch[0]);
	printf("\nThe configuration works.  Next steps:\n"
	    "  1. teach the classifier from the mail you sorted already "
	    "(Junk as spam, what you read in INBOX as ham):\n"
	    "       sudo -u mailsift mailsift train -c %s --from-folders\n"
	    "  2. check the configuration and, once you wrote one, your "
	    "Sieve script (\"sieve\" key):\n"
	    "       mailsift check -c %s\n"
	    "  3. start sorting (the first run leaves mail you have read, "
	    "and mail older than %d days, as it is):\n"
	    "       systemctl enable --now mailsift@%s\n",
	    c->path, c->path, c->first_run_days, name);
	if (strncmp(c->path, "/etc/mailsift/", 14) != 0 ||
	    strchr(c->path + 14, '/') != NULL)
		printf("     (the unit reads /etc/mailsift/%s.json: put the "
		    "configuration there)\n", name);
	rc = EXIT_OK;
out:
	store_names_free(boxes, nboxes);
	account_facts_release(&facts);
	store_free(&store);
	config_password_free(&password);
	free(err);
	return rc;
}

int
cmd_init(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "host", required_argument, NULL, 'H' },
		{ "user", required_argument, NULL, 'u' },
		{ "port", required_argument, NULL, 'p' },
		{ "tls", required_argument, NULL, 't' },
		{ "ca-file", required_argument, NULL, 'a' },
		{ "password-file", required_argument, NULL, 'f' },
		{ "password-command", required_argument, NULL, 'C' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct init_options o = { 0 };
	struct config *config = NULL;
	char *name = NULL, *text = NULL, *errors = NULL;
	gid_t reader;
	int opt, rc = EXIT_USAGE;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': o.path = optarg; break;
		case 'H': o.host = optarg; break;
		case 'u': o.user = optarg; break;
		case 'p': o.port = optarg; break;
		case 't': o.tls = optarg; break;
		case 'a': o.ca_file = optarg; break;
		case 'f': o.password_file = optarg; break;
		case 'C': o.password_command = optarg; break;
		case 's': o.state_dir = optarg; break;
		case 'F': o.force = 1; break;
		case 'h': fputs(init_usage, stdout); return EXIT_OK;
		default: fputs(init_usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc || o.path == NULL || o.host == NULL ||
	    o.user == NULL || (o.password_file == NULL) ==
	    (o.password_command == NULL)) {
		fprintf(stderr, "mailsift: %s\n\n%s", optind < argc ?
		    "unexpected argument" : o.path == NULL ? "-c FILE is "
		    "required" : o.host == NULL ? "--host is required" :
		    o.user == NULL ? "--user is required" : "give one of "
		    "--password-file and --password-command", init_usage);
		return EXIT_USAGE;
	}
	if (o.port != NULL && port_parse(o.port) < 0) {
		fprintf(stderr, "mailsift: --port '%s': give a port number "
		    "from 1 to 65535\n", o.port);
		return EXIT_USAGE;
	}
	name = instance_name(o.path);
	text = build_config(&o, name);
	/* The daemon's own checks, before anything is written. */
	if (config_parse_string(text, strlen(text), o.path, &config,
	    &errors) < 0) {
		fprintf(stderr, "%s\nmailsift: nothing was written\n", errors);
		goto out;
	}
	reader = config_reader_group(&o);
	if (write_config(o.path, text, o.force, reader) < 0)
		goto out;
	if (reader != (gid_t)-1) {
		const struct group *gr = getgrgid(reader);

		printf("wrote %s (mode 0640, group %s, as the owner of %s must "
		    "read it)\n", o.path, gr != NULL ? gr->gr_name : "?",
		    o.password_file);
	} else
		printf("wrote %s (mode 0600)\n", o.path);
	rc = try_config(config, name);
	if (rc != EXIT_OK)
		printf("\n%s is written; fix what is said above (mailsift.json(5) "
		    "describes every key), then run mailsift init again with "
		    "--force, or edit it.\n", o.path);
out:
	config_free(&config);
	free(errors);
	free(text);
	free(name);
	return rc;
}
