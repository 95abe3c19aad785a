-- Versions whose artifact is a JSON document, e.g. a bandit learner's snapshot (hyperparameters and
-- sufficient statistics, written by the banditSnapshot workflow) for lineage, rollback and OPE.
ALTER TABLE model_versions DROP CONSTRAINT model_versions_format_check;
ALTER TABLE model_versions ADD CONSTRAINT model_versions_format_check CHECK (format IN ('onnx', 'hf', 'json'));
