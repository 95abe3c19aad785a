/**
 * A linear (or mixed-integer) program in row form and its text in CPLEX LP format, the input the
 * HiGHS solver reads (https://ergo-code.github.io/HiGHS/; format: IBM ILOG CPLEX "LP file format").
 *
 *   maximise / minimise  Σ_j c_j x_j
 *   subject to           Σ_j a_ij x_j  (≤ | ≥ | =)  b_i      for every row i
 *                        l_j ≤ x_j ≤ u_j,   x_j ∈ {0, 1} for binaries
 */

export interface Term {
  variable: string;
  coefficient: number;
}

export interface Row {
  name: string;
  terms: Term[];
  sense: '<=' | '>=' | '=';
  rhs: number;
}

export interface LinearProgram {
  sense: 'maximize' | 'minimize';
  objective: Term[];
  rows: Row[];
  /** Bounds per variable; a variable not listed is in [0, +∞). */
  bounds?: Record<string, { lower?: number; upper?: number }>;
  /** Variables restricted to {0, 1}. */
  binaries?: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** The program as CPLEX LP text. Numbers are written with full precision (shortest round-trip). */
export function toCplexLp(lp: LinearProgram): string {
  const lines: string[] = [lp.sense === 'maximize' ? 'Maximize' : 'Minimize', ` obj: ${expression(lp.objective)}`, 'Subject To'];
  for (const row of lp.rows) {
    checkName(row.name, 'row');
    if (!Number.isFinite(row.rhs)) throw new Error(`toCplexLp: row "${row.name}" has rhs ${row.rhs}, expected a finite number`);
    lines.push(` ${row.name}: ${expression(row.terms)} ${row.sense} ${num(row.rhs)}`);
  }
  lines.push('Bounds');
  for (const [variable, { lower, upper }] of Object.entries(lp.bounds ?? {})) {
    checkName(variable, 'variable');
    if (lower !== undefined) lines.push(` ${variable} >= ${num(lower)}`);
    if (upper !== undefined) lines.push(` ${variable} <= ${num(upper)}`);
  }
  if (lp.binaries && lp.binaries.length > 0) {
    lines.push('Binary');
    for (const b of lp.binaries) lines.push(` ${checkName(b, 'variable')}`);
  }
  lines.push('End');
  return lines.join('\n');
}

function expression(terms: Term[]): string {
  if (terms.length === 0) throw new Error('toCplexLp: an expression has no terms, expected at least one');
  return terms
    .map(({ variable, coefficient }, i) => {
      checkName(variable, 'variable');
      if (!Number.isFinite(coefficient)) throw new Error(`toCplexLp: coefficient of "${variable}" is ${coefficient}, expected a finite number`);
      const sign = coefficient < 0 ? '-' : '+';
      return `${i === 0 && sign === '+' ? '' : `${sign} `}${num(Math.abs(coefficient))} ${variable}`;
    })
    .join(' ');
}

function num(v: number): string {
  return Object.is(v, -0) ? '0' : String(v);
}

function checkName(name: string, what: string): string {
  if (!NAME.test(name)) throw new Error(`toCplexLp: ${what} name ${JSON.stringify(name)} is not a valid LP name, expected letters, digits, "_" or "." (not starting with a digit)`);
  return name;
}
