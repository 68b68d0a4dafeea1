-- Evacuation (转移避险): transfer orders, the households each one moves with
-- their answer to when / who / how, every status change, and the live event
-- feed every screen follows (/api/events).

CREATE TABLE evac_orders (
  id             serial PRIMARY KEY,
  -- Where the order applies: the smallest admin unit holding all its households.
  unit_code      text NOT NULL CHECK (unit_code ~ '^[0-9]{12}$'),
  title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 80),
  -- The 1262 ladder stages a transfer: vulnerable people first, then everyone threatened.
  stage          text NOT NULL CHECK (stage IN ('vulnerable', 'everyone')),
  trigger_kind   text NOT NULL CHECK (trigger_kind IN ('warning', 'site_alert', 'forecast', 'manual')),
  trigger_ref    jsonb,
  -- What the issuer chose: {sites: [ids], grids: [ids], area: GeoJSON | null}.
  scope          jsonb NOT NULL,
  area           geometry(MultiPolygon, 4326),
  deadline       timestamptz NOT NULL,
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
  issued_by      int REFERENCES users(id),
  issued_by_name text NOT NULL,
  issued_at      timestamptz NOT NULL DEFAULT now(),
  closed_at      timestamptz,
  note           text,
  version        int NOT NULL DEFAULT 1
);
CREATE INDEX evac_orders_unit ON evac_orders(unit_code, status);

-- No foreign keys here: an order of a whole county inserts 100,000s of rows
-- at once, and row-by-row key checks made that four times slower. The rows
-- are copies written only by api/evac/orders.ts from rows it has just read,
-- and removed with their order by the trigger below.
CREATE TABLE evac_households (
  order_id      int NOT NULL,
  household_id  int NOT NULL,
  -- Copies taken when the order was issued: the order keeps its own picture
  -- even if the ledger or the grids are edited meanwhile.
  grid_code     text NOT NULL,
  members       smallint NOT NULL,
  vulnerable    smallint NOT NULL,
  hazard_id     int,
  shelter_id    int,
  route_id      int,
  cadre_id      int,
  status        text NOT NULL DEFAULT 'not_notified'
                CHECK (status IN ('not_notified', 'notified', 'moving', 'at_shelter', 'returned', 'refused', 'unreachable')),
  -- People counted at the shelter.
  people        smallint CHECK (people >= 0),
  reason        text,
  -- A household is in at most one open transfer at a time (returned or closed rows are not open).
  open          boolean NOT NULL DEFAULT true,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  updated_by    text,
  version       int NOT NULL DEFAULT 1,
  PRIMARY KEY (order_id, household_id)
);
CREATE FUNCTION evac_order_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM evac_households WHERE order_id = OLD.id;
  RETURN NULL;
END $fn$;
CREATE TRIGGER evac_order_deleted AFTER DELETE ON evac_orders FOR EACH ROW EXECUTE FUNCTION evac_order_deleted();
CREATE UNIQUE INDEX evac_households_one_open ON evac_households(household_id) WHERE open;
CREATE INDEX evac_households_grid ON evac_households(order_id, grid_code);
CREATE INDEX evac_households_shelter ON evac_households(shelter_id) WHERE open;

-- Every status change, one row each, written by the same statement as the change.
CREATE TABLE evac_status_log (
  id            bigserial PRIMARY KEY,
  order_id      int NOT NULL REFERENCES evac_orders(id) ON DELETE CASCADE,
  household_id  int NOT NULL,
  from_status   text NOT NULL,
  to_status     text NOT NULL,
  people        smallint,
  reason        text,
  actor         text NOT NULL,
  actor_id      int,
  at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evac_status_log_order ON evac_status_log(order_id, at);

-- The live feed. Writers insert a row and NOTIFY its id; every API process
-- reads the rows past the last id it has sent, so a client reconnecting with
-- Last-Event-ID misses nothing, and the history stays for replays.
CREATE TABLE live_events (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  kind       text NOT NULL,
  -- Where it happened (admin or grid code): who may see it.
  unit_code  text NOT NULL,
  payload    jsonb NOT NULL
);
CREATE INDEX live_events_at ON live_events(at);

CREATE TRIGGER evac_orders_audit AFTER INSERT OR UPDATE OR DELETE ON evac_orders
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('area');
