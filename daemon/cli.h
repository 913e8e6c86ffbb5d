/*
 * cli: the one-shot commands of cloudsagad (everything that is not the
 * long-running daemon): --call, and later --chapters, --about, --scenario.
 */
#ifndef CLOUDSAGA_CLI_H
#define CLOUDSAGA_CLI_H

#include <stddef.h>

/* Exit statuses shared by the one-shot commands. */
#define CLI_EXIT_OK		0	/* success (or nothing missing) */
#define CLI_EXIT_FAIL		1	/* the call failed / a gap was found */
#define CLI_EXIT_USAGE		2	/* bad command line, unknown name */
#define CLI_EXIT_REFUSED	3	/* the safety guard refused */

struct cli_opts {
	const char	*config_file;
	int		 config_given;
	int		 verbose;
	/* --call */
	const char	*call;		/* "service:Action" */
	const char	*region;
	char		**params;	/* "Key=Value" */
	size_t		 nparams;
	int		 allow_live;
	const char	*endpoint_url;
	const char	*profile;
};

int	 cli_call(const struct cli_opts *);

#endif
