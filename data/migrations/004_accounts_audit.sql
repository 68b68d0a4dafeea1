-- Accounts, sessions, and an audit trail written by triggers, so that every
-- write — through the API, a script, or QGIS editing the tables directly — is
-- recorded in the same transaction, with who did it.

CREATE TABLE users (
  id                   serial PRIMARY KEY,
  username             text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9_.-]{2,31}$'),
  display_name         text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 40),
  role                 text NOT NULL CHECK (role IN ('admin', 'commander', 'township', 'grid_worker', 'planner', 'viewer')),
  -- The place the role applies to: a 12-digit admin code (city, county,
  -- township or village) or a 15-digit grid code. Scope is a code prefix.
  unit_code            text NOT NULL CHECK (unit_code ~ '^[0-9]{12}([0-9]{3})?$'),
  password_hash        text NOT NULL,
  must_change_password boolean NOT NULL DEFAULT false,
  disabled             boolean NOT NULL DEFAULT false,
  failed_logins        int NOT NULL DEFAULT 0,
  locked_until         timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  password_changed_at  timestamptz NOT NULL DEFAULT now(),
  version              int NOT NULL DEFAULT 1
);

-- The cookie holds a random token; only its SHA-256 is stored, so a copy of
-- this table does not let anyone in.
CREATE TABLE sessions (
  token_hash    text PRIMARY KEY,
  user_id       int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  ip            text,
  user_agent    text
);
CREATE INDEX sessions_user ON sessions(user_id);

ALTER TABLE audit_log ADD COLUMN actor_id int, ADD COLUMN actor_role text;
CREATE INDEX audit_log_actor ON audit_log(actor_id, at DESC);

-- Who is writing: the API sets gridwatch.actor (JSON {id, username, role})
-- for the transaction; a direct database session is recorded by its role
-- name. gridwatch.skip_audit = on is for the synthetic seed only.
CREATE FUNCTION audit_actor() RETURNS jsonb LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(nullif(current_setting('gridwatch.actor', true), '')::jsonb,
                  jsonb_build_object('username', 'db:' || session_user))
$fn$;

-- Row trigger. TG_ARGV: columns left out of the record (derived copies,
-- secrets). An update keeps only the columns that changed (and id).
CREATE FUNCTION audit_row_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  actor jsonb;
  b jsonb;
  a jsonb;
  k text;
BEGIN
  IF current_setting('gridwatch.skip_audit', true) = 'on' THEN RETURN NULL; END IF;
  -- TG_ARGV is NULL, not empty, for a trigger created without arguments.
  IF TG_OP <> 'INSERT' THEN b := to_jsonb(OLD) - coalesce(TG_ARGV, '{}'); END IF;
  IF TG_OP <> 'DELETE' THEN a := to_jsonb(NEW) - coalesce(TG_ARGV, '{}'); END IF;
  IF TG_OP = 'UPDATE' THEN
    FOR k IN SELECT jsonb_object_keys(a) LOOP
      IF k <> 'id' AND b -> k IS NOT DISTINCT FROM a -> k THEN
        a := a - k;
        b := b - k;
      END IF;
    END LOOP;
    IF a = jsonb_build_object('id', a -> 'id') THEN RETURN NULL; END IF;
  END IF;
  -- Geometry as GeoJSON rather than hex WKB, so that "from what to what" reads.
  IF b ? 'geom' THEN b := jsonb_set(b, '{geom}', ST_AsGeoJSON(OLD.geom, 6)::jsonb); END IF;
  IF a ? 'geom' THEN a := jsonb_set(a, '{geom}', ST_AsGeoJSON(NEW.geom, 6)::jsonb); END IF;
  actor := audit_actor();
  INSERT INTO audit_log (actor, actor_id, actor_role, action, table_name, row_id, before, after)
  VALUES (actor ->> 'username', (actor ->> 'id')::int, actor ->> 'role', lower(TG_OP), TG_TABLE_NAME,
          coalesce(a, b) ->> 'id', b, a);
  RETURN NULL;
END $fn$;

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON admin_units
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('geom_3857', 'label_3857', 'label_point');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON grids
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('geom_3857', 'label_3857', 'label_point');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON grid_workers
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON households
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('geom_3857');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON visits
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON hazard_sites
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('geom_3857');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON shelters
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('geom_3857');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON routes
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('geom_3857');
-- Login bookkeeping (failed_logins, locked_until) is not an edit anyone made.
CREATE TRIGGER audit AFTER INSERT OR UPDATE OF username, display_name, role, unit_code, password_hash, disabled OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('password_hash', 'failed_logins', 'locked_until');
