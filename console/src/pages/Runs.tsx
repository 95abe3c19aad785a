import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, enc } from '../api';
import { useLoad } from '../hooks';
import { useTemporalLink } from '../session';
import type { Run, RunMetrics } from '../types';
import { json, Loading, Section, time } from '../ui';

export function RunsPage({ model }: { model: string | null }) {
  const runs = useLoad(() => api<Run[]>('GET', `/v1/runs?limit=200${model ? `&model=${enc(model)}` : ''}`), model ?? '', 5000);
  return (
    <>
      <h1>Runs{model ? ` of ${model}` : ''}</h1>
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

function Chart({ name, xs, ys }: { name: string; xs: number[]; ys: (number | null)[] }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (el.current === null) return;
    const plot = new uPlot(
      {
        width: Math.min(900, el.current.clientWidth || 900),
        height: 320,
        scales: { x: { time: false } },
        axes: [{ label: 'step' }, { label: name }],
        series: [{ label: 'step' }, { label: name, stroke: '#2563eb', width: 2, spanGaps: true }],
      },
      [xs, ys],
      el.current,
    );
    return () => plot.destroy();
  }, [name, xs, ys]);
  return <div ref={el} role="img" aria-label={`${name} by step`} />;
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
    return { xs: steps.map((s) => s.step), ys: steps.map((s) => (name === null ? null : (s.metrics[name] ?? null))) };
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
            {name !== null && <Chart name={name} xs={series.xs} ys={series.ys} />}
          </>
        )}
      </Section>
    </>
  );
}
