import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './cli.ts';
import { verifyOffline } from './in-process.ts';

/**
 * Verifies `dump` offline (in this process) with one key, sel1._domainkey.example.com (`keyTxt`),
 * into a database in `dir`, and reads its documents back as the exports and the HTML report give
 * them.
 */
export async function verifiedDocuments<Row>(dir: string, dump: string, keyTxt: string): Promise<{ db: string; rows: Row[]; text: string; html: string }> {
  const keys = join(dir, 'keys.json');
  writeFileSync(keys, JSON.stringify({ 'sel1._domainkey.example.com': [keyTxt] }));
  const db = join(dir, 'x.db');
  await verifyOffline(dump, db, [keys]);
  return {
    db,
    rows: runCli(['documents', '--format', 'jsonl', '--db', db]).stdout.trim().split('\n').map((l) => JSON.parse(l) as Row),
    text: runCli(['documents', '--db', db]).stdout,
    html: runCli(['report', '--format', 'html', '--db', db]).stdout,
  };
}
