/**
 * LLM-as-judge preferences (seed 003: "score candidates, compare decision alternatives, generate synthetic
 * preference data"). For each judged training item the judge scores two answers to the same prompt: the
 * SFT model's own verdict and the alternative verdict. The answer it scores higher by at least `margin`
 * is chosen, the other rejected; items below the margin (the judge cannot tell them apart) give no pair.
 * Pure: the judge itself runs in activities/oumi/judge.ts (Oumi's rubric judge).
 */
import type { LabeledDecision } from './decision';
import { verdictPair } from './counterfactual';
import type { PreferencePair } from './examples';
import { renderUserPrompt, type Verdict } from './prompt';

/** What the judge reads as the policy's answer: the verdict and what it commits to (no reason: that would tell the judge the label). */
export const JUDGED_ANSWER: Record<Verdict, string> = {
  APPROVE: 'APPROVE\nThe proposed actions run automatically, without a human review.',
  FLAG: 'FLAG\nThe proposed actions are held until a human reviews them.',
};

export function otherVerdict(v: Verdict): Verdict {
  return v === 'APPROVE' ? 'FLAG' : 'APPROVE';
}

export interface ScoredPrediction {
  label: Verdict;
  p_approve: number;
}

/**
 * The training items to judge, at most `maxItems`: the SFT model's errors first, then the items closest to
 * its threshold (where its answer is least sure), ties by position. Returns indices in that order.
 */
export function selectJudgedItems(scored: readonly ScoredPrediction[], threshold: number, maxItems: number): number[] {
  if (!(threshold > 0 && threshold < 1)) throw new Error(`selectJudgedItems: threshold must be in (0, 1), got ${threshold}`);
  if (!Number.isInteger(maxItems) || maxItems < 1) throw new Error(`selectJudgedItems: maxItems must be an integer ≥ 1, got ${maxItems}`);
  const key = scored.map((s, i) => {
    const wrong = (s.p_approve >= threshold) !== (s.label === 'APPROVE');
    return { i, wrong, distance: Math.abs(s.p_approve - threshold) };
  });
  key.sort((a, b) => (a.wrong === b.wrong ? a.distance - b.distance || a.i - b.i : a.wrong ? -1 : 1));
  return key.slice(0, maxItems).map((k) => k.i);
}

/** One answer the judge scores: `request` and `response` are Oumi's judge dataset keys. */
export interface JudgeCandidate {
  /** Index of the training record (or of the reviewed decision). */
  item: number;
  source: 'sft' | 'alternative';
  verdict: Verdict;
  request: string;
  response: string;
}

/** The two answers of one decision: the policy's verdict first, then the other. */
export function candidatePair(item: number, record: Pick<LabeledDecision, 'input' | 'output'>, policyVerdict: Verdict): [JudgeCandidate, JudgeCandidate] {
  const request = renderUserPrompt(record.input, record.output.actions);
  const alternative = otherVerdict(policyVerdict);
  return [
    { item, source: 'sft', verdict: policyVerdict, request, response: JUDGED_ANSWER[policyVerdict] },
    { item, source: 'alternative', verdict: alternative, request, response: JUDGED_ANSWER[alternative] },
  ];
}

/** The judge's reading of one answer (python/judge_policy.py's line): null score when it gave no usable judgment. */
export interface JudgedAnswer {
  score: number | null;
  /** Per criterion: its score (null when missing) and the judge's explanation. */
  criteria: Record<string, { score: number | null; explanation: string | null }>;
}

export interface ItemPreference {
  item: number;
  /** null: no pair (an answer unscored, or the scores closer than the margin). */
  chosen: Verdict | null;
  margin: number | null;
  /** The judge's words for the chosen answer (the first criterion's explanation), for the pair's reason. */
  explanation: string | null;
}

/** Compares the two answers of each item (`answers[k]` scores `candidates[k]`, two per item, policy's first). */
export function preferences(candidates: readonly JudgeCandidate[], answers: readonly JudgedAnswer[], margin: number): ItemPreference[] {
  if (candidates.length !== answers.length) throw new Error(`preferences: ${candidates.length} candidates but ${answers.length} judged answers; expected one per candidate, in order`);
  if (candidates.length % 2 !== 0) throw new Error(`preferences: ${candidates.length} candidates; expected two per item`);
  if (!(margin >= 0 && margin <= 1)) throw new Error(`preferences: margin must be in [0, 1], got ${margin}`);
  const out: ItemPreference[] = [];
  for (let k = 0; k < candidates.length; k += 2) {
    const [a, b] = [candidates[k], candidates[k + 1]];
    if (a.item !== b.item || a.verdict === b.verdict) throw new Error(`preferences: candidates ${k} and ${k + 1} are not the two answers of one item`);
    const [sa, sb] = [answers[k].score, answers[k + 1].score];
    if (sa === null || sb === null) {
      out.push({ item: a.item, chosen: null, margin: null, explanation: null });
      continue;
    }
    const d = Math.abs(sa - sb);
    // A difference at the margin counts (scores are sums of a few labelled levels: compare with a tolerance).
    if (d + 1e-9 < margin || d === 0) {
      out.push({ item: a.item, chosen: null, margin: d, explanation: null });
      continue;
    }
    const winner = sa > sb ? k : k + 1;
    const first = Object.values(answers[winner].criteria)[0];
    out.push({ item: a.item, chosen: candidates[winner].verdict, margin: d, explanation: first?.explanation ?? null });
  }
  return out;
}

/**
 * A judged item as a DPO pair in the training format: the judge's verdict chosen over the other, the verdict
 * alone (counterfactual.ts, verdictPair: a reason after it is what DPO would learn instead of the verdict).
 * The judge's explanation stays in judge_scores.jsonl.
 */
export function judgePair(record: LabeledDecision, preference: ItemPreference): PreferencePair {
  if (preference.chosen === null) throw new Error(`judgePair: item ${preference.item} has no preferred answer`);
  return verdictPair(record, preference.chosen);
}

/** The verdict a pair prefers (its chosen answer's first line). */
function preferred(pair: PreferencePair): string {
  return pair.chosen.split('\n', 1)[0];
}

export interface MergedPairs {
  pairs: PreferencePair[];
  /** Judge pairs added (their prompt had no base pair, or the base pair agreed and is kept once). */
  added: number;
  /** Prompts whose base and judge pairs prefer opposite verdicts: both dropped (nobody can be trusted on them). */
  conflicts: number;
}

/** The base pairs (mined or every pair) with the judge's: one pair per prompt and verdict, contradictions dropped. */
export function mergePreferencePairs(base: readonly PreferencePair[], judged: readonly PreferencePair[]): MergedPairs {
  const judgedBy = new Map<string, string>();
  for (const p of judged) judgedBy.set(p.prompt, preferred(p));
  const contradicted = new Set<string>();
  const kept: PreferencePair[] = [];
  const basePrompts = new Set<string>();
  for (const p of base) {
    const j = judgedBy.get(p.prompt);
    basePrompts.add(p.prompt);
    if (j !== undefined && j !== preferred(p)) {
      contradicted.add(p.prompt);
      continue;
    }
    kept.push(p);
  }
  let added = 0;
  for (const p of judged) {
    if (contradicted.has(p.prompt) || basePrompts.has(p.prompt)) continue;
    kept.push(p);
    added++;
  }
  return { pairs: kept, added, conflicts: contradicted.size };
}

/** Agreement of the judge's verdicts with people's, on the items it decided; Cohen's kappa beside the raw rate. */
export function agreement(judge: readonly (Verdict | null)[], people: readonly Verdict[]): { n: number; decided: number; agree: number; agreement: number | null; kappa: number | null } {
  if (judge.length !== people.length) throw new Error(`agreement: ${judge.length} judge verdicts but ${people.length} people's; expected one each`);
  let decided = 0;
  let agree = 0;
  let judgeApprove = 0;
  let peopleApprove = 0;
  judge.forEach((j, i) => {
    if (j === null) return;
    decided++;
    if (j === people[i]) agree++;
    if (j === 'APPROVE') judgeApprove++;
    if (people[i] === 'APPROVE') peopleApprove++;
  });
  if (decided === 0) return { n: judge.length, decided, agree, agreement: null, kappa: null };
  const po = agree / decided;
  // κ = (p_o − p_e) / (1 − p_e), p_e the agreement expected from the two raters' marginals alone.
  const pj = judgeApprove / decided;
  const pp = peopleApprove / decided;
  const pe = pj * pp + (1 - pj) * (1 - pp);
  return { n: judge.length, decided, agree, agreement: po, kappa: pe < 1 ? (po - pe) / (1 - pe) : null };
}
