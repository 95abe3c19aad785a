/**
 * CPU time of processes from /proc (Linux), for the benches' "CPU per request" columns.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used so far; NaN when it is gone. */
export function procCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** CPU seconds of each PostgreSQL process on this machine, by pid. */
export function postgresCpu(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const s = procCpuSeconds(Number(name));
      if (!Number.isNaN(s)) out.set(Number(name), s);
    } catch {
      /* exited */
    }
  }
  return out;
}

/**
 * PostgreSQL CPU seconds used since `before` (a `postgresCpu()` snapshot), summed per process: a backend
 * that started since counts from zero, one that exited since is left out (so the figure is a lower
 * bound then, never negative as a difference of two totals would be).
 */
export function postgresCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, now] of postgresCpu()) total += Math.max(0, now - (before.get(pid) ?? 0));
  return total;
}

/**
 * The machine's CPU time so far, from /proc/stat's `cpu` line, in seconds summed over all CPUs: `total`
 * and `steal` (time the hypervisor gave this virtual machine's CPUs to others while they had work).
 */
export function hostCpu(): { total: number; steal: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
  // user nice system idle iowait irq softirq steal, in clock ticks (USER_HZ = 100)
  return { total: fields.reduce((a, b) => a + b, 0) / 100, steal: (fields[7] ?? 0) / 100 };
}

/** The share of the machine's CPU time the hypervisor took since `before` (a `hostCpu()` snapshot), 0..1. */
export function stealSince(before: { total: number; steal: number }): number {
  const now = hostCpu();
  const total = now.total - before.total;
  return total > 0 ? (now.steal - before.steal) / total : 0;
}
