#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "log.h"
#include "util.h"
#include "xmalloc.h"

double
now_real(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double
now_mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void
time_amz(time_t t, char buf[17])
{
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(buf, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void
time_iso8601(time_t t, char buf[21])
{
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
time_parse_iso8601(const char *s, time_t *ret)
{
	struct tm	 tm;
	const char	*p;
	int		 sign, oh, om;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	t = timegm(&tm);
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
		t -= sign * (oh * 3600 + om * 60);
		p += 6;
	}
	if (*p != '\0')
		return -1;
	*ret = t;
	return 0;
}

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void
sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t		 md[SHA256_DIGEST_LENGTH];
	unsigned int	 mdlen = sizeof(md);

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		fatalx("EVP_Digest(sha256) failed");
	hex_encode(md, sizeof(md), out);
}

static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

char *
uri_encode(const char *s, size_t len, int keep_slash)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out, *p;
	size_t			 i;

	out = p = xmalloc(len * 3 + 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (keep_slash && c == '/'))
			*p++ = (char)c;
		else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 0xf];
		}
	}
	*p = '\0';
	return out;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
uri_decode(const char *s, size_t len, int plus_space)
{
	char	*out, *p;
	size_t	 i;

	out = p = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*p++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else if (plus_space && s[i] == '+')
			*p++ = ' ';
		else
			*p++ = s[i];
	}
	*p = '\0';
	return out;
}

void
random_id128(char out[33])
{
	uint8_t	 b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		fatal("getrandom");
	hex_encode(b, sizeof(b), out);
}

double
random_unit(void)
{
	uint64_t	 r;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		fatal("getrandom");
	return (double)(r >> 11) / (double)(1ULL << 53);
}

int
duration_parse(const char *s, double *ret)
{
	double		 total = 0, v;
	const char	*p = s;
	char		*end;
	int		 any = 0;

	if (s == NULL)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		v = strtod(p, &end);
		if (end == p || !isfinite(v) || v < 0)
			return -1;
		p = end;
		if (strncmp(p, "ms", 2) == 0) {
			v /= 1000;
			p += 2;
		} else if (*p == 's') {
			p++;
		} else if (*p == 'm') {
			v *= 60;
			p++;
		} else if (*p == 'h') {
			v *= 3600;
			p++;
		} else if (*p == 'd') {
			v *= 86400;
			p++;
		} else if (*p == 'w') {
			v *= 7 * 86400;
			p++;
		} else if (*p == '\0' && !any) {
			/* bare number: seconds */
		} else
			return -1;
		total += v;
		any = 1;
	}
	if (total > 366.0 * 86400 * 10)
		return -1;
	*ret = total;
	return 0;
}

void
duration_format(double seconds, char *buf, size_t len)
{
	long long	 s = llround(seconds), d, h, m;
	size_t		 off = 0;

	if (seconds > 0 && seconds < 1) {
		snprintf(buf, len, "%lldms", llround(seconds * 1000));
		return;
	}
	if (s == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	d = s / 86400;
	s %= 86400;
	h = s / 3600;
	s %= 3600;
	m = s / 60;
	s %= 60;
	buf[0] = '\0';
#define APPEND(v, u) do {						\
	if ((v) != 0 && off < len)					\
		off += snprintf(buf + off, len - off, "%lld%s", (v), (u)); \
} while (0)
	APPEND(d, "d");
	APPEND(h, "h");
	APPEND(m, "m");
	APPEND(s, "s");
#undef APPEND
}

int
starts_with(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Length of the valid UTF-8 character at s (1 to 4), or 0 when s does not
 * start one (RFC 3629, section 4: no overlong forms, no surrogates,
 * nothing beyond U+10FFFF).  Reads no further than a NUL.
 */
static size_t
utf8_char_len(const unsigned char *s)
{
	unsigned char	 c = s[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

#define UTF8_REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

char *
str_cap_utf8(const char *s, size_t max)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len, i, n, w, o, total, room;
	char			*out;

	if (s == NULL)
		return NULL;
	if (max < STR_CAP_MIN)
		max = STR_CAP_MIN;
	len = strlen(s);
	/* The length of the whole, with U+FFFD for every invalid byte. */
	for (total = 0, i = 0; i < len; i += n ? n : 1) {
		n = utf8_char_len(u + i);
		total += n ? n : 3;
	}
	/* If it does not fit, keep room for the mark (N <= len). */
	room = max;
	if (total > max)
		room -= (size_t)snprintf(NULL, 0, " [truncated %zu bytes]",
		    len);
	out = xmalloc(max + 1);
	for (o = 0, i = 0; i < len; i += n ? n : 1, o += w) {
		n = utf8_char_len(u + i);
		w = n ? n : 3;
		if (o + w > room)
			break;
		memcpy(out + o, n ? s + i : UTF8_REPLACEMENT, w);
	}
	if (i < len)
		o += (size_t)snprintf(out + o, max + 1 - o,
		    " [truncated %zu bytes]", len - i);
	out[o] = '\0';
	return out;
}
