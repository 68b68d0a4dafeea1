-- The command wall's live figures of an area, computed once for every API
-- process (issue #21): each wall asks for its area's figures after every live
-- event, and with two or three processes behind nginx each process computed
-- the same figures again, most of the storm night's CPU. The process that
-- needs figures newer than the row computes them under a per-area advisory
-- lock and writes them here; the others wait for that lock and read the row
-- (api/wall/shared-figures.ts).
--
-- event_id: the newest live_events id committed before the figures' first
-- statement (ids become visible in id order, migration 022), so the figures
-- hold every change published up to it. at: the moment the figures are of
-- (the API's clock, a test's fixed one too); begun_at: the server's time when
-- event_id was read, how old the row really is.
-- UNLOGGED: a cache, rebuilt on the next question after a crash; it writes no
-- WAL, so it neither loads the disk nor moves the replica's replay position
-- the read routing waits for (db/replica.ts). Read on the primary only.
CREATE UNLOGGED TABLE wall_figures (
  unit_code   text PRIMARY KEY,
  event_id    bigint NOT NULL,
  at          timestamptz NOT NULL,
  figures     json NOT NULL,
  begun_at    timestamptz NOT NULL
);
