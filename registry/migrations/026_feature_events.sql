-- Computed features (issue 23 item 6): the reward outcomes the inference server counted in a feature
-- set's rolling windows in Redis (feature-store/computed/), each with the time it was counted at (Redis'
-- clock, the clock every read of the windows is ordered by). The offline builder replays these, with the
-- decisions that logged the set (`decisions.features->>'featureSet'`, their `asOf`), to compute training
-- features point-in-time correct: a decision at asOf sees exactly the events counted before it.
-- One row per (decision, set): a reward is counted once (duplicates are not observed).
CREATE TABLE feature_events (
  decision_id  uuid NOT NULL,
  feature_set  text NOT NULL,
  -- when the windows counted it (millisecond precision)
  time         timestamptz NOT NULL,
  -- the decision's entities ({ "tenant": "acme" }) and the model that served it (null: none)
  entities     jsonb NOT NULL,
  model        text,
  reward       double precision,
  components   jsonb,
  PRIMARY KEY (decision_id, feature_set)
);
CREATE INDEX feature_events_set_time_idx ON feature_events (feature_set, time);

GRANT SELECT, INSERT ON feature_events TO autopilot_inference;
GRANT SELECT ON feature_events TO autopilot_worker;
GRANT ALL ON feature_events TO autopilot_admin;
