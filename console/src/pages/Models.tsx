import { api, enc } from '../api';
import { useLoad } from '../hooks';
import type { ModelSummary } from '../types';
import { Loading, time } from '../ui';

export function ModelsPage() {
  const { data, error } = useLoad(() => api<ModelSummary[]>('GET', '/v1/models'), 'models', 5000);
  return (
    <>
      <h1>Models</h1>
      {data === null ? (
        <Loading error={error} what="models" />
      ) : data.length === 0 ? (
        <p>No models registered yet (<code>autopilot models register</code>).</p>
      ) : (
        <table>
          <caption className="sr-only">Registered models</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Latest version</th>
              <th scope="col">Champion</th>
              <th scope="col">Canary</th>
              <th scope="col">Canary weight</th>
              <th scope="col">Generation</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {data.map((m) => (
              <tr key={m.name}>
                <th scope="row">
                  <a href={`#/models/${enc(m.name)}`}>{m.name}</a>
                </th>
                <td>{m.latestVersion}</td>
                <td>{m.championVersion ?? '—'}</td>
                <td>{m.canaryVersion ?? '—'}</td>
                <td>{m.canaryVersion === null ? '—' : `${m.canaryWeight}%`}</td>
                <td>{m.generation === null ? 'not deployed' : <a href={`#/deployments/${enc(m.name)}`}>{m.generation}</a>}</td>
                <td>{time(m.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
