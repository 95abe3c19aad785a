// A tiny require hook: lets `node` run the TypeScript sources directly (swc strips the types; `tsc
// --noEmit` checks them in `make test`). Production can instead run `npm run build` and `dist/`.
//
// Every `autopilot` start loads ~400 TypeScript files; the tests start it hundreds of times. The
// output of each transform is kept in node_modules/.cache/autopilot-ts, keyed by a hash of the swc
// version, the options, the file's path and its source, so an edited file is transformed again.
// AUTOPILOT_TS_CACHE=0 turns the cache off.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const options = {
  jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
const useCache = process.env.AUTOPILOT_TS_CACHE !== '0';
const cacheDir = path.join(__dirname, '..', 'node_modules', '.cache', 'autopilot-ts');
const salt = `${require('@swc/core/package.json').version}\0${JSON.stringify(options)}\0`;

function transform(source, filename) {
  if (!useCache) return transformSync(source, { ...options, filename }).code;
  const key = crypto.createHash('sha256').update(salt).update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  const { code } = transformSync(source, { ...options, filename });
  // Written aside and renamed: concurrent starts never read a half-written file. The cache only saves
  // time: where node_modules is read-only (or the disk full), every start transforms again.
  const tmp = `${cached}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, cached);
  } catch (err) {
    if (!['EACCES', 'EPERM', 'EROFS', 'ENOSPC'].includes(err.code)) throw err;
  }
  return code;
}

Module._extensions['.ts'] = function compileTs(module, filename) {
  module._compile(transform(fs.readFileSync(filename, 'utf8'), filename), filename);
};
