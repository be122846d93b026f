/*
 * xmem.h - allocation that cannot fail, and a growable byte buffer.
 *
 * Leaf header: includes only libc.  Out of memory aborts the process
 * (isync's oom(), Redis zmalloc): no caller writes recovery branches for
 * malloc, and systemd restarts the daemon.
 */
#ifndef MAILSIFT_XMEM_H
#define MAILSIFT_XMEM_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows an array of n elements of size each; aborts on overflow. */
void *xreallocarray(void *ptr, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/* A growable byte buffer, always NUL-terminated after len bytes. */
struct buf {
	char *data;	/* owned; NULL until the first append */
	size_t len;
	size_t cap;
};

void buf_append(struct buf *b, const void *data, size_t len);
void buf_appends(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (never NULL) and empties the buffer. */
char *buf_steal(struct buf *b);
void buf_release(struct buf *b);

#endif
