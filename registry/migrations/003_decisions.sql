-- The decision log (written by the inference server in asynchronous batches) and rewards.

CREATE TABLE decisions (
  decision_id  uuid PRIMARY KEY,
  time         timestamptz NOT NULL,
  -- The deployment that answered; deployments are named like their model.
  deployment   text NOT NULL,
  model        text NOT NULL,
  -- The version that produced the action; null when the fallback action was served.
  version      integer,
  -- Deployment generation at decision time (sticky units and canary windows key on it).
  generation   bigint,
  -- champion | canary | fallback | shadow | a bandit arm name
  arm          text NOT NULL,
  -- Context the policy saw (inputs by name, or an array).
  features     jsonb NOT NULL,
  action       jsonb NOT NULL,
  -- Probability of the discrete action under the serving policy (OBP's pscore).
  propensity   double precision CHECK (propensity >= 0 AND propensity <= 1),
  -- Density of the continuous parts of the action, when there are any (not a probability: may exceed 1).
  density      double precision CHECK (density >= 0),
  -- Sticky routing key, e.g. a user or session id.
  unit         text,
  latency_ms   double precision,
  -- Anything else the server wants kept (e.g. the shadow arm's action).
  metadata     jsonb
);
CREATE INDEX decisions_deployment_time_idx ON decisions (deployment, time, decision_id);
CREATE INDEX decisions_model_version_time_idx ON decisions (model, version, time);

-- One reward per decision. No foreign key to decisions on purpose: decisions are written in
-- batches off the hot path, so a reward can arrive (and must be accepted) before its decision row.
-- Readers join on decision_id.
CREATE TABLE rewards (
  decision_id  uuid PRIMARY KEY,
  reward       double precision NOT NULL,
  components   jsonb,
  time         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rewards_time_idx ON rewards (time);
