/**
 * An online model's calibration on the inference server's /metrics: every label learnt is paired with the
 * model's prediction just before it learnt it (progressive validation), and autopilot_calibration_*
 * {deployment,model} equal the same figures computed here from FTRL-Proximal run on the same labels.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { parseExposition, sampleValue } from '../../infra/grafana/exposition';
import { calibrationReport } from '../../ml/calibration';
import { FeatureHasher, FtrlProximal, SparseVector } from '../../ml/online';
import { JsonClient } from '../testing/client';
import { createServingFixture, type ServingFixture } from '../testing/fixture';

const tag = randomBytes(4).toString('hex');
const ftrl = { alpha: 0.5, beta: 1, l1: 0.01, l2: 0.1 };

function example(i: number): { features: Record<string, number | string>; label: number } {
  const country = ['fr', 'de', 'us', 'jp'][i % 4];
  const device = i % 3 === 0 ? 'mobile' : 'desktop';
  const hour = (i * 7) % 24;
  const label = (country === 'us' ? 1 : 0) ^ (device === 'mobile' && hour > 12 ? 1 : 0);
  return { features: { country, device, hour: hour / 24 }, label };
}

describe('online-model calibration on /metrics', () => {
  let fx: ServingFixture;
  let redis: Redis;
  const key = `test-calib-${tag}`;

  beforeAll(async () => {
    fx = await createServingFixture();
    redis = new Redis('redis://127.0.0.1:6379');
    await fx.registry.createModel({ name: 'ctr', actor: 'test' });
    await fx.registry.setDeployment({ model: 'ctr', kind: 'online-model', championVersion: null, actor: 'test', config: { algorithm: 'ftrl', loss: 'logistic', bits: 12, ftrl, stateKey: key, snapshotEverySeconds: 0 } });
  }, 60_000);

  afterAll(async () => {
    const keys = [...(await redis.keys(`online:*:${key}`)), ...(await redis.keys(`online:*:${key}-*`))];
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await fx?.close();
  });

  it('exports the rolling log loss, Brier, ECE, correlation and reliability table of the labels learnt', async () => {
    const server = await fx.start();
    const client = new JsonClient(server.url);
    const hasher = new FeatureHasher({ bits: 12 });
    const ref = new FtrlProximal('logistic', 12, ftrl);
    const v = new SparseVector();
    const predicted: number[] = [];
    const observed: number[] = [];
    try {
      for (let b = 0; b < 30; b++) {
        const labels = Array.from({ length: 20 }, (_, j) => example(b * 20 + j));
        // One batch is predicted at the state before it, then learnt in order.
        for (const l of labels) {
          hasher.hash(l.features, v);
          predicted.push(ref.predict(v.idx, v.val, 0, v.count));
          observed.push(l.label);
        }
        for (const l of labels) {
          hasher.hash(l.features, v);
          ref.update(v.idx, v.val, 0, v.count, l.label);
        }
        const r = await client.post('/v1/labels', { deployment: 'ctr', labels });
        expect(r.status).toBe(200);
      }
      const e = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
      const want = calibrationReport(predicted, observed);
      const l = { deployment: 'ctr', model: 'ctr' };
      expect(sampleValue(e, 'autopilot_calibration_pairs', l)).toBe(600);
      expect(sampleValue(e, 'autopilot_calibration_log_loss', l)).toBeCloseTo(want.logLoss!, 9);
      expect(sampleValue(e, 'autopilot_calibration_brier', l)).toBeCloseTo(want.brier!, 9);
      expect(sampleValue(e, 'autopilot_calibration_ece', l)).toBeCloseTo(want.ece!, 9);
      expect(sampleValue(e, 'autopilot_calibration_correlation', l)).toBeCloseTo(want.correlation!, 9);
      expect(sampleValue(e, 'autopilot_calibration_reliability', { ...l, bin: '0.1', stat: 'count' })).toBe(want.bins[0].count);
      // It learnt: the log loss of the last 200 labels is below that of the first 200 (0.693 at p = 0.5).
      expect(calibrationReport(predicted.slice(-200), observed.slice(-200)).logLoss!).toBeLessThan(calibrationReport(predicted.slice(0, 200), observed.slice(0, 200)).logLoss!);
    } finally {
      client.close();
    }
  }, 120_000);
});
