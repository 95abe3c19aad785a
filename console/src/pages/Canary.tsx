import { useState } from 'react';
import { api, ApiError, enc } from '../api';
import { useLoad } from '../hooks';
import { useCanChange, useTemporalLink } from '../session';
import type { AuditRow, CanaryStatus, CanaryWorkflow, CheckResult } from '../types';
import { ErrorLine, Loading, num, Section, time } from '../ui';

/** configs/canary/default.yaml's steps, used when the canary was started without a plan of its own. */
const DEFAULT_STEPS = [5, 25, 50, 100];
const POLL_MS = 2000;

/** A gate's bounds: `(min … max)`, `(≤ max)` or `(≥ min)`. */
function range(m: { min?: number; max?: number }): string {
  if (m.min !== undefined && m.max !== undefined) return `(${num(m.min)} … ${num(m.max)})`;
  if (m.max !== undefined) return `(≤ ${num(m.max)})`;
  if (m.min !== undefined) return `(≥ ${num(m.min)})`;
  return '';
}

type Signal = 'pause' | 'resume' | 'abort' | 'promote';

function CheckTable({ checks }: { checks: CheckResult[] }) {
  if (checks.length === 0) return <p className="muted">No check recorded at this step yet.</p>;
  return (
    <table className="checks">
      <thead>
        <tr>
          <th scope="col">Checked</th>
          <th scope="col">Outcome</th>
          <th scope="col">Samples (champion / canary)</th>
          <th scope="col">Gates (value, bounds)</th>
          <th scope="col">Reward Δ (95% CI)</th>
          <th scope="col">Reasons</th>
        </tr>
      </thead>
      <tbody>
        {checks.map((c, i) => (
          <tr key={`${c.at}-${i}`} className={`outcome-${c.outcome}`}>
            <td>{time(c.at)}</td>
            <td>
              {c.outcome}
              {c.breach ? ' (breach)' : ''}
              {c.decisionLook ? ' · decision look' : ''}
            </td>
            <td>
              {c.samples.champion} / {c.samples.canary}
            </td>
            <td>
              <ul className="gates">
                {c.metrics.map((m) => (
                  <li key={m.name} className={m.ok ? 'ok' : 'bad'}>
                    {m.ok ? '✓' : '✗'} {m.name} = {num(m.value)} {range(m)}
                  </li>
                ))}
              </ul>
            </td>
            <td>{c.delta === null ? '—' : `${num(c.delta.estimate)} [${num(c.delta.ci95.lower)}, ${num(c.delta.ci95.upper)}] ${c.delta.comparison}`}</td>
            <td>{c.reasons.join('; ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Timeline({ s, steps }: { s: CanaryStatus; steps: number[] }) {
  const ended = s.phase === 'Succeeded' || s.phase === 'Failed';
  return (
    <ol className="timeline" aria-label="Canary steps">
      {steps.map((w, i) => {
        const state =
          s.phase === 'Succeeded' ? 'done' : i < s.stepIndex ? 'done' : i === s.stepIndex ? (ended ? 'stopped' : s.paused ? 'paused' : 'current') : 'pending';
        const checks = s.lastChecks.filter((c) => c.canaryWeight === w && c.phase !== 'Shadow');
        return (
          <li key={w} className={`step step-${state}`} aria-current={state === 'current' || state === 'paused' ? 'step' : undefined} data-testid={`step-${w}`}>
            <h3>
              {w}% <span className="state">{state}</span>
            </h3>
            <CheckTable checks={checks} />
          </li>
        );
      })}
    </ol>
  );
}

export function CanaryPage({ model }: { model: string }) {
  const wf = useLoad(() => api<CanaryWorkflow>('GET', `/v1/canaries/${enc(model)}`), model, POLL_MS);
  const start = useLoad(() => api<AuditRow[]>('GET', `/v1/audit?model=${enc(model)}&action=canary.start`), `${model} ${wf.data?.runId ?? ''}`);
  const canChange = useCanChange(model);
  const temporal = useTemporalLink(wf.data?.workflowId ?? null, wf.data?.runId);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState<string | null>(null);

  const send = (signal: Signal) => {
    setError(null);
    api('POST', `/v1/canaries/${enc(model)}/${signal}`, reason ? { reason } : {}).then(
      () => {
        setSent(`${signal} sent`);
        wf.reload();
      },
      (e: unknown) => setError(`${signal}: ${(e as Error).message}`),
    );
  };

  if (wf.data === null) {
    if (wf.error instanceof ApiError && wf.error.status === 404) {
      return (
        <>
          <h1>Canary {model}</h1>
          <p>No canary workflow for {model}. Start one with <code>autopilot canary start {model} --version N</code> or POST /v1/canaries/{model}.</p>
        </>
      );
    }
    return (
      <>
        <h1>Canary {model}</h1>
        <Loading error={wf.error} what="the canary" />
      </>
    );
  }
  const w = wf.data;
  const s = w.status;
  const last = start.data?.[start.data.length - 1];
  const plan = (last?.after as { plan?: { stepWeights?: number[] } | null } | undefined)?.plan;
  const steps = plan?.stepWeights ?? DEFAULT_STEPS;
  const running = w.execution === 'RUNNING';
  return (
    <>
      <h1>Canary {model}</h1>
      <p>
        <a href={`#/models/${enc(model)}`}>model {model}</a> · <a href={`#/deployments/${enc(model)}`}>deployment</a> · workflow <code>{w.workflowId}</code> run <code>{w.runId ?? '—'}</code>
        {temporal !== null && (
          <>
            {' '}
            · <a href={temporal}>open in the Temporal UI</a>
          </>
        )}
      </p>
      <dl className="facts" aria-label="Canary state">
        <dt>Execution</dt>
        <dd data-testid="execution">{w.execution}</dd>
        <dt>Phase</dt>
        <dd data-testid="phase">
          {s?.phase ?? '—'}
          {s?.paused ? ' (paused)' : ''}
          {s?.promoted ? ' (promoted)' : ''}
        </dd>
        <dt>Version</dt>
        <dd>{s === null ? '—' : `v${s.version} against champion v${s.championVersion ?? '—'}`}</dd>
        <dt>Canary weight</dt>
        <dd data-testid="weight">
          <meter min={0} max={100} value={s?.canaryWeight ?? 0} aria-label="canary weight" /> {s?.canaryWeight ?? 0}%
        </dd>
        <dt>Checks</dt>
        <dd>{s === null ? '—' : `${s.iterations} done, ${s.failedChecks} failed, ${s.stepChecks} at this step`}</dd>
        <dt>Message</dt>
        <dd role="status" aria-live="polite">
          {s?.message ?? '—'}
        </dd>
      </dl>
      {canChange && running && s !== null && (
        <Section title="Actions">
          <form className="inline" onSubmit={(e) => e.preventDefault()} aria-label="Canary actions">
            <label htmlFor="canary-reason">Reason</label>
            <input id="canary-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
            {s.paused ? (
              <button type="button" onClick={() => send('resume')}>
                Resume
              </button>
            ) : (
              <button type="button" onClick={() => send('pause')}>
                Pause
              </button>
            )}
            <button type="button" onClick={() => send('promote')}>
              Promote
            </button>
            <button type="button" className="danger" onClick={() => send('abort')}>
              Abort
            </button>
            {sent !== null && <span role="status">{sent}</span>}
          </form>
          <ErrorLine error={error} />
        </Section>
      )}
      {s !== null && (
        <>
          <Section title="Steps">
            {s.phase === 'Shadow' && <p>Shadow stage: the canary is logged alongside the champion, not served.</p>}
            <Timeline s={s} steps={steps} />
          </Section>
          <Section title="History">
            <ol className="history" reversed>
              {[...s.history].reverse().map((h, i) => (
                <li key={`${h.at}-${i}`}>
                  <time dateTime={h.at}>{time(h.at)}</time> <strong>{h.event}</strong> {h.detail}
                </li>
              ))}
            </ol>
          </Section>
        </>
      )}
    </>
  );
}
