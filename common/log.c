#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

static enum log_backend	 log_backend = LOG_TO_STDERR;
static int		 log_level = LOG_INFO;
static const char	*log_ident = "cloudsagad";
static int		 log_stamps;	/* stderr: UTC timestamp first */

static const struct {
	const char	*name;
	int		 level;
} log_levels[] = {
	{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT }, { "crit", LOG_CRIT },
	{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
	{ "warn", LOG_WARNING }, { "notice", LOG_NOTICE }, { "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

enum log_backend
log_pick(void)
{
	struct stat	 sb;

	if (getenv("JOURNAL_STREAM") != NULL)
		return LOG_TO_JOURNAL;
	if (isatty(STDERR_FILENO))
		return LOG_TO_STDERR;
	if (stat("/run/systemd/journal/socket", &sb) == 0 && S_ISSOCK(sb.st_mode))
		return LOG_TO_JOURNAL;
	return LOG_TO_SYSLOG;
}

void
log_init(enum log_backend backend, const char *ident, int level)
{
	if (ident != NULL)
		log_ident = ident;
	log_backend = backend;
	log_level = level;
	if (backend == LOG_TO_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_setlevel(int level)
{
	log_level = level;
}

void
log_timestamps(int on)
{
	log_stamps = on;
}

/* "2026-01-31T12:00:00.123Z" (24 characters) into buf. */
static void
log_stamp(char *buf, size_t len)
{
	struct timespec	 ts;
	struct tm	 tm;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
	    tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
	    tm.tm_sec % 100, (int)(ts.tv_nsec / 1000000) % 1000);
}

int
log_getlevel(void)
{
	return log_level;
}

enum log_backend
log_getbackend(void)
{
	return log_backend;
}

const char *
log_backend_name(enum log_backend b)
{
	switch (b) {
	case LOG_TO_JOURNAL:
		return "journal";
	case LOG_TO_SYSLOG:
		return "syslog";
	case LOG_TO_STDERR:
		break;
	}
	return "stderr";
}

int
log_level_from_name(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcasecmp(name, log_levels[i].name) == 0)
			return log_levels[i].level;
	return -1;
}

const char *
log_level_name(int level)
{
	size_t	 i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return "unknown";
}

static void
log_emit(int prio, const char *msg, const char *tail)
{
	char	 stamp[40];

	switch (log_backend) {
	case LOG_TO_JOURNAL:
		sd_journal_send("MESSAGE=%s%s", msg, tail, "PRIORITY=%d", prio,
		    "SYSLOG_IDENTIFIER=%s", log_ident, NULL);
		break;
	case LOG_TO_SYSLOG:
		syslog(prio, "%s%s", msg, tail);
		break;
	case LOG_TO_STDERR:
		if (log_stamps) {
			log_stamp(stamp, sizeof(stamp));
			fprintf(stderr, "%s %s: %s%s\n", stamp, log_ident, msg,
			    tail);
		} else
			fprintf(stderr, "%s: %s%s\n", log_ident, msg, tail);
		fflush(stderr);
		break;
	}
}

void
vlog(int prio, const char *fmt, va_list ap)
{
	char	*msg;
	int	 saved = errno;

	if (prio > log_level)
		return;
	if (vasprintf(&msg, fmt, ap) == -1) {
		log_emit(LOG_CRIT, "out of memory formatting a log line", "");
		errno = saved;
		return;
	}
	log_emit(prio, msg, "");
	free(msg);
	errno = saved;
}

static void vlog_errno(int, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
vlog_errno(int prio, int err, const char *fmt, va_list ap)
{
	char	*msg, *tail = NULL;

	if (prio > log_level && prio > LOG_CRIT)
		return;
	if (fmt == NULL) {
		log_emit(prio, strerror(err), "");
		return;
	}
	if (vasprintf(&msg, fmt, ap) == -1)
		return;
	if (asprintf(&tail, ": %s", strerror(err)) == -1)
		tail = NULL;
	log_emit(prio, msg, tail ? tail : "");
	free(tail);
	free(msg);
}

void
log_crit(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_NOTICE, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (log_level < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (log_level < LOG_CRIT)
		log_level = LOG_CRIT;
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

/* "CLOUDSAGA_EVENT_NAME=x" -> " event_name=x" for the flat backends. */
static char *
log_flatten(const char *const *fields)
{
	char	*out = NULL;
	size_t	 len = 0, i, j;
	FILE	*f;

	if ((f = open_memstream(&out, &len)) == NULL)
		return NULL;
	for (i = 0; fields != NULL && fields[i] != NULL; i++) {
		const char	*kv = fields[i], *eq = strchr(kv, '=');

		if (eq == NULL)
			continue;
		if (strncmp(kv, "CLOUDSAGA_", 10) == 0)
			kv += 10;
		fputc(' ', f);
		for (j = 0; kv + j < eq; j++)
			fputc(kv[j] >= 'A' && kv[j] <= 'Z' ? kv[j] + 32 : kv[j], f);
		fputc('=', f);
		if (strpbrk(eq + 1, " \t\"") != NULL || eq[1] == '\0') {
			const char *p;

			fputc('"', f);
			for (p = eq + 1; *p != '\0'; p++) {
				if (*p == '"' || *p == '\\')
					fputc('\\', f);
				fputc(*p, f);
			}
			fputc('"', f);
		} else
			fputs(eq + 1, f);
	}
	fclose(f);
	return out;
}

void
log_fields(int prio, const char *message_id, const char *const *fields,
    const char *fmt, ...)
{
	va_list		 ap;
	char		*msg = NULL, *tail;
	struct iovec	*iov;
	char		**owned;
	size_t		 n = 0, i, k = 0;

	if (prio > log_level && prio > LOG_NOTICE)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return;

	if (log_backend != LOG_TO_JOURNAL) {
		tail = log_flatten(fields);
		log_emit(prio, msg, tail ? tail : "");
		free(tail);
		free(msg);
		return;
	}

	while (fields != NULL && fields[n] != NULL)
		n++;
	iov = calloc(n + 4, sizeof(*iov));
	owned = calloc(4, sizeof(*owned));
	if (iov == NULL || owned == NULL)
		goto out;
	if (asprintf(&owned[0], "MESSAGE=%s", msg) == -1 ||
	    asprintf(&owned[1], "PRIORITY=%d", prio) == -1 ||
	    asprintf(&owned[2], "SYSLOG_IDENTIFIER=%s", log_ident) == -1)
		goto out;
	if (message_id != NULL &&
	    asprintf(&owned[3], "MESSAGE_ID=%s", message_id) == -1)
		goto out;
	for (i = 0; i < 4; i++) {
		if (owned[i] == NULL)
			continue;
		iov[k].iov_base = owned[i];
		iov[k++].iov_len = strlen(owned[i]);
	}
	for (i = 0; i < n; i++) {
		if (strchr(fields[i], '=') == NULL)
			continue;
		iov[k].iov_base = (void *)fields[i];
		iov[k++].iov_len = strlen(fields[i]);
	}
	sd_journal_sendv(iov, (int)k);
out:
	if (owned != NULL)
		for (i = 0; i < 4; i++)
			free(owned[i]);
	free(owned);
	free(iov);
	free(msg);
}
