/*
 * strv: the one string vector kit.  A vector is a NULL-terminated array of
 * allocated strings (char **); NULL counts as an empty vector everywhere
 * except where a function says it returns one.
 */
#ifndef CLOUDSAGA_STRV_H
#define CLOUDSAGA_STRV_H

#include <stddef.h>

/* A new empty vector (never NULL). */
char	**strv_new(void);
/* Number of strings. */
size_t	 strv_len(char *const *);
/* Append a copy of s (*v may be NULL: it is created). */
void	 strv_add(char ***v, const char *s);
/* Append a copy of s unless it is there already; 1 when added. */
int	 strv_add_unique(char ***v, const char *s);
/* Nonzero when s is in v. */
int	 strv_has(char *const *v, const char *s);
/* Nonzero when a and b hold the same strings in the same order (NULL and
 * an empty vector are equal). */
int	 strv_equal(char *const *a, char *const *b);
/* Nonzero when s matches one of v's fnmatch(3) patterns. */
int	 strv_match(char *const *v, const char *s);
/* A deep copy; NULL for NULL. */
char	**strv_dup(const char *const *);
/* The strings joined with sep, allocated ("" for an empty vector). */
char	*strv_join(char *const *, const char *sep);
/* Free every string and the vector; accepts NULL. */
void	 strv_free(char **);

#endif
