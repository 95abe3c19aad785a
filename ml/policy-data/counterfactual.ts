/**
 * Counterfactual preference pairs for the DPO stage (issue "Oumi policy" item 2): for a decision the SFT
 * model gets wrong, the same decision with ONE fact changed (the blast radius, the risk, the recent-deploy
 * flag, one action's approval, confidence or type) such that the judge's verdict flips. Trained side by
 * side, the original and its variant differ in exactly the fact the verdict turns on, which is what the
 * tiny model fails to pick out on its own (bench/RESULTS.md, 2026-12-07: SFT's remaining errors sit in
 * rare conjunctions such as "restart" with blast_radius=multi_service).
 *
 * The verdict of a variant comes from `judgeGood`, never from the original's label: in the bench that is
 * the reviewing rule (the rule-backed stand-in judge of the tests); in production it must be a judge
 * trusted on unseen inputs. Pure and seeded.
 */
import { Rng } from '../rng';
import { ACTION_TYPES, BLAST_RADII, RISK_LEVELS, type DecisionInput, type LabeledDecision, type ProposedAction } from './decision';
import type { PreferencePair } from './examples';
import { promptMessages, renderChatML, type Verdict } from './prompt';

/** Whether the judge calls the decision good (APPROVE). */
export type JudgeGood = (input: DecisionInput, actions: readonly ProposedAction[]) => boolean;

/**
 * Every one-fact change of `record` (unlabelled): another blast radius, risk level or recent-deploy flag, or
 * one action with the other approval, a confidence on the other side of 0.4 (the reviewing rule's floor;
 * drawn with `rng`) or another type. The judge decides which of them flip the verdict.
 */
export function oneFactChanges(record: Pick<LabeledDecision, 'input' | 'output'>, rng: Rng): Pick<LabeledDecision, 'input' | 'output'>[] {
  const out: Pick<LabeledDecision, 'input' | 'output'>[] = [];
  const { analysis } = record.input;
  const actions = record.output.actions;
  const withAnalysis = (a: DecisionInput['analysis']): void => void out.push({ input: { ...record.input, analysis: a }, output: { actions } });
  for (const blast of BLAST_RADII) if (blast !== analysis.blast_radius) withAnalysis({ ...analysis, blast_radius: blast });
  for (const risk of RISK_LEVELS) if (risk !== analysis.risk_level) withAnalysis({ ...analysis, risk_level: risk });
  withAnalysis({ ...analysis, recent_deploy: !analysis.recent_deploy });
  actions.forEach((action, j) => {
    const withAction = (a: ProposedAction): void => void out.push({ input: record.input, output: { actions: actions.map((x, k) => (k === j ? a : x)) } });
    withAction({ ...action, auto_approved: !action.auto_approved });
    withAction({ ...action, confidence: action.confidence >= 0.4 ? (10 + rng.int(29)) / 100 : (41 + rng.int(55)) / 100 });
    for (const type of ACTION_TYPES) if (type !== action.type) withAction({ ...action, type });
  });
  return out;
}

/** Up to `perItem` one-fact changes of each of `items`, drawn with `rng`: what a judge is asked about. */
export function drawOneFactChanges(records: readonly Pick<LabeledDecision, 'input' | 'output'>[], items: readonly number[], perItem: number, rng: Rng): { of: number; record: Pick<LabeledDecision, 'input' | 'output'> }[] {
  return items.flatMap((i) => rng.shuffle(oneFactChanges(records[i], rng)).slice(0, perItem).map((record) => ({ of: i, record })));
}

/** A judged one-fact change: its item, the judge's verdicts on both, and whether it became a pair. */
export interface JudgedChange {
  of: number;
  judged: Verdict | null;
  item: Verdict | null;
  pair: boolean;
  record: Pick<LabeledDecision, 'input' | 'output'>;
}

/**
 * The changes the judge decided the other way than their item (both decided), at most `perItem` per item, in
 * order, each as a verdict pair: the two prompts differ in the one fact the verdict turns on.
 */
export function flipPairs(
  changes: readonly { of: number; record: Pick<LabeledDecision, 'input' | 'output'> }[],
  judged: readonly (Verdict | null)[],
  itemVerdict: (of: number) => Verdict | null,
  perItem: number,
): { rows: JudgedChange[]; pairs: PreferencePair[] } {
  if (judged.length !== changes.length) throw new Error(`flipPairs: ${judged.length} verdicts for ${changes.length} changes; expected one each, in order`);
  const kept = new Map<number, number>();
  const pairs: PreferencePair[] = [];
  const rows = changes.map((c, k): JudgedChange => {
    const chosen = judged[k];
    const item = itemVerdict(c.of);
    const pair = chosen !== null && item !== null && chosen !== item && (kept.get(c.of) ?? 0) < perItem;
    if (pair) {
      kept.set(c.of, (kept.get(c.of) ?? 0) + 1);
      pairs.push(verdictPair(c.record, chosen));
    }
    return { of: c.of, judged: chosen, item, pair, record: c.record };
  });
  return { rows, pairs };
}

/** The one-fact changes of `record` whose verdict under `judgeGood` differs from `record`'s, labelled by it. */
export function flippingVariants(record: Pick<LabeledDecision, 'input' | 'output'>, judgeGood: JudgeGood, rng: Rng): LabeledDecision[] {
  const base = judgeGood(record.input, record.output.actions);
  const out: LabeledDecision[] = [];
  for (const v of oneFactChanges(record, rng)) {
    const good = judgeGood(v.input, v.output.actions);
    if (good !== base) out.push({ ...v, label: good ? 'good' : 'bad' });
  }
  return out;
}

/**
 * A DPO pair about the verdict alone: chosen = the verdict, rejected = the other, no reason after it.
 * With a reason (or any text) after the verdict, DPO satisfies most pairs by making the text after the
 * rejected verdict unlikely and leaves the verdict token — the one the server reads — unchanged or
 * moved the wrong way (measured: bench/RESULTS.md, 2026-12-07). The trainer appends the end-of-turn token
 * to both; an SFT term on the chosen side (loss_type [sigmoid, sft]) makes that token certain after
 * either verdict, so it stops carrying the preference.
 */
export function verdictPair(record: Pick<LabeledDecision, 'input' | 'output'>, verdict: Verdict): PreferencePair {
  return {
    prompt: renderChatML(promptMessages(record.input, record.output.actions), true),
    chosen: verdict,
    rejected: verdict === 'APPROVE' ? 'FLAG' : 'APPROVE',
  };
}

export interface JudgedPairOptions {
  /** The SFT model's decision point for mining: wrong = (p_approve ≥ at) disagrees with the judge. Default 0.5. */
  at?: number;
  /** |p_approve − at| below this counts as barely right, mined too. Default 0.1. */
  margin?: number;
  /** Flipping variants per mined item (fewer when fewer exist). Default 3. */
  variants?: number;
  seed: number;
}

export interface JudgedPairs {
  pairs: PreferencePair[];
  /** Items the SFT model answers against the judge; barely right ones; confidently right ones drawn; variants. */
  errors: number;
  marginal: number;
  easy: number;
  variants: number;
  /** Pairs whose chosen verdict is APPROVE / FLAG. */
  approve: number;
  flag: number;
}

/** A pool of decisions the SFT model scored and the judge decided, split by what DPO should learn from. */
export interface PoolMining {
  /** Items the model answers against the judge or barely right (|p_approve − at| < margin), in pool order. */
  hard: number[];
  /** How many of `hard` the model answers against the judge. */
  errors: number;
  /** Confidently right items, by the judge's verdict. */
  easyApprove: number[];
  easyFlag: number[];
  /** Items the judge left undecided (not used). */
  undecided: number;
}

/**
 * Splits a scored pool by the judge's verdicts (null: the judge could not decide; the item is left out):
 * every item the model gets wrong at `at` or barely right is hard, the rest easy. Pure.
 */
export function minePool(pApprove: readonly number[], verdicts: readonly (Verdict | null)[], options: { at?: number; margin?: number } = {}): PoolMining {
  const at = options.at ?? 0.5;
  const margin = options.margin ?? 0.1;
  if (verdicts.length !== pApprove.length) throw new Error(`minePool: ${verdicts.length} verdicts but ${pApprove.length} scores; expected one score per item, in order`);
  if (!(at > 0 && at < 1)) throw new Error(`minePool: at must be in (0, 1), got ${at}`);
  if (!(margin >= 0 && margin < 1)) throw new Error(`minePool: margin must be in [0, 1), got ${margin}`);
  const out: PoolMining = { hard: [], errors: 0, easyApprove: [], easyFlag: [], undecided: 0 };
  pApprove.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new Error(`minePool: score ${i} is ${p}; expected p_approve in [0, 1]`);
    const verdict = verdicts[i];
    if (verdict === null) {
      out.undecided++;
      return;
    }
    const wrong = (p >= at) !== (verdict === 'APPROVE');
    if (wrong) out.errors++;
    if (wrong || Math.abs(p - at) < margin) out.hard.push(i);
    else (verdict === 'APPROVE' ? out.easyApprove : out.easyFlag).push(i);
  });
  return out;
}

/**
 * For each hard item a confidently right item of the other verdict, drawn with `rng` (mined items alone are
 * mostly one verdict, and a one-sided set moves every score one way, which the calibrated threshold then
 * undoes): as many easy APPROVE items as hard FLAG ones and the other way round, fewer when fewer exist.
 */
export function matchedEasyItems(mining: PoolMining, verdicts: readonly (Verdict | null)[], rng: Rng): number[] {
  const hardApprove = mining.hard.filter((i) => verdicts[i] === 'APPROVE').length;
  return [...rng.shuffle([...mining.easyApprove]).slice(0, mining.hard.length - hardApprove), ...rng.shuffle([...mining.easyFlag]).slice(0, hardApprove)];
}

/**
 * Verdict pairs from the SFT model's answers on a pool of decisions, judged by `judgeGood`: every item it
 * gets wrong or barely right, `variants` one-fact flips of each, and for each mined item a confidently
 * right item of the other verdict. The judge stage of the workflow does the same with the LLM judge
 * (activities/oumi/judge.ts: minePool, then the judged one-fact changes, then matchedEasyItems).
 */
export function judgedVerdictPairs(records: readonly Pick<LabeledDecision, 'input' | 'output'>[], pApprove: readonly number[], judgeGood: JudgeGood, options: JudgedPairOptions): JudgedPairs {
  const perItem = options.variants ?? 3;
  if (records.length !== pApprove.length) throw new Error(`judgedVerdictPairs: ${records.length} records but ${pApprove.length} scores; expected one score per record, in order`);
  if (!Number.isInteger(perItem) || perItem < 0) throw new Error(`judgedVerdictPairs: variants must be an integer ≥ 0, got ${perItem}`);
  const rng = new Rng(options.seed);
  const verdicts = records.map((r): Verdict => (judgeGood(r.input, r.output.actions) ? 'APPROVE' : 'FLAG'));
  const mining = minePool(pApprove, verdicts, options);
  const pairs: PreferencePair[] = mining.hard.map((i) => verdictPair(records[i], verdicts[i] as Verdict));
  let variants = 0;
  for (const i of mining.hard) {
    for (const v of rng.shuffle(flippingVariants(records[i], judgeGood, rng)).slice(0, perItem)) {
      pairs.push(verdictPair(v, v.label === 'good' ? 'APPROVE' : 'FLAG'));
      variants++;
    }
  }
  const drawn = matchedEasyItems(mining, verdicts, rng);
  for (const i of drawn) pairs.push(verdictPair(records[i], verdicts[i] as Verdict));
  const approve = pairs.filter((p) => p.chosen === 'APPROVE').length;
  const flag = pairs.length - approve;
  return { pairs: rng.shuffle(pairs), errors: mining.errors, marginal: mining.hard.length - mining.errors, easy: drawn.length, variants, approve, flag };
}
