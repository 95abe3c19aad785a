/**
 * Per-arm circuit breakers of a bandit deployment with `circuitBreaker` (UC9 routing), shared by every
 * server in one Redis hash `routing:breaker:<stateKey>`, so a provider one server saw failing leaves the
 * arm set of all of them at once. The transitions are ml/routing/circuit-breaker.ts's, run by two Lua
 * scripts on Redis's clock (TIME), so servers never disagree about a cool-down:
 *
 *  - READ (every decide of such a deployment, one round trip): each arm's state, an open arm whose
 *    cool-down is over read as half-open;
 *  - RECORD (the rewards of one request, one round trip): each outcome (the reward's failure component)
 *    moves its arm's breaker; an outcome that arrives while the arm is open (a call made before it
 *    opened) is ignored.
 *
 * Fields per arm: `<arm>|s` state (0 closed, 1 open, 2 half-open), `<arm>|u` open until (ms), `<arm>|c`
 * failures in a row, `<arm>|h` successful probes, `<arm>|w` the last `window` outcomes ('1' failed,
 * newest first), `<arm>|o` times opened.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BreakerState, CircuitBreakerConfig } from '../../ml/routing/circuit-breaker';

export const breakerKey = (stateKey: string): string => `routing:breaker:${stateKey}`;

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// ARGV: arm names. Returns [now, state₁, until₁, state₂, until₂, …] (half-open: 2).
const READ_SCRIPT = `${NOW}
local out = { now }
for i = 1, #ARGV do
  local v = redis.call('HMGET', KEYS[1], ARGV[i] .. '|s', ARGV[i] .. '|u')
  local s = tonumber(v[1] or '0')
  local u = tonumber(v[2] or '0')
  if s == 1 and now >= u then s = 2 end
  out[#out + 1] = s
  out[#out + 1] = u
end
return out`;

// ARGV: consecutiveFailures, errorRate, window, minRequests, cooldownMs, successThreshold, then per
// outcome: arm, '1' (failed) or '0'. Returns per outcome: [state before, state after, until].
const RECORD_SCRIPT = `${NOW}
local key = KEYS[1]
local cons, rate, win = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local minReq, cool, succ = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local out = {}
for i = 7, #ARGV, 2 do
  local arm = ARGV[i]
  local failed = ARGV[i + 1] == '1'
  local v = redis.call('HMGET', key, arm .. '|s', arm .. '|u')
  local s = tonumber(v[1] or '0')
  local u = tonumber(v[2] or '0')
  if s == 1 and now >= u then s = 2 end
  local before = s
  local function open()
    u = now + cool
    s = 1
    redis.call('HSET', key, arm .. '|s', 1, arm .. '|u', u, arm .. '|c', 0, arm .. '|h', 0, arm .. '|w', '')
    redis.call('HINCRBY', key, arm .. '|o', 1)
  end
  if s == 2 then
    if failed then open()
    else
      local h = redis.call('HINCRBY', key, arm .. '|h', 1)
      if h >= succ then
        s = 0
        redis.call('HSET', key, arm .. '|s', 0, arm .. '|c', 0, arm .. '|h', 0, arm .. '|w', '')
      else
        redis.call('HSET', key, arm .. '|s', 2)
      end
    end
  elseif s == 0 then
    local w = string.sub((failed and '1' or '0') .. (redis.call('HGET', key, arm .. '|w') or ''), 1, win)
    local c = 0
    if failed then c = redis.call('HINCRBY', key, arm .. '|c', 1) else redis.call('HSET', key, arm .. '|c', 0) end
    local _, f = string.gsub(w, '1', '')
    if c >= cons or (#w >= minReq and f / #w >= rate) then open()
    else redis.call('HSET', key, arm .. '|w', w) end
  end
  out[#out + 1] = before
  out[#out + 1] = s
  out[#out + 1] = u
end
return out`;

const SHA = { read: createHash('sha1').update(READ_SCRIPT).digest('hex'), record: createHash('sha1').update(RECORD_SCRIPT).digest('hex') };
const STATES: BreakerState[] = ['closed', 'open', 'half-open'];

export interface BreakerView {
  states: BreakerState[];
  /** Redis's clock (ms) and, per arm, until when it is open (0: not open). */
  now: number;
  until: number[];
}

export class RoutingBreaker {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    stateKey: string,
    readonly config: CircuitBreakerConfig,
    readonly arms: readonly string[],
    private readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void,
  ) {
    this.key = breakerKey(stateKey);
  }

  private async run(which: 'read' | 'record', script: string, args: (string | number)[]): Promise<unknown[]> {
    try {
      return (await this.redis.evalsha(SHA[which], 1, this.key, ...args)) as unknown[];
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message)) throw err;
      return (await this.redis.eval(script, 1, this.key, ...args)) as unknown[];
    }
  }

  /** Every arm's state now (one round trip). */
  async read(): Promise<BreakerView> {
    const r = (await this.run('read', READ_SCRIPT, [...this.arms])).map(Number);
    const states: BreakerState[] = [], until: number[] = [];
    for (let a = 0; a < this.arms.length; a++) {
      states.push(STATES[r[1 + 2 * a]]);
      until.push(r[2 + 2 * a]);
    }
    return { states, now: r[0], until };
  }

  /** Records call outcomes (arm index, failed) in one round trip; logs every transition. */
  async record(outcomes: { arm: number; failed: boolean }[]): Promise<void> {
    if (outcomes.length === 0) return;
    const c = this.config;
    const args: (string | number)[] = [c.consecutiveFailures, c.errorRate, c.window, c.minRequests, c.cooldownMs, c.successThreshold];
    for (const o of outcomes) args.push(this.arms[o.arm], o.failed ? '1' : '0');
    const r = (await this.run('record', RECORD_SCRIPT, args)).map(Number);
    outcomes.forEach((o, i) => {
      const before = STATES[r[3 * i]], after = STATES[r[3 * i + 1]];
      if (before !== after) {
        const msg = `circuit breaker ${this.key} arm ${this.arms[o.arm]}: ${before} → ${after}${after === 'open' ? ` for ${c.cooldownMs} ms` : ''}`;
        this.log?.(after === 'open' ? 'warn' : 'info', msg);
      }
    });
  }
}
