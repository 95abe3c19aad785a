#!/usr/bin/env node
// Prints the closing line of a test run from Jest's --json output: "tests: N passed, N failed, N skipped".
'use strict';
const fs = require('node:fs');
const file = process.argv[2];
let r;
try {
  r = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (err) {
  process.stderr.write(`no test results in ${file} (${err.message})\n`);
  process.exit(1);
}
const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
process.stdout.write(`\ntests: ${r.numPassedTests} passed, ${failed} failed, ${r.numPendingTests + (r.numTodoTests || 0)} skipped\n`);
