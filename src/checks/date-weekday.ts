import { readMailDate } from '../read/message-meta.ts';
import { escapeControls } from './check-support.ts';
import type { MessageCheck } from './types.ts';

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The day an English day name (`Sat`, `saturday`, with its comma) stands for; null for any other word. */
function englishWeekday(word: string): number | null {
  const name = word.replace(/,$/, '').toLowerCase();
  const index = DAY_NAMES.findIndex((day) => name === day.toLowerCase() || name === day.slice(0, 3).toLowerCase());
  return index < 0 ? null : index;
}

/**
 * A Date whose day of the week is not the day its date falls on (RFC 5322 section 3.3: it MUST
 * be): the classic trace of a date edited by hand, a year or a day changed and the name left
 * (`Tue, 14 Feb 2015`, a Saturday). Info only: a few broken mailers have written wrong day names
 * too, and nothing here says which part is wrong. A localized name (`Fr.`, `mar.`) is not
 * compared: no English day name is another language's abbreviation for a different day, but
 * guessing the language would be (red team R, R-09).
 */
export const auditDateWeekday: MessageCheck = ({ headers }) => {
  const field = headers.fields.find((f) => f.name === 'date');
  if (!field) return [];
  const value = field.value.slice(0, 300);
  const reading = readMailDate(value);
  if (!reading?.weekdayWritten) return [];
  const named = englishWeekday(reading.weekdayWritten);
  const day = reading.writtenDay;
  const actual = day.getUTCDay();
  if (named === null || named === actual) return [];
  const onDate = `${day.getUTCDate()} ${MONTH_NAMES[day.getUTCMonth()]} ${day.getUTCFullYear()}`;
  return [
    {
      code: 'date-weekday-mismatch',
      severity: 'info',
      text: `The Date "${escapeControls(value, 80)}" says ${DAY_NAMES[named]}, but ${onDate} was a ${DAY_NAMES[actual]}: RFC 5322 requires the day of the week to be the one the date falls on, and a Date edited by hand (its year or day changed, its day name left) looks like this; a misconfigured mailer can write it too.`,
      evidence: { date: value, weekdayWritten: DAY_NAMES[named], weekdayOfDate: DAY_NAMES[actual], dateAsWritten: day.toISOString().slice(0, 10) },
    },
  ];
};
