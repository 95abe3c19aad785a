import { useState, type FormEvent } from 'react';
import { api, enc } from '../api';
import { useLoad } from '../hooks';
import { useCanChange } from '../session';
import type { AuditRow, Deployment, DeploymentArms } from '../types';
import { ErrorLine, json, Loading, num, Section, time } from '../ui';

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

const WINDOWS = ['15m', '1h', '6h', '1d', '7d'];

/** Requests and reward (mean, 95 % interval) per arm over a window, from the decision log; polled with the page. */
function Arms({ model }: { model: string }) {
  const [span, setSpan] = useState('1h');
  const arms = useLoad(() => api<DeploymentArms>('GET', `/v1/deployments/${enc(model)}/arms?window=${span}`), `${model} ${span}`, 2000);
  const total = arms.data?.arms.reduce((a, r) => a + r.requests, 0) ?? 0;
  return (
    <Section title="Requests and reward per arm">
      <label htmlFor="arms-window">Window</label>{' '}
      <select id="arms-window" value={span} onChange={(e) => setSpan(e.target.value)}>
        {WINDOWS.map((w) => (
          <option key={w}>{w}</option>
        ))}
      </select>
      {arms.data === null ? (
        <Loading error={arms.error} what="the arms" />
      ) : arms.data.arms.length === 0 ? (
        <p>No decisions logged in the last {arms.data.window}.</p>
      ) : (
        <table aria-label="Arms">
          <caption>
            Decision log, {time(arms.data.from)} – {time(arms.data.to)}
          </caption>
          <thead>
            <tr>
              <th scope="col">Arm</th>
              <th scope="col">Version</th>
              <th scope="col">Requests</th>
              <th scope="col">Share</th>
              <th scope="col">Rewarded</th>
              <th scope="col">Reward mean [95% CI]</th>
              <th scope="col">Latency (ms)</th>
            </tr>
          </thead>
          <tbody>
            {arms.data.arms.map((a) => (
              <tr key={`${a.arm} ${a.version ?? '-'}`} data-testid={`arm-${a.arm}`}>
                <th scope="row">{a.arm}</th>
                <td>{a.version === null ? '—' : `v${a.version}`}</td>
                <td>{a.requests}</td>
                <td>
                  <meter min={0} max={1} value={a.requests / total} aria-hidden="true" /> {((100 * a.requests) / total).toFixed(1)}%
                </td>
                <td>{a.rewarded}</td>
                <td>{rewardText(a.reward, a.arm)}</td>
                <td>{num(a.latencyMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function rewardText(r: DeploymentArms['arms'][number]['reward'], arm: string): string {
  if (r === null) return arm === 'shadow' ? '— (not served)' : '—';
  if (r.lower === null || r.upper === null) return num(r.mean);
  return `${num(r.mean)} [${num(r.lower)}, ${num(r.upper)}]`;
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
      {d !== null && <Arms model={model} />}
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
