import { createHash } from 'node:crypto';
import { analyzeMessage, type MessageAnalysis } from '../analyze/analyze-message.ts';
import type { ContainerKind } from '../discover/types.ts';
import { walkDump } from '../discover/walk.ts';
import type { KeyLookup } from '../keys/types.ts';
import { parseHeaders } from '../read/headers.ts';
import { toCrlf } from '../read/line-endings.ts';
import { readContainer } from '../read/read-container.ts';
import { ReusableBuffer } from '../read/reusable-buffer.ts';
import { postAnalysis } from '../pipeline/posted-analysis.ts';
import { MAX_SIGNATURES_CHECKED } from '../verify/dkim.ts';
import { caseRng, changeSignedByte, mutate, pick, randInt, type Rng } from './mutate.ts';

/** One message to mutate, as read from the seed dump. */
export interface SeedMessage {
  /** `path#index` in the seed dump */
  name: string;
  raw: Buffer;
  format: ContainerKind;
  /** its own verdict, unmutated */
  verdict: string;
}

/** Every message of a dump, read with leakcheck's own readers, with its unmutated verdict. */
export async function loadSeedMessages(dumpRoot: string, lookup: KeyLookup): Promise<SeedMessage[]> {
  const seeds: SeedMessage[] = [];
  for await (const entry of walkDump(dumpRoot)) {
    if (entry.type !== 'container') continue;
    for await (const message of readContainer(entry.file, entry.kind)) {
      const analysis = await analyzeMessage({ raw: message.raw, format: message.format }, lookup);
      seeds.push({
        name: `${entry.file.relPath}#${message.index}`,
        raw: Buffer.from(message.raw),
        format: message.format,
        verdict: analysis.verdict.verdict,
      });
    }
  }
  return seeds;
}

export interface FuzzInput {
  caseIndex: number;
  seedName: string;
  format: ContainerKind;
  bytes: Buffer;
  ops: string[];
  /** set for cases that changed a byte every signature covers, in a message that verified */
  signedChange: { region: 'body' | 'from'; offset: number } | null;
}

const FORMATS: readonly ContainerKind[] = ['eml', 'maildir', 'mbox', 'emlx'];

/** Case `caseIndex` of run `seed`: a pure function of the two and the seed messages. */
export function makeCase(seed: number, caseIndex: number, seeds: readonly SeedMessage[]): FuzzInput {
  const rng: Rng = caseRng(seed, caseIndex);
  const source = pick(rng, seeds);
  const format = rng() < 0.9 ? source.format : pick(rng, FORMATS);
  if (source.verdict === 'verified' && rng() < 0.25) {
    const change = changeSignedByte(source.raw, rng, rng() < 0.7 ? 'body' : 'from');
    if (change) {
      return {
        caseIndex,
        seedName: source.name,
        format,
        bytes: change.bytes,
        ops: [`changeSignedByte(${change.region}@${change.offset})`],
        signedChange: { region: change.region, offset: change.offset },
      };
    }
  }
  // Now and then a mutation of a mutation's splice with another message.
  if (rng() < 0.05) {
    const other = pick(rng, seeds);
    const cut = randInt(rng, source.raw.length + 1);
    const joined = Buffer.concat([source.raw.subarray(0, cut), other.raw.subarray(randInt(rng, other.raw.length + 1))]);
    const { bytes, ops } = mutate(joined, rng);
    return { caseIndex, seedName: `${source.name}+${other.name}`, format, bytes, ops: ['crossSplice', ...ops], signedChange: null };
  }
  const { bytes, ops } = mutate(source.raw, rng);
  return { caseIndex, seedName: source.name, format, bytes, ops, signedChange: null };
}

export interface CaseOutcome {
  caseIndex: number;
  verdict: string | null;
  /** empty when every property held */
  failures: string[];
  ms: number;
}

const VERDICTS = new Set(['verified', 'unverifiable', 'suspicious']);

/** DKIM-Signature fields in the header block, as analyzeMessage would read it (after its leading-junk repair). */
function dkimFieldCount(bytes: Buffer): number {
  let at = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (bytes[at] === 0x0d || bytes[at] === 0x0a) at++;
  const body = at < bytes.length ? bytes.subarray(at) : bytes;
  return parseHeaders(body).fields.filter((f) => f.name === 'dkim-signature').length;
}

/** What must hold for any input, however broken. */
export function checkAnalysis(input: FuzzInput, analysis: MessageAnalysis): string[] {
  const failures: string[] = [];
  const verdict = analysis.verdict;
  if (!VERDICTS.has(verdict.verdict)) failures.push(`verdict ${JSON.stringify(verdict.verdict)} is not one of the three`);
  if (!Array.isArray(verdict.reasons) || verdict.reasons.length === 0) failures.push('verdict has no reason');
  if (typeof verdict.explanation !== 'string' || verdict.explanation.trim() === '') failures.push('verdict has no explanation');
  const sha256 = createHash('sha256').update(input.bytes).digest('hex');
  if (analysis.sha256 !== sha256 || analysis.size !== input.bytes.length) failures.push('sha256/size do not describe the input bytes');
  if (verdict.verdict === 'verified') {
    if (verdict.provenBy.length === 0) failures.push('verified, but no signature is named as the proof');
    for (const index of verdict.provenBy) {
      if (analysis.signatures.find((s) => s.index === index)?.outcome !== 'pass') failures.push(`verified by signature ${index}, which did not pass`);
    }
  }
  // One signature result per DKIM-Signature header, also for those mailauth could not process, up
  // to the cap. Compared only when the CRLF repair does not change what the header block holds.
  const expected = Math.min(dkimFieldCount(input.bytes), MAX_SIGNATURES_CHECKED);
  if (expected === dkimFieldCount(toCrlf(input.bytes)) && analysis.signatures.length !== expected) {
    failures.push(`${expected} DKIM-Signature header(s) but ${analysis.signatures.length} signature result(s)`);
  }
  if (input.signedChange && verdict.verdict === 'verified') {
    failures.push(
      `still verified after changing a signed byte in the ${input.signedChange.region} at offset ${input.signedChange.offset}`,
    );
  }
  return failures;
}

/**
 * The memory an analysis thread reads each message into, reused from case to case: WebAssembly
 * memory, where the fast paths of src/read/line-scan.ts run (the line and blanks scans, the CRLF
 * copy, quoted-printable decoding, the relaxed rewrite, the check for bytes from 0xCC on).
 */
const readBuffer = new ReusableBuffer(undefined, { scannable: true });

/** An analysis as the store would receive it: its JSON, and each forwarded message's part, size and sha256. */
export function asStored(analysis: MessageAnalysis): string {
  const { json, embedded } = postAnalysis(analysis);
  return JSON.stringify([json, embedded.map(({ partIndex, raw, size }) => [partIndex, size, raw && createHash('sha256').update(raw).digest('hex')])]);
}

/**
 * Runs one case; a throw is a failure like any other, never an escape. The message is analysed
 * twice: in memory of its own, and as an analysis thread holds it, in its read buffer, where the
 * two must agree to the byte.
 */
export async function runCase(input: FuzzInput, lookup: KeyLookup): Promise<CaseOutcome> {
  const started = performance.now();
  try {
    const analysis = await analyzeMessage({ raw: input.bytes, format: input.format }, lookup);
    const failures = checkAnalysis(input, analysis);
    const stored = asStored(analysis);
    const held = readBuffer.take(input.bytes.length);
    input.bytes.copy(held);
    if (asStored(await analyzeMessage({ raw: held, format: input.format }, lookup)) !== stored) {
      failures.push("analysed otherwise in a worker's read buffer (WebAssembly memory) than in memory of its own");
    }
    return { caseIndex: input.caseIndex, verdict: analysis.verdict.verdict, failures, ms: performance.now() - started };
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
    return { caseIndex: input.caseIndex, verdict: null, failures: [`threw ${text}`], ms: performance.now() - started };
  }
}
