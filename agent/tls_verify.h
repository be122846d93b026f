/*
 * tls_verify.h - server certificate verification for the IMAP connection.
 *
 * libetpan 1.9.4 built against GnuTLS accepts any certificate (its
 * mailstream_ssl_set_server_certicate() is a stub there), so the store
 * verifies the chain the server presented itself, after the TLS handshake
 * and before LOGIN sends the password.
 */
#ifndef MAILSIFT_TLS_VERIFY_H
#define MAILSIFT_TLS_VERIFY_H

#include <stddef.h>

/* One DER-encoded certificate, leaf first in a chain.  Borrowed. */
struct tls_der {
	const unsigned char *data;
	size_t len;
};

/* Verifies the chain certs[0..n-1] (leaf first, as the server sent it)
 * against the system trust store plus the PEM certificates in ca_file (if
 * not NULL), and that the leaf is valid for host: a DNS name is matched
 * against the DNS names of the certificate, an IPv4/IPv6 literal against
 * its IP address names only.  Returns 0 if the server can be trusted, else
 * -1 with *err_r (malloc'd) naming host, the reason and what to do, e.g.
 * "certificate for 127.0.0.1 is not trusted (self-signed); set
 * imap.ca_file to the server's CA certificate".  The check runs in a
 * forked child (agent/child.c): nothing of the trust store stays in the
 * caller, and a crash or hang of the check is a refusal. */
int tls_verify_chain(const struct tls_der *certs, size_t n, const char *host,
    const char *ca_file, char **err_r);

/* The certificate cert for people, one item per line: "subject: ...",
 * "issuer: ...", "valid: FROM to UNTIL" (UTC), "SHA-256: AB:CD:..." (the
 * fingerprint to compare with what the server's admin says).  Malloc'd;
 * NULL if it cannot be parsed. */
char *tls_describe(const struct tls_der *cert);

/* 1 if host is an IPv4 or IPv6 address literal (no SNI is sent for those,
 * RFC 6066 section 3). */
int tls_host_is_ip(const char *host);

#endif
