import { DEFAULT_MAX_KEPT, releaseNow } from './reusable-buffer.ts';
import { ReadError, type RawMessage } from './types.ts';

/*
 * Cuts an mbox, arriving as chunks of any size, into messages. A separator is a line that begins
 * with exactly "From " (">From " is quoted body text) and either carries a date or is followed by
 * a header line (see isSeparatorLine); the first line of the file must be one, after at most a
 * UTF-8 BOM and blank lines, which editors add and sniffContainer accepts too. Separators need
 * not follow a blank line: many real writers omit it.
 *
 * Lines end in LF (or CRLF), or, in a file whose first separator line ends in a CR alone, in CR:
 * classic Mac OS mail programs (Eudora, Mac OS 9 and before) wrote mailboxes so. Cut at LF, such
 * a file would be one "line", and its messages would vanish into one empty message.
 *
 * Two ways out: splitMbox yields each message's bytes; splitMboxRanges yields only where each
 * message lies in the file, for a reader that reads the bytes itself (the worker threads do).
 *
 * Memory, ranges: one buffer, reused, holding the chunk being scanned and the unfinished line
 * before it. Nothing of a message is kept, so a 2 GB mbox is scanned in the same few MB, with no
 * fresh memory per chunk for the garbage collector to find. Chunks are copied into it on arrival,
 * since a source may reuse its buffers.
 *
 * Memory, bytes: the same, and a second buffer, reused, into which the current message's bytes
 * are copied as they are scanned; the message yielded is a copy of that, in memory of its own or
 * in the caller's (options.memory). (Each chunk used to be joined to the unscanned rest in fresh
 * memory, the message held as views of those: a 1 GB mbox inside a zip then took fresh memory
 * for every byte twice over, and larger chunks, which inflate faster, cost 10-20 MB more.)
 */

const LF = 0x0a;
const CR = 0x0d;
const SEPARATOR = Buffer.from('From ');
const NEWLINE_SEPARATOR = Buffer.from('\nFrom ');
const CR_SEPARATOR = Buffer.from('\rFrom ');
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** Envelope lines are short; a longer one is kept truncated rather than grown without bound. */
const MAX_ENVELOPE_BYTES = 4096;
/** How much of the line after a "From " line is looked at, to see whether it is a header. */
const LOOKAHEAD_BYTES = 256;
/** "From sender date": a time and a four-digit year somewhere after the sender, as mutt asks. */
const ENVELOPE_WITH_DATE = /^From \S*[ \t]+.*\b\d{1,2}:\d{2}\b.*\b\d{4}\b/;
const OBSOLETE_FROM_HEADER = /^From[ \t]*:/;
/**
 * A header field that begins a message as mail programs and servers store it: the envelope and
 * trace fields, the originator fields, MIME's, and the X- fields of mail programs (X-Mozilla-Status,
 * X-Gmail-Labels, X-UID). A body line after a "From " line rarely is one; "Note:", "PS:" and
 * "https:" are.
 */
const MESSAGE_FIELD =
  /^(?:received|return-path|delivered-to|envelope-to|message-id|date|from|sender|reply-to|to|cc|bcc|subject|in-reply-to|references|mime-version|content-type|content-transfer-encoding|status|dkim-signature|arc-[a-z-]+|authentication-results|x-[\x21-\x39\x3b-\x7e]+)[ \t]*:/i;
/** How far into a message its header block is looked for a Content-Length (mboxcl), and how far ahead a length may point. */
const MAX_LENGTH_HEADER_BYTES = 64 * 1024;
const MAX_LENGTH_LOOKAHEAD = 16 * 1024 * 1024;
const CONTENT_LENGTH = /^content-length:[ \t]*(\d{1,12})[ \t]*\r?$/im;
const LF_BLANK_LINE = Buffer.from('\n\n');
const CRLF_BLANK_LINE = Buffer.from('\n\r\n');
const CR_BLANK_LINE = Buffer.from('\r\r');

/**
 * Whether a line begins as an mbox separator can: "From ", but not "From :", an obsolete-syntax
 * From header. The sniff judges a file's first line by it, the splitter every later one.
 */
export const startsLikeSeparator = (line: string): boolean => line.startsWith('From ') && !OBSOLETE_FROM_HEADER.test(line);

export interface SplitMboxOptions {
  /** a message larger than this is skipped, and reported by a ReadError after the last message */
  maxMessageBytes?: number;
  /** where the split records each Content-Length that would have held, and that separators inside its body overruled */
  overruled?: OverruledLengths;
  /**
   * Where splitMbox assembles each message: memory the caller reuses (the analysis pool's
   * MessageRing), or null to take fresh memory of its own for it.
   */
  memory?: { take(size: number): Buffer | null } | null;
}

/**
 * A message's Content-Length that lands on a later separator, as mboxcl's do, but whose body
 * holds separator lines with a date and a header line after them: the splitter cut there, and
 * the messages it would have made part of that body were read as messages of their own (red
 * team G-01).
 */
export interface OverruledLength {
  /** the message whose header declares the length */
  index: number;
  /** the file offset where the body it declares ends */
  declaredEnd: number;
  /** the separator lines inside that body: one per message begun there */
  separators: number;
  /** the first and last messages begun inside that body */
  firstMessage: number;
  lastMessage: number;
}

/** The reason on the row of an mbox whose Content-Length was overruled, read whole. */
export const LENGTH_OVERRULED = 'content-length-overruled';

/** How many overruled lengths a note names; the rest are counted. */
const OVERRULED_NAMED = 5;

/**
 * The lengths a split overruled, gathered for the note on the mbox's row: an analyst must be
 * able to see that the file declared some of its messages to be another's body, and that
 * leakcheck did not follow it. Bounded in memory and in time per cut, whatever the number of
 * messages: a length per message, each reaching the same far separator, would otherwise have
 * every cut counted for every length before it.
 */
export class OverruledLengths {
  readonly #named: OverruledLength[] = [];
  #lengths = 0;
  #separators = 0;
  /** the farthest end a length overruled so far declares: a cut before it lies in an overruled body */
  #coveredTo = 0;

  /** the lengths overruled */
  get lengths(): number {
    return this.#lengths;
  }

  /** the separator lines at which they were, each counted once however many bodies it lies in */
  get separators(): number {
    return this.#separators;
  }

  /** the first few of them, each with the cuts inside its own body */
  get named(): readonly OverruledLength[] {
    return this.#named;
  }

  /**
   * A cut at file offset `at`, where message `message` begins; `overruling`, when the message
   * it ends declares a length that would have held, and ran on past this cut.
   */
  cut(at: number, message: number, overruling: { index: number; declaredEnd: number } | null): void {
    for (const o of this.#named) {
      if (at < o.declaredEnd) {
        o.separators++;
        o.lastMessage = message;
      }
    }
    if (overruling !== null || at < this.#coveredTo) this.#separators++;
    if (overruling === null) return;
    this.#lengths++;
    this.#coveredTo = Math.max(this.#coveredTo, overruling.declaredEnd);
    if (this.#named.length < OVERRULED_NAMED) this.#named.push({ ...overruling, separators: 1, firstMessage: message, lastMessage: message });
  }

  /** "Content-Length overruled at 1 separator line …", or null when none was. */
  note(): string | null {
    if (this.#lengths === 0) return null;
    const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
    const messages = (o: OverruledLength): string => (o.firstMessage === o.lastMessage ? `message ${o.firstMessage}` : `messages ${o.firstMessage}-${o.lastMessage}`);
    const named = this.#named.map((o) => `message ${o.index}'s declares a body up to byte ${o.declaredEnd}, which would have held ${messages(o)}`);
    const more = this.#lengths - this.#named.length;
    return (
      `Content-Length overruled at ${plural(this.#separators, 'separator line')} (a "From " line with a date, above a header line), ` +
      `where the messages were cut and read on their own: ${named.join('; ')}${more > 0 ? `; and ${plural(more, 'more length')}` : ''}`
    );
  }
}

/**
 * Where one message of an mbox lies: `size` bytes from `offset`, the byte after its separator
 * line, up to the next separator. The message is those bytes less the framing blank line (see
 * messageFromRange).
 */
export interface MboxRange {
  index: number;
  offset: number;
  size: number;
  /** the `From ` separator line, without its line ending */
  envelope: string;
  /** set when the mbox's lines end in CR alone (see the top of this file) */
  lineEnding?: 'cr';
}

interface PendingMessage extends MboxRange {
  /** the message's bytes, when they are kept: valid until the splitter goes on */
  bytes: Buffer | null;
  /** over maxMessageBytes: its bytes are dropped, only its size is still counted */
  dropped: boolean;
}

/**
 * The blank line a writer puts before the next separator belongs to the framing, not to the
 * message. Also applied to the last message (writers end the file the same way); DKIM body
 * canonicalization ignores trailing empty lines, so this never changes a verification.
 */
function withoutFramingBlankLine(raw: Buffer, crOnly: boolean): Buffer {
  const n = raw.length;
  if (crOnly) return n >= 2 && raw[n - 2] === CR && raw[n - 1] === CR ? raw.subarray(0, n - 1) : raw;
  if (n >= 4 && raw[n - 4] === CR && raw[n - 3] === LF && raw[n - 2] === CR && raw[n - 1] === LF) {
    return raw.subarray(0, n - 2);
  }
  if (n >= 2 && raw[n - 2] === LF && raw[n - 1] === LF) return raw.subarray(0, n - 1);
  return raw;
}

/** The message of a range, from the `range.size` bytes found at `range.offset`. */
export function messageFromRange(range: MboxRange, bytes: Buffer): RawMessage {
  return { index: range.index, offset: range.offset, raw: withoutFramingBlankLine(bytes, range.lineEnding === 'cr'), format: 'mbox', envelope: range.envelope };
}

function assemble(message: PendingMessage, memory: SplitMboxOptions['memory']): RawMessage {
  // (every byte is written below: no need to zero it first)
  const raw = memory?.take(message.size) ?? Buffer.allocUnsafeSlow(message.size);
  message.bytes!.copy(raw);
  return messageFromRange(message, raw);
}

function startsWithAt(buffer: Buffer, at: number, prefix: Buffer): boolean {
  return buffer.length - at >= prefix.length && buffer.subarray(at, at + prefix.length).equals(prefix);
}

export async function* splitMbox(chunks: AsyncIterable<Buffer>, options: SplitMboxOptions = {}): AsyncGenerator<RawMessage> {
  for await (const message of splitMessages(chunks, options, true)) yield assemble(message, options.memory);
}

/** The same cut, yielding where each message lies instead of its bytes. */
export async function* splitMboxRanges(chunks: AsyncIterable<Buffer>, options: SplitMboxOptions = {}): AsyncGenerator<MboxRange> {
  for await (const { index, offset, size, envelope, lineEnding } of splitMessages(chunks, options, false)) {
    yield lineEnding ? { index, offset, size, envelope, lineEnding } : { index, offset, size, envelope };
  }
}

async function* splitMessages(chunks: AsyncIterable<Buffer>, options: SplitMboxOptions, keepBytes: boolean): AsyncGenerator<PendingMessage> {
  const source = chunks[Symbol.asyncIterator]();
  try {
    yield* cut(source, options.maxMessageBytes ?? Number.POSITIVE_INFINITY, keepBytes, options.overruled);
  } finally {
    // Lets the source release what it holds when the consumer stops early.
    await source.return?.();
  }
}

async function* cut(
  source: AsyncIterator<Buffer>,
  maxMessageBytes: number,
  keepBytes: boolean,
  overruled: OverruledLengths | undefined,
): AsyncGenerator<PendingMessage> {
  let buf: Buffer = Buffer.alloc(0);
  /** every chunk goes into this one buffer, after the unscanned rest of the one before */
  let scratch: Buffer = Buffer.alloc(0);
  /** the current message's bytes so far, when they are kept */
  let assembly: Buffer = Buffer.alloc(0);
  /** file offset of buf[0] */
  let bufOffset = 0;
  let pos = 0;
  /** start in buf of the current message's bytes not yet kept */
  let keptUpTo = 0;
  let eof = false;
  let current: PendingMessage | null = null;
  let nextIndex = 0;
  const tooLarge: string[] = [];
  /** the line end: LF (CRLF included), or CR for a classic Mac OS mailbox, decided at the first separator */
  let eol = LF;
  let lineSeparator = NEWLINE_SEPARATOR;

  const keep = (): void => {
    if (current !== null && pos > keptUpTo) {
      const length = pos - keptUpTo;
      if (!current.dropped && current.size + length > maxMessageBytes) current.dropped = true;
      if (!current.dropped && keepBytes) {
        const needed = current.size + length;
        if (assembly.length < needed) {
          const grown = Buffer.allocUnsafeSlow(Math.max(needed, 2 * assembly.length, 64 * 1024));
          assembly.copy(grown, 0, 0, current.size);
          // (nothing else views it: a message yielded was copied before the next is read; the
          // 16 and 32 MB a 50 MB message grew through waited for a collection otherwise)
          releaseNow(assembly);
          assembly = grown;
        }
        buf.copy(assembly, current.size, keptUpTo, pos);
      }
      current.size += length;
    }
    keptUpTo = pos;
  };

  /** Reads chunks until `wanted` unconsumed bytes are buffered or the input ends; returns how many are. */
  const fill = async (wanted: number): Promise<number> => {
    while (buf.length - pos < wanted && !eof) {
      keep();
      const next = await source.next();
      if (next.done === true) {
        eof = true;
        break;
      }
      const chunk = next.value;
      if (chunk.length === 0) continue;
      bufOffset += pos;
      // Nothing refers to the bytes already scanned (those kept were copied): the rest moves to
      // the front. Always a copy: a source may reuse its chunk buffer once asked for the next one.
      const rest = buf.length - pos;
      if (scratch.length < rest + chunk.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(rest + chunk.length, 2 * scratch.length));
        buf.copy(grown, 0, pos);
        scratch = grown;
      } else {
        buf.copy(scratch, 0, pos);
      }
      chunk.copy(scratch, rest);
      buf = scratch.subarray(0, rest + chunk.length);
      pos = 0;
      keptUpTo = 0;
    }
    return buf.length - pos;
  };

  const finish = (message: PendingMessage): PendingMessage | null => {
    if (!message.dropped) {
      if (keepBytes) message.bytes = assembly.subarray(0, message.size);
      return message;
    }
    tooLarge.push(`message ${message.index} at offset ${message.offset} (${message.size} bytes)`);
    return null;
  };

  /** Consumes the separator line at `pos` through its LF; returns it without line ending. */
  const readEnvelope = async (): Promise<string> => {
    const pieces: Buffer[] = [];
    let length = 0;
    let ended = false;
    while (!ended) {
      const lf = buf.indexOf(eol, pos);
      const end = lf === -1 ? buf.length : lf;
      const take = Math.min(end - pos, MAX_ENVELOPE_BYTES - length);
      if (take > 0) {
        pieces.push(Buffer.from(buf.subarray(pos, pos + take)));
        length += take;
      }
      pos = lf === -1 ? end : lf + 1;
      keptUpTo = pos;
      ended = lf !== -1 || (await fill(1)) === 0;
    }
    const line = Buffer.concat(pieces);
    const withoutCr = line.at(-1) === CR ? line.subarray(0, -1) : line;
    return withoutCr.toString('utf8');
  };

  /**
   * Whether the line at `pos`, which begins with "From ", separates messages, judged from that
   * line and the next without consuming either. Writers of mboxo do not quote a body line that
   * begins with "From ", and a reader that cut at every such line would turn a genuine signed
   * message into a "modified" one and its tail into a message of its own. mutt cuts only at a
   * line that carries a date; leakcheck also cuts where a mail header follows (MESSAGE_FIELD),
   * for writers that put no date. Any "name:" line was taken for one: "From the press release:"
   * above a URL, a "Note:" or a "PS:" line cut a genuine message in two (red team 27, B-04).
   * "From :" is an obsolete-syntax From header, never a separator.
   */
  const isSeparatorLine = async (): Promise<boolean> => {
    let lf = buf.indexOf(eol, pos);
    while ((lf === -1 || buf.length - lf - 1 < LOOKAHEAD_BYTES) && buf.length - pos < MAX_ENVELOPE_BYTES + LOOKAHEAD_BYTES && !eof) {
      await fill(buf.length - pos + 1);
      lf = buf.indexOf(eol, pos);
    }
    return separatorAt(pos);
  };

  /** isSeparatorLine's rule for the line at `at` in the buffer, on the bytes already there. */
  const separatorAt = (at: number): boolean => {
    const { line, lf } = lineAt(at);
    if (!startsLikeSeparator(line)) return false;
    if (ENVELOPE_WITH_DATE.test(line)) return true;
    return headerFollows(lf);
  };

  /** The "From " line at `at` both carries a date and is followed by a header line: what every writer's separator looks like. */
  const fullSeparatorAt = (at: number): boolean => {
    const { line, lf } = lineAt(at);
    return startsLikeSeparator(line) && ENVELOPE_WITH_DATE.test(line) && headerFollows(lf);
  };

  const lineAt = (at: number): { line: string; lf: number } => {
    const lf = buf.indexOf(eol, at);
    // (the date comes early in an envelope; 256 bytes bound the regular expression's backtracking)
    return { line: buf.subarray(at, Math.min(lf === -1 ? buf.length : lf, at + LOOKAHEAD_BYTES)).toString('latin1'), lf };
  };

  const headerFollows = (lf: number): boolean => lf !== -1 && MESSAGE_FIELD.test(buf.subarray(lf + 1, lf + 1 + LOOKAHEAD_BYTES).toString('latin1'));

  /**
   * mboxcl and mboxcl2 mailboxes (SVR4 and Solaris mail, some mailx and Pine builds) give each
   * message a Content-Length, and do not quote body lines that begin with "From ": the length,
   * not the line, ends the message. A genuine message quoting "From the minutes of Monday's
   * board meeting" was cut there, and came out modified, with a phantom message made of its tail
   * (red team, round 4). As mutt and procmail do, the length is honoured when it lands exactly on
   * the next separator line (or the end of the file); a length that does not is ignored, and the
   * lines decide as everywhere else.
   *
   * Even a length that holds does not cover a line that carries a date and is followed by a
   * header line: the cut is made there. The length is unsigned, and one reaching exactly to a
   * later separator hid every message before it inside the first one's body, with no row, no
   * verdict and no word of it (red team G-01). A body line that begins "From " rarely looks like
   * that; when one does, a genuine message comes out cut in two, which shows, where a message
   * swallowed does not. Either way the file declared otherwise, and the caller's record of it
   * (options.overruled) is for a note on the mbox's row.
   */
  let declaredEnd: number | null = null;
  let declaredLengthHolds: boolean | null = null;

  /** Where the current message's Content-Length says its body ends (a file offset), read from its header block at `pos`. */
  const readDeclaredEnd = async (): Promise<number | null> => {
    await fill(MAX_LENGTH_HEADER_BYTES);
    // a message that begins with an empty line has no header block, so no length of its own
    if (buf[pos] === eol || (buf[pos] === CR && buf[pos + 1] === LF)) return null;
    // searched within the header's bound only: a CRLF message has no "\n\n", and a search of the
    // whole buffer for one, message after message, cost a 1 GB mbox a second
    const head = buf.subarray(pos, Math.min(buf.length, pos + MAX_LENGTH_HEADER_BYTES));
    const blank = head.indexOf(eol === CR ? CR_BLANK_LINE : LF_BLANK_LINE);
    const blankCrlf = eol === CR ? -1 : head.indexOf(CRLF_BLANK_LINE);
    const ends = [blank === -1 ? -1 : blank + 2, blankCrlf === -1 ? -1 : blankCrlf + 3].filter((e) => e !== -1);
    if (!ends.length) return null;
    const headerEnd = Math.min(...ends);
    const header = head.subarray(0, headerEnd).toString('latin1');
    // (a block of header fields holds no separator line: one that does is not a header block)
    if (header.includes(eol === CR ? '\rFrom ' : '\nFrom ')) return null;
    const length = CONTENT_LENGTH.exec(header)?.[1];
    return length === undefined ? null : bufOffset + pos + headerEnd + Number(length);
  };

  /**
   * Whether the "From " line at `pos` lies inside a body whose Content-Length holds: `inside`, no
   * cut; `overruled`, inside it but a full separator, cut all the same; else `outside`.
   */
  const declaredBodyAt = async (): Promise<'outside' | 'inside' | 'overruled'> => {
    if (declaredEnd === null || bufOffset + pos >= declaredEnd) return 'outside';
    // (isSeparatorLine has brought the line and the one after it into the buffer; asked before
    // lengthHolds reads on. A full separator is cut at whether the length holds or not, but
    // only one that holds was overruled, and the note must not claim a length a reader would
    // have ignored anyway.)
    const full = fullSeparatorAt(pos);
    declaredLengthHolds ??= await lengthHolds(declaredEnd);
    if (!declaredLengthHolds) return 'outside';
    return full ? 'overruled' : 'inside';
  };

  /** Whether the next separator line (after at most one line end), or the end of the file, is at `end`. */
  const lengthHolds = async (end: number): Promise<boolean> => {
    const ahead = end - (bufOffset + pos);
    if (ahead > MAX_LENGTH_LOOKAHEAD) return false;
    await fill(ahead + SEPARATOR.length + 2);
    let at = end - bufOffset;
    if (at > buf.length) return false;
    if (at === buf.length) return eof;
    if (eol === CR ? buf[at] === CR : buf[at] === LF) at += 1;
    else if (buf[at] === CR && buf[at + 1] === LF) at += 2;
    if (at === buf.length) return eof;
    if (!startsWithAt(buf, at, SEPARATOR)) return false;
    // A separator line, not any line that begins "From ": a length that reached across the next
    // message to an unquoted "From …" line in its body swallowed that message whole (red team 27).
    const line = bufOffset + at;
    await fill(line - (bufOffset + pos) + MAX_ENVELOPE_BYTES + LOOKAHEAD_BYTES);
    return separatorAt(line - bufOffset);
  };

  /**
   * Whether the separator line at `pos` ends in a CR that no LF follows, in a file whose lines
   * end so: a classic Mac OS mailbox. The first line end alone does not tell: one stray CR inside
   * the first separator line of an LF or CRLF mbox (the envelope line is signed by no one, so
   * anyone who handled the file can add it) read as one, and every later message was cut at
   * CR-"From " only, which merged the whole mailbox into its first message (red team 27, B-01).
   * So the lines that follow must end in CR alone too: more bare CRs than LFs in the first 4 KB.
   */
  const endsInCrAlone = async (): Promise<boolean> => {
    await fill(MAX_ENVELOPE_BYTES + 1);
    const lf = buf.indexOf(LF, pos);
    const cr = buf.indexOf(CR, pos);
    if (cr === -1 || (lf !== -1 && lf < cr) || buf[cr + 1] === LF) return false;
    const end = Math.min(buf.length, pos + MAX_ENVELOPE_BYTES + 1);
    let bareCrs = 0;
    let lfs = 0;
    for (let at = pos; at < end; at++) {
      if (buf[at] === LF) lfs++;
      else if (buf[at] === CR && buf[at + 1] !== LF) bareCrs++;
    }
    return bareCrs > lfs;
  };

  if ((await fill(UTF8_BOM.length)) >= UTF8_BOM.length && startsWithAt(buf, pos, UTF8_BOM)) {
    pos += UTF8_BOM.length;
    keptUpTo = pos;
  }

  let atLineStart = true;
  let inPreamble = true;
  for (;;) {
    if (atLineStart) {
      // awaited only when the buffer runs short: an await per line was most of a 1 GB mbox's time
      const available = buf.length - pos >= SEPARATOR.length ? buf.length - pos : await fill(SEPARATOR.length);
      if (available === 0) break;
      const atFrom = startsWithAt(buf, pos, SEPARATOR);
      const where = atFrom && !inPreamble && (await isSeparatorLine()) ? await declaredBodyAt() : null;
      if (atFrom && (inPreamble || (where !== null && where !== 'inside'))) {
        if (inPreamble && (await endsInCrAlone())) {
          eol = CR;
          lineSeparator = CR_SEPARATOR;
        }
        keep();
        if (current !== null) {
          overruled?.cut(bufOffset + pos, nextIndex, where === 'overruled' ? { index: current.index, declaredEnd: declaredEnd! } : null);
          const done = finish(current);
          current = null;
          if (done !== null) yield done;
          // (a message over 16 MB does not keep its memory for the small ones after it: the same
          // bound as a thread's reused read buffer)
          if (assembly.length > DEFAULT_MAX_KEPT) {
            releaseNow(assembly);
            assembly = Buffer.alloc(0);
          }
        }
        inPreamble = false;
        const envelope = await readEnvelope();
        current = {
          index: nextIndex,
          offset: bufOffset + pos,
          envelope,
          ...(eol === CR ? { lineEnding: 'cr' as const } : {}),
          bytes: null,
          size: 0,
          dropped: false,
        };
        nextIndex += 1;
        declaredEnd = await readDeclaredEnd();
        declaredLengthHolds = null;
        continue;
      }
      if (inPreamble) {
        // (a CR alone is a blank line of a classic Mac OS mailbox)
        const blank = buf[pos] === LF ? 1 : buf[pos] === CR ? (buf[pos + 1] === LF ? 2 : 1) : 0;
        if (blank === 0) {
          throw new ReadError(
            'malformed-mbox',
            `not an mbox: the first line (at offset ${bufOffset + pos}) is not a "From " separator line`,
          );
        }
        pos += blank;
        keptUpTo = pos;
        continue;
      }
    }
    // Not a separator here: on to the next line that begins with "From ", found in one search
    // rather than line by line (no line in between can be a separator), or else to the last line
    // start in the buffer, whose first bytes may still be arriving.
    const next = buf.indexOf(lineSeparator, pos);
    if (next !== -1) {
      pos = next + 1;
      atLineStart = true;
      continue;
    }
    const lastLf = buf.lastIndexOf(eol);
    if (lastLf >= pos) {
      pos = lastLf + 1;
      atLineStart = true;
      continue;
    }
    pos = buf.length;
    atLineStart = false;
    if ((await fill(1)) === 0) break;
  }
  keep();
  if (current !== null) {
    const done = finish(current);
    current = null;
    if (done !== null) yield done;
  }
  // The last message's memory goes back now, as a large one's does at the next separator: left to
  // the end of the generator, it waited for a collection of the main thread, which is not soon,
  // and a Takeout ending with a 50 MB message kept 64 MB of it all through the message's analysis.
  releaseNow(assembly);
  assembly = Buffer.alloc(0);
  if (tooLarge.length > 0) {
    throw new ReadError(
      'too-large',
      `skipped ${tooLarge.length} message(s) over ${maxMessageBytes} bytes: ${tooLarge.join('; ')}`,
    );
  }
}
