/*
 * fuzz_http_header: the engine's response header parser
 * (http_parse_header_line), fed the input line by line as libcurl's header
 * callback would (each line with its LF), then checked: within the limits,
 * and the last value, which continuation lines extend in place, is
 * NUL-terminated where the parser believes it ends.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloudsaga_limits.h"
#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_header_parser	 hp;
	const char			*p = (const char *)data;
	const char			*end = p + size, *nl;
	size_t				 n, i, sum;

	memset(&hp, 0, sizeof(hp));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (http_parse_header_line(&hp, p, n) != HTTP_HEADER_OK)
			break;
		p += n;
	}
	if (hp.lines > HTTP_MAX_HEADERS || hp.nheaders > HTTP_MAX_HEADERS ||
	    hp.bytes > HTTP_MAX_HEADER_BYTES)
		abort();
	/* under ASan, strlen proves each string ends inside its block */
	for (i = 0, sum = 0; i < hp.nheaders; i++)
		sum += strlen(hp.headers[i].name) +
		    strlen(hp.headers[i].value);
	if (sum > 2 * HTTP_MAX_HEADER_BYTES)
		abort();
	if (hp.nheaders > 0 && (hp.last_len >= hp.last_cap ||
	    hp.headers[hp.nheaders - 1].value[hp.last_len] != '\0'))
		abort();
	http_header_parser_clear(&hp);
	return 0;
}
