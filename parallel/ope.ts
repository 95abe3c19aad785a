/**
 * `evaluatePolicy` of `ml/ope` with the bootstrap on several threads: the same report, bit for bit,
 * for any thread count (the resampling is cut into seeded groups; see `parallel/bootstrap.ts`).
 */
import { estimatorColumns, opeReport, type EvaluateOptions, type OpeReport, type OpeInputs } from '../ml/ope';
import { checkBootstrapOptions } from '../ml/stats/bootstrap';
import { checkThreads, defaultThreads, sharedBootstrapOnThreads } from './bootstrap';

export async function evaluatePolicyOnThreads(inputs: OpeInputs, options: EvaluateOptions & { threads?: number } = {}): Promise<OpeReport> {
  const boot = checkBootstrapOptions(options);
  const threads = checkThreads(options.threads ?? defaultThreads());
  const cols = estimatorColumns(inputs, options);
  return opeReport(cols, await sharedBootstrapOnThreads(cols.columns, { ...boot, threads }, cols.names));
}
