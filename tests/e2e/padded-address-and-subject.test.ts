/**
 * Red team 6: padding in a From address's local part cut the signing domain out of `show`
 * and the HTML report, padding in a Subject cut its signed end, and a Subject holding a
 * URL became a link in the Markdown report. Each is checked here through the CLI, on
 * messages signed as the red team signed them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainMessage, rsaKey, SIGN_TIME, signed } from '../unit/support/signing.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { exportRows, verifyOffline } from '../helpers/in-process.ts';

const PADDINGS: Array<[string, string, string]> = [
  ['soft-hyphen', '\u00ad', 'invisible'],
  ['hangul-filler', '\u3164', 'blank'],
];
const SUBJECT_TAIL = 'only after legal review, do NOT send yet';
/** UTF-8 text as the latin1 string of its bytes, which is how the signing helper and the files take it */
const utf8Bytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
/** encoded words of 40 characters at most, folded, as mail programs write a long Subject */
const encodedWords = (text: string): string => {
  const chars = [...text];
  const words: string[] = [];
  for (let i = 0; i < chars.length; i += 40) words.push(`=?utf-8?b?${Buffer.from(chars.slice(i, i + 40).join(''), 'utf8').toString('base64')}?=`);
  return words.join('\r\n ');
};

describe('what the reader is shown of a padded From address and Subject', () => {
  const dir = tempDir('leakcheck-padded-');
  const db = join(dir.path, 'case.db');
  afterAll(() => dir.cleanup());

  beforeAll(async () => {
    const evil = rsaKey(2048);
    const bank = rsaKey(2048);
    mkdirSync(join(dir.path, 'dump'));
    const write = (name: string, content: string): void => writeFileSync(join(dir.path, 'dump', name), content, 'latin1');
    for (const [name, pad] of PADDINGS) {
      const from = utf8Bytes(`CEO <ceo\ufe6bbank.example${pad.repeat(330)}@evil.example>`);
      write(`from-${name}.eml`, await signed(plainMessage({ from, subject: `Wire the 2.4M today (${name})` }), { key: evil, domain: 'evil.example', selector: 'sel1', signTime: SIGN_TIME }));
      const subject = encodedWords(`Transfer 2.4M approved${pad.repeat(300)} ${SUBJECT_TAIL} (${name})`);
      const message = await signed(plainMessage({ from: 'CFO <cfo@bank.example>', subject }), { key: bank, domain: 'bank.example', selector: 'sel1', signTime: SIGN_TIME });
      write(`subject-${name}.eml`, message);
      // the same, altered after signing: suspicious, so listed in the Markdown report
      write(`subject-${name}-altered.eml`, message.replace('as promised', 'as promisED'));
    }
    const link = plainMessage({ from: 'IT Desk www.bank-login.evil.example <it@bank.example>', subject: 'Re-validate at https://bank-login.evil.example/validate?u=cfo' });
    write('link.eml', (await signed(link, { key: bank, domain: 'bank.example', selector: 'sel1', signTime: SIGN_TIME })).replace('as promised', 'as promisED'));
    writeFileSync(join(dir.path, 'keys.json'), JSON.stringify({ 'sel1._domainkey.evil.example': evil.txt, 'sel1._domainkey.bank.example': bank.txt }));
    await verifyOffline(join(dir.path, 'dump'), db, [join(dir.path, 'keys.json')]);
  });

  it('the padded From is verified, for evil.example: the setting of the attack', () => {
    const rows = exportRows<Record<string, unknown>>(db);
    const fromRows = rows.filter((r) => String(r['path']).includes('from-'));
    expect(fromRows.map((r) => [r['verdict'], String(r['from_address']).endsWith('@evil.example')])).toEqual(PADDINGS.map(() => ['verified', true]));
  });

  it('show prints the From domain whole, the padding counted, and a warning naming the domain', () => {
    for (const [name, , kind] of PADDINGS) {
      const shown = runCli(['show', `from-${name}.eml`, '--db', db]).stdout;
      expect(shown, name).toMatch(new RegExp(`^ {2}From {8}CEO <ceo\ufe6bbank\\.example \\[330 ${kind} characters\\] @evil\\.example>$`, 'm'));
      expect(shown, name).toMatch(/^ {2}warning +from-address-disguised: The From address /m);
      expect(shown, name).toMatch(/The\s+message\s+is\s+from\s+the\s+domain\s+evil\.example/);
    }
  });

  it('show prints a padded Subject to its end', () => {
    for (const [name, , kind] of PADDINGS) {
      const shown = runCli(['show', `subject-${name}.eml`, '--db', db]).stdout;
      expect(shown, name).toContain(`  Subject     Transfer 2.4M approved [300 ${kind} characters] ${SUBJECT_TAIL} (${name})\n`);
    }
  });

  it('the HTML table and detail summaries show the From domain and the Subject to its end', () => {
    const html = runCli(['report', '--format', 'html', '--db', db]).stdout;
    for (const [name, , kind] of PADDINGS) {
      const fromRow = html.match(new RegExp(`<tr data-verdict="verified">[^\\n]*?Wire the 2\\.4M today \\(${name}\\)[^\\n]*?</tr>`))?.[0] ?? '';
      expect(fromRow, name).toContain(`[330 ${kind} characters] @evil.example&gt;</td>`);
      const subjectRow = html.match(new RegExp(`<tr data-verdict="verified">[^\\n]*?subject-${name}\\.eml</td></tr>`))?.[0] ?? '';
      expect(subjectRow, name).toContain(`Transfer 2.4M approved [300 ${kind} characters] ${SUBJECT_TAIL} (${name})`);
      const summaries = html.match(/<summary>.*?<\/summary>/g)?.filter((s) => s.includes(`Transfer 2.4M approved [300 ${kind} characters] ${SUBJECT_TAIL} (${name})`)) ?? [];
      expect(summaries, name).toHaveLength(2);
    }
  });

  it('the text report (and verify\'s summary) lists a padded Subject with the padding counted and what follows it in view (red team 8, 07)', () => {
    const text = runCli(['report', '--db', db]).stdout;
    for (const [, , kind] of PADDINGS) expect(text).toMatch(new RegExp(`Transfer 2\\.4M approved \\[300 ${kind} characters\\] only`));
  });

  it('the Markdown report lists a padded Subject to its end, and no message text as a link', () => {
    const md = runCli(['report', '--format', 'md', '--db', db]).stdout;
    for (const [name, , kind] of PADDINGS) {
      // (the Markdown list cuts a Subject at 100 characters: the name of the case may fall off)
      expect(md, name).toContain(`| Transfer 2.4M approved &#91;300 ${kind} characters&#93; ${SUBJECT_TAIL}`);
    }
    expect(md).toContain('Re-validate at https<!-- -->://bank-login.evil.example/validate?u=cfo');
    expect(md).toContain('IT Desk www<!-- -->.bank-login.evil.example &#60;it<!-- -->@bank.example&#62;');
    expect(md).not.toMatch(/https:\/\/bank-login|www\.bank-login|it@bank/);
  });
});
