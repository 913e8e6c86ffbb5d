/*
 * pager: the one pagination rule - a listing ends on an absent or empty
 * token, a token seen before ends it incomplete (even one that is not the
 * previous), the page cap ends it incomplete, IsTruncated that is not
 * "true" ends it, and the pager's state moves whole between owners.
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

#include "pager.h"

static void
test_complete(void **state)
{
	struct pager	 pg;

	(void)state;
	pager_init(&pg, 10);
	assert_null(pager_token(&pg));
	assert_int_equal(pager_next(&pg, "a"), PAGER_MORE);
	assert_string_equal(pager_token(&pg), "a");
	assert_int_equal(pager_next(&pg, "b"), PAGER_MORE);
	assert_string_equal(pager_token(&pg), "b");
	assert_int_equal(pager_next(&pg, NULL), PAGER_DONE);
	assert_int_equal(pg.pages, 3);
	assert_false(pager_truncated(PAGER_DONE));
	assert_false(pager_truncated(PAGER_MORE));
	pager_clear(&pg);
	assert_null(pager_token(&pg));
	assert_int_equal(pg.pages, 0);

	/* An empty token is the end too. */
	pager_init(&pg, 10);
	assert_int_equal(pager_next(&pg, ""), PAGER_DONE);
	pager_clear(&pg);
}

static void
test_repeat(void **state)
{
	struct pager	 pg;
	enum pager_step	 s;

	(void)state;
	/* The previous token again. */
	pager_init(&pg, 10);
	assert_int_equal(pager_next(&pg, "a"), PAGER_MORE);
	s = pager_next(&pg, "a");
	assert_int_equal(s, PAGER_REPEAT);
	assert_true(pager_truncated(s));
	assert_string_equal(pager_step_name(s), "repeat");
	pager_clear(&pg);

	/* A cycle a -> b -> a is caught at once, not at the cap. */
	pager_init(&pg, 1000);
	assert_int_equal(pager_next(&pg, "a"), PAGER_MORE);
	assert_int_equal(pager_next(&pg, "b"), PAGER_MORE);
	assert_int_equal(pager_next(&pg, "a"), PAGER_REPEAT);
	assert_int_equal(pg.pages, 3);
	pager_clear(&pg);
}

static void
test_cap(void **state)
{
	struct pager	 pg;
	char		 tok[16];
	int		 i;
	enum pager_step	 s;

	(void)state;
	/* At most max_pages pages: the answer of page 3 still asking for
	 * more is capped, and that counts as incomplete. */
	pager_init(&pg, 3);
	assert_int_equal(pager_next(&pg, "t1"), PAGER_MORE);
	assert_int_equal(pager_next(&pg, "t2"), PAGER_MORE);
	s = pager_next(&pg, "t3");
	assert_int_equal(s, PAGER_CAPPED);
	assert_true(pager_truncated(s));
	assert_int_equal(pg.nseen, 2);
	pager_clear(&pg);

	/* ... but a last page at the cap is complete. */
	pager_init(&pg, 3);
	assert_int_equal(pager_next(&pg, "t1"), PAGER_MORE);
	assert_int_equal(pager_next(&pg, "t2"), PAGER_MORE);
	assert_int_equal(pager_next(&pg, NULL), PAGER_DONE);
	pager_clear(&pg);

	/* A repeat is named as such even at the cap. */
	pager_init(&pg, 2);
	assert_int_equal(pager_next(&pg, "t1"), PAGER_MORE);
	assert_int_equal(pager_next(&pg, "t1"), PAGER_REPEAT);
	pager_clear(&pg);

	/* Below 1 means 1: one page, never a second. */
	pager_init(&pg, 0);
	assert_int_equal(pager_next(&pg, "t1"), PAGER_CAPPED);
	pager_clear(&pg);

	pager_init(&pg, 200);
	for (i = 1; i < 200; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		assert_int_equal(pager_next(&pg, tok), PAGER_MORE);
	}
	assert_int_equal(pager_next(&pg, "t200"), PAGER_CAPPED);
	assert_string_equal(pager_token(&pg), "t199");
	pager_clear(&pg);
}

static void
test_move(void **state)
{
	struct pager	 a, b;

	(void)state;
	pager_init(&a, 5);
	assert_int_equal(pager_next(&a, "x"), PAGER_MORE);
	pager_move(&b, &a);
	assert_null(pager_token(&a));
	assert_string_equal(pager_token(&b), "x");
	assert_int_equal(b.max_pages, 5);
	assert_int_equal(pager_next(&b, "x"), PAGER_REPEAT);
	pager_clear(&a);
	pager_clear(&b);
	pager_clear(NULL);
}

static void
test_token_of(void **state)
{
	json_t	*d;

	(void)state;
	d = json_pack("{s:s}", "NextToken", "abc");
	assert_string_equal(pager_token_of(d, "NextToken"), "abc");
	assert_null(pager_token_of(d, "nextToken"));
	assert_null(pager_token_of(d, NULL));
	assert_null(pager_token_of(NULL, "NextToken"));
	json_decref(d);

	d = json_pack("{s:s}", "NextToken", "");
	assert_null(pager_token_of(d, "NextToken"));
	json_decref(d);

	d = json_pack("{s:i}", "NextToken", 5);
	assert_null(pager_token_of(d, "NextToken"));
	json_decref(d);

	/* IAM: a Marker with IsTruncated false is not a next page. */
	d = json_pack("{s:s,s:s}", "Marker", "m", "IsTruncated", "false");
	assert_null(pager_token_of(d, "Marker"));
	json_decref(d);
	d = json_pack("{s:s,s:s}", "Marker", "m", "IsTruncated", "TRUE");
	assert_string_equal(pager_token_of(d, "Marker"), "m");
	json_decref(d);

	/* A path into the answer. */
	d = json_pack("{s:{s:s}}", "Result", "Marker", "deep");
	assert_string_equal(pager_token_of(d, "Result.Marker"), "deep");
	json_decref(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_token_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
