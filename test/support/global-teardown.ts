/** Integration project's globalTeardown: stops what global-setup.ts started. */
import { rmSync } from 'node:fs';
import { stopTestS3 } from './s3-server';
import { BUNDLE_DIR_ENV } from './workflow-bundle-cache';

export default async function globalTeardown(): Promise<void> {
  await stopTestS3();
  const bundles = process.env[BUNDLE_DIR_ENV];
  if (bundles !== undefined) rmSync(bundles, { recursive: true, force: true });
}
