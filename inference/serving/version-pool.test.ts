import { PARSE_BODY } from '../http/server';
import { DeploymentMap } from './deployment-map';
import type { ServedDeployment } from './served-deployment';
import { VersionPool } from './version-pool';

class Version {
  retired = false;
  constructor(readonly key: string) {}
  retire(): void {
    this.retired = true;
  }
}

/** A deployment of the kind under test: serves with a champion and an optional canary; closing releases it. */
class Fake implements ServedDeployment {
  readonly kind = 'policy' as const;
  readonly model: string;
  readonly metricsLabels: { deployment: string; kind: 'policy' };
  constructor(
    readonly name: string,
    readonly generation: number,
    readonly champion: Version | null,
    readonly canary: Version | null,
    private readonly pool: () => VersionPool<Version, Fake>,
  ) {
    this.model = name;
    this.metricsLabels = { deployment: name, kind: 'policy' };
  }
  decide(): never {
    throw new Error('not called');
  }
  decideScanned(): typeof PARSE_BODY {
    return PARSE_BODY;
  }
  close(): void {
    this.pool().released(this);
  }
}

function setup() {
  const map = new DeploymentMap();
  const retired: string[] = [];
  const counts: number[] = [];
  const pool: VersionPool<Version, Fake> = new VersionPool<Version, Fake>({
    map,
    owns: (s): s is Fake => s instanceof Fake,
    uses: (d) => [d.champion, d.canary],
    onRetired: (m) => retired.push(m.key),
    onCount: (n) => counts.push(n),
  });
  const load = (key: string) => {
    const v = pool.get(key) ?? new Version(key);
    if (pool.get(key) === undefined) pool.add(key, v);
    return v;
  };
  const build = (name: string, generation: number, champion: string | null, canary: string | null = null) => {
    const d = new Fake(name, generation, champion === null ? null : load(champion), canary === null ? null : load(canary), () => pool);
    pool.built(d);
    return d;
  };
  return { map, pool, retired, counts, build };
}

describe('VersionPool: a version stays loaded while a deployment of the kind serves with it', () => {
  it('keeps the versions of a deployment built but not swapped in yet, and retires them when it is dropped', () => {
    const { pool, retired, build } = setup();
    const d = build('ranker', 1, 'ranker@1', 'ranker@2');
    pool.retireUnused(); // e.g. another deployment's swap runs the rule meanwhile
    expect(retired).toEqual([]);
    pool.released(d); // never swapped in (the server closed, or a newer load won)
    expect(retired.sort()).toEqual(['ranker@1', 'ranker@2']);
    expect(pool.get('ranker@1')).toBeUndefined();
  });

  it('retires a canary when the next generation drops it, and keeps the champion both serve with', () => {
    const { map, retired, counts, build, pool } = setup();
    map.update(build('ranker', 1, 'ranker@1', 'ranker@2'));
    map.update(build('ranker', 2, 'ranker@1')); // closes generation 1 → released → retirement rule
    expect(retired).toEqual(['ranker@2']);
    expect(pool.get('ranker@1')?.retired).toBe(false);
    expect(counts.at(-1)).toBe(1);
  });

  it('counts only its own kind in the map, and shares a version between deployments until the last one goes', () => {
    const { map, retired, build } = setup();
    map.update(build('a', 1, 'shared@1'));
    map.update(build('b', 1, 'shared@1'));
    const other: ServedDeployment = { ...build('c', 1, null), kind: 'bandit', close: () => undefined } as unknown as ServedDeployment;
    map.update(other);
    map.unload('a');
    expect(retired).toEqual([]);
    map.unload('b');
    expect(retired).toEqual(['shared@1']);
  });
});
