/* launch.c — start the worker of one execution, at most once.
 *
 * An existing record means the worker was started already (return the same
 * ref). Otherwise fork the child (it waits: forked by the worker spawner,
 * zygote.h, or here, spawn.h), write the record (an attribute of the log,
 * state_file.h) with its pid + start time, then let it run. A daemon that dies
 * before the record is written leaves a child that exits without running
 * anything, and no record: the next launch starts afresh.
 *
 * Before the fork: the execution's log (0600, the daemon's) and its private
 * working directory (workdir.h), where the worker starts, as the workers'
 * user (worker_user.h). */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "procstate.h"
#include "spawn.h"
#include "workdir.h"

static int fill_ref(struct mn_local *l, const char *id, struct mn_worker_ref *ref,
                    struct mn_provider_error *err) {
  memset(ref, 0, sizeof *ref);
  snprintf(ref->identifier, sizeof ref->identifier, "%s", id);
  if (mn_local_record_path(l->dir, id, ".log", ref->logs_identifier, sizeof ref->logs_identifier) !=
      0)
    return l->host->error(err, MN_PROVIDER_E_INVALID, "log path for \"%s\" is too long", id);
  return 0;
}

int mn_local_errno_code(int e) {
  switch (e) {
  case EAGAIN:
  case ENOMEM:
  case EMFILE:
  case ENFILE:
  case ENOSPC: return MN_PROVIDER_E_CAPACITY;
  case EINTR:
  case EBUSY:
  case EIO: return MN_PROVIDER_E_TRANSIENT;
  default: return MN_PROVIDER_E_INVALID;
  }
}

/* A worker process between its fork and the go: from the spawner, or
 * forked here (spawn.h). */
struct starting {
  int via_zygote;
  struct mn_local_zygote_launch zl;
  struct mn_local_spawn sp;
  pid_t pid;
};

static void starting_abort(struct starting *st) {
  if (st->via_zygote)
    mn_local_zygote_abort(&st->zl);
  else if (st->sp.pid > 0 || st->sp.sock >= 0)
    mn_local_spawn_abort(&st->sp);
  st->pid = -1;
}

/* Forks the waiting child: through the spawner when it serves this worker,
 * else here. 0, or an MN_PROVIDER_E_* code with why. */
static int starting_fork(struct mn_local *l, const char *id, const struct mn_local_worker_cmd *cmd,
                         int log_fd, const struct mn_local_child_limits *limits, const char *cwd,
                         struct starting *st, char *why, size_t why_size) {
  const struct mn_local_identity *idn = &l->conf.identity;
  int rc = mn_local_zygote_launch(l, id, cmd, log_fd, limits, cwd, idn, &l->masks, &st->zl, why,
                                  why_size);
  if (rc == 0) {
    st->via_zygote = 1;
    st->pid = st->zl.pid;
    return 0;
  }
  if (rc != MN_LOCAL_ZYGOTE_UNUSED)
    return rc;
  struct mn_local_spawn_request req = {.path = cmd->path, .argv = cmd->argv, .envp = cmd->envp,
                                       .log_fd = log_fd, .stdin_fd = -1, .limits = limits,
                                       .cwd = cwd, .identity = idn, .masks = &l->masks};
  if ((rc = mn_local_spawn_start(&req, &st->sp, why, why_size)) != 0)
    return mn_local_errno_code(-rc);
  st->pid = st->sp.pid;
  return 0;
}

static void forget_record(struct mn_local *l, const char *id) {
  mn_local_record_remove(l->dir, id); /* and the log, which holds it */
  mn_local_tree_remove(l->work, id);
}

/* Whether the worker of REC, recorded by an earlier run of the daemon, is
 * gone without ever having run: that daemon stopped between writing the
 * record and letting the child go (launch_one), no exit was seen, its
 * process no longer exists (or is another one, or a zombie), and it wrote
 * nothing to its log (multinode-worker logs before anything else). */
static bool never_ran(const struct mn_local *l, const struct mn_local_record *rec,
                      const struct mn_worker_ref *ref) {
  struct mn_local_procstat ps;
  struct stat st;
  if (rec->released || rec->pid <= 0 || rec->status != MN_LOCAL_RUNNING ||
      rec->created_us >= l->started_us)
    return false;
  if (mn_local_procstat_read(rec->pid, &ps) == 0 && ps.start_time == rec->start_time &&
      ps.state != 'Z' && ps.state != 'X')
    return false; /* alive */
  if (stat(ref->logs_identifier, &st) == 0)
    return st.st_size == 0;
  return errno == ENOENT;
}

static int launch_one(struct mn_local *l, const struct mn_launch_spec *spec,
                      struct mn_worker_ref *ref, struct mn_provider_error *err) {
  const char *id = spec->execution_id;
  const struct mn_host *host = l->host;
  struct mn_local_record rec;
  struct mn_local_worker_cmd cmd;
  struct mn_local_child_limits limits = {.cgroup_fd = -1};
  struct starting st = {.pid = -1, .zl = {.pid = -1, .sock = -1}, .sp = {.pid = -1, .sock = -1}};
  char why[1024], cwd[PATH_MAX];
  int log_fd = -1, pidfd = -1, made_cwd = 0;
  int rc;

  rc = mn_local_record_read(l->dir, id, &rec, why, sizeof why);
#ifdef MN_LOCAL_BREAK_IDEMPOTENCY
  /* A deliberately broken build for the conformance suite (tests/conformance):
   * every launch starts a new worker. Never defined for the real provider. */
  if (rc == 0)
    rc = -ENOENT;
#endif
  if (rc == 0) {
    if ((rc = fill_ref(l, id, ref, err)) != 0)
      return rc;
    if (!never_ran(l, &rec, ref))
      return 0; /* started before: same worker */
    /* the daemon stopped between writing the record and letting the
     * child run: the child left without running anything */
    host->log(host, MN_HOST_LOG_INFO,
              "execution %s: its worker (pid %ld) ended before it was let run; starting it "
              "again", id, (long)rec.pid);
    forget_record(l, id);
    rc = -ENOENT;
  }
  if (rc != -ENOENT)
    return host->error(err, MN_PROVIDER_E_INVALID, "cannot read the record of \"%s\": %s", id,
                       rc == -EINVAL ? why : strerror(-rc));

  memset(&cmd, 0, sizeof cmd);
  if ((rc = fill_ref(l, id, ref, err)) != 0)
    goto done;
  if ((rc = mn_local_workdir_create(l->work, id, &l->conf.identity, cwd, sizeof cwd, why,
                                    sizeof why)) != 0) {
    rc = host->error(err, mn_local_errno_code(-rc), "%s", why);
    goto done;
  }
  made_cwd = 1;
  /* A worker that is not the daemon's user cannot use the daemon's HOME. */
  struct mn_local_worker_extra extra = {.home = l->conf.identity.switch_user ? cwd : NULL,
                                        .max_log_bytes = l->conf.max_log_bytes};
  if ((rc = mn_local_worker_cmd_init(&cmd, spec, l->conf.worker, l->conf.bin_dir, &l->daemon_env,
                                     &extra, why, sizeof why)) != 0) {
    rc = host->error(err, rc, "%s", why);
    goto done;
  }
  log_fd = open(ref->logs_identifier, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    rc = host->error(err, mn_local_errno_code(errno), "cannot open \"%s\": %s",
                     ref->logs_identifier, strerror(errno));
    goto done;
  }
  if ((rc = mn_local_limits_prepare(&l->limits, id, spec->vcpus, spec->memory_gb, &limits, why,
                                    sizeof why)) != 0) {
    rc = host->error(err, mn_local_errno_code(-rc), "%s", why);
    goto done;
  }
  if ((rc = starting_fork(l, id, &cmd, log_fd, &limits, cwd, &st, why, sizeof why)) != 0) {
    rc = host->error(err, rc, "%s", why);
    goto done;
  }

  struct mn_local_procstat ps;
  memset(&rec, 0, sizeof rec);
  snprintf(rec.execution_id, sizeof rec.execution_id, "%s", id);
  snprintf(rec.cluster_id, sizeof rec.cluster_id, "%s", host->cluster_id ? host->cluster_id : "");
  snprintf(rec.cgroup, sizeof rec.cgroup, "%s", limits.cgroup);
  rec.status = MN_LOCAL_RUNNING;
  rec.pid = st.pid;
  rec.exit_code = -1;
  rec.created_us = host->now_us();
  if (mn_local_procstat_read(st.pid, &ps) != 0) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot read /proc/%ld/stat", (long)st.pid);
    goto done;
  }
  rec.start_time = ps.start_time;
  pidfd = pidfd_open(st.pid, 0); /* -1 (old kernel, no fds): polled through /proc */
  if ((rc = mn_local_record_write(l->dir, &rec)) != 0) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot write the record of \"%s\": %s", id,
                     strerror(-rc));
    goto done;
  }

  if (st.via_zygote) {
    /* Its exit is reported by the spawner, so it is watched before it runs. */
    pthread_mutex_lock(&l->lock);
    int added = mn_local_watch_add_locked(l, id, st.pid, rec.start_time, pidfd, 0) == 0;
    struct mn_local_watch *w = added ? mn_local_watch_find_locked(l, id) : NULL;
    if (w) {
      w->launching = 1;
      w->zygote_gen = st.zl.gen;
      pidfd = -1; /* the watch owns it */
    }
    pthread_mutex_unlock(&l->lock);
    if (!w) {
      forget_record(l, id);
      rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
      goto done;
    }
    rc = mn_local_zygote_go(&st.zl);
    pthread_mutex_lock(&l->lock);
    if ((w = mn_local_watch_find_locked(l, id)) != NULL) {
      w->launching = 0;
      if (rc != 0)
        mn_local_watch_remove_locked(l, w);
      else
        mn_local_monitor_wake(l);
    }
    pthread_mutex_unlock(&l->lock);
    if (rc != 0) {
      forget_record(l, id);
      st.pid = -1; /* it is gone; the spawner reaps it */
      rc = host->error(err, MN_PROVIDER_E_TRANSIENT,
                       "the worker process ended before it could start; retrying");
      goto done;
    }
  } else {
    if ((rc = mn_local_spawn_go(&st.sp, why, sizeof why)) != 0) {
      forget_record(l, id);
      st.sp.pid = -1; /* reaped */
      rc = host->error(err, MN_PROVIDER_E_INVALID, "cannot start worker \"%s\": %s", cmd.path,
                       why);
      goto done;
    }
    pthread_mutex_lock(&l->lock);
    int watched = mn_local_watch_add_locked(l, id, st.pid, rec.start_time, pidfd, 0) == 0;
    pthread_mutex_unlock(&l->lock);
    if (watched)
      pidfd = -1; /* the watch owns it */
    else
      host->log(host, MN_HOST_LOG_WARN, "execution \"%s\": out of memory; watching it via /proc",
                id);
  }
  host->log(host, MN_HOST_LOG_DEBUG, "execution \"%s\": started worker pid %ld%s", id,
            (long)st.pid, st.via_zygote ? " (spawner)" : "");
  st.pid = -1; /* running: nothing to undo */
  st.sp.pid = -1;
  rc = 0;

done:
  if (st.pid > 0)
    starting_abort(&st);
  if (rc != 0 && limits.cgroup[0])
    mn_local_cgroup_remove(limits.cgroup);
  if (pidfd >= 0)
    close(pidfd);
  mn_local_child_limits_release(&limits);
  if (log_fd >= 0) {
    close(log_fd);
    if (rc != 0)
      unlink(ref->logs_identifier); /* no record, no worker: no log either */
  }
  if (rc != 0 && made_cwd)
    mn_local_tree_remove(l->work, id); /* nor a working directory */
  mn_local_worker_cmd_release(&cmd);
  return rc;
}

bool mn_local_launching_locked(const struct mn_local *l, const char *id) {
  for (size_t i = 0; i < l->n_launching; i++)
    if (strcmp(l->launching[i], id) == 0)
      return true;
  return false;
}

/* Waits while another caller launches the same execution (then launch_one
 * finds its record and returns the same worker). */
static bool begin_launch(struct mn_local *l, const char *id) {
  pthread_mutex_lock(&l->lock);
  while (mn_local_launching_locked(l, id))
    pthread_cond_wait(&l->launch_done, &l->lock);
  if (l->n_launching == l->cap_launching) {
    size_t cap = l->cap_launching ? 2 * l->cap_launching : 16;
    char **grown = realloc(l->launching, cap * sizeof *grown);
    if (grown) {
      l->launching = grown;
      l->cap_launching = cap;
    }
  }
  char *copy = l->n_launching < l->cap_launching ? strdup(id) : NULL;
  if (copy)
    l->launching[l->n_launching++] = copy;
  pthread_mutex_unlock(&l->lock);
  return copy != NULL;
}

static void end_launch(struct mn_local *l, const char *id) {
  pthread_mutex_lock(&l->lock);
  for (size_t i = 0; i < l->n_launching; i++) {
    if (strcmp(l->launching[i], id) == 0) {
      free(l->launching[i]);
      l->launching[i] = l->launching[--l->n_launching];
      break;
    }
  }
  pthread_cond_broadcast(&l->launch_done);
  pthread_mutex_unlock(&l->lock);
}

int mn_local_launch(void *state, const struct mn_launch_spec *spec, struct mn_worker_ref *ref_out,
                    struct mn_provider_error *err) {
  struct mn_local *l = state;
  if (!mn_local_id_valid(spec->execution_id))
    return l->host->error(err, MN_PROVIDER_E_INVALID,
                          "execution id \"%s\" is not valid (1 to %d of A-Z a-z 0-9 . _ -)",
                          spec->execution_id ? spec->execution_id : "", MN_LOCAL_ID_MAX);
  if (spec->n_command == 0)
    return l->host->error(err, MN_PROVIDER_E_INVALID,
                          "function \"%s\" has no command: the local provider runs a command, "
                          "not an image",
                          spec->function_name ? spec->function_name : "");
  /* Launches of different executions run in parallel (a fork, a record
   * written and synced, an exec: milliseconds each); the same execution is
   * launched by one caller at a time. */
  if (!begin_launch(l, spec->execution_id))
    return l->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  int rc = launch_one(l, spec, ref_out, err);
  end_launch(l, spec->execution_id);
  return rc;
}
