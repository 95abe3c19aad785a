/**
 * Temporal for integration tests: the real dev server (Temporal CLI from the project venv) or the
 * time-skipping test server, both started from local binaries — never downloaded.
 */
import { existsSync } from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { tools } from '../../config/settings';
import { SEARCH_ATTRIBUTES } from '../../contracts/shared';

function requireBinary(path: string, what: string): string {
  if (!existsSync(path)) throw new Error(`${what} not found at ${path}: run \`make setup\` to install the project venv`);
  return path;
}

/** A fresh real Temporal dev server on a free port, with our search attributes registered. */
export function startDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: requireBinary(tools.temporal, 'temporal CLI') },
      ip: '127.0.0.1',
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      log: { format: 'pretty', level: 'error' },
    },
  });
}

/** A time-skipping test server: timers fire as soon as the workflow awaits them. */
export function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requireBinary(tools.temporalTestServer, 'temporal-test-server') } },
  });
}
