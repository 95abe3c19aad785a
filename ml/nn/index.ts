export { Parameters, encodeFloat64, decodeFloat64 } from './parameters';
export type { TensorLayout } from './parameters';
export { Linear } from './linear';
export { Mlp } from './mlp';
export { orthogonalInit } from './init';
export { adamStep, createAdamState, ADAM_DEFAULTS } from './adam';
export type { AdamState, AdamOptions } from './adam';
export { clipGradNorm } from './clip';
