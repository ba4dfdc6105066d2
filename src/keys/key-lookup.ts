import { isListed, type CompromisedList } from './compromised.ts';
import { keysFileLookup, loadKeysFile, type KeysFile } from './keys-file.ts';
import { parseKeyRecord } from './parse-key.ts';
import { normalizeKeyName, type KeyAnswer, type KeyLookup } from './types.ts';

export interface KeyLookupOptions {
  files: KeysFile[];
  /** a previous answer stored in the database, if any */
  cached: (name: string) => KeyAnswer | null;
  /** no network at all: what the files and the cache do not know is "absent" */
  offline: boolean;
  live: (name: string) => Promise<KeyAnswer>;
  /** called with every live answer, so that it is stored before it is used */
  onLiveAnswer: (answer: KeyAnswer) => void;
  /** keys whose private half is public (--compromised) */
  compromised?: CompromisedList | null;
}

/**
 * The run's key lookup: supplied files first, then the database cache, then (unless offline)
 * live DNS. Concurrent questions for the same name share one lookup, so each selector is
 * resolved once per run however many messages name it.
 */
export function createKeyLookup(options: KeyLookupOptions): KeyLookup {
  const fromFiles = keysFileLookup(options.files);
  const answers = new Map<string, Promise<KeyAnswer>>();
  const markCompromised = (answer: KeyAnswer): KeyAnswer => {
    const list = options.compromised ?? null;
    if (!list || answer.status !== 'found') return answer;
    return {
      ...answer,
      records: answer.records.map((r) => (isListed(list, parseKeyRecord(r.txt)) ? { ...r, compromised: `listed in ${list.path}` } : r)),
    };
  };
  const resolve = async (name: string): Promise<KeyAnswer> => markCompromised(await resolveKnown(name));
  const resolveKnown = async (name: string): Promise<KeyAnswer> => {
    const cached = options.cached(name);
    const records = [...fromFiles(name), ...(cached?.status === 'found' ? cached.records : [])];
    if (records.length) return { status: 'found', name, records };
    if (cached?.status === 'absent') return cached;
    if (options.offline) {
      return { status: 'absent', name, detail: 'not in the supplied key files or the key cache (offline: no DNS query was made)' };
    }
    const answer = await options.live(name);
    options.onLiveAnswer(answer);
    return answer;
  };
  return (rawName) => {
    const name = normalizeKeyName(rawName);
    let answer = answers.get(name);
    if (!answer) {
      answer = resolve(name);
      answers.set(name, answer);
    }
    return answer;
  };
}

/**
 * The key lookup of an offline run with one keys file (the fuzzer, the bench's threads, tests):
 * nothing may reach the network, so a live lookup is an error that fails what asked.
 */
export function offlineFileLookup(keysPath: string): KeyLookup {
  return createKeyLookup({
    files: [loadKeysFile(keysPath)],
    cached: () => null,
    offline: true,
    live: () => Promise.reject(new Error('live DNS lookup attempted by an offline run')),
    onLiveAnswer: () => {},
  });
}
