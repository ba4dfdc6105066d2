// before mailauth: see joi-stand-in.ts and mailauth-patches.ts
import './joi-stand-in.ts';
import './mailauth-patches.ts';
import { createRequire } from 'node:module';
import type { DKIMVerifyOptions, DKIMVerifyResult } from 'mailauth';

/**
 * mailauth's `dkimVerify` without the stream around its verifier.
 *
 * `dkimVerify` writes the message into a DkimVerifier, a node:stream Writable, and waits for its
 * 'finish' event. The verifier does its work in two methods the Writable calls: `writeAsync`
 * for each chunk written (from `_write`), one after the other, and `finish` once at the end
 * (from `_final`). This calls the same two methods, in the same order, on the same chunks, and
 * builds the result object as `dkimVerify` does (lib/dkim/verify.js, mailauth 7.1.0): what the
 * Writable adds around them (its buffering of writes, the callbacks, 'finish' a tick later) is
 * only scheduling. The stream cost about 3 % of the analysis threads' CPU: the mailbox of 20,000
 * took 9.3–10.1 s of CPU in the analysis alone without it against 9.7–10.4 s with it, paired
 * (forty-seventh round, docs/performance.md).
 *
 * An error thrown by the verifier rejects here as it rejects `dkimVerify` (there through the
 * stream's 'error' event). tests/verify/mailauth-direct.test.ts compares the two, hidden
 * properties included, on every message of the shared corpus and on crafted inputs; should a
 * mailauth update change what `dkimVerify` builds, that test fails.
 */
export async function dkimVerifyDirect(chunks: readonly Buffer[], options: DKIMVerifyOptions): Promise<DKIMVerifyResult> {
  const verifier = new DkimVerifier(options);
  try {
    // (an empty chunk changes nothing: writeAsync returns at once for one)
    for (const chunk of chunks) await verifier.writeAsync(chunk);
    await verifier.finish();
    const result = {
      headerFrom: verifier.headerFrom,
      fromFields: verifier.fromFields,
      envelopeFrom: verifier.envelopeFrom,
      results: verifier.results,
    };
    for (const hidden of ['headers', 'arc', 'seal'] as const) {
      if (verifier[hidden]) Object.defineProperty(result, hidden, { enumerable: false, configurable: false, writable: false, value: verifier[hidden] });
    }
    return result as unknown as DKIMVerifyResult;
  } finally {
    releaseVerifier(verifier);
  }
}

/**
 * Lets go of everything a spent verifier holds, so that what a closure keeps of it is an empty
 * object. Node's Writable constructor gives every stream a write callback,
 * `this.onwrite = (er) => onwrite(stream, er)` (lib/internal/streams/writable.js), and V8
 * allocates a function assigned to a property in the old generation (its parser takes such an
 * assignment for a method defined once, and pretenures it). That closure lives until the next
 * full collection, and its scope holds the stream: the verifier, and through it the message's
 * header fields, parsed signatures, results, key cache and the resolver with its whole
 * verification, survived every young-generation collection and were promoted, about 10 KB a
 * message. In a loop over small mail that was 105 MB promoted in 10,000 messages, and 14 full
 * collections where 2 now suffice (forty-eighth round, docs/performance.md). The result built
 * from the verifier keeps its own references to what it returns; nothing uses the verifier after.
 */
function releaseVerifier(verifier: DkimVerifierInstance): void {
  for (const key of Reflect.ownKeys(verifier)) Reflect.set(verifier, key, undefined);
}

/** What of mailauth's DkimVerifier (lib/dkim/dkim-verifier.js, no type definitions) is used here. */
interface DkimVerifierInstance {
  writeAsync(chunk: Buffer): Promise<void>;
  finish(): Promise<void>;
  headerFrom: unknown;
  fromFields: unknown;
  envelopeFrom: unknown;
  results: unknown;
  headers?: unknown;
  arc?: unknown;
  seal?: unknown;
}

const { DkimVerifier } = createRequire(import.meta.url)('mailauth/lib/dkim/dkim-verifier.js') as {
  DkimVerifier: new (options: DKIMVerifyOptions) => DkimVerifierInstance;
};
