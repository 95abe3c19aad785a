/**
 * The one map from deployment name to what serves it (every kind). The hot path reads it with one
 * `get`; the manager (models/manager.ts) reconciles the registry into it with `update` and `unload`;
 * a kind that swaps its own deployment at run time (a canary ejected) calls `update` too.
 */
import type { ServedDeployment } from './served-deployment';

export class DeploymentMap {
  private readonly byName = new Map<string, ServedDeployment>();

  /** What serves `name`, or undefined. Synchronous: the hot path. */
  get(name: string): ServedDeployment | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  values(): IterableIterator<ServedDeployment> {
    return this.byName.values();
  }

  get size(): number {
    return this.byName.size;
  }

  /** Serves `next` under its name; the deployment it replaces (if another object) is closed. */
  update(next: ServedDeployment): void {
    const prev = this.byName.get(next.name);
    this.byName.set(next.name, next);
    if (prev !== undefined && prev !== next) prev.close();
  }

  /** Stops serving `name` (closing what served it); false when nothing did. */
  unload(name: string): boolean {
    const prev = this.byName.get(name);
    if (prev === undefined) return false;
    this.byName.delete(name);
    prev.close();
    return true;
  }

  /** Unloads every deployment (closing each). */
  clear(): void {
    for (const name of [...this.byName.keys()]) this.unload(name);
  }
}
