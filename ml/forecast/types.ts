/** What every forecaster returns: point forecasts and a central prediction interval per horizon step. */
export interface Forecast {
  /** ŷ_{n+h}, h = 1..H. */
  mean: number[];
  /** Lower and upper ends of the central `level` prediction interval. */
  lower: number[];
  upper: number[];
  /** Forecast standard deviation per step (sqrt of the h-step variance). */
  sd: number[];
  /** Nominal coverage of the interval, e.g. 0.95. */
  level: number;
}

export interface FittedModel {
  /** A human-readable name, e.g. "ARIMA(1,1,1)(0,1,1)[24]" or "ETS(A,Ad,A)". */
  readonly name: string;
  /** Corrected Akaike information criterion used for selection. */
  readonly aicc: number;
  /** Innovation variance σ². */
  readonly sigma2: number;
  forecast(horizon: number, level?: number): Forecast;
}
