/*
 * fuzz_config: the configuration loader (daemon/config*.c with the custom
 * scenario step model of scenarios/custom.c).  Any input either loads -
 * then its effective configuration prints and loads again to the same
 * text - or gives "NAME:LINE: message" errors.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
print_config(const struct config *c)
{
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&out, &len)) == NULL)
		abort();
	config_print(f, c);
	fclose(f);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct config	*c, *c2;
	char		*text, *cause = NULL, *p1, *p2;

	text = xstrndup((const char *)data, len);
	/* @include would read files of the machine: not the loader's job
	 * (turn them into comments). */
	for (p1 = text; (p1 = strstr(p1, "@include")) != NULL; p1++)
		*p1 = '#';
	if (config_load_string(text, "fuzz", &c, &cause) != 0) {
		if (cause == NULL || strncmp(cause, "fuzz", 4) != 0)
			abort();
		free(cause);
		free(text);
		return 0;
	}
	p1 = print_config(c);
	if (config_load_string(p1, "fuzz", &c2, &cause) != 0) {
		fprintf(stderr, "printed config does not load: %s\n%s\n",
		    cause, p1);
		abort();
	}
	p2 = print_config(c2);
	if (strcmp(p1, p2) != 0)
		abort();
	free(p1);
	free(p2);
	config_free(c2);
	config_free(c);
	free(text);
	return 0;
}
