/*
 * sigv4-vector: sign one case of the AWS SigV4 test suite layout.
 *
 *	sigv4-vector CASE_DIR [--token TOKEN]
 *
 * Reads CASE_DIR/NAME.req (NAME = the folder's name), signs it with the
 * suite's fixed inputs (key AKIDEXAMPLE, region us-east-1, service
 * "service", date from the request's X-Amz-Date) and prints the canonical
 * request, "----", the string to sign, "----" and the Authorization value,
 * each followed by a newline.  Exit 0, or 2 with a message on bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"
#include "sigv4_req.h"

static void
usage(void)
{
	fprintf(stderr, "usage: sigv4-vector CASE_DIR [--token TOKEN]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sigv4_output	 out;
	const char		*dir = NULL, *token = NULL;
	char			*cause;
	int			 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--token") == 0) {
			if (i + 1 >= argc || token != NULL)
				usage();
			token = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf("usage: sigv4-vector CASE_DIR [--token TOKEN]\n");
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			usage();
		else if (dir == NULL)
			dir = argv[i];
		else
			usage();
	}
	if (dir == NULL)
		usage();

	if (sigv4_case_sign(dir, token, NULL, &out, &cause) != 0) {
		fprintf(stderr, "sigv4-vector: %s\n", cause);
		free(cause);
		return 2;
	}
	printf("%s\n----\n%s\n----\n%s\n", out.creq, out.sts, out.authz);
	sigv4_output_free(&out);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("sigv4-vector: stdout");
		return 2;
	}
	return 0;
}
