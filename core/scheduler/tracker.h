/* The scheduler's memory of what it has asked the providers to do: which
 * executions and functions have a provider call in flight, which wait for a
 * backoff after a transient failure, and which workers were already sent
 * their termination. Keyed by execution id or function path. Not thread-
 * safe: the scheduler guards it with its own mutex. */
#ifndef MN_SCHEDULER_TRACKER_H
#define MN_SCHEDULER_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mn_track {
  bool in_flight;        /* a provider call is running for it */
  bool terminate_sent;   /* the provider accepted its termination */
  int failures;          /* consecutive transient failures */
  int64_t not_before;    /* no new call before this time (backoff) */
  int64_t first_failure; /* when the current run of failures began */
  char last_error[256];  /* the last transient failure, for messages */
  uint64_t seen;         /* the pass that last mentioned it */
};

struct mn_tracker;

struct mn_tracker *mn_tracker_new(void);
void mn_tracker_free(struct mn_tracker *t);
/* The entry of key, created (zeroed) when missing; NULL on allocation
 * failure. Marks it seen in the current pass. */
struct mn_track *mn_tracker_get(struct mn_tracker *t, const char *key);
/* The entry of key or NULL, without creating or marking it. */
struct mn_track *mn_tracker_peek(struct mn_tracker *t, const char *key);
/* Starts a new pass: entries not seen during the previous one and not in
 * flight are dropped. */
void mn_tracker_new_pass(struct mn_tracker *t);
size_t mn_tracker_size(const struct mn_tracker *t);
/* Records a transient failure: exponential backoff from 100 ms to 30 s;
 * or, when retry_after_us > 0 (the provider's Retry-After, provider.h),
 * exactly that wait, at most MN_TRACK_RETRY_AFTER_MAX. */
#define MN_TRACK_RETRY_AFTER_MAX (INT64_C(15) * 60 * 1000000)
void mn_track_failed(struct mn_track *e, int64_t now, const char *message);
void mn_track_failed_after(struct mn_track *e, int64_t now, const char *message,
                           int64_t retry_after_us);
void mn_track_succeeded(struct mn_track *e);

#endif
