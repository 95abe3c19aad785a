-- Least-privilege PostgreSQL roles (R-security). Group roles without LOGIN: a login is given one with
--   CREATE ROLE inference_svc LOGIN PASSWORD '…';  GRANT autopilot_inference TO inference_svc;
-- and connects with it, or a login that is a member uses it per session: `autopilot serve --db-role
-- autopilot_inference` connects with `options=-c role=autopilot_inference` (SET ROLE at connect), so
-- everything the server does runs with only these privileges and audit rows record this role.
--
--   autopilot_inference  the inference server: reads deployments, versions, models, aliases and API keys;
--                        inserts decisions, rewards and audit rows; cannot change a deployment, a version
--                        or a key.
--   autopilot_worker     Temporal workers and the CLI's model commands: read and write the registry
--                        (models, versions, aliases, deployments, runs, evaluations, features), read
--                        decisions and rewards, append audit rows; no access to API keys.
--   autopilot_admin      everything, API keys included (`autopilot keys`, migrations are run by the owner).
--
-- Roles are cluster-wide and every database migrates this file: creation is idempotent and tolerates
-- another database's migration creating the same role at the same moment. The grants are per database.
-- Tables added by later migrations must grant their own privileges.
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['autopilot_inference', 'autopilot_worker', 'autopilot_admin'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- created meanwhile by a concurrent migration of another database
      END;
    END IF;
  END LOOP;
END
$$;

GRANT USAGE ON SCHEMA public TO autopilot_inference, autopilot_worker, autopilot_admin;

-- inference
GRANT SELECT ON models, model_versions, aliases, deployments, api_keys, schema_migrations TO autopilot_inference;
GRANT SELECT, INSERT ON decisions, rewards TO autopilot_inference;
GRANT SELECT, INSERT ON audit_log TO autopilot_inference;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO autopilot_inference;

-- workers
GRANT SELECT, INSERT, UPDATE, DELETE ON models, model_versions, aliases, deployments, runs, run_metrics, evaluations, feature_values TO autopilot_worker;
GRANT SELECT ON decisions, rewards, schema_migrations TO autopilot_worker;
GRANT SELECT, INSERT ON audit_log TO autopilot_worker;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO autopilot_worker;

-- admin
GRANT ALL ON ALL TABLES IN SCHEMA public TO autopilot_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO autopilot_admin;
