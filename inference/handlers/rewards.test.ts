import { ClientError } from '../http/errors';
import type { RequestContext } from '../http/server';
import { rewardBatch } from '../rewards/body';
import { createRewardsHandler, type RewardSink, type RewardSinkOutcome } from './rewards';
import type { RewardInput } from '../../decision-log';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const ctx = (): RequestContext => ({ latency: null, status: 200, start: 0, bodyText: null, answer: () => undefined, fail: () => undefined });

/** The registry's rules in memory: first reward wins, the same again is a duplicate, a different one a conflict. */
class MemorySink implements RewardSink {
  readonly rows = new Map<string, { reward: number; components: string }>();
  calls: RewardInput[][] = [];
  fail: Error | null = null;
  async insertRewards(inputs: RewardInput[]): Promise<RewardSinkOutcome[]> {
    this.calls.push(inputs);
    if (this.fail) throw this.fail;
    return inputs.map((i) => {
      const stored = this.rows.get(i.decisionId);
      const components = JSON.stringify(i.components ?? null);
      if (stored === undefined) {
        this.rows.set(i.decisionId, { reward: i.reward, components });
        return { inserted: true };
      }
      if (stored.reward === i.reward && (i.components == null || stored.components === components)) return { inserted: false };
      return { error: Object.assign(new Error(`reward of decision ${i.decisionId}: already recorded as ${stored.reward}`), { name: 'ConflictError' }) };
    });
  }
}

describe('rewardBatch (the batch body checks)', () => {
  it('is null for a single-reward body, so the single path checks it', () => {
    expect(rewardBatch({ decisionId: ID(1), reward: 1 }, 10)).toBeNull();
    expect(rewardBatch([{ decisionId: ID(1), reward: 1 }], 10)).toBeNull();
    expect(rewardBatch('x', 10)).toBeNull();
    expect(rewardBatch(null, 10)).toBeNull();
  });

  it('refuses a malformed envelope as a whole: 400, or 413 over the limit, naming the field', () => {
    const cases: [unknown, number, string][] = [
      [{ rewards: [] }, 400, 'rewards'],
      [{ rewards: 'all of them' }, 400, 'rewards'],
      [{ rewards: null }, 400, 'rewards'],
      [{ rewards: [{ decisionId: ID(1), reward: 1 }], reward: 1 }, 400, 'reward'],
      [{ rewards: Array.from({ length: 11 }, (_, i) => ({ decisionId: ID(i), reward: 1 })) }, 413, 'rewards'],
    ];
    for (const [body, status, field] of cases) {
      let err: unknown = null;
      try {
        rewardBatch(body, 10);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ClientError);
      expect(err).toMatchObject({ status, field });
      expect((err as ClientError).expected).toEqual(expect.any(String));
    }
    expect(rewardBatch({ rewards: Array.from({ length: 10 }, (_, i) => ({ decisionId: ID(i), reward: 1 })) }, 10)!.items).toHaveLength(10);
  });

  it('checks every item on its own: the valid ones listed (ids lower-cased), each invalid one an outcome naming its field', () => {
    const upper = 'ABCDEF00-0000-4000-8000-00000000000A';
    const parsed = rewardBatch(
      {
        rewards: [
          { decisionId: ID(1), reward: 0.5 },
          { decisionId: 'nope', reward: 1 },
          { decisionId: ID(2), reward: Number.NaN },
          { decisionId: ID(3), reward: '1' },
          { decisionId: ID(4), reward: 1, note: 'x' },
          { decisionId: ID(5), components: { quality: 'high' } },
          { decisionId: ID(6) },
          [ID(6)],
          { decisionId: upper, components: { quality: 1 }, reward: null },
          { decisionId: ID(8), components: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`c${i}`, 1])) },
        ],
      },
      100,
    )!;
    expect(parsed.items).toEqual([
      { index: 0, sentId: ID(1), decisionId: ID(1), reward: 0.5, components: null },
      { index: 8, sentId: upper, decisionId: upper.toLowerCase(), reward: null, components: { quality: 1 } },
    ]);
    const errors = Array.from(parsed.results, (r) => (r === undefined ? null : { id: r.decisionId, status: r.status, field: r.field }));
    expect(errors).toEqual([
      null,
      { id: 'nope', status: 400, field: 'rewards.1.decisionId' },
      { id: ID(2), status: 400, field: 'rewards.2.reward' },
      { id: ID(3), status: 400, field: 'rewards.3.reward' },
      { id: ID(4), status: 400, field: 'rewards.4.note' },
      { id: ID(5), status: 400, field: 'rewards.5.components.quality' },
      { id: ID(6), status: 400, field: 'rewards.6.reward' },
      { id: null, status: 400, field: 'rewards.7' },
      null,
      { id: ID(8), status: 400, field: 'rewards.9.components' },
    ]);
    for (const r of parsed.results) if (r) expect(r).toMatchObject({ accepted: false, duplicate: false, error: expect.any(String), expected: expect.any(String) });
  });
});

describe('POST /v1/rewards handler (registry path, no bandits)', () => {
  it('answers a batch with one outcome per item: first wins for a repeated decision, invalid items do not touch the others', async () => {
    const sink = new MemorySink();
    sink.rows.set(ID(9), { reward: 1, components: 'null' });
    const handler = createRewardsHandler(sink, null, { maxBatch: 50 });
    const c = ctx();
    const out = (await handler(
      {
        rewards: [
          { decisionId: ID(1), reward: 0.5 },
          { decisionId: ID(1), reward: 0.5 },
          { decisionId: ID(1), reward: 0.7 },
          { decisionId: 'bad', reward: 1 },
          { decisionId: ID(2), components: { quality: 1 } },
          { decisionId: ID(9), reward: 1 },
          { decisionId: ID(9), reward: 2 },
          { decisionId: ID(3), reward: -1, components: { cost: 1 } },
        ],
      },
      c,
    )) as any;
    expect(c.status).toBe(200);
    expect(out.results.map((r: { status: number }) => r.status)).toEqual([201, 200, 409, 400, 400, 200, 409, 201]);
    expect(out).toMatchObject({ accepted: 4, recorded: 2, duplicates: 2, rejected: 4 });
    expect(out.results[0]).toEqual({ decisionId: ID(1), status: 201, accepted: true, duplicate: false, reward: 0.5 });
    expect(out.results[2]).toMatchObject({ field: 'rewards.2.reward', accepted: false, error: expect.stringMatching(/already recorded/) });
    expect(out.results[4]).toMatchObject({ field: 'rewards.4.reward', error: expect.stringMatching(/finite number/) });
    expect(out.results[6]).toMatchObject({ field: 'rewards.6.reward' });
    expect(sink.calls).toHaveLength(1); // one registry call for the whole batch
    expect(sink.rows.get(ID(1))?.reward).toBe(0.5);
  });

  it('makes every valid item a 503 when the registry is down, and still answers 200 with the invalid ones as 400', async () => {
    const sink = new MemorySink();
    sink.fail = new Error('connection refused');
    const logged: string[] = [];
    const handler = createRewardsHandler(sink, null, { log: (_l, m) => logged.push(m) });
    const out = (await handler({ rewards: [{ decisionId: ID(1), reward: 1 }, { decisionId: 'x', reward: 1 }, { decisionId: ID(2), reward: 2 }] }, ctx())) as any;
    expect(out.results.map((r: { status: number }) => r.status)).toEqual([503, 400, 503]);
    expect(out.results[0]).toMatchObject({ accepted: false, error: expect.stringMatching(/registry database is unavailable/), expected: expect.stringMatching(/retry/), errorId: expect.stringMatching(/^[0-9a-f]{12}$/) });
    // The database's message is logged under the id, never sent.
    expect(JSON.stringify(out)).not.toMatch(/connection refused/);
    expect(logged).toEqual([expect.stringContaining(`error ${out.results[0].errorId as string}`)]);
    expect(logged[0]).toMatch(/connection refused/);
    expect(out).toMatchObject({ accepted: 0, rejected: 3 });
  });

  it('shares one registry call among the single rewards of one event-loop turn, with per-request outcomes in arrival order', async () => {
    const sink = new MemorySink();
    const handler = createRewardsHandler(sink);
    const ctxs = [ctx(), ctx(), ctx(), ctx()];
    const bodies = [{ decisionId: ID(1), reward: 1 }, { decisionId: ID(2), reward: 0 }, { decisionId: ID(1), reward: 1 }, { decisionId: ID(1), reward: 3 }];
    const settled = await Promise.allSettled(bodies.map((b, i) => handler(b, ctxs[i])));
    expect(sink.calls).toHaveLength(1);
    expect(sink.calls[0]).toHaveLength(4);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect(ctxs.slice(0, 3).map((c) => c.status)).toEqual([201, 201, 200]);
    expect((settled[2] as PromiseFulfilledResult<unknown>).value).toEqual({ decisionId: ID(1), accepted: true, duplicate: true });
    expect((settled[3] as PromiseRejectedResult).reason).toMatchObject({ status: 409, field: 'reward' });
    // The database down: a 503 for the request; a malformed single body is still a 400 before any call.
    sink.fail = new Error('timeout');
    await expect(handler({ decisionId: ID(5), reward: 1 }, ctx())).rejects.toMatchObject({ status: 503 });
    await expect(handler({ decisionId: ID(5) }, ctx())).rejects.toMatchObject({ status: 400, field: 'reward' });
    await expect(handler({ decisionId: ID(5), reward: 1, rewards: [] }, ctx())).rejects.toMatchObject({ status: 400 });
  });
});
