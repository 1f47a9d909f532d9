/* multinode/spawner.h — the wire format between the local provider
 * (plugins/local/zygote.c) and `multinode-worker --spawner`
 * (worker/spawner.c). Not part of the plugin ABI and not installed: both
 * sides are built from this tree, and the hello carries a version.
 *
 * The spawner is started once per provider instance with its control
 * socket (SOCK_SEQPACKET) as standard input. On it:
 *   spawner -> plugin  struct mn_spawner_hello, once, when it is ready;
 *                      then one struct mn_spawner_exit per child it reaps.
 *   plugin -> spawner  one request per launch: struct mn_spawner_request,
 *                      then argc argv strings, envc envp strings, (with
 *                      MN_SPAWNER_F_CWD) the working directory and (with
 *                      MN_SPAWNER_F_MASKS) the mask source and nmasks
 *                      paths, each NUL-terminated; SCM_RIGHTS carries the launch
 *                      socket, the log fd and (nfds == 3) the execution's
 *                      cgroup directory (version 3; before, its cgroup.procs).
 *   end-of-file        the spawner exits; its children keep running.
 *
 * The child is born in the cgroup (clone3 with CLONE_INTO_CGROUP) where the
 * kernel allows, else joins it first. It sets itself up in this order: its
 * own session, the cgroup,
 * stdin (/dev/null), stdout and stderr (the log), the working directory,
 * RLIMIT_DATA (MN_SPAWNER_F_DATA_RLIMIT), a mount namespace of its own
 * where each masked path is covered by the source file (bind mounts,
 * MN_SPAWNER_F_MASKS), then (MN_SPAWNER_F_IDENTITY) the
 * supplementary groups, gid and uid of the request — for good: the worker
 * cannot get root back. The spawner is a
 * child subreaper: what a worker killed outright leaves behind comes to it,
 * and it SIGKILLs every child that is not one of its workers.
 *
 * On the launch socket (SOCK_SEQPACKET, one pair per launch):
 *   child -> plugin    struct mn_spawner_reply: READY (set up, waiting, with
 *                      its pid) or FAILED (the step and errno; it exits 127);
 *   plugin -> child    one byte, once the record is written: the child
 *                      closes the socket and runs the worker;
 *   end-of-file first  the child exits 127 without running anything. */
#ifndef MULTINODE_SPAWNER_H
#define MULTINODE_SPAWNER_H

#include <stdint.h>

#define MN_SPAWNER_MAGIC 0x4d4e5350u /* "MNSP" */
#define MN_SPAWNER_VERSION 3u
#define MN_SPAWNER_ARG "--spawner"
/* The largest request (header + strings); larger ones use fork + exec. */
#define MN_SPAWNER_REQUEST_MAX (128 * 1024)
#define MN_SPAWNER_ID_MAX 128
#define MN_SPAWNER_GROUPS_MAX 64

/* mn_spawner_request.flags */
#define MN_SPAWNER_F_IDENTITY 1u /* switch to uid, gid and groups */
#define MN_SPAWNER_F_CWD 2u      /* a working directory string follows envp */
#define MN_SPAWNER_F_DATA_RLIMIT 4u /* set RLIMIT_DATA to data_rlimit */
#define MN_SPAWNER_F_MASKS 8u /* after the working directory: a source file
                               * and nmasks paths to cover with it */
#define MN_SPAWNER_MASKS_MAX 4

struct mn_spawner_hello {
  uint32_t magic;
  uint32_t version;
  int32_t pid;
};

struct mn_spawner_request {
  uint32_t magic;
  uint32_t argc; /* >= 1 */
  uint32_t envc;
  uint32_t nfds; /* 2 or 3 */
  char execution_id[MN_SPAWNER_ID_MAX + 1];
  uint32_t flags; /* MN_SPAWNER_F_* */
  uint32_t uid, gid;
  uint32_t ngroups; /* <= MN_SPAWNER_GROUPS_MAX */
  uint32_t groups[MN_SPAWNER_GROUPS_MAX];
  uint64_t data_rlimit; /* soft and hard */
  uint32_t nmasks;      /* <= MN_SPAWNER_MASKS_MAX */
};

enum mn_spawner_reply_kind {
  MN_SPAWNER_READY = 1,
  MN_SPAWNER_FAILED = 2,
};

/* Where a FAILED child (or the spawner for it) gave up. */
enum mn_spawner_step {
  MN_SPAWNER_STEP_REQUEST = 1, /* a malformed request */
  MN_SPAWNER_STEP_FORK,
  MN_SPAWNER_STEP_SETSID,
  MN_SPAWNER_STEP_CGROUP,
  MN_SPAWNER_STEP_STDIO,
  MN_SPAWNER_STEP_CWD,      /* since version 2 */
  MN_SPAWNER_STEP_IDENTITY, /* since version 2 */
  MN_SPAWNER_STEP_RLIMIT,   /* since version 2 */
  MN_SPAWNER_STEP_MASKS,    /* since version 2 */
};

struct mn_spawner_reply {
  int32_t kind; /* enum mn_spawner_reply_kind */
  int32_t pid;
  int32_t step; /* FAILED: enum mn_spawner_step */
  int32_t err;  /* FAILED: errno */
};

struct mn_spawner_exit {
  uint32_t magic;
  int32_t pid;
  int32_t status; /* as waitpid() returns it */
  char execution_id[MN_SPAWNER_ID_MAX + 1];
};

#endif
