/** `autopilot retention` flag checks, in process, no servers. */
import { runCliInProcess } from '../testing/in-process';
import { buildRetentionInput } from './retention';

describe('retention command flags', () => {
  it('builds the workflow input from the flags (defaults left to the workflow)', () => {
    expect(buildRetentionInput({})).toEqual({});
    expect(buildRetentionInput({ days: '14', ahead: '3' })).toEqual({ retentionDays: 14, aheadDays: 3 });
  });

  it.each([
    [['retention', 'run', '--days', '0'], 'error: --days "0": expected an integer ≥ 1\n'],
    [['retention', 'run', '--days', '4000'], 'error: --days "4000": expected an integer from 1 to 3650\n'],
    [['retention', 'schedule', '--ahead', '90'], 'error: --ahead "90": expected an integer from 0 to 60\n'],
    [['retention', 'schedule', '--every', 'daily'], 'error: --every "daily": expected an interval such as 30m, 1h or 1d\n'],
  ])('refuses %p', async (args, message) => {
    const r = await runCliInProcess(...args);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(message);
    expect(r.code).toBe(2);
  });
});
