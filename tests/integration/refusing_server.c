/*
 * refusing_server.c - an IMAP server that refuses every client, the way
 * an overloaded or restarting server does, for the exit-status tests
 * (t_run_transient_exit.sh).
 *
 * Usage: refusing_server MODE PORTFILE
 * Listens on 127.0.0.1 (a free port, written to PORTFILE once listening)
 * and treats every connection as MODE says, until killed:
 *   close    accept, then close at once (a refused TLS handshake: the
 *            login process had no room for the client)
 *   bye      greet with "* BYE Too many connections" and close
 *   silent   accept and never answer (a server too busy to greet)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SILENT_MAX	64	/* held connections in "silent" mode */

static int
listen_loopback(const char *portfile)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	FILE *f;
	int fd, one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || bind(fd, (struct sockaddr *)&a,
	    sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("refusing_server: cannot listen on 127.0.0.1");
		return -1;
	}
	/* Written whole under another name, then renamed: a reader never
	 * sees half a port number. */
	{
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((f = fopen(tmp, "w")) == NULL ||
		    fprintf(f, "%u\n", ntohs(a.sin_port)) < 0 ||
		    fclose(f) != 0 || rename(tmp, portfile) < 0) {
			perror("refusing_server: cannot write the port file");
			return -1;
		}
	}
	return fd;
}

int
main(int argc, char **argv)
{
	static const char bye[] = "* BYE Too many connections, try later\r\n";
	int held[SILENT_MAX], nheld = 0, fd, c;

	if (argc != 3 || (strcmp(argv[1], "close") != 0 &&
	    strcmp(argv[1], "bye") != 0 && strcmp(argv[1], "silent") != 0)) {
		fprintf(stderr, "usage: refusing_server close|bye|silent "
		    "PORTFILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((fd = listen_loopback(argv[2])) < 0)
		return 1;
	for (;;) {
		if ((c = accept(fd, NULL, NULL)) < 0)
			continue;
		if (strcmp(argv[1], "silent") == 0) {
			if (nheld == SILENT_MAX)
				close(held[--nheld]);
			held[nheld++] = c;
			continue;
		}
		if (strcmp(argv[1], "bye") == 0 &&
		    write(c, bye, sizeof(bye) - 1) < 0)
			perror("refusing_server: write");
		close(c);
	}
}
