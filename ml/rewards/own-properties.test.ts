/**
 * A reward spec is looked up by its own properties only: names inherited from Object.prototype
 * ("toString", "constructor", "__proto__") are components only when the spec names them.
 */
import { compositeReward, RewardComponentsError, type RewardSpecInput } from '.';

const spec: RewardSpecInput = { version: 1, components: { thumbs: { source: 'user_feedback', weight: 1 } } };

describe('compositeReward: own properties only', () => {
  it.each(['toString', 'constructor', 'hasOwnProperty', 'valueOf'])('refuses %s as an unknown component', (name) => {
    expect(() => compositeReward(spec, { thumbs: 1, [name]: 1 })).toThrow(RewardComponentsError);
    expect(() => compositeReward(spec, { thumbs: 1, [name]: 1 })).toThrow(new RegExp(`unknown reward component "${name}"`));
  });

  it('refuses a "__proto__" key sent as an own property (JSON.parse makes one)', () => {
    const components = JSON.parse('{"thumbs": 1, "__proto__": 5}') as Record<string, number>;
    expect(() => compositeReward(spec, components)).toThrow(/unknown reward component "__proto__"/);
  });

  it('does not take an inherited "constructor" for a required component the spec names', () => {
    const s: RewardSpecInput = { version: 2, components: { constructor: { source: 'business' as const, weight: 1 } } };
    expect(() => compositeReward(s, {})).toThrow(/missing required reward component "constructor"/);
    expect(compositeReward(s, { constructor: 0.5 } as unknown as Record<string, number>).reward).toBe(0.5);
  });

  it('uses the default of an optional component named like a prototype property, not the inherited value', () => {
    const s: RewardSpecInput = { version: 3, components: { thumbs: { source: 'user_feedback', weight: 1 }, constructor: { source: 'business' as const, weight: 2, required: false, default: 0.25 } } };
    expect(compositeReward(s, { thumbs: 1 }).reward).toBe(1.5);
  });
});
