/* workdir.c — per-execution working directories (workdir.h). */
#define _GNU_SOURCE /* O_DIRECTORY, O_NOFOLLOW with fdopendir */
#include "workdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directories deeper than this are moved up to the top before they are
 * emptied: each level holds a descriptor and a directory stream. */
#define DEPTH_MAX 32
#define PASSES_MAX 1000000

int mn_local_workdir_create(const char *root, const char *id, const struct mn_local_identity *idn,
                            char *out, size_t size, char *why, size_t why_size) {
  struct stat st;
  int n = snprintf(out, size, "%s/%s", root, id);
  if (n < 0 || (size_t)n >= size) {
    snprintf(why, why_size, "the working directory's path is too long");
    return -ENAMETOOLONG;
  }
  if (mkdir(out, 0700) != 0 && errno != EEXIST) {
    int e = errno;
    snprintf(why, why_size, "cannot create \"%s\": %s", out, strerror(e));
    return -e;
  }
  /* Ours (root is the daemon's and only it writes there), or left by a
   * launch that did not finish: a directory, never a link. */
  int fd = open(out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int rc = 0;
  if (fd < 0 || fstat(fd, &st) != 0) {
    rc = -errno;
  } else if (idn->switch_user && (st.st_uid != idn->uid || st.st_gid != idn->gid) &&
             fchown(fd, idn->uid, idn->gid) != 0) {
    rc = -errno;
  } else if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) != 0) {
    rc = -errno;
  }
  if (rc != 0)
    snprintf(why, why_size, "cannot prepare \"%s\" for user \"%s\": %s", out, idn->name,
             strerror(-rc));
  if (fd >= 0)
    close(fd);
  return rc;
}

struct remover {
  int top;          /* the tree's root directory */
  unsigned long moved;
  int progress;
};

/* Empties the directory open as fd (consumed), depth levels below the top. */
static int clear(struct remover *r, int fd, int depth) {
  DIR *d = fdopendir(fd);
  struct dirent *e;
  int rc = 0;
  if (!d) {
    rc = -errno;
    close(fd);
    return rc;
  }
  while ((e = readdir(d)) != NULL) {
    const char *name = e->d_name;
    if (!strcmp(name, ".") || !strcmp(name, ".."))
      continue;
    if (unlinkat(dirfd(d), name, 0) == 0) {
      r->progress = 1;
      continue;
    }
    if (errno == ENOENT)
      continue;
    if (errno != EISDIR && errno != EPERM) {
      rc = -errno;
      continue;
    }
    if (depth + 1 >= DEPTH_MAX) {
      /* Too deep to descend: move it up to the top, emptied on a later pass. */
      char up[64];
      snprintf(up, sizeof up, ".mn-deep-%lu", r->moved++);
      if (renameat(dirfd(d), name, r->top, up) == 0)
        r->progress = 1;
      else
        rc = -errno;
      continue;
    }
    int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
      if (errno != ENOENT)
        rc = -errno;
      continue;
    }
    int r2 = clear(r, sub, depth + 1);
    if (r2 != 0)
      rc = r2;
    if (unlinkat(dirfd(d), name, AT_REMOVEDIR) == 0)
      r->progress = 1;
    else if (errno != ENOENT && errno != ENOTEMPTY)
      rc = -errno;
  }
  closedir(d);
  return rc;
}

int mn_local_tree_remove(const char *root, const char *name) {
  int parent = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0)
    return errno == ENOENT ? 0 : -errno;
  int rc = 0;
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) /* a file, or nothing */
    goto done;
  struct remover r = {.top = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
  if (r.top < 0) {
    rc = errno == ENOENT ? 0 : -errno;
    goto done;
  }
  for (long pass = 0; pass < PASSES_MAX; pass++) {
    int fd = dup(r.top);
    if (fd < 0) {
      rc = -errno;
      break;
    }
    lseek(r.top, 0, SEEK_SET); /* the stream reads the shared offset */
    r.progress = 0;
    rc = clear(&r, fd, 0);
    if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT) {
      rc = 0;
      break;
    }
    if (errno != ENOTEMPTY && errno != EEXIST) {
      rc = -errno;
      break;
    }
    if (!r.progress) {
      rc = rc ? rc : -ENOTEMPTY;
      break;
    }
  }
  close(r.top);
done:
  close(parent);
  return rc;
}
