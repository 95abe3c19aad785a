/**
 * The training activity's heartbeats follow the trainer's output: a trainer that hangs stops them (so
 * Temporal's heartbeat timeout retries the attempt), a trainer that is slow to start does not.
 * Runs `oumiTrain` in the SDK's MockActivityEnvironment with the fake `oumi` executable as the venv's.
 */
import { chmodSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createOumiActivities } from './activities';

const FAKE = path.join(__dirname, 'testing', 'fake-oumi.js');
const HEARTBEAT_TIMEOUT_MS = 1500; // the timer ticks every 500 ms

interface Run {
  beats: number[];
  settled: Promise<unknown>;
  env: MockActivityEnvironment;
}

describe('oumiTrain heartbeats on progress', () => {
  let root: string;
  const saved = { ...process.env };
  beforeAll(() => chmodSync(FAKE, 0o755));
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'oumi-liveness-'));
    await mkdir(path.join(root, '.venv-oumi', 'bin'), { recursive: true });
    await symlink(FAKE, path.join(root, '.venv-oumi', 'bin', 'oumi'));
  });
  afterEach(async () => {
    process.env = { ...saved };
    await rm(root, { recursive: true, force: true });
  });

  function start(env: Record<string, string>, startupGraceMs: number): Run {
    Object.assign(process.env, env);
    const mock = new MockActivityEnvironment({ heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS });
    const beats: number[] = [];
    mock.on('heartbeat', () => beats.push(Date.now()));
    const activities = createOumiActivities({ root, startupGraceMs });
    const settled = mock
      .run(activities.oumiTrain, { stage: 'sft' as const, config: 'configs/oumi/policy_sft.yaml', modelPath: 'm', dataPath: 'd.jsonl', outputDir: path.join(root, 'out'), maxSteps: 10 })
      .then((r) => r, (e: unknown) => e);
    return { beats, settled, env: mock };
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('stops heartbeating when the trainer stalls after some steps', async () => {
    const run = start({ FAKE_OUMI_MODE: 'stall', FAKE_OUMI_STALL_AFTER: '3' }, 60_000);
    // The three steps are printed at once, whenever the trainer's process has started (seconds on a loaded
    // machine): wait for their beats, then three ticks more, since the next tick may still carry them.
    for (const until = Date.now() + 15_000; run.beats.length < 3 && Date.now() < until; ) await sleep(50);
    await sleep(1500);
    const quietFrom = Date.now();
    await sleep(2500); // five ticks of silence
    const duringStall = run.beats.filter((t) => t >= quietFrom).length;
    run.env.cancel();
    await run.settled;
    expect(run.beats.length).toBeGreaterThanOrEqual(3); // one per step as it was parsed
    expect(duringStall).toBe(0);
  }, 30_000);

  it('keeps heartbeating through a silent start-up within the grace, then trains to the end', async () => {
    // 5 s of silence, counted at 4 s: 8 ticks of 500 ms are due, 3 asked for (timers late by up to 2.5 s in all pass).
    const run = start({ FAKE_OUMI_MODE: 'train', FAKE_OUMI_SILENT_MS: '5000' }, 60_000);
    await sleep(4000);
    const beforeFirstLine = run.beats.length;
    const result = (await run.settled) as { progress?: { step: number } };
    expect(beforeFirstLine).toBeGreaterThanOrEqual(3);
    expect(result.progress?.step).toBe(10);
  }, 20_000);

  it('a trainer that prints nothing past the grace gets no heartbeats', async () => {
    const run = start({ FAKE_OUMI_MODE: 'train', FAKE_OUMI_SILENT_MS: '60000' }, 800);
    await sleep(1200);
    const quietFrom = Date.now();
    await sleep(2000);
    const afterGrace = run.beats.filter((t) => t >= quietFrom).length;
    run.env.cancel();
    await run.settled;
    expect(afterGrace).toBe(0);
  }, 20_000);
});
