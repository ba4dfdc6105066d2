/**
 * The walk against mailsplit's Splitter itself: wherever the walk is sure of a message, the
 * leaves it finds (part numbers and content bytes) must be the ones the Splitter emits. The
 * Splitter is fed in slices of random size, down to single bytes, because its line handling
 * differs where a slice ends (mailparser feeds it 64 KiB slices; a shape whose reading depends
 * on where they end is one the walk must not be sure of).
 */
import { describe, expect, it } from 'vitest';
import { walkMime } from '../../src/attachments/mime-walk.ts';
import { loadMimeLibraries, SPLITTER_OPTIONS } from '../../src/attachments/parser-config.ts';
import type { SplitterChunk, SplitterNode } from '../../src/attachments/parser-config.ts';
import { mangle, randomMessage, seededRandom } from './equivalence-messages.ts';
import type { Random } from './equivalence-messages.ts';

interface Leaf {
  partNr: string;
  content: string;
}

async function splitterLeaves(message: Buffer, sliceSize: () => number): Promise<Leaf[]> {
  const { Splitter } = loadMimeLibraries();
  const splitter = new Splitter({ ...SPLITTER_OPTIONS });
  const leaves: Array<{ node: SplitterNode; chunks: Buffer[] }> = [];
  const byNode = new Map<SplitterNode, Buffer[]>();
  splitter.on('data', (data: SplitterNode | SplitterChunk) => {
    if (data.type === 'node') {
      if (!data.multipart) {
        const chunks: Buffer[] = [];
        leaves.push({ node: data, chunks });
        byNode.set(data, chunks);
      }
    } else if (data.type === 'body') {
      byNode.get(data.node)?.push(Buffer.from(data.value));
    }
  });
  const ended = new Promise<void>((resolve, reject) => {
    splitter.on('end', resolve);
    splitter.on('error', reject);
  });
  for (let pos = 0; pos < message.length; ) {
    const size = sliceSize();
    splitter.write(message.subarray(pos, pos + size));
    pos += size;
  }
  splitter.end();
  await ended;
  return leaves.map(({ node, chunks }) => ({ partNr: JSON.stringify(node.partNr), content: Buffer.concat(chunks).toString('latin1') }));
}

function walkedLeaves(message: Buffer): Leaf[] | null {
  const leaves = walkMime(message, loadMimeLibraries().MimeNode);
  return leaves && leaves.map(({ node, contentStart, contentEnd }) => ({ partNr: JSON.stringify(node.partNr), content: message.toString('latin1', contentStart, contentEnd) }));
}

/** Small messages made of the pieces that matter to line handling: line breaks of both kinds, bare CRs, dashes, empty lines, near-delimiters. */
function structuralMessage(random: Random): Buffer {
  const bits = ['', '\r\n', '\n', '\r', 'x', '--', '-', '--b', '--b--', '--c', ' ', 'x\r', '\r\r\n', '=', 'yy', '--bb'];
  const nl = (): string => (random(3) === 0 ? '\n' : '\r\n');
  const junk = (count: number): string => {
    let text = '';
    for (let k = random(count); k > 0; k--) text += bits[random(bits.length)];
    return text;
  };
  if (random(8) === 0) return Buffer.from(`Content-Type: application/x${nl()}${nl()}${junk(6)}`, 'latin1');
  let text = `Content-Type: multipart/mixed; boundary=b${nl()}${nl()}`;
  if (random(2)) text += `preamble${nl()}`;
  for (let parts = 1 + random(4); parts > 0; parts--) {
    text += `--b${nl()}`;
    if (random(4) === 0) {
      text += `Content-Type: multipart/alternative; boundary=c${nl()}${nl()}`;
      for (let inner = 1 + random(2); inner > 0; inner--) text += `--c${nl()}Content-Type: application/x${nl()}${nl()}${junk(4)}${nl()}`;
      text += `--c--${nl()}${junk(3)}`;
      if (random(2)) text += nl();
    } else {
      text += `Content-Type: application/x${nl()}${nl()}${junk(5)}${nl()}`;
    }
  }
  text += '--b--' + (random(2) ? nl() : '');
  return Buffer.from(text, 'latin1');
}

describe('the walk reads the tree as mailsplit does', () => {
  it('on small structural messages, mailsplit fed 1 to 40 bytes at a time', { timeout: 120_000 }, async () => {
    let sure = 0;
    for (let seed = 1; seed <= 1500; seed++) {
      const random = seededRandom(seed);
      const message = structuralMessage(random);
      const walked = walkedLeaves(message);
      if (!walked) continue;
      sure++;
      for (const largest of [1, 3, 40]) {
        const split = await splitterLeaves(message, () => 1 + random(largest));
        expect(walked, `seed ${seed}, slices up to ${largest}: ${JSON.stringify(message.toString('latin1'))}`).toEqual(split);
      }
    }
    expect(sure).toBeGreaterThan(300);
  });

  it('on generated and mangled messages, mailsplit fed slices of random size', { timeout: 120_000 }, async () => {
    let sure = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const random = seededRandom(seed * 31);
      const generated = randomMessage(random, { crlf: seed % 3 !== 0, big: seed % 30 === 0 });
      const message = seed % 2 === 0 ? mangle(random, generated) : generated;
      const walked = walkedLeaves(message);
      if (!walked) continue;
      sure++;
      const largest = [8, 300, 70_000][seed % 3]!;
      expect(walked, `seed ${seed}`).toEqual(await splitterLeaves(message, () => 1 + random(largest)));
    }
    expect(sure).toBeGreaterThan(150);
  });

  it('is not sure of a part whose body is a single line break', () => {
    const message = Buffer.from('Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/x\r\n\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n', 'latin1');
    expect(walkedLeaves(message)).toBeNull();
  });
});
