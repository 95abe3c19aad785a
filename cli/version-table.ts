/**
 * How `autopilot models show` and `models search` print versions within a terminal's width: one row of
 * short columns per version, then its tags and metrics as `key=value` items wrapped under it (they are
 * free-form and can be long, so they never share a row with the columns).
 */
import type { ModelVersion } from '../registry/index';

/** The width every line of these listings fits in. */
export const COLUMNS = 100;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** `text` cut into pieces of at most `room` characters (at least one piece, possibly empty). */
function cut(text: string, room: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += room) pieces.push(text.slice(i, i + room));
  return pieces.length ? pieces : [''];
}

/**
 * `tokens` joined by `sep` into lines of at most `width` characters: the first line starts with
 * `first`, the others with `indent`; a token longer than a line is cut across lines.
 */
export function wrapTokens(first: string, indent: string, tokens: string[], sep: string, width = COLUMNS): string[] {
  const lines: string[] = [];
  let line = '';
  let prefix = first;
  const push = (): void => {
    lines.push(prefix + line);
    prefix = indent;
    line = '';
  };
  for (const token of tokens) {
    for (const piece of cut(token, Math.max(1, width - Math.max(prefix.length, indent.length)))) {
      if (line !== '' && prefix.length + line.length + sep.length + piece.length > width) push();
      line = line === '' ? piece : line + sep + piece;
    }
  }
  lines.push(prefix + line);
  return lines.map((l) => l.trimEnd());
}

/** Prose wrapped at spaces within `width`, continuation lines indented by `indent`. */
export function wrapText(text: string, indent = '  ', width = COLUMNS): string[] {
  return wrapTokens('', indent, text.split(' ').filter((w) => w !== ''), ' ', width);
}

/** `label` followed by the record's `key=value` items, wrapped under the first item. */
export function wrapPairs(label: string, record: Record<string, string | number>, width = COLUMNS): string[] {
  const items = Object.entries(record).map(([k, v]) => `${k}=${v}`);
  return wrapTokens(label, ' '.repeat(label.length), items, '  ', width);
}

/** Pads each column to its widest cell, two spaces apart. */
export function alignColumns(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
}

/**
 * The versions as a table of their short fields, each row followed by its tags and metrics. With
 * `withModel` (a search across models) a `model NAME` line starts each run of rows of one model, so a
 * long model name never widens the table.
 */
export function versionTable(versions: ModelVersion[], withModel = false, width = COLUMNS): string {
  const head = ['VERSION', 'STATUS', 'FORMAT', 'SIZE', 'SHA256', 'CREATED'];
  const rows = versions.map((v) => [
    String(v.version),
    v.status,
    v.format,
    formatBytes(v.size),
    v.sha256.slice(0, 12),
    v.createdAt.toISOString().replace(/\.\d+Z$/, 'Z'),
  ]);
  const [header, ...lines] = alignColumns([head, ...rows]);
  const out = [header];
  versions.forEach((v, i) => {
    if (withModel && v.model !== versions[i - 1]?.model) out.push(...wrapTokens('model ', '  ', [v.model], '', width));
    out.push(lines[i]);
    if (Object.keys(v.tags).length) out.push(...wrapPairs('    tags     ', v.tags, width));
    if (Object.keys(v.metrics).length) out.push(...wrapPairs('    metrics  ', v.metrics, width));
  });
  return out.join('\n');
}
