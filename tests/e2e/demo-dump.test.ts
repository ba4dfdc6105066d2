import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, tempDir } from '../helpers/cli.ts';

interface Label {
  path: string;
  index?: number;
  verdict?: string;
  reasons?: string[];
  repairs?: string[];
  skipped?: boolean;
  reason?: string;
  document?: boolean;
  status?: string;
  nameConflict?: boolean;
  container?: string;
}

const labels = JSON.parse(readFileSync(join(ROOT, 'fixtures/demo-expected.json'), 'utf8')) as Label[];
const messageLabels = labels.filter((l) => l.verdict !== undefined);
const skippedLabels = labels.filter((l) => l.skipped);
const documentLabels = labels.filter((l) => l.document);

describe('leakcheck verify on the demo dump (end to end, offline)', () => {
  const tmp = tempDir();
  const db = join(tmp.path, 'demo.db');
  let verify: ReturnType<typeof runCli>;
  let rows: Array<Record<string, unknown>>;

  beforeAll(() => {
    verify = runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']);
    const exported = runCli(['export', '--format', 'jsonl', '--db', db]);
    expect(exported.status, exported.stderr).toBe(0);
    rows = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  });
  afterAll(() => tmp.cleanup());

  it('exits 0 and prints counts for all three verdicts', () => {
    expect(verify.status, verify.stderr).toBe(0);
    for (const verdict of ['verified', 'unverifiable', 'suspicious']) expect(verify.stdout).toMatch(new RegExp(`${verdict}\\s+\\d+`));
    expect(verify.stdout).toContain('not the same as fake'.replace('not the same', 'Not the same'));
    expect(verify.stdout).toContain('Suspicious messages');
  });

  it('exports one row per labelled message, and nothing else', () => {
    expect(rows.map((r) => `${String(r['path'])}#${String(r['index'])}`).sort()).toEqual(
      messageLabels.map((l) => `${l.path}#${l.index ?? 0}`).sort(),
    );
  });

  it.each(messageLabels.map((l) => [`${l.path}#${l.index ?? 0}`, l] as const))('%s matches its label', (_, label) => {
    const row = rows.find((r) => r['path'] === label.path && r['index'] === (label.index ?? 0))!;
    expect(row['verdict'], String(row['explanation'])).toBe(label.verdict);
    for (const reason of label.reasons ?? []) expect(row['reasons']).toContain(reason);
    expect([...(row['repairs'] as string[])].sort()).toEqual([...(label.repairs ?? [])].sort());
    expect(row['sha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records every non-email file as skipped, with its reason', () => {
    const store = new Database(db, { readonly: true });
    try {
      for (const label of skippedLabels) {
        const file = store.prepare('SELECT status, reason FROM source_files WHERE path = ?').get(label.path) as { status: string; reason: string };
        expect(file, label.path).toBeDefined();
        expect(file.status).toBe('skipped');
        expect(file.reason).toBe(label.reason);
      }
      const messagesFromSkipped = store.prepare(`SELECT count(*) AS n FROM messages m JOIN source_files f ON f.id = m.file_id WHERE f.status = 'skipped'`).get() as { n: number };
      expect(messagesFromSkipped.n).toBe(0);
    } finally {
      store.close();
    }
  });

  it('matches every loose document to the attachments of the emails, with name conflicts flagged', () => {
    const out = runCli(['documents', '--format', 'jsonl', '--db', db]);
    expect(out.status, out.stderr).toBe(0);
    const documents = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; status: string; sha256: string; name_conflicts: unknown[]; matching_messages: Array<{ message: string }> });
    expect(documents.map((d) => d.path).sort()).toEqual(documentLabels.map((l) => l.path).sort());
    for (const label of documentLabels) {
      const doc = documents.find((d) => d.path === label.path)!;
      expect(doc.status, label.path).toBe(label.status);
      expect(doc.name_conflicts.length > 0, label.path).toBe(Boolean(label.nameConflict));
    }
    const proven = documents.find((d) => d.path === 'documents/budget-q1.csv')!;
    expect(proven.matching_messages.map((m) => m.message)).toContain('inbox/2017-02-14 Q1 budget.eml');
    const text = runCli(['documents', '--db', db, '--status', 'no-email-match']).stdout;
    expect(text).toMatch(/a document with this name was sent in a verified email, with different content/);
  });

  it('verifies forwarded messages and emails inside zip archives as messages of their own, linked to their parent', () => {
    const store = new Database(db, { readonly: true });
    try {
      const embedded = store.prepare(`SELECT f.path, f.kind, p.path AS parent, m.parent_message_id IS NOT NULL AS linked FROM source_files f
        JOIN source_files p ON p.id = f.parent_file_id JOIN messages m ON m.file_id = f.id ORDER BY f.path`).all() as Array<{ path: string; kind: string; parent: string; linked: number }>;
      expect(embedded.filter((e) => e.kind === 'embedded').every((e) => e.linked === 1 && e.path.startsWith(`${e.parent}#attachment-`))).toBe(true);
      expect(embedded.filter((e) => e.kind === 'zip-entry').map((e) => e.parent)).toContain('exports/mailbox-export.zip');
    } finally {
      store.close();
    }
  });

  it('records key provenance for every signature that found a key', () => {
    for (const row of rows) {
      for (const sig of row['signatures'] as Array<Record<string, unknown>>) {
        if (sig['key_bits'] === null) continue;
        expect(sig['key_source']).toBe('file');
        expect(sig['key_fingerprint']).toMatch(/^[0-9a-f]{64}$/);
      }
    }
  });

  it('records the run: versions, command line and key file hash', () => {
    const store = new Database(db, { readonly: true });
    try {
      const run = store.prepare('SELECT * FROM runs').get() as Record<string, string>;
      expect(run['status']).toBe('completed');
      expect(run['mailauth_version']).toMatch(/^7\./);
      expect(run['node_version']).toMatch(/^v\d+/);
      // red team 28, H-03: the Public Suffix List decides alignment, and comes with tldts
      const libraries = JSON.parse(run['libraries_json']!) as Record<string, string>;
      expect(Object.keys(libraries)).toEqual(expect.arrayContaining(['tldts', 'libmime', 'mailparser', '@zone-eu/mailsplit', 'yauzl']));
      expect(libraries['tldts']).toMatch(/^\d+\.\d+\.\d+/);
      expect(run['command_line']).toContain('verify');
      const keyFiles = JSON.parse(run['key_files_json']!) as Array<{ sha256: string }>;
      expect(keyFiles[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      store.close();
    }
  });

  it('re-running updates the records instead of duplicating them', () => {
    const again = runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']);
    expect(again.status, again.stderr).toBe(0);
    const store = new Database(db, { readonly: true });
    try {
      const counts = store.prepare('SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM verdicts) AS verdicts, (SELECT count(*) FROM source_files) AS files').get() as Record<string, number>;
      expect(counts['messages']).toBe(messageLabels.length);
      expect(counts['verdicts']).toBe(messageLabels.length);
      // every file, and every message found inside one (path#attachment-N, archive.zip!entry), has its own row
      expect(counts['files']).toBe(new Set(labels.map((l) => l.path)).size);
    } finally {
      store.close();
    }
  });

  it('exports CSV that a standard parser reads back, with formulas neutralised', () => {
    const csv = runCli(['export', '--format', 'csv', '--db', db]);
    expect(csv.status).toBe(0);
    const records = parse(csv.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(records).toHaveLength(messageLabels.length);
    for (const record of records) expect(record['subject'] ?? '').not.toMatch(/^[=+\-@]/);
    const hostile = records.find((r) => (r['subject'] ?? '').includes('HYPERLINK'));
    expect(hostile?.['subject']).toMatch(/^'=HYPERLINK/);
  });

  it('filters exports by verdict', () => {
    const suspicious = runCli(['export', '--format', 'jsonl', '--db', db, '--verdict', 'suspicious']);
    const lines = suspicious.stdout.trim().split('\n').map((l) => JSON.parse(l) as { verdict: string });
    expect(lines.length).toBe(messageLabels.filter((l) => l.verdict === 'suspicious').length);
    expect(lines.every((l) => l.verdict === 'suspicious')).toBe(true);
  });

  it('--fail-on suspicious exits 1; usage errors exit 2', () => {
    const failOn = runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', '--fail-on', 'suspicious']);
    expect(failOn.status).toBe(1);
    expect(runCli(['verify']).status).toBe(2);
    expect(runCli(['export', '--format', 'xml', '--db', db]).status).toBe(2);
    // red team 28, G-08: a folder whose name is not UTF-8 reaches Node with U+FFFD in it, and
    // cannot be opened: the error says why, not that there is no such folder
    const notUtf8 = runCli(['verify', join(ROOT, 'R\ufffdsum\ufffd'), '--offline', '--db', join(ROOT, 'never.db')]);
    expect(notUtf8.status).toBe(2);
    expect(notUtf8.stderr).toContain('is not valid UTF-8');
    expect(notUtf8.stderr).toContain('through a symlink with a UTF-8 name');
  });
});

describe('leakcheck refuses to touch the evidence or a foreign database', () => {
  it('refuses a database inside the dump', () => {
    const result = runCli(['verify', DEMO_DUMP, '--offline', '--db', join(DEMO_DUMP, 'leakcheck.db')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/inside the dump/);
  });

  it('refuses to overwrite a file that is not a leakcheck database', () => {
    const tmp = tempDir();
    try {
      const notDb = join(tmp.path, 'notes.db');
      writeFileSync(notDb, 'these are my notes, not a database');
      const result = runCli(['verify', DEMO_DUMP, '--offline', '--db', notDb]);
      expect(result.status).toBe(3);
      expect(result.stderr).toMatch(/not a SQLite database/);
      expect(readFileSync(notDb, 'utf8')).toBe('these are my notes, not a database');
    } finally {
      tmp.cleanup();
    }
  });
});
