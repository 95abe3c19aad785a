/**
 * Integration project's globalSetup: starts the services shared by the whole Jest run. Today that is
 * one SeaweedFS S3 (temp dir, free ports); its endpoint and credentials reach the test files through
 * process.env (AUTOPILOT_TEST_S3_*; see test/support/s3.ts). PostgreSQL and Temporal are per test file
 * (test/support/pg.ts, test/support/temporal.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestS3 } from './s3-server';
import { BUNDLE_DIR_ENV } from './workflow-bundle-cache';

export default async function globalSetup(): Promise<void> {
  await startTestS3();
  // The run's workflow bundles (test/support/workflow-bundle-cache.ts).
  process.env[BUNDLE_DIR_ENV] = mkdtempSync(join(tmpdir(), 'autopilot-bundles-'));
}
