import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertOumiEnvironment, oumiEnvironmentProblem } from './environment';

describe('the oumi worker checks its environment', () => {
  let root: string;
  beforeEach(async () => { root = await mkdtemp(path.join(tmpdir(), 'oumi-env-')); });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('refuses without .venv-oumi, naming the missing file and the command that builds it', () => {
    expect(() => assertOumiEnvironment(root)).toThrow(`${path.join(root, '.venv-oumi', 'bin', 'python')} is missing or not executable; build it with \`make setup-oumi\``);
  });

  it('refuses when the oumi CLI is absent or not executable, accepts a complete environment', async () => {
    const bin = path.join(root, '.venv-oumi', 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'python'), '#!/bin/sh\n', { mode: 0o755 });
    expect(oumiEnvironmentProblem(root)).toContain(path.join(bin, 'oumi'));
    await writeFile(path.join(bin, 'oumi'), '#!/bin/sh\n', { mode: 0o644 });
    expect(oumiEnvironmentProblem(root)).toContain(`${path.join(bin, 'oumi')} is missing or not executable`);
    await chmod(path.join(bin, 'oumi'), 0o755);
    expect(oumiEnvironmentProblem(root)).toBeNull();
  });
});
