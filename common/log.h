/*
 * log: the tiny logging API used everywhere (OpenBSD ntpd's log.c shape).
 *
 * The backend is chosen once at start with log_init(): the systemd journal
 * (structured fields through sd_journal_send), syslog, or stderr.
 * log_pick() makes the usual choice: stderr on a terminal, the journal when
 * $JOURNAL_STREAM is set or the journal socket exists, syslog otherwise.
 *
 * log_warn() appends strerror(errno); the *x variants do not.  fatal() and
 * fatalx() log at LOG_CRIT and exit(1).  Never pass a secret to any of these.
 */
#ifndef CLOUDSAGA_LOG_H
#define CLOUDSAGA_LOG_H

#include <stdarg.h>
#include <syslog.h>

enum log_backend {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
	LOG_TO_JOURNAL,
};

enum log_backend log_pick(void);
void	 log_init(enum log_backend, const char *ident, int level);
void	 log_setlevel(int level);		/* LOG_DEBUG ... LOG_ERR */
/* stderr backend: start every line with the UTC time, ISO 8601 with
 * milliseconds ("2026-01-31T12:00:00.123Z cloudsagad: ..."). */
void	 log_timestamps(int on);
int	 log_getlevel(void);
enum log_backend log_getbackend(void);
const char *log_backend_name(enum log_backend);
/* "debug", "info", "notice", "warning", "err" -> LOG_*, -1 if unknown. */
int	 log_level_from_name(const char *);
const char *log_level_name(int);

void	 log_crit(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 vlog(int, const char *, va_list) __attribute__((format(printf, 2, 0)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Structured record.  fields is a NULL-terminated array of "KEY=value"
 * strings (journal field names: upper case, digits, underscore).
 * message_id is a 32-hex-digit id128 or NULL.  The journal gets every field
 * as is; syslog and stderr get the message followed by " key=value" pairs
 * (lower-cased keys, CLOUDSAGA_ prefix dropped) so nothing is lost there.
 * The record is emitted whatever the level threshold when prio <= LOG_NOTICE.
 */
void	 log_fields(int prio, const char *message_id, const char *const *fields,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
