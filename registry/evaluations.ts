/** Evaluations of a version (offline / off-policy): a verdict and a summary; the report is an artifact. */
import { randomUUID } from 'node:crypto';
import { checkActor, recordChange } from './audit';
import type { Db } from './db';
import { ValidationError } from './errors';
import type { Evaluation, EvaluationVerdict, JsonObject } from './types';
import { checkJsonObject, checkModelName, checkOptionalText, checkVersionNumber } from './validate';
import { getVersion } from './versions';

export interface RecordEvaluationInput {
  model: string;
  version: number;
  /** e.g. ope, holdout, benchmark */
  kind: string;
  verdict: EvaluationVerdict;
  summary?: JsonObject;
  reportUri?: string | null;
  runId?: string | null;
  actor: string;
}

function toEvaluation(r: Record<string, any>): Evaluation {
  return {
    id: r.id,
    model: r.model,
    version: r.version,
    kind: r.kind,
    reportUri: r.report_uri,
    verdict: r.verdict,
    summary: r.summary,
    runId: r.run_id,
    time: r.time,
  };
}

export async function recordEvaluation(db: Db, input: RecordEvaluationInput): Promise<Evaluation> {
  checkModelName(input.model);
  checkVersionNumber(input.version);
  checkActor(input.actor);
  if (typeof input.kind !== 'string' || !/^[a-z][a-z0-9_-]{0,63}$/.test(input.kind)) {
    throw new ValidationError('kind', input.kind, 'a lower-case evaluation kind such as "ope"');
  }
  if (!['pass', 'fail', 'inconclusive'].includes(input.verdict)) throw new ValidationError('verdict', input.verdict, 'pass, fail or inconclusive');
  const summary = input.summary === undefined ? {} : checkJsonObject(input.summary, 'summary');
  const reportUri = checkOptionalText(input.reportUri, 'reportUri', 2000);
  const runId = checkOptionalText(input.runId, 'runId', 500);
  return db.transaction(async (tx) => {
    await getVersion(tx, input.model, input.version);
    const { rows } = await tx.query(
      `INSERT INTO evaluations (id, model, version, kind, report_uri, verdict, summary, run_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING id, model, version, kind, report_uri, verdict, summary, run_id, time`,
      [randomUUID(), input.model, input.version, input.kind, reportUri, input.verdict, JSON.stringify(summary), runId],
    );
    const evaluation = toEvaluation(rows[0]);
    await recordChange(
      tx,
      {
        actor: input.actor,
        action: 'evaluation.record',
        entity: 'evaluation',
        model: input.model,
        entityKey: `${input.model}/${input.version}#${evaluation.id}`,
        after: { ...evaluation },
      },
      { entity: 'evaluation', action: 'evaluation.record', model: input.model, version: input.version, id: evaluation.id, verdict: evaluation.verdict },
    );
    return evaluation;
  });
}

export async function listEvaluations(db: Db, model: string, version?: number): Promise<Evaluation[]> {
  checkModelName(model);
  const params: unknown[] = [model];
  const filter = version === undefined ? '' : `AND version = $${params.push(checkVersionNumber(version))}`;
  const { rows } = await db.query(
    `SELECT id, model, version, kind, report_uri, verdict, summary, run_id, time FROM evaluations WHERE model = $1 ${filter} ORDER BY time, id`,
    params,
  );
  return rows.map(toEvaluation);
}
