-- The offline feature store: every value a feature of an entity has had, with the time it became
-- valid. Never updated in place, only appended, so training and OPE can read the features as they
-- were at decision time (point-in-time correct):
--   SELECT DISTINCT ON (name) name, value FROM feature_values
--    WHERE entity = $1 AND valid_from <= $2 ORDER BY name, valid_from DESC
-- The online store (Redis hash features:<entity>) holds the latest values; `autopilot features load`
-- copies them from here.
CREATE TABLE feature_values (
  entity      text NOT NULL CHECK (length(entity) BETWEEN 1 AND 256),
  name        text NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.]{0,63}$'),
  value       double precision NOT NULL,
  valid_from  timestamptz NOT NULL,
  written_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entity, name, valid_from)
);
CREATE INDEX feature_values_valid_from_idx ON feature_values (valid_from);
