/**
 * Suites that need a tool the project installs (`make test` installs every one of them first): a developer
 * without it gets the suite skipped with one line saying how to get it; in CI (`CI` set) a missing tool is
 * an error, so a broken set-up can never pass as a skip.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

/** `describe` when `present`; outside CI `describe.skip` with a warning; in CI a throw naming the fix. */
export function describeWithTool(testFile: string, present: boolean, missing: string): jest.Describe {
  if (present) return describe;
  const why = `${testFile}: ${missing}`;
  if (process.env.CI) throw new Error(`${why} — in CI a missing tool fails the suite instead of skipping it`);
  console.warn(`SKIPPED ${why}`);
  return describe.skip;
}

/** The suites that run the real Oumi CLI: they need the project-local `.venv-oumi` (`make setup-oumi`). */
export function describeWithOumiVenv(testFile: string, tool: 'oumi' | 'python' = 'oumi'): jest.Describe {
  return describeWithTool(
    testFile,
    existsSync(join(root, '.venv-oumi', 'bin', tool)),
    `.venv-oumi/bin/${tool} is absent; create it with scripts/oumi-venv.sh (make setup-oumi)`,
  );
}
