/**
 * Runs the Oumi CLI (`oumi train|infer|evaluate -c CONFIG --dotted.key value …`) as a child process in
 * its own process group, streaming its log and reporting the trainer's progress.
 *
 *  - Cancellation (`signal`): SIGTERM to the whole group (`kill(-pid)`: Oumi, its dataloader workers and
 *    anything else it started), SIGKILL after `killGraceMs`; the promise rejects with the signal's reason.
 *  - Retry: with `resume`, the latest complete `checkpoint-N` in `outputDir` is passed as
 *    `--training.resume_from_checkpoint`.
 *  - Failure: a non-zero exit rejects with `OumiProcessError`, whose message ends with the last lines of
 *    stderr (the Python traceback), so the Temporal activity failure shows what went wrong.
 */
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { OumiProgress, Overrides } from '../../contracts/text-policy-training';
import { ProgressParser } from './progress';

export type OumiCommand = 'train' | 'infer' | 'evaluate';

export interface RunOumiOptions {
  command: OumiCommand;
  /** The YAML config (`configs/oumi/policy_sft.yaml`, …). */
  config: string;
  /** Run-specific overrides, `{ 'training.max_steps': 40 }` → `--training.max_steps 40`. */
  overrides?: Overrides;
  /** Arguments after the overrides (e.g. `--input_path` for `oumi infer`). */
  extraArgs?: string[];
  /** The `oumi` executable. Default: `.venv-oumi/bin/oumi` under `cwd`. */
  oumiBin?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** With `resume`, where the trainer writes its `checkpoint-N` directories. */
  outputDir?: string;
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: OumiProgress) => void;
  onLog?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Lines of stderr kept for the failure message. Default 40. */
  stderrTailLines?: number;
  /** Time between SIGTERM and SIGKILL on cancellation. Default 5000 ms. */
  killGraceMs?: number;
}

export interface OumiRunResult {
  args: string[];
  resumedFrom: string | null;
  progress: OumiProgress;
  durationMs: number;
  stderrTail: string[];
}

export class OumiProcessError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly signalName: NodeJS.Signals | null,
    readonly stderrTail: string[],
    readonly args: string[],
  ) {
    const how = exitCode !== null ? `exited with code ${exitCode}` : `was killed by ${signalName}`;
    super(`oumi ${args.slice(0, 3).join(' ')} ${how}; last ${stderrTail.length} lines of stderr:\n${stderrTail.join('\n')}`);
    this.name = 'OumiProcessError';
  }
}

/** `--key value` pairs in a stable order. */
export function overrideArgs(overrides: Overrides = {}): string[] {
  return Object.keys(overrides).sort().flatMap((key) => {
    if (!/^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])*$/.test(key)) {
      throw new Error(`Oumi override key ${JSON.stringify(key)} is not a dotted config path like training.max_steps or data.train.datasets[0].dataset_path`);
    }
    return [`--${key}`, String(overrides[key])];
  });
}

/** The highest-numbered `checkpoint-N` directory under `outputDir` that holds a complete trainer state. */
export async function latestCheckpoint(outputDir: string): Promise<string | null> {
  let entries: string[];
  try {
    entries = await readdir(outputDir);
  } catch {
    return null;
  }
  const candidates = entries
    .map((name) => ({ name, step: /^checkpoint-(\d+)$/.exec(name)?.[1] }))
    .filter((e): e is { name: string; step: string } => e.step !== undefined)
    .sort((a, b) => Number(b.step) - Number(a.step));
  for (const { name } of candidates) {
    const dir = path.join(outputDir, name);
    const complete = await stat(path.join(dir, 'trainer_state.json')).then((s) => s.isFile(), () => false);
    if (complete) return dir;
  }
  return null;
}

/** Keeps the last `size` complete lines of a stream. */
class LineTail {
  private readonly lines: string[] = [];
  private pending = '';
  constructor(private readonly size: number, private readonly onLine?: (line: string) => void) {}

  push(chunk: string): void {
    const parts = (this.pending + chunk).split(/\r?\n/);
    this.pending = parts.pop() ?? '';
    for (const line of parts) this.add(line);
  }

  end(): void {
    if (this.pending !== '') this.add(this.pending);
    this.pending = '';
  }

  get tail(): string[] {
    return [...this.lines];
  }

  private add(line: string): void {
    // tqdm redraws with \r: keep what the terminal would show.
    const shown = line.slice(line.lastIndexOf('\r') + 1);
    this.onLine?.(shown);
    this.lines.push(shown);
    if (this.lines.length > this.size) this.lines.shift();
  }
}

export async function runOumi(options: RunOumiOptions): Promise<OumiRunResult> {
  const cwd = options.cwd ?? process.cwd();
  const oumiBin = options.oumiBin ?? path.join(cwd, '.venv-oumi', 'bin', 'oumi');
  const overrides: Overrides = { ...options.overrides };
  let resumedFrom: string | null = null;
  if (options.resume) {
    if (!options.outputDir) throw new Error('runOumi: resume needs outputDir (where checkpoint-N directories are)');
    resumedFrom = await latestCheckpoint(options.outputDir);
    if (resumedFrom) overrides['training.resume_from_checkpoint'] = resumedFrom;
  }
  const args = [options.command, '-c', options.config, ...overrideArgs(overrides), ...(options.extraArgs ?? [])];
  if (options.signal?.aborted) throw abortReason(options.signal);

  const started = Date.now();
  // Oumi's logger writes to stdout, tqdm and Python warnings to stderr: one parser per stream keeps
  // partial lines apart; `progress` is their union.
  let progress: OumiProgress = { step: 0, totalSteps: null, loss: null, epoch: null };
  const report = (updates: OumiProgress[]): void => {
    for (const update of updates) {
      progress = mergeProgress(progress, update);
      options.onProgress?.(progress);
    }
  };
  const parsers = { stdout: new ProgressParser(), stderr: new ProgressParser() };
  const tailSize = options.stderrTailLines ?? 40;
  const stdout = new LineTail(tailSize, (line) => options.onLog?.(line, 'stdout'));
  const stderr = new LineTail(tailSize, (line) => options.onLog?.(line, 'stderr'));

  const child = spawn(oumiBin, args, {
    cwd,
    env: { HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', DO_NOT_TRACK: '1', PYTHONUNBUFFERED: '1', ...process.env, ...options.env },
    detached: true, // its own process group: cancellation kills Oumi and everything it started
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => { stdout.push(chunk); report(parsers.stdout.push(chunk)); });
  child.stderr.on('data', (chunk: string) => { stderr.push(chunk); report(parsers.stderr.push(chunk)); });

  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), options.killGraceMs ?? 5000);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`oumi: cannot start ${oumiBin} (${error.message})`, { cause: error })));
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    stdout.end();
    stderr.end();
    report(parsers.stdout.flush());
    report(parsers.stderr.flush());
    if (options.signal?.aborted) {
      killGroup(child.pid, 'SIGKILL'); // stragglers that ignored SIGTERM
      throw abortReason(options.signal);
    }
    if (code !== 0) throw new OumiProcessError(code, signal, stderr.tail, args);
    return { args, resumedFrom, progress, durationMs: Date.now() - started, stderrTail: stderr.tail };
  } finally {
    if (killTimer) clearTimeout(killTimer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The union of two progress views: the furthest step, the latest known loss, total and epoch. */
function mergeProgress(a: OumiProgress, b: OumiProgress): OumiProgress {
  return {
    step: Math.max(a.step, b.step),
    totalSteps: b.totalSteps ?? a.totalSteps,
    loss: b.loss ?? a.loss,
    epoch: b.epoch ?? a.epoch,
  };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(`oumi run cancelled: ${String(signal.reason)}`);
}
