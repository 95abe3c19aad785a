/** Statistics for evaluation and canaries: distributions, bootstrap, tests, power, sequential looks. */
export { normalPdf, normalCdf, normalSf, normalQuantile } from './normal';
export { studentTPdf, studentTCdf, studentTQuantile } from './student-t';
export { logGamma, regularizedIncompleteBeta } from './special';
export { percentileBootstrap, pairedBootstrap, bootstrapMeans, percentile, type BootstrapOptions, type Interval, DEFAULT_ALPHA, DEFAULT_N_BOOTSTRAP_SAMPLES } from './bootstrap';
export { zTest, zTestFromEstimate, welchTTest, type Alternative, type TestOptions, type TestResult } from './hypothesis';
export { roundsForPower, powerForRounds, type PowerOptions, type PowerResult, type Design } from './power';
export { alphaSpent, sequentialBoundary, SPENDING_SHAPES, type SpendingShape, type Boundary, type Sides } from './spending';
export { groupSequentialDecision, sequentialBootstrapDecision, type SequentialOptions, type SequentialDecision } from './sequential';
