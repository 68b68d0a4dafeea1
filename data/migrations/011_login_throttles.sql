-- Password guessing is slowed, not locked (issue #16): five failures used to lock an account for 15
-- minutes, so anyone could keep anyone (the admin too) out. Counts of failed guesses per key, with
-- the wait each has earned, live here so that every API process sees the same ones
-- (api/auth/throttle-rules.ts has the rules, api/auth/throttle.ts the bookkeeping).
CREATE TABLE login_throttles (
  id              bigserial PRIMARY KEY,
  -- account_address: one name from one client address; account_device: one name from a browser that
  -- has logged into it before (its device cookie); address: one address over all names; account: one
  -- name over all places.
  scope           text NOT NULL CHECK (scope IN ('account_address', 'account_device', 'address', 'account')),
  -- The name as typed (lower case), whether or not the account exists: unknown names are counted as
  -- known ones are, so the answers do not tell which exist. '' for scope address.
  username        text NOT NULL DEFAULT '',
  -- The client address, or for account_device the SHA-256 of the device cookie. '' for scope account.
  place           text NOT NULL DEFAULT '',
  failures        int NOT NULL DEFAULT 0 CHECK (failures >= 0),
  last_failure_at timestamptz NOT NULL,
  blocked_until   timestamptz,
  UNIQUE (scope, username, place)
);
CREATE INDEX login_throttles_username ON login_throttles (username);
CREATE INDEX login_throttles_last_failure ON login_throttles (last_failure_at);

-- Where an account has logged in successfully: a client address, or a browser (the SHA-256 of its
-- device cookie). There the account is not held by the per-address and per-account waits that a
-- stranger's guesses cause.
CREATE TABLE login_places (
  user_id       int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('address', 'device')),
  place         text NOT NULL,
  last_login_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, kind, place)
);

-- The lock is gone.
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until;
