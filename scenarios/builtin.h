/*
 * builtin: what the built-in scenarios share (not part of the framework's
 * public surface): their definitions for the registry, and the per-region
 * instance scan that imds-reveal, mining-bitcoin and network-changes all
 * start with.
 */
#ifndef CLOUDSAGA_BUILTIN_H
#define CLOUDSAGA_BUILTIN_H

#include <stddef.h>

#include <jansson.h>

#include "scenario.h"

extern const struct scenario_def scenario_cloudtrail_tampering;
extern const struct scenario_def scenario_iam_credentials;
extern const struct scenario_def scenario_imds_reveal;
extern const struct scenario_def scenario_mining_bitcoin;
extern const struct scenario_def scenario_network_changes;
extern const struct scenario_def scenario_public_resources;

/* The tag every built-in puts on what it (dry-run) creates. */
#define SCEN_TAG_KEY	"CS-Purpose"

/* One region of a scenario that fans out over regions. */
struct region_scan {
	struct run		*run;
	const char		*region;	/* borrowed from run_regions() */
	struct run_group	*all;		/* held while the region works */
	int			 failed;	/* listing incomplete: stop here */
	size_t			 active;	/* pending/running/stopping/stopped */
	size_t			 listed;	/* every instance but terminated */
	void			*data;		/* the scenario's own */
	/* scan_instances() state */
	void			(*scan_cb)(struct region_scan *, json_t *);
	run_group_cb		 scan_done;
};

typedef void (*scan_instance_cb)(struct region_scan *, json_t *instance);

/*
 * One region_scan per region of the run (calloc'ed array, run_nregions()
 * long), each holding all: the scenario calls scan_region_done() at the
 * end of each region's chain; all's done callback then finishes the run.
 */
struct region_scan *scan_regions_new(struct run *, struct run_group **all);
void	 scan_region_done(struct region_scan *);

/*
 * ec2:DescribeInstances in rs's region, paginated; per_instance (may be
 * NULL) is called for every instance that is not terminated; done runs
 * when the listing is complete (or failed: rs->failed).
 */
void	 scan_instances(struct region_scan *, scan_instance_cb per_instance,
	    run_group_cb done);
/*
 * Every region's instances at once, the start of the scenarios that begin
 * with a listing: *rsp = scan_regions_new(), rs[i].data = the i-th
 * elem-sized item of data (run_nregions() + 1 of them, the caller's), then
 * scan_instances(&rs[i], per_instance, done) in every region, and the
 * run's group closed.  *rsp is set before the first call.
 */
void	 scan_instances_everywhere(struct run *, struct region_scan **rsp,
	    void *data, size_t elem, scan_instance_cb per_instance,
	    run_group_cb done);

/*
 * A failed answer as "InternalError (HTTP 500)", "connect after 3
 * attempts", ... into buf.
 */
const char *scen_failure(const struct aws_result *, char *buf, size_t len);

/*
 * After a failed call in a region: a note unless the region is merely not
 * enabled (the framework notes that), marking rs failed.  what: "listing
 * instances".
 */
void	 scen_region_failed(struct region_scan *, const struct aws_request *,
	    const struct aws_result *, const char *what);

/* "cloudsaga-<runid>": a name that cannot exist outside this run. */
char	*scen_safe_name(struct run *);

/* Settings helpers (run_settings() may be NULL). */
json_t	*scen_setting(struct run *, const char *key);
double	 scen_setting_num(struct run *, const char *key, double def);

#endif
