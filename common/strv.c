/*
 * strv: NULL-terminated vectors of allocated strings (see strv.h).
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strv.h"
#include "xmalloc.h"

char **
strv_new(void)
{
	return xcalloc(1, sizeof(char *));
}

size_t
strv_len(char *const *v)
{
	size_t	 n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

void
strv_add(char ***v, const char *s)
{
	size_t	 n = strv_len(*v);

	*v = xreallocarray(*v, n + 2, sizeof(**v));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

int
strv_add_unique(char ***v, const char *s)
{
	if (strv_has(*v, s))
		return 0;
	strv_add(v, s);
	return 1;
}

int
strv_has(char *const *v, const char *s)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

int
strv_equal(char *const *a, char *const *b)
{
	size_t	 i, n = strv_len(a);

	if (n != strv_len(b))
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

int
strv_match(char *const *v, const char *s)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (fnmatch(v[i], s, 0) == 0)
			return 1;
	return 0;
}

char **
strv_dup(const char *const *v)
{
	char	**r;
	size_t	  n, i;

	if (v == NULL)
		return NULL;
	n = strv_len((char *const *)v);
	r = xcalloc(n + 1, sizeof(*r));
	for (i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

char *
strv_join(char *const *v, const char *sep)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		if (i > 0)
			buf_add(&b, sep, strlen(sep));
		buf_add(&b, v[i], strlen(v[i]));
	}
	return buf_release(&b);
}

void
strv_free(char **v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}
