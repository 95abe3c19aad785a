/**
 * Small SVG charts for the optimiser reports: one x/y panel with line series, point series, shaded
 * bands and horizontal reference lines, and a grid of such panels. Hand-written like the other
 * reports (activities/ope/report.ts): a static file a browser or the artifact store's viewer opens,
 * with no plotting library at run time.
 */

export interface Series {
  label: string;
  x: number[];
  y: number[];
  color: string;
  /** 'line' (default), 'step' (a staircase, e.g. best so far) or 'points'. */
  kind?: 'line' | 'step' | 'points';
  dashed?: boolean;
}

export interface Band {
  x: number[];
  lower: number[];
  upper: number[];
  color: string;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  bands?: Band[];
  /** Horizontal reference lines (e.g. the baseline's value). */
  hlines?: { y: number; label: string; color: string }[];
  /** Category names at x = 0, 1, … instead of numeric x ticks. */
  categories?: string[];
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" tick step (1, 2 or 5 × 10^k) giving about `count` ticks over `span`. */
function tickStep(span: number, count: number): number {
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
}

export function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-3 ? x.toExponential(2) : Number(x.toPrecision(4)).toString();
}

function range(values: number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!Number.isFinite(lo)) return [0, 1];
  if (!(hi > lo)) return [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.06;
  return [lo - pad, hi + pad];
}

/** One panel drawn at (ox, oy) of size w × h, as SVG elements. */
function panelSvg(p: Panel, ox: number, oy: number, w: number, h: number): string[] {
  const left = ox + 64, right = ox + w - 16, top = oy + 30, bottom = oy + h - 42;
  const xs = [...p.series.flatMap((s) => s.x), ...(p.bands ?? []).flatMap((b) => b.x)];
  const ys = [...p.series.flatMap((s) => s.y), ...(p.bands ?? []).flatMap((b) => [...b.lower, ...b.upper]), ...(p.hlines ?? []).map((l) => l.y)];
  let [x0, x1] = p.categories ? [-0.5, p.categories.length - 0.5] : range(xs);
  if (!p.categories && xs.length > 0) { x0 = Math.min(...xs); x1 = Math.max(...xs); if (!(x1 > x0)) { x0 -= 0.5; x1 += 0.5; } }
  const [y0, y1] = range(ys);
  const X = (v: number) => (left + ((v - x0) / (x1 - x0)) * (right - left)).toFixed(1);
  const Y = (v: number) => (bottom - ((v - y0) / (y1 - y0)) * (bottom - top)).toFixed(1);
  const out: string[] = [];
  out.push(`<text x="${left}" y="${oy + 18}" font-weight="bold">${esc(p.title)}</text>`);
  const ys1 = tickStep(y1 - y0, 5);
  for (let t = Math.ceil(y0 / ys1) * ys1; t <= y1 + 1e-12; t += ys1) {
    out.push(`<line x1="${left}" y1="${Y(t)}" x2="${right}" y2="${Y(t)}" stroke="#eeeeee"/>`);
    out.push(`<text x="${left - 6}" y="${Number(Y(t)) + 4}" text-anchor="end" fill="#444">${esc(fmt(Math.abs(t) < ys1 * 1e-9 ? 0 : t))}</text>`);
  }
  if (p.categories) {
    p.categories.forEach((c, i) => out.push(`<text x="${X(i)}" y="${bottom + 16}" text-anchor="middle" fill="#444">${esc(c)}</text>`));
  } else {
    const xs1 = tickStep(x1 - x0, 5);
    for (let t = Math.ceil(x0 / xs1) * xs1; t <= x1 + 1e-12; t += xs1) out.push(`<text x="${X(t)}" y="${bottom + 16}" text-anchor="middle" fill="#444">${esc(fmt(Math.abs(t) < xs1 * 1e-9 ? 0 : t))}</text>`);
  }
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#888"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#888"/>`);
  out.push(`<text x="${(left + right) / 2}" y="${bottom + 34}" text-anchor="middle" fill="#444">${esc(p.xLabel)}</text>`);
  out.push(`<text transform="translate(${ox + 14} ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#444">${esc(p.yLabel)}</text>`);
  for (const b of p.bands ?? []) {
    const pts = [...b.x.map((x, i) => `${X(x)},${Y(b.upper[i])}`), ...b.x.map((x, i) => `${X(x)},${Y(b.lower[i])}`).reverse()];
    out.push(`<polygon points="${pts.join(' ')}" fill="${b.color}" fill-opacity="0.18" stroke="none"/>`);
  }
  for (const l of p.hlines ?? []) {
    out.push(`<line x1="${left}" y1="${Y(l.y)}" x2="${right}" y2="${Y(l.y)}" stroke="${l.color}" stroke-dasharray="5 4"/>`);
    out.push(`<text x="${right - 4}" y="${Number(Y(l.y)) - 4}" text-anchor="end" fill="${l.color}">${esc(l.label)}</text>`);
  }
  let legendY = top + 4;
  for (const s of p.series) {
    const dash = s.dashed ? ' stroke-dasharray="4 3"' : '';
    if (s.kind === 'points') {
      for (let i = 0; i < s.x.length; i++) out.push(`<circle cx="${X(s.x[i])}" cy="${Y(s.y[i])}" r="3" fill="${s.color}" fill-opacity="0.7"><title>${esc(`${s.label}: ${fmt(s.x[i])}, ${fmt(s.y[i])}`)}</title></circle>`);
    } else if (s.x.length > 0) {
      const pts: string[] = [];
      for (let i = 0; i < s.x.length; i++) {
        if (s.kind === 'step' && i > 0) pts.push(`${X(s.x[i])},${Y(s.y[i - 1])}`);
        pts.push(`${X(s.x[i])},${Y(s.y[i])}`);
      }
      out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    }
    out.push(`<rect x="${right - 150}" y="${legendY - 8}" width="10" height="10" fill="${s.color}"/><text x="${right - 136}" y="${legendY + 1}" fill="#333">${esc(s.label)}</text>`);
    legendY += 15;
  }
  return out;
}

/** Panels on a grid of `columns` columns, under one title. */
export function chartSvg(title: string, panels: Panel[], columns = 1, panelWidth = 760, panelHeight = 320): string {
  const rows = Math.max(1, Math.ceil(panels.length / columns));
  const width = panelWidth * Math.min(columns, Math.max(1, panels.length));
  const height = 40 + rows * panelHeight;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((p, i) => out.push(...panelSvg(p, (i % columns) * panelWidth, 40 + Math.floor(i / columns) * panelHeight, panelWidth, panelHeight)));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
