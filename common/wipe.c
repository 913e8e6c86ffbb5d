/*
 * wipe: allocators that wipe what they free (see wipe.h).
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "wipe.h"

void
wipe_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

void *
wipe_realloc(void *p, size_t n)
{
	size_t	 old;
	void	*q;

	if (p == NULL)
		return malloc(n);
	if (n == 0)
		n = 1;		/* realloc(p, 0) would free: keep a block */
	if ((q = malloc(n)) == NULL)
		return NULL;	/* p untouched, as realloc() */
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	wipe_free(p);
	return q;
}

static int	 wipe_done;

/* Before main(): no jansson block exists yet, no thread either. */
__attribute__((constructor)) void
wipe_init(void)
{
	if (wipe_done)
		return;
	json_set_alloc_funcs(malloc, wipe_free);
	wipe_done = 1;
}
