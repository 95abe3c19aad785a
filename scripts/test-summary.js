#!/usr/bin/env node
// Prints the closing line of a test run from Jest's --json output: "tests: N passed, N failed, N skipped".
// Given several result files (`make test` runs the unit and the integration project as two Jest
// calls), it sums them; with --merge OUT it also writes them as one result file.
'use strict';
const fs = require('node:fs');
const args = process.argv.slice(2);
let mergeTo = null;
const mergeAt = args.indexOf('--merge');
if (mergeAt !== -1) {
  mergeTo = args[mergeAt + 1];
  if (!mergeTo) {
    process.stderr.write('--merge: got nothing, expected the file to write the merged results to\n');
    process.exit(1);
  }
  args.splice(mergeAt, 2);
}
if (args.length === 0) {
  process.stderr.write('usage: test-summary.js RESULTS.json [MORE.json …] [--merge OUT.json]\n');
  process.exit(1);
}
const runs = args.map((file) => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    process.stderr.write(`no test results in ${file} (${err.message})\n`);
    process.exit(1);
  }
});
const COUNTS = ['numFailedTestSuites', 'numFailedTests', 'numPassedTestSuites', 'numPassedTests', 'numPendingTestSuites', 'numPendingTests', 'numRuntimeErrorTestSuites', 'numTodoTests', 'numTotalTestSuites', 'numTotalTests'];
const r = { ...runs[0], testResults: [] };
for (const k of COUNTS) r[k] = 0;
for (const run of runs) {
  for (const k of COUNTS) r[k] += run[k] || 0;
  r.testResults.push(...(run.testResults || []));
  r.startTime = Math.min(r.startTime, run.startTime);
  r.success = r.success && run.success;
}
if (mergeTo) fs.writeFileSync(mergeTo, JSON.stringify(r));
const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
process.stdout.write(`\ntests: ${r.numPassedTests} passed, ${failed} failed, ${r.numPendingTests + (r.numTodoTests || 0)} skipped\n`);
