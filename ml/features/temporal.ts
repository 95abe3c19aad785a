/**
 * Features of the request's time (ms since the epoch) in a time zone: hour, weekday (0 = Monday),
 * weekend, the hour on the unit circle (sin/cos, so 23 h and 0 h are close), minute of the day.
 * UTC is computed directly; other zones through Intl (one cached formatter per zone).
 */
import type { TemporalFeature } from './definitions';

export interface LocalTime {
  hour: number;
  minute: number;
  /** 0 = Monday … 6 = Sunday (ISO order). */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

export function localTime(ms: number, timezone: string): LocalTime {
  if (timezone === 'UTC' || timezone === 'Etc/UTC') {
    const d = new Date(ms);
    return { hour: d.getUTCHours(), minute: d.getUTCMinutes(), weekday: (d.getUTCDay() + 6) % 7 };
  }
  let f = formatters.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hour: 'numeric', minute: 'numeric', weekday: 'short', hourCycle: 'h23' });
    formatters.set(timezone, f);
  }
  const out: LocalTime = { hour: 0, minute: 0, weekday: 0 };
  for (const p of f.formatToParts(ms)) {
    if (p.type === 'hour') out.hour = Number(p.value) % 24;
    else if (p.type === 'minute') out.minute = Number(p.value);
    else if (p.type === 'weekday') out.weekday = WEEKDAYS[p.value];
  }
  return out;
}

export function temporalFeature(def: TemporalFeature, t: LocalTime): number {
  switch (def.transformation.fn) {
    case 'hour':
      return t.hour;
    case 'weekday':
      return t.weekday;
    case 'is_weekend':
      return t.weekday >= 5 ? 1 : 0;
    case 'hour_sin':
      return Math.sin((2 * Math.PI * (t.hour + t.minute / 60)) / 24);
    case 'hour_cos':
      return Math.cos((2 * Math.PI * (t.hour + t.minute / 60)) / 24);
    case 'minute_of_day':
      return t.hour * 60 + t.minute;
  }
}
