/*
 * fuzz_xml: the XML -> JSON converter and the XML side of aws_decode
 * (EC2, query and S3 success and error bodies).  Any input must give a
 * tree or a cause, never a crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_decode(const char *svc, const char *action, long status, char *body,
    size_t len)
{
	struct aws_request	*req;
	struct http_response	 resp;
	struct aws_result	 res;

	req = aws_request_new(aws_service_find(svc), action, "us-east-1");
	memset(&resp, 0, sizeof(resp));
	resp.status = status;
	resp.body = body;
	resp.body_len = len;
	aws_result_init(&res);
	aws_decode(req, &resp, &res);
	aws_result_clear(&res);
	aws_request_free(req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t	*j;
	char	*body, *cause = NULL, *root = NULL;

	body = xmalloc(size + 1);
	memcpy(body, data, size);
	body[size] = '\0';

	if ((j = aws_xml_to_json(body, size, &cause)) != NULL) {
		json_t *l = aws_json_list(j);

		json_decref(l);
		json_decref(j);
	} else
		free(cause);
	cause = NULL;
	if ((j = aws_xml_parse(body, size, &root, &cause)) != NULL) {
		json_decref(j);
		free(root);
	} else
		free(cause);

	fuzz_decode("ec2", "DescribeInstances", 200, body, size);
	fuzz_decode("iam", "ListUsers", 400, body, size);
	fuzz_decode("s3", "DeletePublicAccessBlock", 404, body, size);
	free(body);
	return 0;
}
