/*
 * endpoint: where a call goes and how it is signed.
 *
 * Standard hostnames per partition ({prefix}.{region}.{suffix}):
 *   aws         amazonaws.com      (regions us-*, eu-*, ap-*, ...)
 *   aws-cn      amazonaws.com.cn   (cn-*)
 *   aws-us-gov  amazonaws.com      (us-gov-*)
 * IAM is global: iam.amazonaws.com signed for us-east-1 (aws-cn:
 * iam.cn-north-1.amazonaws.com.cn / cn-north-1; aws-us-gov:
 * iam.us-gov.amazonaws.com / us-gov-west-1).  S3 uses virtual-hosted
 * addressing (bucket.s3.region.suffix) unless the bucket name has dots or an
 * override is in force, then path style.
 *
 * Overrides, as the AWS SDKs name them, first match wins (botocore's
 * order: service env > global env > service config > global config):
 *   AWS_ENDPOINT_URL_<SERVICE>  (EC2, CLOUDTRAIL, EVENTBRIDGE, IAM, STS, RDS,
 *                                S3, SSM, GUARDDUTY, CLOUDWATCH_LOGS,
 *                                CLOUDWATCH)
 *   AWS_ENDPOINT_URL
 *   the per-service config key (endpoint_opts.service_urls, "name=url"
 *   where name is anything aws_service_find() knows: "ec2",
 *   "cloudwatch_logs", "eventbridge")
 *   the config key (endpoint_opts.endpoint_url)
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (case-insensitive) ignores all
 * of them.  Empty values count as unset.  With an override the signing
 * region stays the call's region (IAM: its partition's signing region).
 *
 * An override must be http:// or https:// with a host, optionally a port
 * and a path (the base path); user info, query and fragment are refused,
 * and so is anything with control characters or spaces.  The cause names
 * the variable or key it came from.  Regions must be lower-case letters,
 * digits and '-'.  Partitions other than the three above (aws-iso...) are
 * refused with a cause.
 */
#ifndef CLOUDSAGA_ENDPOINT_H
#define CLOUDSAGA_ENDPOINT_H

struct aws_service;

struct endpoint_opts {
	const char	*partition;	/* NULL: from the region's name */
	const char	*endpoint_url;	/* config override, lowest priority */
	/* Per-service config overrides, NULL-terminated "service=url". */
	const char *const *service_urls;
	/* Explicit endpoint (--endpoint-url): beats everything above and
	 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, as in the AWS CLI. */
	const char	*explicit_url;
};

struct aws_endpoint {
	char		*url;		/* "https://ec2.us-east-1.amazonaws.com":
					   scheme://host, never a path */
	char		*host;		/* Host header: lower case, ":port"
					   only when not the scheme's default */
	char		*base_path;	/* path prefix from an override, "" or
					   "/prefix" (no trailing slash) */
	char		*signing_region;
	const char	*signing_name;
	int		 overridden;
	int		 path_style;	/* S3: bucket goes in the path */
};

/* Partition of a region: "aws", "aws-cn", "aws-us-gov", ... ("aws" for a
 * name of no partition's form). */
const char	*endpoint_partition(const char *region);
/*
 * The one region validator.  The partition of a region name, NULL when
 * it is no region at all ("mars-1"); *known (may be NULL) says whether it
 * is a listed region or only has a partition's form.
 */
const char	*endpoint_region_partition(const char *region, int *known);
/*
 * Is region a region of partition (NULL: of any supported partition)?  A
 * listed region, or one of extra (NULL-terminated, may be NULL: regions
 * the user declares, opened after the list was made) of the partition's
 * form.  0, or -1 + *cause.
 */
int		 endpoint_region_check(const char *region, const char *partition,
		    const char *const *extra, char **cause);
/* The region of a partition's global endpoints (IAM signs there, global
 * services' events land there): "us-east-1", "cn-north-1",
 * "us-gov-west-1"; NULL for a partition that is not supported. */
const char	*endpoint_home_region(const char *partition);
/* DNS suffix of a partition, NULL if unknown. */
const char	*endpoint_dns_suffix(const char *partition);

/*
 * Check an override URL as endpoint_resolve() will take it (the rules
 * above); src names where it comes from, for the message.  0, or -1 and
 * *cause (which never echoes a URL with user information).
 */
int	 endpoint_url_check(const char *src, const char *url, char **cause);

/* bucket: S3 bucket for virtual-host addressing, NULL otherwise. */
int	 endpoint_resolve(const struct aws_service *, const char *region,
	    const char *bucket, const struct endpoint_opts *,
	    struct aws_endpoint *ret, char **cause);
void	 endpoint_free(struct aws_endpoint *);

/*
 * Where a request goes: *ret_path is the path on the wire (and to sign):
 * base_path, then "/<bucket>" (URI-encoded) when the endpoint is path
 * style and bucket is set, then path (a bare "/" after a bucket is
 * dropped: "/bucket?location").  *ret_url is url + path + "?query" (no '?'
 * for an empty query).  Either out pointer may be NULL.
 */
void	 endpoint_target(const struct aws_endpoint *, const char *bucket,
	    const char *path, const char *query, char **ret_path,
	    char **ret_url);
/* Can this bucket be a DNS label (virtual-hosted, TLS-safe: no dots)? */
int	 endpoint_bucket_virtual(const char *bucket);

#endif
