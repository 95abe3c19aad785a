import type { Deployment, DeploymentKind } from '../../registry/types';
import { PARSE_BODY } from '../http/server';
import { DeploymentMap } from '../serving/deployment-map';
import type { ServedKinds } from '../serving/kinds';
import type { ServedDeployment, ServedKind } from '../serving/served-deployment';
import { DeploymentManager } from './manager';

const row = (name: string, kind: string, generation: number): Deployment => ({
  deployment: name, model: name, kind: kind as DeploymentKind, championVersion: 1, canaryVersion: null, canaryWeight: 0, generation,
  exploration: { mode: 'greedy' }, fallback: null, config: {}, updatedAt: new Date(0),
});

/** A kind that serves every row as a small record, keeping the current one for the same generation. */
class FakeKind implements ServedKind {
  readonly closed: string[] = [];
  loads = 0;
  constructor(readonly kind: DeploymentKind) {}
  async load(d: Deployment, current: ServedDeployment | undefined): Promise<ServedDeployment | null> {
    if (current !== undefined && current.generation === d.generation) return current;
    this.loads++;
    const closed = this.closed;
    return {
      kind: this.kind, name: d.deployment, model: d.model, generation: d.generation, metricsLabels: { deployment: d.deployment, kind: this.kind },
      decide: () => `${this.kind} decides`, decideScanned: () => PARSE_BODY, close: () => closed.push(`${d.deployment}@${d.generation}`),
    };
  }
  async close(): Promise<void> {}
}

function setup(rows: Deployment[], kinds: Partial<Record<DeploymentKind, FakeKind | null>>) {
  const map = new DeploymentMap();
  const logs: string[] = [];
  const registry = { listDeployments: async () => rows, findDeployment: async (n: string) => rows.find((r) => r.deployment === n) ?? null };
  const table = { policy: null, bandit: null, 'text-policy': null, ...kinds } as unknown as ServedKinds;
  const manager = new DeploymentManager({ registry, map, kinds: table, log: (_l, m) => logs.push(m) });
  return { map, manager, logs };
}

describe('DeploymentManager: the registry reconciled into the deployment map through the kind table', () => {
  it('serves each row by its kind\'s row of the table, and the map answers by name whatever the kind', async () => {
    const policy = new FakeKind('policy');
    const bandit = new FakeKind('bandit');
    const rows = [row('ranker', 'policy', 1), row('router', 'bandit', 1)];
    const { map, manager } = setup(rows, { policy, bandit });
    await manager.start();
    expect(map.names().sort()).toEqual(['ranker', 'router']);
    expect(map.get('router')!.decide({}, {} as never)).toBe('bandit decides');
    expect(map.get('ranker')!.decide({}, {} as never)).toBe('policy decides');
    // The same generation again: kept, not loaded again.
    await manager.reconcileAll();
    expect([policy.loads, bandit.loads]).toEqual([1, 1]);
  });

  it('swaps a deployment whose kind changed (closing the old one) and unloads one the registry no longer has', async () => {
    const policy = new FakeKind('policy');
    const bandit = new FakeKind('bandit');
    const rows = [row('ranker', 'policy', 1), row('gone', 'policy', 1)];
    const { map, manager } = setup(rows, { policy, bandit });
    await manager.start();
    rows.splice(0, 2, row('ranker', 'bandit', 2));
    await manager.reconcileAll();
    expect(map.get('ranker')!.kind).toBe('bandit');
    expect(map.get('gone')).toBeUndefined();
    expect(policy.closed.sort()).toEqual(['gone@1', 'ranker@1']);
  });

  it('does not serve a row of a kind this server has no entry for, and says why once per generation', async () => {
    const rows = [row('router', 'bandit', 3), row('odd', 'forecaster', 1)];
    const { map, manager, logs } = setup(rows, { bandit: null });
    await manager.start();
    await manager.reconcileAll();
    expect(map.size).toBe(0);
    expect(logs).toEqual([
      'deployment router generation 3 is of kind "bandit", which this server is not set up to serve (bandit, online-model and semantic-cache deployments need Redis); not served',
      'deployment odd generation 1 is of kind "forecaster", which this server does not know (known: policy, bandit, text-policy, online-model, predictor, semantic-cache); not served',
    ]);
  });
});
