import { decisionIdTime, newDecisionId, newDecisionStamp } from './id';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newDecisionId (UUID v7)', () => {
  it('has the version-7 layout and carries its millisecond', () => {
    for (const ms of [0, 1, 0xffffff, 0x1000000, Date.UTC(2026, 11, 4, 9, 30), 2 ** 48 - 1]) {
      const id = newDecisionId(ms);
      expect(id).toMatch(V7);
      expect(decisionIdTime(id)).toBe(ms);
    }
  });

  it('is unique across pool refills and sorts by time', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => newDecisionId(1_700_000_000_000 + Math.floor(i / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 100; i < ids.length; i += 100) expect(ids[i - 100] < ids[i]).toBe(true);
  });

  it('uses the random bits: ids of one millisecond differ widely', () => {
    const ids = Array.from({ length: 1000 }, () => newDecisionId(42));
    // Each hex digit of the random tail takes many values (a stuck byte would show as one value).
    for (let pos = 24; pos < 36; pos++) expect(new Set(ids.map((id) => id[pos])).size).toBeGreaterThan(10);
  });

  it('newDecisionStamp gives an id and a time of the same millisecond', () => {
    const at = Date.UTC(2026, 11, 4, 10, 0, 0, 123);
    const { decisionId, time } = newDecisionStamp(at);
    expect(decisionId).toMatch(V7);
    expect(time.getTime()).toBe(at);
    expect(decisionIdTime(decisionId)).toBe(at);
  });
});
