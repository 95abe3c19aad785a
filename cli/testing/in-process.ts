/**
 * Runs the `autopilot` entry point in this process (a child process takes seconds to start), with what it
 * writes to stdout and stderr captured. Test code only.
 */
import { main } from '../main';

export async function runCliInProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => { stdout += String(c); return true; });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => { stderr += String(c); return true; });
  try {
    const code = await main(['node', 'autopilot', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
