/*
 * fuzz_creds_http: the parsers of the metadata endpoints' answers
 * (creds_int.h): the IMDSv2 session token, the IMDS role listing, the IMDS
 * credential document and the container answer.  The first byte picks the
 * parser, the rest is the body, in a block of exactly its size and not
 * NUL-terminated, so a read past it is an ASan error.  What comes out is
 * checked against what the parsers promise.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloudsaga_limits.h"
#include "creds.h"
#include "creds_int.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_creds	*c = NULL;
	char			*body, *s = NULL, *cause = NULL;
	size_t			 n, i;

	if (size == 0)
		return 0;
	n = size - 1;
	body = xmalloc(n > 0 ? n : 1);
	memcpy(body, data + 1, n);
	switch (data[0] % 4) {
	case 0:
		if ((s = creds_imds_parse_token(body, n, &cause)) != NULL) {
			if (strlen(s) == 0 || strlen(s) > CREDS_HTTP_TOKEN_MAX)
				abort();
			for (i = 0; s[i] != '\0'; i++)
				if (s[i] < 0x20 || s[i] >= 0x7f)
					abort();
		}
		break;
	case 1:
		if ((s = creds_imds_parse_role(body, n, &cause)) != NULL) {
			if (strlen(s) == 0 || strlen(s) > 128)
				abort();
			for (i = 0; s[i] != '\0'; i++)
				if (!isalnum((unsigned char)s[i]) &&
				    strchr("+=,.@_-", s[i]) == NULL)
					abort();
		}
		break;
	case 2:
		c = creds_imds_parse_creds(body, n, &cause);
		break;
	default:
		c = creds_container_parse(body, n, &cause);
		break;
	}
	if (s == NULL && c == NULL && (cause == NULL || *cause == '\0'))
		abort();	/* every failure says why */
	if (c != NULL && (c->access_key_id == NULL ||
	    c->secret_access_key == NULL))
		abort();
	creds_unref(c);
	free(s);
	free(cause);
	free(body);
	return 0;
}
