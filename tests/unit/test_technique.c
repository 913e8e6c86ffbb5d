/*
 * The technique engine (#11): placeholder expansion, and every step of
 * the catalogue checked as the client would check it when it is sent:
 * a known service and operation, the safety guard's verdict (safe-fail
 * only with the run ID in a reference parameter of the safe-fail table),
 * an encodable request, a role and an evidence level.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws.h"
#include "scenario.h"
#include "technique.h"
#include "xmalloc.h"

#define RUN	"0123456789abcdef0123456789abcdef"
#define ACCOUNT	"123456789012"

static char *
expand(const char *tmpl, const char *account, json_t *collected,
    char **missing)
{
	struct technique_vars	 v = { RUN, account, "eu-west-1", collected };

	return technique_expand(tmpl, &v, missing);
}

static void
test_expand(void **state)
{
	json_t	*c = json_pack("{s:s}", "snap", "snap-0abc");
	char	*s, *missing = NULL;

	(void)state;
	s = expand("{run}/{run_id}/{name}/{region}/{account_id}", ACCOUNT, c,
	    &missing);
	assert_string_equal(s, RUN "/" RUN "/cloudsaga-" RUN "/eu-west-1/"
	    ACCOUNT);
	free(s);
	s = expand("{fake_instance_id} fl-{run17} {step.snap}", NULL, c,
	    &missing);
	assert_string_equal(s, "i-0123456789abcdef0 fl-0123456789abcdef0 "
	    "snap-0abc");
	free(s);
	/* JSON documents in strings are left alone. */
	s = expand("{\"Version\": \"2012-10-17\"} {} { x }", NULL, NULL,
	    &missing);
	assert_string_equal(s, "{\"Version\": \"2012-10-17\"} {} { x }");
	free(s);
	/* Missing values name the placeholder. */
	assert_null(expand("b-{account_id}", NULL, c, &missing));
	assert_string_equal(missing, "account_id");
	free(missing);
	assert_null(expand("{step.ami}", ACCOUNT, c, &missing));
	assert_string_equal(missing, "step.ami");
	free(missing);
	assert_null(expand("{nonsense}", ACCOUNT, c, &missing));
	assert_string_equal(missing, "nonsense");
	free(missing);
	json_decref(c);
}

/* Every string of j expanded, recursively. */
static void
expand_json(const char *id, json_t *j, json_t *collected)
{
	const char	*k;
	json_t		*v;
	size_t		 i;
	char		*x, *missing = NULL;

	json_object_foreach(j, k, v) {
		if (json_is_object(v) || json_is_array(v)) {
			expand_json(id, v, collected);
			continue;
		}
		if (!json_is_string(v))
			continue;
		x = expand(json_string_value(v), ACCOUNT, collected, &missing);
		if (x == NULL)
			fail_msg("%s: {%s} has no value", id, missing);
		json_object_set_new(j, k, json_string(x));
		free(x);
	}
	json_array_foreach(j, i, v) {
		if (json_is_object(v) || json_is_array(v)) {
			expand_json(id, v, collected);
			continue;
		}
		if (!json_is_string(v))
			continue;
		x = expand(json_string_value(v), ACCOUNT, collected, &missing);
		if (x == NULL)
			fail_msg("%s: {%s} has no value", id, missing);
		json_array_set_new(j, i, json_string(x));
		free(x);
	}
}

/* The request a step would send, its strings expanded. */
static struct aws_request *
step_request(const struct technique_step *s, json_t *collected)
{
	struct aws_request	*req;
	json_error_t		 err;
	json_t			*in;

	in = json_loads(s->params != NULL ? s->params : "{}", 0, &err);
	if (in == NULL)
		fail_msg("%s: %s", s->id, err.text);
	expand_json(s->id, in, collected);
	req = aws_request_new(aws_service_find(s->service), s->action,
	    "eu-west-1");
	req->input = in;
	req->safety = s->safety;
	req->run_id = xstrdup(RUN);
	req->call_seq = 1;
	req->expect_error = s->expect_error ? xstrdup(s->expect_error) : NULL;
	req->role = s->role;
	req->evidence = s->evidence;
	return req;
}

static void
test_catalogue_steps(void **state)
{
	const struct technique		*t;
	const struct technique_step	*s;
	struct aws_request		*req;
	struct aws_http			 h;
	json_t				*collected;
	char				*cause = NULL, *fb, *missing = NULL;
	size_t				 n = 0, signals;

	(void)state;
	for (t = technique_catalogue(); t->name != NULL; t++, n++) {
		assert_non_null(scenario_find(t->name));
		assert_non_null(t->tactic);
		assert_non_null(t->stratus);
		assert_non_null(t->mitre);
		collected = json_object();
		signals = 0;
		for (s = t->steps; s->id != NULL; s++) {
			if (aws_service_find(s->service) == NULL)
				fail_msg("%s: no service %s", t->name,
				    s->service);
			if (aws_action_known(aws_service_find(s->service),
			    s->action) != 1)
				fail_msg("%s: %s:%s unknown", t->name,
				    s->service, s->action);
			assert_true(s->role == AWS_ROLE_SIGNAL ||
			    s->role == AWS_ROLE_CONTEXT);
			signals += s->role == AWS_ROLE_SIGNAL;
			req = step_request(s, collected);
			if (aws_safety_check(req, 0, &cause) != 0)
				fail_msg("%s: %s:%s: %s", t->name, s->service,
				    s->action, cause);
			if (s->safety == AWS_SAFE_FAIL) {
				assert_non_null(aws_safe_fail_find(req->svc,
				    s->action));
				assert_non_null(s->expect_error);
			}
			if (s->safety == AWS_SAFE_DRY_RUN)
				assert_true(aws_request_is_dry_run(req));
			if (aws_encode(req, &h, &cause) != 0)
				fail_msg("%s: %s:%s: %s", t->name, s->service,
				    s->action, cause);
			aws_http_free(&h);
			aws_request_free(req);
			/* What a collecting step leaves for the next ones. */
			if (s->collect != NULL) {
				assert_non_null(s->fallback);
				fb = expand(s->fallback, ACCOUNT, NULL,
				    &missing);
				assert_non_null(fb);
				json_object_set_new(collected, s->id,
				    json_string(fb));
				free(fb);
			}
		}
		if (signals == 0)
			fail_msg("%s has no signal call", t->name);
		json_decref(collected);
	}
	assert_true(n >= 24);
}

/* The run ID moved out of the reference parameter: refused. */
static void
test_catalogue_guard_bites(void **state)
{
	const struct aws_service	*eic;
	struct aws_request		*req;
	char				*cause = NULL;

	(void)state;
	eic = aws_service_find("ec2-instance-connect");
	req = aws_request_new(eic, "SendSSHPublicKey", "us-east-1");
	req->safety = AWS_SAFE_FAIL;
	req->run_id = xstrdup(RUN);
	aws_request_set_str(req, "InstanceId", "i-0123456789abcdef0");
	assert_int_equal(aws_safety_check(req, 0, &cause), 0);
	/* Another instance ID: it may exist. */
	aws_request_set_str(req, "InstanceId", "i-1123456789abcdef0");
	aws_request_set_str(req, "SSHPublicKey", "ssh-ed25519 x "
	    "cloudsaga-" RUN);
	assert_int_equal(aws_safety_check(req, 0, &cause), -1);
	assert_non_null(strstr(cause, "InstanceId"));
	free(cause);
	aws_request_free(req);
	/* i-<17 digits> counts only where the table says {run_id17}. */
	req = aws_request_new(aws_service_find("lambda"), "AddPermission",
	    "us-east-1");
	req->safety = AWS_SAFE_FAIL;
	req->run_id = xstrdup(RUN);
	aws_request_set_str(req, "FunctionName", "i-0123456789abcdef0");
	assert_int_equal(aws_safety_check(req, 0, &cause), -1);
	free(cause);
	aws_request_free(req);
}

static void
test_unsafe_list(void **state)
{
	const struct technique_unsafe	*u;
	size_t				 n = 0;

	(void)state;
	for (u = technique_unsafe_list(); u->name != NULL; u++, n++) {
		assert_null(scenario_find(u->name));
		assert_ptr_equal(technique_unsafe_find(u->stratus), u);
		assert_true(strlen(u->why) > 40);
	}
	assert_true(n >= 7);
	assert_non_null(technique_unsafe_find("organizations-leave"));
	assert_null(technique_unsafe_find("cloudtrail-tampering"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_catalogue_steps),
		cmocka_unit_test(test_catalogue_guard_bites),
		cmocka_unit_test(test_unsafe_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
