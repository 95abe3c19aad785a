/**
 * uPlot charts of the console: one component for lines and points over a numeric x axis. Each chart is
 * an `img` with a label (its data is in a table beside it for screen readers) and uPlot's legend, which
 * shows every series' value under the cursor.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** `line` (default), `points` (a scatter: no line), or `both`. */
  kind?: 'line' | 'points' | 'both';
  dash?: number[];
  /** The right-hand axis (a second unit, e.g. counts beside a reward). */
  right?: boolean;
}

export function Chart({ label, xLabel, yLabel, rightLabel, xs, series, height = 300 }: { label: string; xLabel: string; yLabel: string; rightLabel?: string; xs: number[]; series: ChartSeries[]; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (el.current === null) return;
    const right = series.some((s) => s.right === true);
    const plot = new uPlot(
      {
        width: Math.min(900, el.current.clientWidth || 900),
        height,
        scales: { x: { time: false }, ...(right ? { r: {} } : {}) },
        axes: [{ label: xLabel }, { label: yLabel }, ...(right ? [{ label: rightLabel ?? '', side: 1, scale: 'r', grid: { show: false } }] : [])],
        series: [
          { label: xLabel },
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: s.kind === 'points' ? 0 : 2,
            dash: s.dash,
            spanGaps: true,
            scale: s.right ? 'r' : 'y',
            ...(s.kind === 'points' ? { paths: () => null } : {}),
            points: s.kind === 'points' || s.kind === 'both' ? { show: true, size: 8, fill: s.color, stroke: s.color } : { show: false },
          })),
        ],
      },
      [xs, ...series.map((s) => s.values)],
      el.current,
    );
    return () => plot.destroy();
  }, [label, xLabel, yLabel, rightLabel, xs, series, height]);
  return <div ref={el} role="img" aria-label={label} className="chart" />;
}

/** Trailing moving average over `window` points (fewer at the start); nulls are skipped. */
export function movingAverage(values: (number | null)[], window: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let i = 0; i < values.length; i++) {
    let sum = 0;
    let n = 0;
    for (let j = Math.max(0, i - window + 1); j <= i; j++) {
      const v = values[j];
      if (v !== null && Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    out.push(n === 0 ? null : sum / n);
  }
  return out;
}
