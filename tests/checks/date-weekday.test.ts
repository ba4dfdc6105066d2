import { describe, expect, it } from 'vitest';
import { auditDateWeekday } from '../../src/checks/date-weekday.ts';
import { context, headersWith, message } from './support.ts';

const run = (date: string) => auditDateWeekday(context(message(headersWith({ Date: date }))));

// Red team R, R-09: a hand-edited year left "Tue" on a Saturday, and nothing was reported.
describe('date-weekday-mismatch', () => {
  it('an English day name the date does not fall on is an info naming both days', () => {
    const [finding] = run('Tue, 14 Feb 2015 10:12:03 +0100');
    expect(finding).toMatchObject({
      code: 'date-weekday-mismatch',
      severity: 'info',
      evidence: { weekdayWritten: 'Tuesday', weekdayOfDate: 'Saturday', dateAsWritten: '2015-02-14' },
    });
    expect(finding!.text).toContain('says Tuesday, but 14 February 2015 was a Saturday');
    expect(run('Saturday, 14-Feb-2015 10:12:03')).toEqual([]);
    expect(run('thursday, 14 Feb 2015 10:12:03 CET')).toMatchObject([{ evidence: { weekdayWritten: 'Thursday', weekdayOfDate: 'Saturday' } }]);
  });

  it('compares the day of the date as written, not of the instant in UTC', () => {
    // 00:30 on Sunday in Berlin is still Saturday in UTC
    expect(run('Sun, 15 Feb 2015 00:30:00 +0100')).toEqual([]);
    expect(run('Sat, 15 Feb 2015 00:30:00 +0100')).toMatchObject([{ evidence: { weekdayOfDate: 'Sunday' } }]);
  });

  it('stays quiet on a right day name, no day name, a localized one, or a Date it cannot read', () => {
    for (const date of [
      'Sat, 14 Feb 2015 10:12:03 +0100', 'Saturday, 14 Feb 2015 10:12:03 +0100', '14 Feb 2015 10:12:03 +0100',
      'Fr., 14 Feb 2015 10:12:03 +0100', 'mar., 14 Feb 2015 10:12:03 +0100', 'Mo, 14 Feb 2015 10:12:03 +0100',
      'Sat (Samstag), 14 Feb 2015 10:12:03 +0100', 'Tue, 31 Feb 2015 10:12:03 +0100', 'Tue, yesterday',
    ]) {
      expect(run(date), date).toEqual([]);
    }
  });
});
