/** All estimators of one `evaluatePolicy` call are resampled together, from one set of resamples. */
import { sharedBootstrap } from '../stats/shared-bootstrap';
import { estimatorColumns, evaluatePolicy, makeEstimator, ESTIMATOR_NAMES } from './estimators';
import { makeSyntheticBandit, sampleLoggedData } from './synthetic';

const { inputs, trueQ } = sampleLoggedData(makeSyntheticBandit(11, 6, 3), 2500, 3);
const data = { ...inputs, estimatedRewardsByRegModel: { ...trueQ, data: trueQ.data.map((v) => 0.5 + 0.7 * (v - 0.5)) } };
const options = { lambda: 1.5, nBootstrapSamples: 800, randomState: 21 };

describe('one resample set for all estimators of a run', () => {
  const report = evaluatePolicy(data, options);

  it("each estimator's interval is the one the single-estimator path gives for the same seed", () => {
    for (const name of ESTIMATOR_NAMES) {
      expect(makeEstimator(name, options).estimateInterval(data, options)).toEqual(report.estimates[name]);
    }
  });

  it('an estimator gets the same interval whichever estimators run beside it', () => {
    expect(evaluatePolicy(data, { ...options, estimators: ['dr'] }).estimates.dr).toEqual(report.estimates.dr);
    expect(evaluatePolicy(data, { ...options, estimators: ['dm', 'snipw'] }).estimates.snipw).toEqual(report.estimates.snipw);
  });

  it('the intervals are those of the per-round values resampled with the same indices', () => {
    const cols = estimatorColumns(data, options);
    const together = sharedBootstrap(cols.columns, { alpha: 0.05, ...options }, cols.names);
    cols.names.forEach((name, j) => expect(report.estimates[name]).toEqual(together[j]));
    // The same resamples: a column repeated, or scaled by 2, gets the identical or the doubled interval.
    const dr = cols.columns[cols.names.indexOf('dr')];
    const [a, b, c] = sharedBootstrap([dr, dr, dr.map((v) => 2 * v)], { alpha: 0.05, ...options });
    expect(b).toEqual(a);
    expect(c.lower).toBe(2 * a.lower);
    expect(c.upper).toBe(2 * a.upper);
  });

  it('the point estimates are the estimators\' own (estimatePolicyValue)', () => {
    for (const name of ESTIMATOR_NAMES) expect(report.estimates[name]!.value).toBe(makeEstimator(name, options).estimatePolicyValue(data));
  });

  it('raises the first missing-input error that running the estimators one by one would', () => {
    const noQ = { ...data, estimatedRewardsByRegModel: undefined };
    expect(() => evaluatePolicy(noQ, { estimators: ['ipw', 'dr', 'dm'] })).toThrow('estimated_rewards_by_reg_model: got nothing, expected an n_rounds × n_actions × len_list array of predicted rewards (or `context` to fit the reward model) (required by dr)');
  });
});
