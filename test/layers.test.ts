// The layer check (`make layers`, run by `make test`) fails on a planted violation of each rule and passes a
// clean tree. It runs the Makefile's own command with the real .dependency-cruiser.cjs on a small project
// written to a temporary folder, so the rules are stated once, in that file; this test only plants files.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const MAKEFILE = readFileSync(join(ROOT, 'Makefile'), 'utf8');

/** The prerequisites of a Makefile target (`name: a b c`). */
function prerequisites(target: string): string[] {
  const line = MAKEFILE.split('\n').find((l) => l.startsWith(`${target}:`));
  if (line === undefined) throw new Error(`Makefile: no target ${target}`);
  return line.slice(target.length + 1).trim().split(/\s+/);
}

/** The arguments `make layers` gives depcruise, with the config path made absolute (the check runs elsewhere). */
function layersArguments(): string[] {
  const lines = MAKEFILE.split('\n');
  const at = lines.findIndex((l) => l.startsWith('layers:'));
  const recipe = lines[at + 1]?.trim().split(/\s+/) ?? [];
  if (recipe[0] !== 'npx' || recipe[1] !== 'depcruise') throw new Error(`Makefile: the layers recipe should run npx depcruise, got: ${recipe.join(' ')}`);
  return recipe.slice(2).map((arg, i, args) => (args[i - 1] === '--config' ? join(ROOT, arg) : arg));
}

interface Planted {
  path: string;
  source: string;
  /** The rule this file breaks; null for a file every rule accepts. */
  breaks: string | null;
}

/** Files every rule accepts: together they are a clean tree with one module in each layer. */
const CLEAN: Planted[] = [
  { path: 'ml/math.ts', source: "export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;\n", breaks: null },
  { path: 'ml/schema.ts', source: "import { z } from 'zod';\nexport const Score = z.number();\n", breaks: null },
  { path: 'canary/plan.ts', source: "import { mean } from '../ml/math';\nexport interface Plan { stepWeights: number[] }\nexport const average = mean;\n", breaks: null },
  { path: 'registry/types.ts', source: "export interface Version { model: string; version: number }\n", breaks: null },
  {
    path: 'contracts/canary.ts',
    source:
      "import { defineSignal } from '@temporalio/workflow';\nimport type { Plan } from '../canary/plan';\nimport type { Version } from '../registry/types';\n" +
      "import type { Batch } from '../envs/types';\n" +
      "export interface CanaryInput { plan: Plan; version: Version; batch?: Batch }\nexport const abortSignal = defineSignal('abort');\n" +
      'export interface CanaryActivities { analyse(input: CanaryInput): Promise<number> }\n',
    breaks: null,
  },
  {
    path: 'workflows/canary.ts',
    source:
      "import { proxyActivities } from '@temporalio/workflow';\nimport type { CanaryActivities, CanaryInput } from '../contracts/canary';\nimport { average } from '../canary/plan';\n" +
      "const { analyse } = proxyActivities<CanaryActivities>({ startToCloseTimeout: '1 minute' });\n" +
      'export async function canary(input: CanaryInput): Promise<number> { return average([await analyse(input)]); }\n',
    breaks: null,
  },
  { path: 'workflows/canary.test.ts', source: "import { readFileSync } from 'node:fs';\nimport { analyse } from '../activities/canary';\nexport const both = [readFileSync, analyse];\n", breaks: null },
  { path: 'registry/db.ts', source: "import { Pool } from 'pg';\nimport type { Version } from './types';\nexport const open = (): Pool => new Pool();\nexport type { Version };\n", breaks: null },
  { path: 'decision-log/log.ts', source: "import { open } from '../registry/db';\nexport const log = open;\n", breaks: null },
  {
    path: 'activities/canary.ts',
    source: "import type { CanaryInput } from '../contracts/canary';\nimport { average } from '../canary/plan';\nimport { open } from '../registry/db';\nexport async function analyse(_input: CanaryInput): Promise<number> { open(); return average([1]); }\n",
    breaks: null,
  },
  { path: 'envs/types.ts', source: "export interface Batch { size: number }\n", breaks: null },
  { path: 'envs/env.ts', source: "import { readFileSync } from 'node:fs';\nimport { mean } from '../ml/math';\nexport const load = (p: string): number => mean([readFileSync(p).length]);\n", breaks: null },
  { path: 'inference/server.ts', source: "import { createServer } from 'node:http';\nimport { log } from '../decision-log/log';\nexport const start = (): unknown => [createServer(), log];\n", breaks: null },
  { path: 'inference/testing/fixture.ts', source: "export const fixture = 1;\n", breaks: null },
  { path: 'workers/worker.ts', source: "import { analyse } from '../activities/canary';\nexport const activities = { analyse };\n", breaks: null },
  { path: 'cli/serve.ts', source: "import { start } from '../inference/server';\nimport { activities } from '../workers/worker';\nexport const serve = [start, activities];\n", breaks: null },
  { path: 'test/support/helper.ts', source: "import { fixture } from '../../inference/testing/fixture';\nimport { activities } from '../../workers/worker';\nexport const all = [fixture, activities];\n", breaks: null },
];

/** One file per rule, each breaking exactly that rule. */
const VIOLATIONS: Planted[] = [
  { path: 'ml/reads-files.ts', source: "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n", breaks: 'ml-no-node-builtins' },
  { path: 'ml/queries.ts', source: "import { Pool } from 'pg';\nexport const pool = Pool;\n", breaks: 'ml-no-io-packages' },
  { path: 'ml/upward.ts', source: "import type { Version } from '../registry/types';\nexport type V = Version;\n", breaks: 'ml-imports-nothing-above' },
  { path: 'canary/upward.ts', source: "import type { CanaryInput } from '../contracts/canary';\nexport type C = CanaryInput;\n", breaks: 'canary-pure' },
  { path: 'canary/cache.ts', source: "import Redis from 'ioredis';\nexport const cache = Redis;\n", breaks: 'canary-no-io' },
  { path: 'canary/random.ts', source: "import { randomUUID } from 'node:crypto';\nexport const id = randomUUID;\n", breaks: 'canary-no-node-builtins' },
  { path: 'contracts/runtime.ts', source: "import { average } from '../canary/plan';\nexport const DEFAULT = average([1]);\n", breaks: 'contracts-runtime-imports' },
  { path: 'contracts/upward.ts', source: "import type { analyse } from '../activities/canary';\nexport type A = typeof analyse;\n", breaks: 'contracts-type-imports' },
  { path: 'workflows/types-from-activities.ts', source: "import type { analyse } from '../activities/canary';\nexport type A = typeof analyse;\n", breaks: 'workflows-only-sdk-contracts-domain' },
  { path: 'workflows/clock.ts', source: "import { setTimeout } from 'node:timers/promises';\nexport const wait = setTimeout;\n", breaks: 'workflows-only-sdk-contracts-domain' },
  { path: 'activities/to-workflow.ts', source: "import { canary } from '../workflows/canary';\nexport const run = canary;\n", breaks: 'activities-not-to-workflows-or-inference' },
  { path: 'activities/to-server.ts', source: "import { start } from '../inference/server';\nexport const run = start;\n", breaks: 'activities-not-to-workflows-or-inference' },
  { path: 'envs/upward.ts', source: "import { open } from '../registry/db';\nexport const run = open;\n", breaks: 'envs-only-ml' },
  { path: 'parallel/upward.ts', source: "import { open } from '../registry/db';\nexport const run = open;\n", breaks: 'parallel-only-ml' },
  { path: 'registry/to-server.ts', source: "import { start } from '../inference/server';\nexport const run = start;\n", breaks: 'storage-and-config-are-low' },
  { path: 'decision-log/to-cli.ts', source: "import { serve } from '../cli/serve';\nexport const run = serve;\n", breaks: 'storage-and-config-are-low' },
  { path: 'feature-store/to-workflow.ts', source: "import { canary } from '../workflows/canary';\nexport const run = canary;\n", breaks: 'storage-and-config-are-low' },
  { path: 'registry/to-logged-data.ts', source: "import { log } from '../decision-log/log';\nexport const run = log;\n", breaks: 'registry-not-to-logged-data' },
  { path: 'config/to-activities.ts', source: "import { analyse } from '../activities/canary';\nexport const run = analyse;\n", breaks: 'storage-and-config-are-low' },
  { path: 'inference/to-activities.ts', source: "import { analyse } from '../activities/canary';\nexport const run = analyse;\n", breaks: 'inference-not-to-orchestration' },
  { path: 'workers/to-server.ts', source: "import { start } from '../inference/server';\nexport const run = start;\n", breaks: 'workers-not-to-inference' },
  { path: 'activities/to-cli.ts', source: "import { serve } from '../cli/serve';\nexport const run = serve;\n", breaks: 'nothing-imports-cli' },
  { path: 'activities/to-worker.ts', source: "import { activities } from '../workers/worker';\nexport const run = activities;\n", breaks: 'only-cli-imports-workers' },
  { path: 'cli/internals.ts', source: "import { fixture } from '../inference/testing/fixture';\nexport const run = fixture;\n", breaks: 'cli-inference-only-through-server' },
  { path: 'inference/uses-fixture.ts', source: "import { fixture } from './testing/fixture';\nexport const run = fixture;\n", breaks: 'not-to-test-code' },
  { path: 'registry/cycle-a.ts', source: "import { b } from './cycle-b';\nexport const a = (): number => b() + 1;\n", breaks: 'no-circular' },
  { path: 'registry/cycle-b.ts', source: "import { a } from './cycle-a';\nexport const b = (): number => a() - 1;\n", breaks: 'no-circular' },
  { path: 'registry/missing.ts', source: "import { gone } from './does-not-exist';\nexport const run = gone;\n", breaks: 'not-to-unresolvable' },
  { path: 'test/missing.ts', source: "import { gone } from './does-not-exist';\nexport const run = gone;\n", breaks: 'not-to-unresolvable' },
];

/** One violation as `make layers` prints it: the rule, the importing module, and the modules after it (the
 *  imported one, or the rest of a cycle). */
interface Violation {
  rule: string;
  from: string;
  path: string[];
}

interface CheckResult {
  status: number | null;
  output: string;
  violations: Violation[];
}

/** Parses dependency-cruiser's `err` report: each violation starts with `error <rule>: <from> → <to>`; a
 *  cycle continues on the following lines, one module per line. */
function parseErrReport(text: string): Violation[] {
  const violations: Violation[] = [];
  let current: Violation | null = null;
  for (const line of text.split('\n')) {
    const head = /^\s*error ([a-z0-9-]+): (.*)$/.exec(line);
    if (head) {
      const [from = '', ...rest] = head[2].split('→').map((part) => part.trim()).filter(Boolean);
      current = { rule: head[1], from, path: rest };
      violations.push(current);
    } else if (/^x \d+ dependency violations/.test(line.trim())) {
      current = null;
    } else if (current) {
      current.path.push(...line.split('→').map((part) => part.trim()).filter(Boolean));
    }
  }
  return violations;
}

/** Writes the files into a fresh project folder (tsconfig.json, a link to this repository's node_modules) and
 *  runs dependency-cruiser on it with the real config and the command line of `make layers`. */
function runCheck(files: Planted[]): CheckResult {
  const dir = mkdtempSync(join(tmpdir(), 'autopilot-layers-'));
  try {
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true } }));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    for (const file of files) {
      mkdirSync(join(dir, dirname(file.path)), { recursive: true });
      writeFileSync(join(dir, file.path), file.source);
    }
    const run = spawnSync(process.execPath, [DEPCRUISE, ...layersArguments()], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    if (run.error) throw run.error;
    const output = run.stdout + run.stderr;
    return { status: run.status, output, violations: parseErrReport(output) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('layer check (.dependency-cruiser.cjs)', () => {
  it('is run by make test, with the real config and the err report over the whole tree', () => {
    expect(prerequisites('test')).toContain('layers');
    const args = layersArguments();
    expect(args).toEqual(['--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err', '.']);
  });

  let planted: CheckResult;
  beforeAll(() => {
    planted = runCheck([...CLEAN, ...VIOLATIONS]);
  }, 60_000);

  it('passes a clean tree with one module in every layer, and test code importing across layers', () => {
    const clean = runCheck(CLEAN);
    expect(clean.violations).toEqual([]);
    expect(clean.output).toMatch(/no dependency violations found/);
    expect(clean.status).toBe(0);
  }, 60_000);

  it('fails with a non-zero exit status when a rule is broken', () => {
    expect(planted.status).not.toBe(0);
    expect(planted.violations.length).toBeGreaterThanOrEqual(VIOLATIONS.length - 1); // the two files of the cycle make one
  });

  it.each(VIOLATIONS.map((v) => [v.breaks, v.path] as const))('names rule %s for %s', (rule, path) => {
    // A cycle is reported once, from whichever of its modules comes first; every other rule from the importer.
    const found = planted.violations.filter((v) => v.from === path || (v.rule === 'no-circular' && v.path.includes(path))).map((v) => v.rule);
    expect(found).toContain(rule);
  });

  it('reports nothing for the clean files that sit beside the violations', () => {
    const cleanPaths = new Set(CLEAN.map((f) => f.path));
    expect(planted.violations.filter((v) => cleanPaths.has(v.from))).toEqual([]);
  });
});
