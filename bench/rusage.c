/*
 * rusage: run a command and write its wall time and peak RSS as JSON.
 *
 *   rusage OUTFILE COMMAND [ARG]...
 *
 * Exits with the command's exit status (128 + signal when it was killed,
 * 127 when it could not be started).  The benchmarks need this small
 * launcher because a process started directly from Python inherits the
 * Python interpreter's peak RSS: Linux carries the high-water mark of the
 * memory image a process had before execve() into ru_maxrss.  Forked from
 * this small program instead, the command's ru_maxrss is its own.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct rusage	 ru;
	FILE		*f;
	double		 t0, t1;
	pid_t		 pid;
	int		 status, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: rusage OUTFILE COMMAND [ARG]...\n");
		return 2;
	}
	t0 = now();
	if ((pid = fork()) == -1) {
		perror("rusage: fork");
		return 127;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rusage: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) == -1)
		if (errno != EINTR) {
			perror("rusage: wait4");
			return 127;
		}
	t1 = now();
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else
		rc = 128 + WTERMSIG(status);
	if ((f = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 127;
	}
	fprintf(f, "{\"wall_s\": %.6f, \"maxrss_kb\": %ld, \"user_s\": %.6f, "
	    "\"sys_s\": %.6f, \"status\": %d}\n", t1 - t0, ru.ru_maxrss,
	    ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, rc);
	if (fclose(f) != 0) {
		perror(argv[1]);
		return 127;
	}
	return rc;
}
