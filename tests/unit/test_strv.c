/*
 * strv: the one string vector kit (common/strv.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strv.h"

static void
test_add_has_join(void **state)
{
	char	**v = NULL, *s;

	(void)state;
	assert_int_equal(strv_len(v), 0);
	assert_false(strv_has(v, "a"));
	s = strv_join(v, ", ");
	assert_string_equal(s, "");
	free(s);
	strv_add(&v, "eu-west-1");
	strv_add(&v, "us-east-1");
	assert_int_equal(strv_add_unique(&v, "eu-west-1"), 0);
	assert_int_equal(strv_add_unique(&v, "ap-south-1"), 1);
	assert_int_equal(strv_len(v), 3);
	assert_null(v[3]);
	assert_true(strv_has(v, "us-east-1"));
	assert_false(strv_has(v, "us-east"));
	s = strv_join(v, ", ");
	assert_string_equal(s, "eu-west-1, us-east-1, ap-south-1");
	free(s);
	strv_free(v);
	strv_free(NULL);
}

static void
test_dup_equal_match(void **state)
{
	char	**a = strv_new(), **b;

	(void)state;
	assert_non_null(a);
	assert_null(a[0]);
	assert_true(strv_equal(a, NULL));
	assert_null(strv_dup(NULL));
	strv_add(&a, "eu-*");
	strv_add(&a, "us-east-1");
	b = strv_dup((const char *const *)a);
	assert_true(b != a && b[0] != a[0]);
	assert_true(strv_equal(a, b));
	strv_add(&b, "x");
	assert_false(strv_equal(a, b));
	assert_false(strv_equal(b, a));
	free(b[1]);
	b[1] = strdup("us-east-2");
	free(b[2]);
	b[2] = NULL;
	assert_false(strv_equal(a, b));
	assert_true(strv_match(a, "eu-central-2"));
	assert_true(strv_match(a, "us-east-1"));
	assert_false(strv_match(a, "us-east-2"));
	assert_false(strv_match(NULL, "us-east-1"));
	strv_free(a);
	strv_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_has_join),
		cmocka_unit_test(test_dup_equal_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
