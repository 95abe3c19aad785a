-- Training and evaluation runs and their per-step metrics (CleanRL-style names: charts/episodic_return,
-- losses/approx_kl, ...).

CREATE TABLE runs (
  id           text PRIMARY KEY,
  -- e.g. ppo, sft, dpo, ope, canary
  kind         text NOT NULL,
  model        text,
  workflow_id  text,
  status       text NOT NULL DEFAULT 'running'
               CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  config       jsonb NOT NULL DEFAULT '{}',
  summary      jsonb,
  error        text,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX runs_model_started_idx ON runs (model, started_at);
CREATE INDEX runs_workflow_idx ON runs (workflow_id) WHERE workflow_id IS NOT NULL;

-- One value per (run, metric name, step); a retried write of the same step replaces its value.
CREATE TABLE run_metrics (
  run_id  text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step    bigint NOT NULL,
  name    text NOT NULL,
  value   double precision NOT NULL,
  time    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, name, step)
);
CREATE INDEX run_metrics_run_step_idx ON run_metrics (run_id, step);
