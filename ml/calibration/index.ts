/** Accuracy and calibration of predictions vs realised outcomes: log loss, Brier, ECE, reliability table, correlation. */
export { CalibrationStats, LOG_LOSS_EPS, calibrationReport, pairLogLoss, weightedCorrelation, type CalibrationOptions, type CalibrationReport, type ReliabilityBin } from './metrics';
export { RollingCalibration } from './rolling';
export { checkCalibrationThresholds, calibrationBreaches, type CalibrationThresholds } from './thresholds';
export { CALIBRATION_GAUGES, CALIBRATION_RELIABILITY, CalibrationExporter, reliabilitySeries, type CalibrationGaugeSpec, type GaugeLike } from './exposition';
