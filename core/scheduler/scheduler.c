/* The decision loop: hold the advisory lock, LISTEN for the store's
 * notifications, run a pass whenever something happened or a deadline is
 * due, and sleep in between. */
#include "scheduler/scheduler.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "scheduler/internal.h"
#include "store/sched_snapshot.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/thread_name.h"

void mn_sched_wake_loop(struct mn_scheduler *s, enum mn_sched_wake why) {
  atomic_fetch_or(&s->wake_why, (unsigned)why);
  uint64_t one = 1;
  ssize_t n = write(s->wake_fd, &one, sizeof one);
  (void)n; /* a full counter still wakes the loop */
}

void mn_scheduler_wake(struct mn_scheduler *s) {
  atomic_fetch_add(&s->reports, 1);
  atomic_store(&s->inspect_now, true);
  mn_sched_wake_loop(s, MN_WAKE_PROVIDER);
}

static void provider_waker(void *ctx) { mn_scheduler_wake(ctx); }

bool mn_scheduler_is_active(struct mn_scheduler *s) { return atomic_load(&s->active); }

static void drop_lock_conn(struct mn_scheduler *s) {
  if (s->lock_conn)
    PQfinish(s->lock_conn);
  s->lock_conn = NULL;
  if (atomic_exchange(&s->active, false))
    mn_log_warn("scheduler", "lost the scheduler lock; standing by");
}

/* Tries to become the active scheduler: connect, take the lock, LISTEN. */
static bool try_activate(struct mn_scheduler *s) {
  if (!s->lock_conn) {
    s->lock_conn = PQconnectdb(mn_store_dsn(s->store));
    if (PQstatus(s->lock_conn) != CONNECTION_OK) {
      drop_lock_conn(s);
      return false;
    }
  }
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%" PRId64 ")",
           (int64_t)MN_SCHEDULER_LOCK_KEY);
  PGresult *r = PQexec(s->lock_conn, sql);
  bool got = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
             strcmp(PQgetvalue(r, 0, 0), "t") == 0;
  bool broken = PQresultStatus(r) != PGRES_TUPLES_OK;
  PQclear(r);
  if (broken) {
    drop_lock_conn(s);
    return false;
  }
  if (!got)
    return false;
  r = PQexec(s->lock_conn, "LISTEN multinode");
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!ok) {
    drop_lock_conn(s);
    return false;
  }
  atomic_store(&s->active, true);
  s->reconciled = false;
  s->next_queue_scan = 0; /* notifications were missed while standing by */
  s->next_inspect = 0;
  mn_log_info("scheduler", "active: this daemon now schedules");
  return true;
}

/* Consumes notifications (*n_out, when not NULL, gets how many); false
 * when the lock session is gone. */
static bool take_notifications(struct mn_scheduler *s, int *n_out) {
  int count = 0;
  if (n_out)
    *n_out = 0;
  if (!s->lock_conn)
    return false;
  if (!PQconsumeInput(s->lock_conn) || PQstatus(s->lock_conn) != CONNECTION_OK) {
    drop_lock_conn(s);
    return false;
  }
  PGnotify *n;
  while ((n = PQnotifies(s->lock_conn)) != NULL) {
    count++;
    if (n->extra && strcmp(n->extra, "project") == 0)
      s->projects_dirty = true;
    else if (n->extra && mn_queues_add_payload(s->queues, n->extra) < 0)
      s->next_queue_scan = 0; /* out of memory: rebuild the set from the index */
    PQfreemem(n);
  }
  if (n_out)
    *n_out = count;
  return true;
}

static bool drain_notifications(struct mn_scheduler *s) {
  return take_notifications(s, NULL);
}

static void drain_wake_fd(struct mn_scheduler *s) {
  uint64_t v;
  while (read(s->wake_fd, &v, sizeof v) > 0) {
  }
}

/* Sleeps until a notification, a wake-up or `until`. Notifications that
 * libpq read off the socket already (during a query on the lock session,
 * or a pass) would not wake poll(): they are taken first, and then it does
 * not sleep. */
static void wait_for_work(struct mn_scheduler *s, int64_t until) {
  int64_t now = mn_now_us();
  int timeout_ms = until <= now ? 0 : (int)((until - now + 999) / 1000);
  int pending = 0;
  if (s->lock_conn && take_notifications(s, &pending) && pending > 0)
    timeout_ms = 0;
  struct pollfd fds[2] = {{.fd = s->wake_fd, .events = POLLIN}, {.fd = -1, .events = POLLIN}};
  if (s->lock_conn)
    fds[1].fd = PQsocket(s->lock_conn);
  int n = poll(fds, 2, timeout_ms);
  if (n < 0 && errno != EINTR)
    mn_log_warn("scheduler", "poll: %s", strerror(errno));
  drain_wake_fd(s);
  if ((int)MN_LOG_DEBUG <= mn_log_threshold) {
    static const char *const names[] = {"provider", "launch", "prepare", "terminate",
                                        "inspect", "stop"};
    unsigned why = atomic_exchange(&s->wake_why, 0u);
    size_t len = (size_t)snprintf(s->woken_by, sizeof s->woken_by, "%s",
                                  pending > 0 || (n > 0 && (fds[1].revents & POLLIN))
                                      ? "notification"
                                      : "");
    for (unsigned b = 0; b < 6; b++)
      if ((why & (1u << b)) && len < sizeof s->woken_by)
        len += (size_t)snprintf(s->woken_by + len, sizeof s->woken_by - len, "%s%s",
                                len ? "+" : "", names[b]);
    if (len == 0)
      snprintf(s->woken_by, sizeof s->woken_by, "a due time");
  }
}

/* Confirms the lock session is alive before deciding. */
static bool session_alive(struct mn_scheduler *s) {
  PGresult *r = PQexec(s->lock_conn, "SELECT 1");
  bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  if (!ok)
    drop_lock_conn(s);
  return ok;
}

static void *scheduler_main(void *arg) {
  struct mn_scheduler *s = arg;
  mn_thread_name("mn-scheduler");
  /* start and end of the last pass, end of the one before (monotonic) */
  int64_t next_alive_check = 0, last_start = 0, last_end = 0, prev_end = 0;
  while (!atomic_load(&s->stopping)) {
    if (!atomic_load(&s->active) && !try_activate(s)) {
      wait_for_work(s, mn_now_us() + s->opt.lock_retry_ms * 1000);
      continue;
    }
    if (!drain_notifications(s))
      continue;
    int64_t now = mn_monotonic_us();
    /* Passes in a row (this one and the last each follow the previous end
     * within the gap): under load, let events gather so that one pass
     * serves many, and keep the decision thread from taking more than about
     * half a core, the gap being at least the last pass's length. A lone
     * event is served at once. */
    int64_t gap = last_end - last_start;
    if (gap < s->opt.pass_spacing_us)
      gap = s->opt.pass_spacing_us;
    if (gap > 50000)
      gap = 50000;
    if (now - last_end < gap && last_start - prev_end < gap) {
      int64_t wait = gap - (now - last_end);
      struct timespec ts = {(time_t)(wait / 1000000), (long)(wait % 1000000) * 1000};
      nanosleep(&ts, NULL);
    }
    prev_end = last_end;
    last_start = mn_monotonic_us();
    now = mn_now_us();
    if (now >= next_alive_check) {
      if (!session_alive(s))
        continue;
      next_alive_check = now + MN_US_PER_S;
    }
    if (!s->reconciled) {
      mn_sched_reconcile(s);
      s->reconciled = true;
    }
    int64_t next = now + MN_US_PER_S;
    mn_sched_pass(s, now, &next);
    last_end = mn_monotonic_us();
    if (next > now + MN_US_PER_S)
      next = now + MN_US_PER_S; /* the lock session is checked every second */
    wait_for_work(s, next);
  }
  return NULL;
}

int mn_scheduler_start(const struct mn_scheduler_options *opt, struct mn_store *store,
                       struct mn_plugins *plugins, struct mn_scheduler **out,
                       struct mn_error *err) {
  struct mn_scheduler *s = calloc(1, sizeof *s);
  if (!s)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  s->opt = *opt;
  if (s->opt.termination_grace_seconds < 0)
    s->opt.termination_grace_seconds = 120;
  if (s->opt.provision_timeout_seconds <= 0)
    s->opt.provision_timeout_seconds = 300;
  if (s->opt.retention_seconds < 0)
    s->opt.retention_seconds = 7 * 86400;
  if (s->opt.inspect_interval_ms <= 0)
    s->opt.inspect_interval_ms = 1000;
  if (s->opt.lock_retry_ms <= 0)
    s->opt.lock_retry_ms = 500;
  if (s->opt.pool_threads <= 0)
    s->opt.pool_threads = 8;
  if (s->opt.pass_spacing_us <= 0)
    s->opt.pass_spacing_us = 2000;
  s->store = store;
  s->plugins = plugins;
  s->wake_fd = -1;
  pthread_mutex_init(&s->mu, NULL);
  pthread_mutex_init(&s->launched_mu, NULL);
  int rc;
  if (!(s->tracker = mn_tracker_new()) || !(s->queues = mn_queues_new())) {
    rc = mn_fail(err, MN_ENOMEM, "out of memory");
    goto fail;
  }
  if ((s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
    rc = mn_fail(err, MN_EIO, "eventfd: %s", strerror(errno));
    goto fail;
  }
  if ((rc = mn_pool_new("mn-provider", (size_t)s->opt.pool_threads, 4096, &s->pool)) != 0) {
    mn_fail(err, rc, "cannot start the provider-call pool");
    goto fail;
  }
  if (plugins)
    mn_plugins_set_waker(plugins, provider_waker, s);
  if (pthread_create(&s->thread, NULL, scheduler_main, s) != 0) {
    rc = mn_fail(err, MN_EINTERNAL, "cannot start the scheduler thread");
    goto fail;
  }
  s->thread_started = true;
  *out = s;
  return 0;
fail:
  mn_scheduler_stop(s);
  return rc;
}

void mn_scheduler_stop(struct mn_scheduler *s) {
  if (!s)
    return;
  atomic_store(&s->stopping, true);
  if (s->wake_fd >= 0)
    mn_sched_wake_loop(s, MN_WAKE_STOP);
  if (s->thread_started)
    pthread_join(s->thread, NULL);
  if (s->plugins)
    mn_plugins_set_waker(s->plugins, NULL, NULL);
  mn_pool_free(s->pool); /* runs the calls already queued */
  drop_lock_conn(s);
  if (s->wake_fd >= 0)
    close(s->wake_fd);
  mn_tracker_free(s->tracker);
  mn_queues_free(s->queues);
  pthread_mutex_destroy(&s->mu);
  pthread_mutex_destroy(&s->launched_mu);
  free(s);
}
