import { CliError } from '../errors';
import { overloadFlags } from './serve';

describe('autopilot serve: overload flags', () => {
  it('turns seconds into ms and keeps the connection cap', () => {
    expect(overloadFlags({ headerTimeout: '10', bodyTimeout: '0.5', maxConnections: '10000' })).toEqual({ headersTimeoutMs: 10_000, bodyTimeoutMs: 500, maxConnections: 10_000 });
  });

  it.each([
    [{ headerTimeout: '0', bodyTimeout: '30', maxConnections: '10' }, /--header-timeout "0": expected seconds in 0.1..3600/],
    [{ headerTimeout: '10', bodyTimeout: 'soon', maxConnections: '10' }, /--body-timeout "soon"/],
    [{ headerTimeout: '10', bodyTimeout: '30', maxConnections: '1.5' }, /--max-connections "1.5": expected an integer in 1..1000000/],
    [{ headerTimeout: '10', bodyTimeout: '30', maxConnections: '0' }, /--max-connections "0"/],
  ])('refuses %o', (flags, message) => {
    expect(() => overloadFlags(flags)).toThrow(CliError);
    expect(() => overloadFlags(flags)).toThrow(message);
  });
});
