// A Jest environment for tests that run onnxruntime-node in-process. Jest gives each test file its
// own realm, so the typed arrays the native binding returns (main realm) fail onnxruntime-common's
// `instanceof Float32Array` checks inside the sandbox. This environment hands the sandbox the main
// realm's typed-array constructors. Use it with a docblock at the top of the test file:
//   /** @jest-environment ./ml/onnx/ort-jest-environment.js */
'use strict';
const { TestEnvironment } = require('jest-environment-node');

const TYPED = ['Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED) if (globalThis[name]) this.global[name] = globalThis[name];
  }
}

module.exports = OrtEnvironment;
