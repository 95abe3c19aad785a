/**
 * PPO against its peer: the project's PPO (ml/rl, through the `Environment` interface, on the
 * classic-control suite of envs/classic) and Stable-Baselines3's PPO 2.9.2 (on Gymnasium 1.4.0's own
 * environments, from .venv-sb3: scripts/sb3-venv.sh) with the same hyperparameters — CleanRL's
 * classic-control ones (ppo.py for CartPole/Acrobot, ppo_continuous_action.py for Pendulum, whose
 * NormalizeObservation/NormalizeReward wrappers are norm_obs/norm_reward here and VecNormalize in SB3)
 * — the same number of steps, on the CPU, one thread each (torch.set_num_threads(1); node is single-
 * threaded). For every task and seed three processes run side by side: the project with separate
 * actor and critic trunks (vf_share_layers false), the project with one shared trunk (true), SB3.
 *
 * Per run: mean return over the last 10 % of the episodes that finished (in finishing order), steps/s
 * of the training loop in wall-clock time and per CPU second (the machine is shared: CPU seconds move
 * less with the load), wall seconds. Per task: the median over seeds of each, and the ratios
 * project / SB3. For returns the ratio is the relative score 1 + (project − SB3)/|SB3| — project/SB3
 * when returns are positive, and still "higher is better" when they are negative (Pendulum, Acrobot).
 *
 *   scripts/sb3-venv.sh
 *   node -r ./scripts/register-ts.js bench/ppo-peers.ts [--tasks CartPole-v1,Pendulum-v1,Acrobot-v1]
 *     [--seeds 1,2,3] [--steps 50000] [--sequential] [--no-shared]
 *
 * --sequential runs the processes of a seed one after another instead of side by side; --no-shared
 * leaves out the shared-trunk runs (two processes per seed).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { CLASSIC_CONTROL, type ClassicControlTask } from '../envs/classic';
import { parsePpoHyperparameters, type PpoHyperparameters, type PpoHyperparametersInput } from '../ml/rl/hyperparameters';
import { trainPpo } from '../ml/rl/train';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const root = join(__dirname, '..');
const python = join(root, '.venv-sb3', 'bin', 'python');

/** CleanRL's classic-control hyperparameters, by task (total_timesteps set from --steps). */
const CLEANRL_DISCRETE: PpoHyperparametersInput = {
  learning_rate: 2.5e-4, num_envs: 4, num_steps: 128, anneal_lr: true, gamma: 0.99, gae_lambda: 0.95, num_minibatches: 4,
  update_epochs: 4, norm_adv: true, clip_coef: 0.2, clip_vloss: true, ent_coef: 0.01, vf_coef: 0.5, max_grad_norm: 0.5,
  target_kl: null, hidden_sizes: [64, 64],
};
const CLEANRL_CONTINUOUS: PpoHyperparametersInput = {
  learning_rate: 3e-4, num_envs: 1, num_steps: 2048, anneal_lr: true, gamma: 0.99, gae_lambda: 0.95, num_minibatches: 32,
  update_epochs: 10, norm_adv: true, clip_coef: 0.2, clip_vloss: true, ent_coef: 0.0, vf_coef: 0.5, max_grad_norm: 0.5,
  target_kl: null, hidden_sizes: [64, 64], norm_obs: true, clip_obs: 10, norm_reward: true, clip_reward: 10,
};
const HYPERPARAMETERS: Record<ClassicControlTask, PpoHyperparametersInput> = {
  'CartPole-v1': CLEANRL_DISCRETE,
  'Acrobot-v1': CLEANRL_DISCRETE,
  'Pendulum-v1': CLEANRL_CONTINUOUS,
};

interface RunResult {
  /** Returns of the finished episodes, in the order they finished. */
  returns: number[];
  steps: number;
  seconds: number;
  cpuSeconds: number;
}

function hyperparameters(task: ClassicControlTask, seed: number, steps: number, share: boolean): PpoHyperparameters {
  const hp = { ...HYPERPARAMETERS[task], seed, vf_share_layers: share };
  const batch = (hp.num_envs as number) * (hp.num_steps as number);
  return parsePpoHyperparameters({ ...hp, total_timesteps: Math.ceil(steps / batch) * batch });
}

/** The project's run, in this process (called in a child: `--worker task seed steps share`). */
async function projectRun(task: ClassicControlTask, seed: number, steps: number, share: boolean): Promise<RunResult> {
  const hp = hyperparameters(task, seed, steps, share);
  const returns: number[] = [];
  const cpu0 = process.cpuUsage(), t0 = performance.now();
  await trainPpo(CLASSIC_CONTROL[task], hp, undefined, (_m, _p, batches) => {
    // finishing order across environments: by step, then environment (a vectorised env's order)
    const ends: { t: number; e: number; r: number }[] = [];
    batches.forEach((b, e) => {
      let k = 0;
      for (let t = 0; t < b.numSteps && k < b.episodes.length; t++) {
        const ended = t + 1 < b.numSteps ? b.dones[t + 1] : b.nextDone;
        if (ended) ends.push({ t, e, r: b.episodes[k++].return });
      }
    });
    ends.sort((a, b) => a.t - b.t || a.e - b.e);
    for (const x of ends) returns.push(x.r);
  });
  const seconds = (performance.now() - t0) / 1000, c = process.cpuUsage(cpu0);
  return { returns, steps: hp.total_timesteps, seconds, cpuSeconds: (c.user + c.system) / 1e6 };
}

function child(cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: root, env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', MPLBACKEND: 'Agg' } });
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      try {
        const line = out.trim().split('\n').pop() as string;
        const r = JSON.parse(line) as RunResult & { cpu_seconds?: number };
        resolve({ returns: r.returns, steps: r.steps, seconds: r.seconds, cpuSeconds: r.cpuSeconds ?? (r.cpu_seconds as number) });
      } catch (e) {
        reject(new Error(`${cmd}: unreadable output ${JSON.stringify(out.slice(-500))}: ${(e as Error).message}`));
      }
    });
  });
}

const projectChild = (task: string, seed: number, steps: number, share: boolean): Promise<RunResult> =>
  child(process.execPath, ['-r', './scripts/register-ts.js', __filename, '--worker', task, String(seed), String(steps), share ? 'shared' : 'separate']);

function sb3Child(task: ClassicControlTask, seed: number, steps: number): Promise<RunResult> {
  const hp = hyperparameters(task, seed, steps, false);
  return child(python, [join(root, 'bench', 'ppo-peers.py'), task, String(seed), JSON.stringify(hp)]);
}

/** Mean return over the last 10 % of the finished episodes (at least one). */
function lastTenth(returns: number[]): number {
  if (returns.length === 0) return NaN;
  const k = Math.max(1, Math.round(returns.length / 10));
  return returns.slice(-k).reduce((a, b) => a + b, 0) / k;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** 1 + (x − ref)/|ref|: x/ref for positive returns, higher-is-better for negative ones. */
const relative = (x: number, ref: number): number => 1 + (x - ref) / Math.abs(ref);
const f = (x: number, d = 1): string => x.toFixed(d);

async function main(): Promise<void> {
  if (process.argv.includes('--worker')) {
    const i = process.argv.indexOf('--worker');
    const [task, seed, steps, mode] = process.argv.slice(i + 1, i + 5);
    if (!(task in CLASSIC_CONTROL)) throw new Error(`--worker: task = ${JSON.stringify(task)}, expected one of ${Object.keys(CLASSIC_CONTROL).join(', ')}`);
    const r = await projectRun(task as ClassicControlTask, Number(seed), Number(steps), mode === 'shared');
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  if (!existsSync(python)) throw new Error(`${python} is missing: run scripts/sb3-venv.sh (make setup-sb3) first`);
  const tasks = arg('tasks', Object.keys(CLASSIC_CONTROL).join(',')).split(',') as ClassicControlTask[];
  for (const t of tasks) if (!(t in CLASSIC_CONTROL)) throw new Error(`--tasks: ${JSON.stringify(t)} is not one of ${Object.keys(CLASSIC_CONTROL).join(', ')}`);
  const seeds = arg('seeds', '1,2,3').split(',').map(Number);
  const steps = Number(arg('steps', '50000'));
  const sequential = process.argv.includes('--sequential');
  const withShared = !process.argv.includes('--no-shared');
  const skipped: RunResult = { returns: [NaN], steps: NaN, seconds: NaN, cpuSeconds: NaN };
  const versions = execFileSync(python, ['-c', 'import stable_baselines3, gymnasium, torch; print(stable_baselines3.__version__, gymnasium.__version__, torch.__version__)']).toString().trim();
  console.log(`ppo-peers: ${new Date().toISOString()}; ${cpus().length} × ${cpus()[0]?.model}; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}; SB3/Gymnasium/torch ${versions}; node ${process.version}`);
  console.log(`tasks ${tasks.join(', ')}; seeds ${seeds.join(', ')}; ${steps} steps each (rounded up to whole batches); ${withShared ? 'separate and shared trunks' : 'separate trunks only'}; ${sequential ? 'one process at a time' : 'the runs of a seed side by side'}`);

  const summary: string[] = [];
  for (const task of tasks) {
    const rows: { seed: number; sep: RunResult; shr: RunResult; sb3: RunResult }[] = [];
    for (const seed of seeds) {
      let sep: RunResult, shr: RunResult, sb3: RunResult;
      if (sequential) {
        sep = await projectChild(task, seed, steps, false);
        shr = withShared ? await projectChild(task, seed, steps, true) : skipped;
        sb3 = await sb3Child(task, seed, steps);
      } else {
        [sep, shr, sb3] = await Promise.all([projectChild(task, seed, steps, false), withShared ? projectChild(task, seed, steps, true) : skipped, sb3Child(task, seed, steps)]);
      }
      rows.push({ seed, sep, shr, sb3 });
      const show = (name: string, r: RunResult): string =>
        `${name} return ${f(lastTenth(r.returns))} (${r.returns.length} episodes), ${f(r.steps / r.seconds, 0)} steps/s, ${f(r.steps / r.cpuSeconds, 0)} steps/CPU-s, ${f(r.seconds)} s`;
      console.log(`${task} seed ${seed}: ${show('project(separate)', sep)} | ${withShared ? `${show('project(shared)', shr)} | ` : ''}${show('SB3', sb3)}; load ${f(loadavg()[0])}`);
    }
    const med = (pick: (r: (typeof rows)[number]) => RunResult, m: (r: RunResult) => number): number => median(rows.map((r) => m(pick(r))));
    const ret = (r: RunResult): number => lastTenth(r.returns), sps = (r: RunResult): number => r.steps / r.seconds, cps = (r: RunResult): number => r.steps / r.cpuSeconds;
    const line = `${task}: median return project(separate) ${f(med((r) => r.sep, ret))}, project(shared) ${f(med((r) => r.shr, ret))}, SB3 ${f(med((r) => r.sb3, ret))} → ` +
      `separate/SB3 ${f(relative(med((r) => r.sep, ret), med((r) => r.sb3, ret)), 3)}, shared/SB3 ${f(relative(med((r) => r.shr, ret), med((r) => r.sb3, ret)), 3)} (target ≥ 0.95); ` +
      `per-seed separate/SB3 ${rows.map((r) => f(relative(ret(r.sep), ret(r.sb3)), 2)).join(', ')}; ` +
      `steps/s separate ${f(med((r) => r.sep, sps), 0)}, shared ${f(med((r) => r.shr, sps), 0)}, SB3 ${f(med((r) => r.sb3, sps), 0)} → separate/SB3 ${f(med((r) => r.sep, sps) / med((r) => r.sb3, sps), 2)}×, shared/SB3 ${f(med((r) => r.shr, sps) / med((r) => r.sb3, sps), 2)}× (target ≥ 2); ` +
      `per CPU second separate/SB3 ${f(med((r) => r.sep, cps) / med((r) => r.sb3, cps), 2)}×, shared/SB3 ${f(med((r) => r.shr, cps) / med((r) => r.sb3, cps), 2)}×; ` +
      `wall s (median) ${f(med((r) => r.sep, (x) => x.seconds))} / ${f(med((r) => r.shr, (x) => x.seconds))} / ${f(med((r) => r.sb3, (x) => x.seconds))}`;
    summary.push(line);
    console.log(line);
  }
  console.log('\nsummary\n' + summary.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
