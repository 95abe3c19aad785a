/**
 * Starts a worker thread on one of this project's modules, whether the process runs the TypeScript
 * sources (through scripts/register-ts.js, as `bin/autopilot` and the tests do) or the compiled
 * `dist/` JavaScript: the worker loads the same hook first when the module is a `.ts` file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const REGISTER_TS = join(__dirname, '..', 'scripts', 'register-ts.js');

/** A worker running `module` (a path without extension, next to its caller's file) with `workerData`. */
export function startWorker(dir: string, module: string, workerData: unknown): Worker {
  const ts = join(dir, `${module}.ts`);
  const js = join(dir, `${module}.js`);
  const file = existsSync(js) ? js : ts;
  if (!existsSync(file)) throw new Error(`worker module: got ${JSON.stringify(join(dir, module))}, expected ${ts} or ${js} to exist`);
  const code = file.endsWith('.ts') ? `require(${JSON.stringify(REGISTER_TS)}); require(${JSON.stringify(file)});` : `require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, workerData });
}

/** Resolves when `worker` exits with code 0; rejects with its error or a non-zero exit code. */
export function workerDone(worker: Worker, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: Error | undefined;
    worker.once('error', (err) => { failed = err; });
    worker.once('exit', (code) => {
      if (failed) reject(failed);
      else if (code !== 0) reject(new Error(`${what}: the worker thread exited with code ${code}`));
      else resolve();
    });
  });
}
