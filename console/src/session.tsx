import { createContext, useContext } from 'react';
import type { WhoAmI } from './types';

export interface SessionInfo extends WhoAmI {
  /** The Temporal UI of the namespace (GET /healthz), null: no workflow links. */
  temporalUi: string | null;
}

export const Session = createContext<SessionInfo | null>(null);

/** A link into the Temporal UI for a workflow (its run when known), or null when the API names no UI. */
export function useTemporalLink(workflowId: string | null, runId?: string | null): string | null {
  const ui = useContext(Session)?.temporalUi ?? null;
  if (ui === null || workflowId === null) return null;
  if (runId) return `${ui}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
  return `${ui}/workflows?query=${encodeURIComponent(`WorkflowId="${workflowId}"`)}`;
}

/** Whether the key may change `model` (admin on it or on every deployment); the UI hides buttons otherwise. */
export function useCanChange(model: string): boolean {
  const who = useContext(Session);
  return who !== null && (who.admin.all || who.admin.models.includes(model));
}
