import { useState } from 'react';
import { api, enc } from '../api';
import { useLoad } from '../hooks';
import type { AuditRow } from '../types';
import { json, Loading, time } from '../ui';

const PAGE = 200;

export function AuditPage({ model }: { model: string | null }) {
  const [filter, setFilter] = useState({ model: model ?? '', action: '' });
  const [afterId, setAfterId] = useState(0);
  const q = new URLSearchParams({ limit: String(PAGE), afterId: String(afterId) });
  if (filter.model) q.set('model', filter.model);
  if (filter.action) q.set('action', filter.action);
  const rows = useLoad(() => api<AuditRow[]>('GET', `/v1/audit?${q}`), q.toString(), 5000);
  const set = (k: 'model' | 'action', v: string) => {
    setFilter({ ...filter, [k]: v });
    setAfterId(0);
  };
  return (
    <>
      <h1>Audit log</h1>
      <form className="inline" onSubmit={(e) => e.preventDefault()} aria-label="Filter the audit log">
        <label htmlFor="audit-model">Model</label>
        <input id="audit-model" value={filter.model} onChange={(e) => set('model', e.target.value)} />
        <label htmlFor="audit-action">Action</label>
        <input id="audit-action" value={filter.action} onChange={(e) => set('action', e.target.value)} placeholder="e.g. canary.pause" />
      </form>
      {rows.data === null ? (
        <Loading error={rows.error} what="the audit log" />
      ) : (
        <>
          <table aria-label="Audit log">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Key</th>
                <th scope="col">Action</th>
                <th scope="col">Entity</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
              </tr>
            </thead>
            <tbody>
              {rows.data.map((r) => (
                <tr key={r.id}>
                  <td>{r.id}</td>
                  <td>{time(r.time)}</td>
                  <td>{r.actor}</td>
                  <td>{r.keyId ?? '—'}</td>
                  <td>{r.action}</td>
                  <td>
                    {r.model !== null ? <a href={`#/models/${enc(r.model)}`}>{r.entityKey ?? r.model}</a> : (r.entityKey ?? r.entity)}
                  </td>
                  <td className="json">{json(r.before)}</td>
                  <td className="json">{json(r.after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="inline">
            <button type="button" disabled={afterId === 0} onClick={() => setAfterId(0)}>
              First page
            </button>
            <button type="button" disabled={rows.data.length < PAGE} onClick={() => setAfterId(rows.data![rows.data!.length - 1].id)}>
              Next page
            </button>
          </p>
        </>
      )}
    </>
  );
}
