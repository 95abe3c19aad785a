/**
 * Human feedback back into training (issue "Oumi policy" item 4, `autopilot data export --feedback`):
 * a text-policy deployment's reviewed decisions over a window become training data for the next
 * policyTraining run:
 *
 *   labeled_decisions.jsonl  the decision records (snapshot decisions only) labelled with the reviewer's
 *                            verdict — what `autopilot train policy --data FILE` takes
 *   sft.jsonl                Oumi conversations whose assistant turn is the reviewer's verdict and reason
 *   dpo.jsonl                preference pairs: the reviewer's verdict alone chosen over the opposite one (for
 *                            an overridden decision the rejected answer is the policy's own). The verdict
 *                            alone, as the workflow's DPO pairs: with a reason after it DPO learns the text
 *                            after the verdict instead of the verdict (ml/policy-data/counterfactual.ts,
 *                            verdictPair). Decisions served from a rendered `text` give pairs only (their
 *                            prompt is the text; the reviewer's reason stays in decision_feedback)
 *   manifest.json            sha256, bytes and rows of each file, the window, the deployment, the counts
 *
 * The window is [from, to) over the decisions' times. Written to a temporary folder renamed into place
 * at the end (./export.ts's rule): a crash never leaves a half export that looks whole.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DecisionStore, ReviewedDecision } from '../../decision-log';
import { labeledDecisionSchema, type LabeledDecision } from '../../ml/policy-data/decision';
import { verdictPair } from '../../ml/policy-data/counterfactual';
import { toSftConversation } from '../../ml/policy-data/examples';
import { otherVerdict } from '../../ml/policy-data/judging';
import { labelFor } from '../../ml/policy-data/prompt';
import { HashedWriter, writeFolderAtomically } from './export';

export const FEEDBACK_EXPORT_FORMAT = 'autopilot.feedback-export/1';

export interface FeedbackExportOptions {
  deployment: string;
  from: Date;
  to: Date;
  out: string;
  pageSize?: number;
  now?: () => Date;
}

export interface FeedbackExportManifest {
  format: typeof FEEDBACK_EXPORT_FORMAT;
  deployment: string;
  window: { from: string; to: string; fromInclusive: true; toInclusive: false };
  createdAt: string;
  /** Reviewed decisions in the window, those whose served verdict the reviewer reversed, and those logged from a rendered text (pairs only). */
  reviewed: number;
  overridden: number;
  textOnly: number;
  files: Record<'labeled_decisions.jsonl' | 'sft.jsonl' | 'dpo.jsonl', { sha256: string; bytes: number; rows: number }>;
}

/** The decision record behind a snapshot decision (`features.snapshot`), labelled with the verdict; null for a text decision. */
function labeledRecord(d: ReviewedDecision): LabeledDecision | null {
  const f = d.features as { snapshot?: unknown; text?: unknown } | null;
  if (f === null || typeof f !== 'object' || f.snapshot === undefined) return null;
  const parsed = labeledDecisionSchema.safeParse({ ...(f.snapshot as object), label: labelFor(d.verdict) });
  if (!parsed.success) throw new Error(`decision ${d.decisionId}: its logged snapshot is not a decision record (${parsed.error.issues[0].message} at ${parsed.error.issues[0].path.join('.')})`);
  return parsed.data;
}

export async function exportFeedback(decisions: DecisionStore, o: FeedbackExportOptions): Promise<{ dir: string; manifest: FeedbackExportManifest }> {
  if (typeof o.deployment !== 'string' || o.deployment === '') throw new Error(`deployment must be a deployment name, got ${JSON.stringify(o.deployment)}`);
  if (!(o.from < o.to)) throw new Error(`the window must have from < to, got from ${o.from.toISOString()} and to ${o.to.toISOString()}`);
  return writeFolderAtomically(o.out, 'an export', async (tmp) => {
    const labeled = await HashedWriter.open(join(tmp, 'labeled_decisions.jsonl'));
    const sft = await HashedWriter.open(join(tmp, 'sft.jsonl'));
    const dpo = await HashedWriter.open(join(tmp, 'dpo.jsonl'));
    let reviewed = 0;
    let overridden = 0;
    let textOnly = 0;
    for await (const page of decisions.iterateReviewedDecisions({ deployment: o.deployment, from: o.from, to: o.to, pageSize: o.pageSize })) {
      const l: string[] = [];
      const s: string[] = [];
      const p: string[] = [];
      for (const d of page) {
        reviewed++;
        if (d.verdict !== d.servedVerdict) overridden++;
        const record = labeledRecord(d);
        if (record !== null) {
          const reason = d.reason ?? undefined;
          l.push(JSON.stringify(record));
          s.push(JSON.stringify(toSftConversation(record, reason)));
          p.push(JSON.stringify(verdictPair(record, d.verdict)));
          continue;
        }
        const text = (d.features as { text?: unknown } | null)?.text;
        if (typeof text !== 'string') throw new Error(`decision ${d.decisionId}: its features have neither snapshot nor text`);
        textOnly++;
        p.push(JSON.stringify({ prompt: text, chosen: d.verdict, rejected: otherVerdict(d.verdict) }));
      }
      const lines = (a: string[]) => a.map((x) => `${x}\n`).join('');
      await labeled.write(lines(l), l.length);
      await sft.write(lines(s), s.length);
      await dpo.write(lines(p), p.length);
    }
    const manifest: FeedbackExportManifest = {
      format: FEEDBACK_EXPORT_FORMAT,
      deployment: o.deployment,
      window: { from: o.from.toISOString(), to: o.to.toISOString(), fromInclusive: true, toInclusive: false },
      createdAt: (o.now ?? (() => new Date()))().toISOString(),
      reviewed,
      overridden,
      textOnly,
      files: { 'labeled_decisions.jsonl': await labeled.close(), 'sft.jsonl': await sft.close(), 'dpo.jsonl': await dpo.close() },
    };
    await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
    return manifest;
  });
}
