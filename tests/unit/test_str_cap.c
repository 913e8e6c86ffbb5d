/*
 * str_cap_utf8: text capped for log lines, journal fields and report lines
 * - cut on a character boundary, marked with how much was cut, always
 * valid UTF-8 (jansson's json_string, which refuses anything else, is the
 * independent judge), never longer than asked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "util.h"
#include "xmalloc.h"

static int
valid_utf8(const char *s)
{
	json_t	*j;

	if ((j = json_string(s)) == NULL)
		return 0;
	json_decref(j);
	return 1;
}

/* cap(s, max) must be want. */
static void
expect(const char *s, size_t max, const char *want)
{
	char	*got;

	got = str_cap_utf8(s, max);
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("str_cap_utf8(\"%s\", %zu)\n got  \"%s\"\n want \"%s\"",
		    s, max, got, want);
	assert_true(valid_utf8(got));
	free(got);
}

static void
test_fits(void **state)
{
	(void)state;
	assert_null(str_cap_utf8(NULL, 100));
	expect("", 100, "");
	expect("short", 100, "short");
	expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 100,
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

/* Exactly max bytes is not cut; one more is. */
static void
test_exact_length(void **state)
{
	struct buf	 b;
	char		*got;

	(void)state;
	buf_init(&b);
	while (b.len < 64)
		buf_addch(&b, 'a' + b.len % 26);
	expect(b.data, 64, b.data);
	got = str_cap_utf8(b.data, 63);
	assert_int_equal(strlen(got), 63);
	/* 63 - strlen(" [truncated NN bytes]") = 42 kept, 22 cut */
	assert_memory_equal(got, b.data, 42);
	assert_string_equal(got + 42, " [truncated 22 bytes]");
	free(got);
	/* A 3-byte character that ends exactly at max stays. */
	buf_reset(&b);
	while (b.len < 61)
		buf_addch(&b, 'x');
	buf_addstr(&b, "\xe2\x82\xac");
	expect(b.data, 64, b.data);
	buf_free(&b);
}

/* Multi-byte characters straddling the cut are dropped whole. */
static void
test_cut_boundary(void **state)
{
	static const char *const chars[] = {
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
	};
	struct buf	 b;
	char		*got, *mark;
	size_t		 c, max, kept, i;

	(void)state;
	for (c = 0; c < 3; c++) {
		buf_init(&b);
		for (i = 0; i < 100; i++)
			buf_addstr(&b, chars[c]);
		for (max = STR_CAP_MIN; max < STR_CAP_MIN + 30; max++) {
			got = str_cap_utf8(b.data, max);
			assert_true(strlen(got) <= max);
			assert_true(valid_utf8(got));
			assert_non_null(mark = strstr(got, " [truncated "));
			kept = (size_t)(mark - got);
			/* whole characters, as many as fit */
			assert_int_equal(kept % (c + 2), 0);
			assert_memory_equal(got, b.data, kept);
			assert_true(kept + (c + 2) + strlen(mark) > max);
			assert_int_equal(strtoul(mark + 12, NULL, 10),
			    b.len - kept);
			free(got);
		}
		buf_free(&b);
	}
}

/*
 * Bytes that are not part of a valid character (stray continuation bytes,
 * truncated sequences, overlong forms, surrogates, beyond U+10FFFF) become
 * U+FFFD, one per byte: the result is always valid UTF-8.
 */
static void
test_invalid_input(void **state)
{
	(void)state;
#define R	"\xef\xbf\xbd"
	expect("a\xff" "b", 100, "a" R "b");
	expect("\x80", 100, R);
	expect("\xc3\x28", 100, R "(");
	expect("abc\xe2\x82", 100, "abc" R R);
	expect("\xc0\xaf", 100, R R);
	expect("\xe0\x80\xaf", 100, R R R);
	expect("\xed\xa0\x80", 100, R R R);
	expect("\xf4\x90\x80\x80", 100, R R R R);
	expect("\xf8\x88\x80\x80\x80", 100, R R R R R);
	expect("ok \xf4\x8f\xbf\xbf", 100, "ok \xf4\x8f\xbf\xbf");
#undef R
}

/* Invalid and long: still cut, still valid, still within max. */
static void
test_invalid_long(void **state)
{
	struct buf	 b;
	char		*got;
	size_t		 i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < 5000; i++)
		buf_addstr(&b, i % 3 == 0 ? "\xff" : i % 3 == 1 ? "\xc3" :
		    "z");
	got = str_cap_utf8(b.data, 1024);
	assert_true(strlen(got) <= 1024);
	assert_true(valid_utf8(got));
	assert_non_null(strstr(got, " [truncated "));
	free(got);
	buf_free(&b);
}

/* A max too small for the mark counts as STR_CAP_MIN. */
static void
test_small_max(void **state)
{
	char	*got;

	(void)state;
	got = str_cap_utf8("0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789", 5);
	assert_true(strlen(got) <= STR_CAP_MIN);
	assert_non_null(strstr(got, " [truncated "));
	free(got);
	expect("tiny", 1, "tiny");
}

/* Random bytes and limits: the three promises hold. */
static void
test_random(void **state)
{
	unsigned char	 in[300];
	char		*got, *mark;
	size_t		 len, max, i, n;
	unsigned int	 seed = 12345;

	(void)state;
	for (n = 0; n < 20000; n++) {
		len = rand_r(&seed) % sizeof(in);
		for (i = 0; i < len; i++) {
			/* mostly UTF-8-ish bytes */
			in[i] = (unsigned char)(rand_r(&seed) % 4 == 0 ?
			    0x80 + rand_r(&seed) % 0x78 : 0x20 + rand_r(&seed) %
			    0x60);
			if (in[i] == 0)
				in[i] = 'x';
		}
		in[len] = '\0';
		max = STR_CAP_MIN + rand_r(&seed) % 200;
		got = str_cap_utf8((char *)in, max);
		if (strlen(got) > max || !valid_utf8(got))
			fail_msg("case %zu: %zu bytes for max %zu", n,
			    strlen(got), max);
		if ((mark = strstr(got, " [truncated ")) != NULL)
			assert_true(strtoul(mark + 12, NULL, 10) > 0);
		else if (len <= max && valid_utf8((char *)in))
			assert_string_equal(got, (char *)in);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_exact_length),
		cmocka_unit_test(test_cut_boundary),
		cmocka_unit_test(test_invalid_input),
		cmocka_unit_test(test_invalid_long),
		cmocka_unit_test(test_small_max),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
