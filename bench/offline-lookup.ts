import { createKeyLookup } from '../src/keys/key-lookup.ts';
import { loadKeysFile } from '../src/keys/keys-file.ts';
import type { KeyLookup } from '../src/keys/types.ts';

/**
 * The key lookup of a bench thread: the bench's keys file, offline. Each thread resolves its own
 * keys (a handful of records), against a verify's one lookup per run.
 */
export function offlineLookup(keysFile: string): KeyLookup {
  return createKeyLookup({
    files: [loadKeysFile(keysFile)],
    cached: () => null,
    offline: true,
    live: () => Promise.reject(new Error('offline')),
    onLiveAnswer: () => undefined,
  });
}
