-- The decision log's JSON columns as `json` (the text, checked as JSON) instead of `jsonb`.
-- Every decision the inference server answers becomes a row, so this table is written far more than
-- it is read, and PostgreSQL's CPU per written row is what limits how many decisions a box can log
-- (on the 2-core dev box the database shares the cores with the server). Parsing three documents into
-- jsonb was half of that cost (COPY of a policy decision: 15.8 → 10.4 µs of PostgreSQL CPU per row).
-- Readers lose nothing they use: `->`/`->>` work on json, rows come back as the same JSON values, and
-- comparisons cast to jsonb where they need jsonb's equality or `?`.
-- ALTER … TYPE rewrites the table (under an exclusive lock): on a large existing log, run it in a quiet window.
ALTER TABLE decisions
  ALTER COLUMN features TYPE json USING features::json,
  ALTER COLUMN action TYPE json USING action::json,
  ALTER COLUMN metadata TYPE json USING metadata::json;
