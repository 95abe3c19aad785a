/** Signals and the query of canaryPromotion, shared by the workflow, the CLI and tests. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CanaryStatus } from './types';

export interface SignalBy {
  /** Who sent it (recorded in the history), e.g. `cli:alice`. */
  by?: string;
}

/** Stop checking and changing weights (timers keep running; abort still works). */
export const pauseSignal = defineSignal<[SignalBy?]>('pause');
export const resumeSignal = defineSignal<[SignalBy?]>('resume');
/** Roll back now, in any phase (after the promotion too: the previous champion is restored). */
export const abortSignal = defineSignal<[SignalBy & { reason?: string }]>('abort');
/** Skip the remaining steps and promote (the skip is recorded). */
export const promoteSignal = defineSignal<[SignalBy?]>('promote');
export const statusQuery = defineQuery<CanaryStatus>('status');
