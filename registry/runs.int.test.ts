/** Runs, run metrics and evaluations against a real PostgreSQL (moved from the decisions test when the decision log left the registry). */
import { ACTOR, createRegistryFixture, type RegistryFixture } from './test-helpers';
import { NotFoundError } from './index';

let fx: RegistryFixture;
beforeAll(async () => {
  fx = await createRegistryFixture();
});
afterAll(async () => {
  await fx.close();
});

describe('runs and run metrics', () => {
  it('refuses a run kind outside RunKind, naming the field and the kinds it takes', async () => {
    await expect(fx.registry.recordRun({ kind: 'sft' as never })).rejects.toThrow(/kind.*"sft".*one of ppo, policy, bandit-snapshot, drift-monitor/);
  });
  it('records a run idempotently, appends per-step metrics (a retried step overwrites), finishes it', async () => {
    const run = await fx.registry.recordRun({ id: 'ppo/wf-1', kind: 'ppo', model: 'rag', workflowId: 'wf-1', config: { lr: 3e-4 } });
    expect(run).toMatchObject({ id: 'ppo/wf-1', status: 'running', config: { lr: 3e-4 }, finishedAt: null });
    expect(await fx.registry.recordRun({ id: 'ppo/wf-1', kind: 'ppo', config: { lr: 1 } })).toEqual(run);
    for (let step = 0; step < 5; step++) {
      await fx.registry.appendRunMetrics(run.id, step, { 'charts/episodic_return': step * 2, 'losses/approx_kl': 0.01 * step });
    }
    await fx.registry.appendRunMetrics(run.id, 4, { 'charts/episodic_return': 99 });
    const returns = await fx.registry.readRunMetrics(run.id, ['charts/episodic_return']);
    expect(returns.map((m) => [m.step, m.value])).toEqual([[0, 0], [1, 2], [2, 4], [3, 6], [4, 99]]);
    expect(await fx.registry.readRunMetrics(run.id)).toHaveLength(10);
    await expect(fx.registry.appendRunMetrics(run.id, 5, { 'losses/value': Number.NaN })).rejects.toThrow(
      'metrics.losses/value (step 5): got NaN; expected a finite number',
    );
    await expect(fx.registry.appendRunMetrics('nope', 0, { x: 1 })).rejects.toBeInstanceOf(NotFoundError);
    const done = await fx.registry.finishRun(run.id, { status: 'succeeded', summary: { version: 3 } });
    expect(done).toMatchObject({ status: 'succeeded', summary: { version: 3 } });
    expect(done.finishedAt).toBeInstanceOf(Date);
    await expect(fx.registry.finishRun('nope', { status: 'failed' })).rejects.toThrow('run nope not found');
  });

  it('records evaluations of a version with an audit row', async () => {
    await fx.registry.createModel({ name: 'evaluated', actor: ACTOR });
    await fx.registry.registerVersion({ model: 'evaluated', artifact: { buffer: Buffer.from('x') }, format: 'onnx', actor: ACTOR });
    const e = await fx.registry.recordEvaluation({ model: 'evaluated', version: 1, kind: 'ope', verdict: 'pass', summary: { snipw: 0.71 }, reportUri: 'file:///r.json', actor: ACTOR });
    expect(await fx.registry.listEvaluations('evaluated', 1)).toEqual([e]);
    expect((await fx.registry.listAudit({ model: 'evaluated', action: 'evaluation.record' })).length).toBe(1);
    await expect(fx.registry.recordEvaluation({ model: 'evaluated', version: 2, kind: 'ope', verdict: 'pass', actor: ACTOR })).rejects.toThrow(
      'version evaluated/2 not found',
    );
  });
});
