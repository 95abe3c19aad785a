/**
 * The `config` of a deployment of kind `semantic-cache` (UC8's caching decisions, inference/cache/):
 * parsed by ml/cache/config.ts; its errors become ConfigFieldError (field, value, expectation).
 */
import { CacheConfigError, parseSemanticCacheDeploymentConfig, type SemanticCacheDeploymentConfig } from '../../ml/cache/config';
import { ConfigFieldError } from './errors';

export type { SemanticCacheDeploymentConfig };

export function parseSemanticCacheConfig(config: Readonly<Record<string, unknown>>, deployment: string): SemanticCacheDeploymentConfig {
  try {
    return parseSemanticCacheDeploymentConfig(config, deployment);
  } catch (err) {
    if (err instanceof CacheConfigError) {
      const e = new ConfigFieldError(err.field, err.value, err.expected);
      e.message = err.message;
      throw e;
    }
    throw err;
  }
}
