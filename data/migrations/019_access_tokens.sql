-- Personal access tokens (issue #22): QGIS, ArcGIS Pro and GDAL cannot hold our session cookie, so a
-- person makes a token in the page and gives it to their desktop client. It reads tiles, TileJSON,
-- exports and the OGC API as its user (same role, same area), never writes. The secret (gw_ and 43
-- base64url characters) is shown once; only its SHA-256 is kept, so a copy of this table lets no one in.
CREATE TABLE access_tokens (
  id           serial PRIMARY KEY,
  user_id      int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
  token_hash   text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  expires_at   timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX access_tokens_user ON access_tokens(user_id);

-- Made and revoked are audited; the hash is left out of the record, and last_used_at (bookkeeping,
-- written as the token is used) is not an edit anyone made.
CREATE TRIGGER audit AFTER INSERT OR UPDATE OF name, expires_at, revoked_at OR DELETE ON access_tokens
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('token_hash', 'last_used_at');
