-- Rain in (station readings, forecasts, warnings), rain per grid and hazard
-- site, and the 三查 checklists (before / during / after rain) it opens.
-- The rules live in rain_config (rows, not code) so a flood office can tune
-- them; api/rain/ holds the SQL that applies them.

CREATE TABLE rain_stations (
  id           serial PRIMARY KEY,
  code         text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_-]{1,32}$'),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  elevation_m  numeric(6, 1),
  geom         geometry(Point, 4326) NOT NULL,
  version      int NOT NULL DEFAULT 1
);
CREATE INDEX rain_stations_geom ON rain_stations USING gist(geom);

-- One row per station and hour: `hour` is the start of the hour the amount
-- fell in. The same reading twice changes nothing; a different amount for the
-- same hour is a correction and replaces the old one.
CREATE TABLE rain_readings (
  station_id   int NOT NULL REFERENCES rain_stations(id) ON DELETE CASCADE,
  hour         timestamptz NOT NULL CHECK (extract(epoch FROM hour)::bigint % 3600 = 0),
  mm           numeric(5, 1) NOT NULL CHECK (mm >= 0 AND mm <= 250),
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (station_id, hour)
);
CREATE INDEX rain_readings_hour ON rain_readings(hour);

-- Quantitative forecasts for an area (admin code or grid code) over a period,
-- issued `lead_hours` ahead (the 1262 ladder: 12 h county, 6 h and 2 h township).
CREATE TABLE rain_forecasts (
  id            bigserial PRIMARY KEY,
  area_code     text NOT NULL CHECK (area_code ~ '^[0-9]{12}([0-9]{3})?$'),
  lead_hours    smallint NOT NULL CHECK (lead_hours IN (2, 6, 12)),
  period_start  timestamptz NOT NULL,
  period_end    timestamptz NOT NULL,
  mm            numeric(6, 1) NOT NULL CHECK (mm >= 0 AND mm <= 1000),
  issued_at     timestamptz NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (period_end > period_start),
  UNIQUE (area_code, lead_hours, period_start, issued_at)
);

-- Rainstorm warning signals as issued (colour, area, validity): admin/grid
-- codes, a polygon, or both. `key` makes re-sending the same warning a no-op.
CREATE TABLE rain_warnings (
  id           bigserial PRIMARY KEY,
  colour       text NOT NULL CHECK (colour IN ('blue', 'yellow', 'orange', 'red')),
  area_codes   text[] NOT NULL DEFAULT '{}',
  geom         geometry(MultiPolygon, 4326),
  issued_at    timestamptz NOT NULL,
  valid_until  timestamptz NOT NULL,
  key          text NOT NULL UNIQUE,
  received_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_until > issued_at),
  CHECK (cardinality(area_codes) > 0 OR geom IS NOT NULL)
);
CREATE INDEX rain_warnings_valid ON rain_warnings(valid_until);

-- Rain per basic grid (at its label point) and per active hazard site, as of
-- the latest reading hour (rain_cache.state_as_of): derived, rewritten by
-- every rain update (only the rows whose figures changed).
CREATE TABLE rain_state (
  kind            text NOT NULL CHECK (kind IN ('grid', 'site')),
  unit_id         int NOT NULL,           -- grids.id or hazard_sites.id
  code            text NOT NULL,          -- the grid's or site's code
  unit_code       text NOT NULL,          -- grid code (a site: the basic grid it lies in, else its village)
  rain_1h         numeric(6, 1) NOT NULL,
  rain_3h         numeric(6, 1) NOT NULL,
  rain_6h         numeric(6, 1) NOT NULL,
  rain_12h        numeric(6, 1) NOT NULL,
  rain_24h        numeric(6, 1) NOT NULL,
  signal_colour   text CHECK (signal_colour IN ('blue', 'yellow', 'orange', 'red')),   -- from the observed sums
  warning_colour  text CHECK (warning_colour IN ('blue', 'yellow', 'orange', 'red')),  -- from issued warnings in force
  colour          text CHECK (colour IN ('blue', 'yellow', 'orange', 'red')),          -- the higher of the two
  on_alert        boolean NOT NULL,       -- site: past its critical rainfall; grid: an observed signal
  PRIMARY KEY (kind, unit_id)
);
CREATE INDEX rain_state_unit_code ON rain_state(unit_code text_pattern_ops);

-- Which stations each grid and site takes its rain from, with the weights:
-- the KNN search and distances are most of the cost of a whole-city update
-- and change only when stations, grids or sites move. Statement triggers
-- mark the cache stale; the next rain update rebuilds it.
CREATE TABLE rain_units (
  kind       text NOT NULL CHECK (kind IN ('grid', 'site')),
  unit_id    int NOT NULL,
  code       text NOT NULL,
  unit_code  text NOT NULL,
  pt         geometry(Point, 4326) NOT NULL,
  PRIMARY KEY (kind, unit_id)
);
CREATE TABLE rain_weights (
  kind        text NOT NULL,
  unit_id     int NOT NULL,
  station_id  int NOT NULL,
  w           float8 NOT NULL,
  PRIMARY KEY (kind, unit_id, station_id)
);
CREATE TABLE rain_cache (
  one          boolean PRIMARY KEY DEFAULT true CHECK (one),
  stale        boolean NOT NULL DEFAULT true,
  built_at     timestamptz,
  state_as_of  timestamptz        -- the hour rain_state describes
);
INSERT INTO rain_cache DEFAULT VALUES;
CREATE FUNCTION rain_cache_stale() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE rain_cache SET stale = true WHERE NOT stale;
  RETURN NULL;
END $fn$;
CREATE TRIGGER rain_cache_stale AFTER INSERT OR DELETE OR UPDATE OF geom, label_point, kind, code ON grids
  FOR EACH STATEMENT EXECUTE FUNCTION rain_cache_stale();
CREATE TRIGGER rain_cache_stale_truncate AFTER TRUNCATE ON grids FOR EACH STATEMENT EXECUTE FUNCTION rain_cache_stale();
CREATE TRIGGER rain_cache_stale AFTER INSERT OR DELETE OR UPDATE OF geom, status, code ON hazard_sites
  FOR EACH STATEMENT EXECUTE FUNCTION rain_cache_stale();
CREATE TRIGGER rain_cache_stale_truncate AFTER TRUNCATE ON hazard_sites FOR EACH STATEMENT EXECUTE FUNCTION rain_cache_stale();
CREATE TRIGGER rain_cache_stale AFTER INSERT OR DELETE OR UPDATE OF geom ON rain_stations
  FOR EACH STATEMENT EXECUTE FUNCTION rain_cache_stale();
CREATE TRIGGER rain_cache_stale_truncate AFTER TRUNCATE ON rain_stations FOR EACH STATEMENT EXECUTE FUNCTION rain_cache_stale();

-- The rules. Keys: signals, ladder, during, after, interpolation (see api/rain/config.ts).
CREATE TABLE rain_config (
  key         text PRIMARY KEY,
  value       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  version     int NOT NULL DEFAULT 1
);
INSERT INTO rain_config (key, value) VALUES
  -- China's rainstorm signals: amount within hours (observed, rain going on).
  ('signals', '{"blue": {"mm": 50, "hours": 12}, "yellow": {"mm": 50, "hours": 6},
                "orange": {"mm": 50, "hours": 3}, "red": {"mm": 100, "hours": 3}}'),
  -- Yunnan's 1262 ladder: each lead time opens before-rain checks for these targets.
  -- households: "vulnerable" = with elderly alone / left-behind children / disabled;
  -- "everyone" = those plus red households. At night the 6 h step takes everyone.
  ('ladder', '{"heavyRainMm": 50,
               "steps": [
                 {"lead": 12, "level": "county",   "targets": ["hazard_site", "grid"], "households": null,        "dueBeforeStartHours": 6},
                 {"lead": 6,  "level": "township", "targets": ["hazard_site", "grid"], "households": "vulnerable", "dueBeforeStartHours": 2},
                 {"lead": 2,  "level": "township", "targets": ["hazard_site", "grid"], "households": "everyone",   "dueBeforeStartHours": 0}],
               "night": {"fromHour": 20, "toHour": 6, "timeZone": "Asia/Shanghai", "households": "everyone"}}'),
  ('during', '{"dueHours": 2, "wetMm": 0.1}'),
  -- After rain opens when an event with alerts has been dry this long.
  ('after', '{"dryHours": 6, "dueHours": 24}'),
  ('interpolation', '{"neighbours": 4, "radiusKm": 30, "power": 2}');

-- Checklists per phase and target; tasks copy the items when they open, so
-- editing a template changes the tasks opened after the edit only.
CREATE TABLE checklist_templates (
  phase        text NOT NULL CHECK (phase IN ('before', 'during', 'after')),
  target_kind  text NOT NULL CHECK (target_kind IN ('hazard_site', 'household', 'grid')),
  title_zh     text NOT NULL,
  title_en     text NOT NULL,
  items        jsonb NOT NULL CHECK (jsonb_typeof(items) = 'array' AND jsonb_array_length(items) BETWEEN 1 AND 30),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  version      int NOT NULL DEFAULT 1,
  PRIMARY KEY (phase, target_kind)
);
INSERT INTO checklist_templates (phase, target_kind, title_zh, title_en, items) VALUES
  ('before', 'hazard_site', '雨前查预防：隐患点', 'Before rain: hazard site', '[
    {"zh": "巡查隐患点裂缝、位移、渗水情况", "en": "Patrol the site: cracks, movement, seepage"},
    {"zh": "检查预警信号器材（锣、哨、喇叭）可用", "en": "Check the warning signal (gong, whistle, loudspeaker) works"},
    {"zh": "核对受威胁户名单并通知做好转移准备", "en": "Check the list of threatened households and tell them to get ready"},
    {"zh": "确认转移路线畅通、避险点可用", "en": "Confirm the route is open and the shelter ready"}]'),
  ('before', 'grid', '雨前查预防：网格', 'Before rain: grid', '[
    {"zh": "排查沟口、陡坡、切坡建房、老旧土坯房", "en": "Check gully mouths, steep slopes, houses cut into slopes, old earthen houses"},
    {"zh": "逐户告知危险区群众做好准备", "en": "Tell every household in danger zones to get ready"},
    {"zh": "核实网格内独居老人、留守儿童、残疾人在家情况", "en": "Check who of the elderly alone, left-behind children and disabled is at home"}]'),
  ('before', 'household', '雨前查预防：重点户', 'Before rain: priority household', '[
    {"zh": "入户告知预报和转移路线、避险点", "en": "Visit: tell the forecast, the route and the shelter"},
    {"zh": "确认联系方式畅通", "en": "Confirm they can be reached by phone"},
    {"zh": "组织转移到避险点（弱势群体优先）", "en": "Move them to the shelter (vulnerable people first)"}]'),
  ('during', 'hazard_site', '雨中查隐患：隐患点', 'During rain: hazard site', '[
    {"zh": "加密监测，记录裂缝和位移变化", "en": "Monitor more often; record changes in cracks and movement"},
    {"zh": "发现险情立即发出预警信号", "en": "Sound the warning at once if danger shows"},
    {"zh": "确认受威胁群众已撤离到避险点", "en": "Confirm threatened people have left for the shelter"}]'),
  ('during', 'grid', '雨中查隐患：网格', 'During rain: grid', '[
    {"zh": "巡查网格内积水、滑坡、崩塌迹象", "en": "Patrol the grid: standing water, signs of landslides and rock falls"},
    {"zh": "劝离危险区域人员，禁止进入沟道", "en": "Keep people out of danger zones and gullies"},
    {"zh": "向村、乡镇报告雨情险情", "en": "Report rain and dangers to the village and township"}]'),
  ('during', 'household', '雨中查隐患：重点户', 'During rain: priority household', '[
    {"zh": "电话或入户确认人员安全", "en": "Confirm by phone or visit that everyone is safe"},
    {"zh": "确认已转移或组织立即转移", "en": "Confirm they have moved, or move them now"}]'),
  ('after', 'hazard_site', '雨后查灾情：隐患点', 'After rain: hazard site', '[
    {"zh": "检查隐患点变形和新增裂缝", "en": "Check the site for deformation and new cracks"},
    {"zh": "评估是否可以解除预警", "en": "Judge whether the warning can be lifted"},
    {"zh": "上报灾情（无灾也要报）", "en": "Report damage (report none too)"}]'),
  ('after', 'grid', '雨后查灾情：网格', 'After rain: grid', '[
    {"zh": "排查房屋、道路、农田受损情况", "en": "Check houses, roads and fields for damage"},
    {"zh": "确认转移群众安全后再返回", "en": "Let moved people return only once it is safe"},
    {"zh": "上报灾情统计", "en": "Report the damage figures"}]'),
  ('after', 'household', '雨后查灾情：重点户', 'After rain: priority household', '[
    {"zh": "入户查看房屋安全", "en": "Visit: check the house is safe"},
    {"zh": "确认人员安全返回", "en": "Confirm everyone is back safely"}]');

-- A storm episode per county: opened by a ladder forecast or by rain; after
-- rain opens once an event with alerts has been dry for after.dryHours.
CREATE TABLE rain_events (
  id               serial PRIMARY KEY,
  county_code      text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
  started_at       timestamptz NOT NULL,
  expect_until     timestamptz,            -- end of the latest forecast period that opened steps
  last_wet_at      timestamptz,            -- latest hour with rain in the county
  last_alert_at    timestamptz,            -- latest hour with a signal or a site on alert
  after_opened_at  timestamptz,
  closed_at        timestamptz
);
CREATE UNIQUE INDEX rain_events_open ON rain_events(county_code) WHERE closed_at IS NULL;
CREATE INDEX rain_events_county ON rain_events(county_code, started_at);

-- A checklist for one target in one phase of one event: replaying the same
-- rain finds the same key and adds nothing.
CREATE TABLE tasks (
  id           bigserial PRIMARY KEY,
  event_id     int NOT NULL REFERENCES rain_events(id) ON DELETE CASCADE,
  phase        text NOT NULL CHECK (phase IN ('before', 'during', 'after')),
  step         text NOT NULL,                   -- what opened it: '12h' / '6h' / '2h' ladder step, 'rain', 'dry'
  target_kind  text NOT NULL CHECK (target_kind IN ('hazard_site', 'household', 'grid')),
  target_id    int NOT NULL,
  target_code  text NOT NULL,
  target_name  text,
  unit_code    text NOT NULL,                   -- grid code (or village code): scope checks and roll-ups
  assignee_id  int REFERENCES grid_workers(id) ON DELETE SET NULL,
  opened_at    timestamptz NOT NULL,            -- rain time (forecast issued, reading hour)
  due_at       timestamptz NOT NULL,
  items        jsonb NOT NULL,                  -- [{zh, en, done, by, byName, at, note}]
  status       text NOT NULL DEFAULT 'not_started' CHECK (status IN ('not_started', 'in_progress', 'done')),
  done_at      timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  version      int NOT NULL DEFAULT 1,
  UNIQUE (event_id, phase, target_kind, target_id)
);
CREATE INDEX tasks_unit ON tasks(unit_code text_pattern_ops);
CREATE INDEX tasks_open_due ON tasks(due_at) WHERE status <> 'done';
CREATE INDEX tasks_assignee ON tasks(assignee_id);

-- The leading digits every code inside `code` starts with (as api/auth/policy.ts scopePrefix).
CREATE FUNCTION rain_code_prefix(code text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE WHEN length(code) > 12 THEN code
              WHEN code LIKE '%00000000' THEN left(code, 4)
              WHEN code LIKE '%000000' THEN left(code, 6)
              WHEN code LIKE '%000' THEN left(code, 9)
              ELSE code END
$fn$;

-- Audit: edits to the rules, templates and tasks row by row. Generated tasks
-- (thousands per rain update) are recorded as one audit event per batch by
-- the code that makes them, not one row each; readings and rain_state likewise.
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON rain_config
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON checklist_templates
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER audit AFTER UPDATE OR DELETE ON tasks
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON rain_stations
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();
-- The interpolation settings shape the weights too.
CREATE TRIGGER rain_cache_stale AFTER INSERT OR UPDATE OR DELETE ON rain_config
  FOR EACH STATEMENT EXECUTE FUNCTION rain_cache_stale();
