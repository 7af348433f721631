import { formatRFC3339, fromWallClock, parseSchedule } from '../../controllers/cron.js';

const t = (s: string): number => Date.parse(s);
const iso = (n: number | undefined): string | undefined => (n === undefined ? undefined : new Date(n).toISOString());

function nexts(spec: string, from: string, n: number, zone = 'UTC'): string[] {
  const s = parseSchedule(spec, zone);
  const out: string[] = [];
  let cur = t(from);
  for (let i = 0; i < n; i++) {
    cur = s.next(cur)!;
    out.push(new Date(cur).toISOString());
  }
  return out;
}

describe('cron schedules', () => {
  test('every minute starts strictly after the given time', () => {
    expect(nexts('* * * * *', '2024-01-01T10:00:00Z', 2)).toEqual(['2024-01-01T10:01:00.000Z', '2024-01-01T10:02:00.000Z']);
    expect(nexts('* * * * *', '2024-01-01T10:00:59.900Z', 1)).toEqual(['2024-01-01T10:01:00.000Z']);
  });

  test('ranges, steps and lists', () => {
    expect(nexts('*/15 * * * *', '2024-01-01T10:01:00Z', 3)).toEqual(['2024-01-01T10:15:00.000Z', '2024-01-01T10:30:00.000Z', '2024-01-01T10:45:00.000Z']);
    expect(nexts('5-7,30 2 * * *', '2024-01-01T00:00:00Z', 5)).toEqual([
      '2024-01-01T02:05:00.000Z',
      '2024-01-01T02:06:00.000Z',
      '2024-01-01T02:07:00.000Z',
      '2024-01-01T02:30:00.000Z',
      '2024-01-02T02:05:00.000Z',
    ]);
    expect(nexts('10/20 * * * *', '2024-01-01T00:00:00Z', 3)).toEqual(['2024-01-01T00:10:00.000Z', '2024-01-01T00:30:00.000Z', '2024-01-01T00:50:00.000Z']);
  });

  test('month and day names', () => {
    // 2024-01-01 is a Monday.
    expect(nexts('0 9 * * MON-WED', '2024-01-01T10:00:00Z', 3)).toEqual(['2024-01-02T09:00:00.000Z', '2024-01-03T09:00:00.000Z', '2024-01-08T09:00:00.000Z']);
    expect(nexts('0 0 1 feb,Jun *', '2024-01-01T00:00:00Z', 2)).toEqual(['2024-02-01T00:00:00.000Z', '2024-06-01T00:00:00.000Z']);
  });

  test('day of month and day of week are OR-ed unless one is a star', () => {
    // The 13th, or any Friday.
    expect(nexts('0 0 13 * 5', '2024-09-01T00:00:00Z', 3)).toEqual(['2024-09-06T00:00:00.000Z', '2024-09-13T00:00:00.000Z', '2024-09-20T00:00:00.000Z']);
    // Stepped star is not a star: still OR.
    expect(nexts('0 0 1 * */7', '2024-09-01T00:00:00Z', 2)).toEqual(['2024-09-08T00:00:00.000Z', '2024-09-15T00:00:00.000Z']);
    expect(nexts('0 0 13 * *', '2024-09-01T00:00:00Z', 1)).toEqual(['2024-09-13T00:00:00.000Z']);
  });

  test('macros', () => {
    expect(nexts('@hourly', '2024-01-01T10:30:00Z', 1)).toEqual(['2024-01-01T11:00:00.000Z']);
    expect(nexts('@daily', '2024-01-01T10:30:00Z', 1)).toEqual(['2024-01-02T00:00:00.000Z']);
    expect(nexts('@midnight', '2024-01-01T10:30:00Z', 1)).toEqual(['2024-01-02T00:00:00.000Z']);
    expect(nexts('@weekly', '2024-01-01T10:30:00Z', 1)).toEqual(['2024-01-07T00:00:00.000Z']);
    expect(nexts('@monthly', '2024-01-15T00:00:00Z', 1)).toEqual(['2024-02-01T00:00:00.000Z']);
    expect(nexts('@yearly', '2024-01-15T00:00:00Z', 1)).toEqual(['2025-01-01T00:00:00.000Z']);
    expect(nexts('@annually', '2024-01-15T00:00:00Z', 1)).toEqual(['2025-01-01T00:00:00.000Z']);
  });

  test('leap days and impossible dates', () => {
    expect(nexts('0 0 29 2 *', '2024-03-01T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:00.000Z']);
    expect(parseSchedule('0 0 30 2 *', 'UTC').next(t('2024-01-01T00:00:00Z'))).toBeUndefined();
  });

  test('invalid schedules throw the parser message', () => {
    expect(() => parseSchedule('61 * * * *', 'UTC')).toThrow('end of range (61) above maximum (59): 61');
    expect(() => parseSchedule('* * *', 'UTC')).toThrow('expected exactly 5 fields');
  });

  test('time zones', () => {
    // 09:00 in Tokyo (UTC+9, no DST) is 00:00 UTC.
    expect(nexts('0 9 * * *', '2024-01-01T01:00:00Z', 1, 'Asia/Tokyo')).toEqual(['2024-01-02T00:00:00.000Z']);
    // Half-hour offsets: India is UTC+5:30.
    expect(nexts('0 * * * *', '2024-01-01T00:00:00Z', 2, 'Asia/Kolkata')).toEqual(['2024-01-01T00:30:00.000Z', '2024-01-01T01:30:00.000Z']);
    expect(nexts('0 12 * * *', '2024-07-01T00:00:00Z', 1, 'America/New_York')).toEqual(['2024-07-01T16:00:00.000Z']);
    expect(nexts('0 12 * * *', '2024-01-01T00:00:00Z', 1, 'America/New_York')).toEqual(['2024-01-01T17:00:00.000Z']);
    // A TZ= prefix overrides the zone.
    expect(nexts('CRON_TZ=Asia/Tokyo 0 9 * * *', '2024-01-01T01:00:00Z', 1)).toEqual(['2024-01-02T00:00:00.000Z']);
  });

  test('DST spring forward skips a run in the missing hour', () => {
    // 2024-03-10 02:00 EST jumps to 03:00 EDT in New York.
    expect(nexts('30 2 * * *', '2024-03-09T12:00:00Z', 2, 'America/New_York')).toEqual(['2024-03-11T06:30:00.000Z', '2024-03-12T06:30:00.000Z']);
    expect(nexts('0 * * * *', '2024-03-10T06:30:00Z', 2, 'America/New_York')).toEqual(['2024-03-10T07:00:00.000Z', '2024-03-10T08:00:00.000Z']);
    expect(new Date(fromWallClock(2024, 3, 10, 2, 30, 'America/New_York')).toISOString()).toBe('2024-03-10T07:30:00.000Z');
  });

  test('DST fall back runs twice in the repeated hour', () => {
    // 2024-11-03 02:00 EDT falls back to 01:00 EST.
    expect(nexts('30 1 * * *', '2024-11-03T04:00:00Z', 3, 'America/New_York')).toEqual([
      '2024-11-03T05:30:00.000Z',
      '2024-11-03T06:30:00.000Z',
      '2024-11-04T06:30:00.000Z',
    ]);
  });

  test('@every', () => {
    expect(iso(parseSchedule('@every 90s', 'UTC').next(t('2024-01-01T00:00:00.500Z')))).toBe('2024-01-01T00:01:30.000Z');
  });

  test('RFC 3339 in a zone', () => {
    expect(formatRFC3339(t('2024-01-01T00:00:00Z'), 'UTC')).toBe('2024-01-01T00:00:00Z');
    expect(formatRFC3339(t('2024-01-01T00:00:00Z'), 'Asia/Kolkata')).toBe('2024-01-01T05:30:00+05:30');
    expect(formatRFC3339(t('2024-07-01T16:00:00Z'), 'America/New_York')).toBe('2024-07-01T12:00:00-04:00');
  });
});
