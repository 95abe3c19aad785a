import { FeatureHasher, SparseVector, hashString } from './hash';

describe('MurmurHash3_x86_32', () => {
  it('gives the reference values (SMHasher vectors; scikit-learn murmurhash3_32 for the UTF-8 one)', () => {
    expect(hashString('', 0)).toBe(0);
    expect(hashString('', 1)).toBe(0x514e28b7);
    expect(hashString('hello', 0)).toBe(0x248bfa47);
    expect(hashString('abc', 0)).toBe(0xb3dd93fa);
    expect(hashString('The quick brown fox jumps over the lazy dog', 0)).toBe(0x2e4ff723);
    expect(hashString('héllo wörld', 42)).toBe(0x33180328);
    expect(hashString('x'.repeat(1000), 7)).toBe(hashString('x'.repeat(1000), 7));
  });
});

describe('FeatureHasher', () => {
  const h = new FeatureHasher({ bits: 10 });
  it('hashes numeric, categorical and boolean features, with the bias first', () => {
    const v = h.hash({ price: 2.5, country: 'fr', mobile: true, desktop: false, zero: 0 }, new SparseVector(2));
    expect(v.count).toBe(4);
    expect([...v.idx.subarray(0, 4)]).toEqual([hashString('^bias') & 1023, hashString('price') & 1023, hashString('country=fr') & 1023, hashString('mobile') & 1023]);
    expect([...v.val.subarray(0, 4)]).toEqual([1, 2.5, 1, 1]);
    expect(h.index('country', 'fr')).toBe(hashString('country=fr') & 1023);
  });
  it('refuses a non-finite or non-scalar value, naming the feature', () => {
    expect(() => h.hash({ price: Number.NaN }, new SparseVector())).toThrow('features.price is null; expected a finite number, a string (categorical) or a boolean');
    expect(() => h.hash({ tags: ['a'] } as never, new SparseVector(), 'body.features')).toThrow(/body\.features\.tags/);
  });
});
