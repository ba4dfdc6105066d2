/**
 * Red team 6, C-06: `%PDF-1.7`, `GIF89a`, `BZh`, `bplist00` and `!BDN` are legal field names.
 * One unsigned field so named, added on top of an altered copy of a signed message, made the
 * file a "PDF document" (or GIF, bzip2, plist, PST): skipped as not email, no verdict, out of
 * the cross-dump checks, while mail programs open it as the altered email it is.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';
import { demoMessage, signWithFixtureKey } from './sign.ts';
import { readResults, runCliMeasured } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'leakcheck-magic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIGNATURE_NAMES = ['%PDF-1.7', 'GIF89a', 'BZh', 'bplist00', '!BDN'];

describe('leakcheck verify on altered copies whose first field is named like a file signature', () => {
  it('judges each as the altered message it is, and still skips the real files', async () => {
    const dump = join(dir, 'dump');
    mkdirSync(join(dump, 'exports'), { recursive: true });
    const signed = await signWithFixtureKey(demoMessage({ id: 'magic', body: 'Pay invoice 1001 (12,000 EUR) on Friday.\r\n' }));
    const altered = signed.replace('12,000 EUR', '912,000 EUR');
    writeFileSync(join(dump, 'altered.eml'), altered, 'latin1');
    for (const name of SIGNATURE_NAMES) writeFileSync(join(dump, `altered ${name.replace(/\W/g, '')}.eml`), `${name}: 1\r\n${altered}`, 'latin1');
    copyFileSync(join(ROOT, 'fixtures/demo-dump/scan-0042.pdf'), join(dump, 'scan.pdf'));
    copyFileSync(join(ROOT, 'fixtures/demo-dump/exports/mailbox-export.zip'), join(dump, 'exports/mailbox-export.zip'));
    writeFileSync(join(dump, 'pixel.gif'), Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;', 'latin1'));

    const db = join(dir, 'dump.db');
    const run = runCliMeasured(['verify', dump, '--keys', join(ROOT, 'fixtures/demo-keys.json'), '--offline', '--db', db, '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    const { files, messages } = readResults(db);
    const verdictOf = (path: string) => {
      const row = messages.find((m) => m.path === path);
      return row && { verdict: row.verdict, reasons: JSON.parse(row.reasons_json ?? '[]') as string[] };
    };
    expect(verdictOf('altered.eml')).toEqual({ verdict: 'suspicious', reasons: ['dkim-body-modified'] });
    for (const name of SIGNATURE_NAMES) {
      expect(verdictOf(`altered ${name.replace(/\W/g, '')}.eml`), name).toEqual({ verdict: 'suspicious', reasons: ['dkim-body-modified'] });
    }
    const byPath = new Map(files.map((f) => [f.path, f]));
    expect(byPath.get('scan.pdf')).toMatchObject({ status: 'skipped', reason: 'not-email', detail: 'PDF document' });
    expect(byPath.get('pixel.gif')).toMatchObject({ status: 'skipped', reason: 'not-email', detail: 'GIF image' });
    // the archive is still opened and its messages judged
    expect(messages.filter((m) => m.path.startsWith('exports/mailbox-export.zip!')).length).toBeGreaterThan(0);
    expect(messages.every((m) => m.verdict !== null)).toBe(true);
  });
});
