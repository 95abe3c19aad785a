-- One row per optimizationLoop cycle (workflows/optimizationLoop.ts): what triggered it, how far it got,
-- the outcome and why, the dataset snapshot, the candidate, the off-policy evaluation gate and the canary.
-- Written once, when the cycle ends (the workflow's `loopRecordCycle` activity; a retry changes nothing).

CREATE TABLE loop_cycles (
  id                 bigserial PRIMARY KEY,
  -- the loop: the first run id of its workflow (stable across continueAsNew)
  loop_id            text NOT NULL,
  workflow_id        text NOT NULL,
  deployment         text NOT NULL,
  cycle              integer NOT NULL CHECK (cycle >= 1),
  trigger            text NOT NULL CHECK (trigger IN ('schedule', 'drift', 'manual')),
  trigger_by         text NOT NULL,
  trigger_reason     text NOT NULL,
  outcome            text NOT NULL CHECK (outcome IN ('promoted', 'rejected', 'skipped', 'failed')),
  -- where the cycle ended: export, retrain, offline-evaluation, ope, approval, canary
  stage              text,
  reasons            jsonb NOT NULL DEFAULT '[]',
  window_from        timestamptz NOT NULL,
  window_to          timestamptz NOT NULL,
  -- training data before, the off-policy evaluation's held-out data from here
  holdout_from       timestamptz,
  champion_version   integer,
  candidate_version  integer,
  dataset            jsonb,
  ope                jsonb,
  canary             jsonb,
  stages             jsonb NOT NULL DEFAULT '[]',
  started_at         timestamptz NOT NULL,
  finished_at        timestamptz NOT NULL,
  UNIQUE (loop_id, cycle)
);
CREATE INDEX loop_cycles_deployment_idx ON loop_cycles (deployment, finished_at);

-- Workers run the loop (they write its cycles); the CLI's `loop status` reads them as a worker or admin.
GRANT SELECT, INSERT ON loop_cycles TO autopilot_worker;
GRANT USAGE ON SEQUENCE loop_cycles_id_seq TO autopilot_worker;
GRANT ALL ON loop_cycles TO autopilot_admin;
GRANT ALL ON SEQUENCE loop_cycles_id_seq TO autopilot_admin;
