/**
 * Integration project's globalSetup: starts the services shared by the whole Jest run. Today that is
 * one SeaweedFS S3 (temp dir, free ports); its endpoint and credentials reach the test files through
 * process.env (AUTOPILOT_TEST_S3_*; see test/support/s3.ts). PostgreSQL and Temporal are per test file
 * (test/support/pg.ts, test/support/temporal.ts).
 */
import { startTestS3 } from './s3-server';

export default async function globalSetup(): Promise<void> {
  await startTestS3();
}
