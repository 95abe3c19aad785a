import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { judge } from '../../../ml/policy-data/judge';
import { preparePolicyData, writeSyntheticDecisions } from './prepare';

describe('policy data preparation', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'policy-data-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  const lines = async (file: string): Promise<any[]> => (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));

  it('writes the synthetic set, the split and the Oumi datasets with a manifest', async () => {
    const decisions = path.join(dir, 'labeled_decisions.jsonl');
    const generated = await writeSyntheticDecisions({ path: decisions, n: 300, seed: 4 });
    expect(generated.records).toBe(300);
    expect(generated.sha256).toBe(createHash('sha256').update(await readFile(decisions)).digest('hex'));

    const prepared = await preparePolicyData({ decisionsPath: decisions, outDir: path.join(dir, 'prepared'), evalFraction: 0.25, seed: 2 });
    expect(prepared.train.records + prepared.eval.records).toBe(300);
    expect(prepared.eval.records).toBeGreaterThan(60);
    expect(prepared.sftTrain.records).toBe(prepared.train.records);
    expect(prepared.dpoEval.records).toBe(prepared.eval.records);

    const evalRecords = await lines(prepared.eval.path);
    const sftEval = await lines(prepared.sftEval.path);
    const dpoEval = await lines(prepared.dpoEval.path);
    sftEval.forEach((conversation, i) => {
      expect(conversation.messages[2].content.startsWith(evalRecords[i].label === 'good' ? 'APPROVE' : 'FLAG')).toBe(true);
      expect(Object.keys(dpoEval[i]).sort()).toEqual(['chosen', 'prompt', 'rejected']);
      // the verdict alone, the label's chosen
      expect(dpoEval[i]).toMatchObject(evalRecords[i].label === 'good' ? { chosen: 'APPROVE', rejected: 'FLAG' } : { chosen: 'FLAG', rejected: 'APPROVE' });
    });
    const manifest = JSON.parse(await readFile(prepared.manifestPath, 'utf8'));
    expect(manifest.source.sha256).toBe(generated.sha256);
    expect(manifest.dpoTrain.sha256).toBe(createHash('sha256').update(await readFile(prepared.dpoTrain.path)).digest('hex'));
  });

  it('holds a validation split out of training, and writes the eval split relabelled by the rule without noise', async () => {
    const decisions = path.join(dir, 'labeled_decisions.jsonl');
    await writeSyntheticDecisions({ path: decisions, n: 400, seed: 9, labelNoise: 0.1 });
    const plain = await preparePolicyData({ decisionsPath: decisions, outDir: path.join(dir, 'plain'), evalFraction: 0.2, seed: 3 });
    const withVal = await preparePolicyData({ decisionsPath: decisions, outDir: path.join(dir, 'val'), evalFraction: 0.2, seed: 3, valFraction: 0.25 });
    // the eval split is the same; validation comes out of training only
    expect(await readFile(withVal.eval.path, 'utf8')).toBe(await readFile(plain.eval.path, 'utf8'));
    expect(plain.sftVal).toBeUndefined();
    expect(withVal.sftVal!.records + withVal.train.records).toBe(plain.train.records);
    expect(withVal.sftVal!.records).toBeGreaterThanOrEqual(Math.floor(0.2 * plain.train.records));
    const trainPrompts = new Set((await lines(withVal.sftTrain.path)).map((c) => c.messages[1].content));
    for (const c of await lines(withVal.sftVal!.path)) expect(trainPrompts.has(c.messages[1].content)).toBe(false);
    expect(withVal.valFraction).toBe(0.25);

    // adjudicated: same prompts in the same order, the rule's verdict; with 10% noise some labels change
    const evalRecords = await lines(withVal.eval.path);
    const noisy = await lines(withVal.sftEval.path);
    const gold = await lines(withVal.sftEvalAdjudicated!.path);
    expect(gold.map((c) => c.messages[1].content)).toEqual(noisy.map((c) => c.messages[1].content));
    let changed = 0;
    gold.forEach((c, i) => {
      const verdict = judge(evalRecords[i].input, evalRecords[i].output.actions).good ? 'APPROVE' : 'FLAG';
      expect(c.messages[2].content.startsWith(verdict)).toBe(true);
      if (!noisy[i].messages[2].content.startsWith(verdict)) changed++;
    });
    expect(changed).toBe(withVal.sftEvalAdjudicated!.relabelled);
    expect(changed).toBeGreaterThan(0);
    await expect(preparePolicyData({ decisionsPath: decisions, outDir: path.join(dir, 'bad'), valFraction: 1 })).rejects.toThrow('valFraction must be in [0, 1), got 1');
  });

  it('fails on an invalid record, naming the file, line and field', async () => {
    const decisions = path.join(dir, 'bad.jsonl');
    await writeSyntheticDecisions({ path: decisions, n: 5, seed: 1 });
    const rows = (await readFile(decisions, 'utf8')).trim().split('\n');
    const broken = JSON.parse(rows[3]);
    broken.output.actions[0].confidence = 'high';
    rows[3] = JSON.stringify(broken);
    await writeFile(decisions, rows.join('\n'));
    await expect(preparePolicyData({ decisionsPath: decisions, outDir: dir })).rejects.toThrow(/bad\.jsonl line 4: field output\.actions\[0\]\.confidence/);
  });

  it('fails clearly on a missing file', async () => {
    await expect(preparePolicyData({ decisionsPath: path.join(dir, 'nope.jsonl'), outDir: dir })).rejects.toThrow(/decisionsPath .*nope\.jsonl: cannot read \(ENOENT\)/);
  });
});
