/**
 * The MIME tree of a message held in memory, found the way mailsplit's Splitter finds it, but
 * with native searches instead of a byte-by-byte line loop: delimiter lines are looked for with
 * `Buffer.indexOf`, and a part's body is never read line by line.
 *
 * It agrees with mailsplit only on the well-formed shapes it accepts, and says "not sure" (null)
 * for everything else, so that the caller can hand the message to mailsplit itself:
 *
 * - every header block must end with an empty line; a header line may not start with "--" nor
 *   hold a bare CR (mailsplit tests every line, header lines too, for a delimiter, and a line
 *   that starts with a CR is tested past it); header blocks are at most 64 KiB;
 * - no line may start with a bare CR followed by "--" (see above);
 * - every multipart has a boundary of printable ASCII (no spaces), 1 to 200 bytes long, that
 *   differs from the boundaries around it, and is closed by its closing delimiter; a leaf part
 *   has no boundary parameter (mailsplit would look for children in it);
 * - delimiter lines are exactly `--boundary` or `--boundary--` followed by CRLF or LF (or, for
 *   the last line of the message, nothing). A line that mailsplit would take for a delimiter in
 *   any other spelling, one with transport padding after the boundary, a closing delimiter in a
 *   preamble, a delimiter of the enclosing multipart in a preamble, a delimiter of an outer
 *   multipart inside a part, or a delimiter of a multipart in its own epilogue: not sure;
 * - a part's body is not a single line break (mailsplit's onLine then pushes the line break as
 *   content when a next-part delimiter follows in the same input slice, and drops it otherwise);
 * - at most 500 nodes, nested at most 40 multipart levels.
 *
 * mailsplit facts this relies on (message-splitter.js):
 * - a line is a delimiter of the current node's own boundary (unless the node is in its
 *   epilogue) or of its parent's boundary only; deeper ancestors are not looked at;
 * - the line break that ends the line before a delimiter belongs to the delimiter: a part's
 *   content ends before it (but never before the content's first byte);
 * - the body of a non-multipart top-level message runs to the end of the message, untrimmed;
 * - every node's header is parsed (and its part number taken) when its empty line is read, in
 *   document order: MimeNode.parseHeaders is called here in the same order, on the same bytes.
 */
import type { MailsplitMimeNode, MimeNodeConstructor } from './parser-config.ts';
import { SPLITTER_OPTIONS } from './parser-config.ts';

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const SP = 0x20;
const TAB = 0x09;

const DOUBLE_DASH = Buffer.from('--', 'latin1');

const MAX_HEADER_BYTES = 64 * 1024;
const MAX_BOUNDARY_LENGTH = 200;
const MAX_NODES = 500;
const MAX_NESTING = 40;

/** A leaf of the MIME tree: its mailsplit node and where its (still encoded) content lies. */
export interface WalkedLeaf {
  node: MailsplitMimeNode;
  contentStart: number;
  contentEnd: number;
}

/** Thrown (and caught in walkMime) when the message leaves the shapes this walk is sure about. */
class NotSure extends Error {}

/** A delimiter line found: of the node's own boundary (`own`) or of its parent's. */
interface Delimiter {
  lineStart: number;
  lineEnd: number;
  owner: 'own' | 'parent';
  closing: boolean;
}

class MimeWalker {
  readonly leaves: WalkedLeaf[] = [];
  private nodeCount = 0;
  private readonly message: Buffer;
  private readonly MimeNode: MimeNodeConstructor;

  constructor(message: Buffer, MimeNode: MimeNodeConstructor) {
    this.message = message;
    this.MimeNode = MimeNode;
  }

  walk(): void {
    const m = this.message;
    if (m.length === 0 || m[0] === CR || m[0] === LF) throw new NotSure();
    const root = this.readNode(false, 0);
    if (this.isMultipart(root.node, [])) {
      const boundary = root.node._boundary as Buffer;
      const end = this.walkMultipart(root.node, root.bodyStart, null, [], 1);
      // mailsplit ignores the root's delimiters in its epilogue; an epilogue holding one is odd
      if (this.findDelimiter(end, boundary, null, []) !== null) throw new NotSure();
    } else {
      this.leaves.push({ node: root.node, contentStart: root.bodyStart, contentEnd: m.length });
    }
  }

  /** Reads the header block at `start` into a new node; returns the node and where its body starts. */
  private readNode(parent: MailsplitMimeNode | false, start: number): { node: MailsplitMimeNode; bodyStart: number } {
    const m = this.message;
    if (++this.nodeCount > MAX_NODES) throw new NotSure();
    let pos = start;
    for (;;) {
      const lf = m.indexOf(LF, pos);
      if (lf === -1 || lf - start > MAX_HEADER_BYTES) throw new NotSure();
      if (lf === pos || (lf === pos + 1 && m[pos] === CR)) {
        pos = lf + 1;
        break;
      }
      if (m[pos] === DASH && m[pos + 1] === DASH) throw new NotSure();
      for (let i = pos; i < lf - 1; i++) if (m[i] === CR) throw new NotSure();
      pos = lf + 1;
    }
    const node = new this.MimeNode(parent, SPLITTER_OPTIONS);
    node.addHeaderChunk(m.subarray(start, pos));
    node.parseHeaders();
    return { node, bodyStart: pos };
  }

  /**
   * Whether mailsplit (and mailparser) treat the node as a multipart with children; not sure when
   * the two would disagree, or when the boundary is not one this walk handles.
   */
  private isMultipart(node: MailsplitMimeNode, inScope: readonly Buffer[]): boolean {
    const multipart = typeof node.contentType === 'string' && /^multipart\//i.test(node.contentType);
    if (multipart !== Boolean(node.multipart)) throw new NotSure();
    const boundary = node._boundary;
    if (!multipart) {
      if (boundary) throw new NotSure();
      return false;
    }
    if (!boundary || boundary.length === 0 || boundary.length > MAX_BOUNDARY_LENGTH) throw new NotSure();
    for (const byte of boundary) if (byte <= SP || byte > 0x7e) throw new NotSure();
    if (inScope.some((outer) => outer.equals(boundary))) throw new NotSure();
    return true;
  }

  /**
   * Walks the children of the multipart `node` whose body starts at `bodyStart`; returns the
   * offset just past its closing delimiter line.
   */
  private walkMultipart(node: MailsplitMimeNode, bodyStart: number, parentBoundary: Buffer | null, outer: readonly Buffer[], depth: number): number {
    if (depth > MAX_NESTING) throw new NotSure();
    const own = node._boundary as Buffer;
    const beyond = parentBoundary ? [parentBoundary, ...outer] : outer;
    let delimiter = this.findDelimiter(bodyStart, own, parentBoundary, outer);
    if (!delimiter || delimiter.owner !== 'own' || delimiter.closing) throw new NotSure();
    for (;;) {
      const child = this.readNode(node, delimiter.lineEnd);
      if (this.isMultipart(child.node, [own, ...beyond])) {
        const childBoundary = child.node._boundary as Buffer;
        const end = this.walkMultipart(child.node, child.bodyStart, own, beyond, depth + 1);
        delimiter = this.findDelimiter(end, childBoundary, own, beyond);
        // in its epilogue mailsplit no longer reads the child's own delimiters: odd, so not sure
        if (delimiter?.owner === 'own') throw new NotSure();
      } else {
        delimiter = this.findDelimiter(child.bodyStart, null, own, beyond);
        if (delimiter) {
          // a body of just one line break: mailsplit keeps or drops it depending on the
          // delimiter that follows and on where its input slices end
          if (this.isLineBreak(child.bodyStart, delimiter.lineStart)) throw new NotSure();
          this.leaves.push({ node: child.node, contentStart: child.bodyStart, contentEnd: this.contentEnd(child.bodyStart, delimiter.lineStart) });
        }
      }
      if (!delimiter) throw new NotSure(); // never closed
      if (delimiter.closing) return delimiter.lineEnd;
    }
  }

  /** Whether [start, end) is exactly one line break. */
  private isLineBreak(start: number, end: number): boolean {
    const m = this.message;
    return (end === start + 1 && m[start] === LF) || (end === start + 2 && m[start] === CR && m[start + 1] === LF);
  }

  /** The line break before a delimiter line belongs to it, but never a byte before the content. */
  private contentEnd(contentStart: number, delimiterStart: number): number {
    const m = this.message;
    let end = delimiterStart;
    if (end > contentStart && m[end - 1] === LF) {
      end--;
      if (end > contentStart && m[end - 1] === CR) end--;
    }
    return end;
  }

  /**
   * The first delimiter line at or after the line start `from`, of `own` (tested first, as
   * mailsplit does) or of `parent`; null when the message ends first. A line that is, or looks
   * like, a delimiter of one of the `outer` boundaries: not sure. So is a line that starts with
   * a bare CR and "--", which mailsplit tests for a delimiter past the CR.
   */
  private findDelimiter(from: number, own: Buffer | null, parent: Buffer | null, outer: readonly Buffer[]): Delimiter | null {
    const m = this.message;
    let lineStart = this.nextDashedLine(from, from);
    while (lineStart !== -1) {
      const lf = m.indexOf(LF, lineStart);
      const lineEnd = lf === -1 ? m.length : lf + 1;
      const ownKind = own ? this.delimiterKind(lineStart, lineEnd, own) : null;
      if (ownKind) return { lineStart, lineEnd, owner: 'own', closing: ownKind === 'closing' };
      const parentKind = parent ? this.delimiterKind(lineStart, lineEnd, parent) : null;
      if (parentKind) return { lineStart, lineEnd, owner: 'parent', closing: parentKind === 'closing' };
      for (const boundary of outer) if (this.delimiterKind(lineStart, lineEnd, boundary)) throw new NotSure();
      lineStart = this.nextDashedLine(from, lineEnd);
    }
    return null;
  }

  /**
   * The start of the next line at or after `pos` that starts with "--", or -1. `regionStart` is
   * a line start. Searching for "--" rather than for a line break and "--" keeps the search
   * native over content that has no dashes at all, such as base64.
   */
  private nextDashedLine(regionStart: number, pos: number): number {
    const m = this.message;
    for (let at = m.indexOf(DOUBLE_DASH, pos); at !== -1; at = m.indexOf(DOUBLE_DASH, at + 1)) {
      if (at === regionStart || m[at - 1] === LF) return at;
      if (m[at - 1] === CR && (at - 1 === regionStart || m[at - 2] === LF)) throw new NotSure();
    }
    return -1;
  }

  /**
   * Whether the line [lineStart, lineEnd), which starts with "--", is a delimiter of `boundary`
   * in one of its plain spellings; null when mailsplit would not take it for one either. Not
   * sure when mailsplit would take it for a delimiter in another spelling, or when it is the
   * boundary followed by transport padding (mailsplit reads that as content, other readers as a
   * delimiter: a message written that way is unusual enough to leave to mailsplit).
   */
  private delimiterKind(lineStart: number, lineEnd: number, boundary: Buffer): 'next' | 'closing' | null {
    const m = this.message;
    const suffix = lineStart + 2 + boundary.length;
    if (suffix > lineEnd || boundary.compare(m, lineStart + 2, suffix) !== 0) return null;
    const rest = lineEnd - suffix;
    if ((rest === 1 && m[suffix] === LF) || (rest === 2 && m[suffix] === CR && m[suffix + 1] === LF)) return 'next';
    if (m[suffix] === DASH && m[suffix + 1] === DASH) {
      if (rest === 2 && lineEnd === m.length) return 'closing';
      if ((rest === 3 && m[suffix + 2] === LF) || (rest === 4 && m[suffix + 2] === CR && m[suffix + 3] === LF)) return 'closing';
    }
    if (this.mailsplitTakesForDelimiter(lineStart, lineEnd, boundary)) throw new NotSure();
    let pos = suffix;
    if (m[pos] === DASH && m[pos + 1] === DASH) pos += 2;
    while (pos < lineEnd && (m[pos] === SP || m[pos] === TAB)) pos++;
    if (pos === lineEnd || m[pos] === CR || m[pos] === LF) throw new NotSure();
    return null;
  }

  /** mailsplit's compareBoundary for a line whose "--" and boundary bytes already match. */
  private mailsplitTakesForDelimiter(lineStart: number, lineEnd: number, boundary: Buffer): boolean {
    const m = this.message;
    const length = lineEnd - lineStart;
    if (length < boundary.length + 3 || length > boundary.length + 6) return false;
    let pos = 0;
    for (let i = lineStart + 2 + boundary.length; i < lineEnd; i++) {
      const c = m[i];
      if (pos === 0 && (c === CR || c === LF)) return true;
      if (pos === 0 && c !== DASH) return false;
      if (pos === 1 && c !== DASH) return false;
      if (pos === 2 && c !== CR && c !== LF) return false;
      if (pos === 3 && c !== LF) return false;
      pos++;
    }
    return true;
  }
}

/**
 * The leaves of the MIME tree of `message`, in document order, each with the mailsplit node its
 * header was parsed into; null when the message is not one of the shapes this walk is sure to
 * split exactly as mailsplit does (see the module comment).
 */
export function walkMime(message: Buffer, MimeNode: MimeNodeConstructor): WalkedLeaf[] | null {
  const walker = new MimeWalker(message, MimeNode);
  try {
    walker.walk();
  } catch {
    // NotSure, or anything mailsplit's header code throws on: mailsplit itself will say what it makes of it
    return null;
  }
  return walker.leaves;
}
