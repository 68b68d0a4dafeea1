-- The field app (issue #19): what phones send from their outbox.

-- Each action a phone sent, under the id the phone made for it: the
-- idempotency key. A replay of the same id finds the row and gets the stored
-- answer back, changing nothing. Conflicts and refusals are stored too, so a
-- replay tells the phone the same thing again. `done_at` is when it was done
-- on the phone (never later than its arrival), `received_at` when it arrived.
CREATE TABLE field_actions (
  user_id      int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  id           uuid NOT NULL,
  kind         text NOT NULL,
  phone_at     timestamptz NOT NULL,
  done_at      timestamptz NOT NULL,
  received_at  timestamptz NOT NULL,
  -- applied | conflict | rejected; NULL only inside the transaction applying it.
  outcome      text CHECK (outcome IN ('applied', 'conflict', 'rejected')),
  answer       jsonb,
  PRIMARY KEY (user_id, id)
);
CREATE INDEX field_actions_received ON field_actions(received_at);

-- Photos taken with a tick or a visit, checked (JPEG/PNG/WebP by their bytes,
-- dimensions decoded) and kept in the database with the record they belong to.
CREATE TABLE field_photos (
  id           bigserial PRIMARY KEY,
  user_id      int REFERENCES users(id) ON DELETE SET NULL,
  action_id    uuid NOT NULL,
  -- Where it was taken: the grid code of the household or task (who may see it).
  unit_code    text NOT NULL,
  target       text NOT NULL,            -- 'task:12/3', 'household:45'
  mime         text NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'image/webp')),
  width        int NOT NULL,
  height       int NOT NULL,
  bytes        bytea NOT NULL,
  taken_at     timestamptz NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX field_photos_target ON field_photos(target);

-- Patrol tracks: where a worker on duty was, a point a minute. Personal data:
-- kept 90 days (api/field/tracks.ts sweeps older points), read only up the
-- worker's own chain.
CREATE TABLE field_tracks (
  id         bigserial PRIMARY KEY,
  user_id    int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- The worker's area when the point was sent: whose chain may read it.
  unit_code  text NOT NULL,
  at         timestamptz NOT NULL,
  geom       geometry(Point, 4326) NOT NULL,
  accuracy_m real
);
CREATE INDEX field_tracks_user_at ON field_tracks(user_id, at);
CREATE INDEX field_tracks_at ON field_tracks(at);
