import { basename } from 'node:path';
import { boundedMemo } from '../../bounded-memo.ts';
import { jsonText } from '../../report/json-text.ts';
import { describeJsonType, isPlainObject, KeyCollector, notDkimKeyReason, splitKeyName } from './common.ts';
import { unquoteTxtStrings } from './zone.ts';
import { KeyImportError, type ParsedKeyFile } from './types.ts';

/** Unix seconds beyond this (year 5138) are surely milliseconds or garbage. */
const MAX_UNIX_SECONDS = 1e11;

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * An archive's date as ISO 8601 (UTC), or null when absent. Accepts ISO 8601 strings (a date or
 * date-time without a zone is taken as UTC, never as local time) and Unix seconds, as a number
 * or a string of digits. Returns { error } to say why not.
 */
export function normalizeArchiveDate(value: unknown): string | null | { error: string } {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return fromUnixSeconds(value);
  if (typeof value !== 'string') return { error: `must be an ISO 8601 date, Unix seconds or null, not ${describeJsonType(value)}` };
  return recentDates(value);
}

// (an archive's records share a few dates: a key-store file of 100,000 records spent a third of its pass here)
const recentDates = boundedMemo(4096, dateOfText);

function dateOfText(value: string): string | null | { error: string } {
  const text = value.trim();
  if (text === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return fromUnixSeconds(Number(text));
  const m = ISO_DATE.exec(text);
  if (!m) return { error: `${jsonText(value)} is not an ISO 8601 date or Unix seconds` };
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  const utc = Date.UTC(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], ms);
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== parts[0] ||
    check.getUTCMonth() !== parts[1] ||
    check.getUTCDate() !== parts[2] ||
    check.getUTCHours() !== parts[3] ||
    check.getUTCMinutes() !== parts[4] ||
    check.getUTCSeconds() !== parts[5]
  ) {
    return { error: `${jsonText(value)} is not a valid date` };
  }
  let offsetMinutes = 0;
  const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (z) {
    const hours = Number(z[2]);
    const minutes = Number(z[3] ?? '0');
    if (hours > 23 || minutes > 59) return { error: `${jsonText(value)} has an invalid time zone offset` };
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  return new Date(utc - offsetMinutes * 60_000).toISOString();
}

function fromUnixSeconds(seconds: number): string | { error: string } {
  if (!Number.isFinite(seconds) || Math.abs(seconds) >= MAX_UNIX_SECONDS) {
    return { error: `${seconds} is not Unix seconds${Math.abs(seconds) >= MAX_UNIX_SECONDS ? ' (milliseconds?)' : ''}` };
  }
  return new Date(Math.round(seconds * 1000)).toISOString();
}

/**
 * A JSON list of archive entries `{domain, selector, value, firstSeenAt, lastSeenAt, source}`,
 * the shape public DKIM key archives serve. Keys get provenance 'archive' and, as origin, the
 * entry's `source` (else the file's base name). A missing field or a wrong type refuses the file,
 * naming the entry (1-based) and the field.
 */
export function parseArchiveList(data: unknown[], path: string): ParsedKeyFile {
  const out = new KeyCollector();
  const fallbackOrigin = basename(path);
  data.forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    const fail = (detail: string): never => {
      throw new KeyImportError(path, where, detail);
    };
    if (!isPlainObject(entry)) return fail(`expected an object {domain, selector, value, …}, not ${describeJsonType(entry)}`);

    const text = (field: 'domain' | 'selector'): string => {
      const v = entry[field];
      if (v === undefined || v === null) return fail(`"${field}" is missing`);
      if (typeof v !== 'string') return fail(`"${field}" must be a string, not ${describeJsonType(v)}`);
      const t = v.trim();
      if (t === '') return fail(`"${field}" is empty`);
      return t;
    };
    const domain = text('domain');
    const selector = text('selector');
    if (/(^|\.)_domainkey(\.|$)/i.test(selector)) {
      fail(`"selector" ${jsonText(selector)} must be the selector alone, without "._domainkey.<domain>"`);
    }

    const value = entry['value'];
    let txt: string;
    if (value === undefined || value === null) return fail('"value" is missing (the TXT record)');
    if (typeof value === 'string') {
      // Some archives keep the record as zone-file strings: "v=DKIM1; k=rsa; " "p=…".
      txt = unquoteTxtStrings(value) ?? value;
    } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      txt = value.join('');
    } else {
      return fail(`"value" must be the TXT record as a string, not ${describeJsonType(value)}`);
    }

    const dates = (['firstSeenAt', 'lastSeenAt'] as const).map((field) => {
      const d = normalizeArchiveDate(entry[field]);
      if (d !== null && typeof d === 'object') return fail(`"${field}": ${d.error}`);
      return d;
    });
    const order = seenInOrder(dates[0] ?? null, dates[1] ?? null);
    if (order) fail(order);

    const source = entry['source'];
    if (source !== undefined && source !== null && typeof source !== 'string') {
      fail(`"source" must be a string, not ${describeJsonType(source)}`);
    }
    const origin = typeof source === 'string' && source.trim() !== '' ? source.trim() : fallbackOrigin;

    const parts = splitKeyName(`${selector}._domainkey.${domain}`);
    if (typeof parts === 'string') return fail(parts);
    const why = notDkimKeyReason(txt);
    if (why !== null) {
      out.ignore(where, why);
      return;
    }
    out.add({ ...parts, txt, provenance: 'archive', origin, firstSeen: dates[0] ?? null, lastSeen: dates[1] ?? null, where });
  });
  return { format: 'archive-list', keys: out.keys, ignored: out.ignored };
}

/**
 * Why an archive's dates cannot both be right, or null: a key last seen before it was first seen.
 * Such a window holds no date, so every message signed with the key would be warned as outside
 * its known lifetime; the entry is refused instead, its dates quoted.
 */
export function seenInOrder(firstSeen: string | null, lastSeen: string | null): string | null {
  return firstSeen !== null && lastSeen !== null && firstSeen > lastSeen ? `"firstSeenAt" (${firstSeen}) is after "lastSeenAt" (${lastSeen})` : null;
}
