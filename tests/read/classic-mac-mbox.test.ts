/**
 * A mailbox written by a classic Mac OS mail program (Eudora, Mac OS 9 and before), lines ending
 * in CR alone, end to end: each message found, a genuine signed one verified after the one repair
 * its line endings need, a changed one suspicious. Before, the whole file became one empty
 * message: every message in it vanished.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_KEYS, tempDir } from '../helpers/cli.ts';
import { demoMessage, signWithFixtureKey } from '../hostile/sign.ts';
import { verifyOffline } from '../helpers/in-process.ts';

describe('a CR-only (classic Mac OS) mbox', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('gives every message, verifies the genuine one after restoring CRLF, and finds the changed one', async () => {
    const genuine = await signWithFixtureKey(demoMessage({ id: 'mac-genuine' }));
    const changed = (await signWithFixtureKey(demoMessage({ id: 'mac-changed' }))).replace('see you on Friday', 'see you on Monday');
    const unsigned = demoMessage({ id: 'mac-unsigned' });
    const envelope = (n: number) => `From alice@demo.example Tue Feb 14 10:12:0${n} 2017\r\n`;
    const mbox = [genuine, changed, unsigned].map((m, i) => `${envelope(i)}${m}\r\n`).join('').replaceAll('\r\n', '\r');
    expect(mbox).not.toContain('\n');
    const dump = join(tmp.path, 'dump');
    const db = join(tmp.path, 'mac.db');
    mkdirSync(dump);
    writeFileSync(join(dump, 'In.mbox'), mbox, 'latin1');

    await verifyOffline(dump, db, [DEMO_KEYS]);
    const store = new Database(db, { readonly: true });
    const rows = store
      .prepare(`SELECT m.idx, m.message_id, v.verdict, v.reasons_json, m.repairs_json FROM messages m JOIN verdicts v ON v.message_id = m.id ORDER BY m.idx`)
      .all() as Array<{ idx: number; message_id: string; verdict: string; reasons_json: string; repairs_json: string }>;
    store.close();
    expect(rows.map((r) => [r.idx, r.message_id, r.verdict, JSON.parse(r.repairs_json)])).toEqual([
      [0, '<mac-genuine.1487063523@smtp.demo.example>', 'verified', ['crlf']],
      [1, '<mac-changed.1487063523@smtp.demo.example>', 'suspicious', ['crlf']],
      [2, '<mac-unsigned.1487063523@smtp.demo.example>', 'unverifiable', []],
    ]);
    expect(JSON.parse(rows[1]!.reasons_json)).toContain('dkim-body-modified');
  });
});
