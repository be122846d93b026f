/*
 * fuzz_imap_server.c - libFuzzer target: arbitrary bytes as everything an
 * IMAP server says to mailsift.  The IMAP store (store_imap.c over
 * imap_stream.c and libetpan) talks to the input through a socketpair: a
 * thread writes it (then ends the stream) and reads whatever the store
 * sends; the store connects, logs in and runs every operation once.  No
 * crash, no sanitizer report, no leak, and no wait beyond the command
 * deadline: the input ends, so every read ends.  Seed corpus:
 * tests/fuzz/imap_server.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/store_imap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct server {
	int fd;
	const uint8_t *data;
	size_t size;
};

/* Sends the input, closes the sending side, then swallows what the
 * client says until it closes. */
static void *
server_main(void *arg)
{
	struct server *srv = arg;
	char sink[4096];
	size_t off = 0;

	while (off < srv->size) {
		ssize_t n = send(srv->fd, srv->data + off, srv->size - off,
		    MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(srv->fd, SHUT_WR);
	while (recv(srv->fd, sink, sizeof(sink), 0) > 0)
		;
	return NULL;
}

static void
run_operations(struct store *s)
{
	const struct store_ops *ops = s->ops;
	static const char *const add[] = { "\\Seen", "$Junk", NULL };
	static const char *const del[] = { "$NotJunk", NULL };
	struct store_box_info info;
	struct store_msg msg;
	struct store_flags *flags;
	uint32_t uidvalidity, uidnext, new_uid, *uids;
	char **names, *name;
	size_t n;
	int truncated, left, changed;

	if (ops->connect(s) != STORE_OK)
		return;
	if (ops->select(s, "INBOX", &uidvalidity, &uidnext) == STORE_OK)
		ops->box_info(s, &info);
	if (ops->list_uids(s, 1, &uids, &n) == STORE_OK)
		free(uids);
	if (ops->fetch(s, 1, 4096, &msg, &truncated) == STORE_OK)
		store_msg_release(&msg);
	if (ops->list_flags(s, 1, 5, &flags, &n) == STORE_OK)
		store_flags_free(flags, n);
	ops->set_flags(s, 1, add, del);
	ops->copy(s, 1, "Archive", &new_uid);
	ops->move(s, 1, "Junk", &new_uid, &left);
	if (ops->find_message_id(s, "<a@b>", &uids, &n) == STORE_OK)
		free(uids);
	if (ops->list_boxes(s, &names, &n) == STORE_OK)
		store_names_free(names, n);
	if (ops->find_special(s, STORE_SPECIAL_TRASH, &name) == STORE_OK)
		free(name);
	ops->wait(s, 50, -1, &changed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_imap_params params = {
		.host = "127.0.0.1", .port = 143, .tls = TLS_NONE,
		.username = "fuzz", .password = "secret", .timeout = 1,
		.poll_interval = 1, .idle_restart = 60,
	};
	struct server srv = { .data = data, .size = size };
	struct store *s;
	pthread_t thread;
	int sv[2];

	log_set_level(LOG_LEVEL_ERROR);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	srv.fd = sv[1];
	if (pthread_create(&thread, NULL, server_main, &srv) != 0)
		abort();
	s = store_imap_new_on_fd(&params, sv[0]);
	run_operations(s);
	store_free(&s);
	/* The store closed its end: the server's last read sees EOF. */
	pthread_join(thread, NULL);
	close(sv[1]);
	return 0;
}
