// Cron schedules with robfig/cron v3's semantics (what the CronJob controller uses): five
// standard fields or a descriptor, day-of-month and day-of-week OR-ed unless either is "*",
// and Next() walking wall-clock time in an IANA time zone so that DST gaps skip a run and
// repeated hours may run twice, as upstream. Syntax errors come from the registry's validator.
import { cronScheduleError } from '../server/registry/cron-schedule.js';

export interface CronSchedule {
  /** The first activation strictly after `after` (ms since epoch), or undefined when none within 5 years. */
  next(after: number): number | undefined;
}

const STAR = 1n << 63n;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const BOUNDS: { min: number; max: number; names?: string[]; base?: number }[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, base: 1 },
  { min: 0, max: 6, names: DAYS, base: 0 },
];
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function value(s: string, b: (typeof BOUNDS)[number]): number {
  const i = b.names?.indexOf(s.toLowerCase()) ?? -1;
  return i >= 0 ? i + (b.base ?? 0) : Number(s);
}

function fieldBits(field: string, b: (typeof BOUNDS)[number]): bigint {
  let bits = 0n;
  for (const part of field.split(',').filter((p) => p !== '')) {
    const [range, stepText] = part.split('/');
    const [lo, hi] = range.split('-');
    let start: number;
    let end: number;
    let extra = 0n;
    if (lo === '*' || lo === '?') {
      start = b.min;
      end = b.max;
      extra = STAR;
    } else {
      start = value(lo, b);
      end = hi === undefined ? start : value(hi, b);
    }
    let step = 1;
    if (stepText !== undefined) {
      step = Number(stepText);
      if (hi === undefined && extra === 0n) end = b.max;
      // "*/2" is not "*": it must not switch day matching to AND.
      if (step > 1) extra = 0n;
    }
    for (let v = start; v <= end; v += step) bits |= 1n << BigInt(v);
    bits |= extra;
  }
  return bits;
}

/** Wall-clock fields of an instant in a zone. */
interface Wall {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  weekday: number; // 0 = Sunday
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

export function wallClock(t: number, zone: string): Wall {
  if (zone === 'UTC') {
    const d = new Date(t);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), weekday: d.getUTCDay() };
  }
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
  return { year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, weekday };
}

/** The zone's UTC offset at an instant, in ms (whole minutes are enough for cron). */
export function zoneOffset(t: number, zone: string): number {
  if (zone === 'UTC') return 0;
  const w = wallClock(t, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  return asUtc - (t - (((t % 60_000) + 60_000) % 60_000));
}

/**
 * time.Date in a zone: the instant of a wall-clock time (fields may overflow, as in Go).
 * In a DST gap the result lies after the gap; in a repeated hour, the first occurrence.
 */
export function fromWallClock(year: number, month: number, day: number, hour: number, minute: number, zone: string): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  if (zone === 'UTC') return asUtc;
  const before = zoneOffset(asUtc - 86_400_000, zone);
  const after = zoneOffset(asUtc + 86_400_000, zone);
  for (const cand of [asUtc - before, asUtc - after].sort((a, b) => a - b)) {
    if (zoneOffset(cand, zone) === asUtc - cand) return cand;
  }
  // A gap: Go keeps the offset from before the transition, which lands past it.
  return asUtc - before;
}

class SpecSchedule implements CronSchedule {
  constructor(
    private readonly bits: bigint[],
    private readonly zone: string,
  ) {}

  private has(i: number, v: number): boolean {
    return (this.bits[i] & (1n << BigInt(v))) !== 0n;
  }

  private dayMatches(w: Wall): boolean {
    const dom = this.has(2, w.day);
    const dow = this.has(4, w.weekday);
    if ((this.bits[2] & STAR) !== 0n || (this.bits[4] & STAR) !== 0n) return dom && dow;
    return dom || dow;
  }

  next(after: number): number | undefined {
    const z = this.zone;
    // Start at the next whole minute, as Next truncates seconds and adds one.
    let t = after - (((after % 60_000) + 60_000) % 60_000) + 60_000;
    const yearLimit = wallClock(t, z).year + 5;
    let w: Wall;
    wrap: for (;;) {
      w = wallClock(t, z);
      if (w.year > yearLimit) return undefined;
      while (!this.has(3, w.month)) {
        t = fromWallClock(w.year, w.month + 1, 1, 0, 0, z);
        w = wallClock(t, z);
        if (w.year > yearLimit) return undefined;
        if (w.month === 1) continue wrap;
      }
      while (!this.dayMatches(w)) {
        t = fromWallClock(w.year, w.month, w.day + 1, 0, 0, z);
        w = wallClock(t, z);
        if (w.day === 1) continue wrap;
      }
      while (!this.has(1, w.hour)) {
        // Truncate to the wall-clock hour (zones may be offset by half hours), then add an
        // hour of real time: a DST jump skips or repeats a wall-clock hour, as in Go.
        t = t - w.minute * 60_000 + 3_600_000;
        w = wallClock(t, z);
        if (w.hour === 0) continue wrap;
      }
      while (!this.has(0, w.minute)) {
        t += 60_000;
        w = wallClock(t, z);
        if (w.minute === 0) continue wrap;
      }
      return t;
    }
  }
}

/** @every <duration>: robfig's ConstantDelaySchedule (whole seconds, at least one). */
class EverySchedule implements CronSchedule {
  constructor(private readonly ms: number) {}
  next(after: number): number {
    return after - (((after % 1000) + 1000) % 1000) + this.ms;
  }
}

function parseGoDuration(s: string): number {
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of s.matchAll(/([0-9.]+)([a-zµμ]+)/g)) total += Number(m[1]) * (unit[m[2]] ?? 0);
  return total;
}

export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * cron.ParseStandard plus the location: `zone` is the CronJob's timeZone (IANA name), or
 * the controller's local zone when unset, as upstream. Throws with the parser's message.
 */
export function parseSchedule(spec: string, zone: string = localZone()): CronSchedule {
  const err = cronScheduleError(spec);
  if (err) throw new Error(err);
  let s = spec.trim();
  const tz = /^(?:CRON_)?TZ=(\S+)\s*/.exec(s);
  if (tz) {
    zone = tz[1];
    s = s.slice(tz[0].length);
  }
  if (s.startsWith('@every ')) {
    const ms = Math.floor(parseGoDuration(s.slice(7).trim()) / 1000) * 1000;
    return new EverySchedule(Math.max(ms, 1000));
  }
  const fields = (DESCRIPTORS[s] ?? s).split(/\s+/).filter((f) => f !== '');
  return new SpecSchedule(
    fields.map((f, i) => fieldBits(f, BOUNDS[i])),
    zone === 'Etc/UTC' ? 'UTC' : zone,
  );
}

/** time.Format(time.RFC3339) of an instant in a zone, e.g. 2024-03-10T01:00:00-08:00. */
export function formatRFC3339(t: number, zone: string): string {
  const offsetMin = Math.round(zoneOffset(t, zone) / 60_000);
  const local = new Date(t + offsetMin * 60_000).toISOString().replace(/\.\d+Z$/, '');
  if (offsetMin === 0) return `${local}Z`;
  const a = Math.abs(offsetMin);
  return `${local}${offsetMin < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}
