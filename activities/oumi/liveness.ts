import { activityInfo, heartbeat } from '@temporalio/activity';

/** How long a trainer may stay silent after it starts (Python importing torch and TRL, loading the model). */
export const DEFAULT_STARTUP_GRACE_MS = 10 * 60 * 1000;

export interface ProgressHeartbeat {
  /** The trainer showed life: a log line was read or a step advanced. */
  progressed(): void;
  stop(): void;
}

/**
 * Heartbeats `details()` on a timer (a third of the activity's heartbeat timeout, at most every 5 s) —
 * but only while the trainer shows progress: a tick heartbeats when a line was read or a step advanced
 * since the previous tick. A trainer that hangs (alive but silent) therefore stops the heartbeats, the
 * heartbeat timeout fires and Temporal retries the attempt (which resumes from the latest checkpoint),
 * instead of waiting for the start-to-close timeout (hours).
 *
 * Before the trainer's first line the timer heartbeats regardless, for at most `startupGraceMs`: the
 * interpreter's imports print nothing for tens of seconds on a loaded machine, and that is a slow start,
 * not a hang.
 */
export function startProgressHeartbeat(details: () => unknown, startupGraceMs = DEFAULT_STARTUP_GRACE_MS): ProgressHeartbeat {
  const timeoutMs = activityInfo().heartbeatTimeoutMs ?? 0;
  if (!timeoutMs) return { progressed() {}, stop() {} };
  const started = Date.now();
  let seenAny = false;
  let sinceTick = false;
  const timer = setInterval(() => {
    const starting = !seenAny && Date.now() - started < startupGraceMs;
    if (sinceTick || starting) heartbeat(details());
    sinceTick = false;
  }, Math.max(500, Math.min(5000, Math.floor(timeoutMs / 3))));
  timer.unref();
  return {
    progressed: () => {
      seenAny = true;
      sinceTick = true;
    },
    stop: () => clearInterval(timer),
  };
}
