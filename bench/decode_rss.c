/*
 * decode_rss: peak RSS added by decoding the worst documents the limits of
 * common/cloudsaga_limits.h let through (docs/ARCHITECTURE.md "Limits").
 * Not part of bench/run: a figure for the docs, not a comparison.
 *
 *   cc -O2 -D_GNU_SOURCE -Icommon -o decode_rss bench/decode_rss.c \
 *       build/libcloudsaga.a $(pkg-config --libs jansson expat libcurl \
 *       libevent libconfig libsystemd) -lcrypto -lm
 *   for s in $(./decode_rss -l); do ./decode_rss $s; done
 *
 * One shape per process (the peak, VmHWM, cannot be reset).  Each document
 * is as large as the count limit allows (AWS_JSON_MAX_VALUES values or
 * AWS_XML_MAX_NODES elements) and at most the size limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws.h"
#include "buf.h"

static const char *const decode_shapes[] = {
	"ints", "objects", "arrays", "keys", "xml-names", "xml-nested",
	"xml-items", "xml-text", "xml-attributes",
};

static long
decode_status_kb(const char *key)
{
	FILE	*f;
	char	 line[256];
	long	 v = -1;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, strlen(key)) == 0)
			v = atol(line + strlen(key));
	}
	fclose(f);
	return v;
}

/* The document for shape into b; 1 if it is XML. */
static int
decode_build(const char *shape, struct buf *b)
{
	size_t	 i, n = AWS_JSON_MAX_VALUES, x = AWS_XML_MAX_NODES;

	if (strcmp(shape, "ints") == 0) {		/* [1,1,...] */
		buf_addch(b, '[');
		for (i = 0; i < n - 1; i++)
			buf_addstr(b, i ? ",1" : "1");
		buf_addch(b, ']');
	} else if (strcmp(shape, "objects") == 0) {	/* {"a":[{},...]} */
		buf_addstr(b, "{\"a\":[");
		for (i = 0; i < n - 3; i++)
			buf_addstr(b, i ? ",{}" : "{}");
		buf_addstr(b, "]}");
	} else if (strcmp(shape, "arrays") == 0) {	/* [[],[],...] */
		buf_addch(b, '[');
		for (i = 0; i < n - 1; i++)
			buf_addstr(b, i ? ",[]" : "[]");
		buf_addch(b, ']');
	} else if (strcmp(shape, "keys") == 0) {	/* {"0":{},"1":{}...} */
		buf_addch(b, '{');
		for (i = 0; i < (n - 1) / 2; i++)
			buf_printf(b, "%s\"%zx\":{}", i ? "," : "", i);
		buf_addch(b, '}');
	} else if (strcmp(shape, "xml-names") == 0) {	/* <a0/><a1/>... */
		buf_addstr(b, "<r>");
		for (i = 0; i < x - 1; i++)
			buf_printf(b, "<a%zx/>", i);
		buf_addstr(b, "</r>");
		return 1;
	} else if (strcmp(shape, "xml-nested") == 0) {
		buf_addstr(b, "<r>");
		for (i = 0; i < (x - 1) / 2; i++)
			buf_printf(b, "<a%zx><b/></a%zx>", i, i);
		buf_addstr(b, "</r>");
		return 1;
	} else if (strcmp(shape, "xml-items") == 0) {
		buf_addstr(b, "<r>");
		for (i = 0; i < x - 1; i++)
			buf_addstr(b, "<item/>");
		buf_addstr(b, "</r>");
		return 1;
	} else if (strcmp(shape, "xml-text") == 0) {	/* 8 MiB of text */
		buf_addstr(b, "<r><a>");
		while (b->len + 16 + 11 <= AWS_XML_MAX_SIZE)
			buf_addstr(b, "0123456789abcdef");
		buf_addstr(b, "</a></r>");
		return 1;
	} else if (strcmp(shape, "xml-attributes") == 0) {
		buf_addstr(b, "<r ");
		for (i = 0; b->len + 30 < AWS_XML_MAX_SIZE; i++)
			buf_printf(b, "a%zx='' ", i);
		buf_addstr(b, "/>");
		return 1;
	} else {
		fprintf(stderr, "decode_rss: unknown shape %s\n", shape);
		exit(2);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct buf	 b;
	json_t		*j;
	char		*cause = NULL;
	long		 before, peak;
	size_t		 i;
	int		 xml;

	if (argc != 2) {
		fprintf(stderr, "usage: decode_rss -l | SHAPE\n");
		return 2;
	}
	if (strcmp(argv[1], "-l") == 0) {
		for (i = 0; i < sizeof(decode_shapes) / sizeof(*decode_shapes);
		    i++)
			printf("%s\n", decode_shapes[i]);
		return 0;
	}
	buf_init(&b);
	xml = decode_build(argv[1], &b);
	before = decode_status_kb("VmRSS:");
	if (xml)
		j = aws_xml_to_json(b.data, b.len, &cause);
	else
		j = aws_json_parse(b.data, b.len, &cause);
	peak = decode_status_kb("VmHWM:");
	printf("%-15s %9zu bytes  peak RSS %7ld kB, +%6ld kB decoding  %s\n",
	    argv[1], b.len, peak, peak - before, j != NULL ? "decoded" :
	    cause);
	json_decref(j);
	free(cause);
	buf_free(&b);
	return 0;
}
