/**
 * `autopilot serve --db-role autopilot_inference`: every connection of the server (pool, LISTEN) runs
 * as that role (migration 011), through the libpq startup option `-c role=…` — the equivalent of SET ROLE
 * at connect, refused at connect when the login may not use the role, so no query ever runs with more.
 */
export const DB_ROLE = /^[a-z_][a-z0-9_]{0,62}$/;

/** `databaseUrl` whose connections take `role`; throws naming the value when it is not a plain role name. */
export function withDbRole(databaseUrl: string, role: string): string {
  if (!DB_ROLE.test(role)) throw new Error(`--db-role ${JSON.stringify(role)}: expected a PostgreSQL role name such as autopilot_inference (lower-case letters, digits, _)`);
  const u = new URL(databaseUrl);
  const options = u.searchParams.get('options');
  u.searchParams.set('options', `${options === null ? '' : `${options} `}-c role=${role}`);
  return u.toString();
}
