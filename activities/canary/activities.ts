/**
 * Activities of the canaryPromotion workflow (task queue `rollout`). Every one is idempotent: a retry,
 * or a replay after a worker restart, finds the registry already as wanted and changes nothing.
 *
 *   canaryInitialize  validate the plan, check the deployment, put the canary in at 0%
 *   canarySetWeight   the canary's share of traffic (registry setDeployment → NOTIFY → servers within 1 s)
 *   canaryShadow      set / clear the deployment's `config.shadowVersion` (the inference server mirrors
 *                     champion-served requests to it) for the Shadow stage; weight stays 0
 *   canaryCheck       read the stage window's rewarded decisions per arm (paged), judge the gates; in the
 *                     Shadow stage, the mirrored decisions (canary/shadow.ts)
 *   canaryRollback    weight 0, version `rejected`, audit row (after a promotion: the previous champion back)
 *   canaryPromote     canary → champion (the old champion stays registered)
 *   canaryOpeGate     judge the offPolicyEvaluation child's result by the plan's `ope` gate
 *                     (canary/ope-gate.ts); record it as the version's evaluation `canary-ope-gate`
 *   canaryWebhook     signed POST to a plan webhook (activities/webhooks: allow-list, no redirects, bounded
 *                     answer, timeout); reports, never throws on a bad answer
 *
 * Data used by the check (what "metrics" means here): the decision rows and rewards the inference
 * server logs (arm `champion` / `canary` / `shadow`), the reward components `error` and `latency_ms`
 * when the application reports them (otherwise the decision's own latency), and the audit log for
 * `canary.ejected` rows (the server took the canary out of rotation after a run-time error). A plan
 * metric with a PromQL `query` is asked of Prometheus at each check (./prometheus.ts), against the
 * plan's `prometheus.url` or the worker's AUTOPILOT_PROMETHEUS_URL (Prometheus scrapes every server's
 * /metrics), and judged beside the decision-row gates (canary/promql.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { ConfigError } from '../../config/load';
import { DecisionStore } from '../../decision-log';
import { ConflictError, NotFoundError, Registry, ValidationError } from '../../registry';
import { rollbackChampion } from '../../registry/rollback';
import { ArmAccumulator, evaluateGates, type BurnWindowCounts } from '../../canary/analysis';
import type { CanaryPlan } from '../../canary/plan';
import { judgeOpeGate, type OpeGateResult } from '../../canary/ope-gate';
import { evaluateShadow } from '../../canary/shadow';
import type { CheckResult } from '../../canary/status';
import type {
  CanaryActivities,
  CanaryInitResult,
  CanaryPromotionInput,
  CheckInput,
  PromoteInput,
  RollbackInput,
  SetWeightInput,
  OpeGateInput,
  ShadowInput,
  WebhookInput,
  WebhookResult,
} from '../../contracts/canary';
import { validateCanaryPlan } from './plan-config';
import { queryPrometheus } from './prometheus';
import { renderQuery, withQueryGates } from '../../canary/promql';
import { createWebhookSender, hostRefusal, loadOutboundSettings, type OutboundSettings, type WebhookSender } from '../webhooks';

export interface CanaryDeps {
  pool: Pool;
  /** HTTP client for webhooks and Prometheus (default: global fetch). */
  fetch?: typeof fetch;
  /** Webhook secret, host allow-list, response cap, Prometheus URL (default: from the environment). */
  outbound?: OutboundSettings;
}

/** The Prometheus a plan's queries run against, or why there is none. */
export function prometheusFor(plan: CanaryPlan, outbound: OutboundSettings): { url: string } | { error: string } {
  if (plan.prometheus.url !== null) {
    const refusal = hostRefusal(plan.prometheus.url, outbound.allowedHosts);
    return refusal === null ? { url: plan.prometheus.url } : { error: `prometheus.url: ${refusal}` };
  }
  if (outbound.prometheusUrl !== null) return { url: outbound.prometheusUrl };
  return { error: "no Prometheus to ask: set the plan's prometheus.url or the worker's AUTOPILOT_PROMETHEUS_URL" };
}

/** `canaryWebhook` alone (no database): a signed POST through `send` (activities/webhooks), reported as a value. */
export function createCanaryWebhookActivity(send: WebhookSender): Pick<CanaryActivities, 'canaryWebhook'> {
  return {
    async canaryWebhook(input: WebhookInput): Promise<WebhookResult> {
      const r = await send({
        url: input.url,
        event: `canary.${input.type}`,
        timeoutMs: input.timeoutMs,
        payload: { type: input.type, name: input.name, ...input.payload, ...(input.metadata ? { metadata: input.metadata } : {}) },
      });
      return { ok: r.ok, status: r.status, ms: r.ms, error: r.error };
    },
  };
}

/** Registry errors that retrying cannot fix become non-retryable failures with the same message. */
function permanent<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    if (err instanceof ConfigError || err instanceof ValidationError || err instanceof NotFoundError) {
      throw ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true });
    }
    throw err;
  });
}

export function createCanaryActivities(deps: CanaryDeps): CanaryActivities {
  const registry = new Registry({ pool: deps.pool });
  const decisions = new DecisionStore({ pool: deps.pool });
  const http = deps.fetch ?? fetch;
  const outbound = deps.outbound ?? loadOutboundSettings();
  const send = createWebhookSender(outbound, http);

  /** Every query gate of the plan, run at `at` (in parallel; each one's failure is its own). */
  async function queryGates(input: CheckInput, at: Date) {
    const gates = input.plan.metrics.filter((m) => m.query !== undefined);
    if (gates.length === 0) return [];
    const prom = prometheusFor(input.plan, outbound);
    return Promise.all(
      gates.map(async (g) => {
        const query = renderQuery(g.query!, { deployment: input.model, arm: input.arm, version: input.version, intervalMs: g.intervalMs! });
        if ('error' in prom) return { name: g.name, query, value: null, error: prom.error };
        return queryPrometheus(prom.url, query, { name: g.name, timeoutMs: input.plan.prometheus.timeoutMs, at, fetch: http });
      }),
    );
  }

  async function rowsOf(model: string, arm: string, from: Date, to: Date, version?: number): Promise<ArmAccumulator> {
    const acc = new ArmAccumulator();
    for await (const page of decisions.iterateDecisionsWithRewards({ deployment: model, from, to, arm, version, rewardedOnly: true, limit: 5000 })) {
      for (const d of page) acc.add({ reward: d.reward!, components: d.rewardComponents, latencyMs: d.latencyMs });
    }
    return acc;
  }

  async function burnCounts(model: string, version: number, to: Date, plan: CanaryPlan): Promise<BurnWindowCounts[]> {
    const out: BurnWindowCounts[] = [];
    for (const a of plan.burnRate.alerts) {
      const { rows } = await deps.pool.query(
        `WITH e AS (
           SELECT d.time,
             (COALESCE((r.components ->> 'error')::double precision, 0) > 0
               OR COALESCE((r.components ->> 'latency_ms')::double precision, d.latency_ms, 0) > $5) AS bad
           FROM decisions d JOIN rewards r ON r.decision_id = d.decision_id
           WHERE d.deployment = $1 AND d.arm = 'canary' AND d.version = $2 AND d.time >= $3 AND d.time < $6)
         SELECT count(*)::int AS long_events, (count(*) FILTER (WHERE bad))::int AS long_bad,
           (count(*) FILTER (WHERE time >= $4))::int AS short_events, (count(*) FILTER (WHERE time >= $4 AND bad))::int AS short_bad
         FROM e`,
        [model, version, new Date(to.getTime() - a.longWindowMs), new Date(to.getTime() - a.shortWindowMs), plan.burnRate.latencyThresholdMs, to],
      );
      const r = rows[0];
      out.push({ longEvents: r.long_events, longBad: r.long_bad, shortEvents: r.short_events, shortBad: r.short_bad });
    }
    return out;
  }

  async function ejections(model: string, version: number, from: Date): Promise<string[]> {
    const { rows } = await deps.pool.query(
      `SELECT actor, after FROM audit_log WHERE model = $1 AND action = 'canary.ejected' AND time >= $2
         AND (before ->> 'canaryVersion')::int = $3 ORDER BY id`,
      [model, from, version],
    );
    return rows.map((r) => `canary v${version} ejected by ${r.actor}: ${r.after?.reason ?? 'no reason given'}`);
  }

  async function shadowCheck(input: CheckInput, from: Date, to: Date): Promise<CheckResult> {
    const pairs = `FROM decisions s JOIN decisions c ON c.decision_id = (s.metadata ->> 'mirrorOf')::uuid
      WHERE s.deployment = $1 AND s.arm = 'shadow' AND s.version = $2 AND s.time >= $3 AND s.time < $4 AND s.metadata ->> 'mirrorOf' IS NOT NULL`;
    const [mirrored, rewarded, incidents] = await Promise.all([
      deps.pool.query(
        `SELECT count(*)::int AS n, avg((s.action::jsonb = c.action::jsonb)::int)::double precision AS agreement,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY s.latency_ms) AS p95 ${pairs}`,
        [input.model, input.version, from, to],
      ),
      deps.pool.query(
        `SELECT count(*)::int AS n, avg(r.reward) AS mean,
           avg(CASE WHEN s.action::jsonb = c.action::jsonb AND c.propensity > 0 THEN r.reward / c.propensity ELSE 0 END) AS ips
         ${pairs.replace('WHERE', 'JOIN rewards r ON r.decision_id = c.decision_id WHERE')}`,
        [input.model, input.version, from, to],
      ),
      deps.pool.query(
        `SELECT actor, after FROM audit_log WHERE model = $1 AND action = 'shadow.ejected' AND time >= $2
           AND (before ->> 'shadowVersion')::int = $3 ORDER BY id`,
        [input.model, from, input.version],
      ),
    ]);
    const m = mirrored.rows[0];
    const r = rewarded.rows[0];
    return evaluateShadow(
      {
        mirrored: m.n,
        agreement: m.agreement,
        latencyP95Ms: m.p95,
        rewarded: { n: r.n, championMean: r.mean, ips: r.ips },
        incidents: incidents.rows.map((row) => `shadow v${input.version} dropped by ${row.actor}: ${row.after?.reason ?? 'no reason given'}`),
      },
      { decisionLook: input.decisionLook, minSamples: input.minSamples },
      input.plan,
      { from: from.toISOString(), to: to.toISOString() },
      new Date().toISOString(),
    );
  }

  return {
    async canaryInitialize(input: CanaryPromotionInput & { actor: string }): Promise<CanaryInitResult> {
      return permanent(async () => {
        const plan = validateCanaryPlan(input.plan ?? {}, 'input.plan');
        // What the worker would refuse at the first check or hook is refused now, before traffic moves.
        plan.webhooks.forEach((w, i) => {
          const refusal = hostRefusal(w.url, outbound.allowedHosts);
          if (refusal !== null) throw new ValidationError(`input.plan.webhooks.${i}.url`, w.url, `a webhook URL this worker may call: ${refusal}`);
        });
        if (plan.metrics.some((m) => m.query !== undefined)) {
          const prom = prometheusFor(plan, outbound);
          if ('error' in prom) throw new ValidationError('input.plan.prometheus.url', plan.prometheus.url, `a Prometheus for the metric queries: ${prom.error}`);
        }
        const d = await registry.getDeployment(input.model);
        if (d.championVersion === null) throw new ValidationError('model', input.model, 'a deployment with a champion to compare the canary with');
        if (d.championVersion === input.version) throw new ValidationError('version', input.version, `a version other than the champion (v${d.championVersion})`);
        if (d.canaryVersion !== null && d.canaryVersion !== input.version) {
          throw new ValidationError(
            'version',
            input.version,
            `a model without another canary: v${d.canaryVersion} is its canary now (take it out with \`autopilot deploy ${input.model} --canary none\`)`,
          );
        }
        const res = await registry.setDeployment({
          model: input.model,
          canaryVersion: input.version,
          ...(d.canaryVersion === input.version ? {} : { canaryWeight: 0 }),
          actor: input.actor,
          reason: 'canary initialized',
        });
        return { plan, championVersion: d.championVersion, generation: res.deployment.generation };
      });
    },

    async canarySetWeight(input: SetWeightInput): Promise<{ generation: number; changed: boolean }> {
      return permanent(async () => {
        const d = await registry.getDeployment(input.model);
        if (d.canaryVersion !== input.version) {
          throw ApplicationFailure.create({
            type: 'ConflictError',
            nonRetryable: true,
            message: `deployment ${input.model}: its canary is ${d.canaryVersion === null ? 'gone' : `v${d.canaryVersion}`}, not v${input.version}; it was changed outside this canary`,
          });
        }
        if (d.canaryWeight === input.weight) return { generation: d.generation, changed: false };
        try {
          const res = await registry.setDeployment({
            model: input.model,
            canaryVersion: input.version,
            canaryWeight: input.weight,
            expectedGeneration: d.generation,
            actor: input.actor,
            reason: input.reason ?? `canary weight ${input.weight}%`,
          });
          return { generation: res.deployment.generation, changed: res.changed };
        } catch (err) {
          // Someone else changed the deployment between our read and write: retry re-reads it.
          if (err instanceof ConflictError) throw ApplicationFailure.create({ type: 'ConflictError', message: err.message });
          throw err;
        }
      });
    },

    async canaryShadow(input: ShadowInput): Promise<{ generation: number; changed: boolean }> {
      return permanent(async () => {
        for (;;) {
          const d = await registry.getDeployment(input.model);
          const config = { ...(d.config ?? {}) };
          const current = config.shadowVersion;
          if (input.on ? current === input.version : current !== input.version) return { generation: d.generation, changed: false };
          if (input.on) config.shadowVersion = input.version;
          else delete config.shadowVersion;
          try {
            // config is replaced as a whole by setDeployment: read-modify-write under the generation.
            const res = await registry.setDeployment({
              model: input.model,
              config,
              expectedGeneration: d.generation,
              actor: input.actor,
              reason: input.reason ?? (input.on ? `shadow: mirror requests to v${input.version}` : `shadow: stop mirroring to v${input.version}`),
            });
            return { generation: res.deployment.generation, changed: res.changed };
          } catch (err) {
            if (!(err instanceof ConflictError)) throw err;
          }
        }
      });
    },

    async canaryCheck(input: CheckInput): Promise<CheckResult> {
      const to = new Date();
      const from = new Date(input.from);
      if (input.arm === 'shadow') {
        const [shadow, queries] = await Promise.all([shadowCheck(input, from, to), queryGates(input, to)]);
        return withQueryGates(shadow, queries, input.plan.metrics);
      }
      const [canary, champion, burn, incidents, queries] = await Promise.all([
        rowsOf(input.model, input.arm, from, to, input.version),
        input.comparison === 'none' ? Promise.resolve(new ArmAccumulator()) : rowsOf(input.model, 'champion', from, to),
        burnCounts(input.model, input.version, to, input.plan),
        ejections(input.model, input.version, from),
        queryGates(input, to),
      ]);
      const result = evaluateGates(
        {
          canary: canary.summary(),
          champion: champion.summary(),
          burn,
          incidents,
          window: { from: from.toISOString(), to: to.toISOString() },
          at: new Date().toISOString(),
        },
        { comparison: input.comparison, decisionLook: input.decisionLook, bakeMs: input.bakeMs, minSamples: input.minSamples },
        input.plan,
      );
      return withQueryGates(result, queries, input.plan.metrics);
    },

    async canaryRollback(input: RollbackInput): Promise<{ generation: number; restoredChampion: number | null }> {
      return permanent(() =>
        registry.transaction(async (tx) => {
          const d = await tx.getDeployment(input.model);
          let generation = d.generation;
          let restoredChampion: number | null = null;
          if (d.championVersion === input.version && input.restoreChampion) {
            const r = await rollbackChampion(tx.db, { model: input.model, toVersion: input.restoreChampion, actor: input.actor, reason: input.reason });
            generation = r.deployment.generation;
            restoredChampion = r.to;
          } else if (d.canaryVersion === input.version) {
            const r = await tx.setDeployment({ model: input.model, canaryVersion: null, canaryWeight: 0, demotedStatus: 'rejected', actor: input.actor, reason: input.reason });
            generation = r.deployment.generation;
          } else if (d.championVersion !== input.version) {
            await tx.setVersionStatus({ model: input.model, version: input.version, status: 'rejected', actor: input.actor, reason: input.reason });
          }
          await tx.appendAudit({
            actor: input.actor,
            action: 'canary.rollback',
            entity: 'deployment',
            model: input.model,
            entityKey: `${input.model}/${input.version}`,
            before: { canaryVersion: d.canaryVersion, canaryWeight: d.canaryWeight, championVersion: d.championVersion, generation: d.generation },
            after: { reason: input.reason, generation, restoredChampion },
          });
          return { generation, restoredChampion };
        }),
      );
    },

    async canaryPromote(input: PromoteInput): Promise<{ generation: number; previousChampion: number | null }> {
      return permanent(() =>
        registry.transaction(async (tx) => {
          const d = await tx.getDeployment(input.model);
          if (d.championVersion === input.version) {
            // Already promoted (a retry after the commit): report the champion it replaced.
            return { generation: d.generation, previousChampion: await tx.findPreviousChampion(input.model) };
          }
          if (d.canaryVersion !== input.version) {
            throw ApplicationFailure.create({
              type: 'ConflictError',
              nonRetryable: true,
              message: `deployment ${input.model}: its canary is ${d.canaryVersion === null ? 'gone' : `v${d.canaryVersion}`}, not v${input.version}; nothing to promote`,
            });
          }
          const r = await tx.setDeployment({ model: input.model, championVersion: input.version, canaryVersion: null, canaryWeight: 0, actor: input.actor, reason: input.reason });
          await tx.appendAudit({
            actor: input.actor,
            action: 'canary.promote',
            entity: 'deployment',
            model: input.model,
            entityKey: `${input.model}/${input.version}`,
            before: { championVersion: d.championVersion, canaryWeight: d.canaryWeight },
            after: { championVersion: input.version, reason: input.reason },
          });
          return { generation: r.deployment.generation, previousChampion: d.championVersion };
        }),
      );
    },

    async canaryOpeGate(input: OpeGateInput): Promise<OpeGateResult> {
      return permanent(async () => {
        if (!input.plan.ope) throw new ValidationError('plan.ope', input.plan.ope, 'a plan with an ope gate');
        const gate = judgeOpeGate(input.plan.ope, { result: input.result, error: input.error, workflowId: input.evaluationWorkflowId, window: input.window });
        const runId = `${input.workflowId}/${input.runId}`;
        // Idempotent: a retried activity finds the row it wrote.
        const existing = (await registry.listEvaluations(input.model, input.version)).find((e) => e.kind === 'canary-ope-gate' && e.runId === runId);
        if (!existing) {
          await registry.recordEvaluation({
            model: input.model,
            version: input.version,
            kind: 'canary-ope-gate',
            verdict: gate.verdict,
            summary: JSON.parse(JSON.stringify(gate)),
            reportUri: gate.reportUri,
            runId,
            actor: input.actor,
          });
        }
        return gate;
      });
    },

    ...createCanaryWebhookActivity(send),
  };
}
