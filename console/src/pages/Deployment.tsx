import { useState, type FormEvent } from 'react';
import { api, enc } from '../api';
import { useLoad } from '../hooks';
import { useCanChange } from '../session';
import type { AuditRow, Deployment } from '../types';
import { ErrorLine, json, Loading, Section, time } from '../ui';

function Rollback({ model, done }: { model: string; done: () => void }) {
  const [reason, setReason] = useState('');
  const [toVersion, setToVersion] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done_, setDone] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const body = { ...(reason ? { reason } : {}), ...(toVersion ? { toVersion: Number(toVersion) } : {}) };
    api<{ from: number; to: number }>('POST', `/v1/deployments/${enc(model)}/rollback`, body).then(
      (r) => {
        setError(null);
        setBusy(false);
        setReason('');
        setDone(`Rolled back: champion v${r.from} → v${r.to}`);
        done();
      },
      (err: unknown) => {
        setBusy(false);
        setError((err as Error).message);
      },
    );
  };
  return (
    <form onSubmit={submit} className="inline" aria-label="Roll back">
      <label htmlFor="rb-version">To version (optional)</label>
      <input id="rb-version" type="number" min={1} value={toVersion} onChange={(e) => setToVersion(e.target.value)} />
      <label htmlFor="rb-reason">Reason</label>
      <input id="rb-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
      <button type="submit" disabled={busy} className="danger">
        Roll back
      </button>
      {done_ !== null && <span role="status">{done_}</span>}
      <ErrorLine error={error} />
    </form>
  );
}

export function DeploymentPage({ model }: { model: string }) {
  const dep = useLoad(() => api<Deployment>('GET', `/v1/deployments/${enc(model)}`), model, 2000);
  const history = useLoad(() => api<AuditRow[]>('GET', `/v1/deployments/${enc(model)}/history`), model, 5000);
  const canChange = useCanChange(model);
  const d = dep.data;
  const shadow = d !== null && d.canaryVersion !== null && d.canaryWeight === 0;
  return (
    <>
      <h1>Deployment {model}</h1>
      <p>
        <a href={`#/models/${enc(model)}`}>model {model}</a> · <a href={`#/canaries/${enc(model)}`}>canary run</a>
      </p>
      {d === null ? (
        <Loading error={dep.error} what="the deployment" />
      ) : (
        <dl className="facts" aria-label="Deployment state">
          <dt>Kind</dt>
          <dd>{d.kind}</dd>
          <dt>Champion</dt>
          <dd>{d.championVersion === null ? '—' : `v${d.championVersion}`}</dd>
          <dt>{shadow ? 'Shadow' : 'Canary'}</dt>
          <dd>{d.canaryVersion === null ? '—' : shadow ? `v${d.canaryVersion} (shadow: logged, not served)` : `v${d.canaryVersion}`}</dd>
          <dt>Canary weight</dt>
          <dd>
            <meter min={0} max={100} value={d.canaryWeight} aria-label="canary weight" /> {d.canaryWeight}%
          </dd>
          <dt>Generation</dt>
          <dd>{d.generation}</dd>
          <dt>Exploration</dt>
          <dd>{json(d.exploration)}</dd>
          <dt>Updated</dt>
          <dd>{time(d.updatedAt)}</dd>
        </dl>
      )}
      {canChange && d !== null && (
        <Section title="Roll back">
          <p>Makes the previous champion (or the version given) champion again, at once.</p>
          <Rollback model={model} done={() => { dep.reload(); history.reload(); }} />
        </Section>
      )}
      <Section title="Generation history">
        {history.data === null ? (
          <Loading error={history.error} what="the history" />
        ) : (
          <table aria-label="Generation history">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Action</th>
                <th scope="col">Actor</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
              </tr>
            </thead>
            <tbody>
              {[...history.data].reverse().map((h) => (
                <tr key={h.id}>
                  <td>{time(h.time)}</td>
                  <td>{h.action}</td>
                  <td>{h.actor}</td>
                  <td className="json">{gen(h.before)}</td>
                  <td className="json">{gen(h.after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

/** A deployment row of the audit log in one line: generation, champion, canary at its weight. */
function gen(v: unknown): string {
  if (v === null || typeof v !== 'object') return '—';
  const r = v as Record<string, unknown>;
  const g = r.generation ?? '?';
  const champion = r.champion_version ?? r.championVersion;
  const canary = r.canary_version ?? r.canaryVersion;
  const weight = r.canary_weight ?? r.canaryWeight;
  if (champion === undefined && canary === undefined) return json(v);
  return `gen ${String(g)}: champion v${String(champion ?? '—')}${canary !== null && canary !== undefined ? `, canary v${String(canary)} @ ${String(weight)}%` : ''}`;
}
