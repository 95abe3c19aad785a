/**
 * An input that an estimator cannot use. The message names the field (OBP's snake_case name, with
 * an index where one element is at fault), the value found and what was expected, e.g.
 * `pscore[2]: got 0, expected a propensity in (0, 1]`.
 */
export class OpeInputError extends Error {
  constructor(
    readonly field: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`${field}: got ${value}, expected ${expected}`);
    this.name = 'OpeInputError';
  }
}
