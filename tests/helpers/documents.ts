import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.ts';

/**
 * Verifies `dump` offline with one key, sel1._domainkey.example.com (`keyTxt`), into a database
 * in `dir`, and reads its documents back as the exports and the HTML report give them.
 */
export function verifiedDocuments<Row>(dir: string, dump: string, keyTxt: string): { db: string; rows: Row[]; text: string; html: string } {
  const keys = join(dir, 'keys.json');
  writeFileSync(keys, JSON.stringify({ 'sel1._domainkey.example.com': [keyTxt] }));
  const db = join(dir, 'x.db');
  const verify = runCli(['verify', dump, '--keys', keys, '--offline', '--db', db, '--quiet']);
  expect(verify.status, verify.stderr).toBe(0);
  return {
    db,
    rows: runCli(['documents', '--format', 'jsonl', '--db', db]).stdout.trim().split('\n').map((l) => JSON.parse(l) as Row),
    text: runCli(['documents', '--db', db]).stdout,
    html: runCli(['report', '--format', 'html', '--db', db]).stdout,
  };
}
