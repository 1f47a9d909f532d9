#include "api/readiness.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "store/db.h"
#include "store/migrations.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stop.h"
#include "util/thread_name.h"

struct mn_readiness {
  struct mn_readiness_options opt;
  char *dsn, *data_dir;
  int known_migration; /* the highest migration this daemon knows */
  pthread_t thread;
  bool thread_started;
  pthread_mutex_t mu; /* guards everything below */
  pthread_cond_t wake;
  bool stopping;
  mn_readiness_role_fn *active;
  void *active_ctx;
  /* the database, as the last probe found it */
  bool db_ok;
  int64_t db_checked_us, db_ok_us, db_probe_start_us; /* monotonic; 0: never / none */
  int64_t db_latency_us;
  int schema_version; /* -1: never read */
  char db_error[256];
  /* the disk */
  bool disk_known;
  int64_t disk_checked_us;
  int64_t free_bytes;
  char disk_error[256];
  bool was_ready; /* for logging changes */
  bool reported;
};

static void *probe_loop(void *arg);

int mn_readiness_start(const struct mn_readiness_options *opt, struct mn_readiness **out,
                       struct mn_error *err) {
  struct mn_readiness *r = calloc(1, sizeof *r);
  *out = NULL;
  if (!r)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  r->opt = *opt;
  if (r->opt.interval_ms <= 0)
    r->opt.interval_ms = 1000;
  if (r->opt.timeout_ms <= 0)
    r->opt.timeout_ms = 1000;
  r->dsn = opt->dsn ? strdup(opt->dsn) : NULL;
  r->data_dir = opt->data_dir ? strdup(opt->data_dir) : NULL;
  r->schema_version = -1;
  int n = 0;
  const struct mn_migration *m = mn_migrations(&n);
  r->known_migration = n > 0 ? m[n - 1].number : 0;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->wake, NULL);
  if ((opt->dsn && !r->dsn) || (opt->data_dir && !r->data_dir)) {
    mn_readiness_stop(r);
    return mn_fail(err, MN_ENOMEM, "out of memory");
  }
  if (pthread_create(&r->thread, NULL, probe_loop, r) != 0) {
    mn_readiness_stop(r);
    return mn_fail(err, MN_EINTERNAL, "cannot start the readiness probe thread");
  }
  r->thread_started = true;
  *out = r;
  return 0;
}

void mn_readiness_set_scheduler(struct mn_readiness *r, mn_readiness_role_fn *active,
                                void *ctx) {
  pthread_mutex_lock(&r->mu);
  r->active = active;
  r->active_ctx = ctx;
  pthread_mutex_unlock(&r->mu);
}

void mn_readiness_stop(struct mn_readiness *r) {
  if (!r)
    return;
  mn_signal_stop(&r->mu, &r->stopping, &r->wake);
  if (r->thread_started)
    pthread_join(r->thread, NULL);
  pthread_cond_destroy(&r->wake);
  pthread_mutex_destroy(&r->mu);
  free(r->dsn);
  free(r->data_dir);
  free(r);
}

static void probe_database(struct mn_readiness *r, PGconn **conn) {
  struct mn_error err = {0};
  int version = -1;
  int64_t latency = 0;
  pthread_mutex_lock(&r->mu);
  r->db_probe_start_us = mn_monotonic_us();
  pthread_mutex_unlock(&r->mu);
  int rc = mn_db_probe(r->dsn, conn, r->opt.timeout_ms, &version, &latency, &err);
  int64_t now = mn_monotonic_us();
  pthread_mutex_lock(&r->mu);
  r->db_probe_start_us = 0;
  r->db_checked_us = now;
  r->db_ok = rc == 0;
  if (rc == 0) {
    r->db_ok_us = now;
    r->db_latency_us = latency;
    r->schema_version = version;
    r->db_error[0] = '\0';
  } else {
    snprintf(r->db_error, sizeof r->db_error, "%s", err.msg[0] ? err.msg : mn_strerror(rc));
  }
  pthread_mutex_unlock(&r->mu);
}

static void probe_disk(struct mn_readiness *r) {
  struct statvfs vfs;
  int rc = statvfs(r->data_dir, &vfs);
  int saved = errno;
  pthread_mutex_lock(&r->mu);
  r->disk_checked_us = mn_monotonic_us();
  r->disk_known = rc == 0;
  if (rc == 0) {
    r->free_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
    r->disk_error[0] = '\0';
  } else {
    snprintf(r->disk_error, sizeof r->disk_error, "cannot stat the file system: %s",
             strerror(saved));
  }
  pthread_mutex_unlock(&r->mu);
}

static void *probe_loop(void *arg) {
  struct mn_readiness *r = arg;
  PGconn *conn = NULL;
  mn_thread_name("mn-readiness");
  for (;;) {
    if (r->dsn)
      probe_database(r, &conn);
    if (r->data_dir)
      probe_disk(r);
    bool ready;
    json_decref(mn_readiness_report(r, &ready)); /* logs a change */
    pthread_mutex_lock(&r->mu);
    if (!r->stopping) {
      struct timespec until;
      clock_gettime(CLOCK_REALTIME, &until);
      int64_t ns = until.tv_nsec + (int64_t)r->opt.interval_ms * 1000000;
      until.tv_sec += (time_t)(ns / 1000000000);
      until.tv_nsec = (long)(ns % 1000000000);
      pthread_cond_timedwait(&r->wake, &r->mu, &until);
    }
    bool stop = r->stopping;
    pthread_mutex_unlock(&r->mu);
    if (stop)
      break;
  }
  if (conn)
    PQfinish(conn);
  return NULL;
}

static void format_bytes(int64_t n, char *buf, size_t size) {
  if (n >= (int64_t)1 << 30)
    snprintf(buf, size, "%.1f GiB", (double)n / (1 << 30));
  else
    snprintf(buf, size, "%.1f MiB", (double)n / (1 << 20));
}

/* What the report says, copied under the lock. */
struct snapshot {
  int64_t now, stale_after;
  bool db_ok, db_fresh, db_stuck, disk_known, disk_fresh, has_dsn, has_disk;
  int64_t db_checked_us, db_latency_us, free_bytes, probe_start_us;
  int schema_version;
  char db_error[256], disk_error[256];
  const char *role;
};

static void take_snapshot(struct mn_readiness *r, struct snapshot *s) {
  memset(s, 0, sizeof *s);
  s->now = mn_monotonic_us();
  /* a result older than this means the probes have stalled */
  s->stale_after = (int64_t)(3 * r->opt.interval_ms + r->opt.timeout_ms) * 1000;
  pthread_mutex_lock(&r->mu);
  s->has_dsn = r->dsn != NULL;
  s->has_disk = r->data_dir != NULL;
  s->db_ok = r->db_ok;
  s->db_checked_us = r->db_checked_us;
  s->db_fresh = r->db_ok_us && s->now - r->db_ok_us <= s->stale_after;
  s->probe_start_us = r->db_probe_start_us;
  s->db_stuck = r->db_probe_start_us &&
                s->now - r->db_probe_start_us > (int64_t)(r->opt.timeout_ms + 500) * 1000;
  s->db_latency_us = r->db_latency_us;
  s->schema_version = r->schema_version;
  memcpy(s->db_error, r->db_error, sizeof s->db_error);
  s->disk_known = r->disk_known;
  s->disk_fresh = r->disk_checked_us && s->now - r->disk_checked_us <= s->stale_after;
  s->free_bytes = r->free_bytes;
  memcpy(s->disk_error, r->disk_error, sizeof s->disk_error);
  if (!r->opt.scheduler_enabled)
    s->role = "off";
  else
    s->role = r->active && r->active(r->active_ctx) ? "active" : "standby";
  pthread_mutex_unlock(&r->mu);
}

static json_t *providers_list(struct mn_readiness *r) {
  json_t *all = NULL, *list = NULL;
  struct mn_error err = {0};
  if (r->opt.providers && r->opt.providers(r->opt.providers_ctx, &all, &err) == 0)
    list = json_incref(json_object_get(all, "providers"));
  json_decref(all);
  return list ? list : json_array();
}

json_t *mn_readiness_report(struct mn_readiness *r, bool *ready) {
  struct snapshot s;
  char reason[512], free_text[32], min_text[32];
  take_snapshot(r, &s);
  json_t *reasons = json_array();

  /* the database */
  bool db_ok = s.has_dsn && s.db_ok && s.db_fresh && !s.db_stuck;
  const char *db_error = NULL;
  if (!s.has_dsn)
    db_error = "no database to probe";
  else if (s.db_stuck)
    db_error = "the probe has had no answer for longer than its deadline";
  else if (!s.db_checked_us)
    db_error = "not probed yet";
  else if (!s.db_ok)
    db_error = s.db_error;
  else if (!s.db_fresh)
    db_error = "the last answer is too old";
  if (!db_ok) {
    snprintf(reason, sizeof reason, "database: %s", db_error);
    json_array_append_new(reasons, json_string(reason));
  }
  json_t *database = json_pack(
      "{s:b, s:o, s:o, s:o}", "ok", db_ok, "latency_us",
      s.db_ok ? json_integer(s.db_latency_us) : json_null(), "checked_ms_ago",
      s.db_checked_us ? json_integer((s.now - s.db_checked_us) / 1000) : json_null(), "error",
      db_error ? json_string(db_error) : json_null());

  /* the migrations, as the last answer had them */
  bool migrations_ok = s.schema_version >= r->known_migration;
  if (!migrations_ok) {
    if (s.schema_version < 0)
      snprintf(reason, sizeof reason, "migrations: not read yet (this daemon needs %d)",
               r->known_migration);
    else
      snprintf(reason, sizeof reason,
               "migrations: the database is at %d, this daemon needs %d", s.schema_version,
               r->known_migration);
    json_array_append_new(reasons, json_string(reason));
  }
  json_t *migrations = json_pack(
      "{s:b, s:o, s:i}", "ok", migrations_ok, "applied",
      s.schema_version >= 0 ? json_integer(s.schema_version) : json_null(), "known",
      r->known_migration);

  /* the disk of data_dir */
  bool disk_ok = true;
  char disk_error[512] = "";
  if (s.has_disk) {
    format_bytes(s.free_bytes, free_text, sizeof free_text);
    format_bytes(r->opt.min_free_bytes, min_text, sizeof min_text);
    if (!s.disk_known)
      snprintf(disk_error, sizeof disk_error, "%s",
               s.disk_error[0] ? s.disk_error : "not checked yet");
    else if (!s.disk_fresh)
      snprintf(disk_error, sizeof disk_error, "not checked recently (the check hangs)");
    else if (s.free_bytes < r->opt.min_free_bytes)
      snprintf(disk_error, sizeof disk_error, "%s free under %s, below the %s required",
               free_text, r->data_dir, min_text);
    disk_ok = disk_error[0] == '\0';
    if (!disk_ok) {
      snprintf(reason, sizeof reason, "disk: %s", disk_error);
      json_array_append_new(reasons, json_string(reason));
    }
  }
  json_t *disk = json_pack("{s:b, s:s, s:o, s:I, s:o}", "ok", disk_ok, "path",
                           r->data_dir ? r->data_dir : "", "free_bytes",
                           s.has_disk && s.disk_known ? json_integer(s.free_bytes) : json_null(),
                           "min_free_bytes", (json_int_t)r->opt.min_free_bytes, "error",
                           disk_error[0] ? json_string(disk_error) : json_null());

  *ready = db_ok && migrations_ok && disk_ok;
  json_t *out = json_pack("{s:b, s:o, s:o, s:o, s:s, s:o, s:o}", "ready", *ready, "reasons",
                          reasons, "database", database, "migrations", migrations, "scheduler",
                          s.role, "providers", providers_list(r), "disk", disk);

  /* a change is worth a line; the reasons say why */
  pthread_mutex_lock(&r->mu);
  bool changed = !r->reported || r->was_ready != *ready;
  r->was_ready = *ready;
  r->reported = true;
  pthread_mutex_unlock(&r->mu);
  if (changed && *ready) {
    mn_log_info("readiness", "ready");
  } else if (changed) {
    char *text = json_dumps(reasons, JSON_COMPACT);
    mn_log_warn("readiness", "not ready: %s", text ? text : "?");
    free(text);
  }
  return out;
}
