import { api, enc } from '../api';
import { useLoad } from '../hooks';
import type { DriftEvent } from '../types';
import { Loading, num, time } from '../ui';

export function DriftPage({ model }: { model: string | null }) {
  const rows = useLoad(() => api<DriftEvent[]>('GET', `/v1/drift?limit=500${model ? `&model=${enc(model)}` : ''}`), model ?? '', 10_000);
  return (
    <>
      <h1>Drift{model ? ` of ${model}` : ''}</h1>
      {rows.data === null ? (
        <Loading error={rows.error} what="drift events" />
      ) : rows.data.length === 0 ? (
        <p>No drift detected by the driftMonitor runs.</p>
      ) : (
        <table aria-label="Drift events">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Model</th>
              <th scope="col">Run, check</th>
              <th scope="col">Drift metrics</th>
            </tr>
          </thead>
          <tbody>
            {rows.data.map((d) => (
              <tr key={`${d.runId}-${d.step}`}>
                <td>{time(d.time)}</td>
                <td>{d.model === null ? '—' : <a href={`#/models/${enc(d.model)}`}>{d.model}</a>}</td>
                <td>
                  <a href={`#/runs/${enc(d.runId)}`}>{d.runId}</a>, check {d.step}
                </td>
                <td>
                  <ul className="gates">
                    {Object.entries(d.metrics)
                      .filter(([n]) => n !== 'drift/detected')
                      .map(([n, v]) => (
                        <li key={n}>
                          {n.replace(/^drift\//, '')} = {num(v)}
                        </li>
                      ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
