import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, onUnauthorized, storedKey, storeKey } from './api';
import { useRoute } from './hooks';
import { AuditPage } from './pages/Audit';
import { CanaryPage } from './pages/Canary';
import { DeploymentPage } from './pages/Deployment';
import { DriftPage } from './pages/Drift';
import { ModelPage } from './pages/Model';
import { ModelsPage } from './pages/Models';
import { RunPage, RunsPage } from './pages/Runs';
import { Session, type SessionInfo } from './session';
import type { WhoAmI } from './types';

function KeyForm({ onKey, refused }: { onKey: () => void; refused: string | null }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    storeKey(value);
    onKey();
  };
  return (
    <main className="keyform">
      <h1>Autopilot console</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <p>This API requires a key (from <code>autopilot keys create</code>). It is kept in this tab only (sessionStorage).</p>
        {refused !== null && (
          <p role="alert" className="error">
            {refused}
          </p>
        )}
        <label htmlFor="api-key">API key</label>
        <input id="api-key" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} placeholder="apk_…" required autoFocus />
        <button type="submit">Use this key</button>
      </form>
    </main>
  );
}

function Page() {
  const { parts, query } = useRoute();
  const [head, name, sub] = parts;
  if (head === 'models' && name !== undefined) return <ModelPage model={name} compare={[query.get('a'), query.get('b')]} />;
  if (head === 'deployments' && name !== undefined) return <DeploymentPage model={name} />;
  if (head === 'canaries' && name !== undefined) return <CanaryPage model={name} />;
  if (head === 'drift') return <DriftPage model={query.get('model')} />;
  if (head === 'audit') return <AuditPage model={query.get('model')} />;
  if (head === 'runs' && name !== undefined) return <RunPage id={[name, sub].filter((p) => p !== undefined).join('/')} />;
  if (head === 'runs') return <RunsPage model={query.get('model')} />;
  return <ModelsPage />;
}

export function App() {
  const [who, setWho] = useState<SessionInfo | null>(null);
  const [needKey, setNeedKey] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const check = useCallback(() => {
    Promise.all([api<WhoAmI>('GET', '/v1/whoami'), api<{ temporalUi?: string | null }>('GET', '/healthz')]).then(
      ([w, health]) => {
        setWho({ ...w, temporalUi: health.temporalUi ?? null });
        setNeedKey(null);
      },
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 401) {
          setWho(null);
          setNeedKey(storedKey() === null ? '' : `The API refused this key: ${e.message}`);
        } else setError(e instanceof Error ? e.message : String(e));
      },
    );
  }, []);
  useEffect(check, [check]);
  useEffect(() => onUnauthorized(() => setNeedKey('The API refused the key (revoked or expired?); enter one again.')), []);

  if (needKey !== null) return <KeyForm onKey={check} refused={needKey === '' ? null : needKey} />;
  if (who === null) return <main>{error === null ? <p aria-busy="true">Connecting…</p> : <p role="alert">Cannot reach the API: {error}</p>}</main>;
  const admin = who.admin.all ? 'admin' : who.admin.models.length > 0 ? `admin on ${who.admin.models.join(', ')}` : 'read-only';
  return (
    <Session.Provider value={who}>
      <header>
        <nav aria-label="Main">
          <strong>Autopilot</strong>
          <a href="#/models">Models</a>
          <a href="#/runs">Runs</a>
          <a href="#/drift">Drift</a>
          <a href="#/audit">Audit log</a>
        </nav>
        <span className="who" aria-label="Signed in as">
          {who.auth ? `key ${who.keyId} (${admin})` : 'auth off (local)'}
          {who.auth && (
            <button
              type="button"
              className="link"
              onClick={() => {
                storeKey(null);
                setWho(null);
                setNeedKey('');
              }}
            >
              Forget key
            </button>
          )}
        </span>
      </header>
      <main>
        <Page />
      </main>
    </Session.Provider>
  );
}
