/*
 * fuzz_json_decode: aws_json_parse, JSON error-code extraction and the
 * JSON side of aws_decode (JSON 1.1 and REST-JSON, success and error, with
 * and without X-Amzn-Errortype).  The first byte picks the case, the rest
 * is the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct {
	const char	*svc, *action;
	long		 status;
} fuzz_cases[] = {
	{ "cloudtrail", "LookupEvents", 200 },
	{ "cloudtrail", "LookupEvents", 400 },
	{ "events", "DeleteRule", 200 },
	{ "events", "TestEventPattern", 500 },
	{ "guardduty", "ListFindings", 200 },
	{ "guardduty", "GetDetector", 403 },
	{ "logs", "DescribeMetricFilters", 503 },
	{ "ssm", "GetParameter", 429 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_request	*req;
	struct http_response	 resp;
	struct http_header	 hdr;
	struct aws_result	 res;
	json_t			*j;
	char			*body, *cause = NULL, *code;
	size_t			 n;
	unsigned		 sel;

	if (size == 0)
		return 0;
	sel = data[0];
	data++;
	size--;
	body = xmalloc(size + 1);
	memcpy(body, data, size);
	body[size] = '\0';

	if ((j = aws_json_parse(body, size, &cause)) != NULL)
		json_decref(j);
	else
		free(cause);
	code = aws_json_error_code(body);
	free(code);

	n = sel % (sizeof(fuzz_cases) / sizeof(fuzz_cases[0]));
	req = aws_request_new(aws_service_find(fuzz_cases[n].svc),
	    fuzz_cases[n].action, "eu-west-1");
	memset(&resp, 0, sizeof(resp));
	resp.status = fuzz_cases[n].status;
	resp.body = body;
	resp.body_len = size;
	if (sel & 0x80) {
		/* The body's first line doubles as an X-Amzn-Errortype. */
		hdr.name = (char *)"X-Amzn-Errortype";
		hdr.value = xstrndup(body, strcspn(body, "\n"));
		resp.headers = &hdr;
		resp.nheaders = 1;
	}
	aws_result_init(&res);
	aws_decode(req, &resp, &res);
	aws_result_clear(&res);
	aws_request_free(req);
	if (resp.nheaders > 0)
		free(hdr.value);
	free(body);
	return 0;
}
