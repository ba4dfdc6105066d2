/**
 * Red team K, K-01: a copy verified by a signature that leaves Subject out, its Subject edited
 * after signing, beside the sent copy whose signature signs Subject. The edited copy stays
 * verified (its body and From are proven), with the warning verified-copy-contradicted; its
 * explanation, which is what the CSV and the summaries carry, must say that the From domain
 * signed another Subject, not only that its own proof leaves the Subject out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainMessage, rsaKey, SIGN_TIME, signed } from '../unit/support/signing.ts';
import { tempDir } from '../helpers/cli.ts';
import { exportRows, verifyOffline } from '../helpers/in-process.ts';

interface Row {
  path: string;
  verdict: string;
  explanation: string;
  findings: Array<{ code: string; severity: string }>;
}

describe('a verified copy whose unsigned Subject another verified copy contradicts', () => {
  const dir = tempDir('leakcheck-contradicted-');
  const db = join(dir.path, 'case.db');
  afterAll(() => dir.cleanup());
  let rows: Map<string, Row>;

  beforeAll(async () => {
    const key = rsaKey(2048);
    mkdirSync(join(dir.path, 'dump'));
    const message = plainMessage({ subject: 'Wire transfer for the Q2 retainer', messageId: '<retainer@example.com>' });
    const sign = (headerList?: string): Promise<string> => signed(message, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headerList });
    writeFileSync(join(dir.path, 'dump', 'sent-copy.eml'), await sign(), 'latin1');
    const inbox = (await sign('from:to:date:message-id')).replace('Subject: Wire transfer for the Q2 retainer', 'Subject: URGENT: new bank details for the Q2 retainer');
    expect(inbox).toContain('URGENT');
    writeFileSync(join(dir.path, 'dump', 'inbox-copy.eml'), inbox, 'latin1');
    writeFileSync(join(dir.path, 'keys.json'), JSON.stringify({ 'sel1._domainkey.example.com': key.txt }));
    await verifyOffline(join(dir.path, 'dump'), db, [join(dir.path, 'keys.json')]);
    rows = new Map(exportRows<Row>(db).map((r) => [r.path, r]));
  });

  it('stays verified, and its explanation names the copy whose proof signs another Subject', () => {
    const inbox = rows.get('inbox-copy.eml')!;
    expect(inbox.verdict).toBe('verified');
    expect(inbox.findings.map((f) => `${f.severity} ${f.code}`)).toContain('warning verified-copy-contradicted');
    expect(inbox.explanation).toContain('The proof does not cover the Subject shown');
    expect(inbox.explanation).toMatch(/Another copy of this message \(same Message-ID\) is verified by d=example\.com, the From domain of both copies, and differs from this one in its Subject, .*is not what the From domain signed\..* Other copy: sent-copy\.eml\.$/);
  });

  it('leaves the explanation of the copy whose proof signs the Subject as it was', () => {
    const sent = rows.get('sent-copy.eml')!;
    expect(sent.verdict).toBe('verified');
    expect(sent.findings.map((f) => `${f.severity} ${f.code}`)).toContain('info verified-copy-other-unsigned');
    expect(sent.explanation).not.toContain('Another copy');
  });
});
