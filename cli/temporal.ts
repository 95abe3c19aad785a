/** A Temporal client for CLI commands, with an error that says where it looked when the server is down. */
import { Client, Connection } from '@temporalio/client';
import type { Settings } from '../config/settings';
import { CliError } from './errors';

export async function connectClient(settings: Settings): Promise<{ client: Client; close: () => Promise<void> }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: settings.temporalAddress, connectTimeout: '5s' });
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${settings.temporalAddress} (AUTOPILOT_TEMPORAL_ADDRESS): ${(err as Error).message}. ` +
        'Start the dev stack with `autopilot dev up`.',
    );
  }
  return { client: new Client({ connection, namespace: settings.temporalNamespace }), close: () => connection.close() };
}

/** The Temporal UI link of a workflow run (dev server UI on :8233 unless AUTOPILOT_TEMPORAL_UI is set). */
export function workflowUiUrl(settings: Settings, workflowId: string, runId?: string): string {
  const ui = process.env.AUTOPILOT_TEMPORAL_UI ?? 'http://127.0.0.1:8233';
  const base = `${ui}/namespaces/${encodeURIComponent(settings.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
