import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { latestCheckpoint, OumiProcessError, overrideArgs, runOumi } from './process';
import type { OumiProgress } from '../../contracts/text-policy-training';

const FAKE = path.join(__dirname, 'testing', 'fake-oumi.js');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed process whose parent has not reaped it yet is a zombie: dead for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('runOumi with a fake oumi executable', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'oumi-process-')); });
  let afterCleanup: (() => void) | undefined;
  afterEach(async () => {
    afterCleanup?.(); // never leave a hanging fake behind when a test fails midway
    afterCleanup = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('passes the config and overrides, streams the log and reports every progress step (the heartbeats)', async () => {
    const argsFile = path.join(dir, 'args.json');
    const heartbeats: OumiProgress[] = [];
    const lines: string[] = [];
    const result = await runOumi({
      command: 'train', config: 'configs/oumi/policy_sft.yaml', oumiBin: FAKE,
      overrides: { 'training.max_steps': 6, 'training.output_dir': path.join(dir, 'out') },
      env: { FAKE_OUMI_ARGS_FILE: argsFile },
      onProgress: (p) => heartbeats.push(p),
      onLog: (line) => lines.push(line),
    });
    expect(JSON.parse(await readFile(argsFile, 'utf8'))).toEqual([
      'train', '-c', 'configs/oumi/policy_sft.yaml', '--training.max_steps', '6', '--training.output_dir', path.join(dir, 'out'),
    ]);
    expect([...new Set(heartbeats.map((h) => h.step))]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(heartbeats.every((h) => h.totalSteps === 6)).toBe(true);
    expect(heartbeats.find((h) => h.step === 2 && h.loss !== null)?.loss).toBe(1.5);
    expect(result.progress).toEqual({ step: 6, totalSteps: 6, loss: 0.5, epoch: 1 });
    expect(result.resumedFrom).toBeNull();
    expect(lines).toContain('[oumi][INFO] Training is Complete.');
  });

  it('rejects a non-zero exit with the exit code and the last 40 lines of stderr', async () => {
    const error = await runOumi({ command: 'train', config: 'c.yaml', oumiBin: FAKE, env: { FAKE_OUMI_MODE: 'fail' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OumiProcessError);
    const failure = error as OumiProcessError;
    expect(failure.exitCode).toBe(3);
    expect(failure.stderrTail).toHaveLength(40);
    expect(failure.stderrTail[39]).toBe('ValueError: boom: dataset_path does not exist');
    expect(failure.stderrTail[0]).toContain('frame_20.py');
    expect(failure.message).toMatch(/^oumi train -c c\.yaml exited with code 3; last 40 lines of stderr:\n/);
    expect(failure.message).toContain('ValueError: boom');
  });

  it('on cancellation kills the whole process group, a grandchild that ignores SIGTERM included', async () => {
    const pidsFile = path.join(dir, 'pids.json');
    const controller = new AbortController();
    const progress: OumiProgress[] = [];
    const run = runOumi({
      command: 'train', config: 'c.yaml', oumiBin: FAKE, signal: controller.signal, killGraceMs: 300,
      env: { FAKE_OUMI_MODE: 'hang', FAKE_OUMI_PIDS_FILE: pidsFile, FAKE_OUMI_STUBBORN: '1' },
      onProgress: (p) => progress.push(p),
    });
    const outcome = run.then(() => 'resolved', (e: Error) => e);
    afterCleanup = () => controller.abort(new Error('test cleanup'));
    await until(async () => (await readFile(pidsFile, 'utf8').catch(() => '')) !== '' && progress.length > 0, 'the fake to start');
    const pids = JSON.parse(await readFile(pidsFile, 'utf8')) as { oumi: number; grandchild: number };
    expect(alive(pids.oumi) && alive(pids.grandchild)).toBe(true);
    controller.abort(new Error('activity cancelled'));
    expect(await outcome).toEqual(new Error('activity cancelled'));
    await until(() => !alive(pids.oumi) && !alive(pids.grandchild), 'the process group to die');
  });

  it('on retry resumes from the latest complete checkpoint in the output directory', async () => {
    const out = path.join(dir, 'out');
    for (const step of [2, 10, 4]) {
      await mkdir(path.join(out, `checkpoint-${step}`), { recursive: true });
      await writeFile(path.join(out, `checkpoint-${step}`, 'trainer_state.json'), '{}');
    }
    await mkdir(path.join(out, 'checkpoint-12')); // interrupted while saving: no trainer_state.json
    expect(await latestCheckpoint(out)).toBe(path.join(out, 'checkpoint-10'));

    const heartbeats: OumiProgress[] = [];
    const argsFile = path.join(dir, 'args.json');
    const result = await runOumi({
      command: 'train', config: 'c.yaml', oumiBin: FAKE, outputDir: out, resume: true,
      overrides: { 'training.max_steps': 14, 'training.output_dir': out },
      env: { FAKE_OUMI_ARGS_FILE: argsFile }, onProgress: (p) => heartbeats.push(p),
    });
    expect(result.resumedFrom).toBe(path.join(out, 'checkpoint-10'));
    expect(JSON.parse(await readFile(argsFile, 'utf8'))).toEqual(expect.arrayContaining(['--training.resume_from_checkpoint', path.join(out, 'checkpoint-10')]));
    expect(heartbeats[0].step).toBe(11);
    expect(result.progress.step).toBe(14);
  });

  it('starts from scratch when asked to resume with no checkpoint yet', async () => {
    const out = path.join(dir, 'empty');
    expect(await latestCheckpoint(out)).toBeNull();
    const result = await runOumi({ command: 'train', config: 'c.yaml', oumiBin: FAKE, outputDir: out, resume: true, overrides: { 'training.max_steps': 2 } });
    expect(result.resumedFrom).toBeNull();
    expect(result.args).not.toContain('--training.resume_from_checkpoint');
  });

  it('fails clearly when the executable is missing, and rejects malformed override keys', async () => {
    await expect(runOumi({ command: 'train', config: 'c.yaml', oumiBin: path.join(dir, 'no-oumi') })).rejects.toThrow(/oumi: cannot start .*no-oumi \(spawn .* ENOENT\)/);
    expect(() => overrideArgs({ 'training.max_steps; rm -rf': 1 })).toThrow(/override key .* is not a dotted config path/);
    expect(() => overrideArgs({ 'data.train.datasets[x].dataset_path': 'a' })).toThrow(/not a dotted config path/);
    expect(overrideArgs({ 'data.train.datasets[0].dataset_path': 'd.jsonl', 'model.model_name': 'm' }))
      .toEqual(['--data.train.datasets[0].dataset_path', 'd.jsonl', '--model.model_name', 'm']);
  });
});
