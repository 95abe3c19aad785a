/**
 * The judge stage of textPolicyTraining (seed 003's LLM-as-judge; activities on the `oumi` queue):
 *
 *   judgePolicyCandidates       the SFT model's answers on its training split (its errors first, then its least
 *                               sure answers, at most `maxItems`) and the alternative verdicts, plus the policy's
 *                               served answers that reviewers judged (decision_feedback), are scored by Oumi's
 *                               rubric judge (python/judge_policy.py) on the config's criteria. On each training
 *                               item the answer scored higher by at least `margin` is chosen over the other
 *                               (ml/policy-data/judging.ts). Up to `variantCandidates` one-fact changes of each
 *                               judged item are scored too; those the judge gives the other verdict than the
 *                               item's (at most `variants` per item) become pairs as well (synthetic preference
 *                               data, ml/policy-data/counterfactual.ts). With `llm_judge.pool`, an unseen pool
 *                               (fresh generated decisions, or the model's served ones) is scored by the SFT
 *                               model and judged too: the items it gets wrong or barely right at 0.5 by the
 *                               judge's verdict, their one-fact changes the judge flips (a second judge round)
 *                               and as many right items of the other verdict become pairs. Those pairs join the
 *                               base DPO pairs (contradicting ones dropped). The judge's verdicts are compared with the labels and with the
 *                               reviewers' (agreement, Cohen's kappa).
 *   recordPolicyJudgeEvaluation a `judge` evaluation of each registered version with that agreement.
 *
 * The judge model's API key stays in the worker's environment (the variable the config names): it is
 * never written to a file, a result or the registry; the endpoint is recorded without user-info or query.
 */
import { ApplicationFailure } from '@temporalio/common';
import { cancellationSignal } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from 'pg';
import type { JudgeAgreement, JudgeCandidatesRequest, JudgeCandidatesResult, JudgePoolSummary, PolicyJudgeActivities, PolicyJudgeConfig } from '../../contracts/text-policy-training';
import { labeledDecisionSchema, parseDecisionsJsonl, type LabeledDecision } from '../../ml/policy-data/decision';
import type { PreferencePair } from '../../ml/policy-data/examples';
import {
  agreement,
  candidatePair,
  judgePair,
  mergePreferencePairs,
  preferences,
  selectJudgedItems,
  type JudgeCandidate,
  type JudgedAnswer,
  type ScoredPrediction,
} from '../../ml/policy-data/judging';
import { drawOneFactChanges, flipPairs, matchedEasyItems, minePool, verdictPair } from '../../ml/policy-data/counterfactual';
import { generateDecisions } from '../../ml/policy-data/generate';
import { verdictFor, type Verdict } from '../../ml/policy-data/prompt';
import { Rng } from '../../ml/rng';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { Registry } from '../../registry/index';
import type { JsonObject } from '../../registry/types';
import { scorePolicyPrompts } from './policy';
import { runPythonJson } from './python';

/** The SFT model's decision point on the pool: its answer there is APPROVE when p_approve ≥ 0.5 (as mined). */
const POOL_AT = 0.5;

export interface PolicyJudgeDeps {
  pool: Pool;
  store: ArtifactStore;
  /** Repository root (python/, .venv-oumi/). */
  root: string;
}

/** A reviewed served decision: what the policy saw and answered, and the reviewer's verdict. */
interface Reviewed {
  record: Snapshot;
  served: Verdict;
  verdict: Verdict;
}

/** A model's most recent reviewed decisions that logged their snapshot (decision_feedback ⋈ decisions). */
export async function reviewedDecisionsOfModel(pool: Pool, model: string, limit: number): Promise<Reviewed[]> {
  if (limit === 0) return [];
  const { rows } = await pool.query<{ decision_id: string; features: { snapshot?: unknown } | null; served_verdict: Verdict; verdict: Verdict }>(
    `SELECT f.decision_id, d.features, f.served_verdict, f.verdict
       FROM decision_feedback f JOIN decisions d ON d.decision_id = f.decision_id
      WHERE f.model = $1 AND d.features->'snapshot' IS NOT NULL
      ORDER BY f.decision_time DESC, f.decision_id LIMIT $2`,
    [model, limit],
  );
  return rows.map((r) => ({ record: snapshotOf(r.decision_id, r.features?.snapshot), served: r.served_verdict, verdict: r.verdict }));
}

type Snapshot = Pick<LabeledDecision, 'input' | 'output'>;

/** A decision's logged snapshot as a decision record (input and output), or an error naming the decision. */
function snapshotOf(decisionId: string, snapshot: unknown): Snapshot {
  const parsed = labeledDecisionSchema.safeParse({ ...(snapshot as object), label: 'good' });
  if (!parsed.success) throw new Error(`decision ${decisionId}: its logged snapshot is not a decision record (${parsed.error.issues[0].message} at ${parsed.error.issues[0].path.join('.')})`);
  return { input: parsed.data.input, output: parsed.data.output };
}

/** A generated pool is drawn with the run's generator seed plus this (bench/oumi-policy.ts draws the same pool). */
export const POOL_SEED_OFFSET = 1000;

/** A model's most recent served decisions that logged their snapshot (unlabelled: what the judge pool is made of). */
export async function servedSnapshotsOfModel(pool: Pool, model: string, limit: number): Promise<Snapshot[]> {
  if (limit === 0) return [];
  const { rows } = await pool.query<{ decision_id: string; snapshot: unknown }>(
    `SELECT decision_id, features->'snapshot' AS snapshot FROM decisions
      WHERE model = $1 AND features->'snapshot' IS NOT NULL
      ORDER BY time DESC, decision_id LIMIT $2`,
    [model, limit],
  );
  return rows.map((r) => snapshotOf(r.decision_id, r.snapshot));
}

function jsonl(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

async function writeAtomic(file: string, text: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, text);
  await rename(temporary, file);
  return createHash('sha256').update(text).digest('hex');
}

async function readLines(file: string, field: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${field} ${file}: cannot read (${error.code ?? error.message})`);
  });
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** The endpoint as recorded: scheme, host and path only (no user-info, no query that might carry a secret). */
export function publicEndpoint(endpoint: string | null): string | null {
  if (endpoint === null) return null;
  const u = new URL(endpoint);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function mean(xs: readonly (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

interface JudgeScriptSummary {
  n: number;
  scored: number;
  failed: number;
  seconds: number;
}

interface ScoreLine {
  score: number | null;
  criteria: Record<string, { label: string | null; score: number | null; explanation: string | null }>;
  error: string | null;
}

export function createPolicyJudgeActivities(deps: PolicyJudgeDeps): PolicyJudgeActivities {
  const registry = new Registry({ pool: deps.pool, store: deps.store });
  return {
    async judgePolicyCandidates(request: JudgeCandidatesRequest): Promise<JudgeCandidatesResult> {
      const started = Date.now();
      const cfg: PolicyJudgeConfig = request.judge;
      if (cfg.engine === 'remote' && cfg.apiKeyEnv !== null && !process.env[cfg.apiKeyEnv]) {
        throw ApplicationFailure.nonRetryable(
          `llm_judge.api_key_env names ${cfg.apiKeyEnv}, which is not set on this oumi worker; set it to the judge endpoint's API key (or set api_key_env: null in ${cfg.config.path} for an endpoint without a key)`,
          'JudgeApiKeyMissing',
        );
      }
      const records = parseDecisionsJsonl((await readLines(request.recordsPath, 'recordsPath')).join('\n'), request.recordsPath);
      const predictions = (await readLines(request.predictionsPath, 'predictionsPath')).map((l, i): ScoredPrediction => {
        const v = JSON.parse(l) as ScoredPrediction;
        if ((v.label !== 'APPROVE' && v.label !== 'FLAG') || typeof v.p_approve !== 'number') throw new Error(`predictionsPath ${request.predictionsPath} line ${i + 1}: expected { label: APPROVE|FLAG, p_approve }`);
        return v;
      });
      if (predictions.length !== records.length) throw new Error(`predictionsPath ${request.predictionsPath}: ${predictions.length} predictions for ${records.length} records in ${request.recordsPath}; expected one per record, in order`);
      predictions.forEach((p, i) => {
        if (p.label !== verdictFor(records[i].label)) throw new Error(`predictionsPath ${request.predictionsPath} line ${i + 1}: a ${p.label} item, but record ${i + 1} is labelled ${records[i].label}; the predictions are not of these records`);
      });

      // The SFT model's answers (its verdict at its threshold) and the alternatives; one-fact changes of those
      // items (synthetic preference data: the judge says which flip the verdict); then the served answers reviewers judged.
      const items = selectJudgedItems(predictions, request.threshold, cfg.maxItems);
      const training: JudgeCandidate[] = items.flatMap((i) => candidatePair(i, records[i], predictions[i].p_approve >= request.threshold ? 'APPROVE' : 'FLAG'));
      const rng = new Rng(request.seed ?? 0);
      const variantsOf = drawOneFactChanges(records, items, cfg.variantCandidates, rng);
      const variantCandidates: JudgeCandidate[] = variantsOf.flatMap((v, k) => candidatePair(k, v.record, 'APPROVE'));
      const reviewed = await reviewedDecisionsOfModel(deps.pool, request.model, cfg.maxFeedback);
      const feedback: JudgeCandidate[] = reviewed.flatMap((r, k) => candidatePair(k, r.record, r.served));

      const out = (name: string): string => path.join(request.outDir, name);
      await writeAtomic(out('judge_config.json'), JSON.stringify(cfg, null, 2) + '\n');
      // One judge round: Oumi's rubric judge over a candidates file (importing Oumi takes ~10 s of each round).
      const judgeRound = async (name: string, round: readonly JudgeCandidate[]): Promise<ScoreLine[]> => {
        if (round.length === 0) return [];
        await writeAtomic(out(`${name}_candidates.jsonl`), jsonl(round.map((c) => ({ request: c.request, response: c.response }))));
        const summary = await runPythonJson<JudgeScriptSummary>(
          'judge_policy.py',
          ['--config', out('judge_config.json'), '--input', out(`${name}_candidates.jsonl`), '--out', out(`${name}_raw.jsonl`)],
          { root: deps.root, signal: cancellationSignal() },
        );
        const scored = (await readLines(out(`${name}_raw.jsonl`), 'judge output')).map((l) => JSON.parse(l) as ScoreLine);
        if (scored.length !== round.length) throw new Error(`python/judge_policy.py wrote ${scored.length} judgments for ${round.length} answers`);
        if (summary.scored === 0) {
          throw new Error(`the judge (${cfg.model} at ${publicEndpoint(cfg.endpoint) ?? 'a local model'}) scored none of ${round.length} answers; first error: ${scored[0].error ?? 'none given'}`);
        }
        return scored;
      };
      const toAnswer = (l: ScoreLine): JudgedAnswer => ({
        score: l.score,
        criteria: Object.fromEntries(Object.entries(l.criteria).map(([id, c]) => [id, { score: c.score, explanation: c.explanation }])),
      });

      // The unseen pool (llm_judge.pool): unlabelled decisions the SFT model scores; the judge decides them below.
      const poolConfig = cfg.pool && cfg.pool.source !== 'none' && request.pool ? { source: cfg.pool.source, size: cfg.pool.size, ...request.pool } : null;
      let poolRecords: Snapshot[] = [];
      let poolScores: number[] = [];
      if (poolConfig !== null) {
        if (poolConfig.source === 'generated') {
          if (poolConfig.generatorSeed === undefined) throw ApplicationFailure.nonRetryable(`llm_judge.pool.source is generated, but this run's data is not generated (no generator seed); set pool.source to served or none in ${cfg.config.path}`, 'JudgePoolUnavailable');
          poolRecords = generateDecisions({ n: poolConfig.size, seed: poolConfig.generatorSeed + POOL_SEED_OFFSET, labelNoise: 0 }).map((r) => ({ input: r.input, output: r.output }));
        } else poolRecords = await servedSnapshotsOfModel(deps.pool, request.model, poolConfig.size);
        poolScores = await scorePolicyPrompts(poolConfig.modelDir, poolRecords, request.outDir, 'pool', { root: deps.root, signal: cancellationSignal() });
      }
      const poolCandidates: JudgeCandidate[] = poolRecords.flatMap((r, k) => candidatePair(k, r, poolScores[k] >= POOL_AT ? 'APPROVE' : 'FLAG'));

      const candidates = [...training, ...variantCandidates, ...feedback, ...poolCandidates];
      const lines = await judgeRound('judge', candidates);
      const answers: JudgedAnswer[] = lines.map(toAnswer);
      const variantsEnd = training.length + variantCandidates.length;
      const feedbackEnd = variantsEnd + feedback.length;
      const set = (k: number): string => (k < training.length ? 'train' : k < variantsEnd ? 'variant' : k < feedbackEnd ? 'feedback' : 'pool');
      await writeAtomic(out('judge_scores.jsonl'), jsonl(candidates.map((c, k) => ({ set: set(k), item: c.item, source: c.source, verdict: c.verdict, ...lines[k] }))));

      const trainPrefs = preferences(training, answers.slice(0, training.length), cfg.margin);
      const variantPrefs = preferences(variantCandidates, answers.slice(training.length, variantsEnd), cfg.margin);
      const feedbackPrefs = preferences(feedback, answers.slice(variantsEnd, feedbackEnd), cfg.margin);
      const judgePairs: PreferencePair[] = trainPrefs.filter((p) => p.chosen !== null).map((p) => judgePair(records[p.item], p));
      // A change becomes a pair when the judge decided both it and its item, the other way round (at most cfg.variants per item).
      const itemVerdict = new Map(trainPrefs.map((p) => [p.item, p.chosen]));
      const trainFlips = flipPairs(variantsOf, variantPrefs.map((p) => p.chosen), (of) => itemVerdict.get(of) ?? null, cfg.variants);
      judgePairs.push(...trainFlips.pairs);
      await writeAtomic(out('judge_variants.jsonl'), jsonl(trainFlips.rows));
      const variantPairs = trainFlips.pairs.length;
      const trainingPairs = judgePairs.length;

      // The pool: the judge's verdicts, the SFT model's hard items against them, a second round on their
      // one-fact changes, and a right item of the other verdict per hard item (ml/policy-data/counterfactual.ts).
      let poolSummary: JudgePoolSummary | undefined;
      let roundTwoAnswers: JudgedAnswer[] = [];
      if (poolConfig !== null) {
        const poolVerdicts = preferences(poolCandidates, answers.slice(feedbackEnd), cfg.margin).map((p) => p.chosen);
        const mining = minePool(poolScores, poolVerdicts, { at: POOL_AT });
        const poolChanges = drawOneFactChanges(poolRecords, mining.hard, cfg.variantCandidates, rng);
        const changeCandidates: JudgeCandidate[] = poolChanges.flatMap((v, k) => candidatePair(k, v.record, 'APPROVE'));
        const changeLines = await judgeRound('judge_pool_variants', changeCandidates);
        roundTwoAnswers = changeLines.map(toAnswer);
        const changeVerdicts = preferences(changeCandidates, roundTwoAnswers, cfg.margin).map((p) => p.chosen);
        const poolFlips = flipPairs(poolChanges, changeVerdicts, (of) => poolVerdicts[of], cfg.variants);
        const poolPairs: PreferencePair[] = [...mining.hard.map((i) => verdictPair(poolRecords[i], poolVerdicts[i] as Verdict)), ...poolFlips.pairs];
        const matched = matchedEasyItems(mining, poolVerdicts, rng);
        for (const i of matched) poolPairs.push(verdictPair(poolRecords[i], poolVerdicts[i] as Verdict));
        const hard = new Set(mining.hard);
        const matchedSet = new Set(matched);
        await writeAtomic(out('judge_pool.jsonl'), jsonl(poolRecords.map((record, i) => ({ p_approve: poolScores[i], judged: poolVerdicts[i], role: hard.has(i) ? 'hard' : matchedSet.has(i) ? 'matched' : null, record }))));
        await writeAtomic(out('judge_pool_variants.jsonl'), jsonl(poolFlips.rows));
        judgePairs.push(...poolPairs);
        poolSummary = {
          source: poolConfig.source,
          size: poolRecords.length,
          decided: poolRecords.length - mining.undecided,
          errors: mining.errors,
          marginal: mining.hard.length - mining.errors,
          variantsJudged: poolChanges.length,
          variantPairs: poolFlips.pairs.length,
          matched: matched.length,
          pairs: poolPairs.length,
        };
      }
      await writeAtomic(out('judge_pairs.jsonl'), jsonl(judgePairs));
      const base = (await readLines(request.basePairsPath, 'basePairsPath')).map((l) => JSON.parse(l) as PreferencePair);
      const merged = mergePreferencePairs(base, judgePairs);
      const mergedPath = out('dpo_judged.jsonl');
      const sha256 = await writeAtomic(mergedPath, jsonl(merged.pairs));

      const labels: JudgeAgreement = agreement(trainPrefs.map((p) => p.chosen), items.map((i) => verdictFor(records[i].label)));
      const human: JudgeAgreement = agreement(feedbackPrefs.map((p) => p.chosen), reviewed.map((r) => r.verdict));
      const bySource = (source: 'sft' | 'alternative', pick: (a: JudgedAnswer) => number | null) => mean(training.map((c, k) => (c.source === source ? pick(answers[k]) : null)));
      const criteria = Object.fromEntries(cfg.criteria.map((c) => [c.id, { sft: bySource('sft', (a) => a.criteria[c.id]?.score ?? null), alternative: bySource('alternative', (a) => a.criteria[c.id]?.score ?? null) }]));
      // Both rounds: every answer the judge was asked about.
      const allAnswers = [...answers, ...roundTwoAnswers];
      const scoredAnswers = allAnswers.filter((a) => a.score !== null).length;
      return {
        judgeModel: cfg.model,
        endpoint: publicEndpoint(cfg.endpoint),
        config: cfg.config,
        path: mergedPath,
        records: merged.pairs.length,
        sha256,
        scoresPath: out('judge_scores.jsonl'),
        judgePairsPath: out('judge_pairs.jsonl'),
        judged: items.length,
        scored: scoredAnswers,
        failed: allAnswers.length - scoredAnswers,
        pairs: trainingPairs - variantPairs,
        belowMargin: trainPrefs.filter((p) => p.chosen === null && p.margin !== null).length,
        added: merged.added,
        conflicts: merged.conflicts,
        sftPreferred: trainPrefs.filter((p, k) => p.chosen !== null && p.chosen === training[2 * k].verdict).length,
        variantsJudged: variantsOf.length,
        variantPairs,
        ...(poolSummary ? { pool: poolSummary } : {}),
        meanScore: { sft: bySource('sft', (a) => a.score), alternative: bySource('alternative', (a) => a.score) },
        criteria,
        labels,
        feedback: human,
        margin: cfg.margin,
        seconds: (Date.now() - started) / 1000,
      };
    },

    async recordPolicyJudgeEvaluation(args): Promise<void> {
      const j = args.judge;
      const verdict = j.labels.agreement === null ? 'inconclusive' : j.labels.agreement >= args.minAgreement ? 'pass' : 'fail';
      const summary = JSON.parse(JSON.stringify({
        judgeModel: j.judgeModel,
        endpoint: j.endpoint,
        config: j.config,
        labels: j.labels,
        feedback: j.feedback,
        minAgreement: args.minAgreement,
        margin: j.margin,
        judged: j.judged,
        pairs: j.pairs,
        belowMargin: j.belowMargin,
        added: j.added,
        conflicts: j.conflicts,
        sftPreferred: j.sftPreferred,
        variantsJudged: j.variantsJudged,
        variantPairs: j.variantPairs,
        pool: j.pool,
        failed: j.failed,
        meanScore: j.meanScore,
        criteria: j.criteria,
      })) as JsonObject;
      for (const version of args.versions) {
        // A retried attempt finds the evaluation it already recorded for this run.
        const existing = (await registry.listEvaluations(args.model, version)).find((e) => e.kind === 'judge' && e.runId === args.runId);
        if (existing) continue;
        await registry.recordEvaluation({ model: args.model, version, kind: 'judge', verdict, summary, runId: args.runId, actor: args.actor });
      }
    },
  };
}
