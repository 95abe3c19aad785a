-- Idempotent registration (R-REGISTRY, R-OPS-ORCHESTRATION): a registration may
-- carry an idempotency key (the workflow id and the stage that registers, e.g.
-- `ppo/rag/1a2b3c4d#exportAndRegister:<run>`). A retried or overlapping registration with the same
-- key inserts with ON CONFLICT DO NOTHING on this index and gets the first one's version back, so one
-- key is one version, whatever the number of attempts. NULL (a registration by hand) is never a conflict.
ALTER TABLE model_versions ADD COLUMN idempotency_key text
  CHECK (idempotency_key IS NULL OR (length(idempotency_key) BETWEEN 1 AND 500));
CREATE UNIQUE INDEX model_versions_idempotency_key_idx ON model_versions (idempotency_key) WHERE idempotency_key IS NOT NULL;
