/*
 * pager: the pagination rule (same token twice, page cap, IsTruncated);
 * see pager.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "pager.h"
#include "util.h"
#include "xmalloc.h"

void
pager_init(struct pager *pg, int max_pages)
{
	memset(pg, 0, sizeof(*pg));
	pg->max_pages = max_pages < 1 ? 1 : max_pages;
}

static int
pager_seen(const struct pager *pg, const char *token)
{
	size_t	 i;

	for (i = 0; i < pg->nseen; i++)
		if (strcmp(pg->seen[i], token) == 0)
			return 1;
	return 0;
}

enum pager_step
pager_next(struct pager *pg, const char *token)
{
	pg->pages++;
	if (token == NULL || *token == '\0')
		return PAGER_DONE;
	if (pager_seen(pg, token))
		return PAGER_REPEAT;
	if (pg->pages >= pg->max_pages)
		return PAGER_CAPPED;
	pg->seen = xreallocarray(pg->seen, pg->nseen + 1, sizeof(*pg->seen));
	pg->seen[pg->nseen++] = xstrdup(token);
	return PAGER_MORE;
}

const char *
pager_token(const struct pager *pg)
{
	return pg->nseen > 0 ? pg->seen[pg->nseen - 1] : NULL;
}

int
pager_truncated(enum pager_step step)
{
	return step == PAGER_REPEAT || step == PAGER_CAPPED;
}

const char *
pager_step_name(enum pager_step step)
{
	switch (step) {
	case PAGER_DONE:
		return "done";
	case PAGER_MORE:
		return "more";
	case PAGER_REPEAT:
		return "repeat";
	case PAGER_CAPPED:
		return "capped";
	}
	return "unknown";
}

void
pager_move(struct pager *dst, struct pager *src)
{
	*dst = *src;
	src->seen = NULL;
	src->nseen = 0;
	src->pages = 0;
}

void
pager_clear(struct pager *pg)
{
	size_t	 i;

	if (pg == NULL)
		return;
	for (i = 0; i < pg->nseen; i++)
		free(pg->seen[i]);
	free(pg->seen);
	pg->seen = NULL;
	pg->nseen = 0;
	pg->pages = 0;
}

const char *
pager_token_of(json_t *data, const char *member)
{
	const char	*token, *trunc;

	if (data == NULL || member == NULL)
		return NULL;
	token = aws_json_str(data, member);
	if (token == NULL || *token == '\0')
		return NULL;
	trunc = aws_json_str(data, "IsTruncated");
	if (trunc != NULL && strcasecmp(trunc, "true") != 0)
		return NULL;
	return token;
}
