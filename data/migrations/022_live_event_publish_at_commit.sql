-- The live feed's events are numbered at their transaction's COMMIT, inside
-- the server (issue #21). A reader sends every live_events row past the last
-- id it sent, so ids must become visible in id order: the writer that numbers
-- an event holds one lock, every writer's, until its commit. Numbered by the
-- client (lock, INSERT, NOTIFY, COMMIT, each a round trip from a busy Node
-- process), the lock was held across those round trips, and on the storm-night
-- run it was most of PostgreSQL's waiting. Now the writer adds its events to
-- live_events_pending anywhere in its transaction, and a deferred trigger moves
-- each into live_events while the COMMIT runs: the lock is held for that
-- server-side work and the commit only. A rolled-back transaction or savepoint
-- drops its pending trigger events with its rows, so it publishes nothing.
-- Pending rows never outlive their transaction.
CREATE TABLE live_events_pending (
  seq        bigserial PRIMARY KEY,
  kind       text NOT NULL,
  unit_code  text NOT NULL,
  payload    jsonb NOT NULL
);

-- Fires for each pending row at COMMIT, in the order the rows were inserted.
-- The NOTIFY carries nothing (readers look at live_events, db/replica.ts only
-- needs "something changed"), so a transaction's many events send one.
CREATE FUNCTION live_event_publish() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('gridwatch.live_events'));
  INSERT INTO live_events (kind, unit_code, payload) VALUES (NEW.kind, NEW.unit_code, NEW.payload);
  DELETE FROM live_events_pending WHERE seq = NEW.seq;
  PERFORM pg_notify('gridwatch_events', '');
  RETURN NULL;
END $fn$;

CREATE CONSTRAINT TRIGGER live_event_publish AFTER INSERT ON live_events_pending
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION live_event_publish();
