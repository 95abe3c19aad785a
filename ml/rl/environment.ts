/**
 * The contract between the PPO trainer and any environment it learns in. The trainer knows nothing
 * else about the world: an environment describes its observation size and its action space, and
 * steps. Everything here is plain data so rollouts can run in separate activities/processes.
 */

/** One part of a (possibly mixed) action. Parts are sampled independently given the state. */
export type ActionPart =
  /** One of `choices` (e.g. retriever variant A|B, prompt template id). */
  | { kind: 'categorical'; name: string; choices: string[] }
  /** An integer in [min, max] inclusive (e.g. top-k in [3, 32]). */
  | { kind: 'integer'; name: string; min: number; max: number }
  /** A yes/no switch (e.g. re-rank on/off). */
  | { kind: 'bernoulli'; name: string }
  /** A real value in [min, max] (e.g. hybrid fusion weight in [0, 1]). */
  | { kind: 'continuous'; name: string; min: number; max: number };

export type ActionSpace = ActionPart[];

/** A decoded action: part name → value (string for categorical, number for integer/continuous, boolean for bernoulli). */
export type Action = Record<string, string | number | boolean>;

export interface StepResult {
  observation: Float64Array;
  reward: number;
  /** The episode ended (the trainer calls reset next). */
  done: boolean;
  /** Anything the environment wants logged (quality, latency, gate breaches…). Must be JSON-serialisable. */
  info: Record<string, unknown>;
}

export interface Environment {
  /** Length of every observation vector. */
  readonly observationSize: number;
  /** The action parts, in a fixed order shared with the policy's heads. */
  readonly actionSpace: ActionSpace;
  /** Starts an episode; the same seed gives the same episode. */
  reset(seed: number): Float64Array | Promise<Float64Array>;
  /** Applies an action and returns what followed. */
  step(action: Action): StepResult | Promise<StepResult>;
}
