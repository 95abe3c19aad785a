-- Human feedback on served decisions (issue "Oumi policy" item 4): a reviewer's verdict on a served
-- text-policy decision, `POST /v1/feedback { decisionId, verdict, reason? }` (scope `reward`). One verdict
-- per decision, like one reward per decision: a repeat of the same verdict is idempotent, a different one
-- is refused (409) rather than silently replacing what the first reviewer said.
--
-- Kept beside `decisions`, not as columns of it: decisions are written in COPY batches by the inference
-- server and never updated; a verdict arrives minutes to days later. `served_verdict` copies the verdict
-- the policy answered (decisions.action->>'verdict') so the override rate is one scan of this table.
-- No foreign key to `decisions`: the server checks that the decision exists (it may still be in a
-- decision-log batch for a second) and decisions may be dropped by retention while their feedback stays.
CREATE TABLE decision_feedback (
  decision_id     uuid PRIMARY KEY,
  time            timestamptz NOT NULL DEFAULT now(),
  -- the decision's own time, deployment and model version (for windows and per-version rates)
  decision_time   timestamptz NOT NULL,
  deployment      text NOT NULL,
  model           text NOT NULL,
  version         integer,
  served_verdict  text NOT NULL CHECK (served_verdict IN ('APPROVE', 'FLAG')),
  verdict         text NOT NULL CHECK (verdict IN ('APPROVE', 'FLAG')),
  reason          text CHECK (reason IS NULL OR length(reason) <= 2000),
  -- the API key that gave the verdict (null with auth off)
  key_id          text
);
CREATE INDEX decision_feedback_deployment_time_idx ON decision_feedback (deployment, decision_time);

GRANT SELECT, INSERT ON decision_feedback TO autopilot_inference;
GRANT SELECT ON decision_feedback TO autopilot_worker;
GRANT ALL ON decision_feedback TO autopilot_admin;
