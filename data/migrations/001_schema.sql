-- Core schema. Table names are fixed: planners open them in QGIS.
-- Geometry is stored in EPSG:4326; a generated EPSG:3857 copy serves the tiles.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE admin_units (
  id          serial PRIMARY KEY,
  code        text NOT NULL UNIQUE CHECK (code ~ '^[0-9]{12}$'),
  name        text NOT NULL,
  level       text NOT NULL CHECK (level IN ('city', 'county', 'township', 'village')),
  parent_id   int REFERENCES admin_units(id),
  geom        geometry(MultiPolygon, 4326) NOT NULL,
  geom_3857   geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
  label_point geometry(Point, 4326) NOT NULL,
  label_3857  geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(label_point, 3857)) STORED,
  version     int NOT NULL DEFAULT 1,
  CHECK ((level = 'city') = (parent_id IS NULL))
);
CREATE INDEX admin_units_parent ON admin_units(parent_id);
CREATE INDEX admin_units_level ON admin_units(level);
CREATE INDEX admin_units_geom ON admin_units USING gist(geom);
CREATE INDEX admin_units_geom_3857 ON admin_units USING gist(geom_3857);
CREATE INDEX admin_units_label_3857 ON admin_units USING gist(label_3857);

CREATE TABLE grids (
  id          serial PRIMARY KEY,
  code        text NOT NULL UNIQUE CHECK (code ~ '^[0-9]{15}([0-9]{2})?$'),
  name        text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('basic', 'micro')),
  parent_id   int REFERENCES grids(id),
  village_id  int NOT NULL REFERENCES admin_units(id),
  geom        geometry(MultiPolygon, 4326) NOT NULL,
  geom_3857   geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
  label_point geometry(Point, 4326) NOT NULL,
  label_3857  geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(label_point, 3857)) STORED,
  version     int NOT NULL DEFAULT 1,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'micro') = (parent_id IS NOT NULL))
);
CREATE INDEX grids_village ON grids(village_id);
CREATE INDEX grids_parent ON grids(parent_id);
CREATE INDEX grids_geom ON grids USING gist(geom);
CREATE INDEX grids_geom_3857 ON grids USING gist(geom_3857);
CREATE INDEX grids_label_3857 ON grids USING gist(label_3857);

CREATE TABLE grid_workers (
  id          serial PRIMARY KEY,
  name        text NOT NULL,
  phone       text,
  role        text NOT NULL CHECK (role IN ('网格长', '网格员', '包保责任人', '监测员')),
  grid_id     int REFERENCES grids(id),
  village_id  int NOT NULL REFERENCES admin_units(id)
);
CREATE INDEX grid_workers_grid ON grid_workers(grid_id);
CREATE INDEX grid_workers_village ON grid_workers(village_id);

CREATE TABLE households (
  id                    serial PRIMARY KEY,
  code                  text NOT NULL UNIQUE,
  householder           text NOT NULL,
  phone                 text,
  members               smallint NOT NULL CHECK (members BETWEEN 1 AND 30),
  elderly_alone         smallint NOT NULL DEFAULT 0 CHECK (elderly_alone >= 0),
  left_behind_children  smallint NOT NULL DEFAULT 0 CHECK (left_behind_children >= 0),
  disabled              smallint NOT NULL DEFAULT 0 CHECK (disabled >= 0),
  vulnerable            smallint GENERATED ALWAYS AS (elderly_alone + left_behind_children + disabled) STORED,
  risk_level            text NOT NULL CHECK (risk_level IN ('red', 'yellow', 'green')),
  flood_exposed         boolean NOT NULL DEFAULT false,
  measures              text,
  cadre_id              int REFERENCES grid_workers(id),
  grid_id               int NOT NULL REFERENCES grids(id),
  micro_grid_id         int REFERENCES grids(id),
  last_visit_at         timestamptz,
  geom                  geometry(Point, 4326) NOT NULL,
  geom_3857             geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
  version               int NOT NULL DEFAULT 1
);
CREATE INDEX households_grid ON households(grid_id);
CREATE INDEX households_micro_grid ON households(micro_grid_id);
CREATE INDEX households_geom ON households USING gist(geom);
CREATE INDEX households_geom_3857 ON households USING gist(geom_3857);

CREATE TABLE visits (
  id            bigserial PRIMARY KEY,
  household_id  int NOT NULL REFERENCES households(id) ON DELETE CASCADE,
  worker_id     int REFERENCES grid_workers(id),
  visited_at    timestamptz NOT NULL DEFAULT now(),
  note          text
);
CREATE INDEX visits_household ON visits(household_id, visited_at DESC);

CREATE TABLE hazard_sites (
  id                    serial PRIMARY KEY,
  code                  text NOT NULL UNIQUE,
  name                  text NOT NULL,
  admin_code            text NOT NULL REFERENCES admin_units(code),
  type                  text NOT NULL CHECK (type IN ('滑坡', '崩塌', '泥石流', '地面塌陷', '不稳定斜坡', '地裂缝', '地面沉降')),
  scale                 text NOT NULL CHECK (scale IN ('特大型', '大型', '中型', '小型')),
  threat_object         text,
  threatened_households int NOT NULL DEFAULT 0,
  threatened_people     int NOT NULL DEFAULT 0,
  threatened_property   numeric(12, 1),           -- 万元
  danger_level          text GENERATED ALWAYS AS (
                          CASE WHEN threatened_people >= 1000 THEN '特大型'
                               WHEN threatened_people >= 500 THEN '大型'
                               WHEN threatened_people >= 100 THEN '中型'
                               ELSE '小型' END) STORED,
  countermeasure        text,
  monitoring_method     text,
  warning_signal        text,
  trigger_factor        text,
  monitor_id            int REFERENCES grid_workers(id),
  critical_rain_1h      numeric(6, 1),
  critical_rain_24h     numeric(6, 1),
  status                text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled')),
  geom                  geometry(Point, 4326) NOT NULL,
  geom_3857             geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
  version               int NOT NULL DEFAULT 1
);
CREATE INDEX hazard_sites_geom ON hazard_sites USING gist(geom);
CREATE INDEX hazard_sites_geom_3857 ON hazard_sites USING gist(geom_3857);
CREATE INDEX hazard_sites_admin ON hazard_sites(admin_code);

CREATE TABLE hazard_threats (
  hazard_id     int NOT NULL REFERENCES hazard_sites(id) ON DELETE CASCADE,
  household_id  int NOT NULL REFERENCES households(id) ON DELETE CASCADE,
  PRIMARY KEY (hazard_id, household_id)
);
CREATE INDEX hazard_threats_household ON hazard_threats(household_id);

CREATE TABLE shelters (
  id              serial PRIMARY KEY,
  code            text NOT NULL UNIQUE,
  name            text NOT NULL,
  kind            text NOT NULL,
  village_id      int NOT NULL REFERENCES admin_units(id),
  capacity        int NOT NULL CHECK (capacity > 0),
  certified_safe  boolean NOT NULL DEFAULT true,
  manager         text,
  manager_phone   text,
  geom            geometry(Point, 4326) NOT NULL,
  geom_3857       geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
  version         int NOT NULL DEFAULT 1
);
CREATE INDEX shelters_geom_3857 ON shelters USING gist(geom_3857);
CREATE INDEX shelters_geom ON shelters USING gist(geom);
CREATE INDEX shelters_village ON shelters(village_id);

CREATE TABLE routes (
  id          serial PRIMARY KEY,
  hazard_id   int REFERENCES hazard_sites(id) ON DELETE CASCADE,
  shelter_id  int NOT NULL REFERENCES shelters(id),
  from_name   text NOT NULL,
  length_m    int NOT NULL,
  geom        geometry(LineString, 4326) NOT NULL,
  geom_3857   geometry(LineString, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX routes_geom_3857 ON routes USING gist(geom_3857);
CREATE INDEX routes_hazard ON routes(hazard_id);

CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  action      text NOT NULL,
  table_name  text NOT NULL,
  row_id      text,
  before      jsonb,
  after       jsonb
);
CREATE INDEX audit_log_row ON audit_log(table_name, row_id, at DESC);
