-- Bandit learner flushes that the shared state refused (issue "Trust" item 2): a batch of reward
-- increments whose update script failed on a value it validates (not finite, beyond the state's bounds,
-- a field that is not a number) is set aside here, with the reason, instead of being retried forever;
-- later rewards still apply. In PostgreSQL rather than a Redis list: the thing that failed is the Redis
-- state, the rows sit beside the rewards and the audit row they are explained by, and they survive a
-- Redis flush or failover. One row per flush (a flush is the sum of the rewards of one window).
CREATE TABLE reward_dead_letters (
  id            bigserial PRIMARY KEY,
  time          timestamptz NOT NULL DEFAULT now(),
  -- the learner's state name (config.stateKey) and its Redis hash
  state_key     text NOT NULL,
  redis_key     text NOT NULL,
  -- the server instance's writer id and the flush's number (a retry of the same flush is one row)
  writer_id     text NOT NULL,
  flush_number  bigint NOT NULL,
  -- rewards summed in the flush
  observations  integer NOT NULL CHECK (observations >= 0),
  -- field → increment, as sent to the script (text: a poison value may be NaN or Infinity)
  increments    jsonb NOT NULL,
  -- what the script answered
  error         text NOT NULL,
  UNIQUE (writer_id, flush_number)
);
CREATE INDEX reward_dead_letters_state_time_idx ON reward_dead_letters (state_key, time);
