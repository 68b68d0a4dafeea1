-- Problem reports (上报) and their escalation (issue #20; rules in core/rules/escalation.ts).
-- A report belongs to the level that must act on it now (grid, village,
-- township, county, city); the server's sweep moves it up when that level's
-- time runs out (due_at), and every step is a row in report_steps.

-- The rules: {types: [{code, zh, en, start: {normal, urgent, critical}}], ackMinutes, handleMinutes}.
-- Null value: core/rules/escalation.ts defaultRules.
CREATE TABLE report_config (
  key         text PRIMARY KEY CHECK (key = 'rules'),
  value       jsonb,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  version     int NOT NULL DEFAULT 1
);
INSERT INTO report_config (key, value) VALUES ('rules', NULL);

CREATE TABLE reports (
  id               serial PRIMARY KEY,
  -- Made on the phone: a report sent twice (a retried upload) is one report.
  client_id        uuid UNIQUE,
  type             text NOT NULL,
  urgency          text NOT NULL CHECK (urgency IN ('normal', 'urgent', 'critical')),
  geom             geometry(Point, 4326) NOT NULL,
  grid_code        text NOT NULL CHECK (grid_code ~ '^[0-9]{15}$'),
  level            text NOT NULL CHECK (level IN ('grid', 'village', 'township', 'county', 'city')),
  -- The unit owning it at its level (core/rules/escalation.ts unitAt), kept for area queries.
  unit_code        text NOT NULL,
  state            text NOT NULL DEFAULT 'reported'
                   CHECK (state IN ('reported', 'acknowledged', 'dispatched', 'handled', 'closed', 'merged')),
  note             text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  hazard_site_id   int REFERENCES hazard_sites(id),
  reported_by      int REFERENCES users(id),
  reported_by_name text NOT NULL,
  -- When it was seen (the phone's clock) and when it reached the server.
  reported_at      timestamptz NOT NULL,
  received_at      timestamptz NOT NULL,
  level_since      timestamptz NOT NULL,
  acknowledged_at  timestamptz,
  -- When the current level's time runs out (null: no clock runs); the sweep reads only these.
  due_at           timestamptz,
  assignee         text,
  assignee_due_at  timestamptz,
  handled_note     text,
  closed_at        timestamptz,
  merged_into      int REFERENCES reports(id),
  version          int NOT NULL DEFAULT 1
);
CREATE INDEX reports_due ON reports(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX reports_grid ON reports(grid_code, state);
CREATE INDEX reports_geom ON reports USING gist(geom);

-- Every step: who, when, from which level to which, why. actor_id null: the server's clock.
CREATE TABLE report_steps (
  id          bigserial PRIMARY KEY,
  report_id   int NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
  at          timestamptz NOT NULL,
  action      text NOT NULL CHECK (action IN ('filed', 'acknowledge', 'dispatch', 'handled', 'close', 'escalate', 'merge')),
  from_level  text,
  to_level    text,
  from_state  text,
  to_state    text NOT NULL,
  reason      text,
  actor_id    int REFERENCES users(id),
  actor_name  text NOT NULL
);
CREATE INDEX report_steps_report ON report_steps(report_id, id);

CREATE TRIGGER reports_audit AFTER INSERT OR UPDATE OR DELETE ON reports
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();
