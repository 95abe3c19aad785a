/**
 * The activity interceptor that feeds WorkerMetrics (./worker-metrics.ts): times every execution,
 * counts failures, and hands heartbeat details and results to ./observers.ts.
 */
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Context } from '@temporalio/activity';
import { observeHeartbeat, observeResult } from './observers';
import type { WorkerMetrics } from './worker-metrics';

/**
 * The interceptor that times every activity and feeds the observers. The SDK has no hook for
 * heartbeats, so the factory wraps this execution's `Context.heartbeat` (an instance property) to
 * read the details before handing them on unchanged.
 */
export function activityMetricsInterceptor(m: WorkerMetrics, taskQueue: string): ActivityInterceptorsFactory {
  return (ctx: Context) => {
    const activity = ctx.info.activityType;
    const send = ctx.heartbeat;
    Object.defineProperty(ctx, 'heartbeat', {
      configurable: true,
      value: (details?: unknown) => {
        observeHeartbeat(m, activity, details);
        send(details);
      },
    });
    const inbound: ActivityInboundCallsInterceptor = {
      execute: async (input, next) => {
        const running = m.activityRunning.labels(activity, taskQueue);
        running.inc();
        const end = m.activityDuration.startTimer({ activity, task_queue: taskQueue });
        try {
          const result = await next(input);
          end({ outcome: 'completed' });
          observeResult(m, activity, input.args[0], result);
          return result;
        } catch (err) {
          const name = err instanceof Error ? err.name : typeof err;
          end({ outcome: name === 'CancelledFailure' ? 'cancelled' : 'failed' });
          m.activityFailures.inc({ activity, task_queue: taskQueue, error: name });
          throw err;
        } finally {
          running.dec();
        }
      },
    };
    return { inbound };
  };
}
