import { activityInfo, heartbeat } from '@temporalio/activity';

/**
 * Heartbeats `details()` on a timer (a third of the activity's heartbeat timeout, at most every 5 s)
 * until `stop()`: a long child process that is silent for a while still shows it is alive.
 */
export function startLivenessHeartbeat(details: () => unknown): { stop(): void } {
  const timeoutMs = activityInfo().heartbeatTimeoutMs ?? 0;
  if (!timeoutMs) return { stop() {} };
  const timer = setInterval(() => heartbeat(details()), Math.max(500, Math.min(5000, Math.floor(timeoutMs / 3))));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
