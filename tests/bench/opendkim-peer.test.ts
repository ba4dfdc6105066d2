import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateBenchDump } from '../../bench/generate-bench-dump.ts';
import { batchFiles, findOpenDkim, MAX_LIST_BYTES, parseOpenDkimOutput, runOpenDkim } from '../../bench/peers/opendkim.ts';
import { tempDir } from '../helpers/cli.ts';

/** Lines as OpenDKIM 2.11 prints them in test mode. */
const OUTPUT = [
  'opendkim: box-000/000000.eml: verification (s=s2048, d=demo.example, 2048-bit key) succeeded',
  'opendkim: box-000/000001.eml: verification (s=ed1, d=demo.example, 0-bit key) succeeded',
  'opendkim: box-000/000002.eml: verification (s=s2048 d=demo.example, 2048-bit key, unknown) failed: signature verification failed',
  'opendkim: box-000/000003.eml: verification (s=nokey d=demo.example, 2048-bit key, unknown) failed: key not found in DNS',
  'opendkim: box-000/000004.eml: message not signed',
  'opendkim: box-000/000005.eml: verification (s=ed1 d=demo.example, 0-bit key, unknown) failed: signature algorithm invalid',
  '',
].join('\n');

describe('the OpenDKIM peer', () => {
  it('reads one verdict a message from opendkim -t', () => {
    expect(parseOpenDkimOutput(OUTPUT, 6, true)).toEqual({
      messages: 6,
      passes: 2,
      failed: 3,
      unsigned: 1,
      unsupported: 0,
      failures: { 'signature verification failed': 1, 'key not found in DNS': 1, 'signature algorithm invalid': 1 },
      other: 0,
    });
  });

  it('counts an Ed25519 signature as unsupported, not failed, when the build has no ed25519-sha256', () => {
    expect(parseOpenDkimOutput(OUTPUT, 6, false)).toMatchObject({ passes: 2, failed: 2, unsupported: 1 });
  });

  it('keeps every -t list under the kernel limit on one argument, and the batches in order', () => {
    const paths = Array.from({ length: 20_000 }, (_, i) => `box-${String(Math.floor(i / 500)).padStart(3, '0')}/${String(i).padStart(6, '0')}.eml`);
    const batches = batchFiles(paths, paths.map(() => 1000), Number.POSITIVE_INFINITY);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(Buffer.byteLength(batch.join(','))).toBeLessThanOrEqual(MAX_LIST_BYTES);
    expect(batches.flat()).toEqual(paths);
    // and by bytes, so that two lanes share the work
    expect(batchFiles(paths.slice(0, 10), Array(10).fill(500), 1000)).toHaveLength(5);
  });

  const install = findOpenDkim();
  it.skipIf(typeof install === 'string')('verifies a bench dump offline, from the keys file, and fails a tampered message', async () => {
    if (typeof install === 'string') return;
    const tmp = tempDir('leakcheck-opendkim-peer-');
    try {
      const dump = await generateBenchDump(tmp.path, 12);
      const run = await runOpenDkim(install, dump.dir, dump.keysFile, tmp.path, 2);
      expect(run.checked).toMatchObject({ messages: 12, passes: 12, failed: 0, other: 0 });
      expect(run.peakRssMb).toBeGreaterThan(0);

      const box = join(dump.dir, 'box-000');
      const first = join(box, readdirSync(box).sort()[0]!);
      // one byte more at the start of the body breaks every signature's body hash
      writeFileSync(first, readFileSync(first, 'latin1').replace('\r\n\r\n', '\r\n\r\nX'), 'latin1');
      const tampered = await runOpenDkim(install, dump.dir, dump.keysFile, tmp.path, 2);
      expect(tampered.checked).toMatchObject({ messages: 12, passes: 11, failed: 1, failures: { 'signature verification failed': 1 } });
    } finally {
      tmp.cleanup();
    }
  });
});
