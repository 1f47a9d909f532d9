/* A Python project folder, as `multinode deploy` turns it into a version
 * (docs/compatibility.md §6.2, §6.5; docs/python.md).
 *
 * A folder with a main.py and no multinode.yaml is a Python project: its
 * main.py holds one `Multinode()` and the functions decorated with
 * `@mn.function(...)`. The CLI does not parse Python: it asks the Python
 * package, in a child process of the interpreter named by $MULTINODE_PYTHON
 * (default `python3`):
 *
 *   python3 -m multinode.deploy inspect DIR      -> the functions and their resources
 *   python3 -m multinode.deploy snapshot DIR ROOT -> ROOT/<sha256 of the content>
 *   python3 -m multinode.deploy build-context SNAPSHOT BASE OUT.tar
 *
 * A version is immutable, so it never runs DIR itself: deploy takes a
 * content-addressed, read-only snapshot of the folder under
 * $MULTINODE_SNAPSHOT_DIR (default ~/.multinode/snapshots) and the version's
 * functions run that. On a process provider (local) the workers run the
 * snapshot in place; on a container provider (docker) deploy builds an
 * image FROM a worker base image with the snapshot in /app, on the Docker
 * Engine of $DOCKER_HOST (default unix:///var/run/docker.sock). */
#ifndef MN_CLI_PYTHON_PROJECT_H
#define MN_CLI_PYTHON_PROJECT_H

#include "manifest.h"

#define MN_PYTHON_MAIN "main.py"
#define MN_PYTHON_DEFAULT_BASE_IMAGE "multinode-python:local"

struct mn_python_project {
  char *python;       /* the interpreter run (from $MULTINODE_PYTHON or python3) */
  char *python_abs;   /* its absolute path, as the inspected child reported it */
  char *package_path; /* the folder holding the `multinode` package it imported */
};

/* Whether DIR is a Python project: DIR/main.py exists and DIR/multinode.yaml
 * does not. */
int mn_python_project_detect(const char *dir);

/* Inspects DIR: fills m (file = DIR/main.py, project_dir, functions with
 * their resources; no command yet) and p. Returns 0, or -1 with the
 * problems in m->errors (the child's own messages went to stderr). */
int mn_python_project_inspect(const char *dir, struct mn_manifest *m,
                              struct mn_python_project *p);

/* How the functions of a version will be run. */
enum mn_python_target { MN_PYTHON_PROCESS, MN_PYTHON_CONTAINER };

/* Snapshots DIR and points every function of m at it: for a process
 * provider, the command runs the task runtime on the snapshot's path; for a
 * container provider, an image is built (tagged REPOSITORY:<project>-<hash>)
 * and becomes m->image. Progress goes to stderr. 0, or -1 after printing
 * why. */
int mn_python_project_materialize(const char *dir, const char *project_name,
                                  const char *repository, enum mn_python_target target,
                                  struct mn_manifest *m, const struct mn_python_project *p);

void mn_python_project_release(struct mn_python_project *p);

#endif
