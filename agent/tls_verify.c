/*
 * tls_verify.c - verifies the IMAP server's certificate chain and host
 * name with GnuTLS, see tls_verify.h.
 *
 * It owns the choice of trust anchors (system store plus imap.ca_file), the
 * host-name rule (IP literals only match IP address names) and the wording
 * of every refusal: the user sees one line saying which host, why, and what
 * to change, because a silent downgrade is never an option.
 *
 * The check runs in a child process: parsing the system store (some 140
 * certificates, through p11-kit) touches about half a megabyte of library
 * code and heap that a daemon idling for days would otherwise keep.
 */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/child.h"
#include "agent/log.h"
#include "agent/tls_verify.h"
#include "agent/xmem.h"

/* Reading the system store takes tens of milliseconds; a minute means
 * something is stuck. */
#define VERIFY_TIMEOUT_MS	60000

int
tls_host_is_ip(const char *host)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

/* The names the leaf certificate is valid for, for the mismatch message:
 * its DNS and IP subject alternative names, else its common name. */
static char *
cert_names(gnutls_x509_crt_t crt)
{
	struct buf b = { 0 };
	char name[256], ip[INET6_ADDRSTRLEN];
	size_t size;
	int type;

	for (unsigned seq = 0;; seq++) {
		const char *shown = NULL;

		size = sizeof(name) - 1;
		type = gnutls_x509_crt_get_subject_alt_name(crt, seq, name,
		    &size, NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_SAN_DNSNAME) {
			name[size] = '\0';
			shown = name;
		} else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 ||
		    size == 16)) {
			shown = inet_ntop(size == 4 ? AF_INET : AF_INET6, name,
			    ip, sizeof(ip));
		}
		if (shown == NULL)
			continue;
		buf_printf(&b, "%s%s", b.len > 0 ? ", " : "", shown);
	}
	if (b.len == 0) {
		size = sizeof(name);
		if (gnutls_x509_crt_get_dn_by_oid(crt,
		    GNUTLS_OID_X520_COMMON_NAME, 0, 0, name, &size) == 0)
			buf_appends(&b, name);
		else
			buf_appends(&b, "no host name");
	}
	return buf_steal(&b);
}

/* Turns a non-zero verification status into the user's message. */
static char *
describe_failure(unsigned status, gnutls_x509_crt_t *crts, size_t n,
    const char *host, const char *ca_file)
{
	const char *hint = ca_file != NULL
	    ? "check that imap.ca_file is the CA that signed the server's "
	      "certificate"
	    : "set imap.ca_file to the server's CA certificate";
	gnutls_datum_t text = { NULL, 0 };
	char *names, *msg;

	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
		int self = n == 1 && gnutls_x509_crt_check_issuer(crts[0],
		    crts[0]);

		return xasprintf("certificate for %s is not trusted (%s); %s",
		    host, self ? "self-signed" : "issuer unknown", hint);
	}
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER) {
		names = cert_names(crts[0]);
		msg = xasprintf("certificate for %s does not match the host "
		    "name (it is valid for %s); set imap.host to a name the "
		    "certificate covers", host, names);
		free(names);
		return msg;
	}
	if (status & GNUTLS_CERT_EXPIRED)
		return xasprintf("certificate for %s has expired; the server "
		    "needs a new certificate (or check the clock)", host);
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		return xasprintf("certificate for %s is not valid yet; check "
		    "the clock", host);
	if (status & GNUTLS_CERT_REVOKED)
		return xasprintf("certificate for %s has been revoked", host);
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		return xasprintf("certificate for %s uses an insecure "
		    "signature algorithm", host);
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return xasprintf("certificate for %s is not meant for a TLS "
		    "server", host);
	if (gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &text, 0) == 0) {
		msg = xasprintf("certificate for %s is not trusted: %s", host,
		    (const char *)text.data);
		gnutls_free(text.data);
		return msg;
	}
	return xasprintf("certificate for %s is not trusted (status 0x%x)",
	    host, status);
}

static int
verify_chain(const struct tls_der *certs, size_t n, const char *host,
    const char *ca_file, char **err_r)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t *crts = NULL;
	gnutls_typed_vdata_st vdata[2];
	unsigned char ip[16];
	unsigned status = 0;
	size_t ncrts = 0;
	int ret = -1, r;

	if (n == 0) {
		*err_r = xasprintf("%s sent no certificate", host);
		goto out;
	}
	if ((r = gnutls_x509_trust_list_init(&tl, 0)) < 0) {
		*err_r = xasprintf("cannot verify certificate for %s: %s",
		    host, gnutls_strerror(r));
		tl = NULL;
		goto out;
	}
	/* A machine without a system store can still use ca_file. */
	if ((r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0)) < 0)
		log_debug("no system trust store: %s", gnutls_strerror(r));
	if (ca_file != NULL) {
		r = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
		if (r < 0 && r != GNUTLS_E_NO_CERTIFICATE_FOUND) {
			*err_r = xasprintf("cannot verify certificate for "
			    "%s: cannot read imap.ca_file '%s': %s", host,
			    ca_file, gnutls_strerror(r));
			goto out;
		}
		if (r <= 0) {
			*err_r = xasprintf("cannot verify certificate for "
			    "%s: imap.ca_file '%s' holds no PEM certificate",
			    host, ca_file);
			goto out;
		}
	}
	crts = xcalloc(n, sizeof(*crts));
	for (ncrts = 0; ncrts < n; ncrts++) {
		gnutls_datum_t d = {
			(unsigned char *)certs[ncrts].data,
			(unsigned)certs[ncrts].len
		};

		if ((r = gnutls_x509_crt_init(&crts[ncrts])) < 0) {
			*err_r = xasprintf("cannot verify certificate for "
			    "%s: %s", host, gnutls_strerror(r));
			goto out;
		}
		if ((r = gnutls_x509_crt_import(crts[ncrts], &d,
		    GNUTLS_X509_FMT_DER)) < 0) {
			ncrts++;
			*err_r = xasprintf("certificate %zu from %s cannot be "
			    "parsed: %s", ncrts, host, gnutls_strerror(r));
			goto out;
		}
	}

	memset(vdata, 0, sizeof(vdata));
	if (inet_pton(AF_INET, host, ip) == 1) {
		vdata[0].type = GNUTLS_DT_IP_ADDRESS;
		vdata[0].data = ip;
		vdata[0].size = 4;
	} else if (inet_pton(AF_INET6, host, ip) == 1) {
		vdata[0].type = GNUTLS_DT_IP_ADDRESS;
		vdata[0].data = ip;
		vdata[0].size = 16;
	} else {
		vdata[0].type = GNUTLS_DT_DNS_HOSTNAME;
		vdata[0].data = (unsigned char *)host;
	}
	vdata[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vdata[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;

	r = gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned)n, vdata,
	    2, 0, &status, NULL);
	if (r < 0) {
		*err_r = xasprintf("cannot verify certificate for %s: %s",
		    host, gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		*err_r = describe_failure(status, crts, n, host, ca_file);
		goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	return ret;
}

struct verify_arg {
	const struct tls_der *certs;
	size_t n;
	const char *host;
	const char *ca_file;
};

static int
verify_in_child(void *arg, struct buf *out)
{
	struct verify_arg *va = arg;
	char *err = NULL;

	if (verify_chain(va->certs, va->n, va->host, va->ca_file, &err) == 0)
		return 0;
	buf_appends(out, err);
	free(err);
	return -1;
}

int
tls_verify_chain(const struct tls_der *certs, size_t n, const char *host,
    const char *ca_file, char **err_r)
{
	struct verify_arg va = { certs, n, host, ca_file };
	char *answer = NULL;

	if (child_run(verify_in_child, &va, "the certificate check",
	    VERIFY_TIMEOUT_MS, &answer, err_r) < 0)
		return -1;
	free(answer);
	return 0;
}

/* A certificate time as "2026-12-07 05:40 UTC". */
static void
utc_text(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "(unknown)");
	else
		strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
}

char *
tls_describe(const struct tls_der *cert)
{
	gnutls_datum_t der = { (unsigned char *)cert->data,
	    (unsigned)cert->len };
	gnutls_datum_t subject = { NULL, 0 }, issuer = { NULL, 0 };
	gnutls_x509_crt_t crt;
	unsigned char sha[32];
	size_t size = sizeof(sha);
	char from[40], until[40];
	struct buf b = { 0 };
	char *text = NULL;

	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_dn3(crt, &subject, 0) < 0 ||
	    gnutls_x509_crt_get_issuer_dn3(crt, &issuer, 0) < 0 ||
	    gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, sha,
	    &size) < 0)
		goto out;
	utc_text(gnutls_x509_crt_get_activation_time(crt), from, sizeof(from));
	utc_text(gnutls_x509_crt_get_expiration_time(crt), until,
	    sizeof(until));
	buf_printf(&b, "subject: %s\nissuer: %s\nvalid: %s to %s\nSHA-256: ",
	    (const char *)subject.data, (const char *)issuer.data, from,
	    until);
	for (size_t i = 0; i < size; i++)
		buf_printf(&b, "%s%02X", i > 0 ? ":" : "", sha[i]);
	text = buf_steal(&b);
out:
	gnutls_free(subject.data);
	gnutls_free(issuer.data);
	gnutls_x509_crt_deinit(crt);
	return text;
}
