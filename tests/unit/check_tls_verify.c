/*
 * check_tls_verify.c - the certificate checks of tls_verify.c without a
 * server: certificates are made here with GnuTLS (ECDSA, fast), a CA and
 * leaves it signs, and fed to tls_verify_chain() as a server would send
 * them.  The live TLS paths are in tests/integration/check_store_imap.c.
 */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/tls_verify.h"
#include "tests/unit/unit.h"

struct cert {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	gnutls_datum_t der;
};

static unsigned char serial;

/* A certificate for cn, signed by issuer (NULL: self-signed), valid
 * from act to exp, with the given DNS and IP subject alternative names
 * (NULL-terminated lists, may be NULL). */
static void
make_cert(struct cert *c, const char *cn, const struct cert *issuer,
    int is_ca, const char *const *dns, const char *const *ips, time_t act,
    time_t exp)
{
	unsigned char ip[16];

	ck_assert_int_eq(gnutls_x509_privkey_init(&c->key), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(c->key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	ck_assert_int_eq(gnutls_x509_crt_init(&c->crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_version(c->crt, 3), 0);
	serial++;
	ck_assert_int_eq(gnutls_x509_crt_set_serial(c->crt, &serial, 1), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_dn_by_oid(c->crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(c->crt, c->key), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(c->crt, act), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(c->crt, exp), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_basic_constraints(c->crt, is_ca,
	    -1), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key_usage(c->crt, is_ca
	    ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN
	    : GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
	for (size_t i = 0; dns != NULL && dns[i] != NULL; i++)
		ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(c->crt,
		    GNUTLS_SAN_DNSNAME, dns[i], (unsigned)strlen(dns[i]),
		    GNUTLS_FSAN_APPEND), 0);
	for (size_t i = 0; ips != NULL && ips[i] != NULL; i++) {
		int v4 = inet_pton(AF_INET, ips[i], ip) == 1;

		ck_assert(v4 || inet_pton(AF_INET6, ips[i], ip) == 1);
		ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(c->crt,
		    GNUTLS_SAN_IPADDRESS, ip, v4 ? 4 : 16,
		    GNUTLS_FSAN_APPEND), 0);
	}
	ck_assert_int_eq(gnutls_x509_crt_sign2(c->crt,
	    issuer ? issuer->crt : c->crt, issuer ? issuer->key : c->key,
	    GNUTLS_DIG_SHA256, 0), 0);
	ck_assert_int_eq(gnutls_x509_crt_export2(c->crt, GNUTLS_X509_FMT_DER,
	    &c->der), 0);
}

static void
free_cert(struct cert *c)
{
	gnutls_free(c->der.data);
	gnutls_x509_crt_deinit(c->crt);
	gnutls_x509_privkey_deinit(c->key);
}

/* Writes c as PEM to a temporary file; returns its malloc'd path. */
static char *
pem_file(const struct cert *c)
{
	char *path = strdup("/tmp/check_tls_verify.XXXXXX");
	gnutls_datum_t pem;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	if (c != NULL) {
		ck_assert_int_eq(gnutls_x509_crt_export2(c->crt,
		    GNUTLS_X509_FMT_PEM, &pem), 0);
		ck_assert(write(fd, pem.data, pem.size) == (ssize_t)pem.size);
		gnutls_free(pem.data);
	}
	close(fd);
	return path;
}

/* Verifies [leaf, issuer...] for host; returns the error or NULL. */
static char *
verify(const struct cert *leaf, const struct cert *inter, const char *host,
    const char *ca_file)
{
	struct tls_der chain[2];
	size_t n = 0;
	char *err = NULL;

	chain[n].data = leaf->der.data;
	chain[n++].len = leaf->der.size;
	if (inter != NULL) {
		chain[n].data = inter->der.data;
		chain[n++].len = inter->der.size;
	}
	if (tls_verify_chain(chain, n, host, ca_file, &err) == 0) {
		ck_assert_ptr_null(err);
		return NULL;
	}
	ck_assert_ptr_nonnull(err);
	return err;
}

static void
assert_refused(char *err, const char *want)
{
	ck_assert_msg(err != NULL, "accepted, expected '%s'", want);
	ck_assert_msg(strstr(err, want) != NULL, "expected '%s' in: %s",
	    want, err);
	free(err);
}

static const char *const leaf_dns[] = { "mail.example.org", NULL };
static const char *const leaf_ips[] = { "192.0.2.7", "2001:db8::7", NULL };

START_TEST(test_ca_signed)
{
	time_t now = time(NULL);
	struct cert ca, leaf;
	char *ca_path;

	make_cert(&ca, "Test CA", NULL, 1, NULL, NULL, now - 3600,
	    now + 86400);
	make_cert(&leaf, "mail.example.org", &ca, 0, leaf_dns, leaf_ips,
	    now - 3600, now + 86400);
	ca_path = pem_file(&ca);

	ck_assert_ptr_null(verify(&leaf, NULL, "mail.example.org", ca_path));
	ck_assert_ptr_null(verify(&leaf, &ca, "MAIL.example.org", ca_path));
	ck_assert_ptr_null(verify(&leaf, NULL, "192.0.2.7", ca_path));
	ck_assert_ptr_null(verify(&leaf, NULL, "2001:db8::7", ca_path));

	assert_refused(verify(&leaf, NULL, "other.example.org", ca_path),
	    "certificate for other.example.org does not match the host name "
	    "(it is valid for mail.example.org, 192.0.2.7, 2001:db8::7); set "
	    "imap.host");
	assert_refused(verify(&leaf, NULL, "192.0.2.8", ca_path),
	    "certificate for 192.0.2.8 does not match");
	/* Without the CA: an issuer nobody trusts (the system store does
	 * not know this test CA). */
	assert_refused(verify(&leaf, NULL, "mail.example.org", NULL),
	    "certificate for mail.example.org is not trusted (issuer "
	    "unknown); set imap.ca_file to the server's CA certificate");
	unlink(ca_path);
	free(ca_path);
	free_cert(&leaf);
	free_cert(&ca);
}
END_TEST

/* An address literal matches IP names only, never a DNS name spelled
 * like an address. */
START_TEST(test_ip_needs_ip_san)
{
	static const char *const dns[] = { "192.0.2.9", NULL };
	time_t now = time(NULL);
	struct cert self;
	char *path;

	make_cert(&self, "192.0.2.9", NULL, 0, dns, NULL, now - 60,
	    now + 3600);
	path = pem_file(&self);
	assert_refused(verify(&self, NULL, "192.0.2.9", path),
	    "does not match the host name (it is valid for 192.0.2.9)");
	unlink(path);
	free(path);
	free_cert(&self);
}
END_TEST

START_TEST(test_self_signed)
{
	static const char *const dns[] = { "localhost", NULL };
	static const char *const ips[] = { "127.0.0.1", NULL };
	time_t now = time(NULL);
	struct cert self;
	char *path;

	make_cert(&self, "localhost", NULL, 0, dns, ips, now - 60, now + 3600);
	assert_refused(verify(&self, NULL, "127.0.0.1", NULL),
	    "certificate for 127.0.0.1 is not trusted (self-signed); set "
	    "imap.ca_file");
	/* Trusting it explicitly is what imap.ca_file is for. */
	path = pem_file(&self);
	ck_assert_ptr_null(verify(&self, NULL, "127.0.0.1", path));
	ck_assert_ptr_null(verify(&self, NULL, "localhost", path));
	unlink(path);
	free(path);
	free_cert(&self);
}
END_TEST

START_TEST(test_describe)
{
	time_t act = 1796601600;	/* 2026-12-07 00:00 UTC */
	struct cert ca, leaf;
	struct tls_der der;
	unsigned char sha[32];
	size_t size = sizeof(sha);
	char want[200], *text;

	make_cert(&ca, "Test CA", NULL, 1, NULL, NULL, act, act + 86400 * 365);
	make_cert(&leaf, "mail.example.org", &ca, 0, leaf_dns, NULL, act,
	    act + 86400 * 30);
	der = (struct tls_der){ leaf.der.data, leaf.der.size };
	text = tls_describe(&der);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(gnutls_x509_crt_get_fingerprint(leaf.crt,
	    GNUTLS_DIG_SHA256, sha, &size), 0);
	snprintf(want, sizeof(want), "subject: CN=mail.example.org\n"
	    "issuer: CN=Test CA\nvalid: 2026-12-07 00:00 UTC to 2027-01-06 "
	    "00:00 UTC\nSHA-256: %02X:%02X:", sha[0], sha[1]);
	ck_assert_msg(strncmp(text, want, strlen(want)) == 0, "got: %s", text);
	/* 32 bytes, two hex digits each, colons between. */
	ck_assert_uint_eq(strlen(strstr(text, "SHA-256: ") + 9), 32 * 3 - 1);
	free(text);
	der.len = 10;
	ck_assert_ptr_null(tls_describe(&der));
	free_cert(&leaf);
	free_cert(&ca);
}
END_TEST

START_TEST(test_expired)
{
	time_t now = time(NULL);
	struct cert ca, leaf;
	char *ca_path;

	make_cert(&ca, "Test CA", NULL, 1, NULL, NULL, now - 864000,
	    now + 86400);
	make_cert(&leaf, "mail.example.org", &ca, 0, leaf_dns, NULL,
	    now - 864000, now - 86400);
	ca_path = pem_file(&ca);
	assert_refused(verify(&leaf, NULL, "mail.example.org", ca_path),
	    "certificate for mail.example.org has expired");
	unlink(ca_path);
	free(ca_path);
	free_cert(&leaf);
	free_cert(&ca);
}
END_TEST

START_TEST(test_bad_input)
{
	static const unsigned char junk[] = "not a certificate";
	struct tls_der der = { junk, sizeof(junk) };
	time_t now = time(NULL);
	struct cert self;
	char *err = NULL, *empty;

	ck_assert_int_eq(tls_verify_chain(&der, 0, "h.example", NULL, &err),
	    -1);
	assert_refused(err, "h.example sent no certificate");
	err = NULL;
	ck_assert_int_eq(tls_verify_chain(&der, 1, "h.example", NULL, &err),
	    -1);
	assert_refused(err, "certificate 1 from h.example cannot be parsed");

	make_cert(&self, "localhost", NULL, 0, NULL, NULL, now - 60,
	    now + 3600);
	empty = pem_file(NULL);
	assert_refused(verify(&self, NULL, "localhost", empty),
	    "holds no PEM certificate");
	assert_refused(verify(&self, NULL, "localhost", "/nonexistent.pem"),
	    "cannot read imap.ca_file '/nonexistent.pem'");
	unlink(empty);
	free(empty);
	free_cert(&self);
}
END_TEST

START_TEST(test_host_is_ip)
{
	ck_assert(tls_host_is_ip("127.0.0.1"));
	ck_assert(tls_host_is_ip("::1"));
	ck_assert(tls_host_is_ip("2001:db8::7"));
	ck_assert(!tls_host_is_ip("localhost"));
	ck_assert(!tls_host_is_ip("mail.example.org"));
	ck_assert(!tls_host_is_ip("127.0.0.1.example.org"));
}
END_TEST

static Suite *
tls_verify_suite(void)
{
	Suite *s = suite_create("tls_verify");
	TCase *tc = tcase_create("chain");

	tcase_add_test(tc, test_ca_signed);
	tcase_add_test(tc, test_ip_needs_ip_san);
	tcase_add_test(tc, test_self_signed);
	tcase_add_test(tc, test_describe);
	tcase_add_test(tc, test_expired);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_host_is_ip);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(tls_verify_suite)
