-- Results of offline / off-policy evaluations of a model version (the report itself is an artifact).

CREATE TABLE evaluations (
  id          uuid PRIMARY KEY,
  model       text NOT NULL REFERENCES models(name),
  version     integer NOT NULL,
  -- e.g. ope, holdout, benchmark
  kind        text NOT NULL,
  report_uri  text,
  -- pass | fail | inconclusive
  verdict     text NOT NULL CHECK (verdict IN ('pass', 'fail', 'inconclusive')),
  summary     jsonb NOT NULL DEFAULT '{}',
  run_id      text,
  time        timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
);
CREATE INDEX evaluations_model_version_idx ON evaluations (model, version, time);
