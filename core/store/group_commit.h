/* Group commit: concurrent callers of one kind of write share one statement
 * (internal to core/store; docs/architecture.md §4, "Group commit of the
 * worker's /start and /finish").
 *
 * A caller queues its request and waits. When no group is in flight, the
 * caller becomes the leader: it takes the queued requests (at most
 * `max`), runs them with `run` outside the lock, marks them done and wakes
 * the waiters. Requests that arrive meanwhile form the next group. No
 * timer: a lone request runs at once, alone. */
#ifndef MN_STORE_GROUP_COMMIT_H
#define MN_STORE_GROUP_COMMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* The most requests one group takes. */
#define MN_GROUP_MAX 64

struct mn_group_req {
  struct mn_group_req *next;
  bool done; /* under the group's lock */
};

/* Runs reqs[0..n) (n >= 1) and sets each one's own result fields. */
typedef void mn_group_run_fn(void *ctx, struct mn_group_req **reqs, size_t n);

struct mn_group {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct mn_group_req *head, *tail; /* queued, not yet taken */
  bool in_flight;
  size_t max; /* 1..MN_GROUP_MAX */
  mn_group_run_fn *run;
  void *ctx;
};

void mn_group_init(struct mn_group *g, size_t max, mn_group_run_fn *run, void *ctx);
void mn_group_release(struct mn_group *g);
/* Queues r and returns once a leader (this caller or another) has run it. */
void mn_group_submit(struct mn_group *g, struct mn_group_req *r);

#endif
