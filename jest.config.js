/** Jest: swc transforms TypeScript (types are checked separately by `tsc --noEmit`).
 *  Two projects: `unit` (pure, fast, no services) and `integration` (`*.int.test.ts`: real
 *  Temporal, PostgreSQL, Redis, SeaweedFS S3, onnxruntime). */
const transform = {
  '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};
const common = {
  transform,
  // onnxruntime-node returns typed arrays of the main realm: hand them to every test file's realm.
  testEnvironment: '<rootDir>/ml/onnx/ort-jest-environment.js',
  moduleFileExtensions: ['ts', 'js', 'json'],
  // ESM packages (clients/typescript) import TypeScript files by their .js names.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.venv/', '/.venv-', '/.data/'],
  modulePathIgnorePatterns: ['/dist/', '/.venv/', '/.venv-', '/.data/'],
  watchPathIgnorePatterns: ['/.venv', '/.data/'],
  // content-disposition 3 (under @fastify/static, api/server.ts) is ES-module only: Node 20 requires it
  // natively, Jest's CommonJS runtime needs it transformed.
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.test.ts'], testPathIgnorePatterns: [...common.testPathIgnorePatterns, '\\.int\\.test\\.ts$'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/**/*.int.test.ts'], globalSetup: '<rootDir>/test/support/global-setup.ts', globalTeardown: '<rootDir>/test/support/global-teardown.ts', setupFiles: ['<rootDir>/test/support/setup-integration.ts'], slowTestThreshold: 30 },
  ],
  testTimeout: 120000,
};
