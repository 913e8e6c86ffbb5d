#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->secure = 0;
}

void
buf_init_secure(struct buf *b)
{
	buf_init(b);
	b->secure = 1;
}

void
buf_set_secure(struct buf *b)
{
	b->secure = 1;
}

/* Move into a new block of cap bytes; the old one is wiped and freed. */
static void
buf_move(struct buf *b, size_t cap)
{
	char	*p;

	p = xmalloc(cap);
	if (b->data != NULL) {
		memcpy(p, b->data, b->len + 1);
		freezero(b->data, b->cap);
	}
	b->data = p;
}

void
buf_reserve(struct buf *b, size_t extra)
{
	size_t	 need, cap;

	if (extra > (size_t)-1 / 2 - b->len)
		fatalx("buf_reserve: %zu bytes is too much", extra);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	/* (the NUL is written below, after the buffer exists) */
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (b->secure)
		buf_move(b, cap);
	else
		b->data = xreallocarray(b->data, 1, cap);
	b->cap = cap;
	b->data[b->len] = '\0';
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_addstr(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addch(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 ap2;
	int	 n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		fatalx("buf_vprintf: bad format");
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_reset(struct buf *b)
{
	if (b->data != NULL && b->secure)
		explicit_bzero(b->data, b->len);
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
buf_release(struct buf *b)
{
	char	*p;

	int	 secure = b->secure;

	if (b->data == NULL)
		return xstrdup("");
	p = b->data;
	buf_init(b);
	b->secure = secure;
	return p;
}

void
buf_free(struct buf *b)
{
	int	 secure = b->secure;

	if (secure)
		freezero(b->data, b->cap);
	else
		free(b->data);
	buf_init(b);
	b->secure = secure;
}

void
buf_freezero(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

const char *
buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}
