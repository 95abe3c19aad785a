import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ephemeralRange, freePorts, portFree } from './free-ports';

describe('freePorts', () => {
  it('returns distinct ports below the ephemeral range that can be bound', async () => {
    const [low] = ephemeralRange();
    const ports = await freePorts(20);
    expect(new Set(ports).size).toBe(20);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(10_000);
      expect(p).toBeLessThan(low);
      expect(await portFree(p)).toBe(true);
    }
  });

  it('reads the kernel range, and falls back to Linux default when the file is missing or malformed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-ports-'));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    expect(ephemeralRange(file('ok', '40000\t50000\n'))).toEqual([40000, 50000]);
    expect(ephemeralRange(file('reversed', '50000 40000\n'))).toEqual([32768, 60999]);
    expect(ephemeralRange(file('garbage', 'n/a\n'))).toEqual([32768, 60999]);
    expect(ephemeralRange(join(dir, 'missing'))).toEqual([32768, 60999]);
  });
});
