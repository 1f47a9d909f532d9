/* The derived status of an invocation (docs/compatibility.md §6.4): PENDING,
 * RUNNING, CANCELLING, SUCCEEDED, FAILED, CANCELLED or TIMED OUT, decided
 * from the invocation and its attempts as the original client decides it,
 * first rule that matches wins, times in whole seconds. One implementation
 * for the daemon (event streams, ?wait_seconds) and the C client and CLI;
 * each turns its own input (the store's model, an event snapshot, an
 * InvocationInfo) into the facts below. What it reads of each attempt is
 * mirrored by mn_attempt_facts of migration 11 (core/store/migrations.c):
 * a change here goes there too. */
#ifndef MN_COMMON_DERIVED_STATUS_H
#define MN_COMMON_DERIVED_STATUS_H

#include <stdbool.h>

/* The same order as the client's enum mn_status (include/multinode/client.h). */
enum mn_derived {
  MN_DERIVED_PENDING = 0,
  MN_DERIVED_RUNNING,
  MN_DERIVED_CANCELLING,
  MN_DERIVED_SUCCEEDED,
  MN_DERIVED_FAILED,
  MN_DERIVED_CANCELLED,
  MN_DERIVED_TIMED_OUT
};

/* What the rules read of an attempt's worker status and outcome; OTHER is
 * any other worker status, or an outcome this code does not know. */
enum mn_derived_worker { MN_DERIVED_WORKER_OTHER = 0, MN_DERIVED_WORKER_RUNNING,
                         MN_DERIVED_WORKER_TERMINATED };
enum mn_derived_outcome { MN_DERIVED_OUTCOME_NONE = 0, MN_DERIVED_OUTCOME_SUCCEEDED,
                          MN_DERIVED_OUTCOME_FAILED, MN_DERIVED_OUTCOME_ABORTED,
                          MN_DERIVED_OUTCOME_OTHER };

struct mn_derived_attempt {
  enum mn_derived_worker worker;
  enum mn_derived_outcome outcome;
  bool started;       /* has an execution_start_time */
  bool signalled;     /* has a termination_signal_time ... */
  long long signal_s; /* ... this one, in whole seconds */
};

struct mn_derived_invocation {
  bool terminated;    /* invocation_status TERMINATED */
  bool queue_timeout; /* termination_reason QUEUE_TIMEOUT */
  bool cancelling;    /* has a cancellation_request_time */
  long long creation_s, last_update_s;
  bool has_start_at;  /* a delayed start: timeout_seconds counts from the later of the two */
  long long start_at_s;
  long long timeout_seconds, max_retries;
};

/* The attempts seen so far: mn_derived_begin, mn_derived_add for each
 * attempt in any order, then mn_derived_end. */
struct mn_derived_tally {
  long long deadline_s;
  bool success, abort, abort_late, running;
  int failed; /* attempts that failed (§6.4 "failed") */
};

void mn_derived_begin(struct mn_derived_tally *t, const struct mn_derived_invocation *inv);
void mn_derived_add(struct mn_derived_tally *t, const struct mn_derived_attempt *a);
enum mn_derived mn_derived_end(const struct mn_derived_tally *t,
                               const struct mn_derived_invocation *inv);

/* "PENDING", ..., "TIMED OUT"; "UNKNOWN" out of range. */
const char *mn_derived_name(enum mn_derived s);
/* SUCCEEDED, FAILED, CANCELLED or TIMED OUT. */
bool mn_derived_finished(enum mn_derived s);

#endif
