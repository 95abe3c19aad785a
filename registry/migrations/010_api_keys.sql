-- API keys of the inference server (registry/keys.ts writes them, inference/auth/ reads them), the key
-- that asked for each decision, and who really made each audited change.
--
-- A key is `apk_<key_id>_<secret>`: key_id is public (12 lower-case base-32 characters, the primary key, so a
-- presented key is found without a scan); only the SHA-256 of the secret (32 random bytes) is stored.
-- scopes: each `decide`, `reward`, `read` or `admin`, alone (every deployment) or as `scope:deployment`.
CREATE TABLE api_keys (
  key_id         text PRIMARY KEY CHECK (key_id ~ '^[a-z2-7]{12}$'),
  secret_sha256  bytea NOT NULL CHECK (octet_length(secret_sha256) = 32),
  name           text NOT NULL CHECK (name <> '' AND length(name) <= 200),
  scopes         text[] NOT NULL CHECK (cardinality(scopes) >= 1),
  created_at     timestamptz NOT NULL DEFAULT now(),
  -- The database role that created it (not a name the client claims).
  created_by     text NOT NULL DEFAULT current_user,
  expires_at     timestamptz,
  revoked_at     timestamptz,
  revoked_by     text
);

-- Every change to a key is announced on the registry channel; servers reload their key table on it, so a
-- revoke takes effect without a restart.
CREATE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('autopilot_registry', json_build_object(
    'entity', 'api_key', 'action', 'api_key.' || lower(TG_OP),
    'keyId', CASE WHEN TG_OP = 'DELETE' THEN OLD.key_id ELSE NEW.key_id END)::text);
  RETURN NULL;
END;
$$;
CREATE TRIGGER api_keys_notify AFTER INSERT OR UPDATE OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION api_keys_notify();

-- The key that asked for the decision (null: a server running with --auth off, or decisions from before).
ALTER TABLE decisions ADD COLUMN key_id text;

-- Who really made each change: the database role of the session (set by the trigger below, whatever the
-- INSERT says) and, for changes made by the inference server on behalf of a request, the API key id.
-- `actor` stays as the free-text name the caller gave (a note, not proof). Rows from before: null.
ALTER TABLE audit_log ADD COLUMN db_role text, ADD COLUMN key_id text;
CREATE FUNCTION audit_log_db_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.db_role := current_user;
  RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_db_role BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_db_role();
