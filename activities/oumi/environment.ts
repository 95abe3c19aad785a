/**
 * The Oumi environment an oumi-queue worker needs: `<root>/.venv-oumi` with its Python and the `oumi`
 * CLI (built by `make setup-oumi`). Checked when the worker starts, so a missing environment is one
 * clear refusal naming the fix — not a `spawn … ENOENT` from inside a training workflow later.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export const OUMI_SETUP_COMMAND = 'make setup-oumi';

export function oumiEnvironmentProblem(root: string): string | null {
  const venv = path.join(root, '.venv-oumi');
  for (const tool of ['python', 'oumi']) {
    const file = path.join(venv, 'bin', tool);
    try {
      accessSync(file, constants.X_OK);
    } catch {
      return `the oumi worker needs the Oumi Python environment, but ${file} is missing or not executable; build it with \`${OUMI_SETUP_COMMAND}\` (in ${root}), then start the worker again`;
    }
  }
  return null;
}

export function assertOumiEnvironment(root: string): void {
  const problem = oumiEnvironmentProblem(root);
  if (problem) throw new Error(problem);
}
