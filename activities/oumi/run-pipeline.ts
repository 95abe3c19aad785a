/**
 * The policy-model pipeline end to end, outside Temporal, printing its figures: synthetic decisions →
 * split and Oumi datasets → tiny model → SFT → evaluate → DPO → evaluate → ONNX export. For measuring
 * (the figures in activities/oumi/README.md) and for trying settings before a workflow run.
 *
 *   node -r ./scripts/register-ts.js activities/oumi/run-pipeline.ts --out .data/oumi/run \
 *     [--n 4000] [--sft-steps 600] [--dpo-steps 150] [--batch 16] [--noise 0.02] [--seed 1]
 *
 * Prints one JSON line per stage and a summary line with wall times and the metrics before/after DPO.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { preparePolicyData, writeSyntheticDecisions } from './data/prepare';
import type { PolicyMetrics } from '../../contracts/text-policy-training';
import { buildTinyModel, evaluatePolicyModel, exportPolicyOnnx } from './policy';
import { runOumi } from './process';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      n: { type: 'string', default: '4000' },
      'sft-steps': { type: 'string', default: '600' },
      'dpo-steps': { type: 'string', default: '150' },
      batch: { type: 'string', default: '16' },
      noise: { type: 'string', default: '0.02' },
      seed: { type: 'string', default: '1' },
    },
  });
  if (!values.out) throw new Error('--out DIR is required');
  const root = path.resolve(__dirname, '..', '..');
  const out = path.resolve(values.out);
  const seed = Number(values.seed);
  const log = (stage: string, data: object): void => console.log(JSON.stringify({ stage, ...data }));
  const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
    const started = Date.now();
    const result = await work();
    return [result, (Date.now() - started) / 1000];
  };

  const decisions = path.join(out, 'labeled_decisions.jsonl');
  const generated = await writeSyntheticDecisions({ path: decisions, n: Number(values.n), seed, labelNoise: Number(values.noise) });
  const data = await preparePolicyData({ decisionsPath: decisions, outDir: path.join(out, 'prepared'), seed });
  log('data', { records: generated.records, goodRate: generated.goodRate, train: data.train.records, eval: data.eval.records });
  const model = await buildTinyModel({ corpus: [data.sftTrain.path], outDir: path.join(out, 'tiny'), seed: 7 }, { root });
  log('model', model);

  const evaluate = (dir: string, name: string): Promise<PolicyMetrics> =>
    evaluatePolicyModel({ modelDir: dir, evalPath: data.sftEval.path, outPath: path.join(out, `metrics-${name}.json`) }, { root });
  let lastLogged = -1;
  const train = (stage: 'sft' | 'dpo', modelPath: string, dataPath: string, steps: number) =>
    runOumi({
      command: 'train', cwd: root, config: path.join(root, 'configs', 'oumi', `policy_${stage}.yaml`),
      overrides: {
        'model.model_name': modelPath, 'data.train.datasets[0].dataset_path': dataPath,
        'training.output_dir': path.join(out, stage), 'training.max_steps': steps,
        'training.per_device_train_batch_size': Number(values.batch), 'training.save_steps': Math.max(10, Math.floor(steps / 3)),
      },
      onProgress: (p) => {
        if (p.loss === null || p.step % 50 !== 0 || p.step === lastLogged) return;
        lastLogged = p.step;
        log(`${stage}-progress`, p);
      },
    });
  const brief = (m: PolicyMetrics) => ({ accuracy: m.accuracy, fpr: m.fpr, fnr: m.fnr, override_rate: m.override_rate, confusion: m.confusion, passed: m.passed });

  const [sft, sftSeconds] = await timed(() => train('sft', model.out, data.sftTrain.path, Number(values['sft-steps'])));
  log('sft', { seconds: sftSeconds, progress: sft.progress });
  const afterSft = await evaluate(path.join(out, 'sft'), 'sft');
  log('eval-sft', brief(afterSft));
  const [dpo, dpoSeconds] = await timed(() => train('dpo', path.join(out, 'sft'), data.dpoTrain.path, Number(values['dpo-steps'])));
  log('dpo', { seconds: dpoSeconds, progress: dpo.progress });
  const afterDpo = await evaluate(path.join(out, 'dpo'), 'dpo');
  log('eval-dpo', brief(afterDpo));
  const exported = await exportPolicyOnnx({ modelDir: path.join(out, 'dpo'), outDir: path.join(out, 'onnx'), checkData: data.sftEval.path }, { root });
  log('export', exported);
  log('summary', { sftSeconds, dpoSeconds, sft: brief(afterSft), dpo: brief(afterDpo) });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
