import { normalCdf, normalPdf } from '../stats/normal';
import { ExpectedImprovement, UpperConfidenceBound, expectedImprovement, upperConfidenceBound } from './acquisition';

describe('Expected Improvement', () => {
  it('matches (μ − f⁺ − ξ)Φ(z) + σφ(z) on fixed inputs', () => {
    // μ = 1, σ = 2, f⁺ = 0.5: z = 0.25, Φ(0.25) = 0.5987063256829237, φ(0.25) = 0.3866681168028493
    expect(expectedImprovement(1, 2, 0.5)).toBeCloseTo(0.5 * 0.5987063256829237 + 2 * 0.3866681168028493, 14);
    // with ξ = 0.1: improvement 0.4, z = 0.2
    expect(expectedImprovement(1, 2, 0.5, 0.1)).toBeCloseTo(0.4 * normalCdf(0.2) + 2 * normalPdf(0.2), 14);
    // below the incumbent: only the σφ(z) term keeps it positive
    expect(expectedImprovement(-1, 0.5, 0)).toBeCloseTo(-1 * normalCdf(-2) + 0.5 * normalPdf(-2), 14);
  });

  it('equals E[max(Y − f⁺, 0)] for Y ~ N(μ, σ²) (numerical integral)', () => {
    const [mu, sd, best] = [0.3, 0.7, 0.6];
    let integral = 0;
    const h = 1e-4;
    for (let y = best; y < mu + 12 * sd; y += h) integral += (y - best + h / 2 - 0) * normalPdf((y + h / 2 - mu) / sd) / sd * h;
    expect(expectedImprovement(mu, sd, best)).toBeCloseTo(integral, 7);
  });

  it('is max(μ − f⁺ − ξ, 0) when σ = 0, and grows with σ', () => {
    expect(expectedImprovement(2, 0, 0.5)).toBe(1.5);
    expect(expectedImprovement(0, 0, 0.5)).toBe(0);
    expect(expectedImprovement(0, 1, 0.5)).toBeGreaterThan(expectedImprovement(0, 0.5, 0.5));
  });

  it('validates ξ', () => {
    expect(() => new ExpectedImprovement({ xi: -1 })).toThrow('xi is -1, expected a finite number >= 0');
    expect(new ExpectedImprovement({ xi: 0.1 }).value(1, 2, 0.5)).toBe(expectedImprovement(1, 2, 0.5, 0.1));
  });
});

describe('Upper Confidence Bound', () => {
  it('is μ + √β σ', () => {
    expect(upperConfidenceBound(1, 2, 4)).toBe(5);
    expect(new UpperConfidenceBound({ beta: 9 }).value(1, 2)).toBe(7);
    expect(() => new UpperConfidenceBound({ beta: 0 })).toThrow('beta is 0, expected a finite number > 0');
  });
});
