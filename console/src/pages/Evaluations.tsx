import { api, enc } from '../api';
import { useLoad } from '../hooks';
import type { Evaluation } from '../types';
import { json, Loading, num, time } from '../ui';

interface Interval {
  value: number;
  lower?: number;
  upper?: number;
}

function interval(e: Interval): string {
  return e.lower !== undefined && e.upper !== undefined ? `${num(e.value)} [${num(e.lower)}, ${num(e.upper)}]` : num(e.value);
}

function isInterval(v: unknown): v is Interval {
  return typeof v === 'object' && v !== null && typeof (v as Interval).value === 'number';
}

/** An OPE summary's estimates with their intervals (activities/ope), else the summary as JSON. */
function Estimates({ summary }: { summary: Record<string, unknown> }) {
  const estimates = summary.estimates;
  const gate = summary.gate as { estimator?: string; value?: number; lower?: number; upper?: number } | undefined;
  if (typeof estimates !== 'object' || estimates === null) return <span className="json">{json(summary)}</span>;
  return (
    <ul className="gates">
      {Object.entries(estimates as Record<string, unknown>).map(([name, e]) => (
        <li key={name}>
          {name} {isInterval(e) ? interval(e) : json(e)}
        </li>
      ))}
      {gate !== undefined && typeof gate.value === 'number' && (
        <li>
          gate ({gate.estimator ?? '?'} vs champion): Δ {interval(gate as Interval)}
        </li>
      )}
    </ul>
  );
}

export function Evaluations({ model }: { model: string }) {
  const rows = useLoad(() => api<Evaluation[]>('GET', `/v1/models/${enc(model)}/evaluations`), model);
  if (rows.data === null) return <Loading error={rows.error} what="evaluations" />;
  if (rows.data.length === 0) return <p>No evaluations recorded (<code>autopilot ope</code>, offline gates).</p>;
  return (
    <table aria-label="Evaluations">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Version</th>
          <th scope="col">Kind</th>
          <th scope="col">Verdict</th>
          <th scope="col">Estimates (95% interval)</th>
          <th scope="col">Report</th>
        </tr>
      </thead>
      <tbody>
        {rows.data.map((e) => (
          <tr key={e.id} className={`outcome-${e.verdict}`}>
            <td>{time(e.time)}</td>
            <td>v{e.version}</td>
            <td>{e.kind}</td>
            <td>{e.verdict}</td>
            <td>
              <Estimates summary={e.summary} />
            </td>
            <td>{e.reportUri === null ? '—' : <code>{e.reportUri}</code>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
