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

/**
 * Verdict pairs from the SFT model's answers on a pool of decisions, judged by `judgeGood`: every item it
 * gets wrong or barely right, `variants` one-fact flips of each, and for each mined item a confidently
 * right item of the other verdict (mined items alone are mostly one verdict, and a one-sided set moves
 * every score one way, which the calibrated threshold then undoes).
 */
export function judgedVerdictPairs(records: readonly Pick<LabeledDecision, 'input' | 'output'>[], pApprove: readonly number[], judgeGood: JudgeGood, options: JudgedPairOptions): JudgedPairs {
  const at = options.at ?? 0.5;
  const margin = options.margin ?? 0.1;
  const perItem = options.variants ?? 3;
  if (records.length !== pApprove.length) throw new Error(`judgedVerdictPairs: ${records.length} records but ${pApprove.length} scores; expected one score per record, in order`);
  if (!(at > 0 && at < 1)) throw new Error(`judgedVerdictPairs: at must be in (0, 1), got ${at}`);
  if (!(margin >= 0 && margin < 1)) throw new Error(`judgedVerdictPairs: margin must be in [0, 1), got ${margin}`);
  if (!Number.isInteger(perItem) || perItem < 0) throw new Error(`judgedVerdictPairs: variants must be an integer ≥ 0, got ${perItem}`);
  const rng = new Rng(options.seed);
  const shuffle = <T>(xs: T[]): T[] => rng.shuffle(xs);
  const good = records.map((r) => judgeGood(r.input, r.output.actions));
  const hard: number[] = [];
  const easyApprove: number[] = [];
  const easyFlag: number[] = [];
  let errors = 0;
  records.forEach((_, i) => {
    const p = pApprove[i];
    if (!(p >= 0 && p <= 1)) throw new Error(`judgedVerdictPairs: score ${i} is ${p}; expected p_approve in [0, 1]`);
    const wrong = (p >= at) !== good[i];
    if (wrong) errors++;
    if (wrong || Math.abs(p - at) < margin) hard.push(i);
    else (good[i] ? easyApprove : easyFlag).push(i);
  });
  const pairs: PreferencePair[] = hard.map((i) => verdictPair(records[i], good[i] ? 'APPROVE' : 'FLAG'));
  let variants = 0;
  for (const i of hard) {
    for (const v of shuffle(flippingVariants(records[i], judgeGood, rng)).slice(0, perItem)) {
      pairs.push(verdictPair(v, v.label === 'good' ? 'APPROVE' : 'FLAG'));
      variants++;
    }
  }
  // Each mined item is matched by a confidently right item of the other verdict, so that the mined items
  // and their matches prefer APPROVE and FLAG equally often.
  const hardApprove = hard.filter((i) => good[i]).length;
  const drawn = [...shuffle(easyApprove).slice(0, hard.length - hardApprove), ...shuffle(easyFlag).slice(0, hardApprove)];
  for (const i of drawn) pairs.push(verdictPair(records[i], good[i] ? 'APPROVE' : 'FLAG'));
  const approve = pairs.filter((p) => p.chosen === 'APPROVE').length;
  const flag = pairs.length - approve;
  return { pairs: shuffle(pairs), errors, marginal: hard.length - errors, easy: drawn.length, variants, approve, flag };
}
