import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { exportRows, verifyOffline } from '../helpers/in-process.ts';

/*
 * Red team 14, finding 04: three files whose names differ by a no-break space or a trailing
 * blank read as one path in the verify summary, the Markdown and the HTML reports; a tampered
 * copy passed for the path of the verified original. Every output now shows them apart.
 */
describe('paths that differ by a no-break space or a trailing blank, or a file named like a message of an mbox, read apart in every output', () => {
  const tmp = tempDir();
  const dump = join(tmp.path, 'dump');
  const db = join(tmp.path, 'x.db');
  const names = ['Board minutes.eml', 'Board\u00a0minutes.eml', 'Board minutes.eml '];
  let summary = '';
  beforeAll(() => {
    mkdirSync(join(dump, 'inbox'), { recursive: true });
    // a tampered message of the demo dump (suspicious), under each name
    for (const name of names) copyFileSync(join(DEMO_DUMP, 'inbox/2018-11-20 Board minutes.eml'), join(dump, 'inbox', name));
    // finding 08: a file named as message 1 of an mbox beside it (whose message 1 is verified)
    copyFileSync(join(DEMO_DUMP, 'archive/2017.mbox'), join(dump, 'inbox/archive.mbox'));
    copyFileSync(join(DEMO_DUMP, 'inbox/2018-11-20 Board minutes.eml'), join(dump, 'inbox/archive.mbox#1'));
    const verify = runCli(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db]);
    expect(verify.status, verify.stderr).toBe(0);
    summary = verify.stdout;
  });
  afterAll(() => tmp.cleanup());

  const shown = (text: string, forms: string[]): void => {
    for (const form of forms) expect(text, form).toContain(form);
  };

  it('the terminal summary', () => {
    shown(summary, ['! inbox/Board minutes.eml  ', '! inbox/Board\\u00a0minutes.eml  ', '! "inbox/Board minutes.eml "  ', '! "inbox/archive.mbox#1"  ']);
  });

  it('the Markdown report', () => {
    const md = runCli(['report', '--format', 'md', '--db', db]).stdout;
    shown(md, ['| inbox/Board minutes.eml |', '| inbox/Board[U+00A0]minutes.eml |', '| "inbox/Board minutes.eml " |', '| "inbox/archive.mbox#1" |']);
  });

  it('the HTML report', () => {
    const out = join(tmp.path, 'report.html');
    expect(runCli(['report', '--format', 'html', '--db', db, '--out', out]).status).toBe(0);
    const html = readFileSync(out, 'utf8');
    shown(html, ['<td class="f">inbox/Board minutes.eml</td>', '<td class="f">inbox/Board[U+00A0]minutes.eml</td>', '<td class="f">"inbox/Board minutes.eml "</td>']);
    // the mbox's own message 1, and the file that borrows its label, quoted as a file whose name holds a "#"
    shown(html, ['<td class="f">inbox/archive.mbox#1</td>', '<td class="f">"inbox/archive.mbox#1"</td>']);
    expect(html).not.toContain('Board\u00a0minutes');
  });
});

// Red team Z, Z-08: a file of the dump may be named as leakcheck names a message found inside
// another (`x.zip!a.eml`, `f.eml#attachment-1`); the message inside then stepped aside to
// `#derived-2`, and the exports' `path` alone could not tell a script which row was which.
describe('the exports tell a file of the dump from the message inside another that it is named after', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('by `container`: the path of what holds the message, null for a file of the dump', async () => {
    const dump = join(tmp.path, 'dump');
    mkdirSync(join(dump, 'exports/mailbox-export.zip!export'), { recursive: true });
    copyFileSync(join(DEMO_DUMP, 'exports/mailbox-export.zip'), join(dump, 'exports/mailbox-export.zip'));
    // a genuine verified message planted under the name of the archive's suspicious entry
    copyFileSync(join(DEMO_DUMP, '2016-06-01 Offsite logistics.eml'), join(dump, 'exports/mailbox-export.zip!export/2019-05-21 Reimbursement.eml'));
    const db = join(tmp.path, 'x.db');
    await verifyOffline(dump, db, [DEMO_KEYS]);
    const rows = exportRows<{ path: string; verdict: string; container: string | null }>(db);
    const named = rows.filter((r) => r.path.startsWith('exports/mailbox-export.zip!export/2019-05-21 Reimbursement.eml'));
    expect(named.map((r) => [r.path, r.verdict, r.container])).toEqual([
      ['exports/mailbox-export.zip!export/2019-05-21 Reimbursement.eml', 'verified', null],
      ['exports/mailbox-export.zip!export/2019-05-21 Reimbursement.eml#derived-2', 'suspicious', 'exports/mailbox-export.zip'],
    ]);
    const csv = runCli(['export', '--format', 'csv', '--db', db]).stdout;
    expect(csv.split('\r\n')[0]!.endsWith(',container')).toBe(true);
    expect(csv).toMatch(/Reimbursement\.eml#derived-2,.*,exports\/mailbox-export\.zip\r\n/);
  });
});
