/**
 * Red team 6, B-02: the key store merged every record of one key (by fingerprint) into one
 * candidate with the highest-ranked record's text and origin and the dates of all. A colleague's
 * file holding the domain's key without its tags then lifted the domain's h= and t=y, and the
 * archive's dates were credited to the file. Each record now keeps its own text, restrictions,
 * origin and dates, and the strictest record of a key applies.
 */
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import type { KeyAnswer } from '../../src/keys/types.ts';
import { KeyStore, type NewKey } from '../../src/store/key-store.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Db } from '../../src/store/open-store.ts';
import { tempDir } from '../helpers/cli.ts';
import { plainMessage, rsaKey, SIGN_TIME, signed, type TestKey } from '../unit/support/signing.ts';

const NAME = 'sel1._domainkey.example.com';
const ARCHIVE = 'dkim-archive.example';
const FILE = '/cases/colleague.json';

let key: TestKey;
let message: string;
beforeAll(async () => {
  key = rsaKey(2048);
  message = await signed(plainMessage(), { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME }); // rsa-sha256, 2016
});
const p = (): string => key.txt.slice(key.txt.indexOf('p=') + 2);

describe('several records of one key', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Db;
  let store: KeyStore;
  beforeEach(() => {
    tmp = tempDir();
    db = openStore(join(tmp.path, 'keys.db'));
    store = new KeyStore(db);
  });
  afterEach(() => {
    db.close();
    tmp.cleanup();
  });

  const archived = (txt: string, firstSeen = '2015-01-01', lastSeen = '2017-01-01'): NewKey => ({ name: NAME, txt, source: 'archive', origin: ARCHIVE, firstSeen, lastSeen });
  const fromFile = (txt: string): NewKey => ({ name: NAME, txt, source: 'file', origin: FILE });
  const analyze = (...keys: NewKey[]): Promise<MessageAnalysis> => {
    for (const k of keys) store.addKey(k);
    const lookup = async (name: string): Promise<KeyAnswer> => store.answerFor(name) ?? { status: 'absent', name, detail: 'not stored' };
    return analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, lookup);
  };

  it("a file with the key alone does not lift the domain's h= restriction: the strictest record applies, and the laxer one is named", async () => {
    const restricted = `v=DKIM1; k=rsa; h=sha1; p=${p()}`;
    const alone = await analyze(archived(restricted));
    expect(alone.verdict.reasons).toEqual(['key-invalid']);

    const a = await analyze(fromFile(`v=DKIM1; k=rsa; p=${p()}`));
    expect(a.verdict.verdict).toBe('unverifiable');
    // red team 7 (07): said as two sources that disagree, not as a malformed record
    expect(a.verdict.reasons).toEqual(['key-records-disagree']);
    expect(a.verdict.explanation).toMatch(new RegExp(`disagree: .*also on record \\(file from ${FILE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));
    const sig = a.signatures[0]!;
    expect(sig.laxerRecord).toEqual({ source: 'file', origin: FILE });
    expect(sig.comment).toBe(`inappropriate hash algorithm; the same key is also on record (file from ${FILE}) with a laxer record; the strictest record of the key applies`);
    // the record on record is the one that decided, with its own origin and dates
    expect(sig.key).toMatchObject({ txt: restricted, source: 'archive', origin: ARCHIVE, firstSeen: '2015-01-01', lastSeen: '2017-01-01' });
  });

  it("a file with the key alone does not hide the domain's t=y: the testing record is the one on record, with its warning", async () => {
    const testing = `v=DKIM1; k=rsa; t=y; p=${p()}`;
    const a = await analyze(fromFile(`v=DKIM1; k=rsa; p=${p()}`), archived(testing));
    expect(a.verdict.verdict).toBe('verified');
    const sig = a.signatures[0]!;
    expect(sig.testing).toBe(true);
    expect(sig.key).toMatchObject({ txt: testing, source: 'archive', origin: ARCHIVE });
    expect(a.findings.map((f) => f.code)).toContain('key-testing-mode');
  });

  it('the same record from a file and an archive is one candidate that keeps its own origin and dates; the lifetime names the archive that saw it', async () => {
    const txt = `v=DKIM1; k=rsa; p=${p()}`;
    const a = await analyze(fromFile(txt), archived(txt, '2019-01-01', '2020-01-01'));
    expect(store.answerFor(NAME)).toMatchObject({ status: 'found', records: [{ txt, source: 'file', origin: FILE, firstSeen: null, lastSeen: null }] });
    expect(a.verdict.verdict).toBe('verified');
    expect(a.signatures[0]!.key).toMatchObject({ source: 'file', origin: FILE, firstSeen: null, lastSeen: null });
    const lifetime = a.findings.find((f) => f.code === 'key-outside-known-lifetime');
    expect(lifetime?.text).toBe(`Signed with a key not known to be in use at that date: it was signed (t=) on 2016-03-14, as its Date, which this signature covers, says, but ${ARCHIVE} saw this key only 2019-01-01 to 2020-01-01.`);
    expect(lifetime?.evidence['seenBy']).toEqual([{ source: 'archive', origin: ARCHIVE, firstSeen: '2019-01-01', lastSeen: '2020-01-01' }]);
  });

  it("a broken copy of the key in a file (one mailauth reads as no key) does not hide the archive's good record", async () => {
    const good = `v=DKIM1; k=rsa; p=${p()}`;
    const a = await analyze(fromFile(`v=DKIM1; x; k=rsa; p=${p()}; p`), archived(good));
    expect(a.verdict.verdict).toBe('verified');
    expect(a.signatures[0]!.key).toMatchObject({ txt: good, source: 'archive', origin: ARCHIVE, firstSeen: '2015-01-01' });
  });

  it('records of one key that differ are separate candidates, each with its own dates', () => {
    store.addKey(fromFile(`v=DKIM1; k=rsa; p=${p()}`));
    store.addKey(archived(`v=DKIM1; k=rsa; h=sha256; p=${p()}`, '2019-01-01', '2020-01-01'));
    store.addKey(archived(`v=DKIM1; k=rsa; h=sha256;  p=${p()}`, '2010-01-01', '2011-01-01'));
    const answer = store.answerFor(NAME);
    if (answer?.status !== 'found') throw new Error('no answer');
    // (the archive's two records in the order of their text, whichever was stored first: red team 28, H-04)
    expect(answer.records.map((r) => [r.source, r.firstSeen ?? null, r.lastSeen ?? null])).toEqual([
      ['file', null, null],
      ['archive', '2010-01-01', '2011-01-01'],
      ['archive', '2019-01-01', '2020-01-01'],
    ]);
  });
});
