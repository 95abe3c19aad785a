/**
 * The decision threshold chosen on the validation split (python/evaluate_policy.py calibrate_threshold):
 * the largest threshold whose validation FNR stays strictly below the bound, so the FPR is the least that
 * bound allows. Run through .venv-oumi's Python, as the evaluation activity runs it.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describeWithOumiVenv } from '../../test/support/tools';

const root = resolve(__dirname, '..', '..');
const python = join(root, '.venv-oumi', 'bin', 'python');

function calibrate(labels: string[], probs: number[], bound: number): { threshold?: number; error?: string } {
  const code = `import json, sys\nsys.path.insert(0, ${JSON.stringify(join(root, 'python'))})\nimport evaluate_policy as e\na = json.loads(sys.argv[1])\nprint(json.dumps({"threshold": e.calibrate_threshold(a[0], a[1], a[2])}))`;
  const r = spawnSync(python, ['-c', code, JSON.stringify([labels, probs, bound])], { encoding: 'utf8' });
  if (r.status !== 0) return { error: `${r.stdout}${r.stderr}`.trim() };
  return JSON.parse(r.stdout) as { threshold: number };
}

/** FNR and FPR at threshold t (approve when p >= t), computed here independently. */
function rates(labels: string[], probs: number[], t: number): { fnr: number; fpr: number } {
  let fn = 0, good = 0, fp = 0, bad = 0;
  labels.forEach((l, i) => {
    if (l === 'APPROVE') { good++; if (probs[i] < t) fn++; } else { bad++; if (probs[i] >= t) fp++; }
  });
  return { fnr: fn / good, fpr: fp / bad };
}

describeWithOumiVenv('activities/oumi/calibrate.test.ts', 'python')('threshold calibration on the validation split', () => {
  it('on a hand example: 100 good items allow 1 below the threshold under a 2% bound', () => {
    const labels = [...Array(100).fill('APPROVE'), ...Array(50).fill('FLAG')];
    // good items at 0.30, 0.31, …; bad items spread below and above
    const probs = [...Array.from({ length: 100 }, (_, i) => 0.3 + i * 0.007), ...Array.from({ length: 50 }, (_, i) => 0.05 + i * 0.012)];
    const { threshold } = calibrate(labels, probs, 0.02);
    expect(threshold).toBeCloseTo(0.307, 12); // the second-lowest good item: one good item (1%) falls below it
    expect(rates(labels, probs, threshold!).fnr).toBeCloseTo(0.01, 12);
  });

  it('is the largest threshold keeping FNR below the bound, so no larger one does and its FPR is the least', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const bound of [0.02, 0.05, 0.2]) {
      const labels: string[] = [];
      const probs: number[] = [];
      for (let i = 0; i < 400; i++) {
        const good = rnd() < 0.6;
        labels.push(good ? 'APPROVE' : 'FLAG');
        probs.push(Math.min(0.999, Math.max(0.001, (good ? 0.7 : 0.35) + (rnd() - 0.5) * 0.6)));
      }
      const { threshold } = calibrate(labels, probs, bound);
      const at = rates(labels, probs, threshold!);
      expect(at.fnr).toBeLessThan(bound);
      // every candidate threshold above it (the next distinct good score) breaks the bound, and none has a lower FPR within it
      const candidates = [...new Set(probs)].sort((a, b) => a - b);
      for (const t of candidates.filter((c) => c > threshold!)) {
        const r = rates(labels, probs, t);
        if (r.fnr < bound) throw new Error(`threshold ${t} > ${threshold} also keeps FNR ${r.fnr} < ${bound}`);
      }
      for (const t of candidates.filter((c) => c < threshold!)) expect(rates(labels, probs, t).fpr).toBeGreaterThanOrEqual(at.fpr);
    }
  });

  it('refuses a validation split without good items, and a bound outside (0, 1)', () => {
    expect(calibrate(['FLAG', 'FLAG'], [0.2, 0.7], 0.02).error).toContain('no APPROVE items');
    expect(calibrate(['APPROVE'], [0.5], 0).error).toContain('--fnr-bound must be in (0, 1), got 0');
  });
});
