import type { ReadTarget } from '../discover/open-evidence.ts';
import type { ContainerKind } from '../discover/types.ts';
import { doubledCrs, plainView, toCrlfWithout } from '../read/line-endings.ts';
import { quotedFromLineStarts } from '../read/mbox-quoting.ts';
import { dotStuffedLineStarts, withoutTransferEnd } from '../read/smtp-transfer.ts';

/** A transformation undone before verifying. Recorded, because a verdict that needed one says so. */
export type Repair =
  | 'crlf'
  | 'mboxrd-unquote'
  | 'mbox-unquote-some'
  | 'strip-leading-bytes'
  | 'strip-trailing-padding'
  | 'crcrlf'
  | 'smtp-end-dot'
  | 'smtp-dot-unstuff'
  | 'gateway-subject-tag';

/** One form in which a stored message may match what was signed. */
export interface RepairVariant {
  bytes: Buffer;
  repairs: Repair[];
  /** for `mbox-unquote-some`: the 1-based lines, as found, whose `>` was removed, and those left quoted */
  quoting?: { unquotedLines: number[]; keptLines: number[] };
  /**
   * gives back the memory of `bytes` when they are a copy made for this form alone (see
   * RepairMemory.release): `bytes` is then empty until `restore`. Calling it again does nothing.
   */
  release?: () => void;
  /** makes `bytes` again after `release`, in a copy of their own (see FormsKept, analyzeForms) */
  restore?: () => void;
  /** whether `bytes` were given back and not yet made again */
  readonly released?: boolean;
}

/**
 * The most `>From ` lines whose quoting is tried line by line (every subset: 2^n − 2 more
 * verifications, only for a message whose signature failed under both the all and the none
 * reading). Four lines is 14 more tries; a message with more stays as the two readings judge it.
 */
export const MAX_LINES_TRIED_ONE_BY_ONE = 4;

/**
 * The forms in which a stored message may match what was signed, in the order they are tried;
 * the caller stops at the first one under which no signature fails, so later forms are built
 * only when needed (it goes on for the ARC chain alone when that fails: see arcOverForms).
 *
 * `>From ` quoting: mbox writers quote body lines that begin with "From ". In an mbox, undoing
 * it on every line comes first, because that is what mboxrd writers did; the form as found
 * follows, for mboxo files, where a `>From ` line may be the author's own. Any other file (an
 * .eml, a Maildir file) is tried as found first, then unquoted: tools that cut messages out of an
 * mbox often leave the quoting in. An mboxo message can hold both kinds of line, a `From ` line the
 * writer quoted and a `>From ` line of the author's; for up to MAX_LINES_TRIED_ONE_BY_ONE quoted
 * lines, each mix is tried. Every form differs from the message as found only by a `>` at the
 * start of those lines, which is what the reader sees either way.
 *
 * The copies with CRLF restored are made in `memory` when it is given (see repair-memory.ts).
 */
export function* repairVariants(raw: Buffer, format: ContainerKind, memory?: FormMemory): Generator<RepairVariant> {
  // A byte-order mark or blank lines before the first header are storage artefacts (editors,
  // export tools); left in place they would hide the first header from the verifier.
  const lead = leadingJunk(raw);
  let base: Base = lead ? { bytes: raw.subarray(lead), repairs: ['strip-leading-bytes'] } : { bytes: raw, repairs: [] };
  let quoted = yield* quotingForms({ ...base, drops: [] }, format, memory);
  // Damage done by how the file was kept rather than by what was sent; undone only once the
  // message as found has failed (a signer may have signed those bytes), and under the other
  // repairs too, which a damaged copy needs as much as an intact one.
  const restored = storageRestored(base);
  if (restored) {
    base = restored;
    quoted = yield* quotingForms({ ...base, drops: [] }, format, memory);
  }
  // A form of its own, after the one with its dots as found: a genuine line beginning ".." (an
  // ellipsis) may stand in a message that failed for another reason, or that a capture left
  // unstuffed but ended with the "." line. Its forms are each copied from the base with the dots
  // taken out, never from a copy without them, which would be one more copy of the message alive
  // beside them (red team BB, BB-04).
  const stuffed = dotStuffedLineStarts(base.bytes, base.repairs.includes('smtp-end-dot'));
  if (stuffed) yield* quotingForms({ ...base, drops: stuffed, repairs: [...base.repairs, 'smtp-dot-unstuff'] }, format, memory);
  const tag = gatewaySubjectTagAt(base.bytes, base.crs);
  if (tag) yield formOf({ ...base, drops: tag, repairs: [...base.repairs, 'gateway-subject-tag'] }, memory);
  if (quoted.length < 2 || quoted.length > MAX_LINES_TRIED_ONE_BY_ONE) return;
  const linesBefore = lineNumbersAt(raw, [lead])[0]! - 1;
  const lines = lineNumbersAt(base.bytes, quoted).map((line) => line + linesBefore);
  for (let mask = 1; mask < (1 << quoted.length) - 1; mask++) {
    const chosen = quoted.filter((_, i) => mask & (1 << i));
    const form = formOf({ ...base, drops: chosen, repairs: [...base.repairs, 'mbox-unquote-some'] }, memory);
    form.quoting = {
      unquotedLines: lines.filter((_, i) => mask & (1 << i)),
      keptLines: lines.filter((_, i) => !(mask & (1 << i))),
    };
    yield form;
  }
}

/** What the forms are made from: the message as stored, and the repairs of how it was stored. */
interface Base {
  bytes: Buffer;
  repairs: Repair[];
  /**
   * the CR taken out of each CR CR LF line end (`crcrlf`; doubledCrs), ascending: taken out of
   * every form with the rest, and kept apart from `drops` because no reading of where a line
   * starts needs them (a 50 MB message has some 700,000)
   */
  crs?: readonly number[];
}

/** A form described, not yet made: `bytes` with the byte at each of `drops` (ascending) taken out, and at each of `crs`. */
interface FormPlan extends Base {
  drops: readonly number[];
}

/**
 * `base` as it is and with its `>From ` quoting undone, in the order the container calls for;
 * returns where the quoted lines start.
 */
function* quotingForms(base: FormPlan, format: ContainerKind, memory: FormMemory | undefined): Generator<RepairVariant, number[]> {
  const unquoted = (starts: number[]): RepairVariant => formOf({ ...base, drops: mergeAscending(base.drops, starts), repairs: [...base.repairs, 'mboxrd-unquote'] }, memory);
  if (format === 'mbox') {
    const quoted = quotedFromLineStarts(base.bytes, base.drops);
    if (quoted.length) yield unquoted(quoted);
    yield formOf(base, memory);
    return quoted;
  }
  yield formOf(base, memory);
  // Looked for only once the message as found has failed: it is a pass over every byte.
  const quoted = quotedFromLineStarts(base.bytes, base.drops);
  if (quoted.length) yield unquoted(quoted);
  return quoted;
}

/**
 * `form` with what storing it added undone, or null when it shows none of these marks: NUL bytes
 * or a DOS end-of-file byte (0x1A) closing the file (disk images, files recovered by carving tools
 * padded to a block, C-string and DOS writers), which no mail program shows; a CR doubled before
 * every LF (see doubledCrs; the CRs are taken out as each form is made, see Base); the line
 * holding only "." that ends an SMTP or POP3 transfer (see smtp-transfer.ts). Only those bytes
 * go: whatever a reader sees stays.
 */
function storageRestored(form: Base): Base | null {
  let { bytes } = form;
  const repairs = [...form.repairs];
  const end = endBeforePadding(bytes);
  if (end < bytes.length) {
    bytes = bytes.subarray(0, end);
    repairs.push('strip-trailing-padding');
  }
  let crs = doubledCrs(bytes);
  if (crs) repairs.push('crcrlf');
  const ended = withoutTransferEnd(bytes, crs !== null);
  if (ended) {
    bytes = ended;
    // (the line end before the "." stays, and its CR with it)
    if (crs) crs = crs.filter((at) => at < ended.length);
    repairs.push('smtp-end-dot');
  }
  if (bytes === form.bytes && !crs) return null;
  return crs ? { bytes, repairs, crs } : { bytes, repairs };
}

/**
 * Where the run of NUL and 0x1A bytes that ends the file begins. Padding follows the last line
 * whether or not that line had its line end (many messages lack the last one), so the run is
 * taken from there; a file of nothing else keeps it.
 */
function endBeforePadding(bytes: Buffer): number {
  let at = bytes.length;
  while (at > 0 && (bytes[at - 1] === 0x00 || bytes[at - 1] === 0x1a)) at--;
  return at > 0 ? at : bytes.length;
}

/**
 * The tag a recipient's mail gateway puts before the Subject of mail from outside the
 * organisation (Microsoft 365, Proofpoint, Mimecast and others: "[EXTERNAL]", "[EXT]",
 * "EXTERNAL:", "*EXTERNAL*", "[CAUTION]"), with the blanks after it. It breaks the author's
 * signature over Subject, and most external mail of a corporate mailbox from about 2018 on has
 * it: every such message read as forged (red team 27, E-03).
 */
export const GATEWAY_SUBJECT_TAG = /^[ \t]*(?:\[(?:EXT|EXTERNAL(?:[ _-](?:EMAIL|MAIL|SENDER|MESSAGE))?|CAUTION)\]|\*EXTERNAL\*|\(EXTERNAL\)|EXTERNAL:|CAUTION:)[ \t]*/i;
const SUBJECT_LINE = /(?:^|\r?\n)subject[ \t]*:/gi;

/**
 * Where the gateway's tag lies in the one Subject field, as the offsets of its bytes and of the
 * blanks after it (null when there is no such tag, or more than one Subject: which one a
 * signature covers is the header checks' question). Everything else stays as found: the
 * signature must verify over all the rest.
 */
function gatewaySubjectTagAt(raw: Buffer, crs: readonly number[] | undefined): number[] | null {
  // (with `crs`, every line ends CR CR LF, and the header as it reads with one CR of each taken out)
  const ends = (crs ? [raw.indexOf('\r\r\n\r\r\n')] : [raw.indexOf('\n\n'), raw.indexOf('\r\n\r\n')]).filter((i) => i >= 0);
  const head = raw.toString('latin1', 0, Math.min(ends.length ? Math.min(...ends) : raw.length, reachAfterDrops(256 * 1024, crs ?? [])));
  const subjects = [...head.matchAll(SUBJECT_LINE)];
  if (subjects.length !== 1) return null;
  const valueStart = subjects[0]!.index! + subjects[0]![0].length;
  const tag = GATEWAY_SUBJECT_TAG.exec(head.slice(valueStart, valueStart + 200));
  if (!tag) return null;
  // one space stays where the value began, as the field had before the tag was put in
  const keep = head[valueStart] === ' ' ? 1 : 0;
  return Array.from({ length: tag[0].length - keep }, (_, i) => valueStart + keep + i);
}

/** Memory the forms are made in, which can take back a form's copy before the analysis ends (RepairMemory). */
type FormMemory = ReadTarget & { release?: (bytes: Uint8Array) => void };
type ReleasingMemory = Required<FormMemory>;

/**
 * The form `plan` describes, its bare LFs made CRLF (DKIM is defined over CRLF), in one copy made
 * for it alone, which can be given back once the form has lost, or while others are tried, and
 * made again; the bytes themselves when nothing needs taking out or restoring.
 */
function formOf(plan: FormPlan, memory: FormMemory | undefined): RepairVariant {
  const drops = allDrops(plan);
  const bytes = toCrlfWithout(plan.bytes, drops, memory, plan.crs !== undefined);
  const crlf = bytes.length !== plan.bytes.length - drops.length;
  const repairs = crlf ? [...plan.repairs, 'crlf' as const] : plan.repairs;
  if (bytes === plan.bytes || !memory?.release) return { bytes, repairs };
  return new CopiedForm(bytes, repairs, plan, memory as ReleasingMemory);
}

const RELEASED = Buffer.alloc(0);

/** A form in a copy of its own. */
class CopiedForm implements RepairVariant {
  bytes: Buffer;
  readonly repairs: Repair[];
  quoting?: RepairVariant['quoting'];
  readonly #plan: FormPlan;
  readonly #memory: ReleasingMemory;

  constructor(bytes: Buffer, repairs: Repair[], plan: FormPlan, memory: ReleasingMemory) {
    this.bytes = bytes;
    this.repairs = repairs;
    this.#plan = plan;
    this.#memory = memory;
  }

  get released(): boolean {
    return this.bytes === RELEASED;
  }

  // (arrow functions: callers pass them on unbound)
  release = (): void => {
    // once only: the memory may hold another form by the time of a second call
    if (this.released) return;
    this.#memory.release(this.bytes);
    this.bytes = RELEASED;
  };

  restore = (): void => {
    if (this.released) this.bytes = toCrlfWithout(this.#plan.bytes, allDrops(this.#plan), this.#memory, this.#plan.crs !== undefined);
  };
}

/** Every byte a form takes out. */
const allDrops = (plan: FormPlan): readonly number[] => (plan.crs ? mergeAscending(plan.drops, plan.crs) : plan.drops);

/** The offsets of both lists, ascending (each is ascending, and they share none), in one pass. */
function mergeAscending(a: readonly number[], b: readonly number[]): readonly number[] {
  if (!a.length) return b;
  if (!b.length) return a;
  const out = new Array<number>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! < b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** The offset in the bytes that `length` bytes reach once those at `drops` (ascending) are taken out. */
function reachAfterDrops(length: number, drops: readonly number[]): number {
  let reach = length;
  for (const at of drops) {
    if (at >= reach) break;
    reach++;
  }
  return reach;
}

function leadingJunk(raw: Buffer): number {
  let at = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0;
  while (raw[at] === 0x0d || raw[at] === 0x0a) at++;
  return at < raw.length ? at : 0;
}

/** The 1-based line number of each offset (ascending), counting LFs before it. */
function lineNumbersAt(buffer: Buffer, offsets: number[]): number[] {
  const raw = plainView(buffer);
  let line = 1;
  let from = 0;
  return offsets.map((offset) => {
    for (let lf = raw.indexOf(0x0a, from); lf !== -1 && lf < offset; lf = raw.indexOf(0x0a, lf + 1)) {
      line += 1;
      from = lf + 1;
    }
    return line;
  });
}
