/**
 * Writes the dashboards of ./dashboards.ts as JSON into infra/grafana/dashboards/ (checked in; the
 * Compose stack provisions that folder). `make dashboards`, or:
 *
 *   node -r ./scripts/register-ts.js infra/grafana/build.ts          # write
 *   node -r ./scripts/register-ts.js infra/grafana/build.ts --check  # exit 1 when a file differs
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allDashboards } from './dashboards';

export const DASHBOARD_DIR = join(__dirname, 'dashboards');

/** File name → the JSON text the script writes (2-space indent, trailing newline). */
export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(Object.entries(allDashboards()).map(([file, d]) => [file, `${JSON.stringify(d, null, 2)}\n`]));
}

/** The files that differ from what the script writes, or that it would not write (stale). */
export function differences(dir = DASHBOARD_DIR): string[] {
  const want = renderDashboards();
  const out: string[] = [];
  for (const [file, text] of Object.entries(want)) {
    const path = join(dir, file);
    if (!existsSync(path)) out.push(`${file}: missing`);
    else if (readFileSync(path, 'utf8') !== text) out.push(`${file}: differs from infra/grafana/dashboards.ts (run make dashboards)`);
  }
  for (const file of existsSync(dir) ? readdirSync(dir) : []) if (file.endsWith('.json') && !(file in want)) out.push(`${file}: not built by infra/grafana/dashboards.ts (delete it)`);
  return out;
}

if (require.main === module) {
  if (process.argv.includes('--check')) {
    const diff = differences();
    for (const d of diff) process.stderr.write(`dashboards: ${d}\n`);
    process.exit(diff.length ? 1 : 0);
  }
  for (const [file, text] of Object.entries(renderDashboards())) {
    writeFileSync(join(DASHBOARD_DIR, file), text);
    process.stdout.write(`dashboards: wrote infra/grafana/dashboards/${file}\n`);
  }
}
