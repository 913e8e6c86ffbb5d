/*
 * aws XML -> JSON mapping and the safety of both body parsers: DOCTYPE and
 * entity declarations (billion laughs, external entities) are refused,
 * deep nesting and oversized bodies are refused, truncated or broken
 * input is an error with a cause - never a crash, never a partial tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "xmalloc.h"

static json_t *
x2j(const char *xml)
{
	char	*cause = NULL;
	json_t	*j;

	j = aws_xml_to_json(xml, strlen(xml), &cause);
	if (j == NULL)
		fail_msg("aws_xml_to_json failed: %s", cause);
	return j;
}

/* Expect a failure whose cause contains want. */
static void
x2j_fails(const char *xml, size_t len, const char *want)
{
	char	*cause = NULL;
	json_t	*j;

	j = aws_xml_to_json(xml, len, &cause);
	if (j != NULL) {
		json_decref(j);
		fail_msg("accepted: %.60s", xml);
	}
	assert_non_null(cause);
	if (want != NULL && strstr(cause, want) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, want);
	free(cause);
}

static void
assert_json(json_t *j, const char *want)
{
	char	*got;

	got = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (strcmp(got, want) != 0)
		fail_msg("\n got  %s\n want %s", got, want);
	free(got);
}

static void
test_mapping(void **state)
{
	json_t	*j;

	(void)state;
	/* EC2: root dropped, <item> lists, one item still a list, empty "" */
	j = x2j("<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/"
	    "2016-11-15/\"><requestId>r</requestId><vpcSet><item><vpcId>"
	    "vpc-1</vpcId><tagSet/></item></vpcSet><nextToken/>"
	    "</DescribeVpcsResponse>");
	assert_json(j, "{\"requestId\":\"r\",\"vpcSet\":[{\"vpcId\":\"vpc-1\","
	    "\"tagSet\":\"\"}],\"nextToken\":\"\"}");
	json_decref(j);

	/* Query: Result hoisted, ResponseMetadata dropped, <member> lists */
	j = x2j("<ListRolesResponse><ListRolesResult><Roles><member><RoleName>"
	    "a</RoleName></member><member><RoleName>b</RoleName></member>"
	    "</Roles><IsTruncated>true</IsTruncated><Marker>m</Marker>"
	    "</ListRolesResult><ResponseMetadata><RequestId>x</RequestId>"
	    "</ResponseMetadata></ListRolesResponse>");
	assert_json(j, "{\"Roles\":[{\"RoleName\":\"a\"},{\"RoleName\":\"b\"}],"
	    "\"IsTruncated\":\"true\",\"Marker\":\"m\"}");
	json_decref(j);

	/* No-output query operation: nothing left. */
	j = x2j("<DeleteUserResponse><ResponseMetadata><RequestId>x"
	    "</RequestId></ResponseMetadata></DeleteUserResponse>");
	assert_json(j, "{}");
	json_decref(j);

	/* A Result that does not match the Response is not hoisted. */
	j = x2j("<FooResponse><BarResult><a>1</a></BarResult></FooResponse>");
	assert_json(j, "{\"BarResult\":{\"a\":\"1\"}}");
	json_decref(j);

	/* Repeated siblings become an array (flattened lists, S3). */
	j = x2j("<R><Bucket>a</Bucket><Other>o</Other><Bucket>b</Bucket>"
	    "<Bucket>c</Bucket></R>");
	assert_json(j, "{\"Bucket\":[\"a\",\"b\",\"c\"],\"Other\":\"o\"}");
	json_decref(j);

	/* Repeated structures, whose own members repeat. */
	j = x2j("<R><E><k>1</k><k>2</k></E><E><k>3</k></E></R>");
	assert_json(j, "{\"E\":[{\"k\":[\"1\",\"2\"]},{\"k\":\"3\"}]}");
	json_decref(j);

	/* item mixed with other names is not a list. */
	j = x2j("<R><s><item>1</item><count>1</count></s></R>");
	assert_json(j, "{\"s\":{\"item\":\"1\",\"count\":\"1\"}}");
	json_decref(j);

	/* Namespace prefixes and attributes ignored; mixed text ignored. */
	j = x2j("<a:R xmlns:a=\"urn:x\" xmlns:b=\"urn:y\"><b:v attr=\"1\">"
	    "x</b:v>stray<w>y</w></a:R>");
	assert_json(j, "{\"v\":\"x\",\"w\":\"y\"}");
	json_decref(j);

	/* Text kept byte for byte (no trimming, no type guessing),
	 * entities and CDATA decoded; pretty-printed empties are "". */
	j = x2j("<R><t>  a &amp; b &lt;c&gt; &#x263A;</t><n>007</n>"
	    "<c><![CDATA[<raw>]]></c><e>\n    </e><s> </s></R>");
	assert_json(j, "{\"t\":\"  a & b <c> \\u263A\",\"n\":\"007\","
	    "\"c\":\"<raw>\",\"e\":\"\",\"s\":\" \"}");
	json_decref(j);

	/* A text-only root keeps its name (S3 GetBucketLocation). */
	j = x2j("<?xml version=\"1.0\"?>\n<LocationConstraint>eu-west-1"
	    "</LocationConstraint>");
	assert_json(j, "{\"LocationConstraint\":\"eu-west-1\"}");
	json_decref(j);

	/* Other encodings are decoded to UTF-8. */
	j = x2j("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><R><n>caf\xe9"
	    "</n></R>");
	assert_json(j, "{\"n\":\"caf\\u00E9\"}");
	json_decref(j);
}

static void
test_parse_keeps_root(void **state)
{
	json_t	*j;
	char	*root = NULL, *cause = NULL;
	const char *xml = "<ListUsersResponse><ListUsersResult><Users/>"
	    "</ListUsersResult><ResponseMetadata><RequestId>rid</RequestId>"
	    "</ResponseMetadata></ListUsersResponse>";

	(void)state;
	j = aws_xml_parse(xml, strlen(xml), &root, &cause);
	assert_non_null(j);
	assert_string_equal(root, "ListUsersResponse");
	assert_string_equal(aws_json_str(j, "ResponseMetadata.RequestId"),
	    "rid");
	j = aws_xml_unwrap(j, root);
	assert_json(j, "{\"Users\":\"\"}");
	json_decref(j);
	free(root);
}

static void
test_doctype_and_entities(void **state)
{
	static const char *const bombs[] = {
		/* billion laughs */
		("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		"<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
		"<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
		"]><lolz>&lol3;</lolz>"),
		/* external entity (XXE) */
		("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM "
		"\"file:///etc/passwd\">]><r>&x;</r>"),
		/* external DTD */
		"<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/x.dtd\"><r/>",
		/* a harmless-looking DOCTYPE is refused too */
		"<!DOCTYPE html><r>x</r>",
		/* parameter entities */
		"<!DOCTYPE r [<!ENTITY % p \"<!ENTITY q 'x'>\"> %p;]><r>&q;</r>",
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bombs) / sizeof(bombs[0]); i++)
		x2j_fails(bombs[i], strlen(bombs[i]), "DOCTYPE");
	/* An undeclared entity is a plain parse error. */
	x2j_fails("<r>&lol;</r>", 12, "undefined entity");
}

static void
test_depth_and_size(void **state)
{
	struct buf	 b;
	json_t		*j;
	char		*cause = NULL;
	int		 i;

	(void)state;
	/* AWS_XML_MAX_DEPTH levels are fine, one more is not. */
	buf_init(&b);
	for (i = 0; i < AWS_XML_MAX_DEPTH; i++)
		buf_addstr(&b, "<a>");
	buf_addstr(&b, "x");
	for (i = 0; i < AWS_XML_MAX_DEPTH; i++)
		buf_addstr(&b, "</a>");
	j = aws_xml_to_json(b.data, b.len, &cause);
	assert_non_null(j);
	json_decref(j);
	buf_reset(&b);
	for (i = 0; i < 100000; i++)
		buf_addstr(&b, "<a>");
	x2j_fails(b.data, b.len, "too deep");

	/* Oversized bodies are refused before parsing. */
	x2j_fails(b.data, (size_t)AWS_XML_MAX_SIZE + 1, "too large");
	buf_free(&b);

	/* Too many elements: the root and AWS_XML_MAX_NODES - 1 children
	 * are fine, one more is not. */
	buf_init(&b);
	buf_addstr(&b, "<r>");
	for (i = 0; i < AWS_XML_MAX_NODES - 1; i++)
		buf_addstr(&b, "<i/>");
	buf_addstr(&b, "</r>");
	j = aws_xml_to_json(b.data, b.len, &cause);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "i")),
	    AWS_XML_MAX_NODES - 1);
	json_decref(j);
	b.len -= 4;
	buf_addstr(&b, "<i/></r>");
	x2j_fails(b.data, b.len, "too many elements");
	buf_free(&b);
}

/*
 * A document of about len bytes, and fewer than AWS_XML_MAX_NODES
 * elements: <r><a0>text</a0><a1>text</a1>... (1000 distinct names).
 */
static void
xml_names(struct buf *b, size_t len)
{
	size_t	 i;

	buf_addstr(b, "<r>");
	for (i = 0; b->len + 120 < len; i++)
		buf_printf(b, "<a%zx>%s</a%zx>", i % 1000, "0123456789abcdef"
		    "0123456789abcdef0123456789abcdef0123456789abcdef"
		    "0123456789abcdef", i % 1000);
	buf_addstr(b, "</r>");
}

/*
 * The byte limits are those of an AWS answer (8 MiB), not more: a body
 * of 9 MiB is refused before parsing even when it is valid and small in
 * elements.
 */
static void
test_size_limits(void **state)
{
	struct buf	 b;
	json_t		*j;
	char		*cause = NULL;

	(void)state;
	assert_true(AWS_XML_MAX_SIZE <= 8 * 1024 * 1024);
	assert_true(AWS_JSON_MAX_SIZE <= 8 * 1024 * 1024);
	buf_init(&b);
	buf_addstr(&b, "<r><a>");
	while (b.len < 9 * 1024 * 1024)
		buf_addstr(&b, "0123456789abcdef");
	buf_addstr(&b, "</a></r>");
	x2j_fails(b.data, b.len, "too large");
	buf_reset(&b);
	buf_addstr(&b, "{\"a\":\"");
	while (b.len < 9 * 1024 * 1024)
		buf_addstr(&b, "0123456789abcdef");
	buf_addstr(&b, "\"}");
	j = aws_json_parse(b.data, b.len, &cause);
	assert_null(j);
	assert_non_null(strstr(cause, "too large"));
	free(cause);
	buf_free(&b);
}

/*
 * What expat itself allocates is bounded (AWS_XML_MAX_PARSER_MEM): one
 * start tag with a million attributes (dropped by the mapping, but held
 * by expat while it reads the tag: ~90 MB for 8 MiB) fails cleanly.
 */
static void
test_parser_memory(void **state)
{
	struct buf	 b;
	json_t		*j;
	char		*cause = NULL;
	size_t		 i;

	(void)state;
	buf_init(&b);
	buf_addstr(&b, "<r ");
	for (i = 0; b.len + 40 < AWS_XML_MAX_SIZE; i++)
		buf_printf(&b, "a%zx='' ", i);
	buf_addstr(&b, "/>");
	x2j_fails(b.data, b.len, "memory");
	buf_reset(&b);
	/* A legitimate document of the full size parses. */
	xml_names(&b, AWS_XML_MAX_SIZE);
	j = aws_xml_to_json(b.data, b.len, &cause);
	if (j == NULL)
		fail_msg("%s", cause);
	json_decref(j);
	buf_free(&b);
}

/*
 * Values per JSON document, keys included (AWS_JSON_MAX_VALUES): the
 * array and AWS_JSON_MAX_VALUES - 1 numbers are fine, one more is not;
 * likewise for the costliest shape, empty objects (~230 bytes each).
 */
static void
test_json_value_limit(void **state)
{
	struct buf	 b;
	json_t		*j;
	char		*cause = NULL;
	size_t		 i;

	(void)state;
	buf_init(&b);
	buf_addch(&b, '[');
	for (i = 0; i < AWS_JSON_MAX_VALUES - 1; i++)
		buf_addstr(&b, i == 0 ? "1" : ", 1");
	buf_addch(&b, ']');
	j = aws_json_parse(b.data, b.len, &cause);
	if (j == NULL)
		fail_msg("%s", cause);
	assert_int_equal(json_array_size(j), AWS_JSON_MAX_VALUES - 1);
	json_decref(j);
	b.len--;
	buf_addstr(&b, ",-2.5e3]");
	j = aws_json_parse(b.data, b.len, &cause);
	assert_null(j);
	assert_non_null(strstr(cause, "too many values"));
	free(cause);

	/* {"a":[{},{},...]}: 3 + n values. */
	buf_reset(&b);
	buf_addstr(&b, "{\"a\":[");
	for (i = 0; i < AWS_JSON_MAX_VALUES - 3; i++)
		buf_addstr(&b, i == 0 ? "{}" : ",{}");
	buf_addstr(&b, "]}");
	j = aws_json_parse(b.data, b.len, &cause);
	if (j == NULL)
		fail_msg("%s", cause);
	json_decref(j);
	b.len -= 2;
	buf_addstr(&b, ",{}]}");
	j = aws_json_parse(b.data, b.len, &cause);
	assert_null(j);
	assert_non_null(strstr(cause, "too many values"));
	free(cause);

	/* Keys count; strings, true/false/null count once each; nothing
	 * inside strings counts. */
	buf_reset(&b);
	buf_addch(&b, '{');
	for (i = 0; i < (AWS_JSON_MAX_VALUES - 1) / 2; i++)
		buf_printf(&b, "%s\"k%zu\":%s", i == 0 ? "" : ",", i,
		    i % 3 == 0 ? "true" : i % 3 == 1 ? "null" : "\"[1,2,{}]\"");
	buf_addch(&b, '}');
	j = aws_json_parse(b.data, b.len, &cause);
	if (j == NULL)
		fail_msg("%s", cause);
	json_decref(j);
	b.len--;
	buf_addstr(&b, ",\"x\":false}");
	j = aws_json_parse(b.data, b.len, &cause);
	assert_null(j);
	assert_non_null(strstr(cause, "too many values"));
	free(cause);
	buf_free(&b);
}

static void
test_broken_xml(void **state)
{
	static const char *const bad[] = {
		"<DescribeInstancesResponse><reservationSet><item>",
		"<a><b></a></b>",
		"<a>",
		"text only",
		"<a/><b/>",
		"<a x=\"1></a>",
		"<\xff\xfe/>",
		"<a>\xc3\x28</a>",		/* invalid UTF-8 */
		"   ",
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		x2j_fails(bad[i], strlen(bad[i]), NULL);
	x2j_fails("", 0, "empty");
	x2j_fails(NULL, 0, "empty");
	/* A NUL inside the body. */
	x2j_fails("<a>x\0y</a>", 10, NULL);
}

static void
test_json_parse_limits(void **state)
{
	struct buf	 b;
	json_t		*j;
	char		*cause = NULL;
	int		 i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < AWS_JSON_MAX_DEPTH; i++)
		buf_addch(&b, '[');
	for (i = 0; i < AWS_JSON_MAX_DEPTH; i++)
		buf_addch(&b, ']');
	j = aws_json_parse(b.data, b.len, &cause);
	assert_non_null(j);
	json_decref(j);
	buf_reset(&b);
	for (i = 0; i < 100000; i++)
		buf_addstr(&b, "{\"a\":");
	j = aws_json_parse(b.data, b.len, &cause);
	assert_null(j);
	assert_non_null(strstr(cause, "too deep"));
	free(cause);
	/* Brackets inside strings do not count. */
	buf_reset(&b);
	buf_addstr(&b, "{\"s\":\"");
	for (i = 0; i < 1000; i++)
		buf_addstr(&b, "[{\\\"");
	buf_addstr(&b, "\"}");
	j = aws_json_parse(b.data, b.len, &cause);
	assert_non_null(j);
	json_decref(j);

	j = aws_json_parse(b.data, (size_t)AWS_JSON_MAX_SIZE + 1, &cause);
	assert_null(j);
	assert_non_null(strstr(cause, "too large"));
	free(cause);
	buf_free(&b);

	j = aws_json_parse("{} x", 4, &cause);
	assert_null(j);
	free(cause);
	j = aws_json_parse("{\"a\":\"\xc3\x28\"}", 10, &cause);
	assert_null(j);
	free(cause);
	j = aws_json_parse("", 0, &cause);
	assert_null(j);
	assert_non_null(strstr(cause, "empty"));
	free(cause);
	j = aws_json_parse("{\"k\":secretvalue}", 17, &cause);
	assert_null(j);
	assert_null(strstr(cause, "secretvalue"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_parse_keeps_root),
		cmocka_unit_test(test_doctype_and_entities),
		cmocka_unit_test(test_depth_and_size),
		cmocka_unit_test(test_broken_xml),
		cmocka_unit_test(test_json_parse_limits),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_parser_memory),
		cmocka_unit_test(test_json_value_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
