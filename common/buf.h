/*
 * buf: a growable byte buffer, always NUL-terminated so text can be used
 * as a C string.  Zero-initialised struct buf is an empty buffer.
 *
 * Secure mode (buf_init_secure(), or buf_set_secure() before the first
 * byte) is for buffers that ever hold credentials, signed headers or
 * secret-bearing bodies: growth copies into a new block and wipes the old
 * one (realloc() would leave a copy behind when it moves), buf_reset()
 * wipes the text, and buf_free() wipes before freeing (as
 * buf_freezero()).  What buf_release() hands out must be wiped by its new
 * owner (freezero_str()).
 */
#ifndef CLOUDSAGA_BUF_H
#define CLOUDSAGA_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	int	 secure;
};

void	 buf_init(struct buf *);
void	 buf_init_secure(struct buf *);
void	 buf_set_secure(struct buf *);
void	 buf_reserve(struct buf *, size_t extra);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addstr(struct buf *, const char *);
void	 buf_addch(struct buf *, char);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	 buf_reset(struct buf *);		/* len = 0, keeps memory */
/* Hand the contents to the caller (never NULL); the buffer becomes empty. */
char	*buf_release(struct buf *);
void	 buf_free(struct buf *);	/* keeps the mode */
/* Wipe, then free: for buffers that held secrets. */
void	 buf_freezero(struct buf *);
/* Text of the buffer ("" when empty). */
const char *buf_str(const struct buf *);

#endif
