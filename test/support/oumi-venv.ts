/**
 * The suites that run the real Oumi CLI need the project-local `.venv-oumi` (`make setup-oumi`, which
 * `make test` runs first). A developer without it gets the suite skipped with a line saying how to build it;
 * in CI (`CI` set) a missing environment is an error, so a broken set-up can never pass as a skip.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

/** `describe` when `.venv-oumi/bin/<tool>` exists; outside CI `describe.skip` with a warning; in CI a throw. */
export function describeWithOumiVenv(testFile: string, tool: 'oumi' | 'python' = 'oumi'): jest.Describe {
  if (existsSync(join(root, '.venv-oumi', 'bin', tool))) return describe;
  const why = `${testFile}: .venv-oumi/bin/${tool} is absent; create it with scripts/oumi-venv.sh (make setup-oumi)`;
  if (process.env.CI) throw new Error(`${why} — in CI a missing tool fails the suite instead of skipping it`);
  console.warn(`SKIPPED ${why}`);
  return describe.skip;
}
