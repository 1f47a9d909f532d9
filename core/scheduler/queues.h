/* The functions whose queue may hold invocations (docs/architecture.md,
 * "Queues"): the scheduler asks the store for the heads of these queues
 * only. It grows from the store's notifications (a new invocation names its
 * function), from capacity freed in a pass, and from a skip scan of the
 * queue index when the scheduler becomes active and every 30 s; a function
 * leaves it when a pass found its queue shorter than its free capacity and
 * launched or ended all of it. Its size is the number of functions with a
 * queue, never the number of queued invocations. One thread only. */
#ifndef MN_SCHEDULER_QUEUES_H
#define MN_SCHEDULER_QUEUES_H

#include <stdbool.h>
#include <stddef.h>

#include "store/sched_snapshot.h"

struct mn_queues;

struct mn_queues *mn_queues_new(void);
void mn_queues_free(struct mn_queues *q); /* NULL-safe */
/* 0, or -1 when out of memory. */
int mn_queues_add(struct mn_queues *q, const char *project, const char *version,
                  const char *function);
void mn_queues_remove(struct mn_queues *q, const char *project, const char *version,
                      const char *function);
bool mn_queues_has(const struct mn_queues *q, const char *project, const char *version,
                   const char *function);
/* Adds the function of a notification payload "queue\x1fP\x1fV\x1fF";
 * other payloads are ignored. */
int mn_queues_add_payload(struct mn_queues *q, const char *payload);
size_t mn_queues_count(const struct mn_queues *q);
/* The keys as the store takes them, valid until the next change. */
struct mn_fn_keys mn_queues_keys(struct mn_queues *q);
/* The callback of mn_store_sched_queued_functions: adds the key. */
int mn_queues_add_key(void *q, const struct mn_function_key *key);

#endif
