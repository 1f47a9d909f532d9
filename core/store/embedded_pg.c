#include "store/embedded_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "store/pg_exec.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/path.h"

#define PG_PORT "5432"
#define SOCKET_FILE "/.s.PGSQL." PG_PORT
#define DATABASE "multinode"
#define WAIT_SECONDS "120"
#define READY_TIMEOUT_US (120 * MN_US_PER_S)
#define START_ATTEMPTS 5

struct mn_pg_embedded {
  struct mn_pg_user user;
  char *bindir;
  char *root;       /* <data_dir>/postgres */
  char *pgdata;     /* root/data */
  char *sockdir;    /* root/run, or /tmp/mn-pg-<hash> */
  char *server_log; /* root/server.log */
  char *ctl_log;    /* root/ctl.log */
  char *dsn;        /* dbname=multinode */
  char *admin_dsn;  /* dbname=postgres */
  bool adopted;
  int users_fd; /* root/users.lock: a shared flock per daemon using the cluster */
  int start_fd; /* root/start.lock: held exclusively while starting or stopping */
};

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static int mkdir_p(const char *path, mode_t mode) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
      return -1;
    *p = '/';
  }
  return mkdir(buf, mode) < 0 && errno != EEXIST ? -1 : 0;
}

/* A directory owned by the user Postgres runs as, mode 0700. */
static int own_dir(const struct mn_pg_embedded *pg, const char *path, struct mn_error *err) {
  struct stat st;
  if (mkdir(path, 0700) < 0 && errno != EEXIST)
    return mn_fail(err, MN_EIO, "embedded postgres: cannot create \"%s\": %s", path,
                   strerror(errno));
  if (pg->user.drop && chown(path, pg->user.uid, pg->user.gid) < 0)
    return mn_fail(err, MN_EIO, "embedded postgres: cannot hand \"%s\" to postgres: %s", path,
                   strerror(errno));
  if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != pg->user.uid)
    return mn_fail(err, MN_EIO, "embedded postgres: \"%s\" is not a directory owned by uid %ld",
                   path, (long)pg->user.uid);
  return 0;
}

/* root/run, unless the socket path would not fit a sockaddr_un: then a
 * directory under /tmp named after a hash of root. */
static char *socket_dir(const char *root) {
  char *dir = mn_path_join(root, "run");
  if (!dir || strlen(dir) + strlen(SOCKET_FILE) < sizeof(((struct sockaddr_un *)0)->sun_path))
    return dir;
  free(dir);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(root, strlen(root), md, &len, EVP_sha256(), NULL))
    return NULL;
  char name[64] = "/tmp/mn-pg-";
  for (int i = 0; i < 8; i++)
    snprintf(name + strlen(name), 3, "%02x", md[i]);
  return strdup(name);
}

static int run_tool(const struct mn_pg_embedded *pg, const char *what, char *const argv[],
                    struct mn_error *err) {
  int status = mn_pg_exec(&pg->user, argv, pg->ctl_log, pg->root);
  if (status == 0)
    return 0;
  char tail[256];
  mn_pg_log_tail(pg->ctl_log, tail, sizeof tail);
  return mn_fail(err, MN_EUNAVAILABLE, "embedded postgres: %s failed (status %d): %s (see %s)",
                 what, status, tail[0] ? tail : "no output", pg->ctl_log);
}

static int initdb(const struct mn_pg_embedded *pg, struct mn_error *err) {
  char *tool = mn_path_join(pg->bindir, "initdb");
  if (!tool)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  mn_log_info("pg", "creating a new postgres cluster in \"%s\"", pg->pgdata);
  /* pg_hba.conf is ours, rewritten at every start (write_auth) */
  char *argv[] = {tool, "-D", pg->pgdata, "-U", "postgres", "-A", "peer", "-E", "UTF8",
                  "--locale=C", NULL};
  int rc = run_tool(pg, "initdb", argv, err);
  free(tool);
  return rc;
}

/* The name of uid, for pg_ident.conf; 0 or -1 (no passwd entry). */
static int user_name(uid_t uid, char *out, size_t size) {
  struct passwd pw, *found = NULL;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) != 0 || !found ||
      strlen(pw.pw_name) >= size || strpbrk(pw.pw_name, " \t\"#"))
    return -1;
  snprintf(out, size, "%s", pw.pw_name);
  return 0;
}

/* Writes path (owned by the cluster's user, 0600) with text. */
static int write_owned(const struct mn_pg_embedded *pg, const char *path, const char *text,
                       struct mn_error *err) {
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
    int e = errno;
    if (f)
      fclose(f);
    return mn_fail(err, MN_EIO, "embedded postgres: cannot write \"%s\": %s", path, strerror(e));
  }
  if ((pg->user.drop && chown(path, pg->user.uid, pg->user.gid) < 0) || chmod(path, 0600) < 0)
    return mn_fail(err, MN_EIO, "embedded postgres: cannot hand \"%s\" to postgres: %s", path,
                   strerror(errno));
  return 0;
}

/* Who may connect, rewritten at every start: over the unix socket only
 * (there is no TCP listener), by peer authentication, and only the
 * daemon's own user and the cluster's owner, as the superuser "postgres"
 * (pg_ident.conf). Any other local user is refused whatever the socket
 * directory's permissions, and so are the local provider's workers. A
 * cluster made by an older daemon with trust authentication is converted
 * on its first start (or reload, when adopted). */
static int write_auth(const struct mn_pg_embedded *pg, struct mn_error *err) {
  char self[256], owner[256], ident[1024];
  uid_t uid = geteuid();
  if (user_name(uid, self, sizeof self) < 0)
    return mn_fail(err, MN_ECONFIG,
                   "embedded postgres: uid %ld has no user name, which peer authentication "
                   "needs: add it to /etc/passwd or set store.postgres.dsn",
                   (long)uid);
  if (user_name(pg->user.uid, owner, sizeof owner) < 0)
    return mn_fail(err, MN_ECONFIG, "embedded postgres: uid %ld has no user name",
                   (long)pg->user.uid);
  int n = snprintf(ident, sizeof ident,
                   "# written by multinoded at every start\n"
                   "# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\n"
                   "multinode  %s  postgres\n",
                   self);
  if (strcmp(self, owner) != 0)
    snprintf(ident + n, sizeof ident - (size_t)n, "multinode  %s  postgres\n", owner);
  char *hba = mn_path_join(pg->pgdata, "pg_hba.conf"),
       *idf = mn_path_join(pg->pgdata, "pg_ident.conf");
  int rc = !hba || !idf ? mn_fail(err, MN_ENOMEM, "out of memory") : 0;
  if (rc == 0)
    rc = write_owned(pg, idf, ident, err);
  if (rc == 0)
    rc = write_owned(pg, hba,
                     "# written by multinoded at every start: the daemon's user and the\n"
                     "# cluster's owner connect as postgres over the unix socket; no one else\n"
                     "# TYPE  DATABASE  USER  METHOD\n"
                     "local   all       all   peer map=multinode\n",
                     err);
  free(hba);
  free(idf);
  return rc;
}

/* Our settings live in multinode.conf, rewritten at every start (the socket
 * directory may change) and included from postgresql.conf. */
static int write_conf(const struct mn_pg_embedded *pg, struct mn_error *err) {
  static const char include_line[] = "include_if_exists = 'multinode.conf'";
  int auth = write_auth(pg, err);
  if (auth < 0)
    return auth;
  char *conf = mn_path_join(pg->pgdata, "multinode.conf"),
       *main_conf = mn_path_join(pg->pgdata, "postgresql.conf");
  int rc = 0;
  FILE *f = conf ? fopen(conf, "w") : NULL;
  if (!f) {
    rc = mn_fail(err, MN_EIO, "embedded postgres: cannot write \"%s\"", conf ? conf : "?");
    goto done;
  }
  /* autovacuum looks every 5 s (not 60): a young, fast-growing invocations
   * table gets statistics before the planner's guesses cost it scans */
  fprintf(f, "# written by multinoded at every start\nlisten_addresses = ''\nport = %s\n"
             "autovacuum_naptime = 5s\nunix_socket_directories = '", PG_PORT);
  for (const char *p = pg->sockdir; *p; p++) {
    if (*p == '\'')
      fputc('\'', f);
    fputc(*p, f);
  }
  fputs("'\n", f);
  fclose(f);
  if (pg->user.drop && chown(conf, pg->user.uid, pg->user.gid) < 0) {
    rc = mn_fail(err, MN_EIO, "embedded postgres: cannot chown \"%s\"", conf);
    goto done;
  }
  /* append the include once */
  f = fopen(main_conf, "r+");
  if (!f) {
    rc = mn_fail(err, MN_EIO, "embedded postgres: cannot open \"%s\"", main_conf);
    goto done;
  }
  char line[512];
  bool found = false;
  while (!found && fgets(line, sizeof line, f))
    found = strncmp(line, include_line, strlen(include_line)) == 0;
  if (!found) {
    fseek(f, 0, SEEK_END);
    fprintf(f, "\n%s\n", include_line);
  }
  fclose(f);
done:
  free(conf);
  free(main_conf);
  return rc;
}

static void copy_str(char *dst, size_t size, const char *src) {
  size_t n = strnlen(src, size - 1);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* Lines 1 (pid), 4 (port) and 5 (socket directory) of postmaster.pid. */
static long read_pidfile(const char *pgdata, char *port, size_t port_size, char *sock,
                         size_t sock_size) {
  char *path = mn_path_join(pgdata, "postmaster.pid"), line[PATH_MAX];
  FILE *f = path ? fopen(path, "r") : NULL;
  free(path);
  long pid = 0;
  if (!f)
    return 0;
  for (int i = 1; i <= 5 && fgets(line, sizeof line, f); i++) {
    line[strcspn(line, "\n")] = '\0';
    if (i == 1)
      pid = strtol(line, NULL, 10);
    else if (i == 4 && port)
      copy_str(port, port_size, line);
    else if (i == 5 && sock)
      copy_str(sock, sock_size, line);
  }
  fclose(f);
  return pid;
}

/* A lock file whose process is gone (a zombie counts as gone) or is not
 * the postmaster of pgdata (its pid was reused). */
static void remove_if_stale(const char *path, const char *pgdata) {
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  long pid = 0;
  if (fscanf(f, "%ld", &pid) != 1)
    pid = 0;
  fclose(f);
  bool ours = mn_pg_process_alive((pid_t)pid) && mn_pg_process_in_dir((pid_t)pid, pgdata);
  if (!ours && unlink(path) == 0)
    mn_log_info("pg", "removed the stale lock file \"%s\" (pid %ld is not its postmaster)",
                path, pid);
}

static char *build_dsn(const char *sockdir, const char *port, const char *dbname) {
  size_t len = 2 * strlen(sockdir) + strlen(port) + strlen(dbname) + 64;
  char *dsn = malloc(len), *p = dsn;
  if (!dsn)
    return NULL;
  p += sprintf(p, "host='");
  for (const char *c = sockdir; *c; c++) {
    if (*c == '\'' || *c == '\\')
      *p++ = '\\';
    *p++ = *c;
  }
  sprintf(p, "' port=%s dbname=%s user=postgres", port, dbname);
  return dsn;
}

static int set_dsn(struct mn_pg_embedded *pg, const char *sockdir, const char *port) {
  char *dsn = build_dsn(sockdir, port, DATABASE);
  char *admin = build_dsn(sockdir, port, "postgres");
  if (!dsn || !admin) {
    free(dsn);
    free(admin);
    return MN_ENOMEM;
  }
  free(pg->dsn);
  free(pg->admin_dsn);
  pg->dsn = dsn;
  pg->admin_dsn = admin;
  return 0;
}

/* Waits until the server accepts connections (recovery may take a while). */
static int wait_ready(const struct mn_pg_embedded *pg, long pid, struct mn_error *err) {
  int64_t deadline = mn_monotonic_us() + READY_TIMEOUT_US;
  for (;;) {
    PGPing ping = PQping(pg->admin_dsn);
    if (ping == PQPING_OK || ping == PQPING_NO_ATTEMPT)
      return 0;
    if (pid && !mn_pg_process_alive((pid_t)pid))
      return mn_fail(err, MN_EUNAVAILABLE, "embedded postgres: the server (pid %ld) exited "
                     "while starting (see %s)", pid, pg->server_log);
    if (mn_monotonic_us() > deadline)
      return mn_fail(err, MN_EUNAVAILABLE, "embedded postgres: the server does not accept "
                     "connections after %s s (see %s)", WAIT_SECONDS, pg->server_log);
    sleep_ms(100);
  }
}

static int start_server(struct mn_pg_embedded *pg, struct mn_error *err) {
  char *tool = mn_path_join(pg->bindir, "pg_ctl");
  if (!tool)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  char *argv[] = {tool, "-D", pg->pgdata, "-l", pg->server_log, "-w", "-t", WAIT_SECONDS,
                  "start", NULL};
  int rc = 0;
  for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    /* after a crash the old server's children may hold its shared memory
     * for a moment: try again shortly */
    rc = run_tool(pg, "pg_ctl start", argv, err);
    if (rc == 0 || attempt == START_ATTEMPTS)
      break;
    mn_log_warn("pg", "%s; trying again", err ? err->msg : "pg_ctl start failed");
    sleep_ms(500L * attempt);
  }
  free(tool);
  return rc;
}

static int ensure_database(const struct mn_pg_embedded *pg, struct mn_error *err) {
  PGconn *c = PQconnectdb(pg->admin_dsn);
  int rc = 0;
  if (PQstatus(c) != CONNECTION_OK) {
    const char *m = PQerrorMessage(c);
    rc = mn_fail(err, MN_EUNAVAILABLE, "embedded postgres: cannot connect: %.*s",
                 (int)strcspn(m, "\n"), m);
    goto done;
  }
  if (pg->adopted) { /* a running server reads pg_hba.conf again only when told */
    PGresult *reload = PQexec(c, "SELECT pg_reload_conf()");
    if (PQresultStatus(reload) != PGRES_TUPLES_OK)
      mn_log_warn("pg", "cannot reload the authentication settings: %s",
                  PQresultErrorMessage(reload));
    PQclear(reload);
  }
  PGresult *r = PQexec(c, "SELECT 1 FROM pg_database WHERE datname = '" DATABASE "'");
  bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  PQclear(r);
  if (!exists) {
    r = PQexec(c, "CREATE DATABASE " DATABASE);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && !(state && strcmp(state, "42P04") == 0)) {
      const char *m = PQresultErrorMessage(r);
      rc = mn_fail(err, MN_EUNAVAILABLE, "embedded postgres: cannot create database "
                   "\"" DATABASE "\": %.*s", (int)strcspn(m, "\n"), m);
    } else {
      mn_log_info("pg", "created database \"" DATABASE "\"");
    }
    PQclear(r);
  }
done:
  PQfinish(c);
  return rc;
}

static void embedded_free(struct mn_pg_embedded *pg) {
  if (!pg)
    return;
  if (pg->users_fd >= 0)
    close(pg->users_fd); /* releases this daemon's share */
  if (pg->start_fd >= 0)
    close(pg->start_fd);
  free(pg->bindir);
  free(pg->root);
  free(pg->pgdata);
  free(pg->sockdir);
  free(pg->server_log);
  free(pg->ctl_log);
  free(pg->dsn);
  free(pg->admin_dsn);
  free(pg);
}

/* Directories, permissions, binaries: everything before touching Postgres. */
static int prepare(struct mn_pg_embedded *pg, const char *data_dir, struct mn_error *err) {
  char abs[PATH_MAX];
  struct stat st;
  int rc = mn_pg_user_init(&pg->user, err);
  if (rc < 0)
    return rc;
  if (mkdir_p(data_dir, 0755) < 0 || !realpath(data_dir, abs))
    return mn_fail(err, MN_EIO, "embedded postgres: cannot create \"%s\": %s", data_dir,
                   strerror(errno));
  /* our own data directory: let postgres pass through it (o+x), and no one
   * else list or change it (o-rw) */
  if (pg->user.drop && stat(abs, &st) == 0 && st.st_uid != pg->user.uid &&
      (st.st_mode & (S_IXOTH | S_IROTH | S_IWOTH)) != S_IXOTH) {
    mode_t mode = ((st.st_mode & 07777) & ~(mode_t)(S_IROTH | S_IWOTH)) | S_IXOTH;
    if (chmod(abs, mode) < 0)
      return mn_fail(err, MN_EIO, "embedded postgres: cannot chmod \"%s\": %s", abs,
                     strerror(errno));
    mn_log_info("pg", "made \"%s\" mode %04o: the postgres user may pass through it, no "
                "other user may list it", abs, (unsigned)mode);
  }
  pg->root = mn_path_join(abs, "postgres");
  if (!pg->root)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  char *blocker = NULL;
  if (!mn_pg_user_can_reach(&pg->user, pg->root, &blocker)) {
    rc = mn_fail(err, MN_ECONFIG,
                 "embedded postgres: the postgres user cannot enter \"%s\" on the way to "
                 "\"%s\"; choose a data_dir it can reach or set store.postgres.dsn",
                 blocker ? blocker : "?", pg->root);
    free(blocker);
    return rc;
  }
  pg->pgdata = mn_path_join(pg->root, "data");
  pg->server_log = mn_path_join(pg->root, "server.log");
  pg->ctl_log = mn_path_join(pg->root, "ctl.log");
  pg->sockdir = socket_dir(pg->root);
  if (!pg->pgdata || !pg->server_log || !pg->ctl_log || !pg->sockdir)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  if ((rc = own_dir(pg, pg->root, err)) < 0 || (rc = own_dir(pg, pg->sockdir, err)) < 0)
    return rc;
  if ((rc = mn_pg_find_bindir(&pg->bindir, err)) < 0)
    return rc;
  return set_dsn(pg, pg->sockdir, PG_PORT) < 0 ? mn_fail(err, MN_ENOMEM, "out of memory") : 0;
}

/* A server already running on this data directory (its daemon was killed):
 * use it. Returns 1 when adopted, 0 when there is none (stale lock files
 * removed), or an error. */
static int try_adopt(struct mn_pg_embedded *pg, struct mn_error *err) {
  char port[32] = PG_PORT, sock[PATH_MAX] = "";
  long pid = read_pidfile(pg->pgdata, port, sizeof port, sock, sizeof sock);
  if (pid > 0 && mn_pg_process_alive((pid_t)pid) &&
      mn_pg_process_in_dir((pid_t)pid, pg->pgdata)) {
    int rc = set_dsn(pg, sock[0] ? sock : pg->sockdir, port[0] ? port : PG_PORT);
    if (rc < 0)
      return mn_fail(err, rc, "out of memory");
    if ((rc = wait_ready(pg, pid, err)) == 0) {
      mn_log_info("pg", "adopted the running postgres (pid %ld) of \"%s\"", pid, pg->pgdata);
      pg->adopted = true;
      return 1;
    }
    if (mn_pg_process_alive((pid_t)pid))
      return rc;
    /* it was dying (killed just before): start it again, as after a crash */
    mn_log_warn("pg", "postgres (pid %ld) of \"%s\" exited while being adopted", pid,
                pg->pgdata);
    if ((rc = set_dsn(pg, pg->sockdir, PG_PORT)) < 0)
      return mn_fail(err, rc, "out of memory");
  }
  char *pidfile = mn_path_join(pg->pgdata, "postmaster.pid");
  char *lock = mn_path_join(pg->sockdir, ".s.PGSQL." PG_PORT ".lock");
  if (pidfile && access(pidfile, F_OK) == 0)
    mn_log_warn("pg", "postgres of \"%s\" stopped uncleanly; starting it again to recover",
                pg->pgdata);
  if (pidfile)
    remove_if_stale(pidfile, pg->pgdata);
  if (lock)
    remove_if_stale(lock, pg->pgdata);
  free(pidfile);
  free(lock);
  return 0;
}

/* Opens root/<name> for flock (created, never removed). */
static int open_lock(const struct mn_pg_embedded *pg, const char *name, struct mn_error *err) {
  char *path = mn_path_join(pg->root, name);
  int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
  if (fd < 0)
    mn_fail(err, MN_EIO, "embedded postgres: cannot open \"%s\": %s", path ? path : name,
            strerror(errno));
  free(path);
  return fd;
}

static void lock_fd(int fd, int op) {
  while (flock(fd, op) < 0 && errno == EINTR)
    ;
}

/* Adopts the running server or starts it; the caller holds start.lock. */
static int adopt_or_start(struct mn_pg_embedded *pg, struct mn_error *err) {
  int rc = try_adopt(pg, err);
  if (rc < 0)
    return rc;
  if (rc == 0) {
    mn_log_info("pg", "starting postgres in \"%s\" (socket in \"%s\")", pg->pgdata,
                pg->sockdir);
    if ((rc = start_server(pg, err)) < 0 || (rc = wait_ready(pg, 0, err)) < 0)
      return rc;
  }
  return 0;
}

int mn_pg_embedded_start(const char *data_dir, struct mn_pg_embedded **out,
                         struct mn_error *err) {
  if (!data_dir || !*data_dir)
    return mn_fail(err, MN_EINVAL, "embedded postgres: no data directory");
  struct mn_pg_embedded *pg = calloc(1, sizeof *pg);
  if (!pg)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  pg->users_fd = pg->start_fd = -1;
  int rc = prepare(pg, data_dir, err);
  if (rc < 0)
    goto fail;
  /* several daemons may share data_dir and so the cluster: one starts (or
   * stops) it at a time, and each holds a share for as long as it runs */
  if ((pg->start_fd = open_lock(pg, "start.lock", err)) < 0 ||
      (pg->users_fd = open_lock(pg, "users.lock", err)) < 0) {
    rc = MN_EIO;
    goto fail;
  }
  lock_fd(pg->start_fd, LOCK_EX);
  lock_fd(pg->users_fd, LOCK_SH);
  char *version_file = mn_path_join(pg->pgdata, "PG_VERSION");
  bool exists = version_file && access(version_file, F_OK) == 0;
  free(version_file);
  if (!exists && (rc = initdb(pg, err)) < 0)
    goto fail;
  if ((rc = write_conf(pg, err)) < 0)
    goto fail;
  if ((rc = adopt_or_start(pg, err)) < 0)
    goto fail;
  if ((rc = ensure_database(pg, err)) < 0)
    goto fail;
  lock_fd(pg->start_fd, LOCK_UN);
  *out = pg;
  return 0;
fail:
  embedded_free(pg); /* a server it started stays up: the next start adopts it */
  return rc;
}

const char *mn_pg_embedded_dsn(const struct mn_pg_embedded *pg) { return pg->dsn; }

bool mn_pg_embedded_adopted(const struct mn_pg_embedded *pg) { return pg->adopted; }

long mn_pg_embedded_pid(const struct mn_pg_embedded *pg) {
  long pid = read_pidfile(pg->pgdata, NULL, 0, NULL, 0);
  return mn_pg_process_alive((pid_t)pid) ? pid : 0;
}

static int ctl(const struct mn_pg_embedded *pg, const char *action, const char *mode,
               struct mn_error *err) {
  char *tool = mn_path_join(pg->bindir, "pg_ctl");
  if (!tool)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  char what[64];
  snprintf(what, sizeof what, "pg_ctl %s -m %s", action, mode);
  char *argv[] = {tool, "-D", pg->pgdata, "-l", pg->server_log, "-m", (char *)mode, "-w",
                  "-t", WAIT_SECONDS, (char *)action, NULL};
  int rc = run_tool(pg, what, argv, err);
  free(tool);
  return rc;
}

int mn_pg_embedded_restart(struct mn_pg_embedded *pg, const char *mode, struct mn_error *err) {
  if (!mode || (strcmp(mode, "fast") != 0 && strcmp(mode, "immediate") != 0))
    return mn_fail(err, MN_EINVAL, "embedded postgres: restart mode must be fast or immediate");
  mn_log_info("pg", "restarting postgres (%s)", mode);
  int rc = ctl(pg, "restart", mode, err);
  return rc < 0 ? rc : wait_ready(pg, 0, err);
}

void mn_pg_embedded_stop(struct mn_pg_embedded *pg) {
  if (!pg)
    return;
  struct mn_error err = {0};
  /* the last daemon out stops it, whichever started it; starts wait */
  lock_fd(pg->start_fd, LOCK_EX);
  if (flock(pg->users_fd, LOCK_EX | LOCK_NB) < 0) {
    mn_log_info("pg", "postgres left running: another daemon uses \"%s\"", pg->pgdata);
  } else if (ctl(pg, "stop", "fast", &err) < 0) {
    mn_log_error("pg", "%s", err.msg);
  } else {
    mn_log_info("pg", "postgres stopped");
  }
  embedded_free(pg);
}

int mn_pg_embedded_revive(struct mn_pg_embedded *pg, struct mn_error *err) {
  if (mn_pg_embedded_pid(pg) > 0)
    return 0;
  lock_fd(pg->start_fd, LOCK_EX);
  pg->adopted = false;
  int rc = mn_pg_embedded_pid(pg) > 0 ? 0 : adopt_or_start(pg, err);
  lock_fd(pg->start_fd, LOCK_UN);
  if (rc == 0)
    mn_log_warn("pg", "postgres of \"%s\" had stopped; it runs again", pg->pgdata);
  return rc;
}

void mn_pg_embedded_detach(struct mn_pg_embedded *pg) { embedded_free(pg); }
