-- The model registry: models, their versions, aliases, the serving deployment and the audit log.
-- One name per concept: model, version, alias, deployment.

CREATE TABLE models (
  name            text PRIMARY KEY
                  CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
  description     text NOT NULL DEFAULT '',
  -- Highest version number handed out. registerVersion increments it with UPDATE ... RETURNING, which
  -- row-locks the model until the transaction ends: concurrent registrations get 1, 2, 3, ... and a
  -- rolled-back registration gives its number back (no gaps).
  latest_version  integer NOT NULL DEFAULT 0,
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_versions (
  model            text NOT NULL REFERENCES models(name),
  version          integer NOT NULL CHECK (version >= 1),
  -- Unique id of this version; its artifacts live under models/<model>/versions/<id>/.
  id               uuid NOT NULL UNIQUE,
  artifact_uri     text NOT NULL,
  sha256           char(64) NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size             bigint NOT NULL CHECK (size >= 0),
  format           text NOT NULL CHECK (format IN ('onnx', 'hf')),
  -- { inputs: [...], outputs: [...] } as the exporter describes them.
  signature        jsonb NOT NULL DEFAULT '{}',
  -- { name: number }
  metrics          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metrics) = 'object'),
  -- { key: "value" }
  tags             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object'),
  status           text NOT NULL DEFAULT 'registered'
                   CHECK (status IN ('registered', 'canary', 'champion', 'rejected', 'archived')),
  description      text NOT NULL DEFAULT '',
  -- Lineage. run_id is a soft reference to runs.id (a version may be registered by hand).
  run_id           text,
  workflow_id      text,
  config_hash      text,
  dataset_manifest jsonb,
  code_commit      text,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, version)
);
CREATE INDEX model_versions_tags_idx ON model_versions USING gin (tags jsonb_path_ops);
CREATE INDEX model_versions_run_idx ON model_versions (run_id) WHERE run_id IS NOT NULL;

-- Named pointers to versions. `champion` and `canary` are kept in step with the deployment by
-- setDeployment; any other name (e.g. `staging`, `latest-good`) is free-form.
CREATE TABLE aliases (
  model       text NOT NULL REFERENCES models(name),
  alias       text NOT NULL CHECK (alias ~ '^[A-Za-z][A-Za-z0-9._-]{0,63}$'),
  version     integer NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, alias),
  FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
);

-- What the inference server serves for a model: one deployment per model, named like the model.
-- canary_weight is a PERCENTAGE of traffic in [0, 100] (Flagger/Argo stepWeights: 5, 25, 50, 100).
-- generation increases by one on every change; servers compare it to know they are current.
CREATE TABLE deployments (
  model             text PRIMARY KEY REFERENCES models(name),
  kind              text NOT NULL DEFAULT 'policy' CHECK (kind ~ '^[a-z][a-z0-9-]{0,31}$'),
  champion_version  integer,
  canary_version    integer,
  canary_weight     double precision NOT NULL DEFAULT 0 CHECK (canary_weight >= 0 AND canary_weight <= 100),
  generation        bigint NOT NULL DEFAULT 1 CHECK (generation >= 1),
  -- { mode: 'greedy' | 'sample', epsilon?, temperature? }
  exploration       jsonb NOT NULL DEFAULT '{"mode": "greedy"}',
  -- The static action returned when no model can serve (null: none, requests fail instead).
  fallback          jsonb,
  config            jsonb NOT NULL DEFAULT '{}',
  updated_at        timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (model, champion_version) REFERENCES model_versions(model, version),
  FOREIGN KEY (model, canary_version) REFERENCES model_versions(model, version),
  CHECK (canary_version IS NULL OR canary_version IS DISTINCT FROM champion_version),
  CHECK (canary_version IS NOT NULL OR canary_weight = 0),
  CHECK (champion_version IS NOT NULL OR canary_version IS NULL)
);

-- Append-only history of every registry state change, written in the change's own transaction.
CREATE TABLE audit_log (
  id       bigserial PRIMARY KEY,
  time     timestamptz NOT NULL DEFAULT now(),
  actor    text NOT NULL,
  -- e.g. model.create, version.register, version.status, alias.set, alias.remove, deployment.set
  action   text NOT NULL,
  -- model | version | alias | deployment | run | ...
  entity   text NOT NULL,
  model    text,
  -- e.g. "ppo/3" for a version, "ppo:staging" for an alias
  entity_key text,
  before   jsonb,
  after    jsonb
);
CREATE INDEX audit_log_model_time_idx ON audit_log (model, time);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
