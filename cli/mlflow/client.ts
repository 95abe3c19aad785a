/**
 * A client for the MLflow tracking server's REST API (`/api/2.0/mlflow/...` and the artifact proxy
 * `/api/2.0/mlflow-artifacts/...`), the part `autopilot runs export --mlflow` needs.
 *
 * Hand-written: MLflow ships clients for Python, Java and R only; npm has no maintained one. The REST
 * API is MLflow's documented, versioned interface (https://mlflow.org/docs/latest/rest-api.html) and the
 * calls below are plain JSON over HTTP. Every failure names the call and carries MLflow's own
 * `error_code` and `message`.
 */

export interface MlflowRunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status?: string;
  artifact_uri?: string;
}

export interface MlflowMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface MlflowKeyValue {
  key: string;
  value: string;
}

export class MlflowError extends Error {
  constructor(
    readonly call: string,
    readonly status: number,
    readonly errorCode: string | null,
    message: string,
  ) {
    super(`MLflow ${call}: HTTP ${status}${errorCode ? ` ${errorCode}` : ''}: ${message}`);
  }
}

/** MLflow's documented per-request limits of runs/log-batch. */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000 } as const;

export class MlflowClient {
  private readonly base: string;

  constructor(trackingUri: string, private readonly timeoutMs = 30_000) {
    let url: URL;
    try {
      url = new URL(trackingUri);
    } catch {
      throw new Error(`--mlflow ${JSON.stringify(trackingUri)}: expected an http(s) URL of an MLflow tracking server, e.g. http://127.0.0.1:5000`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`--mlflow ${JSON.stringify(trackingUri)}: expected an http(s) URL, got the scheme ${url.protocol}`);
    }
    this.base = url.toString().replace(/\/+$/, '');
  }

  private async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, raw?: Buffer): Promise<T> {
    const url = `${this.base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: raw ? { 'content-type': 'application/octet-stream' } : body !== undefined ? { 'content-type': 'application/json' } : {},
        body: raw ?? (body !== undefined ? JSON.stringify(body) : undefined),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      throw new MlflowError(`${method} ${path}`, 0, null, `cannot reach ${this.base} (${(err as Error).message})`);
    }
    const text = await res.text();
    if (!res.ok) {
      let code: string | null = null;
      let message = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text) as { error_code?: string; message?: string };
        code = parsed.error_code ?? null;
        message = parsed.message ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new MlflowError(`${method} ${path.split('?')[0]}`, res.status, code, message);
    }
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  /** The experiment's id, creating it when it does not exist. */
  async ensureExperiment(name: string): Promise<string> {
    try {
      const found = await this.call<{ experiment: { experiment_id: string } }>('GET', `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
      return found.experiment.experiment_id;
    } catch (err) {
      if (!(err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST')) throw err;
    }
    const created = await this.call<{ experiment_id: string }>('POST', '/api/2.0/mlflow/experiments/create', { name });
    return created.experiment_id;
  }

  async searchRuns(experimentIds: string[], filter: string): Promise<MlflowRunInfo[]> {
    const out = await this.call<{ runs?: { info: MlflowRunInfo }[] }>('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: experimentIds, filter, max_results: 1000 });
    return (out.runs ?? []).map((r) => r.info);
  }

  async createRun(experimentId: string, runName: string, startTime: number, tags: MlflowKeyValue[]): Promise<MlflowRunInfo> {
    const out = await this.call<{ run: { info: MlflowRunInfo } }>('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: runName, start_time: startTime, tags });
    return out.run.info;
  }

  /** Logs everything, split into requests within MLflow's per-request limits. */
  async logBatch(runId: string, data: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] }): Promise<void> {
    const params = [...(data.params ?? [])];
    const tags = [...(data.tags ?? [])];
    const metrics = [...(data.metrics ?? [])];
    while (params.length || tags.length || metrics.length) {
      const p = params.splice(0, LOG_BATCH_LIMITS.params);
      const t = tags.splice(0, LOG_BATCH_LIMITS.tags);
      const m = metrics.splice(0, LOG_BATCH_LIMITS.total - p.length - t.length);
      await this.call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, params: p, tags: t, metrics: m });
    }
  }

  async finishRun(runId: string, status: 'FINISHED' | 'FAILED' | 'KILLED' | 'RUNNING', endTime: number | null): Promise<void> {
    await this.call('POST', '/api/2.0/mlflow/runs/update', { run_id: runId, status, ...(endTime === null ? {} : { end_time: endTime }) });
  }

  /**
   * Uploads one artifact through the tracking server's artifact proxy (servers started with artifact
   * serving, MLflow's default since 2.0): the run's artifact URI is `mlflow-artifacts:/<path>`.
   */
  async uploadArtifact(run: MlflowRunInfo, relativePath: string, bytes: Buffer): Promise<void> {
    const root = run.artifact_uri ?? '';
    const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(root);
    if (!m) {
      throw new Error(`MLflow run ${run.run_id} stores artifacts at ${JSON.stringify(root)}: only a server that proxies artifacts (mlflow-artifacts:/…, \`mlflow server\` with artifact serving on) can receive them over HTTP`);
    }
    const path = `${m[1].replace(/\/+$/, '')}/${relativePath}`.split('/').map(encodeURIComponent).join('/');
    await this.call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${path}`, undefined, bytes);
  }

  // Reads, for tests and for checking an export.
  async getRun(runId: string): Promise<{ info: MlflowRunInfo; data: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] } }> {
    const out = await this.call<{ run: { info: MlflowRunInfo; data: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] } } }>('GET', `/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(runId)}`);
    return out.run;
  }

  async metricHistory(runId: string, key: string): Promise<MlflowMetric[]> {
    const out = await this.call<{ metrics?: MlflowMetric[] }>('GET', `/api/2.0/mlflow/metrics/get-history?run_id=${encodeURIComponent(runId)}&metric_key=${encodeURIComponent(key)}&max_results=25000`);
    return out.metrics ?? [];
  }

  async listArtifacts(runId: string, path = ''): Promise<{ path: string; is_dir: boolean; file_size?: number }[]> {
    const out = await this.call<{ files?: { path: string; is_dir: boolean; file_size?: number }[] }>('GET', `/api/2.0/mlflow/artifacts/list?run_id=${encodeURIComponent(runId)}${path ? `&path=${encodeURIComponent(path)}` : ''}`);
    return out.files ?? [];
  }
}
