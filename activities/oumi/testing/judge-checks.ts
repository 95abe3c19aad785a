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

/** The `judge` evaluations recorded on a version. */
export async function judgeEvaluations(registry: Registry, model: string, version: number) {
  return (await registry.listEvaluations(model, version)).filter((e) => e.kind === 'judge');
}
