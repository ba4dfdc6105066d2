import type { DumpSummary } from '../store/queries.ts';

type Files = DumpSummary['files'];

/**
 * The notes on a file read without error that say part of an archive was not read (`zip-limits`
 * from src/read/zip.ts, `unlisted-bytes` from src/pipeline/process-zip.ts); any other says how a
 * file was read (an mbox whose Content-Length was overruled, an archive whose local headers
 * disagree with its central directory: `local-header-mismatch`), its parts all read.
 */
const PARTS_NOT_READ: ReadonlySet<string> = new Set(['zip-limits', 'unlisted-bytes']);

export interface NotesOfOneKind {
  count: number;
  /** "1 unlisted-bytes, 2 zip-limits", each number said by `num` */
  which: (num?: (n: number) => string) => string;
  /** the files, as far as the summary lists them */
  files: Files['noted'];
}

/** A summary's files read with a note, as two kinds: archives with parts not read, and the others. */
export function readNotes(files: Files): { partsNotRead: NotesOfOneKind; otherNotes: NotesOfOneKind } {
  const kind = (wanted: boolean): NotesOfOneKind => {
    const tally = files.readWithNotes.filter((r) => PARTS_NOT_READ.has(r.reason) === wanted);
    return {
      count: tally.reduce((n, r) => n + r.count, 0),
      which: (num = String) => tally.map((r) => `${num(r.count)} ${r.reason}`).join(', '),
      files: files.noted.filter((f) => PARTS_NOT_READ.has(f.reason) === wanted),
    };
  };
  return { partsNotRead: kind(true), otherNotes: kind(false) };
}

/**
 * Zip entries a guard refused to read (src/read/zip.ts, process-zip.ts), recorded `skipped`
 * beside the entries that are no mail, and special files (a FIFO, a socket, a device): each may
 * hold an email that was never verified.
 */
const REFUSED_ENTRIES: ReadonlySet<string> = new Set(['encrypted', 'unsupported-compression', 'zip-bomb', 'too-large', 'nested-archive', 'special-file']);

/**
 * What `verify --fail-on unread` fails on: files that could not be read completely, zip entries a
 * guard refused, and archives with parts not read. A CI gate of "every message proven" passed a
 * dump whose forged email sat in an entry leakcheck could not open (red team Z, Z-05). Also, as
 * `linksOut` (links-out.ts), the links that lead out of the dump, and special files (a FIFO named
 * `.eml`), never read (red team AA, AA-09). Not counted: files that are no mail as found,
 * compressed or not (`not-email`, `binary`), whatever they may hold once unpacked.
 */
export function unreadCount(files: Files, linksOut = 0): number {
  const refused = files.skippedByReason.filter((r) => REFUSED_ENTRIES.has(r.reason)).reduce((n, r) => n + r.count, 0);
  return files.errors + refused + readNotes(files).partsNotRead.count + linksOut;
}

