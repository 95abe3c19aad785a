/**
 * Activities of the stack check: touch every real component a workflow relies on and report what
 * answered. A failure names the component and the address that failed.
 */
import type { Pool } from 'pg';
import type { ProbeResult, StackActivities } from '../contracts/stack-check';
import type { ArtifactStore } from '../registry/artifacts/store';

export interface StackDeps {
  pool: Pool;
  store: ArtifactStore;
}

export function createStackActivities(deps: StackDeps): StackActivities {
  return {
    async probeServices(input: { token: string }): Promise<ProbeResult> {
      const db = await deps.pool
        .query<{ db: string; has_models: boolean }>("select current_database() as db, to_regclass('public.models') is not null as has_models")
        .catch((err: Error) => {
          throw new Error(`registry database unreachable: ${err.message}`);
        });
      const row = db.rows[0];
      let models: number | null = null;
      if (row.has_models) {
        const c = await deps.pool.query<{ n: string }>('select count(*)::text as n from models');
        models = Number(c.rows[0].n);
      }
      const key = `stack-check/${input.token.replace(/[^A-Za-z0-9._-]/g, '_')}.txt`;
      const body = `stack check ${input.token}`;
      const put = await deps.store.put(key, body).catch((err: Error) => {
        throw new Error(`artifact store (${deps.store.scheme}) write failed: ${err.message}`);
      });
      const back = (await deps.store.getBuffer(key, { expectedSha256: put.sha256 })).toString('utf8');
      await deps.store.delete(key);
      if (back !== body) throw new Error(`artifact store round trip of ${put.uri} returned different bytes`);
      return {
        registry: { database: row.db, models, migrated: row.has_models },
        artifacts: { uri: put.uri, sha256: put.sha256, roundTrip: true },
      };
    },
  };
}
