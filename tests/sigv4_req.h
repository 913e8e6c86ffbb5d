/*
 * sigv4_req: the AWS SigV4 test suite's .req format (a raw HTTP/1.1 request
 * as text), shared by the sigv4-vector tool, unit.sigv4 and fuzz_sigv4.
 *
 * Request line "METHOD TARGET HTTP/x": the target is everything between the
 * first space and the last " HTTP/" (paths may contain spaces), split at the
 * first '?' into path and query.  Header lines "Name:value"; a line that
 * starts with a space or tab continues the previous header (kept with its
 * line break, for sigv4 to fold); repeated names stay separate entries.  An
 * empty line ends the head; everything after it is the body.  End of input
 * right after the headers means an empty body.  CRLF is accepted.
 */
#ifndef CLOUDSAGA_TESTS_SIGV4_REQ_H
#define CLOUDSAGA_TESTS_SIGV4_REQ_H

#include <stddef.h>

#include "sigv4.h"

/* The suite's fixed inputs (tests/data/sigv4/README.md section 2). */
#define SIGV4_SUITE_ACCESS_KEY	"AKIDEXAMPLE"
#define SIGV4_SUITE_SECRET_KEY	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SIGV4_SUITE_REGION	"us-east-1"
#define SIGV4_SUITE_SERVICE	"service"

/* Largest .req file read. */
#define SIGV4_REQ_MAX		(1024 * 1024)

struct sigv4_req {
	char			*method;
	char			*path;
	char			*query;		/* NULL: no '?' */
	struct sigv4_header	*headers;	/* name/value allocated */
	size_t			 nheaders;
	char			*body;		/* NUL-terminated too */
	size_t			 body_len;
};

/* Parse len bytes.  0, or -1 and *cause ("line N: ..."). */
int	 sigv4_req_parse(const char *data, size_t len, struct sigv4_req *ret,
	    char **cause);
void	 sigv4_req_free(struct sigv4_req *);

/* Read a whole file (at most SIGV4_REQ_MAX bytes).  0, or -1 + *cause. */
int	 sigv4_read_file(const char *path, char **ret_data, size_t *ret_len,
	    char **cause);

/* NAME of a case folder: its last path component ("a/b/get-vanilla/"). */
char	*sigv4_case_name(const char *dir);

/*
 * Sign DIR/NAME.req with the suite's fixed inputs and the given session
 * token (NULL: none).  0 and *out, or -1 and *cause.
 */
int	 sigv4_case_sign(const char *dir, const char *token,
	    struct sigv4_keycache *, struct sigv4_output *out, char **cause);

#endif
