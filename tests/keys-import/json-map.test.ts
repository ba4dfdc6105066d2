import { describe, expect, it } from 'vitest';
import { ED_TXT, expectImportError, fixtureDir, parse, RSA_TXT } from './fixtures.ts';

const write = fixtureDir();

describe('json-map: our own {"<selector>._domainkey.<domain>": [TXT, ...]}', () => {
  it('reads string and list values, lower-cases names, drops the trailing dot, records the file', () => {
    const f = write('keys.json', {
      'S1._DomainKey.Example.COM.': RSA_TXT,
      'brisbane._domainkey.football.example.com': [ED_TXT, RSA_TXT],
    });
    const { format, keys, ignored } = parse(f);
    expect(format).toBe('json-map');
    expect(ignored).toEqual([]);
    expect(keys).toEqual([
      {
        name: 's1._domainkey.example.com',
        domain: 'example.com',
        selector: 's1',
        txt: RSA_TXT,
        provenance: 'file',
        origin: f.path,
        firstSeen: null,
        lastSeen: null,
        where: 'entry 1 ("S1._DomainKey.Example.COM.")',
      },
      expect.objectContaining({ name: 'brisbane._domainkey.football.example.com', selector: 'brisbane', domain: 'football.example.com', txt: ED_TXT }),
      expect.objectContaining({ name: 'brisbane._domainkey.football.example.com', txt: RSA_TXT, where: 'entry 2 ("brisbane._domainkey.football.example.com")' }),
    ]);
  });

  it('keeps dotted selectors whole and splits at the first "._domainkey."', () => {
    const f = write('dotted.json', { '1433868189.example._domainkey.example.com': RSA_TXT });
    expect(parse(f).keys[0]).toMatchObject({ selector: '1433868189.example', domain: 'example.com' });
  });

  it('keeps a revoked key (empty p=)', () => {
    const f = write('revoked.json', { 'old._domainkey.example.com': 'v=DKIM1; k=rsa; p=' });
    expect(parse(f).keys).toHaveLength(1);
    expect(parse(f).keys[0]?.txt).toBe('v=DKIM1; k=rsa; p=');
  });

  it('lists records that are not DKIM keys as ignored, with the reason', () => {
    const f = write('mixed.json', {
      's1._domainkey.example.com': [RSA_TXT, 'v=DKIM1; k=rsa; omgwhatsgoingon', ''],
      's2._domainkey.example.com': 'v=DMARC1; p=reject',
      's3._domainkey.example.com': [],
    });
    const { keys, ignored } = parse(f);
    expect(keys.map((k) => k.name)).toEqual(['s1._domainkey.example.com']);
    expect(ignored).toEqual([
      { where: 'entry 1 ("s1._domainkey.example.com")', why: 'TXT record without a p= tag (not a DKIM key)' },
      { where: 'entry 1 ("s1._domainkey.example.com")', why: 'TXT record without a p= tag (not a DKIM key)' },
      { where: 'entry 2 ("s2._domainkey.example.com")', why: 'TXT record with v=DMARC1 (not a DKIM key)' },
      { where: 'entry 3 ("s3._domainkey.example.com")', why: 'no TXT record listed' },
    ]);
  });

  it('keeps a key written twice once (names differ only in case)', () => {
    const f = write('dup.json', `{"s1._domainkey.example.com": "${RSA_TXT}", "S1._DOMAINKEY.EXAMPLE.COM.": ["${RSA_TXT}"]}`);
    const { keys, ignored } = parse(f);
    expect(keys).toHaveLength(1);
    expect(ignored).toEqual([{ where: 'entry 2 ("S1._DOMAINKEY.EXAMPLE.COM.")', why: 'same key as entry 1 ("s1._domainkey.example.com")' }]);
  });

  it('an empty object is a valid file with no keys', () => {
    expect(parse(write('empty.json', '{}'))).toEqual({ format: 'json-map', keys: [], ignored: [] });
  });
});

describe('json-map: the corpus keyring shape {"_about", "keys": {name: {txt, provenance, …}}}', () => {
  it('reads each txt with provenance "file" and the path as origin; notes beside "keys" are not entries', () => {
    const f = write('keyring.json', {
      _about: 'keys from public repositories',
      _version: 2,
      keys: {
        '20120113._domainkey.gmail.com': { txt: [RSA_TXT], provenance: ['hunter-dkim'], confirmed_by: ['x.eml'] },
        'brisbane._domainkey.football.example.com': { txt: ED_TXT },
      },
    });
    const { format, keys, ignored } = parse(f);
    expect(format).toBe('json-map');
    expect(ignored).toEqual([]);
    expect(keys).toEqual([
      expect.objectContaining({ name: '20120113._domainkey.gmail.com', txt: RSA_TXT, provenance: 'file', origin: f.path, where: 'entry 1 ("20120113._domainkey.gmail.com")' }),
      expect.objectContaining({ name: 'brisbane._domainkey.football.example.com', txt: ED_TXT, provenance: 'file' }),
    ]);
  });

  it('refuses an entry without "txt", naming it', () => {
    const f = write('keyring-no-txt.json', { _about: 'x', keys: { 'a._domainkey.example.com': { txt: [RSA_TXT] }, 'b._domainkey.example.com': { provenance: ['p'] } } });
    expectImportError(f, 'entry 2 ("b._domainkey.example.com")', /"txt" is missing/);
  });

  it('refuses a "txt" of the wrong type, naming the entry and the field', () => {
    const f = write('keyring-bad-txt.json', { _about: 'x', keys: { 'a._domainkey.example.com': { txt: 42 } } });
    expectImportError(f, 'entry 1 ("a._domainkey.example.com")', /^"txt" must be a TXT record string or a list of them, not a number$/);
  });
});

describe('json-map: errors name the file and the entry', () => {
  it.each([
    ['a name without "._domainkey."', { 's1._domainkey.example.com': RSA_TXT, 'example.com': RSA_TXT }, 'entry 2 ("example.com")', /is not a DKIM key name: it has no "\._domainkey\."/],
    ['a name with no selector', { '_domainkey.example.com': RSA_TXT }, 'entry 1 ("_domainkey.example.com")', /has no "\._domainkey\." between a selector and a domain/],
    ['a name with no domain', { 's1._domainkey.': RSA_TXT }, 'entry 1 ("s1._domainkey.")', /is not a DKIM key name/],
    ['a name with white space', { 's1._domainkey.example.com extra': RSA_TXT }, 'entry 1 ("s1._domainkey.example.com extra")', /contains white space/],
    ['a name with an empty label', { 's1._domainkey.example..com': RSA_TXT }, 'entry 1 ("s1._domainkey.example..com")', /has an empty label/],
    ['a note beside entries (not the keyring shape)', { _about: 'notes', 's1._domainkey.example.com': RSA_TXT }, 'entry 1 ("_about")', /is not a DKIM key name/],
    ['a number value', { 's1._domainkey.example.com': 7 }, 'entry 1 ("s1._domainkey.example.com")', /^the value must be a TXT record string or a list of them, not a number$/],
    ['an object value', { 's1._domainkey.example.com': { txt: RSA_TXT } }, 'entry 1 ("s1._domainkey.example.com")', /not an object$/],
    ['a null value', { 's1._domainkey.example.com': null }, 'entry 1 ("s1._domainkey.example.com")', /not null$/],
    ['a list with a non-string', { 's1._domainkey.example.com': [RSA_TXT, ['nested']] }, 'entry 1 ("s1._domainkey.example.com")', /^the value: item 2 must be a TXT record string, not a list$/],
  ])('%s', (_what, content, where, detail) => {
    expectImportError(write('bad.json', content), where, detail);
  });
});

// Red team 10 (07): JSON.parse keeps the last of two members of one name, so a strict record
// followed by a lax copy of the same key was imported as the lax one, in silence.
describe('json-map: a name repeated in one object refuses the file', () => {
  const strict = `${RSA_TXT}; h=sha1`;
  it.each([
    ['our map', `{\n  "s1._domainkey.example.com": ["${strict}"],\n  "s1._domainkey.example.com": ["${RSA_TXT}"]\n}\n`, 'line 3', 's1._domainkey.example.com'],
    ['the same name in another spelling of JSON', `{"s1._domainkey.example.com": "${RSA_TXT}",\n"s1._domainkey.example.co\\u006d": "${ED_TXT}"}`, 'line 2', 's1._domainkey.example.com'],
    ['the corpus keyring', `{"keys": {"s1._domainkey.example.com": {"txt": ["${RSA_TXT}"], "txt": []}}}`, 'line 1', 'txt'],
  ])('%s', (_what, text, where, name) => {
    expectImportError(write('dup.json', Buffer.from(text)), where, new RegExp(`^the name "${name.replace(/\./g, '\\.')}" appears twice in one object`));
  });

  it('names that differ, in separate objects, or as values are not repeats', () => {
    const f = write('fine.json', Buffer.from(`{"a._domainkey.example.com": ["${RSA_TXT}", "${RSA_TXT}"], "b._domainkey.example.com": "${ED_TXT}", "c._domainkey.example.com": ["x\\"a._domainkey.example.com\\""]}`));
    expect(parse(f).keys.map((k) => k.name)).toEqual(['a._domainkey.example.com', 'b._domainkey.example.com']);
  });
});
