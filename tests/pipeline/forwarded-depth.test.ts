import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { demoMessage, signWithFixtureKey } from '../hostile/sign.ts';
import { exportRows, verifyOffline } from '../helpers/in-process.ts';

/*
 * Red team Y, Y-08: the docs say forwarded messages are followed three deep, and a message
 * nested exactly three deep was the one refused ("nested more than 3 deep"): a forward of a
 * forward of a forward, signed at each level, came out a read error.
 */
async function forwarding(inner: string, level: number): Promise<string> {
  return signWithFixtureKey(demoMessage({
    id: `level-${level}`,
    subject: `Fwd, level ${level}`,
    contentHeaders: [`Content-Type: multipart/mixed; boundary="b${level}"`],
    body: [`--b${level}`, 'Content-Type: text/plain', '', 'Forwarded.', `--b${level}`, 'Content-Type: message/rfc822', '', inner, `--b${level}--`, ''].join('\r\n'),
  }));
}

/** A dump of one file, verified offline: the database and the messages export writes of it. */
async function verifyOneFile(tmp: string, name: string, content: string): Promise<{ db: string; rows: Array<{ path: string; verdict: string; message_id: string }> }> {
  const dump = join(tmp, 'dump');
  mkdirSync(dump);
  writeFileSync(join(dump, name), content, 'latin1');
  const db = join(tmp, 'x.db');
  await verifyOffline(dump, db, [DEMO_KEYS]);
  return { db, rows: exportRows<{ path: string; verdict: string; message_id: string }>(db) };
}

describe('forwarded messages, nested (red team Y, Y-08)', () => {
  it('are verified three deep, and recorded, not verified, four deep', async () => {
    let message = await signWithFixtureKey(demoMessage({ id: 'level-4' }));
    for (let level = 3; level >= 0; level--) message = await forwarding(message, level);
    const tmp = tempDir();
    try {
      const { db, rows } = await verifyOneFile(tmp.path, 'fwd.eml', message);
      expect(rows.map((r) => [r.path, r.verdict])).toEqual([
        ['fwd.eml', 'verified'],
        ['fwd.eml#attachment-1', 'verified'],
        ['fwd.eml#attachment-1#attachment-1', 'verified'],
        ['fwd.eml#attachment-1#attachment-1#attachment-1', 'verified'],
      ]);
      const manifest = JSON.parse(runCli(['manifest', '--db', db]).stdout) as { files: Array<{ path: string; status: string; reason: string | null }> };
      expect(manifest.files.find((f) => f.path === 'fwd.eml#attachment-1#attachment-1#attachment-1#attachment-1')).toMatchObject({ status: 'error', reason: 'too-deep' });
    } finally {
      tmp.cleanup();
    }
  });
});

// Red team Y, Y-17: a forwarded message over the 64 MiB read of one had no row, no verdict and no
// word in any output: the carrier listed "a forwarded message" and that was all.
describe('a forwarded message over the size read of one', () => {
  it('is recorded, too-large, as a file not read completely', () => {
    const tmp = tempDir();
    try {
      const dump = join(tmp.path, 'dump');
      mkdirSync(dump);
      const line = `${'x'.repeat(998)}\r\n`;
      const inner = `${demoMessage({ id: 'scan' }).split('\r\n\r\n')[0]}\r\n\r\n${line.repeat(Math.ceil((64 * 1024 * 1024) / line.length) + 10)}`;
      const carrier = demoMessage({
        id: 'carrier',
        contentHeaders: ['Content-Type: multipart/mixed; boundary="c"'],
        body: ['--c', 'Content-Type: text/plain', '', 'The scan.', '--c', 'Content-Type: message/rfc822', '', inner, '--c--', ''].join('\r\n'),
      });
      writeFileSync(join(dump, 'carrier.eml'), carrier, 'latin1');
      const db = join(tmp.path, 'x.db');
      const verify = runCli(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', '--fail-on', 'unread']);
      expect(verify.status, verify.stderr).toBe(1);
      const manifest = JSON.parse(runCli(['manifest', '--db', db]).stdout) as { files: Array<{ path: string; status: string; reason: string | null; size: number }> };
      expect(manifest.files.find((f) => f.path === 'carrier.eml#attachment-1')).toMatchObject({ status: 'error', reason: 'too-large', size: inner.length });
    } finally {
      tmp.cleanup();
    }
  });
});

// Red team Y, Y-09: a message forwarded as message/global, or as an attached `fwd.eml` typed
// application/octet-stream, got no row and no verdict: mail programs open both as messages.
describe('forwarded messages under other types than message/rfc822 (red team Y, Y-09)', () => {
  it('are verified as messages of their own', async () => {
    const inner = await signWithFixtureKey(demoMessage({ id: 'forwarded-y09' }));
    const carrier = await signWithFixtureKey(demoMessage({
      id: 'carrier-y09',
      contentHeaders: ['Content-Type: multipart/mixed; boundary="b"'],
      body: [
        '--b', 'Content-Type: text/plain', '', 'Forwarded twice.',
        '--b', 'Content-Type: message/global', '', inner,
        '--b', 'Content-Type: application/octet-stream; name="fwd.eml"', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="fwd.eml"', '',
        Buffer.from(inner, 'latin1').toString('base64').replace(/.{76}/g, '$&\r\n'),
        '--b--', '',
      ].join('\r\n'),
    }));
    const tmp = tempDir();
    try {
      const { rows } = await verifyOneFile(tmp.path, 'carrier.eml', carrier);
      expect(rows.map((r) => [r.path, r.verdict, r.message_id])).toEqual([
        ['carrier.eml', 'verified', '<carrier-y09.1487063523@smtp.demo.example>'],
        ['carrier.eml#attachment-1', 'verified', '<forwarded-y09.1487063523@smtp.demo.example>'],
        ['carrier.eml#attachment-2', 'verified', '<forwarded-y09.1487063523@smtp.demo.example>'],
      ]);
    } finally {
      tmp.cleanup();
    }
  });
});
