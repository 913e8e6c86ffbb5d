/*
 * wipe: freed memory that held secrets is wiped first.
 *
 * Credential documents (IMDS and container JSON, STS XML) pass through
 * libcurl's buffers, expat, jansson and our own buffers; free() leaves
 * their bytes in the heap, and realloc() leaves a copy behind whenever it
 * moves a block.  So the libraries get allocators that wipe:
 *
 *   - jansson (process-wide, from before main()): malloc, and a free that
 *     wipes the whole block (its size from malloc_usable_size(); no size
 *     header, so json_dumps() results may still be freed with free(), as
 *     the code does, and blocks from before the switch are fine too);
 *   - libcurl (http_global_init()): the same free, a realloc that copies
 *     and wipes, malloc, calloc, strdup;
 *   - expat (per parser, in awsxml.c): its own allocator with a size
 *     header, which also bounds its memory.
 *
 * Our own buffers that hold secrets use struct buf's secure mode
 * (buf_init_secure()) and freezero().
 *
 * Why jansson globally rather than only around credential parsing: an
 * allocator can only change while no block of the old one is alive (a tree
 * outlives the parse: a decoded STS answer is freed by the client later),
 * and the cost is small: decoding and freeing a LookupEvents-like document
 * took 2% longer, a document of 200000 small values 10% (measured, see
 * docs/ARCHITECTURE.md).
 */
#ifndef CLOUDSAGA_WIPE_H
#define CLOUDSAGA_WIPE_H

#include <stddef.h>

/* free(), wiping the whole block first.  NULL is fine. */
void	 wipe_free(void *);
/* realloc() that never leaves a copy: a new block, the old one wiped. */
void	*wipe_realloc(void *, size_t);
/* Install the wiping free in jansson (done before main(); idempotent). */
void	 wipe_init(void);

#endif
