/*
 * buf: the growable buffer, and its secure mode - growth moves to a new
 * block (never realloc() in place of a copy left behind), reset wipes the
 * text, the mode survives free and release.  (That the old blocks are
 * wiped is proven by test_secret_wipe, which searches freed memory.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

static void
test_basics(void **state)
{
	struct buf	 b;
	char		*s;
	int		 i;

	(void)state;
	buf_init(&b);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(b.secure, 0);
	buf_addstr(&b, "abc");
	buf_addch(&b, '-');
	buf_printf(&b, "%d/%s", 42, "x");
	buf_add(&b, "\0z", 2);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "abc-42/x\0z", 10);
	assert_int_equal(b.data[b.len], '\0');
	for (i = 0; i < 1000; i++)
		buf_addch(&b, 'a' + i % 26);
	assert_int_equal(b.len, 1010);
	assert_int_equal(b.data[1009], 'a' + 999 % 26);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	buf_addstr(&b, "again");
	s = buf_release(&b);
	assert_string_equal(s, "again");
	assert_null(b.data);
	free(s);
	s = buf_release(&b);
	assert_string_equal(s, "");
	free(s);
	buf_free(&b);
	buf_freezero(&b);
}

static void
test_secure_growth_moves(void **state)
{
	struct buf	 b;
	char		*before;
	size_t		 cap, moves = 0, grows = 0, i;

	(void)state;
	buf_init_secure(&b);
	assert_int_equal(b.secure, 1);
	for (i = 0; i < 100000; i++) {
		before = b.data;
		cap = b.cap;
		buf_addch(&b, 's');
		if (b.cap != cap) {
			grows++;
			moves += b.data != before;
		}
	}
	/* every growth went to a new block, with the text intact */
	assert_true(grows > 5);
	assert_int_equal(moves, grows);
	for (i = 0; i < b.len; i++)
		if (b.data[i] != 's')
			fail_msg("byte %zu lost", i);
	buf_free(&b);
}

static void
test_secure_reset_wipes(void **state)
{
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init_secure(&b);
	buf_addstr(&b, "secret-session-token");
	buf_reset(&b);
	for (i = 0; i < 20; i++)
		assert_int_equal(b.data[i], '\0');
	/* not in the plain mode: the bytes stay (what reset promises) */
	buf_free(&b);
	buf_init(&b);
	buf_addstr(&b, "plain");
	buf_reset(&b);
	assert_int_equal(b.data[1], 'l');
	buf_free(&b);
}

static void
test_secure_mode_kept(void **state)
{
	struct buf	 b;
	char		*s;

	(void)state;
	buf_init(&b);
	buf_set_secure(&b);
	buf_addstr(&b, "x");
	buf_free(&b);
	assert_int_equal(b.secure, 1);
	buf_addstr(&b, "token");
	s = buf_release(&b);
	assert_int_equal(b.secure, 1);
	freezero_str(s);
	buf_freezero(&b);
	assert_int_equal(b.secure, 1);
	/* a zeroed struct is a plain empty buffer */
	memset(&b, 0, sizeof(b));
	buf_addstr(&b, "ok");
	assert_int_equal(b.secure, 0);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basics),
		cmocka_unit_test(test_secure_growth_moves),
		cmocka_unit_test(test_secure_reset_wipes),
		cmocka_unit_test(test_secure_mode_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
