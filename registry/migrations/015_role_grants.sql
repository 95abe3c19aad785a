-- The least-privilege roles of migration 011 on the tables created after it (012 reward_dead_letters,
-- 014 budget_solutions and forecasts): 011's grants name the tables that existed then. From here on, a
-- migration that creates a table grants it in the same file.

-- The inference server sets refused learner flushes aside (and may read them back to skip a retried flush).
GRANT SELECT, INSERT ON reward_dead_letters TO autopilot_inference;
GRANT USAGE ON SEQUENCE reward_dead_letters_id_seq TO autopilot_inference;

-- Workers run budgetAllocation and workloadForecast (they write solutions and forecasts) and read dead letters.
GRANT SELECT, INSERT, UPDATE, DELETE ON budget_solutions, forecasts TO autopilot_worker;
GRANT SELECT ON reward_dead_letters TO autopilot_worker;
GRANT USAGE ON SEQUENCE budget_solutions_id_seq, forecasts_id_seq TO autopilot_worker;

GRANT ALL ON reward_dead_letters, budget_solutions, forecasts TO autopilot_admin;
GRANT ALL ON SEQUENCE reward_dead_letters_id_seq, budget_solutions_id_seq, forecasts_id_seq TO autopilot_admin;
