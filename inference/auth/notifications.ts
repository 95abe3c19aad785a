/**
 * The `api_keys` trigger of migration 010 announces key changes on the registry channel as
 * `{ entity: 'api_key', action: 'api_key.insert' | 'api_key.update' | 'api_key.delete', keyId }`; the
 * registry's RegistryNotification type does not list them (they are not written by registry code), so
 * the server's listener recognizes them here.
 */
import type { RegistryNotification } from '../../registry/types';

export function isKeyNotification(n: RegistryNotification): boolean {
  return (n as { entity: string }).entity === 'api_key';
}
