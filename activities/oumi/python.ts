/**
 * Runs one of the project's Python scripts (python/*.py) in the Oumi venv and returns the JSON object it
 * prints as its last stdout line. A non-zero exit rejects with the script's last stderr lines.
 * Like the Oumi CLI, the script gets its own process group so cancellation takes all of it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface RunPythonOptions {
  /** Repository root (where python/ and .venv-oumi/ are). Default: the current directory. */
  root?: string;
  /** The interpreter. Default: `<root>/.venv-oumi/bin/python`. */
  python?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  stderrTailLines?: number;
}

export async function runPythonJson<T>(script: string, args: string[], options: RunPythonOptions = {}): Promise<T> {
  const root = options.root ?? process.cwd();
  const python = options.python ?? path.join(root, '.venv-oumi', 'bin', 'python');
  const scriptPath = path.join(root, 'python', script);
  if (options.signal?.aborted) throw reason(options.signal);
  const child = spawn(python, [scriptPath, ...args], {
    cwd: root,
    env: { HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', DO_NOT_TRACK: '1', PYTHONUNBUFFERED: '1', ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-20000); });
  const onAbort = (): void => { try { process.kill(-(child.pid as number), 'SIGKILL'); } catch { /* already gone */ } };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`python: cannot start ${python} (${error.message})`, { cause: error })));
      child.once('close', (c) => resolve(c));
    });
    if (options.signal?.aborted) throw reason(options.signal);
    if (code !== 0) {
      const tail = stderr.split(/\r?\n/).filter((l) => l.trim() !== '').slice(-(options.stderrTailLines ?? 40));
      throw new Error(`python/${script} exited with code ${code}; last ${tail.length} lines of stderr:\n${tail.join('\n')}`);
    }
    const last = stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(last) as T;
    } catch {
      throw new Error(`python/${script} did not end with a JSON line; its last line was ${JSON.stringify(last.slice(0, 200))}`);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function reason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(`cancelled: ${String(signal.reason)}`);
}
