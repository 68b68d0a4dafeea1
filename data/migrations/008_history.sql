-- History for the command wall's replay (/screen?replay=…): any past moment
-- is rebuilt from time-stamped rows. Rain: rain_readings (by hour) and
-- rain_warnings (issued/valid). Transfers: evac_orders (issued/closed) and
-- evac_status_log. 三查: the tasks (opened_at) and this log of every tick and
-- untick — a task's items keep only their latest state, an untick erases the
-- time of the tick before it.
CREATE TABLE task_item_log (
  id       bigserial PRIMARY KEY,
  task_id  bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  item     smallint NOT NULL CHECK (item >= 1),
  done     boolean NOT NULL,
  at       timestamptz NOT NULL,
  actor    text
);
CREATE INDEX task_item_log_task ON task_item_log(task_id, at);
CREATE INDEX tasks_opened ON tasks(opened_at);
CREATE INDEX evac_status_log_at ON evac_status_log(at);
CREATE INDEX evac_orders_issued ON evac_orders(issued_at);
CREATE INDEX rain_events_started ON rain_events(started_at);

-- Ticks made before this log existed, at the time each item records.
INSERT INTO task_item_log (task_id, item, done, at, actor)
SELECT t.id, x.n, true, (x.i ->> 'at')::timestamptz, x.i ->> 'byName'
FROM tasks t, jsonb_array_elements(t.items) WITH ORDINALITY x(i, n)
WHERE (x.i ->> 'done')::boolean AND x.i ->> 'at' IS NOT NULL;
