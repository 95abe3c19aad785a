/**
 * Data preparation for the policy model (R-APPROVAL-PREP), as plain async functions the Temporal activities
 * wrap: write a synthetic `labeled_decisions.jsonl`; then validate it, split it (stratified, seeded) and
 * write the SFT conversations and DPO preference pairs Oumi trains on, with a manifest of what was
 * written (counts and SHA-256 of every file: the lineage the registry records).
 * Files are written under a temporary name and renamed, so a crash leaves no half-written file.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDecisionsJsonl, type LabeledDecision } from '../../../ml/policy-data/decision';
import { verdictPair } from '../../../ml/policy-data/counterfactual';
import { verdictFor } from '../../../ml/policy-data/prompt';
import { toSftConversation } from '../../../ml/policy-data/examples';
import type { FileSummary, MinedPairsResult, MinePairsRequest, PreparedData, PrepareRequest, SyntheticDecisionsRequest, SyntheticDecisionsResult } from '../../../contracts/text-policy-training';
import { generateDecisions } from '../../../ml/policy-data/generate';
import { judge } from '../../../ml/policy-data/judge';
import { minePreferencePairs, type ScoredItem } from '../../../ml/policy-data/mining';
import { stratifiedSplit } from '../../../ml/policy-data/split';

function jsonl(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}

async function writeJsonl(file: string, rows: readonly unknown[]): Promise<FileSummary> {
  const text = jsonl(rows);
  await writeAtomic(file, text);
  return { path: file, records: rows.length, sha256: sha256(text) };
}

export async function writeSyntheticDecisions(request: SyntheticDecisionsRequest): Promise<SyntheticDecisionsResult> {
  const records = generateDecisions(request);
  const summary = await writeJsonl(request.path, records);
  return { ...summary, goodRate: records.filter((r) => r.label === 'good').length / records.length };
}

export async function preparePolicyData(request: PrepareRequest): Promise<PreparedData> {
  const evalFraction = request.evalFraction ?? 0.2;
  const seed = request.seed ?? 0;
  const text = await readFile(request.decisionsPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`decisionsPath ${request.decisionsPath}: cannot read (${error.code ?? error.message})`);
  });
  const records: LabeledDecision[] = parseDecisionsJsonl(text, request.decisionsPath);
  const split = stratifiedSplit(records, { evalFraction, seed });
  if (split.train.length === 0 || split.eval.length === 0) {
    throw new Error(`decisionsPath ${request.decisionsPath}: ${records.length} records are too few for an evalFraction of ${evalFraction}`);
  }
  // A validation split out of the training split (another seed): the threshold is chosen there, never on eval.
  const valFraction = request.valFraction ?? 0;
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`valFraction must be in [0, 1), got ${valFraction}`);
  let train = split.train;
  let val: LabeledDecision[] | null = null;
  if (valFraction > 0) {
    const inner = stratifiedSplit(split.train, { evalFraction: valFraction, seed: seed + 1 });
    if (inner.train.length === 0 || inner.eval.length === 0) {
      throw new Error(`decisionsPath ${request.decisionsPath}: ${split.train.length} training records are too few for a valFraction of ${valFraction}`);
    }
    train = inner.train;
    val = inner.eval;
  }
  // The eval split as an expert panel would label it: the reviewing rule's verdict, without the label noise.
  const adjudicated = split.eval.map((r): LabeledDecision => ({ ...r, label: judge(r.input, r.output.actions).good ? 'good' : 'bad' }));
  const relabelled = adjudicated.filter((r, i) => r.label !== split.eval[i].label).length;
  const out = (name: string): string => path.join(request.outDir, name);
  const prepared: PreparedData = {
    outDir: request.outDir,
    manifestPath: out('manifest.json'),
    train: await writeJsonl(out('train.jsonl'), train),
    eval: await writeJsonl(out('eval.jsonl'), split.eval),
    sftTrain: await writeJsonl(out('sft_train.jsonl'), train.map((r) => toSftConversation(r))),
    sftEval: await writeJsonl(out('sft_eval.jsonl'), split.eval.map((r) => toSftConversation(r))),
    // DPO pairs of the verdict alone (ml/policy-data/counterfactual.ts, verdictPair).
    dpoTrain: await writeJsonl(out('dpo_train.jsonl'), train.map((r) => verdictPair(r, verdictFor(r.label)))),
    dpoEval: await writeJsonl(out('dpo_eval.jsonl'), split.eval.map((r) => verdictPair(r, verdictFor(r.label)))),
    ...(val !== null ? { sftVal: await writeJsonl(out('sft_val.jsonl'), val.map((r) => toSftConversation(r))), valFraction } : {}),
    sftEvalAdjudicated: { ...(await writeJsonl(out('sft_eval_adjudicated.jsonl'), adjudicated.map((r) => toSftConversation(r)))), relabelled },
    source: { path: request.decisionsPath, records: records.length, sha256: sha256(text) },
    evalFraction,
    seed,
  };
  await writeAtomic(prepared.manifestPath, JSON.stringify(prepared, null, 2) + '\n');
  return prepared;
}

/** DPO pairs from the SFT model's own errors and near-misses on its training split (ml/policy-data/mining.ts). */
export async function minePolicyPairs(request: MinePairsRequest): Promise<MinedPairsResult> {
  const read = (file: string, field: string) =>
    readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`${field} ${file}: cannot read (${error.code ?? error.message})`);
    });
  const records = parseDecisionsJsonl(await read(request.recordsPath, 'recordsPath'), request.recordsPath);
  const scored = (await read(request.predictionsPath, 'predictionsPath'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const v = JSON.parse(l) as ScoredItem;
      if ((v.label !== 'APPROVE' && v.label !== 'FLAG') || typeof v.p_approve !== 'number') throw new Error(`predictionsPath ${request.predictionsPath} line ${i + 1}: expected { label: APPROVE|FLAG, p_approve }`);
      return v;
    });
  const mined = minePreferencePairs(records, scored, { threshold: request.threshold, margin: request.margin, seed: request.seed });
  const hard = mined.errors + mined.marginal;
  if (hard < (request.minHard ?? 16)) return { path: null, records: 0, sha256: null, errors: mined.errors, marginal: mined.marginal, easy: 0 };
  const written = await writeJsonl(request.outPath, mined.pairs);
  return { path: written.path, records: written.records, sha256: written.sha256, errors: mined.errors, marginal: mined.marginal, easy: mined.easy };
}
