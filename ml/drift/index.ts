/** Drift and distribution-shift detection (R-DRIFT). */
export { type DriftDetector, detectAll } from './detector';
export { ADWIN, ADWIN_DEFAULTS, type ADWINParams } from './adwin';
export { PageHinkley, PAGE_HINKLEY_DEFAULTS, type PageHinkleyMode, type PageHinkleyParams } from './page-hinkley';
export { kolmogorovSf, ksTwoSample, type KSResult } from './ks';
export { psi, psiBand, quantileSorted, type PSIBand, type PSIOptions, type PSIResult } from './psi';
