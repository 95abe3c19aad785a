import { createContext, useContext } from 'react';
import type { WhoAmI } from './types';

export const Session = createContext<WhoAmI | null>(null);

/** Whether the key may change `model` (admin on it or on every deployment); the UI hides buttons otherwise. */
export function useCanChange(model: string): boolean {
  const who = useContext(Session);
  return who !== null && (who.admin.all || who.admin.models.includes(model));
}
