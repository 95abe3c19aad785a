/** Integration project's globalTeardown: stops what global-setup.ts started. */
import { stopTestS3 } from './s3-server';

export default async function globalTeardown(): Promise<void> {
  await stopTestS3();
}
