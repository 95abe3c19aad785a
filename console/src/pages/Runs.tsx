import { useMemo, useState } from 'react';
import { api, enc } from '../api';
import { Chart, movingAverage, type ChartSeries } from '../charts';
import { useLoad } from '../hooks';
import { useTemporalLink } from '../session';
import type { ParetoAnswer, Run, RunMetrics } from '../types';
import { json, Loading, num, Section, time } from '../ui';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];

/** Quality vs cost across runs (seed 002 §17): every run's registered version, the Pareto frontier over it. */
function ParetoSection({ model }: { model: string | null }) {
  const pareto = useLoad(() => api<ParetoAnswer>('GET', `/v1/pareto?limit=1000${model ? `&model=${enc(model)}` : ''}`), model ?? '', 5000);
  const plot = useMemo(() => {
    const points = [...(pareto.data?.points ?? [])].sort((a, b) => a.costUsd - b.costUsd || a.quality - b.quality);
    const series: ChartSeries[] = [
      { label: 'runs', values: points.map((p) => (p.pareto ? null : p.quality)), color: '#9ca3af', kind: 'points' },
      { label: 'Pareto frontier', values: points.map((p) => (p.pareto ? p.quality : null)), color: '#2563eb', kind: 'both' },
    ];
    return { points, xs: points.map((p) => p.costUsd), series };
  }, [pareto.data]);
  return (
    <Section title="Quality vs cost">
      {pareto.data === null ? (
        <Loading error={pareto.error} what="quality and cost of the runs" />
      ) : plot.points.length === 0 ? (
        <p>No run registered a version with held-out quality and cost_usd metrics yet.</p>
      ) : (
        <>
          <Chart label="Quality vs cost per request across runs, Pareto frontier" xLabel="cost per request (USD)" yLabel="quality" xs={plot.xs} series={plot.series} />
          <table aria-label="Pareto-optimal runs">
            <caption>
              Pareto-optimal: {plot.points.filter((p) => p.pareto).length} of {plot.points.length} runs (quality ↑, cost ↓)
            </caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Version</th>
                <th scope="col">Quality</th>
                <th scope="col">Cost (USD)</th>
                <th scope="col">Reward</th>
              </tr>
            </thead>
            <tbody>
              {plot.points
                .filter((p) => p.pareto)
                .map((p) => (
                  <tr key={p.runId}>
                    <th scope="row">
                      <a href={`#/runs/${enc(p.runId)}`}>{p.runId}</a>
                    </th>
                    <td>
                      <a href={`#/models/${enc(p.model)}`}>
                        {p.model} v{p.version}
                      </a>
                    </td>
                    <td>{num(p.quality)}</td>
                    <td>{num(p.costUsd)}</td>
                    <td>{num(p.reward)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      )}
    </Section>
  );
}

export function RunsPage({ model }: { model: string | null }) {
  const runs = useLoad(() => api<Run[]>('GET', `/v1/runs?limit=200${model ? `&model=${enc(model)}` : ''}`), model ?? '', 5000);
  return (
    <>
      <h1>Runs{model ? ` of ${model}` : ''}</h1>
      <ParetoSection model={model} />
      {runs.data === null ? (
        <Loading error={runs.error} what="runs" />
      ) : (
        <table aria-label="Runs">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Kind</th>
              <th scope="col">Model</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col">Finished</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((r) => (
              <tr key={r.id}>
                <th scope="row">
                  <a href={`#/runs/${enc(r.id)}`}>{r.id}</a>
                </th>
                <td>{r.kind}</td>
                <td>{r.model ?? '—'}</td>
                <td>{r.status}</td>
                <td>{time(r.startedAt)}</td>
                <td>{time(r.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

type Steps = RunMetrics['steps'];

function column(steps: Steps, name: string): (number | null)[] {
  return steps.map((s) => s.metrics[name] ?? null);
}

/**
 * Seed 002 §17's charts of a run, from its metrics by step:
 *   policy performance  the reward (or episodic return) per step, its moving average, gate breaches (`*gate_violations*`, `*gate_breach*`)
 *   latency             p50 / p95 by step (metrics named `*latency*p50*`, `*p95*latency*`, …)
 *   variant breakdown   `variant/<name>/share` (share of actions) and `variant/<name>/return` (conditional return)
 */
function SeedCharts({ steps, names }: { steps: Steps; names: string[] }) {
  const xs = useMemo(() => steps.map((s) => s.step), [steps]);
  const reward = names.find((n) => n === 'charts/episodic_return') ?? names.find((n) => /return|reward/.test(n) && !n.startsWith('variant/')) ?? null;
  const gates = names.filter((n) => /gate_(violation|breach)/.test(n));
  const latency = names.filter((n) => /latency/.test(n) && /p50|p95|p99/.test(n));
  const variants = [...new Set(names.map((n) => /^variant\/(.+)\/share$/.exec(n)?.[1]).filter((v): v is string => v !== undefined))].sort();
  const perf = useMemo((): ChartSeries[] => {
    if (reward === null) return [];
    const ys = column(steps, reward);
    return [
      { label: reward, values: ys, color: COLORS[0] },
      { label: 'moving average (10)', values: movingAverage(ys, 10), color: COLORS[1], dash: [6, 4] },
      ...gates.map((g, i) => ({ label: g, values: column(steps, g), color: COLORS[2 + i], kind: 'points' as const, right: true })),
    ];
  }, [steps, reward, gates.join()]);
  const lat = useMemo((): ChartSeries[] => latency.map((n, i) => ({ label: n, values: column(steps, n), color: COLORS[i % COLORS.length] })), [steps, latency.join()]);
  const shares = useMemo((): ChartSeries[] => variants.map((v, i) => ({ label: `${v} share`, values: column(steps, `variant/${v}/share`), color: COLORS[i % COLORS.length] })), [steps, variants.join()]);
  const last = steps[steps.length - 1];
  return (
    <>
      <Section title="Policy performance">
        {reward === null ? <p>No reward or return metric recorded.</p> : <Chart label={`${reward} by step, moving average${gates.length ? ', gate breaches' : ''}`} xLabel="step" yLabel={reward} rightLabel="gate breaches" xs={xs} series={perf} />}
      </Section>
      <Section title="Latency by step">
        {lat.length === 0 ? <p>No latency percentiles recorded (metrics named like latency_p50_ms, latency_p95_ms).</p> : <Chart label="latency percentiles by step" xLabel="step" yLabel="ms" xs={xs} series={lat} />}
      </Section>
      <Section title="Variant breakdown">
        {variants.length === 0 || last === undefined ? (
          <p>No variant metrics recorded (variant/&lt;name&gt;/share and variant/&lt;name&gt;/return).</p>
        ) : (
          <>
            <Chart label="share of actions by variant and step" xLabel="step" yLabel="share" xs={xs} series={shares} height={240} />
            <table aria-label="Variant breakdown">
              <caption>At step {last.step}</caption>
              <thead>
                <tr>
                  <th scope="col">Variant</th>
                  <th scope="col">Share of actions</th>
                  <th scope="col">Conditional return</th>
                </tr>
              </thead>
              <tbody>
                {variants.map((v) => (
                  <tr key={v}>
                    <th scope="row">{v}</th>
                    <td>{num(last.metrics[`variant/${v}/share`])}</td>
                    <td>{num(last.metrics[`variant/${v}/return`])}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Section>
    </>
  );
}

export function RunPage({ id }: { id: string }) {
  const run = useLoad(() => api<Run>('GET', `/v1/runs/${enc(id)}`), id);
  const metrics = useLoad(() => api<RunMetrics>('GET', `/v1/runs/${enc(id)}/metrics`), id, run.data?.status === 'running' ? 5000 : undefined);
  const names = useMemo(() => [...new Set((metrics.data?.steps ?? []).flatMap((s) => Object.keys(s.metrics)))].sort(), [metrics.data]);
  const [picked, setPicked] = useState<string | null>(null);
  const temporal = useTemporalLink(run.data?.workflowId ?? null);
  const name = picked ?? names.find((n) => /return|reward/.test(n)) ?? names[0] ?? null;
  const series = useMemo(() => {
    const steps = metrics.data?.steps ?? [];
    return { xs: steps.map((s) => s.step), ys: [{ label: name ?? '', values: steps.map((s) => (name === null ? null : (s.metrics[name] ?? null))), color: COLORS[0] }] };
  }, [metrics.data, name]);
  return (
    <>
      <h1>Run {id}</h1>
      {run.data === null ? (
        <Loading error={run.error} what="the run" />
      ) : (
        <dl className="facts">
          <dt>Kind</dt>
          <dd>{run.data.kind}</dd>
          <dt>Model</dt>
          <dd>{run.data.model === null ? '—' : <a href={`#/models/${enc(run.data.model)}`}>{run.data.model}</a>}</dd>
          <dt>Status</dt>
          <dd>{run.data.status}</dd>
          <dt>Workflow</dt>
          <dd>
            {run.data.workflowId ?? '—'}
            {temporal !== null && (
              <>
                {' '}
                · <a href={temporal}>open in the Temporal UI</a>
              </>
            )}
          </dd>
          <dt>Started / finished</dt>
          <dd>
            {time(run.data.startedAt)} / {time(run.data.finishedAt)}
          </dd>
          <dt>Config</dt>
          <dd className="json">{json(run.data.config)}</dd>
        </dl>
      )}
      {metrics.data !== null && names.length > 0 && <SeedCharts steps={metrics.data.steps} names={names} />}
      <Section title="Metrics by step">
        {metrics.data === null ? (
          <Loading error={metrics.error} what="metrics" />
        ) : names.length === 0 ? (
          <p>No metrics recorded.</p>
        ) : (
          <>
            <label htmlFor="metric-pick">Metric</label>{' '}
            <select id="metric-pick" value={name ?? ''} onChange={(e) => setPicked(e.target.value)}>
              {names.map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
            {name !== null && <Chart label={`${name} by step`} xLabel="step" yLabel={name} xs={series.xs} series={series.ys} />}
          </>
        )}
      </Section>
    </>
  );
}
