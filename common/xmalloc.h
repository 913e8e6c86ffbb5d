/*
 * xmalloc: allocation wrappers that never return NULL.  Running out of
 * memory is fatal in a daemon (tmux's habit); callers never check.
 */
#ifndef CLOUDSAGA_XMALLOC_H
#define CLOUDSAGA_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* NULL in, NULL out. */
char	*xstrdup_or_null(const char *);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Convenience: return the formatted string. */
char	*xprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Wipe then free: for anything that held a secret.  NULL is fine. */
void	 freezero_str(char *);
void	 freezero(void *, size_t);

#endif
