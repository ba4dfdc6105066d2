import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ED_TXT, expectImportError, fixtureDir, parse, RSA_P, RSA_TXT } from './fixtures.ts';

const write = fixtureDir();

const entry = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  domain: 'example.com',
  selector: 's1',
  value: RSA_TXT,
  firstSeenAt: '2012-01-13T10:00:00Z',
  lastSeenAt: '2016-10-25T00:00:00.000Z',
  source: 'dkim-archive.example.org',
  ...over,
});

describe('archive-list: [{domain, selector, value, firstSeenAt, lastSeenAt, source}]', () => {
  it('reads an entry with provenance "archive", the source as origin, and ISO dates', () => {
    const f = write('archive.json', [entry()]);
    const { format, keys, ignored } = parse(f);
    expect(format).toBe('archive-list');
    expect(ignored).toEqual([]);
    expect(keys).toEqual([
      {
        name: 's1._domainkey.example.com',
        domain: 'example.com',
        selector: 's1',
        txt: RSA_TXT,
        provenance: 'archive',
        origin: 'dkim-archive.example.org',
        firstSeen: '2012-01-13T10:00:00.000Z',
        lastSeen: '2016-10-25T00:00:00.000Z',
        where: 'entry 1',
      },
    ]);
  });

  it('refuses an entry last seen before it was first seen: its window holds no date', () => {
    const f = write('backwards.json', [entry(), entry({ selector: 's2', firstSeenAt: '2016-10-26', lastSeenAt: '2016-10-25T00:00:00Z' })]);
    expectImportError(f, 'entry 2', /^"firstSeenAt" \(2016-10-26T00:00:00\.000Z\) is after "lastSeenAt" \(2016-10-25T00:00:00\.000Z\)/);
    // the same day given twice is a window of one day
    expect(parse(write('one-day.json', [entry({ firstSeenAt: '2016-10-25', lastSeenAt: '2016-10-25' })])).keys).toHaveLength(1);
  });

  it('lower-cases domain and selector and drops the domain\'s trailing dot', () => {
    const f = write('case.json', [entry({ domain: ' Example.COM. ', selector: 'Brisbane' })]);
    expect(parse(f).keys[0]).toMatchObject({ name: 'brisbane._domainkey.example.com', domain: 'example.com', selector: 'brisbane' });
  });

  it('uses the file\'s base name as origin when source is missing, null, empty or blank', () => {
    const f = write('archive-no-source.json', [
      entry({ source: undefined }),
      entry({ selector: 's2', source: null }),
      entry({ selector: 's3', source: '' }),
      entry({ selector: 's4', source: '   ' }),
    ]);
    const { keys } = parse(f);
    expect(keys).toHaveLength(4);
    for (const key of keys) expect(key.origin).toBe(basename(f.path));
    expect(basename(f.path)).toBe('archive-no-source.json');
  });

  it.each([
    ['ISO with Z', '2012-01-13T10:20:30Z', '2012-01-13T10:20:30.000Z'],
    ['ISO with milliseconds', '2012-01-13T10:20:30.123456Z', '2012-01-13T10:20:30.123Z'],
    ['ISO with an offset', '2012-01-13T12:20:30+02:00', '2012-01-13T10:20:30.000Z'],
    ['ISO with a compact negative offset', '2012-01-13T05:20:30-0500', '2012-01-13T10:20:30.000Z'],
    ['ISO without a zone (UTC, never local time)', '2012-01-13T10:20:30', '2012-01-13T10:20:30.000Z'],
    ['a space instead of T', '2012-01-13 10:20', '2012-01-13T10:20:00.000Z'],
    ['a date alone', '2012-01-13', '2012-01-13T00:00:00.000Z'],
    ['Unix seconds', 1326450030, '2012-01-13T10:20:30.000Z'],
    ['Unix seconds as a string', '1326450030', '2012-01-13T10:20:30.000Z'],
    ['Unix seconds with a fraction', 1326450030.5, '2012-01-13T10:20:30.500Z'],
    ['zero (1970)', 0, '1970-01-01T00:00:00.000Z'],
    ['null', null, null],
    ['missing', undefined, null],
    ['an empty string', '', null],
  ])('normalises a date: %s', (_what, value, expected) => {
    const f = write('dates.json', [entry({ firstSeenAt: value, lastSeenAt: value })]);
    expect(parse(f).keys[0]).toMatchObject({ firstSeen: expected, lastSeen: expected });
  });

  it('joins a value kept as zone-file strings, or as a list of strings', () => {
    const f = write('strings.json', [
      entry({ value: `"v=DKIM1; k=rsa; " "p=${RSA_P.slice(0, 100)}" "${RSA_P.slice(100)}"` }),
      entry({ selector: 's2', value: ['v=DKIM1; k=rsa; ', `p=${RSA_P}`] }),
    ]);
    const { keys } = parse(f);
    expect(keys.map((k) => k.txt)).toEqual([RSA_TXT, RSA_TXT]);
  });

  it('keeps revoked keys, ignores records without p=, and keeps an exact repeat once', () => {
    const f = write('mixed.json', [
      entry({ value: 'v=DKIM1; p=' }),
      entry({ selector: 's2', value: 'v=DKIM1; k=rsa' }),
      entry({ selector: 's3', value: ED_TXT }),
      entry({ selector: 's3', value: ED_TXT }),
      entry({ selector: 's3', value: ED_TXT, lastSeenAt: null }),
    ]);
    const { keys, ignored } = parse(f);
    expect(keys.map((k) => [k.selector, k.where])).toEqual([
      ['s1', 'entry 1'],
      ['s3', 'entry 3'],
      ['s3', 'entry 5'],
    ]);
    expect(ignored).toEqual([
      { where: 'entry 2', why: 'TXT record without a p= tag (not a DKIM key)' },
      { where: 'entry 4', why: 'same key as entry 3' },
    ]);
  });

  it('ignores fields it does not know', () => {
    const f = write('extra.json', [entry({ id: 17, fetchedFrom: 'dns', tags: ['a'] })]);
    expect(parse(f).keys).toHaveLength(1);
  });

  it('an empty list is a valid file with no keys', () => {
    expect(parse(write('empty.json', '[]'))).toEqual({ format: 'archive-list', keys: [], ignored: [] });
  });
});

describe('archive-list: errors name the file, the entry (1-based) and the field', () => {
  it.each([
    ['an entry that is not an object', ['x'], /^expected an object \{domain, selector, value, …\}, not a string$/],
    ['a null entry', [null], /not null$/],
    ['a list entry', [[]], /not a list$/],
    ['no domain', [{ selector: 's1', value: RSA_TXT }], /^"domain" is missing$/],
    ['a null domain', [{ domain: null, selector: 's1', value: RSA_TXT }], /^"domain" is missing$/],
    ['an empty domain', [{ domain: ' ', selector: 's1', value: RSA_TXT }], /^"domain" is empty$/],
    ['a numeric domain', [{ domain: 42, selector: 's1', value: RSA_TXT }], /^"domain" must be a string, not a number$/],
    ['no selector', [{ domain: 'example.com', value: RSA_TXT }], /^"selector" is missing$/],
    ['a selector that is an object', [{ domain: 'example.com', selector: {}, value: RSA_TXT }], /^"selector" must be a string, not an object$/],
    ['a selector holding the whole name', [{ domain: 'example.com', selector: 's1._domainkey.example.com', value: RSA_TXT }], /^"selector" "s1\._domainkey\.example\.com" must be the selector alone/],
    ['no value', [{ domain: 'example.com', selector: 's1' }], /^"value" is missing/],
    ['a numeric value', [{ domain: 'example.com', selector: 's1', value: 1 }], /^"value" must be the TXT record as a string, not a number$/],
    ['a value list with a number', [{ domain: 'example.com', selector: 's1', value: ['p=', 1] }], /^"value" must be the TXT record as a string, not a list$/],
    ['a domain with white space', [{ domain: 'exa mple.com', selector: 's1', value: RSA_TXT }], /contains white space/],
    ['a firstSeenAt that is no date', [entry({ firstSeenAt: 'last Tuesday' })], /^"firstSeenAt": "last Tuesday" is not an ISO 8601 date or Unix seconds$/],
    ['an impossible date', [entry({ lastSeenAt: '2012-02-30T00:00:00Z' })], /^"lastSeenAt": "2012-02-30T00:00:00Z" is not a valid date$/],
    ['a boolean date', [entry({ firstSeenAt: true })], /^"firstSeenAt": must be an ISO 8601 date, Unix seconds or null, not a boolean$/],
    ['milliseconds instead of seconds', [entry({ lastSeenAt: 1326450030000 })], /^"lastSeenAt": 1326450030000 is not Unix seconds \(milliseconds\?\)$/],
    ['a numeric source', [entry({ source: 3 })], /^"source" must be a string, not a number$/],
  ])('%s', (_what, content, detail) => {
    expectImportError(write('bad-archive.json', content), 'entry 1', detail);
  });

  it('counts entries from 1 and names the failing one', () => {
    const f = write('third-bad.json', [entry(), entry({ selector: 's2' }), entry({ selector: 's3', value: undefined })]);
    expectImportError(f, 'entry 3', /"value" is missing/);
  });
});
