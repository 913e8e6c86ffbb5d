/*
 * fuzz_creds_ini: the shared credentials/config INI parser (creds_file.c).
 * Any input either parses or gives a "path:line: message" error; lookups
 * on a parsed file find what the parser stored.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "creds_int.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ini_file			*f;
	const struct ini_section	*s;
	char				*cause = NULL;
	size_t				 i, j;

	if (ini_parse("fuzz", (const char *)data, len, &f, &cause) != 0) {
		if (cause == NULL || strncmp(cause, "fuzz:", 5) != 0)
			abort();
		free(cause);
		return 0;
	}
	for (i = 0; i < f->nsec; i++) {
		if ((s = ini_section(f, f->sec[i].name)) != &f->sec[i])
			abort();
		for (j = 0; j < s->nkv; j++)
			if (ini_get(s, s->kv[j].key) != s->kv[j].value)
				abort();
	}
	ini_free(f);
	return 0;
}
