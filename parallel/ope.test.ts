import { evaluatePolicy } from '../ml/ope';
import { makeSyntheticBandit, sampleLoggedData } from '../ml/ope/synthetic';
import { evaluatePolicyOnThreads } from './ope';

describe('evaluatePolicyOnThreads', () => {
  it('reports exactly what evaluatePolicy reports, on 1 and 2 threads', async () => {
    const { inputs, trueQ } = sampleLoggedData(makeSyntheticBandit(4, 5, 3), 3000, 6);
    const data = { ...inputs, estimatedRewardsByRegModel: trueQ };
    const options = { lambda: 2, nBootstrapSamples: 600, randomState: 8 };
    const reference = evaluatePolicy(data, options);
    expect(Object.keys(reference.estimates)).toEqual(['ipw', 'snipw', 'dm', 'dr', 'sndr', 'switch-dr', 'dr-os']);
    expect(await evaluatePolicyOnThreads(data, { ...options, threads: 1 })).toEqual(reference);
    expect(await evaluatePolicyOnThreads(data, { ...options, threads: 2 })).toEqual(reference);
  });
});
