/*
 * awstest.h: helpers shared by the aws and endpoint unit tests (header
 * only: every tests/unit/test_*.c is its own executable).  Fixtures are
 * read from $CLOUDSAGA_DATA (set by ctest to tests/data).
 */
#ifndef CLOUDSAGA_AWSTEST_H
#define CLOUDSAGA_AWSTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* Whole file under $CLOUDSAGA_DATA; NULL (and a message) when missing. */
static inline char *
awstest_read(const char *rel, size_t *ret_len)
{
	const char	*data = getenv("CLOUDSAGA_DATA");
	char		*path, *buf;
	FILE		*f;
	long		 n;

	if (data == NULL) {
		fprintf(stderr, "CLOUDSAGA_DATA is not set (run under ctest)\n");
		return NULL;
	}
	path = xprintf("%s/%s", data, rel);
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "cannot open fixture %s\n", path);
		free(path);
		return NULL;
	}
	free(path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (ret_len != NULL)
		*ret_len = (size_t)n;
	return buf;
}

/*
 * The block of a Smithy protocol test case: from its `id: "ID"` to the
 * next case's id (or the end).  Allocated, NULL if absent.
 */
static inline char *
smithy_case(const char *text, const char *id)
{
	char		*needle;
	const char	*s, *e;

	needle = xprintf("id: \"%s\"", id);
	s = strstr(text, needle);
	free(needle);
	if (s == NULL)
		return NULL;
	e = strstr(s + 5, "id: \"");
	if (e == NULL)
		e = s + strlen(s);
	return xstrndup(s, (size_t)(e - s));
}

/*
 * A string field of a case block: `field: "..."` (escapes \" \\ \n
 * resolved) or `field: """ ... """` (raw).  Allocated, NULL if absent.
 */
static inline char *
smithy_field(const char *block, const char *field)
{
	char		*needle, *out, *o;
	const char	*s, *e;

	needle = xprintf("%s: ", field);
	s = block;
	while ((s = strstr(s, needle)) != NULL) {
		if (s == block || s[-1] == ' ' || s[-1] == '\n')
			break;
		s++;
	}
	free(needle);
	if (s == NULL)
		return NULL;
	s = strchr(s, ':') + 2;
	if (strncmp(s, "\"\"\"", 3) == 0) {
		s += 3;
		if ((e = strstr(s, "\"\"\"")) == NULL)
			return NULL;
		return xstrndup(s, (size_t)(e - s));
	}
	if (*s != '"')
		return NULL;
	s++;
	out = o = xmalloc(strlen(s) + 1);
	for (; *s != '\0' && *s != '"'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			*o++ = *s == 'n' ? '\n' : *s;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* A header value inside the block's `headers: { "Name": "value" }`. */
static inline char *
smithy_header(const char *block, const char *name)
{
	char		*needle;
	const char	*h, *s, *e;

	if ((h = strstr(block, "headers: {")) == NULL)
		return NULL;
	needle = xprintf("\"%s\": \"", name);
	s = strstr(h, needle);
	e = strchr(h, '}');
	if (s == NULL || (e != NULL && s > e)) {
		free(needle);
		return NULL;
	}
	s += strlen(needle);
	free(needle);
	e = strchr(s, '"');
	return e == NULL ? NULL : xstrndup(s, (size_t)(e - s));
}

/* The block's `code: N`, or -1. */
static inline long
smithy_code(const char *block)
{
	const char	*s;

	if ((s = strstr(block, "code: ")) == NULL)
		return -1;
	return strtol(s + 6, NULL, 10);
}

#endif
