/**
 * OPE inputs from one logged round at a time: the rows of an NDJSON file (one JSON object per line,
 * OBP's names), appended to growing typed arrays so that no round is held as text or as a parsed
 * object for longer than its own line. A line looks like
 *
 *   {"reward": 1, "action": 3, "pscore": 0.12, "action_dist": [0.1, …], "estimated_rewards_by_reg_model": [0.4, …]}
 *
 * `action_dist` and `estimated_rewards_by_reg_model` are arrays over actions (or over actions, then
 * positions); `position` (an integer) and `context` (an array of numbers) are optional. The first
 * round fixes which fields are present and the shapes; every later round must match it. Other fields
 * are ignored, as by `opeInputsFromJson`. Errors name the line, the field and what was expected. Value rules (probabilities, propensities) are left to
 * `checkOpeInputs`, as for the JSON path.
 */
import { OpeInputError } from './errors';
import type { ActionArray, Matrix, OpeInputs } from './types';

/** A typed array that doubles its capacity as values are appended. */
class Growing<T extends Float64Array | Int32Array> {
  private buf: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.buf = make(1024);
  }
  reserve(extra: number): T {
    if (this.length + extra > this.buf.length) {
      const next = this.make(Math.max(this.buf.length * 2, this.length + extra));
      next.set(this.buf.subarray(0, this.length) as never);
      this.buf = next;
    }
    return this.buf;
  }
  push(v: number): void {
    this.reserve(1)[this.length++] = v;
  }
  /** Grows the capacity to `total` values at once (no doubling steps, no over-allocation). */
  capacity(total: number): void {
    if (total > this.buf.length) this.reserve(total - this.length);
  }
  /** The values: a view when little capacity is left over, else a trimmed copy. */
  done(): T {
    if (this.buf.length - this.length <= this.length >>> 3) return this.buf.subarray(0, this.length) as T;
    return this.buf.slice(0, this.length) as T;
  }
}

const f64 = (n: number) => new Float64Array(n);
const i32 = (n: number) => new Int32Array(n);

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

interface Shape {
  nActions: number;
  lenList: number;
  hasReward: boolean;
  hasAction: boolean;
  hasPscore: boolean;
  hasQ: boolean;
  hasPosition: boolean;
  nFeatures: number; // -1: no context
}

/** Collects rounds line by line; `finish()` returns the same inputs `opeInputsFromJson` would. */
export class OpeRowsReader {
  private shape: Shape | undefined;
  private firstLine = 0;
  private nRounds = 0;
  private readonly reward = new Growing(f64);
  private readonly action = new Growing(i32);
  private readonly pscore = new Growing(f64);
  private readonly position = new Growing(i32);
  private readonly actionDist = new Growing(f64);
  private readonly q = new Growing(f64);
  private readonly context = new Growing(f64);

  /** Rounds read so far. */
  get rounds(): number {
    return this.nRounds;
  }

  /**
   * Makes room for `rounds` rounds in all, once the first round has fixed the shapes (a reader
   * that knows the file's size estimates it): the arrays then grow once instead of doubling.
   */
  expectRounds(rounds: number): void {
    const shape = this.shape;
    if (shape === undefined || !(rounds > this.nRounds)) return;
    const cells = shape.nActions * shape.lenList;
    if (shape.hasReward) this.reward.capacity(rounds);
    if (shape.hasAction) this.action.capacity(rounds);
    if (shape.hasPscore) this.pscore.capacity(rounds);
    if (shape.hasPosition) this.position.capacity(rounds);
    this.actionDist.capacity(rounds * cells);
    if (shape.hasQ) this.q.capacity(rounds * cells);
    if (shape.nFeatures > 0) this.context.capacity(rounds * shape.nFeatures);
  }

  /** Adds the round on line `line` (1-based, for messages); a blank line is skipped. */
  addLine(text: string, line: number): void {
    if (text.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (err) {
      throw new OpeInputError(`line ${line}`, `text that is not JSON (${(err as Error).message})`, 'one JSON object per line');
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new OpeInputError(`line ${line}`, describe(row), 'a JSON object with reward, action, pscore and action_dist');
    this.addRow(row as Record<string, unknown>, line);
  }

  /** Adds one parsed round (a JSON object with OBP's names). */
  addRow(o: Record<string, unknown>, line: number): void {
    const at = (field: string) => `line ${line}: ${field}`;
    let shape = this.shape;
    if (shape === undefined) {
      const dist = o.action_dist;
      if (!Array.isArray(dist) || dist.length === 0) throw new OpeInputError(at('action_dist'), describe(dist), 'a non-empty array over actions (or actions × positions)');
      const lenList = Array.isArray(dist[0]) ? (dist[0] as unknown[]).length : 1;
      if (lenList === 0) throw new OpeInputError(at('action_dist[0]'), 'an array of length 0', 'an array over len_list ≥ 1 positions');
      const ctx = o.context;
      if (ctx !== undefined && ctx !== null && !Array.isArray(ctx)) throw new OpeInputError(at('context'), describe(ctx), 'an array of n_features numbers');
      shape = this.shape = {
        nActions: dist.length,
        lenList,
        hasReward: o.reward !== undefined,
        hasAction: o.action !== undefined,
        hasPscore: o.pscore !== undefined,
        hasQ: o.estimated_rewards_by_reg_model !== undefined && o.estimated_rewards_by_reg_model !== null,
        hasPosition: o.position !== undefined && o.position !== null,
        nFeatures: Array.isArray(ctx) ? ctx.length : -1,
      };
      this.firstLine = line;
    }
    const first = this.firstLine;
    const present = (field: string, has: boolean, what: string): boolean => {
      const v = o[field];
      const here = v !== undefined && v !== null;
      if (here !== has) throw new OpeInputError(at(field), here ? describe(v) : 'nothing', has ? what : `nothing, as on line ${first} (every round has the same fields)`);
      return has;
    };
    if (present('reward', shape.hasReward, 'a number, as on line ' + first)) this.reward.push(num(o.reward, at('reward')));
    if (present('action', shape.hasAction, 'an integer, as on line ' + first)) this.action.push(int(o.action, at('action')));
    if (present('pscore', shape.hasPscore, 'a number, as on line ' + first)) this.pscore.push(num(o.pscore, at('pscore')));
    if (present('position', shape.hasPosition, 'an integer, as on line ' + first)) this.position.push(int(o.position, at('position')));
    cells(o.action_dist, at('action_dist'), shape, this.actionDist);
    if (present('estimated_rewards_by_reg_model', shape.hasQ, `an array over n_actions = ${shape.nActions} actions, as on line ${first}`)) {
      cells(o.estimated_rewards_by_reg_model, at('estimated_rewards_by_reg_model'), shape, this.q);
    }
    if (present('context', shape.nFeatures >= 0, `an array of n_features = ${shape.nFeatures} numbers, as on line ${first}`)) {
      const ctx = o.context;
      if (!Array.isArray(ctx) || ctx.length !== shape.nFeatures) throw new OpeInputError(at('context'), describe(ctx), `an array of n_features = ${shape.nFeatures} numbers`);
      const buf = this.context.reserve(ctx.length);
      for (let j = 0; j < ctx.length; j++) buf[this.context.length + j] = num(ctx[j], `${at('context')}[${j}]`);
      this.context.length += ctx.length;
    }
    this.nRounds++;
  }

  /** The inputs read, as `opeInputsFromJson` returns them. */
  finish(): { inputs: OpeInputs; context?: Matrix } {
    const shape = this.shape;
    if (shape === undefined) throw new OpeInputError('input', 'no rounds', 'at least one line with a JSON object per logged round');
    const n = this.nRounds;
    const arr = (g: Growing<Float64Array>): ActionArray => ({ data: g.done(), nRounds: n, nActions: shape.nActions, lenList: shape.lenList });
    const inputs: OpeInputs = { actionDist: arr(this.actionDist) };
    if (shape.hasReward) inputs.reward = this.reward.done();
    if (shape.hasAction) inputs.action = this.action.done();
    if (shape.hasPscore) inputs.pscore = this.pscore.done();
    if (shape.hasPosition) inputs.position = this.position.done();
    if (shape.hasQ) inputs.estimatedRewardsByRegModel = arr(this.q);
    const context = shape.nFeatures >= 0 ? { data: this.context.done(), rows: n, cols: shape.nFeatures } : undefined;
    return { inputs, context };
  }
}

function num(v: unknown, field: string): number {
  if (typeof v !== 'number') throw new OpeInputError(field, describe(v), 'a number');
  return v;
}

function int(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new OpeInputError(field, describe(v), 'an integer');
  return v;
}

/** Appends one round's n_actions (× len_list) values of an action array, checking its shape. */
function cells(v: unknown, field: string, shape: Shape, out: Growing<Float64Array>): void {
  const { nActions, lenList } = shape;
  if (!Array.isArray(v) || v.length !== nActions) throw new OpeInputError(field, describe(v), `an array over n_actions = ${nActions} actions`);
  const buf = out.reserve(nActions * lenList);
  const base = out.length;
  if (lenList === 1 && !Array.isArray(v[0])) {
    for (let a = 0; a < nActions; a++) buf[base + a] = num(v[a], `${field}[${a}]`);
  } else {
    for (let a = 0; a < nActions; a++) {
      const cell = v[a];
      if (!Array.isArray(cell) || cell.length !== lenList) throw new OpeInputError(`${field}[${a}]`, describe(cell), `an array over len_list = ${lenList} positions`);
      for (let k = 0; k < lenList; k++) buf[base + a * lenList + k] = num(cell[k], `${field}[${a}][${k}]`);
    }
  }
  out.length += nActions * lenList;
}
