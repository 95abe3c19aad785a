/**
 * One webpack bundle of the workflow code per Jest run, not one per test file or Worker: bundling
 * (`bundleWorkflowCode`, or `Worker.create({ workflowsPath })`) costs ~2.6 s of CPU, and the integration
 * tests do it dozens of times over the same few workflow paths. global-setup.ts makes a directory for the
 * run (AUTOPILOT_TEST_BUNDLE_DIR); the first bundle of a workflowsPath is made by the SDK's bundler as
 * before and written there; later ones, in any test file of the run, read that code. The sources do not
 * change during a run, so the code is the same. Bundles with their own interceptor modules, converters,
 * bundler options or plugins are made by the SDK every time, as before.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';

export const BUNDLE_DIR_ENV = 'AUTOPILOT_TEST_BUNDLE_DIR';

/** What Worker.getOrCreateBundle (SDK 1.x, internal) reads of the compiled worker options. */
interface CompiledBundleOptions {
  workflowsPath?: string;
  workflowBundle?: unknown;
  bundlerOptions?: unknown;
  plugins?: unknown[];
  dataConverter?: { payloadConverterPath?: string; failureConverterPath?: string };
  interceptors?: { workflowModules?: string[] };
}
type GetOrCreateBundle = (options: CompiledBundleOptions, logger: unknown) => Promise<unknown>;

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const BUNDLE_SETTINGS = ['workflowInterceptorModules', 'payloadConverterPath', 'failureConverterPath', 'ignoreModules', 'preloadModules', 'webpackConfigHook', 'plugins'];
type BundleOptions = Parameters<typeof bundleWorkflowCode>[0];

/** Bundles of this run are taken from `dir`; a no-op where global-setup.ts did not set the directory. */
export function shareWorkflowBundles(dir: string | undefined = process.env[BUNDLE_DIR_ENV]): void {
  if (dir === undefined) return;
  const sdk = require('@temporalio/worker') as { bundleWorkflowCode: typeof bundleWorkflowCode }; // eslint-disable-line @typescript-eslint/no-require-imports -- its export is redefined below
  const bundle = sdk.bundleWorkflowCode;

  /** The run's bundle of workflowsPath: made by the SDK's bundler once, then read from `dir`. */
  async function shared(workflowsPath: string): Promise<{ code: string; sourceMap: string; codePath: string }> {
    const base = join(dir!, createHash('sha256').update(workflowsPath).digest('hex').slice(0, 16));
    if (!existsSync(`${base}.js`)) {
      const { code, sourceMap } = await bundle({ workflowsPath, logger: quiet as never });
      for (const [ext, text] of [['.map', sourceMap], ['.js', code]]) {
        writeFileSync(`${base}${ext}.${process.pid}.tmp`, text);
        renameSync(`${base}${ext}.${process.pid}.tmp`, `${base}${ext}`); // .js last: it marks the pair complete
      }
    }
    return { code: readFileSync(`${base}.js`, 'utf8'), sourceMap: readFileSync(`${base}.map`, 'utf8'), codePath: `${base}.js` };
  }

  // bundleWorkflowCode({ workflowsPath[, logger] }) in the test files. Its export is a configurable getter.
  Object.defineProperty(sdk, 'bundleWorkflowCode', {
    configurable: true,
    enumerable: true,
    get: () => async (options: BundleOptions) => {
      if (BUNDLE_SETTINGS.some((k) => (options as unknown as Record<string, unknown>)[k] !== undefined)) return bundle(options);
      const { code, sourceMap } = await shared(options.workflowsPath);
      return { code, sourceMap };
    },
  });

  // Worker.create({ workflowsPath }) (workers/worker.ts, the fixtures, the tests).
  const target = Worker as unknown as { getOrCreateBundle?: GetOrCreateBundle };
  const original = target.getOrCreateBundle;
  if (typeof original !== 'function') {
    throw new Error(`${BUNDLE_DIR_ENV}: @temporalio/worker has no Worker.getOrCreateBundle any more; update test/support/workflow-bundle-cache.ts for this SDK version`);
  }
  target.getOrCreateBundle = async function sharedBundle(this: unknown, options: CompiledBundleOptions, logger: unknown) {
    const plain =
      options.workflowsPath !== undefined && options.workflowBundle === undefined && options.bundlerOptions === undefined &&
      (options.plugins ?? []).length === 0 && options.dataConverter?.payloadConverterPath === undefined &&
      options.dataConverter?.failureConverterPath === undefined && (options.interceptors?.workflowModules ?? []).length === 0;
    if (!plain) return original.call(this, options, logger);
    const { codePath } = await shared(options.workflowsPath!);
    return original.call(this, { ...options, workflowsPath: undefined, workflowBundle: { codePath } }, logger);
  };
}
