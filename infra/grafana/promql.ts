/**
 * The metric names a PromQL expression selects, for the dashboards' existence check. Hand-written
 * because no PromQL parser is in the dependency set (the field's one, @prometheus-io/lezer-promql, is
 * not installed) and Debian's Prometheus 2.42 predates the server's /api/v1/parse_query; the
 * integration test still has the real Prometheus evaluate every expression, so a query this reads
 * wrongly but Prometheus rejects still fails.
 *
 * A lexer over what PromQL allows: strings, label matchers `{…}` and ranges/subqueries `[…]` are
 * skipped; an identifier followed by `(` is a function or an aggregation; `by`/`without`/`on`/
 * `ignoring`/`group_left`/`group_right` are followed by a label list that is skipped; `offset` takes a
 * duration; keywords and set operators are not names; Grafana's `$variables` are skipped. Selecting by
 * `{__name__="…"}` is not recognised (the dashboards here never do it).
 */

const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
/** Aggregations may put `by (…)` between their name and their `(`: `sum by (le) (rate(x[5m]))`. */
const AGGREGATIONS = ['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'limitk', 'limit_ratio'];
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan', ...LABEL_LIST_KEYWORDS, ...AGGREGATIONS]);

function skipBalanced(s: string, i: number, open: string, close: string): number {
  let depth = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === "'" || c === '`') i = skipString(s, i) - 1;
    else if (c === open) depth++;
    else if (c === close && --depth === 0) return i + 1;
  }
  throw new Error(`promql: unbalanced "${open}" in ${s}`);
}

function skipString(s: string, i: number): number {
  const quote = s[i];
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\' && quote !== '`') j++;
    else if (s[j] === quote) return j + 1;
  }
  throw new Error(`promql: unterminated string in ${s}`);
}

const skipSpace = (s: string, i: number): number => {
  while (i < s.length && /\s/.test(s[i])) i++;
  return i;
};

/** The metric names `expr` selects, sorted and distinct. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (/\s/.test(c)) i++;
    else if (c === '"' || c === "'" || c === '`') i = skipString(expr, i);
    else if (c === '{') i = skipBalanced(expr, i, '{', '}');
    else if (c === '[') i = skipBalanced(expr, i, '[', ']');
    else if (c === '#') while (i < expr.length && expr[i] !== '\n') i++;
    else if (c === '$') {
      i++;
      while (i < expr.length && /[A-Za-z0-9_{}]/.test(expr[i])) i++;
    } else if (/[0-9.]/.test(c)) {
      // numbers (1, 0.95, 1e-3, 0x1f) and durations (5m, 1h30m)
      i++;
      while (i < expr.length && (/[0-9a-zA-Z.]/.test(expr[i]) || (/[+-]/.test(expr[i]) && /[eE]/.test(expr[i - 1])))) i++;
    } else if (/[A-Za-z_:]/.test(c)) {
      const start = i;
      while (i < expr.length && /[A-Za-z0-9_:]/.test(expr[i])) i++;
      const word = expr.slice(start, i);
      const next = skipSpace(expr, i);
      const lower = word.toLowerCase();
      if (LABEL_LIST_KEYWORDS.has(lower)) {
        if (expr[next] === '(') i = skipBalanced(expr, next, '(', ')');
      } else if (lower === 'offset') {
        i = next;
        if (expr[i] === '-') i++;
        while (i < expr.length && /[0-9a-zA-Z]/.test(expr[i])) i++;
      } else if (KEYWORDS.has(lower) || expr[next] === '(') {
        // a keyword, or a function / aggregation name
      } else {
        names.add(word);
      }
    } else i++;
  }
  return [...names].sort();
}
