#include "store/migrations.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

/* Times are microseconds since the epoch (BIGINT). Enum columns hold the
 * wire strings. Every child row is keyed by its ancestors' keys and goes
 * with them (ON DELETE CASCADE). */
static const char schema_v1[] =
    "CREATE TABLE projects ("
    "  project_name text PRIMARY KEY,"
    "  deletion_request_time bigint,"
    "  creation_time bigint NOT NULL);"
    "CREATE INDEX projects_by_creation ON projects (creation_time DESC, project_name);"
    "CREATE INDEX projects_deleting ON projects (project_name)"
    "  WHERE deletion_request_time IS NOT NULL;"

    "CREATE TABLE project_versions ("
    "  project_name text NOT NULL REFERENCES projects (project_name)"
    "    ON DELETE CASCADE ON UPDATE CASCADE,"
    "  version_id text NOT NULL,"
    "  default_docker_image text NOT NULL,"
    "  creation_time bigint NOT NULL,"
    "  PRIMARY KEY (project_name, version_id));"
    "CREATE INDEX project_versions_by_creation"
    "  ON project_versions (project_name, creation_time DESC, version_id);"

    "CREATE TABLE functions ("
    "  project_name text NOT NULL,"
    "  version_id text NOT NULL,"
    "  function_name text NOT NULL,"
    "  docker_image text NOT NULL,"
    "  virtual_cpus double precision NOT NULL,"
    "  memory_gbs double precision NOT NULL,"
    "  max_concurrency integer NOT NULL,"
    "  max_retries integer NOT NULL,"
    "  timeout_seconds integer NOT NULL,"
    "  function_status text NOT NULL DEFAULT 'PENDING'"
    "    CHECK (function_status IN ('PENDING', 'READY')),"
    "  prepared_function_details jsonb,"
    "  command jsonb,"
    "  env jsonb,"
    "  provider text,"
    "  preparation_error text,"
    "  PRIMARY KEY (project_name, version_id, function_name),"
    "  CONSTRAINT functions_version_fkey FOREIGN KEY (project_name, version_id)"
    "    REFERENCES project_versions ON DELETE CASCADE ON UPDATE CASCADE);"
    "CREATE INDEX functions_pending ON functions (project_name, version_id, function_name)"
    "  WHERE function_status = 'PENDING';"

    "CREATE TABLE invocations ("
    "  project_name text NOT NULL,"
    "  version_id text NOT NULL,"
    "  function_name text NOT NULL,"
    "  invocation_id text NOT NULL,"
    "  parent_function_name text,"
    "  parent_invocation_id text,"
    "  input text NOT NULL,"
    "  cancellation_request_time bigint,"
    "  invocation_status text NOT NULL"
    "    CHECK (invocation_status IN ('RUNNING', 'TERMINATED')),"
    "  creation_time bigint NOT NULL,"
    "  last_update_time bigint NOT NULL,"
    "  PRIMARY KEY (project_name, version_id, function_name, invocation_id),"
    "  CONSTRAINT invocations_function_fkey"
    "    FOREIGN KEY (project_name, version_id, function_name)"
    "    REFERENCES functions ON DELETE CASCADE ON UPDATE CASCADE,"
    "  CONSTRAINT invocations_parent_fkey FOREIGN KEY"
    "    (project_name, version_id, parent_function_name, parent_invocation_id)"
    "    REFERENCES invocations (project_name, version_id, function_name, invocation_id)"
    "    ON DELETE CASCADE ON UPDATE CASCADE,"
    "  CONSTRAINT invocations_parent_complete"
    "    CHECK ((parent_function_name IS NULL) = (parent_invocation_id IS NULL)));"
    /* list_invocations (newest first, id ascending) */
    "CREATE INDEX invocations_by_function ON invocations"
    "  (project_name, version_id, function_name, creation_time DESC, invocation_id);"
    /* children of a parent: the FK cascade and the parent filter of lists */
    "CREATE INDEX invocations_by_parent ON invocations"
    "  (project_name, version_id, parent_function_name, parent_invocation_id,"
    "   function_name, creation_time DESC, invocation_id);"
    /* the scheduler's working set and status-filtered lists; scanned
     * backwards it is the FIFO order of a function's queue */
    "CREATE INDEX invocations_running ON invocations"
    "  (project_name, version_id, function_name, creation_time DESC, invocation_id)"
    "  WHERE invocation_status = 'RUNNING';"
    /* retention pruning of terminated rows */
    "CREATE INDEX invocations_terminated ON invocations (last_update_time)"
    "  WHERE invocation_status = 'TERMINATED';"

    "CREATE TABLE executions ("
    "  project_name text NOT NULL,"
    "  version_id text NOT NULL,"
    "  function_name text NOT NULL,"
    "  invocation_id text NOT NULL,"
    "  execution_id text NOT NULL,"
    "  worker_status text NOT NULL CHECK (worker_status IN"
    "    ('PENDING', 'PROVISIONING', 'RUNNING', 'TERMINATED')),"
    "  worker_details jsonb,"
    "  termination_signal_time bigint,"
    "  outcome text CHECK (outcome IN ('SUCCEEDED', 'FAILED', 'ABORTED')),"
    "  output text,"
    "  error_message text,"
    "  creation_time bigint NOT NULL,"
    "  last_update_time bigint NOT NULL,"
    "  execution_start_time bigint,"
    "  execution_finish_time bigint,"
    "  PRIMARY KEY (project_name, version_id, function_name, invocation_id, execution_id),"
    "  CONSTRAINT executions_invocation_fkey"
    "    FOREIGN KEY (project_name, version_id, function_name, invocation_id)"
    "    REFERENCES invocations ON DELETE CASCADE ON UPDATE CASCADE);"
    /* the scheduler's executions still holding (or about to hold) a worker */
    "CREATE INDEX executions_active ON executions (worker_status, creation_time)"
    "  WHERE worker_status <> 'TERMINATED';";

/* For the scheduler: small key/value settings of the database (its cluster
 * id), and executions found by their id alone (provider labels carry only
 * the execution id; ids are unique across the database). */
static const char schema_v2[] =
    "CREATE TABLE settings ("
    "  key text PRIMARY KEY,"
    "  value text NOT NULL);"
    "CREATE UNIQUE INDEX executions_by_id ON executions (execution_id);";

/* The worker that started an execution names itself, so that its own
 * start, retried after a lost answer, is not refused. */
static const char schema_v3[] = "ALTER TABLE executions ADD COLUMN claim_token text;";

/* Children of a parent, indexed only where there is a parent. As a full
 * index it shared its first columns (project, version) with the primary key,
 * and a young table (no statistics yet, every row in one project) made the
 * planner pick it for primary-key lookups and for parent joins of
 * invocations without a parent: a scan of the whole version per lookup
 * (3.2 ms instead of 0.2 ms at 2,000 invocations, growing with the table).
 * A query can use the partial index only when it names a parent, which
 * implies the predicate. Statistics also come sooner on the two hot tables. */
static const char schema_v4[] =
    "DROP INDEX invocations_by_parent;"
    "CREATE INDEX invocations_by_parent ON invocations"
    "  (project_name, version_id, parent_function_name, parent_invocation_id,"
    "   function_name, creation_time DESC, invocation_id)"
    "  WHERE parent_invocation_id IS NOT NULL;"
    "ALTER TABLE invocations SET (autovacuum_analyze_scale_factor = 0.02,"
    "  autovacuum_analyze_threshold = 200);"
    "ALTER TABLE executions SET (autovacuum_analyze_scale_factor = 0.02,"
    "  autovacuum_analyze_threshold = 200);";

/* The scheduler's queue model (docs/architecture.md, "Queues"): a pass
 * reads what changed and what it can launch, never the whole queue.
 * - live: the invocation holds a non-terminated execution (it uses one unit
 *   of its function's capacity). Kept by a trigger on executions, so that
 *   no write path can forget it.
 * - attention: non-zero when something happened that the scheduler must
 *   decide on (an attempt ended, a cancellation); a sequence value, so that
 *   clearing it after a decision never erases a newer request.
 * - deadline: when the invocation times out (classify.c's rule: the first
 *   whole second past creation + timeout_seconds).
 * The queue of a function is its RUNNING invocations that are not live, in
 * FIFO order (invocations_queue); heads are read with LIMIT free slots. */
static const char schema_v5[] =
    "ALTER TABLE invocations ADD COLUMN live boolean NOT NULL DEFAULT false,"
    "  ADD COLUMN attention bigint NOT NULL DEFAULT 0,"
    "  ADD COLUMN deadline bigint;"
    "CREATE SEQUENCE invocations_attention_seq;"
    "UPDATE invocations i SET deadline ="
    "  ((i.creation_time / 1000000) + f.timeout_seconds + 1) * 1000000,"
    "  attention = nextval('invocations_attention_seq'),"
    "  live = EXISTS (SELECT 1 FROM executions e WHERE e.project_name = i.project_name"
    "   AND e.version_id = i.version_id AND e.function_name = i.function_name"
    "   AND e.invocation_id = i.invocation_id AND e.worker_status <> 'TERMINATED')"
    "  FROM functions f WHERE f.project_name = i.project_name"
    "  AND f.version_id = i.version_id AND f.function_name = i.function_name"
    "  AND i.invocation_status = 'RUNNING';"
    "CREATE INDEX invocations_queue ON invocations"
    "  (project_name, version_id, function_name, creation_time, invocation_id)"
    "  WHERE invocation_status = 'RUNNING' AND NOT live;"
    "CREATE INDEX invocations_live ON invocations (project_name, version_id, function_name)"
    "  WHERE invocation_status = 'RUNNING' AND live;"
    "CREATE INDEX invocations_attention ON invocations (attention)"
    "  WHERE invocation_status = 'RUNNING' AND attention <> 0;"
    "CREATE INDEX invocations_deadline ON invocations (deadline)"
    "  WHERE invocation_status = 'RUNNING';"
    "CREATE FUNCTION mn_executions_changed() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF TG_OP = 'INSERT' THEN"
    "   IF NEW.worker_status <> 'TERMINATED' THEN"
    "    UPDATE invocations SET live = true WHERE project_name = NEW.project_name"
    "     AND version_id = NEW.version_id AND function_name = NEW.function_name"
    "     AND invocation_id = NEW.invocation_id AND NOT live;"
    "   END IF;"
    "  ELSIF NEW.worker_status = 'TERMINATED' AND OLD.worker_status <> 'TERMINATED' THEN"
    "   UPDATE invocations i SET attention = nextval('invocations_attention_seq'),"
    "    live = EXISTS (SELECT 1 FROM executions e WHERE e.project_name = i.project_name"
    "     AND e.version_id = i.version_id AND e.function_name = i.function_name"
    "     AND e.invocation_id = i.invocation_id AND e.worker_status <> 'TERMINATED')"
    "    WHERE i.project_name = NEW.project_name AND i.version_id = NEW.version_id"
    "    AND i.function_name = NEW.function_name AND i.invocation_id = NEW.invocation_id"
    "    AND i.invocation_status = 'RUNNING';"
    "  END IF;"
    "  RETURN NULL;"
    " END $$;"
    "CREATE TRIGGER executions_changed AFTER INSERT OR UPDATE OF worker_status"
    "  ON executions FOR EACH ROW EXECUTE FUNCTION mn_executions_changed();";

/* Per-execution API keys (docs/security.md, "Execution keys"): the SHA-256
 * of the key of the execution's current launch, never the key. */
static const char schema_v6[] =
    "ALTER TABLE executions ADD COLUMN token_hash text;"
    "CREATE UNIQUE INDEX executions_by_token ON executions (token_hash)"
    "  WHERE token_hash IS NOT NULL;";

/* Task semantics on the queue model (docs/architecture.md, "Queues"; the
 * wire fields in docs/compatibility.md, "Additions"):
 * - functions: retry backoff, attempt/queue/heartbeat timeouts, a quota per
 *   concurrency key (NULL: none).
 * - invocations: priority, start_at, concurrency_key, idempotency_key (one
 *   invocation per key and function version: a unique index), and why it
 *   ended (termination_reason).
 * - waiting: not eligible before eligible_at (a delayed start, a retry's
 *   backoff); blocked: its concurrency key was full when it reached the
 *   head. Neither is in the queue index: the deadline index wakes a waiting
 *   one (deadline is now the next instant the scheduler must look at an
 *   invocation), and an ending attempt of a key unblocks that key's oldest
 *   (invocations_blocked), so a pass never scans a backlog.
 * - executions: the last heartbeat (or /update) of the worker. */
static const char schema_v7[] =
    "ALTER TABLE functions ADD COLUMN retry_delay_seconds double precision NOT NULL DEFAULT 0,"
    "  ADD COLUMN retry_backoff_factor double precision NOT NULL DEFAULT 2,"
    "  ADD COLUMN retry_max_delay_seconds double precision NOT NULL DEFAULT 300,"
    "  ADD COLUMN attempt_timeout_seconds integer,"
    "  ADD COLUMN queue_timeout_seconds integer,"
    "  ADD COLUMN heartbeat_timeout_seconds integer,"
    "  ADD COLUMN max_concurrency_per_key integer;"
    "ALTER TABLE invocations ADD COLUMN priority smallint NOT NULL DEFAULT 0,"
    "  ADD COLUMN start_at bigint,"
    "  ADD COLUMN concurrency_key text,"
    "  ADD COLUMN idempotency_key text,"
    "  ADD COLUMN termination_reason text,"
    "  ADD COLUMN eligible_at bigint NOT NULL DEFAULT 0,"
    "  ADD COLUMN waiting boolean NOT NULL DEFAULT false,"
    "  ADD COLUMN blocked boolean NOT NULL DEFAULT false;"
    "ALTER TABLE executions ADD COLUMN heartbeat_time bigint;"
    "CREATE UNIQUE INDEX invocations_idempotency ON invocations"
    "  (project_name, version_id, function_name, idempotency_key)"
    "  WHERE idempotency_key IS NOT NULL;"
    "DROP INDEX invocations_queue;"
    "CREATE INDEX invocations_queue ON invocations"
    "  (project_name, version_id, function_name, priority DESC, creation_time, invocation_id)"
    "  WHERE invocation_status = 'RUNNING' AND NOT live AND NOT waiting AND NOT blocked;"
    "CREATE INDEX invocations_blocked ON invocations"
    "  (project_name, version_id, function_name, concurrency_key, priority DESC,"
    "   creation_time, invocation_id)"
    "  WHERE invocation_status = 'RUNNING' AND blocked;";

/* Live events and progress history (docs/events.md). Triggers write them, so
 * that no write path can forget one, in the transaction of the change:
 * - events: one row per change a client may watch (an invocation created
 *   or changed, an attempt created, started or ended, a progress update),
 *   with a store-wide increasing id (resumable streams) and its data as
 *   JSON; NOTIFY mn_events wakes the daemons' listeners at commit. The
 *   invocation's snapshot carries what the derived status needs
 *   (executions, timeout, retries); the daemon derives it and drops them.
 * - execution_progress: every /update's output, numbered per execution,
 *   the newest 10,000 and 16 MiB kept (total_bytes is the running sum, so
 *   both bounds are index ranges). */
static const char schema_v8[] =
    "CREATE TABLE events ("
    "  id bigserial PRIMARY KEY,"
    "  kind text NOT NULL CHECK (kind IN ('invocation', 'execution', 'progress')),"
    "  project_name text NOT NULL,"
    "  version_id text NOT NULL,"
    "  function_name text NOT NULL,"
    "  invocation_id text NOT NULL,"
    "  data json NOT NULL,"
    "  time bigint NOT NULL);"
    "CREATE INDEX events_by_time ON events (time);"
    "CREATE TABLE execution_progress ("
    "  execution_id text NOT NULL REFERENCES executions (execution_id) ON DELETE CASCADE,"
    "  seq bigint NOT NULL,"
    "  output text NOT NULL,"
    "  time bigint NOT NULL,"
    "  total_bytes bigint NOT NULL,"
    "  PRIMARY KEY (execution_id, seq));"
    "CREATE INDEX execution_progress_bytes ON execution_progress (execution_id, total_bytes);"
    "CREATE FUNCTION mn_invocation_event(p text, v text, f text, i text) RETURNS void"
    " LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  INSERT INTO events (kind, project_name, version_id, function_name, invocation_id,"
    "   data, time)"
    "  SELECT 'invocation', p, v, f, i, json_build_object("
    "   'project_name', p, 'version_id', v, 'function_name', f, 'invocation_id', i,"
    "   'parent_function_name', inv.parent_function_name,"
    "   'parent_invocation_id', inv.parent_invocation_id,"
    "   'invocation_status', inv.invocation_status,"
    "   'termination_reason', inv.termination_reason, 'start_at', inv.start_at,"
    "   'cancellation_request_time', inv.cancellation_request_time,"
    "   'creation_time', inv.creation_time, 'last_update_time', inv.last_update_time,"
    "   'timeout_seconds', fn.timeout_seconds, 'max_retries', fn.max_retries,"
    "   'executions', coalesce((SELECT json_agg(json_build_object("
    "     'worker_status', e.worker_status, 'outcome', e.outcome,"
    "     'termination_signal_time', e.termination_signal_time,"
    "     'execution_start_time', e.execution_start_time,"
    "     'last_update_time', e.last_update_time) ORDER BY e.creation_time, e.execution_id)"
    "    FROM executions e WHERE e.project_name = p AND e.version_id = v"
    "    AND e.function_name = f AND e.invocation_id = i), '[]'::json)),"
    "   (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
    "  FROM invocations inv JOIN functions fn ON fn.project_name = p AND fn.version_id = v"
    "   AND fn.function_name = f"
    "  WHERE inv.project_name = p AND inv.version_id = v AND inv.function_name = f"
    "  AND inv.invocation_id = i;"
    "  PERFORM pg_notify('mn_events', '');"
    " END $$;"
    "CREATE FUNCTION mn_invocations_event() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF TG_OP = 'UPDATE' AND NEW.invocation_status = OLD.invocation_status"
    "   AND NEW.cancellation_request_time IS NOT DISTINCT FROM OLD.cancellation_request_time"
    "   AND NEW.last_update_time = OLD.last_update_time THEN"
    "   RETURN NULL;"
    "  END IF;"
    "  PERFORM mn_invocation_event(NEW.project_name, NEW.version_id, NEW.function_name,"
    "   NEW.invocation_id);"
    "  RETURN NULL;"
    " END $$;"
    "CREATE TRIGGER invocations_event AFTER INSERT OR UPDATE ON invocations"
    "  FOR EACH ROW EXECUTE FUNCTION mn_invocations_event();"
    /* only /update and /finish set output; /finish also sets the finish time */
    "CREATE FUNCTION mn_executions_progress() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE last record; s bigint; tb bigint;"
    " BEGIN"
    "  SELECT seq, total_bytes INTO last FROM execution_progress"
    "   WHERE execution_id = NEW.execution_id ORDER BY seq DESC LIMIT 1;"
    "  s := coalesce(last.seq, 0) + 1;"
    "  tb := coalesce(last.total_bytes, 0) + octet_length(NEW.output);"
    "  INSERT INTO execution_progress VALUES (NEW.execution_id, s, NEW.output,"
    "   NEW.last_update_time, tb);"
    "  DELETE FROM execution_progress WHERE execution_id = NEW.execution_id"
    "   AND seq <= s - 10000;"
    "  DELETE FROM execution_progress WHERE execution_id = NEW.execution_id"
    "   AND total_bytes <= tb - 16777216;"
    "  INSERT INTO events (kind, project_name, version_id, function_name, invocation_id,"
    "   data, time) VALUES ('progress', NEW.project_name, NEW.version_id,"
    "   NEW.function_name, NEW.invocation_id, json_build_object("
    "   'project_name', NEW.project_name, 'version_id', NEW.version_id,"
    "   'function_name', NEW.function_name, 'invocation_id', NEW.invocation_id,"
    "   'execution_id', NEW.execution_id, 'output', NEW.output,"
    "   'time', NEW.last_update_time, 'offset', s),"
    "   (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);"
    "  PERFORM pg_notify('mn_events', '');"
    "  RETURN NULL;"
    " END $$;"
    "CREATE TRIGGER executions_progress AFTER UPDATE OF output ON executions"
    "  FOR EACH ROW WHEN (NEW.execution_finish_time IS NULL AND NEW.output IS NOT NULL)"
    "  EXECUTE FUNCTION mn_executions_progress();"
    "CREATE FUNCTION mn_executions_event() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF TG_OP = 'INSERT' OR NEW.worker_status <> OLD.worker_status"
    "   OR NEW.outcome IS DISTINCT FROM OLD.outcome"
    "   OR NEW.execution_start_time IS DISTINCT FROM OLD.execution_start_time"
    "   OR NEW.execution_finish_time IS DISTINCT FROM OLD.execution_finish_time"
    "   OR NEW.termination_signal_time IS DISTINCT FROM OLD.termination_signal_time THEN"
    "   INSERT INTO events (kind, project_name, version_id, function_name, invocation_id,"
    "    data, time) VALUES ('execution', NEW.project_name, NEW.version_id,"
    "    NEW.function_name, NEW.invocation_id, json_build_object("
    "    'project_name', NEW.project_name, 'version_id', NEW.version_id,"
    "    'function_name', NEW.function_name, 'invocation_id', NEW.invocation_id,"
    "    'execution_id', NEW.execution_id, 'execution_status', NEW.worker_status,"
    "    'outcome', NEW.outcome, 'error_message', NEW.error_message,"
    "    'execution_start_time', NEW.execution_start_time,"
    "    'execution_finish_time', NEW.execution_finish_time),"
    "    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);"
    "   PERFORM mn_invocation_event(NEW.project_name, NEW.version_id, NEW.function_name,"
    "    NEW.invocation_id);"
    "  END IF;"
    "  RETURN NULL;"
    " END $$;"
    "CREATE TRIGGER executions_event AFTER INSERT OR UPDATE ON executions"
    "  FOR EACH ROW EXECUTE FUNCTION mn_executions_event();";

/* Lookups by invocation id alone (GET /invocations/{id}, issue 19). */
static const char schema_v9[] = "CREATE INDEX invocations_by_id ON invocations (invocation_id);";

/* One event per visible change (docs/events.md), replacing two trigger
 * functions of migration 8, which wrote an `invocation` event for every
 * change of an invocation's last_update_time and for every change of one of
 * its attempts (8 for a plain invocation where 4 changes are seen):
 * - an invocation's own change makes one when it is created, or when its
 *   status or cancellation changes (last_update_time alone, bumped when an
 *   attempt is made, is not a change of its own: the `execution` event
 *   says it, and the next `invocation` event carries the time);
 * - an attempt's change makes one only when it changes one of the facts
 *   the derived status (mn_derived_add() in common/derived_status.c, the
 *   one implementation; a change there comes here too) takes from each
 *   attempt: its outcome, whether it is running (RUNNING, started, no
 *   outcome), ended bare (TERMINATED, no outcome), aborted before it started
 *   (a bare end, signalled, never started), and the signal time of an abort.
 *   A worker that starts before its provider reports RUNNING, or is reaped
 *   (TERMINATED) after /finish, changes none of them: its `execution` event
 *   is written, no `invocation` event. A plain invocation now makes 4:
 *   PENDING, RUNNING, SUCCEEDED and TERMINATED. */
static const char schema_v11[] =
    "CREATE FUNCTION mn_attempt_facts(outcome text, start_time bigint, signal_time bigint,"
    "  worker text) RETURNS text LANGUAGE sql IMMUTABLE AS $$"
    " SELECT concat_ws('|', coalesce(outcome, '-'), running, bare_end, unstarted_abort,"
    "  coalesce(CASE WHEN outcome = 'ABORTED' OR unstarted_abort THEN signal_time END::text, '-'))"
    " FROM (SELECT worker = 'RUNNING' AND start_time IS NOT NULL AND outcome IS NULL,"
    "  worker = 'TERMINATED' AND outcome IS NULL,"
    "  worker = 'TERMINATED' AND outcome IS NULL AND signal_time IS NOT NULL"
    "  AND start_time IS NULL) AS f(running, bare_end, unstarted_abort) $$;"
    "CREATE OR REPLACE FUNCTION mn_invocations_event() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF TG_OP = 'UPDATE' AND NEW.invocation_status = OLD.invocation_status"
    "   AND NEW.cancellation_request_time IS NOT DISTINCT FROM OLD.cancellation_request_time"
    "   THEN"
    "   RETURN NULL;"
    "  END IF;"
    "  PERFORM mn_invocation_event(NEW.project_name, NEW.version_id, NEW.function_name,"
    "   NEW.invocation_id);"
    "  RETURN NULL;"
    " END $$;"
    "CREATE OR REPLACE FUNCTION mn_executions_event() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF TG_OP = 'INSERT' OR NEW.worker_status <> OLD.worker_status"
    "   OR NEW.outcome IS DISTINCT FROM OLD.outcome"
    "   OR NEW.execution_start_time IS DISTINCT FROM OLD.execution_start_time"
    "   OR NEW.execution_finish_time IS DISTINCT FROM OLD.execution_finish_time"
    "   OR NEW.termination_signal_time IS DISTINCT FROM OLD.termination_signal_time THEN"
    "   INSERT INTO events (kind, project_name, version_id, function_name, invocation_id,"
    "    data, time) VALUES ('execution', NEW.project_name, NEW.version_id,"
    "    NEW.function_name, NEW.invocation_id, json_build_object("
    "    'project_name', NEW.project_name, 'version_id', NEW.version_id,"
    "    'function_name', NEW.function_name, 'invocation_id', NEW.invocation_id,"
    "    'execution_id', NEW.execution_id, 'execution_status', NEW.worker_status,"
    "    'outcome', NEW.outcome, 'error_message', NEW.error_message,"
    "    'execution_start_time', NEW.execution_start_time,"
    "    'execution_finish_time', NEW.execution_finish_time),"
    "    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);"
    "   IF mn_attempt_facts(NEW.outcome, NEW.execution_start_time,"
    "    NEW.termination_signal_time, NEW.worker_status) IS DISTINCT FROM (CASE TG_OP"
    "    WHEN 'INSERT' THEN mn_attempt_facts(NULL, NULL, NULL, 'PENDING')"
    "    ELSE mn_attempt_facts(OLD.outcome, OLD.execution_start_time,"
    "     OLD.termination_signal_time, OLD.worker_status) END) THEN"
    "    PERFORM mn_invocation_event(NEW.project_name, NEW.version_id, NEW.function_name,"
    "     NEW.invocation_id);"
    "   ELSE"
    "    PERFORM pg_notify('mn_events', '');"
    "   END IF;"
    "  END IF;"
    "  RETURN NULL;"
    " END $$;";

/* Cheaper events (issue 12), the same rows and contents as migrations 8
 * and 11 (docs/events.md). Measured per invocation before: 9 executions of
 * mn_attempt_facts (a SQL function run through the executor each time), 7
 * PERFORMs of pg_notify and 4 of mn_invocation_event (each a query through
 * SPI, the latter a second plpgsql function), and plpgsql entered for
 * changes that write nothing (an attempt's claim, the live and attention
 * columns). Now:
 * - every trigger has a WHEN condition (evaluated in C by the executor, the
 *   trigger not even queued when false) for the changes it acts on;
 * - mn_attempt_facts is one expression without FROM, so that the planner
 *   inlines it into the caller (same facts, same comparisons);
 * - the `invocation` event is written inline by each trigger function, from
 *   the invocation row it has (NEW) or reads once, with its function's
 *   limits and its attempts as before;
 * - pg_notify is an assignment (a simple expression evaluated without SPI)
 *   instead of a PERFORM (a query). */
#define INVOCATION_EVENT_DATA(r)                                                         \
  "json_build_object("                                                                   \
  "'project_name', NEW.project_name, 'version_id', NEW.version_id,"                      \
  "'function_name', NEW.function_name, 'invocation_id', NEW.invocation_id,"              \
  "'parent_function_name', " r ".parent_function_name,"                                  \
  "'parent_invocation_id', " r ".parent_invocation_id,"                                  \
  "'invocation_status', " r ".invocation_status,"                                        \
  "'termination_reason', " r ".termination_reason, 'start_at', " r ".start_at,"          \
  "'cancellation_request_time', " r ".cancellation_request_time,"                        \
  "'creation_time', " r ".creation_time, 'last_update_time', " r ".last_update_time,"    \
  "'timeout_seconds', fn.timeout_seconds, 'max_retries', fn.max_retries,"               \
  "'executions', coalesce((SELECT json_agg(json_build_object("                           \
  " 'worker_status', e.worker_status, 'outcome', e.outcome,"                             \
  " 'termination_signal_time', e.termination_signal_time,"                               \
  " 'execution_start_time', e.execution_start_time,"                                     \
  " 'last_update_time', e.last_update_time) ORDER BY e.creation_time, e.execution_id)"   \
  " FROM executions e WHERE e.project_name = NEW.project_name"                           \
  " AND e.version_id = NEW.version_id AND e.function_name = NEW.function_name"           \
  " AND e.invocation_id = NEW.invocation_id), '[]'::json))"
#define EVENT_TIME "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
#define FUNCTION_OF_NEW                                                                  \
  " fn.project_name = NEW.project_name AND fn.version_id = NEW.version_id"              \
  " AND fn.function_name = NEW.function_name"
static const char schema_v12[] =
    "CREATE OR REPLACE FUNCTION mn_attempt_facts(outcome text, start_time bigint,"
    "  signal_time bigint, worker text) RETURNS text LANGUAGE sql IMMUTABLE AS $$"
    " SELECT coalesce(outcome, '-')"
    "  || '|' || (worker = 'RUNNING' AND start_time IS NOT NULL AND outcome IS NULL)::text"
    "  || '|' || (worker = 'TERMINATED' AND outcome IS NULL)::text"
    "  || '|' || (worker = 'TERMINATED' AND outcome IS NULL AND signal_time IS NOT NULL"
    "   AND start_time IS NULL)::text"
    "  || '|' || coalesce(CASE WHEN outcome = 'ABORTED' OR (worker = 'TERMINATED'"
    "   AND outcome IS NULL AND signal_time IS NOT NULL AND start_time IS NULL)"
    "   THEN signal_time END::text, '-') $$;"
    /* live and attention (migration 5): only for an attempt that holds a
     * worker when made, or that has just ended */
    "DROP TRIGGER executions_changed ON executions;"
    "CREATE TRIGGER executions_changed AFTER INSERT ON executions FOR EACH ROW"
    "  WHEN (NEW.worker_status <> 'TERMINATED') EXECUTE FUNCTION mn_executions_changed();"
    "CREATE TRIGGER executions_changed_end AFTER UPDATE OF worker_status ON executions"
    "  FOR EACH ROW WHEN (NEW.worker_status = 'TERMINATED'"
    "  AND OLD.worker_status <> 'TERMINATED') EXECUTE FUNCTION mn_executions_changed();"
    "CREATE OR REPLACE FUNCTION mn_invocations_event() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE n text;"
    " BEGIN"
    "  INSERT INTO events (kind, project_name, version_id, function_name, invocation_id,"
    "   data, time) SELECT 'invocation', NEW.project_name, NEW.version_id,"
    "   NEW.function_name, NEW.invocation_id, " INVOCATION_EVENT_DATA("NEW") ", " EVENT_TIME
    "  FROM functions fn WHERE" FUNCTION_OF_NEW ";"
    "  n := pg_notify('mn_events', '')::text;"
    "  RETURN NULL;"
    " END $$;"
    "DROP TRIGGER invocations_event ON invocations;"
    "CREATE TRIGGER invocations_event AFTER INSERT ON invocations"
    "  FOR EACH ROW EXECUTE FUNCTION mn_invocations_event();"
    "CREATE TRIGGER invocations_event_change AFTER UPDATE ON invocations FOR EACH ROW"
    "  WHEN (NEW.invocation_status <> OLD.invocation_status"
    "  OR NEW.cancellation_request_time IS DISTINCT FROM OLD.cancellation_request_time)"
    "  EXECUTE FUNCTION mn_invocations_event();"
    "CREATE OR REPLACE FUNCTION mn_executions_event() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE n text;"
    " BEGIN"
    "  INSERT INTO events (kind, project_name, version_id, function_name, invocation_id,"
    "   data, time) VALUES ('execution', NEW.project_name, NEW.version_id,"
    "   NEW.function_name, NEW.invocation_id, json_build_object("
    "   'project_name', NEW.project_name, 'version_id', NEW.version_id,"
    "   'function_name', NEW.function_name, 'invocation_id', NEW.invocation_id,"
    "   'execution_id', NEW.execution_id, 'execution_status', NEW.worker_status,"
    "   'outcome', NEW.outcome, 'error_message', NEW.error_message,"
    "   'execution_start_time', NEW.execution_start_time,"
    "   'execution_finish_time', NEW.execution_finish_time), " EVENT_TIME ");"
    "  IF mn_attempt_facts(NEW.outcome, NEW.execution_start_time,"
    "   NEW.termination_signal_time, NEW.worker_status) IS DISTINCT FROM (CASE TG_OP"
    "   WHEN 'INSERT' THEN mn_attempt_facts(NULL, NULL, NULL, 'PENDING')"
    "   ELSE mn_attempt_facts(OLD.outcome, OLD.execution_start_time,"
    "    OLD.termination_signal_time, OLD.worker_status) END) THEN"
    "   INSERT INTO events (kind, project_name, version_id, function_name, invocation_id,"
    "    data, time) SELECT 'invocation', NEW.project_name, NEW.version_id,"
    "    NEW.function_name, NEW.invocation_id, " INVOCATION_EVENT_DATA("inv") ", " EVENT_TIME
    "   FROM invocations inv JOIN functions fn ON" FUNCTION_OF_NEW
    "   WHERE inv.project_name = NEW.project_name AND inv.version_id = NEW.version_id"
    "   AND inv.function_name = NEW.function_name AND inv.invocation_id = NEW.invocation_id;"
    "  END IF;"
    "  n := pg_notify('mn_events', '')::text;"
    "  RETURN NULL;"
    " END $$;"
    "DROP TRIGGER executions_event ON executions;"
    "CREATE TRIGGER executions_event AFTER INSERT ON executions"
    "  FOR EACH ROW EXECUTE FUNCTION mn_executions_event();"
    "CREATE TRIGGER executions_event_change AFTER UPDATE ON executions FOR EACH ROW"
    "  WHEN (NEW.worker_status <> OLD.worker_status"
    "  OR NEW.outcome IS DISTINCT FROM OLD.outcome"
    "  OR NEW.execution_start_time IS DISTINCT FROM OLD.execution_start_time"
    "  OR NEW.execution_finish_time IS DISTINCT FROM OLD.execution_finish_time"
    "  OR NEW.termination_signal_time IS DISTINCT FROM OLD.termination_signal_time)"
    "  EXECUTE FUNCTION mn_executions_event();"
    "DROP FUNCTION mn_invocation_event(text, text, text, text);";

static const struct mn_migration migrations[] = {
    {1, "initial schema", schema_v1},
    {2, "settings and execution ids", schema_v2},
    {3, "claim tokens of workers", schema_v3},
    {4, "a partial index of children; earlier statistics", schema_v4},
    {5, "queues: live, attention and deadline of invocations", schema_v5},
    {6, "per-execution API keys", schema_v6},
    {7, "task semantics: backoff, timeouts, keys, idempotency, priority", schema_v7},
    {8, "live events and progress history", schema_v8},
    {9, "invocations by id alone", schema_v9},
    {11, "one event per visible change", schema_v11},
    {12, "cheaper event triggers", schema_v12},
};

const struct mn_migration *mn_migrations(int *n_out) {
  *n_out = (int)(sizeof migrations / sizeof migrations[0]);
  return migrations;
}

static int exec_ok(PGconn *pg, const char *sql, const char *what, struct mn_error *err) {
  PGresult *r = PQexec(pg, sql);
  ExecStatusType st = PQresultStatus(r);
  int rc = 0;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    const char *msg = PQresultErrorMessage(r);
    rc = mn_fail(err, PQstatus(pg) == CONNECTION_OK ? MN_EINTERNAL : MN_EUNAVAILABLE,
                 "%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
  }
  PQclear(r);
  return rc;
}

static int record(PGconn *pg, const struct mn_migration *m, struct mn_error *err) {
  char number[16], now[32];
  snprintf(number, sizeof number, "%d", m->number);
  snprintf(now, sizeof now, "%" PRId64, mn_now_us());
  const char *params[] = {number, m->name, now};
  PGresult *r = PQexecParams(pg,
                             "INSERT INTO schema_migrations (number, name, applied_at)"
                             " VALUES ($1::integer, $2, $3::bigint)",
                             3, NULL, params, NULL, NULL, 0);
  int rc = 0;
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    const char *msg = PQresultErrorMessage(r);
    rc = mn_fail(err, MN_EINTERNAL, "cannot record migration %d: %.*s", m->number,
                 (int)strcspn(msg, "\n"), msg);
  }
  PQclear(r);
  return rc;
}

static int apply_one(PGconn *pg, const struct mn_migration *m, struct mn_error *err) {
  char what[160];
  snprintf(what, sizeof what, "migration %d (%s)", m->number, m->name);
  int rc = exec_ok(pg, "BEGIN", what, err);
  if (rc < 0)
    return rc;
  rc = exec_ok(pg, m->sql, what, err);
  if (rc == 0)
    rc = record(pg, m, err);
  if (rc == 0)
    rc = exec_ok(pg, "COMMIT", what, err);
  if (rc < 0) {
    PGresult *r = PQexec(pg, "ROLLBACK");
    PQclear(r);
    return rc;
  }
  mn_log_info("store", "applied migration %d (%s)", m->number, m->name);
  return 0;
}

/* The applied numbers, as a bitmap over the known ones; *highest gets the
 * highest applied number, known or not. */
static int read_applied(PGconn *pg, bool *applied, int n, int *highest,
                        struct mn_error *err) {
  PGresult *r = PQexec(pg, "SELECT number FROM schema_migrations");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    const char *msg = PQresultErrorMessage(r);
    mn_fail(err, MN_EINTERNAL, "cannot read schema_migrations: %.*s",
            (int)strcspn(msg, "\n"), msg);
    PQclear(r);
    return MN_EINTERNAL;
  }
  *highest = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    int number = atoi(PQgetvalue(r, i, 0));
    if (number > *highest)
      *highest = number;
    for (int k = 0; k < n; k++)
      if (migrations[k].number == number)
        applied[k] = true;
  }
  PQclear(r);
  return 0;
}

int mn_migrations_apply(PGconn *pg, int *version_out, struct mn_error *err) {
  enum { N = sizeof migrations / sizeof migrations[0] };
  bool applied[N] = {false};
  char lock_sql[96], unlock_sql[96];
  snprintf(lock_sql, sizeof lock_sql, "SELECT pg_advisory_lock(%" PRId64 ")",
           MN_MIGRATIONS_LOCK_KEY);
  snprintf(unlock_sql, sizeof unlock_sql, "SELECT pg_advisory_unlock(%" PRId64 ")",
           MN_MIGRATIONS_LOCK_KEY);

  int rc = exec_ok(pg, lock_sql, "cannot take the migration lock", err);
  if (rc < 0)
    return rc;
  int highest = 0;
  rc = exec_ok(pg,
               "CREATE TABLE IF NOT EXISTS schema_migrations ("
               "  number integer PRIMARY KEY,"
               "  name text NOT NULL,"
               "  applied_at bigint NOT NULL)",
               "cannot create schema_migrations", err);
  if (rc == 0)
    rc = read_applied(pg, applied, N, &highest, err);
  for (int i = 0; rc == 0 && i < N; i++) {
    if (applied[i])
      continue;
    rc = apply_one(pg, &migrations[i], err);
    if (rc == 0 && migrations[i].number > highest)
      highest = migrations[i].number;
  }
  if (rc == 0 && highest > migrations[N - 1].number)
    mn_log_warn("store", "the database schema (%d) is newer than this daemon knows (%d)",
                highest, migrations[N - 1].number);
  struct mn_error unlock_err;
  exec_ok(pg, unlock_sql, "cannot release the migration lock", &unlock_err);
  if (rc == 0 && version_out)
    *version_out = highest;
  return rc;
}
