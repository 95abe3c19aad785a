/**
 * What a textPolicyTraining run with the rule-backed stand-in judge (rule-judge-server.ts) must have produced,
 * computed independently from the run's own files: the training records and the SFT model's predictions
 * on them decide which items were judged, the reviewing rule decides each pair and which items fall below
 * the margin, and the labels and the reviewers' verdicts decide the agreement. For the integration tests.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { JudgeAgreement, JudgeCandidatesResult, PolicyMetrics } from '../../../contracts/text-policy-training';
import { parseDecisionsJsonl, type LabeledDecision } from '../../../ml/policy-data/decision';
import { judge as rule, MIN_CONFIDENCE } from '../../../ml/policy-data/judge';
import { agreement, selectJudgedItems, type ScoredPrediction } from '../../../ml/policy-data/judging';
import { verdictFor, type Verdict } from '../../../ml/policy-data/prompt';
import type { Registry } from '../../../registry/index';

export const ruleVerdict = (r: Pick<LabeledDecision, 'input' | 'output'>): Verdict => (rule(r.input, r.output.actions).good ? 'APPROVE' : 'FLAG');
export const isBorderline = (r: Pick<LabeledDecision, 'output'>, borderline: number): boolean => r.output.actions.some((a) => Math.abs(a.confidence - MIN_CONFIDENCE) < borderline);

const lines = async <T>(file: string): Promise<T[]> => (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);

export interface JudgeExpectations {
  /** The pairs' chosen verdicts, the items below the margin, and the agreement with the labels the run should report. */
  chosen: Verdict[];
  belowMargin: number;
  labels: JudgeAgreement;
  /** Base pairs the judge contradicts (dropped from the merged file). */
  contradicted: string[];
  base: { prompt: string; chosen: string }[];
  merged: { prompt: string; chosen: string }[];
  judgePairs: { prompt: string; chosen: string; rejected: string }[];
  /** The one-fact changes judged (judge_variants.jsonl) and, by the rule, the pairs they must give: the verdict of
   *  each change the stand-in decides (not borderline) the other way than its item's, at most `variants` per item. */
  variants: { of: number; judged: Verdict | null; item: Verdict | null; pair: boolean; record: Pick<LabeledDecision, 'input' | 'output'> }[];
  variantChosen: Verdict[];
  /** Text of every file the judge stage wrote. */
  files: string[];
}

/** Reads a run's judge files and computes what they must hold. */
export async function judgeExpectations(workDir: string, judged: JudgeCandidatesResult, maxItems: number, borderline: number, variantsPerItem: number): Promise<JudgeExpectations> {
  const records = parseDecisionsJsonl(await readFile(path.join(workDir, 'prepared', 'train.jsonl'), 'utf8'));
  const predictions = await lines<ScoredPrediction>(path.join(workDir, 'predictions-sft-train.jsonl'));
  const { threshold } = JSON.parse(await readFile(path.join(workDir, 'metrics-sft.json'), 'utf8')) as PolicyMetrics;
  const items = selectJudgedItems(predictions, threshold, maxItems);
  const decided = items.filter((i) => !isBorderline(records[i], borderline));
  const mined = path.join(workDir, 'prepared', 'dpo_mined.jsonl');
  const basePath = (await readdir(path.dirname(mined))).includes('dpo_mined.jsonl') ? mined : path.join(workDir, 'prepared', 'dpo_train.jsonl');
  const base = await lines<{ prompt: string; chosen: string }>(basePath);
  const judgePairs = await lines<{ prompt: string; chosen: string; rejected: string }>(judged.judgePairsPath);
  const judgedBy = new Map(judgePairs.map((p) => [p.prompt, p.chosen.split('\n')[0]]));
  const folder = path.dirname(judged.path);
  const variants = await lines<JudgeExpectations['variants'][number]>(path.join(folder, 'judge_variants.jsonl'));
  const perItem = new Map<number, number>();
  const variantChosen: Verdict[] = [];
  for (const v of variants) {
    const judgedVerdict = isBorderline(v.record, borderline) ? null : ruleVerdict(v.record);
    const itemVerdict = isBorderline(records[v.of], borderline) ? null : ruleVerdict(records[v.of]);
    if (judgedVerdict !== null && itemVerdict !== null && judgedVerdict !== itemVerdict && (perItem.get(v.of) ?? 0) < variantsPerItem) {
      perItem.set(v.of, (perItem.get(v.of) ?? 0) + 1);
      variantChosen.push(judgedVerdict);
    }
  }
  return {
    variants,
    variantChosen,
    chosen: decided.map((i) => ruleVerdict(records[i])),
    belowMargin: items.length - decided.length,
    labels: agreement(items.map((i) => (isBorderline(records[i], borderline) ? null : ruleVerdict(records[i]))), items.map((i) => verdictFor(records[i].label))),
    contradicted: base.filter((p) => judgedBy.has(p.prompt) && judgedBy.get(p.prompt) !== p.chosen.split('\n')[0]).map((p) => p.prompt),
    base,
    merged: await lines<{ prompt: string; chosen: string }>(judged.path),
    judgePairs,
    files: await Promise.all((await readdir(folder)).map((f) => readFile(path.join(folder, f), 'utf8'))),
  };
}

export interface PoolExpectations {
  /** The pool's decisions and the SFT model's scores as the run wrote them (judge_pool.jsonl). */
  records: Pick<LabeledDecision, 'input' | 'output'>[];
  scores: number[];
  /** The stand-in's verdict on each (null on a borderline item), the hard items it implies at 0.5 ± 0.1, and the errors among them. */
  verdicts: (Verdict | null)[];
  hard: number[];
  errors: number;
  /** The roles the run gave (hard, matched, or null). */
  roles: (string | null)[];
  /** The one-fact changes judged (judge_pool_variants.jsonl) and, by the rule, the verdicts of those that must be pairs. */
  variants: JudgeExpectations['variants'];
  variantChosen: Verdict[];
}

/** Reads a run's judge_pool*.jsonl and computes, by the reviewing rule, what the pool stage must have made of them. */
export async function poolExpectations(judgeDir: string, borderline: number, variantsPerItem: number): Promise<PoolExpectations> {
  const rows = await lines<{ p_approve: number; judged: Verdict | null; role: string | null; record: Pick<LabeledDecision, 'input' | 'output'> }>(path.join(judgeDir, 'judge_pool.jsonl'));
  const records = rows.map((r) => r.record);
  const scores = rows.map((r) => r.p_approve);
  const verdicts = records.map((r) => (isBorderline(r, borderline) ? null : ruleVerdict(r)));
  const hard: number[] = [];
  let errors = 0;
  verdicts.forEach((v, i) => {
    if (v === null) return;
    const wrong = (scores[i] >= 0.5) !== (v === 'APPROVE');
    if (wrong) errors++;
    if (wrong || Math.abs(scores[i] - 0.5) < 0.1) hard.push(i);
  });
  const variants = await lines<JudgeExpectations['variants'][number]>(path.join(judgeDir, 'judge_pool_variants.jsonl'));
  const perItem = new Map<number, number>();
  const variantChosen: Verdict[] = [];
  for (const v of variants) {
    const judgedVerdict = isBorderline(v.record, borderline) ? null : ruleVerdict(v.record);
    if (judgedVerdict !== null && judgedVerdict !== verdicts[v.of] && (perItem.get(v.of) ?? 0) < variantsPerItem) {
      perItem.set(v.of, (perItem.get(v.of) ?? 0) + 1);
      variantChosen.push(judgedVerdict);
    }
  }
  return { records, scores, verdicts, hard, errors, roles: rows.map((r) => r.role), variants, variantChosen };
}

/** The `judge` evaluations recorded on a version. */
export async function judgeEvaluations(registry: Registry, model: string, version: number) {
  return (await registry.listEvaluations(model, version)).filter((e) => e.kind === 'judge');
}
