/*
 * org: AWS Organizations discovery and sharding (#13).
 *
 * An account of the configuration may stand for an organisation:
 *
 *   accounts = ( { name = "org"; role_arn = "...";   # optional: the
 *                  organization = {                   # management or
 *                      role_name = "cloudsaga-audit"; # delegated-admin
 *                      external_id = "...";           # role to list with
 *                      exclude = [ "210987654321" ];
 *                  }; } );
 *
 * Each time a schedule entry that names it fires, the organisation's
 * accounts are listed (Organizations ListAccounts, paginated, ACTIVE
 * accounts only) with the organisation account's credentials, and one run
 * starts per member account, under the account name "ORG/ID" (ORG the
 * configured name, ID the 12-digit account ID), with the credentials of
 * sts:AssumeRole into arn:PARTITION:iam::ID:role/ROLE_NAME (ExternalId when
 * given) on top of the organisation account's credentials.
 *
 * shard = "K/N" (daemon group): this instance takes the accounts whose
 * 12-digit ID hashes to K-1 modulo N: the first 8 bytes of SHA-256 of the
 * ID's 12 ASCII digits, read as a big-endian unsigned 64-bit integer
 * (org_shard_hash).  Stable across versions, hosts and languages:
 *   python3 -c 'import hashlib,sys; print(int.from_bytes(hashlib.sha256(
 *     sys.argv[1].encode()).digest()[:8], "big") % N + 1)' 123456789012
 * prints the shard K that takes the account.  A listed account's ID is the
 * one in its role_arn; a listed account without role_arn (ambient
 * credentials) has no ID known before a call and belongs to shard 1.
 */
#ifndef CLOUDSAGA_ORG_H
#define CLOUDSAGA_ORG_H

#include <stddef.h>
#include <stdint.h>

struct aws_client;
struct creds_provider;
struct config;
struct config_account;

/* The organization group of an account (config_org.c parses it). */
struct config_org {
	char		*role_name;	/* [PATH/]NAME of the member role */
	char		*external_id;	/* NULL if none */
	char		**exclude;	/* account IDs, NULL-terminated */
	int		 line;
};

#define ORG_ID_LEN	12

/* ---- shard ----------------------------------------------------------- */

/* "K/N" with 1 <= K <= N <= ORG_SHARD_MAX: 0, or -1. */
#define ORG_SHARD_MAX	4096
int		 org_shard_parse(const char *, int *k, int *n);
/* The shard hash of a 12-digit account ID (see above). */
uint64_t	 org_shard_hash(const char *id);
/* Does shard k of n take the account with this ID (NULL: unknown)? */
int		 org_shard_takes(int k, int n, const char *id);
/* The 12-digit ID of a listed account (its role_arn's), or NULL. */
const char	*org_account_id(const struct config_account *, char *buf,
		    size_t len);
/* Does this instance take the listed account a? */
int		 org_shard_takes_account(const struct config *,
		    const struct config_account *);

/* ---- members ------------------------------------------------------------ */

/* Is s 12 ASCII digits? */
int		 org_id_valid(const char *s);

/*
 * A discovered member "ORG/ID" of an organisation account of cfg: a
 * struct config_account with the member role's ARN, the organisation's
 * ExternalId, session duration and regions; *parent is the organisation
 * account (its role_arn, if any, is assumed first).  NULL when name is
 * not of that form or ORG is not an organisation of cfg.  Free with
 * org_member_free().
 */
struct config_account *org_member_account(const struct config *,
		    const char *name, const struct config_account **parent);
void		 org_member_free(struct config_account *);

/* ---- ListAccounts -------------------------------------------------------- */

/*
 * The ACTIVE accounts of the organisation, sorted by ID, or an error:
 * code is the AWS error code (or NULL), msg a readable message.  ids and
 * the strings are valid during the callback only.
 */
typedef void (*org_list_cb)(char *const *ids, size_t n, const char *code,
		    const char *msg, void *arg);
struct org_list;
/* List with creds (borrowed; it must outlive the listing or the cancel). */
struct org_list	*org_list_accounts(struct aws_client *,
		    struct creds_provider *, const char *partition,
		    org_list_cb, void *arg);
/* No callback after this. */
void		 org_list_cancel(struct org_list *);

/* At most this many pages (20 accounts each: 20,000 accounts). */
#define ORG_LIST_MAX_PAGES	1000

/* ---- membership changes ------------------------------------------------ */

/*
 * What an organisation looked like at its last listing, to log accounts
 * joining and leaving once.  org_seen_update() logs the differences
 * (the first listing: one line with the count) and keeps ids.
 */
struct org_seen;
struct org_seen	*org_seen_new(void);
void		 org_seen_free(struct org_seen *);
void		 org_seen_update(struct org_seen *, const char *org,
		    char *const *ids, size_t n);

#endif
