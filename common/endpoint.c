/*
 * endpoint: hostnames per partition, IAM's global endpoint, S3 bucket
 * addressing, and the SDKs' endpoint overrides (see endpoint.h).
 *
 * Sources: botocore endpoints.json / partitions (dnsSuffix, IAM
 * credentialScope per partition), configprovider.py
 * (_ENDPOINT_URL_LOOKUP_ORDER), auth.py (_host_from_url) - facts only.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "buf.h"
#include "endpoint.h"
#include "util.h"
#include "xmalloc.h"

struct endpoint_partition {
	const char	*name;
	const char	*dns_suffix;
	const char	*iam_host;	/* the global IAM endpoint */
	const char	*iam_region;	/* ... and its signing region */
};

static const struct endpoint_partition endpoint_partitions[] = {
	{ "aws", "amazonaws.com", "iam.amazonaws.com", "us-east-1" },
	{ "aws-cn", "amazonaws.com.cn", "iam.cn-north-1.amazonaws.com.cn",
	    "cn-north-1" },
	{ "aws-us-gov", "amazonaws.com", "iam.us-gov.amazonaws.com",
	    "us-gov-west-1" },
};

/*
 * Global services other than IAM: their one endpoint per partition and its
 * signing region (botocore 1.43's endpoints.json, "partitionEndpoint").
 * A global service not listed here uses IAM's host and region.
 */
static const struct {
	const char	*service;	/* aws_service.id */
	const char	*partition;
	const char	*host;
	const char	*region;
} endpoint_global_hosts[] = {
	{ "organizations", "aws", "organizations.us-east-1.amazonaws.com",
	    "us-east-1" },
	{ "organizations", "aws-cn",
	    "organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1" },
	{ "organizations", "aws-us-gov",
	    "organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1" },
};

/* The global host of svc in part (NULL: IAM's), its region in *region. */
static const char *
endpoint_global_host(const struct aws_service *svc,
    const struct endpoint_partition *part, const char **region)
{
	size_t	 i;

	for (i = 0; i < nitems(endpoint_global_hosts); i++)
		if (strcmp(endpoint_global_hosts[i].service, svc->id) == 0 &&
		    strcmp(endpoint_global_hosts[i].partition,
		    part->name) == 0) {
			*region = endpoint_global_hosts[i].region;
			return endpoint_global_hosts[i].host;
		}
	*region = part->iam_region;
	return NULL;
}

static const struct endpoint_partition *
endpoint_partition_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(endpoint_partitions); i++) {
		if (strcmp(endpoint_partitions[i].name, name) == 0)
			return &endpoint_partitions[i];
	}
	return NULL;
}

/*
 * The regions of every partition, and the form of a region name in each
 * (botocore 1.43's endpoints.json: "regions" and "regionRegex").  Only
 * listed regions are accepted (a misspelt name would otherwise fail at
 * run time, or never match anything); a region opened since this list
 * was made is declared by the user (aws.extra_regions) and must have its
 * partition's form.  The iso partitions are known by name so they can be
 * refused as unsupported, not sent to amazonaws.com.
 */
static const struct {
	const char	*partition;
	const char	*prefixes;	/* "(p1|p2)-\\w+-\\d+" as "p1 p2" */
	const char *const regions[40];
} endpoint_regions[] = {
	{ "aws-us-gov", "us-gov", { "us-gov-east-1", "us-gov-west-1" } },
	{ "aws-iso", "us-iso", { "us-iso-east-1", "us-iso-west-1" } },
	{ "aws-iso-b", "us-isob", { "us-isob-east-1", "us-isob-west-1" } },
	{ "aws-iso-e", "eu-isoe", { "eu-isoe-west-1" } },
	{ "aws-iso-f", "us-isof", { "us-isof-east-1", "us-isof-south-1" } },
	{ "aws-eusc", "eusc-de", { "eusc-de-east-1" } },
	{ "aws-cn", "cn", { "cn-north-1", "cn-northwest-1" } },
	{ "aws", "us eu ap sa ca me af il mx", {
	    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1",
	    "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
	    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	    "ap-southeast-4", "ap-southeast-5", "ap-southeast-6",
	    "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
	    "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
	    "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1",
	    "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
	    "us-east-1", "us-east-2", "us-west-1", "us-west-2" } },
};

/* "<prefix>-<word>-<digits>" for one of the space-separated prefixes. */
static int
endpoint_region_form(const char *r, const char *prefixes)
{
	const char	*p = prefixes, *e, *q;
	size_t		 n;

	while (*p != '\0') {
		e = p + strcspn(p, " ");
		n = (size_t)(e - p);
		if (strncmp(r, p, n) == 0 && r[n] == '-') {
			q = r + n + 1;
			if (!islower((unsigned char)*q))
				goto next;
			while (islower((unsigned char)*q) ||
			    isdigit((unsigned char)*q))
				q++;
			if (*q++ != '-' || !isdigit((unsigned char)*q))
				goto next;
			while (isdigit((unsigned char)*q))
				q++;
			if (*q == '\0')
				return 1;
		}
next:
		p = *e == ' ' ? e + 1 : e;
	}
	return 0;
}

const char *
endpoint_region_partition(const char *region, int *known)
{
	size_t	 i, j;

	if (known != NULL)
		*known = 0;
	if (region == NULL)
		return NULL;
	for (i = 0; i < nitems(endpoint_regions); i++)
		for (j = 0; endpoint_regions[i].regions[j] != NULL; j++)
			if (strcmp(endpoint_regions[i].regions[j],
			    region) == 0) {
				if (known != NULL)
					*known = 1;
				return endpoint_regions[i].partition;
			}
	for (i = 0; i < nitems(endpoint_regions); i++)
		if (endpoint_region_form(region, endpoint_regions[i].prefixes))
			return endpoint_regions[i].partition;
	return NULL;
}

int
endpoint_region_check(const char *region, const char *partition,
    const char *const *extra, char **cause)
{
	const char	*part;
	size_t		 i;
	int		 known;

	if (region == NULL || *region == '\0') {
		*cause = xstrdup("empty region name");
		return -1;
	}
	if ((part = endpoint_region_partition(region, &known)) == NULL) {
		*cause = xprintf("bad region name \"%.64s\" (expected e.g. "
		    "\"us-east-1\")", region);
		return -1;
	}
	if (partition != NULL && strcmp(part, partition) != 0) {
		*cause = xprintf("region \"%s\" is not in partition \"%s\"",
		    region, partition);
		return -1;
	}
	if (endpoint_partition_find(part) == NULL) {
		*cause = xprintf("region \"%s\" is in partition %s, which "
		    "cloudsagad does not support", region, part);
		return -1;
	}
	for (i = 0; !known && extra != NULL && extra[i] != NULL; i++)
		if (strcmp(extra[i], region) == 0)
			known = 1;
	if (!known) {
		*cause = xprintf("region \"%s\" is not a region of partition "
		    "%s (misspelt?  If AWS opened it after this cloudsagad was "
		    "built, list it in aws.extra_regions)", region, part);
		return -1;
	}
	return 0;
}


const char *
endpoint_partition(const char *region)
{
	const char	*p;

	if (region == NULL || (p = endpoint_region_partition(region,
	    NULL)) == NULL)
		return "aws";
	return p;
}

const char *
endpoint_home_region(const char *partition)
{
	const struct endpoint_partition	*p;

	if (partition == NULL || (p = endpoint_partition_find(partition)) ==
	    NULL)
		return NULL;
	return p->iam_region;
}

const char *
endpoint_dns_suffix(const char *partition)
{
	const struct endpoint_partition	*p;

	if (partition == NULL || (p = endpoint_partition_find(partition)) ==
	    NULL)
		return NULL;
	return p->dns_suffix;
}

void
endpoint_free(struct aws_endpoint *ep)
{
	if (ep == NULL)
		return;
	free(ep->url);
	free(ep->host);
	free(ep->base_path);
	free(ep->signing_region);
	memset(ep, 0, sizeof(*ep));
}

static int
endpoint_region_valid(const char *r)
{
	size_t	 n, i;

	if (r == NULL || (n = strlen(r)) == 0 || n > 64)
		return 0;
	if (r[0] == '-' || r[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (!((r[i] >= 'a' && r[i] <= 'z') ||
		    (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
			return 0;
	}
	return 1;
}

int
endpoint_bucket_virtual(const char *b)
{
	size_t	 n, i;

	if (b == NULL || (n = strlen(b)) < 3 || n > 63)
		return 0;
	if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
		return 0;
	for (i = 0; i < n; i++) {
		if (!((b[i] >= 'a' && b[i] <= 'z') ||
		    (b[i] >= '0' && b[i] <= '9') || b[i] == '-'))
			return 0;
	}
	return 1;
}

static int
endpoint_env_true(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && strcasecmp(v, "true") == 0;
}

static int	 endpoint_parse_url(const char *, const char *,
		    struct aws_endpoint *, char **);

int
endpoint_url_check(const char *src, const char *url, char **cause)
{
	struct aws_endpoint	 ep;
	int			 rc;

	memset(&ep, 0, sizeof(ep));
	rc = endpoint_parse_url(src, url, &ep, cause);
	endpoint_free(&ep);
	return rc;
}

static const char *
endpoint_nonempty(const char *v)
{
	return v != NULL && *v != '\0' ? v : NULL;
}

/*
 * Parse and check an override URL from src (the variable or key, for the
 * message).  Fills url, host, base_path.
 */
static int
endpoint_parse_url(const char *src, const char *u, struct aws_endpoint *ep,
    char **cause)
{
	const char	*p, *auth, *auth_end, *h, *h_end, *port = NULL;
	const char	*echo;
	char		*scheme, *host, *hostport;
	size_t		 i, n;
	long		 portnum = 0;
	int		 https, v6 = 0;

	/* Never echo something that may carry user:password. */
	echo = strchr(u, '@') != NULL ? "(not shown)" : u;
	for (p = u; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*cause = xprintf("%s: spaces or control characters in "
			    "the endpoint URL", src);
			return -1;
		}
	}
	if ((p = strstr(u, "://")) == NULL) {
		*cause = xprintf("%s: endpoint URL %s has no scheme (want "
		    "http:// or https://)", src, echo);
		return -1;
	}
	scheme = xstrndup(u, (size_t)(p - u));
	for (i = 0; scheme[i] != '\0'; i++)
		scheme[i] = (char)tolower((unsigned char)scheme[i]);
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		*cause = xprintf("%s: endpoint URL %s: scheme must be http or "
		    "https", src, echo);
		free(scheme);
		return -1;
	}
	https = strcmp(scheme, "https") == 0;
	auth = p + 3;
	auth_end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL) {
		*cause = xprintf("%s: user information in an endpoint URL is "
		    "not allowed", src);
		free(scheme);
		return -1;
	}
	if (*auth_end == '?' || *auth_end == '#' ||
	    strpbrk(auth_end, "?#") != NULL) {
		*cause = xprintf("%s: endpoint URL %s: query or fragment not "
		    "allowed", src, echo);
		free(scheme);
		return -1;
	}
	h = auth;
	if (*h == '[') {
		v6 = 1;
		if ((h_end = memchr(h, ']', (size_t)(auth_end - h))) == NULL)
			goto badhost;
		h_end++;
		if (h_end < auth_end && *h_end != ':')
			goto badhost;
	} else {
		h_end = memchr(h, ':', (size_t)(auth_end - h));
		if (h_end == NULL)
			h_end = auth_end;
	}
	if (h_end < auth_end)
		port = h_end + 1;
	if (h_end == h || (v6 && h_end - h <= 2)) {
		*cause = xprintf("%s: endpoint URL %s has no host", src, echo);
		free(scheme);
		return -1;
	}
	for (p = h; p < h_end; p++) {
		if (v6 ? !(isxdigit((unsigned char)*p) || *p == ':' ||
		    *p == '.' || *p == '[' || *p == ']') :
		    !(isalnum((unsigned char)*p) || *p == '.' || *p == '-' ||
		    *p == '_'))
			goto badhost;
	}
	if (port != NULL) {
		n = (size_t)(auth_end - port);
		if (n == 0 || n > 5)
			goto badport;
		for (i = 0; i < n; i++) {
			if (!isdigit((unsigned char)port[i]))
				goto badport;
			portnum = portnum * 10 + (port[i] - '0');
		}
		if (portnum < 1 || portnum > 65535)
			goto badport;
	}

	host = xstrndup(h, (size_t)(h_end - h));
	for (i = 0; host[i] != '\0'; i++)
		host[i] = (char)tolower((unsigned char)host[i]);
	if (portnum != 0 && portnum != (https ? 443 : 80))
		hostport = xprintf("%s:%ld", host, portnum);
	else
		hostport = xstrdup(host);
	free(host);

	ep->url = xprintf("%s://%s", scheme, hostport);
	ep->host = hostport;
	n = strlen(auth_end);
	while (n > 0 && auth_end[n - 1] == '/')
		n--;
	ep->base_path = xstrndup(auth_end, n);
	free(scheme);
	return 0;

badhost:
	*cause = xprintf("%s: endpoint URL %s has an invalid host", src, echo);
	free(scheme);
	return -1;
badport:
	*cause = xprintf("%s: endpoint URL %s has an invalid port", src, echo);
	free(scheme);
	return -1;
}

/* The override in force and where it came from; 0 none, -1 error. */
static int
endpoint_override(const struct aws_service *svc,
    const struct endpoint_opts *opts, const char **ret_url, char **ret_src,
    char **cause)
{
	const char *const	*e;
	const char		*v, *eq;
	char			*name, *var;

	/* An explicit endpoint (the command line's --endpoint-url) beats
	 * every configured one, as in the AWS CLI. */
	if (opts != NULL &&
	    (v = endpoint_nonempty(opts->explicit_url)) != NULL) {
		*ret_url = v;
		*ret_src = xstrdup("--endpoint-url");
		return 1;
	}
	if (endpoint_env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
		return 0;
	if (svc->env_name != NULL) {
		var = xprintf("AWS_ENDPOINT_URL_%s", svc->env_name);
		if ((v = endpoint_nonempty(getenv(var))) != NULL) {
			*ret_url = v;
			*ret_src = var;
			return 1;
		}
		free(var);
	}
	if ((v = endpoint_nonempty(getenv("AWS_ENDPOINT_URL"))) != NULL) {
		*ret_url = v;
		*ret_src = xstrdup("AWS_ENDPOINT_URL");
		return 1;
	}
	if (opts == NULL)
		return 0;
	for (e = opts->service_urls; e != NULL && *e != NULL; e++) {
		if ((eq = strchr(*e, '=')) == NULL) {
			*cause = xprintf("service endpoint \"%s\" is not "
			    "service=url", *e);
			return -1;
		}
		name = xstrndup(*e, (size_t)(eq - *e));
		if (aws_service_find(name) == svc &&
		    (v = endpoint_nonempty(eq + 1)) != NULL) {
			*ret_url = v;
			*ret_src = xprintf("endpoint for %s", name);
			free(name);
			return 1;
		}
		free(name);
	}
	if ((v = endpoint_nonempty(opts->endpoint_url)) != NULL) {
		*ret_url = v;
		*ret_src = xstrdup("endpoint_url");
		return 1;
	}
	return 0;
}

int
endpoint_resolve(const struct aws_service *svc, const char *region,
    const char *bucket, const struct endpoint_opts *opts,
    struct aws_endpoint *ret, char **cause)
{
	const struct endpoint_partition	*part;
	struct aws_endpoint		 ep;
	const char			*pname, *url = NULL, *ghost, *gregion;
	char				*src = NULL;
	int				 s3, rc;

	if (svc == NULL) {
		*cause = xstrdup("no service");
		return -1;
	}
	if (!endpoint_region_valid(region)) {
		*cause = xprintf("%s: invalid region name", svc->id);
		return -1;
	}
	pname = opts != NULL && opts->partition != NULL ? opts->partition :
	    endpoint_partition(region);
	if ((part = endpoint_partition_find(pname)) == NULL) {
		*cause = xprintf("%s: partition %s (region %s) is not "
		    "supported", svc->id, pname, region);
		return -1;
	}
	s3 = strcmp(svc->id, "s3") == 0;

	memset(&ep, 0, sizeof(ep));
	ep.signing_name = svc->signing_name;
	ghost = svc->global ? endpoint_global_host(svc, part, &gregion) : NULL;
	ep.signing_region = xstrdup(svc->global ? gregion : region);

	if ((rc = endpoint_override(svc, opts, &url, &src, cause)) < 0) {
		endpoint_free(&ep);
		return -1;
	}
	if (rc > 0) {
		rc = endpoint_parse_url(src, url, &ep, cause);
		free(src);
		if (rc != 0) {
			endpoint_free(&ep);
			return -1;
		}
		ep.overridden = 1;
		ep.path_style = s3 && bucket != NULL;
		*ret = ep;
		return 0;
	}

	if (svc->global)
		ep.host = xstrdup(ghost != NULL ? ghost : part->iam_host);
	else if (s3 && bucket != NULL && endpoint_bucket_virtual(bucket))
		ep.host = xprintf("%s.%s.%s.%s", bucket, svc->endpoint_prefix,
		    region, part->dns_suffix);
	else {
		ep.host = xprintf("%s.%s.%s", svc->endpoint_prefix, region,
		    part->dns_suffix);
		ep.path_style = s3 && bucket != NULL;
	}
	ep.url = xprintf("https://%s", ep.host);
	ep.base_path = xstrdup("");
	*ret = ep;
	return 0;
}

void
endpoint_target(const struct aws_endpoint *ep, const char *bucket,
    const char *path, const char *query, char **ret_path, char **ret_url)
{
	struct buf	 b;
	char		*enc, *wire;
	int		 with_bucket;

	buf_init(&b);
	buf_addstr(&b, ep->base_path != NULL ? ep->base_path : "");
	with_bucket = ep->path_style && bucket != NULL && *bucket != '\0';
	if (with_bucket) {
		enc = uri_encode(bucket, strlen(bucket), 0);
		buf_printf(&b, "/%s", enc);
		free(enc);
	}
	if (path == NULL || *path == '\0')
		path = "/";
	if (!(with_bucket && strcmp(path, "/") == 0))
		buf_addstr(&b, path);
	wire = buf_release(&b);
	if (ret_url != NULL) {
		if (query != NULL && *query != '\0')
			*ret_url = xprintf("%s%s?%s", ep->url, wire, query);
		else
			*ret_url = xprintf("%s%s", ep->url, wire);
	}
	if (ret_path != NULL)
		*ret_path = wire;
	else
		free(wire);
}
