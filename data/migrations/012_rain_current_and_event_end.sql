-- Issue #17: what a screen shows must be true now.
--
-- 1. Rain is "current" only while the stations feeding a grid or site have
--    reported lately (rain_config 'current'): past that, its colours and
--    alerts are history, shown greyed with their age, never as live alarms.
--    rain_state keeps, per unit, how many hours its stations' newest reading
--    lies before the hour the state is of (rain_cache.state_as_of).
-- 2. A storm event ends (over_at) when its after-rain checks are all done or
--    it timed out (rain_config after.timeoutHours); its unfinished checklists
--    are then closed as `missed`: kept for the record and the statistics,
--    no longer overdue, no longer colouring the map.

-- The newest reading of the unit's stations is state_as_of − lag_hours (a lag, not a time: in steady
-- weather it stays 0, so the hourly update leaves the row alone). Rows written before were of state_as_of.
ALTER TABLE rain_state ADD COLUMN lag_hours int NOT NULL DEFAULT 0 CHECK (lag_hours >= 0);

INSERT INTO rain_config (key, value) VALUES
  -- A unit's rain is current while the newest reading of its stations ended at most this long ago.
  ('current', '{"maxAgeHours": 2}');
UPDATE rain_config SET value = value || '{"timeoutHours": 48}'::jsonb, version = version + 1, updated_at = now()
WHERE key = 'after' AND NOT value ? 'timeoutHours';

-- The rule "current" in SQL, for statements that cannot take it from the
-- caller (tiles): api/rain/current.ts isCurrent() is the same rule, and a test
-- holds the two together. `newest_hour` is the start of the newest hour read;
-- its rain is in once the hour has ended.
CREATE FUNCTION rain_current(newest_hour timestamptz, at timestamptz) RETURNS boolean LANGUAGE sql STABLE AS $fn$
  SELECT newest_hour IS NOT NULL
     AND at - (newest_hour + interval '1 hour')
         <= (SELECT (value ->> 'maxAgeHours')::float8 FROM rain_config WHERE key = 'current') * interval '1 hour'
$fn$;

-- Whether a rain_state row is current at `at`.
CREATE FUNCTION rain_state_current(lag_hours int, at timestamptz) RETURNS boolean LANGUAGE sql STABLE AS $fn$
  SELECT rain_current((SELECT state_as_of FROM rain_cache) - lag_hours * interval '1 hour', at)
$fn$;

ALTER TABLE rain_events
  ADD COLUMN over_at timestamptz,
  ADD COLUMN over_reason text CHECK (over_reason IN ('done', 'timeout'));
CREATE INDEX rain_events_not_over ON rain_events(id) WHERE over_at IS NULL;

ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN ('not_started', 'in_progress', 'done', 'missed'));
DROP INDEX tasks_open_due;
CREATE INDEX tasks_open_due ON tasks(due_at) WHERE status IN ('not_started', 'in_progress');
CREATE INDEX tasks_event ON tasks(event_id);
