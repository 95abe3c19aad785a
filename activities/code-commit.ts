/** The code version a training run records in its lineage (PPO and text-policy runs). */
import { execFileSync } from 'node:child_process';
import { projectRoot } from '../config/settings';

/** The commit of the code that trains: AUTOPILOT_CODE_COMMIT, else `git rev-parse HEAD`, else `unknown`. */
export function codeCommit(root = projectRoot): string {
  if (process.env.AUTOPILOT_CODE_COMMIT) return process.env.AUTOPILOT_CODE_COMMIT;
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim();
    return /^[0-9a-f]{7,64}$/.test(head) ? head : 'unknown';
  } catch {
    return 'unknown';
  }
}
