/**
 * The traffic router: per request, champion or canary by the deployment's canary weight.
 *
 * With a `unit` key (a user, a session) the choice is sticky: u = hash(deployment, generation, unit)
 * mapped to [0, 1), canary iff u < weight. The same unit keeps its arm for as long as the deployment's
 * generation does not change, in every server process (the hash is a pure function of strings). Raising
 * the weight only moves units from champion to canary (u < 0.05 implies u < 0.25), as ramps expect.
 * Without a unit the choice is an independent coin flip. Either way the decision records the arm and
 * the probability with which this request's arm was chosen (w or 1 − w).
 *
 * Hash: 32-bit FNV-1a over the UTF-16 code units, finished with MurmurHash3's fmix32 so that nearby
 * keys ("user:1", "user:2") spread over the whole range.
 */

export type Arm = 'champion' | 'canary';

export interface ArmChoice {
  arm: Arm;
  /** P(this arm) for this request: the canary weight, or 1 − weight. */
  probability: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The FNV state after `deployment \0 generation \0`, computed once per deployment state. */
export function stickySeed(deployment: string, generation: number): number {
  return fnv1a(fnv1a(FNV_OFFSET, deployment) ^ 0, `\u0000${generation}\u0000`);
}

/** The unit's position in [0, 1) for a given seed. */
export function stickyUniform(seed: number, unit: string): number {
  return fmix32(fnv1a(seed, unit)) / 4294967296;
}

export class TrafficRouter {
  private readonly seed: number;
  private readonly canary: ArmChoice;
  private readonly champion: ArmChoice;

  /**
   * @param canaryWeight effective canary share in [0, 1] (0 when there is no canary or it was ejected)
   * @param random uniform [0, 1) source for requests without a unit
   */
  constructor(
    deployment: string,
    generation: number,
    readonly canaryWeight: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(canaryWeight >= 0 && canaryWeight <= 1)) throw new Error(`canary weight must be in [0, 1], got ${canaryWeight}`);
    this.seed = stickySeed(deployment, generation);
    this.canary = Object.freeze({ arm: 'canary', probability: canaryWeight });
    this.champion = Object.freeze({ arm: 'champion', probability: 1 - canaryWeight });
  }

  /** Champion or canary for one request; `unit` makes it sticky. */
  pick(unit: string | undefined): ArmChoice {
    const w = this.canaryWeight;
    if (w <= 0) return CHAMPION_ALWAYS;
    if (w >= 1) return CANARY_ALWAYS;
    const u = unit === undefined ? this.random() : stickyUniform(this.seed, unit);
    return u < w ? this.canary : this.champion;
  }
}

const CHAMPION_ALWAYS: ArmChoice = Object.freeze({ arm: 'champion', probability: 1 });
const CANARY_ALWAYS: ArmChoice = Object.freeze({ arm: 'canary', probability: 1 });
