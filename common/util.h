/*
 * util: small helpers shared by every module: time, hex, hashing,
 * percent-encoding, identifiers.
 */
#ifndef CLOUDSAGA_UTIL_H
#define CLOUDSAGA_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Wall clock, seconds since the epoch with sub-second precision. */
double	 now_real(void);
/* Monotonic clock in seconds. */
double	 now_mono(void);

/* "20150830T123600Z" (SigV4) into buf[17]. */
void	 time_amz(time_t, char buf[17]);
/* "2015-08-30T12:36:00Z" into buf[21]. */
void	 time_iso8601(time_t, char buf[21]);
/* Parse ISO 8601 UTC ("2015-08-30T12:36:00Z", fractional seconds and
 * "+00:00" offsets accepted).  -1 on error. */
int	 time_parse_iso8601(const char *, time_t *ret);

/* Lowercase hex of n bytes into out[2n+1]. */
void	 hex_encode(const uint8_t *, size_t n, char *out);
/* SHA-256 of data as 64 lowercase hex digits + NUL. */
void	 sha256_hex(const void *, size_t, char out[65]);

/*
 * RFC 3986 percent-encoding with uppercase hex: every byte except
 * A-Z a-z 0-9 - _ . ~ becomes %XY; '/' stays literal when keep_slash.
 * Returns an allocated string.
 */
char	*uri_encode(const char *, size_t len, int keep_slash);
/* Decode %XY (and '+' as space when plus_space); allocated result. */
char	*uri_decode(const char *, size_t len, int plus_space);

/* 128-bit random identifier as 32 lowercase hex digits into out[33]. */
void	 random_id128(char out[33]);
/* Uniform random double in [0, 1). */
double	 random_unit(void);

/*
 * Durations: "90s", "15m", "6h", "1d", "500ms", or a bare number of seconds;
 * several units may be combined ("1h30m").  Returns -1 on error.
 */
int	 duration_parse(const char *, double *ret_seconds);
/* Shortest exact form: "90s", "15m", "1h30m", "0s". */
void	 duration_format(double seconds, char *buf, size_t len);

/*
 * s as valid UTF-8 of at most max bytes, allocated: each byte that is not
 * part of a valid character (stray continuation bytes, truncated or
 * overlong sequences, surrogates, beyond U+10FFFF) becomes U+FFFD; text
 * that does not fit is cut on a character boundary and marked with
 * " [truncated N bytes]" (N bytes of s dropped), the mark within max.  A
 * max below STR_CAP_MIN counts as STR_CAP_MIN.  NULL in, NULL out.  For
 * text from peers that goes into log lines, journal fields and reports.
 */
#define STR_CAP_MIN	48
char	*str_cap_utf8(const char *s, size_t max);

/* Case-insensitive ASCII prefix test. */
int	 starts_with(const char *, const char *prefix);

#endif
