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
 * Overrides, as the AWS SDKs name them, first match wins:
 *   AWS_ENDPOINT_URL_<SERVICE>  (EC2, CLOUDTRAIL, EVENTBRIDGE, IAM, STS, RDS,
 *                                S3, SSM, GUARDDUTY, CLOUDWATCH_LOGS, ...)
 *   AWS_ENDPOINT_URL
 *   the config key (endpoint_opts.endpoint_url)
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores all three.  With an
 * override the signing region stays the call's region (IAM: us-east-1).
 */
#ifndef CLOUDSAGA_ENDPOINT_H
#define CLOUDSAGA_ENDPOINT_H

struct aws_service;

struct endpoint_opts {
	const char	*partition;	/* NULL: from the region's name */
	const char	*endpoint_url;	/* config override, lowest priority */
	/* Per-service config overrides, NULL-terminated "service=url". */
	const char *const *service_urls;
};

struct aws_endpoint {
	char		*url;		/* "https://ec2.us-east-1.amazonaws.com" */
	char		*host;		/* Host header: "host[:port]" */
	char		*base_path;	/* path prefix from an override, "" */
	char		*signing_region;
	const char	*signing_name;
	int		 overridden;
	int		 path_style;	/* S3: bucket goes in the path */
};

/* Partition of a region: "aws", "aws-cn", "aws-us-gov". */
const char	*endpoint_partition(const char *region);
/* DNS suffix of a partition, NULL if unknown. */
const char	*endpoint_dns_suffix(const char *partition);

/* bucket: S3 bucket for virtual-host addressing, NULL otherwise. */
int	 endpoint_resolve(const struct aws_service *, const char *region,
	    const char *bucket, const struct endpoint_opts *,
	    struct aws_endpoint *ret, char **cause);
void	 endpoint_free(struct aws_endpoint *);

#endif
