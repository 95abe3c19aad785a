/**
 * Background processes of the dev stack. Each is started detached in its own process group, its
 * pid recorded in `.data/run/<name>.json`; `stop` signals exactly that group (after checking the pid
 * still runs the command we started, so a recycled pid is never killed) and waits for it to go.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export interface ManagedProcess {
  name: string;
  pid: number;
  command: string;
  args: string[];
  log: string;
  startedAt: string;
  /** What it serves, for `dev status`. */
  urls: Record<string, string>;
}

export function runDir(dataDir: string): string {
  return join(dataDir, 'run');
}

export function readManaged(dataDir: string): ManagedProcess[] {
  const dir = runDir(dataDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ManagedProcess);
}

export function recordManaged(dataDir: string, proc: ManagedProcess): void {
  mkdirSync(runDir(dataDir), { recursive: true });
  writeFileSync(join(runDir(dataDir), `${proc.name}.json`), JSON.stringify(proc, null, 2));
}

/** True when `pid` is alive and its command line still contains `command`. */
export function isOurs(proc: Pick<ManagedProcess, 'pid' | 'command'>): boolean {
  try {
    const cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0').join(' ');
    return cmdline.includes(proc.command);
  } catch {
    return false;
  }
}

export function spawnManaged(
  dataDir: string,
  spec: { name: string; command: string; args: string[]; env?: NodeJS.ProcessEnv; cwd?: string; urls?: Record<string, string> },
): ManagedProcess {
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const log = join(logDir, `${spec.name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${spec.name}: ${spec.command} ${spec.args.join(' ')}`);
  child.unref();
  const proc: ManagedProcess = {
    name: spec.name,
    pid: child.pid,
    command: spec.command,
    args: spec.args,
    log,
    startedAt: new Date().toISOString(),
    urls: spec.urls ?? {},
  };
  recordManaged(dataDir, proc);
  return proc;
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the process group of a managed process: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopManaged(dataDir: string, proc: ManagedProcess, graceMs = 10_000): Promise<'stopped' | 'not-running'> {
  const file = join(runDir(dataDir), `${proc.name}.json`);
  if (!isOurs(proc) && !groupAlive(proc.pid)) {
    rmSync(file, { force: true });
    return 'not-running';
  }
  try {
    process.kill(-proc.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(proc.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(proc.pid)) {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      /* raced */
    }
    while (groupAlive(proc.pid)) await new Promise((r) => setTimeout(r, 50));
  }
  rmSync(file, { force: true });
  return 'stopped';
}

/** Thrown by a `waitFor` check to stop waiting at once (the process died). */
export class GaveUp extends Error {}

/** `<what> exited (<the log's last line>); see <log>`: why a managed process died, for a GaveUp. */
export function exitedMessage(what: string, log: string): string {
  let last = '';
  try {
    const text = readFileSync(log, 'utf8');
    last = text.slice(-4096).trimEnd().split('\n').pop()!.trim();
  } catch {
    // no log to quote
  }
  if (last.length > 300) last = `${last.slice(0, 297)}...`;
  return `${what} exited${last ? ` (${last})` : ''}; see ${log}`;
}

/** Polls `check` until it resolves true or `timeoutMs` passes; the error names what it waited for and the log. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, log?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof GaveUp) throw err;
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s${log ? ` (see ${log})` : ''}`);
}
