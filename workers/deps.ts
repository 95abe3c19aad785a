/**
 * The real collaborators a worker process hands to its activity factories, built once per process
 * from the settings and closed on shutdown.
 */
import { Pool } from 'pg';
import type { Settings } from '../config/settings';
import { createArtifactStore } from '../registry/artifacts';
import type { ArtifactStore } from '../registry/artifacts/store';

export interface WorkerDeps {
  settings: Settings;
  pool: Pool;
  store: ArtifactStore;
  close(): Promise<void>;
}

export function createWorkerDeps(settings: Settings): WorkerDeps {
  const pool = new Pool({ connectionString: settings.databaseUrl, max: 10 });
  const store = createArtifactStore(settings.artifactUri, settings.s3);
  return {
    settings,
    pool,
    store,
    async close() {
      await pool.end();
    },
  };
}
