-- Results of the optimiser workflows (R-USE-CASES: budget allocation, workload forecasting).
-- Each row is written once per workflow run: `run_key` (workflow id + run id) makes an activity retry
-- a no-op instead of a second row.

-- One solve of the budget-allocation LP: the problem as solved, and the traffic shares with their
-- shadow prices (or the error naming the binding floors when it was infeasible).
CREATE TABLE budget_solutions (
  id          bigserial PRIMARY KEY,
  -- The allocation's name (one name per re-solved plan, e.g. "monthly").
  name        text NOT NULL,
  run_key     text NOT NULL UNIQUE,
  workflow_id text,
  status      text NOT NULL CHECK (status IN ('optimal', 'infeasible')),
  problem     jsonb NOT NULL,
  -- shares, expectedQuality, segmentQuality, cost, shadowPrices, activeModels, kind (null when infeasible)
  solution    jsonb,
  error       text,
  -- The shares as an SVG in the artifact store (null when infeasible).
  plot_uri    text,
  solved_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX budget_solutions_name_idx ON budget_solutions (name, solved_at DESC);

-- One forecast of a deployment's request rate (requests per second) at one granularity.
CREATE TABLE forecasts (
  id            bigserial PRIMARY KEY,
  deployment    text NOT NULL,
  granularity   text NOT NULL CHECK (granularity IN ('hour', 'minute')),
  run_key       text NOT NULL,
  workflow_id   text,
  -- The fitted model, e.g. "ARIMA(1,0,1)(0,1,1)[24]" or "ETS(A,N,A)".
  method        text NOT NULL,
  -- Start of the first forecast step; step i covers [origin + i·step, origin + (i+1)·step).
  origin        timestamptz NOT NULL,
  step_seconds  integer NOT NULL CHECK (step_seconds > 0),
  -- Nominal coverage of [lower, upper], e.g. 0.95.
  level         double precision NOT NULL CHECK (level > 0 AND level < 1),
  mean          double precision[] NOT NULL,
  lower         double precision[] NOT NULL,
  upper         double precision[] NOT NULL,
  sd            double precision[] NOT NULL,
  -- Observations the model was fitted to, and the capacity recommendation (null when not asked).
  history_points integer NOT NULL,
  capacity      jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (run_key, deployment, granularity)
);
CREATE INDEX forecasts_deployment_idx ON forecasts (deployment, granularity, created_at DESC);
