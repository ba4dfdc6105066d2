import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadKeysFile } from '../../src/keys/keys-file.ts';
import { createKeyLookup } from '../../src/keys/key-lookup.ts';
import type { KeyLookup } from '../../src/keys/types.ts';

/** What the pool's tests hand it: a genuine message of the demo dump, and one that never finishes in time. */
export const ROOT = join(import.meta.dirname, '../..');
export const DEMO = join(ROOT, 'fixtures/demo-dump');
export const genuine = readFileSync(join(DEMO, 'inbox/2017-02-14 Q1 budget.eml'));
/**
 * A message whose analysis outlasts any time limit here: its second signature's key comes from a
 * name server that takes 30 s to answer (see slowDns). (It used to be a header of 40,000 folds,
 * which mailauth joined in quadratic time, until that was made linear.)
 */
export const slow = Buffer.concat([Buffer.from('DKIM-Signature: v=1; a=rsa-sha256; d=slow.example; s=slow; h=from; bh=abc; b=abc\r\n', 'latin1'), genuine]);

/** The demo keys, offline. */
export const lookup = createKeyLookup({
  files: [loadKeysFile(join(ROOT, 'fixtures/demo-keys.json'))],
  cached: () => null,
  offline: true,
  live: () => Promise.reject(new Error('offline')),
  onLiveAnswer: () => undefined,
});
/** The key lookup of a run whose DNS answers for slow.example only after 30 s. */
export const slowDns: KeyLookup = (name) =>
  name.toLowerCase().endsWith('._domainkey.slow.example')
    ? new Promise((resolve) => setTimeout(() => resolve({ status: 'absent', name, detail: 'answered after 30 s' }), 30_000).unref())
    : lookup(name);
