/**
 * A labelled decision (R-APPROVAL-DATA): what the remediation system saw (`input`: a snapshot with
 * anomalies and an analysis), what it proposed (`output.actions`) and what a human judged of it
 * (`label`: good | bad). The policy model learns to APPROVE decisions like the good ones and FLAG the bad.
 * Parsing is pure: `parseDecisionsJsonl` takes the file's text and names the line and field it rejects.
 */
import { z } from 'zod';

export const ACTION_TYPES = ['rollback', 'restart', 'scale_up', 'scale_down', 'clear_cache', 'page_oncall', 'failover', 'noop'] as const;
export const ANOMALY_KINDS = [
  'error_rate', 'latency_spike', 'cpu_saturation', 'memory_leak', 'traffic_surge', 'traffic_drop',
  'stale_cache', 'dependency_outage', 'disk_pressure',
] as const;
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export const BLAST_RADII = ['pod', 'service', 'multi_service'] as const;
export const LABELS = ['good', 'bad'] as const;

export type ActionType = (typeof ACTION_TYPES)[number];
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];
export type Severity = (typeof SEVERITIES)[number];
export type RiskLevel = (typeof RISK_LEVELS)[number];
export type BlastRadius = (typeof BLAST_RADII)[number];
export type Label = (typeof LABELS)[number];

const unit = z.number().min(0).max(1);

export const anomalySchema = z.strictObject({
  kind: z.enum(ANOMALY_KINDS),
  severity: z.enum(SEVERITIES),
  /** Observed metrics, e.g. { error_rate: 0.12, p99_latency_ms: 840 }. */
  metrics: z.record(z.string(), z.number()),
});

export const analysisSchema = z.strictObject({
  root_cause: z.string().min(1),
  recent_deploy: z.boolean(),
  blast_radius: z.enum(BLAST_RADII),
  risk_level: z.enum(RISK_LEVELS),
});

export const actionSchema = z.strictObject({
  id: z.string().min(1),
  type: z.enum(ACTION_TYPES),
  confidence: unit,
  auto_approved: z.boolean(),
  reasoning: z.string(),
});

export const labeledDecisionSchema = z.strictObject({
  input: z.strictObject({
    snapshot_id: z.string().min(1),
    service: z.string().min(1),
    environment: z.enum(['prod', 'staging']),
    anomalies: z.array(anomalySchema).min(1),
    analysis: analysisSchema,
  }),
  output: z.strictObject({ actions: z.array(actionSchema).min(1) }),
  label: z.enum(LABELS),
});

export type Anomaly = z.infer<typeof anomalySchema>;
export type Analysis = z.infer<typeof analysisSchema>;
export type ProposedAction = z.infer<typeof actionSchema>;
export type LabeledDecision = z.infer<typeof labeledDecisionSchema>;
export type DecisionInput = LabeledDecision['input'];

/** Validates one record; the error names the source, the line, the field, the value and what was expected. */
export function validateDecision(value: unknown, where: string): LabeledDecision {
  const result = labeledDecisionSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(record)';
  const got = valueAt(value, issue.path);
  throw new Error(`${where}: field ${field}: ${issue.message} (got ${describe(got)})`);
}

/** Parses a JSONL file's text into validated decisions; blank lines are skipped. */
export function parseDecisionsJsonl(text: string, source = 'labeled_decisions.jsonl'): LabeledDecision[] {
  const records: LabeledDecision[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const where = `${source} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where}: not valid JSON (${(error as Error).message})`, { cause: error });
    }
    records.push(validateDecision(value, where));
  }
  if (records.length === 0) throw new Error(`${source}: no records (expected one JSON object per line)`);
  return records;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
