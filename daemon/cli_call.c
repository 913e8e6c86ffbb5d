/*
 * cli_call: `cloudsagad --call SERVICE:Action [--region R] [--param K=V]...`
 * sends one signed call through the engine and prints the decoded result,
 * or the AWS error, as one JSON object on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "aws.h"
#include "cli.h"
#include "client.h"
#include "creds.h"
#include "http.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

struct call_state {
	int	 done;
	int	 exit_status;
};

static const char *
cli_default_region(const struct cli_opts *o)
{
	const char	*r;

	if (o->region != NULL)
		return o->region;
	if ((r = getenv("AWS_REGION")) != NULL && *r != '\0')
		return r;
	if ((r = getenv("AWS_DEFAULT_REGION")) != NULL && *r != '\0')
		return r;
	return "us-east-1";
}

static void
cli_call_done(const struct aws_request *req, struct aws_result *res,
    void *arg)
{
	struct call_state	*st = arg;
	json_t			*o, *err;
	char			*s;

	o = json_object();
	json_object_set_new(o, "service", json_string(req->svc->id));
	json_object_set_new(o, "action", json_string(req->action));
	json_object_set_new(o, "region", json_string(req->region));
	json_object_set_new(o, "outcome",
	    json_string(aws_outcome_name(res->outcome)));
	if (res->status != 0)
		json_object_set_new(o, "http_status",
		    json_integer(res->status));
	if (res->request_id != NULL)
		json_object_set_new(o, "request_id",
		    json_string(res->request_id));
	json_object_set_new(o, "attempts", json_integer(res->attempts));
	if (res->error_code != NULL) {
		err = json_object();
		json_object_set_new(err, "code", json_string(res->error_code));
		if (res->error_message != NULL)
			json_object_set_new(err, "message",
			    json_string(res->error_message));
		json_object_set_new(o, "error", err);
	}
	if (res->data != NULL)
		json_object_set(o, "data", res->data);
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);

	switch (res->outcome) {
	case AWS_OK:
	case AWS_PERMITTED:
		st->exit_status = CLI_EXIT_OK;
		break;
	case AWS_REFUSED:
		st->exit_status = CLI_EXIT_REFUSED;
		break;
	default:
		st->exit_status = CLI_EXIT_FAIL;
		break;
	}
	st->done = 1;
}

/* A JSON-protocol value: valid JSON as is, anything else as a string. */
static json_t *
cli_json_value(const char *v)
{
	json_t	*j;

	if ((j = json_loads(v, JSON_DECODE_ANY, NULL)) != NULL)
		return j;
	return json_string(v);
}

int
cli_call(const struct cli_opts *o)
{
	const struct aws_service	*svc;
	struct aws_request		*req;
	struct event_base		*base;
	struct http_engine		*http;
	struct aws_client		*client;
	struct aws_client_opts		 copts;
	struct creds_provider		*creds;
	struct creds_ctx		 cctx;
	struct call_state		 st;
	char				*svcname, *action, *k, *v;
	size_t				 i;

	svcname = xstrdup(o->call);
	if ((action = strchr(svcname, ':')) == NULL || action[1] == '\0' ||
	    action == svcname) {
		fprintf(stderr, "cloudsagad: --call wants SERVICE:Action, "
		    "e.g. ec2:DescribeRegions\n");
		free(svcname);
		return CLI_EXIT_USAGE;
	}
	*action++ = '\0';
	if ((svc = aws_service_find(svcname)) == NULL) {
		const struct aws_service *s;

		fprintf(stderr, "cloudsagad: unknown service \"%s\"; known:",
		    svcname);
		for (s = aws_services(); s->id != NULL; s++)
			fprintf(stderr, " %s", s->id);
		fprintf(stderr, "\n");
		free(svcname);
		return CLI_EXIT_USAGE;
	}
	req = aws_request_new(svc, action, cli_default_region(o));
	free(svcname);
	for (i = 0; i < o->nparams; i++) {
		k = xstrdup(o->params[i]);
		if ((v = strchr(k, '=')) == NULL || v == k) {
			fprintf(stderr, "cloudsagad: --param wants Key=Value, "
			    "not \"%s\"\n", o->params[i]);
			free(k);
			aws_request_free(req);
			return CLI_EXIT_USAGE;
		}
		*v++ = '\0';
		if (svc->protocol == AWS_PROTO_EC2 ||
		    svc->protocol == AWS_PROTO_QUERY)
			aws_request_add(req, k, "%s", v);
		else
			aws_request_set(req, k, cli_json_value(v));
		free(k);
	}
	req->safety = o->allow_live ? AWS_SAFE_LIVE : AWS_SAFE_AUTO;
	if (!o->allow_live && !aws_action_is_read_only(svc, req->action) &&
	    !aws_request_is_dry_run(req))
		req->safety = AWS_SAFE_AUTO;

	base = event_base_new();
	if (base == NULL)
		fatalx("event_base_new failed");
	http = http_engine_new(base, NULL);
	memset(&copts, 0, sizeof(copts));
	copts.allow_live = o->allow_live;
	copts.endpoints.explicit_url = o->endpoint_url;
	client = aws_client_new(base, http, &copts);
	cctx.base = base;
	cctx.http = http;
	cctx.sts = aws_client_sts(client);
	creds = creds_default_chain(&cctx, o->profile);

	memset(&st, 0, sizeof(st));
	st.exit_status = CLI_EXIT_FAIL;
	aws_client_send(client, creds, req, cli_call_done, &st);
	while (!st.done)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;

	/* Providers first: an AssumeRole provider may hold a client call. */
	creds_provider_free(creds);
	aws_client_free(client);
	http_engine_free(http);
	event_base_free(base);
	return st.exit_status;
}
