/** Workload forecasting (R-USE-CASES, workload forecasting): ARIMA/SARIMA with AICc order selection, additive ETS, prediction intervals. */
export type { Forecast, FittedModel } from './types';
export { ArimaModel, fitArima, cssResiduals, difference, psiWeights, type ArimaOrder, type ArimaFitOptions } from './arima';
export { autoArima, hasNearUnitRoot, kpssStatistic, seasonalStrength, KPSS_CRITICAL_5, UNIT_ROOT_RADIUS, type AutoArimaOptions, type AutoArimaResult } from './auto-arima';
export { EtsModel, fitEts, autoEts, etsFilter, type EtsSpec, type EtsTrend, type EtsSeason, type EtsParameters } from './ets';
export { isStable, arPolynomial, maPolynomial, differencingPolynomial, multiply } from './polynomial';
export { simulateArima } from './simulate';
export { forecastQuantile, recommendReplicas, type CapacityOptions, type CapacityRecommendation } from './capacity';
