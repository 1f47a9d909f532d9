/* A bounded pool of threads for blocking calls (provider operations), so
 * they never run on the scheduler's decision thread. Jobs run in FIFO order;
 * submit fails instead of blocking when the queue is full. */
#ifndef MN_SCHEDULER_POOL_H
#define MN_SCHEDULER_POOL_H

#include <stddef.h>

struct mn_pool;

typedef void mn_pool_job_fn(void *arg);

/* threads >= 1, queue_max >= 1; each thread is named NAME (util/thread_name.h).
 * 0 or MN_ENOMEM / MN_EINTERNAL. */
int mn_pool_new(const char *name, size_t threads, size_t queue_max, struct mn_pool **out);
/* Queues fn(arg). 0, or MN_EUNAVAILABLE when the queue is full or the pool
 * is stopping (the caller keeps ownership of arg then). */
int mn_pool_submit(struct mn_pool *pool, mn_pool_job_fn *fn, void *arg);
/* Jobs queued or running. */
size_t mn_pool_pending(struct mn_pool *pool);
/* Runs the jobs already queued, joins the threads, frees. NULL-safe. */
void mn_pool_free(struct mn_pool *pool);

#endif
