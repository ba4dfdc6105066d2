import { readdirSync, readFileSync, writeFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { buildZip } from '../attachments/zip-writer.ts';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
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

const COPIES = 20;

/** The demo's messages COPIES times over, as an mbox (each message quoted as mboxrd writers do). */
function demoMbox(): Buffer {
  const messages = demoMessages();
  const parts: Buffer[] = [];
  for (let i = 0; i < COPIES; i++) {
    for (const raw of messages) {
      const quoted = raw.toString('latin1').replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1');
      parts.push(Buffer.from(`From sender@demo.example Thu Jan 12 14:45:18 2017\n${quoted}${quoted.endsWith('\n') ? '' : '\n'}\n`, 'latin1'));
    }
  }
  return Buffer.concat(parts);
}

const exportOf = (db: string): string => runCli(['export', '--format', 'jsonl', '--db', db]).stdout;

/**
 * A database that cannot grow (a full disk) while the messages of a container are being written:
 * inside a zip, a write that failed rejected an entry's task that nothing awaited, and the process
 * ended as an unhandled rejection (exit code 1, which means --fail-on, a stack trace, the lock left
 * behind); inside an mbox, it was recorded as the mbox's read error. Either way the run must stop
 * as it does on a loose file: exit code 3, one line, and a re-run that completes.
 */
describe('reliability: a full disk while a container is written', () => {
  const tmp = tempDir();
  const shapes: Record<string, (dir: string) => void> = {
    'a zip of messages': (dir) => {
      const messages = demoMessages();
      const entries: Array<{ name: string; data: Buffer }> = [];
      for (let i = 0; i < COPIES; i++) messages.forEach((data, j) => entries.push({ name: `copy-${i}/message-${j}.eml`, data }));
      writeFileSync(join(dir, 'mail.zip'), buildZip(entries));
    },
    'an mbox': (dir) => writeFileSync(join(dir, 'mail.mbox'), demoMbox()),
    'an mbox inside a zip': (dir) => writeFileSync(join(dir, 'takeout.zip'), buildZip([{ name: 'Takeout/Mail/All mail.mbox', data: demoMbox() }])),
  };
  const clean = new Map<string, string>();
  beforeAll(async () => {
    for (const [shape, write] of Object.entries(shapes)) {
      const dump = join(tmp.path, shape.replace(/ /g, '-'));
      mkdirSync(dump);
      write(dump);
      const db = `${dump}.clean.db`;
      await runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
      clean.set(shape, db);
    }
  }, 120_000);
  afterAll(() => tmp.cleanup());

  for (const shape of Object.keys(shapes)) {
    it(`${shape}: exit code 3 and one line, no lock left, and the re-run completes`, async () => {
      const dump = join(tmp.path, shape.replace(/ /g, '-'));
      const cleanDb = clean.get(shape)!;
      // Well under what the clean database takes, and past what an empty one does.
      const limitKb = Math.round(statSync(cleanDb).size / 1024 / 2);
      const db = `${dump}.full.db`;
      const { status, stderr } = await startVerify(dump, db, [], limitKb).done;
      expect(status, stderr).toBe(3);
      expect(stderr).toMatch(/^leakcheck: .*full\.db: the system could not write it \(SQLITE_IOERR_WRITE\)\. Everything analysed up to the last batch written is kept; .* run the same command again to resume/);
      expect(stderr).not.toMatch(/SqliteError|at .*\.ts:\d+/);
      expect(existsSync(`${db}.lock`)).toBe(false);
      expect((await startVerify(dump, db).done).status).toBe(0);
      expect(exportOf(db)).toBe(exportOf(cleanDb));
    }, 120_000);
  }
});
