/* multinode-worker: runs one execution (docs/architecture.md §6, docs/compatibility.md §4).
 *
 *   multinode-worker [--] COMMAND [ARG...]
 *
 * Reads the MULTINODE_* environment, claims the execution with /start,
 * whose answer is the execution itself (a 409 means another worker owns it
 * or it has ended: exit 0 without running anything), runs COMMAND with the input on its standard
 * input, and reports the outcome with /finish. Every call retries while
 * the daemon is unreachable or answers 5xx, for MULTINODE_WORKER_RETRY_SECONDS
 * (default 600), so a daemon restart does not lose a result.
 *
 *   multinode-worker --spawner
 *
 * is the local provider's worker spawner (spawner.h), which runs this same
 * code in a fresh child per execution.
 *
 * Exit status: 0 when the outcome was recorded (whatever it was) or when
 * there was nothing to run; 1 when the worker could not do its part (the
 * API refused or stayed unreachable, or the run itself failed); 2 for a
 * usage or environment error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "logcap.h"
#include "multinode/client.h"
#include "multinode/common/worker_env.h"
#include "multinode/worker.h"
#include "reap.h"
#include "report.h"
#include "run.h"
#include "signals.h"
#include "spawner.h"
#include "multinode/spawner.h"

#define EXIT_REPORTED 0
#define EXIT_NOT_REPORTED 1
#define EXIT_USAGE 2
#define DEFAULT_RETRY_SECONDS 600L

enum api_op { API_GET, API_START, API_FINISH };

struct worker {
  struct mn_worker_env env;
  struct mn_client_execution_ref ex;
  struct mn_client *client;
  long retry_ms;
};

static const char *const op_names[] = {"GET execution", "PUT start", "PUT finish"};

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

/* One API call through the client, whose retry policy covers an
 * unreachable daemon and 502-504; answers 500 and above are retried here
 * too, with backoff, until the same deadline. */
static int api(struct worker *w, enum api_op op, const struct mn_report *o, json_t **out,
               struct mn_client_error *err) {
  long long deadline = now_ms() + w->retry_ms;
  long delay = 250;
  for (;;) {
    int rc;
    if (op == API_GET)
      rc = mn_client_execution_get(w->client, &w->ex, out, err);
    else if (op == API_START)
      rc = mn_client_execution_start(w->client, &w->ex, out, err);
    else
      rc = mn_client_execution_finish(w->client, &w->ex, o->outcome, o->final_output,
                                      o->error_message, out, err);
    if (rc != MN_CLIENT_E_HTTP || err->http_status < 500 || now_ms() + delay > deadline)
      return rc;
    mn_worker__log("%s answered %d (%s); retrying in %ld ms", op_names[op], err->http_status,
                   err->detail, delay);
    sleep_ms(delay);
    delay = delay * 2 > 5000 ? 5000 : delay * 2;
  }
}

static void usage(FILE *f) {
  fprintf(f, "usage: multinode-worker [--] COMMAND [ARG...]\n"
             "Runs one Multinode execution: the environment names it ("
             MN_WORKER_ENV_API_URL ",\n" MN_WORKER_ENV_API_KEY ", " MN_WORKER_ENV_PROJECT_NAME
             ", " MN_WORKER_ENV_VERSION_ID ",\n" MN_WORKER_ENV_FUNCTION_NAME ", "
             MN_WORKER_ENV_INVOCATION_ID ", " MN_WORKER_ENV_EXECUTION_ID ").\n"
             "COMMAND gets the input on standard input; its standard output is the result.\n");
}

/* Standard input, output and error open, so the pipes never take fds 0-2
 * (one poll() tells which are closed: POLLNVAL). */
static void ensure_std_fds(void) {
  struct pollfd p[3] = {{.fd = 0}, {.fd = 1}, {.fd = 2}};
  if (poll(p, 3, 0) < 0)
    return;
  for (int fd = 0; fd <= 2; fd++)
    if (p[fd].revents & POLLNVAL) {
      int null = open("/dev/null", O_RDWR);
      if (null >= 0 && null != fd) {
        dup2(null, fd);
        close(null);
      }
    }
}

static int parse_retry(long *out) {
  const char *v = getenv("MULTINODE_WORKER_RETRY_SECONDS");
  char *end;
  long s;
  *out = DEFAULT_RETRY_SECONDS * 1000;
  if (!v || !*v)
    return 0;
  errno = 0;
  s = strtol(v, &end, 10);
  if (errno || *end || s <= 0 || s > 86400) {
    mn_worker__log("error: MULTINODE_WORKER_RETRY_SECONDS=\"%s\" is not a number of seconds "
                   "between 1 and 86400", v);
    return -1;
  }
  *out = s * 1000;
  return 0;
}

/* Why a termination was asked for: the scheduler signals a worker when the
 * invocation is cancelled or timed out (docs/compatibility.md §4.3). */
static void log_termination(const json_t *exe, int signo) {
  long long created, timeout;
  const json_t *spec = json_object_get(exe, "execution_spec");
  const char *why = "the invocation was cancelled or the worker is being stopped";
  if (mn_client_json_int(exe, "invocation_creation_time", &created) &&
      mn_client_json_int(spec, "timeout_seconds", &timeout) &&
      (long long)time(NULL) > created + timeout)
    why = "the invocation timed out";
  mn_worker__log("termination requested (signal %d): %s", signo, why);
}

static void log_exit(const struct mn_run_result *r, const char *argv0) {
  if (r->log_dropped)
    mn_worker__log("%llu bytes of the command's standard error were left out of this log "
                   "(its cap, max_log_bytes)", r->log_dropped);
  if (r->spawn_errno)
    mn_worker__log("cannot run \"%s\": %s", argv0, strerror(r->spawn_errno));
  else if (WIFSIGNALED(r->status))
    mn_worker__log("the command was killed by signal %d", WTERMSIG(r->status));
  else
    mn_worker__log("the command exited with code %d", WEXITSTATUS(r->status));
}

/* MULTINODE_TIMEOUT_AT: when the invocation times out (its creation plus
 * timeout_seconds, unix seconds), so that an in-task runtime can tell a
 * timeout from a cancellation when the termination signal comes (docs/compatibility.md
 * §4.3) without asking the API. */
static void export_deadline(const json_t *exe) {
  long long created, timeout;
  char text[32];
  const json_t *spec = json_object_get(exe, "execution_spec");
  if (!mn_client_json_int(exe, "invocation_creation_time", &created) ||
      !mn_client_json_int(spec, "timeout_seconds", &timeout))
    return;
  snprintf(text, sizeof text, "%lld", created + timeout);
  setenv(MN_WORKER_ENV_TIMEOUT_AT, text, 1);
}

/* Runs the command (unless a termination came first) and decides. */
static int run_command(char **argv, const json_t *exe, struct mn_run_result *r,
                       struct mn_report *o) {
  const char *input = mn_client_json_str(exe, "input");
  int rc;
  if (mn_signals_termination()) {
    log_termination(exe, mn_signals_termination());
    mn_worker__log("not running the command: the termination came before it started");
    o->outcome = "ABORTED";
    return 0;
  }
  if (!input)
    input = "";
  export_deadline(exe);
  mn_worker__log("running \"%s\" with %zu bytes of input", argv[0], strlen(input));
  rc = mn_run(argv, input, strlen(input), r);
  if (mn_signals_termination())
    log_termination(exe, mn_signals_termination());
  if (rc < 0) {
    char msg[256];
    snprintf(msg, sizeof msg, "multinode-worker failed while running the command: %s",
             strerror(-rc));
    mn_worker__log("%s", msg);
    o->outcome = "FAILED";
    o->error_message = strdup(msg);
    return o->error_message ? 0 : -1;
  }
  log_exit(r, argv[0]);
  return mn_report_decide(r, argv[0], o);
}

/* /finish; 0 when the outcome is recorded. */
static int finish(struct worker *w, const struct mn_report *o) {
  struct mn_client_error err;
  int rc = api(w, API_FINISH, o, NULL, &err);
  if (rc == 0) {
    mn_worker__log("recorded outcome %s", o->outcome);
    return 0;
  }
  if (mn_client_error_is(&err, "ExecutionHasAlreadyFinished")) {
    /* a retried /finish whose first attempt was applied */
    mn_worker__log("outcome %s: the execution has already finished (%s)", o->outcome,
                   err.detail);
    return 0;
  }
  if (err.http_status == 409)
    mn_worker__log("the daemon refused outcome %s: %s", o->outcome, err.detail);
  else
    mn_worker__log("error: cannot record outcome %s: %s", o->outcome, err.detail);
  return -1;
}

/* Whether the invocation has been cancelled or has timed out (asked again
 * now: the command may have failed because its children were cancelled
 * with it, before its own termination signal arrived). */
static bool invocation_ending(struct worker *w) {
  struct mn_client_error err;
  json_t *exe = NULL;
  bool ending = false;
  if (api(w, API_GET, NULL, &exe, &err) == 0) {
    json_t *spec = json_object_get(exe, "execution_spec");
    long long created = 0, timeout = 0;
    mn_client_json_int(exe, "invocation_creation_time", &created);
    mn_client_json_int(spec, "timeout_seconds", &timeout);
    ending = !json_is_null(json_object_get(exe, "cancellation_request_time")) ||
             (created > 0 && timeout > 0 && (long long)time(NULL) > created + timeout);
  }
  json_decref(exe);
  return ending;
}

/* A failure caused by the invocation ending is reported as ABORTED (whose
 * error_message must be absent; stderr stays in the log). */
static void abort_instead(struct mn_report *o) {
  mn_worker__log("the command failed while its invocation was being cancelled or timed out: "
                 "reporting ABORTED (its error: %.200s)",
                 o->error_message ? o->error_message : "");
  mn_report_release(o);
  o->outcome = "ABORTED";
  o->final_output = NULL;
}

static int work(struct worker *w, char **argv) {
  struct mn_client_error err;
  struct mn_run_result r;
  struct mn_report o = {0};
  json_t *exe = NULL;
  int status = EXIT_NOT_REPORTED;
  mn_run_result_init(&r);
  /* /start answers with the ExecutionInfo (input, spec, times): one round
   * trip instead of a GET and then a start */
  if (api(w, API_START, NULL, &exe, &err) < 0) {
    if (err.http_status == 409) {
      mn_worker__log("not running the command: %s (another worker owns execution %s, or it "
                     "has ended)", err.detail, w->env.execution_id);
      status = EXIT_REPORTED;
    } else {
      mn_worker__log("error: cannot start execution %s: %s", w->env.execution_id, err.detail);
    }
    goto done;
  }
  mn_worker__log("started execution %s of invocation %s (%s/%s/%s)", w->env.execution_id,
                 w->env.invocation_id, w->env.project_name, w->env.version_id,
                 w->env.function_name);
  if (run_command(argv, exe, &r, &o) < 0) {
    mn_worker__log("error: out of memory");
    goto done;
  }
  if (strcmp(o.outcome, "FAILED") == 0 && r.spawn_errno == 0 && invocation_ending(w))
    abort_instead(&o);
  if (finish(w, &o) == 0)
    status = EXIT_REPORTED;
done:
  mn_report_release(&o);
  mn_run_result_release(&r);
  json_decref(exe);
  return status;
}

/* The worker proper: multinode-worker's main, and what each child of the
 * spawner runs. */
static int worker_main(int argc, char **argv) {
  struct worker w = {0};
  struct mn_client_error err;
  int rc;
  ensure_std_fds();
  if (mn_logcap_stderr_init() < 0)
    mn_worker__log("warning: " MN_LOGCAP_ENV " is not a number of bytes; the log is not capped");
  /* Orphans of the command come to us, so that none outlives the attempt
   * (reap.h); and the command, which runs as the same user, may not trace
   * us nor read our memory or descriptors (the log's, the API key's). */
  if (mn_reap_become_subreaper() < 0)
    mn_worker__log("warning: cannot become a child subreaper: %s", strerror(errno));
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    usage(stdout);
    return 0;
  }
  argv++, argc--;
  if (argc > 0 && !strcmp(argv[0], "--"))
    argv++, argc--;
  if (argc == 0) {
    mn_worker__log("error: no command to run");
    usage(stderr);
    return EXIT_USAGE;
  }
  if (mn_worker_env_load(&w.env, &err) < 0) {
    mn_worker__log("error: %s", err.detail);
    return EXIT_USAGE;
  }
  if (parse_retry(&w.retry_ms) < 0)
    return EXIT_USAGE;
  mn_worker_env_execution(&w.env, &w.ex);
  if ((rc = mn_signals_install()) < 0) {
    mn_worker__log("error: cannot install the signal handlers: %s", strerror(-rc));
    return EXIT_NOT_REPORTED;
  }
  if (!(w.client = mn_client_new(w.env.api_url, w.env.api_key))) {
    mn_worker__log("error: cannot make a client for " MN_WORKER_ENV_API_URL "=\"%s\"",
                   w.env.api_url);
    return EXIT_USAGE;
  }
  mn_client_set_retry(w.client, 1, w.retry_ms);
  /* a random name for this worker: its own /start, retried after a lost
   * answer, is then not refused as "already started"; and the seed of
   * jansson's hash tables from the same call (else jansson opens and reads
   * /dev/urandom for it: three more system calls) */
  unsigned char raw[16 + sizeof(uint32_t)];
  char token[2 * 16 + 1];
  if (getrandom(raw, sizeof raw, 0) == (ssize_t)sizeof raw) {
    uint32_t seed;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 16; i++) {
      token[2 * i] = hex[raw[i] >> 4];
      token[2 * i + 1] = hex[raw[i] & 15];
    }
    token[32] = '\0';
    mn_client_set_claim_token(w.client, token);
    memcpy(&seed, raw + 16, sizeof seed);
    json_object_seed(seed | 1); /* 0 would mean "choose one yourself" */
  }
  rc = work(&w, argv);
#ifdef MN_SANITIZER_BUILD
  mn_client_free(w.client); /* LeakSanitizer checks at exit */
#endif
  /* Otherwise left to the process's end, which follows at once in both
   * callers (_exit): the frees would only hand pages back (munmap with
   * musl's allocator, bench/README.md "Worker CPU"). */
  return rc;
}

/* Loads and initialises now what every spawned worker would otherwise set
 * up again: libcurl's global state, one easy handle's worth of lazy
 * initialisation. */
static void warm_up(void) {
  struct mn_client *c = mn_client_new("http://127.0.0.1:1", "warm-up");
  mn_client_free(c);
}

/* OpenSSL reads its configuration file (openssl.cnf) when libcurl
 * initialises it, a cost paid on every exec'd worker; with a plain-HTTP API
 * URL nothing here uses TLS, so the file is skipped (the command is another
 * process: its own OpenSSL is untouched). An https URL keeps the system's
 * configuration. The static worker does better: tls_lazy.c. */
static void skip_tls_config_for_http(void) {
#ifdef MN_WORKER_LAZY_TLS
  return; /* the static worker does not initialise OpenSSL at all (tls_lazy.c) */
#endif
  const char *url = getenv(MN_WORKER_ENV_API_URL);
  if (url && strncasecmp(url, "http://", 7) == 0)
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], MN_SPAWNER_ARG)) {
    warm_up();
    return mn_spawner_main(argv, worker_main);
  }
  skip_tls_config_for_http();
  int status = worker_main(argc, argv);
  fflush(NULL);
#ifdef MN_SANITIZER_BUILD
  return status; /* LeakSanitizer checks at exit */
#else
  /* As a spawned worker does (spawner.c): no exit handlers nor library
   * destructors (OpenSSL's cleanup, _dl_fini over 30-odd libraries) to tidy
   * up a process about to vanish. What the worker wrote is flushed. */
  _exit(status);
#endif
}
