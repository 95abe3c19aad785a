import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
    });
    const manifest = JSON.parse(await readFile(prepared.manifestPath, 'utf8'));
    expect(manifest.source.sha256).toBe(generated.sha256);
    expect(manifest.dpoTrain.sha256).toBe(createHash('sha256').update(await readFile(prepared.dpoTrain.path)).digest('hex'));
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
