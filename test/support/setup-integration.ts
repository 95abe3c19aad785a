// Runs in every integration test file: keep the Temporal SDK's logs to warnings and errors.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { shareWorkflowBundles } from './workflow-bundle-cache';

shareWorkflowBundles();

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  /* already installed in this worker process */
}
