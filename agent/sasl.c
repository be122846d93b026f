/*
 * sasl.c - the client messages of the SASL mechanisms mailsift logs in
 * with, and the reading of an OAuth server's error challenge (sasl.h).
 *
 * Pure functions over strings, so every byte that goes to a server during
 * a login can be checked by unit tests.  Buffers that held a secret are
 * wiped before they are freed.  The error challenge comes from the server:
 * it is decoded defensively (bounded, control characters replaced) since
 * it ends up in a log line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "agent/sasl.h"
#include "agent/xmem.h"

/* A reason longer than this is cut: it is one line of a log. */
#define REASON_MAX	300

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
sasl_one_line(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

char *
sasl_base64(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = b64_alphabet[v >> 18 & 63];
		*o++ = b64_alphabet[v >> 12 & 63];
		*o++ = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int
b64_value(char c)
{
	const char *p = c != '\0' ? strchr(b64_alphabet, c) : NULL;

	return p != NULL ? (int)(p - b64_alphabet) : -1;
}

int
sasl_unbase64(const char *text, char **data_r, size_t *len_r)
{
	size_t n = strlen(text), pad = 0, len = 0;
	uint32_t acc = 0;
	int bits = 0;
	char *out;

	while (pad < 2 && n > 0 && text[n - 1] == '=') {
		n--;
		pad++;
	}
	/* Padded text comes in whole quads; a lone sixth bit never does. */
	if ((pad > 0 && (n + pad) % 4 != 0) || n % 4 == 1)
		return -1;
	out = xmalloc(n / 4 * 3 + 3);
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(text[i]);

		if (v < 0) {
			free(out);
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (char)(acc >> bits & 0xff);
		}
	}
	out[len] = '\0';
	*data_r = out;
	*len_r = len;
	return 0;
}

/* base64 of len bytes of a buffer holding a secret, which is wiped. */
static char *
encode_secret(char *buf, size_t len)
{
	char *out = sasl_base64(buf, len);

	explicit_bzero(buf, len);
	free(buf);
	return out;
}

char *
sasl_plain(const char *user, const char *password)
{
	size_t ul = strlen(user), pl = strlen(password);
	char *buf = xmalloc(ul + pl + 2);

	buf[0] = '\0';
	memcpy(buf + 1, user, ul);
	buf[ul + 1] = '\0';
	memcpy(buf + ul + 2, password, pl);
	return encode_secret(buf, ul + pl + 2);
}

char *
sasl_xoauth2(const char *user, const char *token)
{
	char *buf = xasprintf("user=%s\001auth=Bearer %s\001\001", user,
	    token);

	return encode_secret(buf, strlen(buf));
}

char *
sasl_oauthbearer(const char *user, const char *host, int port,
    const char *token)
{
	struct buf name = { 0 };
	char *buf;

	/* RFC 5801 saslname: ',' and '=' escaped. */
	for (const char *p = user; *p != '\0'; p++) {
		if (*p == ',')
			buf_append(&name, "=2C", 3);
		else if (*p == '=')
			buf_append(&name, "=3D", 3);
		else
			buf_append(&name, p, 1);
	}
	buf = xasprintf("n,a=%s,\001host=%s\001port=%d\001auth=Bearer "
	    "%s\001\001", name.data != NULL ? name.data : "", host, port,
	    token);
	buf_release(&name);
	return encode_secret(buf, strlen(buf));
}

/* Appends text to out, with control characters as '?', up to the cap. */
static void
append_clean(struct buf *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len && out->len < REASON_MAX; i++) {
		unsigned char c = (unsigned char)text[i];

		buf_append(out, c < 0x20 || c == 0x7f ? "?" : &text[i], 1);
	}
}

char *
sasl_oauth_reason(const char *challenge)
{
	struct json_object *obj;
	struct buf out = { 0 };
	char *data;
	size_t len;

	if (challenge[0] == '\0' || sasl_unbase64(challenge, &data, &len) < 0)
		return NULL;
	obj = json_tokener_parse(data);
	if (obj != NULL && json_object_is_type(obj, json_type_object)) {
		json_object_object_foreach(obj, key, val) {
			const char *v = json_object_is_type(val,
			    json_type_string) ? json_object_get_string(val) :
			    json_object_to_json_string(val);

			if (out.len > 0)
				buf_append(&out, ", ", 2);
			append_clean(&out, key, strlen(key));
			buf_append(&out, " ", 1);
			append_clean(&out, v, strlen(v));
		}
	} else {
		append_clean(&out, data, len);
	}
	json_object_put(obj);
	free(data);
	if (out.len == 0) {
		buf_release(&out);
		return NULL;
	}
	return buf_steal(&out);
}

void
sasl_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
