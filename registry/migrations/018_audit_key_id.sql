-- The API key on whose behalf a change was made, for every audit row written in a transaction that
-- declares it: the control-plane API (api/) runs each mutation in a transaction that first calls
-- `SELECT set_config('autopilot.key_id', <key id>, true)` (local to that transaction), so the registry's
-- own functions (setDeployment, setAlias, rollbackChampion, createKey, …) stamp their audit rows with the
-- key without each taking a key parameter. A key id given in the INSERT itself wins; outside such a
-- transaction the setting is unset and key_id stays what the INSERT says (null for the CLI and workers).
CREATE OR REPLACE FUNCTION audit_log_db_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.db_role := current_user;
  IF NEW.key_id IS NULL THEN
    NEW.key_id := NULLIF(current_setting('autopilot.key_id', true), '');
  END IF;
  RETURN NEW;
END;
$$;
