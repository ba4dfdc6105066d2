/**
 * An analysis thread reads each message into WebAssembly memory (its read buffer), where the fast
 * paths of src/read/line-scan.ts run: the line and blanks scans, the CRLF copy, quoted-printable
 * decoding, the relaxed rewrite of a body's lines, the check for bytes from 0xCC on. Anywhere
 * else the JavaScript paths do the same work. Every message of the demo dump, of the shared
 * corpus and of the bench's two dumps of ordinary text (format=flowed, quoted-printable), each
 * analysed both ways, must give the same analysis to the byte. (The fuzz run checks the same of
 * every mutated message: src/fuzz/cases.ts.)
 */
import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTextFormDump } from '../../bench/generate-bench-dump.ts';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import type { ContainerKind } from '../../src/discover/types.ts';
import { walkDump } from '../../src/discover/walk.ts';
import { asStored } from '../../src/fuzz/cases.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import type { KeyLookup } from '../../src/keys/types.ts';
import { readContainer } from '../../src/read/read-container.ts';
import { ReusableBuffer } from '../../src/read/reusable-buffer.ts';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';
import { CORPUS, CORPUS_SKIP_NOTE, HAS_CORPUS, corpusFiles, dnsJsonLookup } from '../helpers/corpus.ts';

const readBuffer = new ReusableBuffer(undefined, { scannable: true });

/** Where the two analyses of `raw` differ: null when they are the same to the byte. */
async function differenceInReadBuffer(raw: Buffer, format: ContainerKind, lookup: KeyLookup): Promise<string | null> {
  const own = asStored(await analyzeMessage({ raw: Buffer.from(raw), format }, lookup));
  const held = readBuffer.take(raw.length);
  raw.copy(held);
  expect(readBuffer.holds(held)).toBe(true);
  const asRead = asStored(await analyzeMessage({ raw: held, format }, lookup));
  return own === asRead ? null : `${own.slice(0, 400)}\n  against\n${asRead.slice(0, 400)}`;
}

async function dumpMessages(root: string): Promise<Array<{ name: string; raw: Buffer; format: ContainerKind }>> {
  const messages: Array<{ name: string; raw: Buffer; format: ContainerKind }> = [];
  for await (const entry of walkDump(root)) {
    if (entry.type !== 'container') continue;
    for await (const message of readContainer(entry.file, entry.kind)) messages.push({ name: `${entry.file.relPath}#${message.index}`, raw: Buffer.from(message.raw), format: message.format });
  }
  return messages;
}

describe('a message analysed in a worker\'s read buffer (WebAssembly memory)', () => {
  const tmp = tempDir('leakcheck-read-buffer-');
  afterAll(() => tmp.cleanup());

  it('is analysed as in memory of its own, every message of the demo dump', async () => {
    const lookup = offlineFileLookup(DEMO_KEYS);
    const messages = await dumpMessages(DEMO_DUMP);
    expect(messages.length).toBeGreaterThan(20);
    for (const { name, raw, format } of messages) expect(await differenceInReadBuffer(raw, format, lookup), name).toBeNull();
  });

  it('is analysed as in memory of its own, 40 format=flowed and 40 quoted-printable messages of the bench', async () => {
    for (const form of ['flowed', 'quoted-printable'] as const) {
      const dump = await generateTextFormDump(tmp.path, form, 40);
      const lookup = offlineFileLookup(dump.keysFile);
      const messages = await dumpMessages(dump.dir);
      expect(messages.length).toBe(40);
      for (const { name, raw, format } of messages) expect(await differenceInReadBuffer(raw, format, lookup), `${form} ${name}`).toBeNull();
    }
  }, 60_000);

  it('is analysed as in memory of its own, text with characters composing changes, stored as it is and encoded', async () => {
    const lookup = offlineFileLookup(DEMO_KEYS);
    const texts = ['caf\u00e9 e\u0301t\u00e9 A\u030a \u212b', 'plain ascii  with  runs\t\r\n', '\u0418\u0432\u0430\u043d e\u0327\u0301 \u00ff'];
    for (const text of texts) {
      for (const encoding of ['8bit', 'quoted-printable', 'base64']) {
        const utf8 = Buffer.from(`${text}\r\n`.repeat(40), 'utf8');
        const body =
          encoding === 'base64'
            ? utf8.toString('base64').replace(/.{76}/g, '$&\r\n')
            : encoding === 'quoted-printable'
              ? [...utf8].map((b) => (b > 0x7e || b === 0x3d ? `=${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b))).join('').replace(/(.{70})/g, '$1=\r\n')
              : utf8.toString('latin1');
        const raw = Buffer.from(
          `From: a@example.com\r\nTo: b@example.com\r\nSubject: t\r\nDate: Mon, 14 Mar 2016 09:26:50 +0000\r\nMessage-ID: <t@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n${body}\r\n`,
          'latin1',
        );
        expect(await differenceInReadBuffer(raw, 'eml', lookup), `${encoding} ${JSON.stringify(text)}`).toBeNull();
      }
    }
  });

  it.skipIf(!HAS_CORPUS)(`is analysed as in memory of its own, every file of the shared corpus${CORPUS_SKIP_NOTE}`, async () => {
    const lookups = new Map<string, KeyLookup>();
    const files = corpusFiles((name) => !name.endsWith('.json') && !name.endsWith('.md'));
    expect(files.length).toBeGreaterThan(300);
    for (const file of files) {
      const set = relative(CORPUS, file).split(sep)[0]!;
      let lookup = lookups.get(set);
      if (!lookup) {
        try {
          lookup = dnsJsonLookup(set);
        } catch {
          lookup = offlineFileLookup(DEMO_KEYS);
        }
        lookups.set(set, lookup);
      }
      expect(await differenceInReadBuffer(readFileSync(file), 'eml', lookup), relative(CORPUS, file)).toBeNull();
    }
  }, 120_000);
});
