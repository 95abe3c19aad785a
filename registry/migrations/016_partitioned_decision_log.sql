-- The decision log partitioned by day (native declarative partitioning, RANGE on a timestamp), so that
-- retention drops whole days (DROP TABLE of a partition: no DELETE, no bloat, no VACUUM) — the `retention`
-- workflow (workflows/retention.ts) creates the days ahead and drops the expired ones.
--
-- decisions  PARTITION BY RANGE (time); primary key (decision_id, time): PostgreSQL requires the partition
--            key in every unique constraint. The ids the inference server makes are UUIDv7 whose time
--            prefix IS the row's time (inference/decisions/id.ts, newDecisionStamp), so (decision_id, time)
--            is as unique as decision_id was; a retried or replayed batch carries the same time (the
--            journal's lines hold it), so `ON CONFLICT (decision_id, time) DO NOTHING` skips it as before.
-- rewards    PARTITION BY RANGE (decision_time): the time of the DECISION the reward is for, which is a
--            function of the decision id alone (decision_id_time below): a reward sent again later (a
--            client retry, another replica) gets the same key, so the primary key (decision_id,
--            decision_time) still means "one reward per decision" and `ON CONFLICT` keeps telling the
--            same reward again from a conflicting one. Partitioning by the reward's own time could not: its
--            time differs on every retry. A reward also lives in the same day as its decision, so both are
--            dropped together (no kept decision loses its reward to retention). Ids that are not UUIDv7
--            (decisions written through the decision-log API with their own ids, rows from before v7 ids)
--            carry no time: decision_time is -infinity and the reward lives in `rewards_undated`, which
--            retention empties by the reward's own time.
--
-- Days are UTC days: decisions_pYYYYMMDD holds [YYYY-MM-DD 00:00 UTC, next day 00:00 UTC). Daily, not weekly:
-- with the default 30-day retention a weekly partition would keep up to 7 days more than asked (23% more
-- disk), and ~40 partitions per table (30 kept + 7 ahead) plan and prune cheaply. A row whose day has no
-- partition (a clock far ahead, a backfill of an old day) lands in the DEFAULT partition, never lost; the
-- retention workflow then creates that day's partition and moves the rows into it.
--
-- Partition DDL needs the tables' owner, and workers connect as autopilot_worker: the SECURITY DEFINER
-- functions below are the only partition operations, each checking its arguments, with a lock timeout
-- so a long reader makes the call fail (and Temporal retry it) rather than queue the writers behind it.
--
-- The conversion below copies every row in this migration's transaction (rename old, create the
-- partitioned tables, partitions for every day of the last 60 that holds rows and the next 7, one partition
-- for anything older, copy, drop old). It holds
-- an exclusive lock on both tables for the copy: on a large existing log, run it in a quiet window.

-- The time a UUIDv7 carries (its first 48 bits: Unix milliseconds); -infinity for any other version.
CREATE FUNCTION decision_id_time(id uuid) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN substr(id::text, 15, 1) = '7'
    THEN timestamptz 'epoch' + ('x' || lpad(substr(replace(id::text, '-', ''), 1, 12), 16, '0'))::bit(64)::bigint * interval '1 millisecond'
    ELSE timestamptz '-infinity' END
$$;

ALTER TABLE decisions RENAME TO decisions_unpartitioned;
ALTER TABLE decisions_unpartitioned RENAME CONSTRAINT decisions_pkey TO decisions_unpartitioned_pkey;
ALTER INDEX decisions_deployment_time_idx RENAME TO decisions_unpartitioned_deployment_time_idx;
ALTER TABLE rewards RENAME TO rewards_unpartitioned;
ALTER TABLE rewards_unpartitioned RENAME CONSTRAINT rewards_pkey TO rewards_unpartitioned_pkey;
ALTER INDEX rewards_time_idx RENAME TO rewards_unpartitioned_time_idx;

-- Same columns in the same order, same types, defaults and CHECK constraints.
CREATE TABLE decisions (LIKE decisions_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)
  PARTITION BY RANGE (time);
ALTER TABLE decisions ADD CONSTRAINT decisions_pkey PRIMARY KEY (decision_id, time);
CREATE INDEX decisions_deployment_time_idx ON decisions (deployment, time, decision_id);
CREATE TABLE decisions_default PARTITION OF decisions DEFAULT;

CREATE TABLE rewards (LIKE rewards_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS,
  -- decision_id_time(decision_id): every writer sets it so (decision-log/rewards.ts, inference/bandits/reward-log.ts).
  decision_time timestamptz NOT NULL,
  CONSTRAINT rewards_decision_time_check CHECK (decision_time = decision_id_time(decision_id)))
  PARTITION BY RANGE (decision_time);
ALTER TABLE rewards ADD CONSTRAINT rewards_pkey PRIMARY KEY (decision_id, decision_time);
CREATE INDEX rewards_time_idx ON rewards (time);
CREATE TABLE rewards_undated PARTITION OF rewards FOR VALUES FROM (MINVALUE) TO ('1970-01-01 00:00:00+00');
CREATE TABLE rewards_default PARTITION OF rewards DEFAULT;

-- One day's partition of `parent` (decisions or rewards) — or, with `days` > 1, one partition of that many days
-- (the conversion below keeps rows older than 60 days in one) — named by its first day: created unattached, the
-- default partition's rows of its range moved into it, then attached (ATTACH takes only a SHARE UPDATE EXCLUSIVE lock on the parent, so
-- inserts and reads go on; CREATE … PARTITION OF would take an exclusive one). Returns the rows moved from
-- the default partition, or null when the partition existed already.
CREATE FUNCTION decision_log_create_partition(parent text, day date, days integer DEFAULT 1) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '10s' AS $$
DECLARE
  key text;
  part text := parent || '_p' || to_char(day, 'YYYYMMDD');
  lo text := to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00';
  hi text := to_char(day + days, 'YYYY-MM-DD') || ' 00:00:00+00';
  moved bigint;
BEGIN
  key := CASE parent WHEN 'decisions' THEN 'time' WHEN 'rewards' THEN 'decision_time' END;
  IF key IS NULL THEN
    RAISE EXCEPTION 'decision_log_create_partition: parent %: expected decisions or rewards', quote_literal(parent);
  END IF;
  IF day IS NULL OR day < date '1970-01-01' THEN
    RAISE EXCEPTION 'decision_log_create_partition: day %: expected a date from 1970-01-01 on', quote_nullable(day);
  END IF;
  IF days IS NULL OR days < 1 THEN
    RAISE EXCEPTION 'decision_log_create_partition: days %: expected at least 1', quote_nullable(days);
  END IF;
  -- Two retention runs at once (the schedule and a manual run) take turns instead of racing on the same name.
  PERFORM pg_advisory_xact_lock(hashtext('autopilot.decision_log_partitions'));
  IF to_regclass(part) IS NOT NULL THEN
    IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = part::regclass AND inhparent = parent::regclass) THEN
      RAISE EXCEPTION 'decision_log_create_partition: table % exists but is not a partition of %', part, parent;
    END IF;
    RETURN NULL;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', part, parent);
  EXECUTE format('WITH m AS (DELETE FROM %I WHERE %I >= %L AND %I < %L RETURNING *) INSERT INTO %I SELECT * FROM m',
    parent || '_default', key, lo, key, hi, part);
  GET DIAGNOSTICS moved = ROW_COUNT;
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, part, lo, hi);
  RETURN moved;
END;
$$;

-- Drops one partition of `parent` (named `<parent>_pYYYYMMDD`) whose whole range ends at or before `cutoff` (never a partition that
-- still holds a time after the cutoff, never one holding now). Returns the rows it held: counted under an
-- exclusive lock on the partition alone, so the count is exact and the parent's writers are not held up.
CREATE FUNCTION decision_log_drop_partition(parent text, part text, cutoff timestamptz) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '10s' AS $$
DECLARE
  bound text;
  upper_bound timestamptz;
  n bigint;
BEGIN
  IF parent NOT IN ('decisions', 'rewards') THEN
    RAISE EXCEPTION 'decision_log_drop_partition: parent %: expected decisions or rewards', quote_literal(parent);
  END IF;
  IF cutoff IS NULL OR cutoff > now() THEN
    RAISE EXCEPTION 'decision_log_drop_partition: cutoff %: expected a time not after now (%)', quote_nullable(cutoff), now();
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('autopilot.decision_log_partitions'));
  SELECT pg_get_expr(c.relpartbound, c.oid) INTO bound
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = parent::regclass AND c.relname = part;
  IF bound IS NULL THEN
    RAISE EXCEPTION 'decision_log_drop_partition: % is not a partition of %', quote_literal(part), parent;
  END IF;
  IF part !~ ('^' || parent || '_p[0-9]{8}$') THEN
    RAISE EXCEPTION 'decision_log_drop_partition: % is not a day partition of % (the default and undated partitions are never dropped)', part, parent;
  END IF;
  upper_bound := (regexp_match(bound, 'TO \(''([^'']+)''\)'))[1]::timestamptz;
  IF upper_bound IS NULL OR upper_bound > cutoff THEN
    RAISE EXCEPTION 'decision_log_drop_partition: % (%) ends after the cutoff %: it still holds kept rows', part, bound, cutoff;
  END IF;
  EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', part);
  EXECUTE format('SELECT count(*) FROM %I', part) INTO n;
  EXECUTE format('DROP TABLE %I', part);
  RETURN n;
END;
$$;

-- Deletes the expired rows of the partitions that are not days: the default partition's rows older than the
-- cutoff (by the partition key) and, for rewards, the undated partition's rows whose reward time is older.
CREATE FUNCTION decision_log_delete_expired(parent text, cutoff timestamptz) RETURNS TABLE (part text, deleted bigint)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '10s' AS $$
DECLARE
  n bigint;
BEGIN
  IF parent NOT IN ('decisions', 'rewards') THEN
    RAISE EXCEPTION 'decision_log_delete_expired: parent %: expected decisions or rewards', quote_literal(parent);
  END IF;
  IF cutoff IS NULL OR cutoff > now() THEN
    RAISE EXCEPTION 'decision_log_delete_expired: cutoff %: expected a time not after now (%)', quote_nullable(cutoff), now();
  END IF;
  EXECUTE format('DELETE FROM %I WHERE %I < %L', parent || '_default', CASE parent WHEN 'decisions' THEN 'time' ELSE 'decision_time' END, cutoff);
  GET DIAGNOSTICS n = ROW_COUNT;
  part := parent || '_default'; deleted := n; RETURN NEXT;
  IF parent = 'rewards' THEN
    DELETE FROM rewards_undated WHERE time < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    part := 'rewards_undated'; deleted := n; RETURN NEXT;
  END IF;
END;
$$;

-- The UTC days (and their row counts) of the rows waiting in a default partition.
CREATE FUNCTION decision_log_default_days(parent text) RETURNS TABLE (day date, n bigint)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF parent NOT IN ('decisions', 'rewards') THEN
    RAISE EXCEPTION 'decision_log_default_days: parent %: expected decisions or rewards', quote_literal(parent);
  END IF;
  RETURN QUERY EXECUTE format('SELECT (%1$I AT TIME ZONE ''UTC'')::date AS day, count(*) AS n FROM %2$I WHERE %1$I > ''-infinity'' GROUP BY 1 ORDER BY 1',
    CASE parent WHEN 'decisions' THEN 'time' ELSE 'decision_time' END, parent || '_default');
END;
$$;

-- Partitions for every UTC day of the last 60 that holds rows, and today and the 7 days after it; rows older
-- than 60 days go into ONE partition from their first day to 60 days ago (a partition per old day would take
-- locks on thousands of tables in this one transaction; retention drops it whole once all of it is expired).
-- Then the rows.
DO $$
DECLARE
  recent date := (now() AT TIME ZONE 'UTC')::date - 60;
  oldest date;
  d date;
BEGIN
  CREATE TEMPORARY TABLE decision_log_days ON COMMIT DROP AS
    SELECT (time AT TIME ZONE 'UTC')::date AS day FROM decisions_unpartitioned
    UNION SELECT (decision_id_time(decision_id) AT TIME ZONE 'UTC')::date FROM rewards_unpartitioned WHERE decision_id_time(decision_id) >= timestamptz '1970-01-01 00:00:00+00'
    UNION SELECT generate_series((now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date + 7, interval '1 day')::date;
  SELECT min(day) INTO oldest FROM decision_log_days WHERE day < recent;
  IF oldest IS NOT NULL THEN
    PERFORM decision_log_create_partition('decisions', oldest, recent - oldest);
    PERFORM decision_log_create_partition('rewards', oldest, recent - oldest);
  END IF;
  FOR d IN SELECT day FROM decision_log_days WHERE day >= recent ORDER BY day LOOP
    PERFORM decision_log_create_partition('decisions', d);
    PERFORM decision_log_create_partition('rewards', d);
  END LOOP;
END
$$;

INSERT INTO decisions SELECT * FROM decisions_unpartitioned;
INSERT INTO rewards (decision_id, reward, components, time, decision_time)
  SELECT decision_id, reward, components, time, decision_id_time(decision_id) FROM rewards_unpartitioned;

DO $$
BEGIN
  IF (SELECT count(*) FROM decisions) <> (SELECT count(*) FROM decisions_unpartitioned)
     OR (SELECT count(*) FROM rewards) <> (SELECT count(*) FROM rewards_unpartitioned) THEN
    RAISE EXCEPTION 'converting the decision log: row counts differ after the copy';
  END IF;
END
$$;

DROP TABLE decisions_unpartitioned;
DROP TABLE rewards_unpartitioned;

-- The grants of migration 011 on the new tables (privileges are checked on the table a query names, so the
-- partitions need none of their own: everyone reads and writes through the parents).
GRANT SELECT, INSERT ON decisions, rewards TO autopilot_inference;
GRANT SELECT ON decisions, rewards TO autopilot_worker;
GRANT ALL ON decisions, rewards TO autopilot_admin;
-- Partition maintenance (the retention workflow's activities, on workers) and the id → time mapping.
REVOKE ALL ON FUNCTION decision_log_create_partition(text, date, integer), decision_log_drop_partition(text, text, timestamptz),
  decision_log_delete_expired(text, timestamptz), decision_log_default_days(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION decision_log_create_partition(text, date, integer), decision_log_drop_partition(text, text, timestamptz),
  decision_log_delete_expired(text, timestamptz), decision_log_default_days(text) TO autopilot_worker, autopilot_admin;
