/** A deployment config refused: `field` as `config.learner.kind`, the value, what was expected. */
export class ConfigFieldError extends Error {
  constructor(readonly field: string, value: unknown, expected: string) {
    super(`${field}: got ${JSON.stringify(value) ?? 'nothing'}, expected ${expected}`);
    this.name = 'ConfigFieldError';
  }
}
