/**
 * A Temporal client for CLI commands, with an error that says where it looked when the server is down.
 * TLS, mTLS and the API key come from the AUTOPILOT_TEMPORAL_TLS_* / _API_KEY variables (config/temporal.ts).
 */
import { Client, Connection } from '@temporalio/client';
import type { Settings } from '../config/settings';
import {
  describeTemporalSecurity,
  loadTemporalSecurity,
  temporalConnectionOptions,
  TemporalSettingsError,
  type TemporalConnectionOptions,
  type TemporalSecurity,
} from '../config/temporal';
import { CliError } from './errors';

export async function connectClient(settings: Settings, env: NodeJS.ProcessEnv = process.env): Promise<{ client: Client; close: () => Promise<void> }> {
  const { security, options } = connectionSettings(settings, env);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...options, connectTimeout: '5s' });
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${settings.temporalAddress} (AUTOPILOT_TEMPORAL_ADDRESS; ${describeTemporalSecurity(security)}): ${(err as Error).message}. ` +
        'Start the dev stack with `autopilot dev up`.',
    );
  }
  return { client: new Client({ connection, namespace: settings.temporalNamespace }), close: () => connection.close() };
}

function connectionSettings(settings: Settings, env: NodeJS.ProcessEnv): { security: TemporalSecurity; options: TemporalConnectionOptions } {
  try {
    const security = loadTemporalSecurity(env);
    return { security, options: temporalConnectionOptions(settings.temporalAddress, security) };
  } catch (err) {
    if (err instanceof TemporalSettingsError) throw new CliError(`Temporal connection settings: ${err.message}`);
    throw err;
  }
}

/** The Temporal UI link of a workflow run (dev server UI on :8233 unless AUTOPILOT_TEMPORAL_UI is set). */
export function workflowUiUrl(settings: Settings, workflowId: string, runId?: string): string {
  const ui = process.env.AUTOPILOT_TEMPORAL_UI ?? 'http://127.0.0.1:8233';
  const base = `${ui}/namespaces/${encodeURIComponent(settings.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
