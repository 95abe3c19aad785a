/**
 * POST /v1/labels' failures as the deployment answers them: labels a commit could not land (other servers'
 * commits overtook it every time) are a 503 naming the deployment, with a Retry-After; nothing was learnt.
 */
import { buildOnlineLearner, parseOnlineModelConfig } from '../../ml/online';
import { ServerFault } from '../http/errors';
import { OnlineModelDeployment } from './deployment';
import { CommitContentionError, type LabelRows, type SharedOnlineState } from './state';

describe('OnlineModelDeployment.learn', () => {
  const config = parseOnlineModelConfig({ algorithm: 'ftrl', bits: 8, stateKey: 'ctr-state' }, 'ctr');
  const make = (learn: (rows: LabelRows) => Promise<{ seqBefore: number; seq: number }>) => {
    const state = { key: 'online:state:ctr-state', seq: 0, learner: buildOnlineLearner(config), learn } as unknown as SharedOnlineState;
    return new OnlineModelDeployment({ released: () => undefined }, 'ctr', 'ctr-model', 1, config, JSON.stringify(config), state);
  };

  it('hands the rows hashed, in order, to the shared state and answers the seq', async () => {
    const seen: LabelRows[] = [];
    const d = make(async (rows) => {
      seen.push(rows);
      return { seqBefore: 4, seq: 4 + rows.rows };
    });
    const r = await d.learn({ deployment: 'ctr', labels: [{ features: { a: 'x', n: 2 }, label: 1 }, { features: { b: 'y' }, label: 0 }] }, 100);
    expect(r).toMatchObject({ learnt: 2, seq: 6 });
    expect(seen).toHaveLength(1);
    expect(seen[0].rows).toBe(2);
    expect(Array.from(seen[0].y)).toEqual([1, 0]);
    expect(Array.from(seen[0].offsets)).toEqual([0, 3, 5]); // a=x, n, bias; b=y, bias
    expect(seen[0].idx.length).toBe(5);
    expect(d.labelsLearnt).toBe(2);
  });

  it('a commit overtaken too often is a 503 naming the deployment; the labels are not counted', async () => {
    const d = make(() => Promise.reject(new CommitContentionError('ctr', 'online:state:ctr-state', 1, 50, 10, 12)));
    const err = await d.learn({ deployment: 'ctr', features: { a: 'x' }, label: 1 }, 100).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServerFault);
    const f = err as ServerFault;
    expect(f.status).toBe(503);
    expect(f.retryAfterSeconds).not.toBeNull();
    expect(f.message).toBe('1 label(s) for deployment "ctr" not learnt: other servers committed first 50 times in a row');
    expect(d.labelsLearnt).toBe(0);
  });
});
