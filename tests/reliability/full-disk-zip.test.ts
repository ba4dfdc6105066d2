import { readdirSync, readFileSync, writeFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { buildZip } from '../attachments/zip-writer.ts';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';
import { exportJsonl } from '../helpers/in-process.ts';
import { startVerify } from '../helpers/verify-child.ts';

/** Every .eml of the demo dump, in a fixed order. */
function demoMessages(dir = DEMO_DUMP): Buffer[] {
  const found: Buffer[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...demoMessages(path));
    else if (name.endsWith('.eml')) found.push(readFileSync(path));
  }
  return found;
}

/** Enough entries that a batch of rows (256 files) is committed while the archive is read. */
const COPIES = 20;

const exportOf = exportJsonl;

/**
 * A database that cannot grow (a full disk) while the entries of a zip are written: a write that
 * failed rejected an entry's task that nothing awaited, and the process ended as an unhandled
 * rejection (exit code 1, which means --fail-on, a stack trace, the lock left behind). The run
 * must stop as it does on a loose file: exit code 3, one line, and a re-run that completes.
 * (An mbox's batch refused: tests/pipeline/message-stream-store-failure.test.ts.)
 */
describe('reliability: a full disk while a zip is written', () => {
  const tmp = tempDir();
  const dump = join(tmp.path, 'dump');
  const cleanDb = join(tmp.path, 'clean.db');
  beforeAll(async () => {
    mkdirSync(dump);
    const messages = demoMessages();
    const entries: Array<{ name: string; data: Buffer }> = [];
    for (let i = 0; i < COPIES; i++) messages.forEach((data, j) => entries.push({ name: `copy-${i}/message-${j}.eml`, data }));
    writeFileSync(join(dump, 'mail.zip'), buildZip(entries));
    await runVerify({ dumpRoot: dump, dbPath: cleanDb, keyFiles: [DEMO_KEYS], offline: true });
  }, 120_000);
  afterAll(() => tmp.cleanup());

  it('exit code 3 and one line, no lock left, and the re-run completes', async () => {
    // Well under what the clean database takes, and past what an empty one does.
    const limitKb = Math.round(statSync(cleanDb).size / 1024 / 2);
    const db = join(tmp.path, 'full.db');
    const { status, stderr } = await startVerify(dump, db, [], limitKb).done;
    expect(status, stderr).toBe(3);
    expect(stderr).toMatch(/^leakcheck: .*full\.db: the system could not write it \(SQLITE_IOERR_WRITE\)\. Everything analysed up to the last batch written is kept; .* run the same command again to resume/);
    expect(stderr).not.toMatch(/SqliteError|at .*\.ts:\d+/);
    expect(existsSync(`${db}.lock`)).toBe(false);
    expect((await startVerify(dump, db).done).status).toBe(0);
    expect(exportOf(db)).toBe(exportOf(cleanDb));
  }, 120_000);
});
