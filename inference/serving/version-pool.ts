/**
 * The loaded versions of one served kind, and the rule that retires them. A version stays loaded while a
 * deployment of the kind serves with it — one in the deployment map, or one a load has built that the
 * manager has not swapped in yet (`built`) — and is retired (its session released once its in-flight
 * requests finish) as soon as none does. The policy and text-policy kinds keep their versions here.
 */
import type { DeploymentMap } from './deployment-map';
import type { ServedDeployment } from './served-deployment';

export interface Retirable {
  retire(): void;
}

export interface VersionPoolOptions<M, D extends ServedDeployment> {
  map: DeploymentMap;
  /** Whether a served deployment is this kind's (the map holds every kind's). */
  owns(s: ServedDeployment): s is D;
  /** The versions a deployment of this kind serves with (nulls are slots it leaves empty). */
  uses(d: D): readonly (M | null)[];
  /** Called after a version was retired (e.g. to forget its metric series). */
  onRetired?(m: M): void;
  /** Called with the number of loaded versions whenever it may have changed. */
  onCount?(n: number): void;
}

export class VersionPool<M extends Retirable, D extends ServedDeployment> {
  private readonly loaded = new Map<string, M>();
  /** Deployments a load built that are not in the map yet: their versions are in use. */
  private readonly fresh = new Set<D>();

  constructor(private readonly opts: VersionPoolOptions<M, D>) {}

  /** The loaded version under `key` (e.g. `model@version#sha256`), if any. */
  get(key: string): M | undefined {
    return this.loaded.get(key);
  }

  add(key: string, m: M): void {
    this.loaded.set(key, m);
    this.opts.onCount?.(this.loaded.size);
  }

  /** A deployment a load built: its versions count as in use until the manager swaps it in or it is released. */
  built(d: D): void {
    this.fresh.add(d);
  }

  /** A deployment left the map (replaced, removed, turned into another kind) or was never swapped in. */
  released(d: D): void {
    this.fresh.delete(d);
    this.retireUnused();
  }

  /** Retires every loaded version no deployment of the kind serves with. */
  retireUnused(): void {
    const used = new Set<M>();
    const use = (d: D) => {
      for (const m of this.opts.uses(d)) if (m !== null) used.add(m);
    };
    for (const s of this.opts.map.values()) if (this.opts.owns(s)) use(s);
    for (const d of this.fresh) {
      if (this.opts.map.get(d.name) === d) this.fresh.delete(d); // in the map now: counted above
      else use(d);
    }
    for (const [key, m] of this.loaded) {
      if (!used.has(m)) {
        this.loaded.delete(key);
        m.retire();
        this.opts.onRetired?.(m);
      }
    }
    this.opts.onCount?.(this.loaded.size);
  }
}
