/*
 * config_org: the configuration of Organizations discovery and sharding
 * (daemon/org.h): an account's organization group and daemon.shard.
 * Called from config.c's parsers, one line each; errors and warnings go
 * through config.c's own reporters (FILE:LINE).
 */
#ifndef CLOUDSAGA_CONFIG_ORG_H
#define CLOUDSAGA_CONFIG_ORG_H

#include <stdio.h>

#include <libconfig.h>

struct config;
struct config_account;
struct config_daemon;
struct config_org;
struct config_parse;

typedef void (*config_org_msg)(struct config_parse *,
	    const config_setting_t *, const char *fmt, ...);

struct config_org_env {
	struct config_parse	*p;
	config_org_msg		 err;
	config_org_msg		 warn;
	const struct config	*cfg;	/* daemon already parsed */
};

/*
 * The organization member of account group g (path "accounts[N]"), and
 * the warning for a listed account without an ID when sharding.
 */
void	 config_org_parse_account(const struct config_org_env *,
	    const config_setting_t *g, const char *path,
	    struct config_account *);
/* daemon.shard of the daemon group g (NULL: absent); default 1/1. */
void	 config_org_parse_shard(const struct config_org_env *,
	    const config_setting_t *g, struct config_daemon *);

void	 config_org_print_account(FILE *, const struct config_account *);
void	 config_org_print_shard(FILE *, const struct config_daemon *);
void	 config_org_free(struct config_org *);

/* -n: the share of the listed accounts this instance takes (stdout). */
void	 config_org_print_share(FILE *, const struct config *);

#endif
