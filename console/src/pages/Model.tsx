import { useMemo } from 'react';
import { api, enc } from '../api';
import { useLoad } from '../hooks';
import type { ModelDetail, ModelVersion } from '../types';
import { Loading, num, Section, time } from '../ui';
import { Evaluations } from './Evaluations';

/** Metric columns shown in the versions table (the compare view shows them all). */
const METRIC_COLUMNS = 6;

function setCompare(model: string, a: string | null, b: string | null) {
  const q = new URLSearchParams();
  if (a) q.set('a', a);
  if (b) q.set('b', b);
  location.hash = `#/models/${enc(model)}${q.size > 0 ? `?${q}` : ''}`;
}

function Compare({ versions, a, b }: { versions: ModelVersion[]; a: number; b: number }) {
  const va = versions.find((v) => v.version === a);
  const vb = versions.find((v) => v.version === b);
  if (va === undefined || vb === undefined) return <p role="alert">Version {va === undefined ? a : b} does not exist.</p>;
  const names = [...new Set([...Object.keys(va.metrics), ...Object.keys(vb.metrics)])].sort();
  const tags = [...new Set([...Object.keys(va.tags), ...Object.keys(vb.tags)])].sort();
  const row = (label: string, x: string, y: string, delta?: string) => (
    <tr key={label} className={x !== y ? 'differs' : undefined}>
      <th scope="row">{label}</th>
      <td>{x}</td>
      <td>{y}</td>
      <td>{delta ?? ''}</td>
    </tr>
  );
  return (
    <table aria-label={`Compare version ${a} and version ${b}`}>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Version {a}</th>
          <th scope="col">Version {b}</th>
          <th scope="col">
            Δ ({b} − {a})
          </th>
        </tr>
      </thead>
      <tbody>
        {row('status', va.status, vb.status)}
        {row('created', time(va.createdAt), time(vb.createdAt))}
        {row('format', va.format, vb.format)}
        {row('size (bytes)', String(va.size), String(vb.size))}
        {row('sha256', va.sha256.slice(0, 16), vb.sha256.slice(0, 16))}
        {row('run', va.lineage.runId ?? '—', vb.lineage.runId ?? '—')}
        {row('config hash', va.lineage.configHash ?? '—', vb.lineage.configHash ?? '—')}
        {row('code commit', va.lineage.codeCommit ?? '—', vb.lineage.codeCommit ?? '—')}
        {names.map((n) => {
          const x = va.metrics[n];
          const y = vb.metrics[n];
          return row(`metric ${n}`, num(x), num(y), x !== undefined && y !== undefined ? num(y - x) : '');
        })}
        {tags.map((t) => row(`tag ${t}`, va.tags[t] ?? '—', vb.tags[t] ?? '—'))}
      </tbody>
    </table>
  );
}

export function ModelPage({ model, compare }: { model: string; compare: [string | null, string | null] }) {
  const detail = useLoad(() => api<ModelDetail>('GET', `/v1/models/${enc(model)}`), model, 5000);
  const versions = useLoad(() => api<ModelVersion[]>('GET', `/v1/models/${enc(model)}/versions`), model);
  const metricNames = useMemo(() => {
    const count = new Map<string, number>();
    for (const v of versions.data ?? []) for (const n of Object.keys(v.metrics)) count.set(n, (count.get(n) ?? 0) + 1);
    return [...count.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).slice(0, METRIC_COLUMNS).map(([n]) => n);
  }, [versions.data]);
  const aliasesOf = useMemo(() => {
    const m = new Map<number, string[]>();
    for (const a of detail.data?.aliases ?? []) m.set(a.version, [...(m.get(a.version) ?? []), a.alias]);
    return m;
  }, [detail.data]);
  const [a, b] = compare;

  return (
    <>
      <h1>Model {model}</h1>
      {detail.data === null ? (
        <Loading error={detail.error} what="the model" />
      ) : (
        <dl className="facts">
          <dt>Description</dt>
          <dd>{detail.data.model.description || '—'}</dd>
          <dt>Latest version</dt>
          <dd>{detail.data.model.latestVersion}</dd>
          <dt>Aliases</dt>
          <dd>{detail.data.aliases.length === 0 ? '—' : detail.data.aliases.map((x) => `${x.alias} → v${x.version}`).join(', ')}</dd>
          <dt>Deployment</dt>
          <dd>
            {detail.data.deployment === null ? (
              'not deployed'
            ) : (
              <>
                <a href={`#/deployments/${enc(model)}`}>
                  champion v{detail.data.deployment.championVersion ?? '—'}
                  {detail.data.deployment.canaryVersion !== null && `, canary v${detail.data.deployment.canaryVersion} at ${detail.data.deployment.canaryWeight}%`}
                </a>{' '}
                · <a href={`#/canaries/${enc(model)}`}>canary run</a>
              </>
            )}
          </dd>
          <dt>Runs</dt>
          <dd>
            <a href={`#/runs?model=${enc(model)}`}>training and monitoring runs</a> · <a href={`#/drift?model=${enc(model)}`}>drift</a> · <a href={`#/audit?model=${enc(model)}`}>audit log</a>
          </dd>
        </dl>
      )}

      <Section title="Compare two versions">
        <form className="inline" onSubmit={(e) => e.preventDefault()}>
          <label htmlFor="cmp-a">Version A</label>
          <select id="cmp-a" value={a ?? ''} onChange={(e) => setCompare(model, e.target.value, b)}>
            <option value="">—</option>
            {(versions.data ?? []).map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
              </option>
            ))}
          </select>
          <label htmlFor="cmp-b">Version B</label>
          <select id="cmp-b" value={b ?? ''} onChange={(e) => setCompare(model, a, e.target.value)}>
            <option value="">—</option>
            {(versions.data ?? []).map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
              </option>
            ))}
          </select>
        </form>
        {a && b && versions.data !== null && <Compare versions={versions.data} a={Number(a)} b={Number(b)} />}
      </Section>

      <Section title="Evaluations">
        <Evaluations model={model} />
      </Section>

      <Section title="Versions">
        {versions.data === null ? (
          <Loading error={versions.error} what="versions" />
        ) : (
          <table aria-label="Versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">Aliases</th>
                {metricNames.map((n) => (
                  <th scope="col" key={n}>
                    {n}
                  </th>
                ))}
                <th scope="col">Lineage</th>
                <th scope="col">Created</th>
                <th scope="col">Compare</th>
              </tr>
            </thead>
            <tbody>
              {versions.data.map((v) => (
                <tr key={v.version}>
                  <th scope="row">v{v.version}</th>
                  <td>{v.status}</td>
                  <td>{(aliasesOf.get(v.version) ?? []).join(', ')}</td>
                  {metricNames.map((n) => (
                    <td key={n} className="num">
                      {num(v.metrics[n])}
                    </td>
                  ))}
                  <td>{v.lineage.runId === null ? '—' : <a href={`#/runs/${enc(v.lineage.runId)}`}>run {v.lineage.runId.slice(0, 12)}</a>}</td>
                  <td>{time(v.createdAt)}</td>
                  <td>
                    <button type="button" className="link" onClick={() => setCompare(model, a ?? String(v.version), a ? String(v.version) : b)} aria-label={`Compare v${v.version}`}>
                      compare
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}
