import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isGenericFileName } from '../attachments/generic-names.ts';
import { normalizeFileName } from '../attachments/inventory.ts';
import { nameSkeleton } from '../attachments/name-skeleton.ts';
import { WhitespaceFolds } from '../attachments/whitespace-fold.ts';
import { closeEvidenceSync, openEvidenceSync, readHeadSync, statEvidenceSync } from '../discover/open-evidence.ts';
import { labelQuoted, messageLabel } from '../report/message-label.ts';
import { linkTargetInDump, realRootOf } from './links-out.ts';
import type { Db } from './open-store.ts';

/**
 * Where a loose document of the dump stands: `verified-by-email` when its bytes are those of an
 * attachment that a verified message's signature covers (so those bytes existed, unchanged,
 * when the message was signed); `seen-in-unverified-email` when they match only attachments
 * nothing proves; `no-email-match` otherwise.
 */
export type DocumentStatus = 'verified-by-email' | 'seen-in-unverified-email' | 'no-email-match';

export interface DocumentMatch {
  message: string;
  /**
   * The message's file of the dump has "#" or "!" in its own name, the separators of the labels
   * leakcheck makes (`box.mbox#1` is then a file, not message 1 of box.mbox): reports show the
   * label quoted, as they show every other message's (labelQuoted; red team 27, C-03).
   */
  messageQuoted?: true;
  messageId: string | null;
  date: string | null;
  from: string | null;
  signers: string[];
  verdict: string;
  filename: string | null;
  strength: string;
  /**
   * For an attachment of a forwarded message: the verified email that carried that message as
   * an attachment its signature covers (red team 10, finding 11). The forwarded message's own
   * verdict says nothing of when it was sent or by whom; the carrier's signature proves that its
   * signer sent these bytes, inside the forwarded message, by the carrier's date. It does not
   * make the document `verified-by-email`: what the forwarded message decodes to was not checked
   * the way a verified message's own parts are (docs/documents.md).
   */
  carrier?: DocumentCarrier;
}

export interface DocumentCarrier {
  message: string;
  /** as DocumentMatch's */
  messageQuoted?: true;
  messageId: string | null;
  date: string | null;
  signers: string[];
  /** how the carrier's signature covers the forwarded message: `verified-content` or `covered-except-whitespace` */
  strength: string;
}

export interface NameConflict extends DocumentMatch {
  attachmentSha256: string;
  attachmentSize: number;
  /**
   * The attachment's name is not this document's but reads like it: the two differ in letters
   * that look alike (a Cyrillic "а" for a Latin "a"; UTS #39 skeletons). Absent when the names
   * are the same as compared (normalizeFileName).
   */
  readsLike?: true;
  /**
   * The verified email's signature fixes all of the attachment but its whitespace (a relaxed
   * signature over text not in base64), and this document differs from it beyond whitespace
   * (whitespace-fold.ts): a document that differs in whitespace alone is no conflict, unless
   * `blanksMoved`.
   */
  exceptWhitespace?: true;
  /**
   * With `exceptWhitespace`: this document differs from the attachment only in whitespace the
   * signature does not fix, and some of it is inside its lines (spaces and tabs moved, not only
   * line ends). The signature cannot tell which of the two was sent; in tab-separated or aligned
   * text such a change moves values to other columns (red team 15, F-DOC-3). A copy that
   * differs only in its line ends and the blanks that end them is no conflict.
   */
  blanksMoved?: true;
  /**
   * The verified email's signature fixes the attachment's bytes but not its file name (a
   * single-part message named by a Content-Disposition or Content-Type its h= leaves out): anyone
   * may have renamed it since (red team Y, Y-02).
   */
  nameUnsigned?: true;
  /**
   * The attachment's name that this document has, when it is not `filename`, but another the
   * part declares, which other readers save it under (`name=` beside `filename=`, `filename=`
   * beside `filename*=`: red team Y, Y-16).
   */
  otherName?: string;
  /**
   * The attachment's name is one mail programs give to parts their sender did not name
   * (`image001.png`, `ATT00001.htm`: generic-names.ts): thousands of unrelated emails send one,
   * so other bytes under it are expected and say nothing. Listed, never a red flag. Worked out
   * when read, from the attachment's name, so that a database written before it has it too.
   */
  genericName?: true;
}

/** Whether a name conflict is a red flag: not one on a name mail programs make up (`genericName`). */
export const isRedFlag = (c: NameConflict): boolean => c.genericName !== true;

/** The name conflicts as every report reads them: those on a name mail programs make up marked `genericName`. */
const markGenericNames = (conflicts: NameConflict[]): NameConflict[] =>
  conflicts.map((c) => (isGenericFileName(normalizeFileName(c.otherName ?? c.filename)) ? { ...c, genericName: true as const } : c));

/** Files the walk skipped as not email, and that are documents (not links, devices, unreadable entries). */
export const DOCUMENT_REASONS: ReadonlySet<string> = new Set(['not-email', 'binary', 'empty']);
const DOCUMENT_REASONS_SQL = `(${[...DOCUMENT_REASONS].map((r) => `'${r}'`).join(', ')})`;

type ConflictKind = Pick<NameConflict, 'readsLike' | 'exceptWhitespace' | 'blanksMoved'>;

/**
 * Name conflicts kept for a document; every one is counted (`name_conflicts_total`). A name that
 * many verified emails sent with other bytes (Outlook names every inline image `image001.png`),
 * against many loose files of that name, would otherwise store every pair (red team W2, W2-02).
 * Red flags are kept before the conflicts on names mail programs make up, so that a hundred of
 * those never hide one from the reports.
 */
export const NAME_CONFLICTS_KEPT = 100;

/**
 * Files smaller than this are never matched by their bytes. Every empty part of every email has
 * an empty file's bytes, which proves nothing; one or two bytes ("1", a line end, "OK") are as
 * common: a one-byte confession.docx was verified-by-email through a verified email's flag.txt
 * (red team Y, Y-15).
 */
export const MIN_MATCHED_SIZE = 8;

/** Documents settled per query: memory holds one page of them and the matches of one at a time. */
const DOCUMENT_PAGE = 500;

/**
 * Matches every loose document with the attachments of the same bytes, and names the verified
 * attachments of the same name but other bytes. Each document looks its matches up through the
 * attachments' indexes (by sha256, by normalised name): reading every attachment and every
 * passing signature of the dump into memory first made this pass grow with the dump (58 MB for
 * 140,000 messages), and cost that even for a dump without a single loose document.
 *
 * `dumpRoot`: where the documents are, to read one whose name is that of an attachment a
 * signature fixes all but the whitespace of (read-only, as everywhere). Without it such a
 * document is compared by its bytes alone. `entryFolds`: the same, read before, of the documents
 * inside zip archives (zipEntryFolds), by their row's id.
 */
export function runDocumentsPass(db: Db, dumpRoot?: string, entryFolds: ReadonlyMap<number, Folds> = new Map()): { documents: number; verified: number; redFlagged: number } {
  // The entries of a zip of the dump that are documents are documents too, named as the entry
  // (`scans.zip!contract.pdf` is a contract.pdf): journalists unzip a dump and publish what is
  // inside, and a forgery zipped escaped the name-conflict red flag (red team Y, Y-06).
  const documentsAfter = db.prepare(`SELECT f.id, f.path, f.size, f.sha256, CASE WHEN f.kind = 'zip-entry' THEN (SELECT p.path FROM source_files p WHERE p.id = f.parent_file_id) END AS archive
    FROM source_files f
    WHERE f.status = 'skipped' AND f.reason IN ${DOCUMENT_REASONS_SQL} AND f.sha256 IS NOT NULL AND (f.parent_file_id IS NULL OR f.kind = 'zip-entry') AND f.path > ?
    ORDER BY f.path LIMIT ${DOCUMENT_PAGE}`);
  // Files read as mail (a memo that begins with To: and From: lines, a saved .eml) or as a zip of
  // mail are documents too when an email carried their bytes (red team 10, findings 03 and 12),
  // or when a verified email carried a document of their name (red team 11, finding 03: a forged
  // contract.pdf with one header line in front of "%PDF-", which PDF readers still open, was read
  // as mail and escaped the name-conflict red flag). Listed only then, or every message file of
  // the dump would be a document of its own.
  // Pages walk the index on path (`+` keeps SQLite off the one on parent_file_id, which it took
  // and then sorted every file of the dump for each page: 2.25 s at 70,000 files, 0.27 s so;
  // tests/unit/paged-queries.test.ts).
  const mailFilesAfter = db.prepare(`SELECT id, path, size, sha256, EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = f.sha256) AS carried
    FROM source_files f
    WHERE NOT (status = 'skipped' AND reason IN ${DOCUMENT_REASONS_SQL}) AND sha256 IS NOT NULL AND +parent_file_id IS NULL AND size > 0 AND path > ?
    ORDER BY path LIMIT ${DOCUMENT_PAGE}`);
  const linksAfter = db.prepare(`SELECT id, path, size, '' AS sha256 FROM source_files
    WHERE status = 'skipped' AND reason = 'symlink' AND +parent_file_id IS NULL AND path > ? ORDER BY path LIMIT ${DOCUMENT_PAGE}`);
  // (a file read as mail is one too, as mailFilesAfter takes it: red team AA, AA-12)
  const documentAt = db.prepare(`SELECT path, size, sha256, status = 'skipped' AND reason IN ${DOCUMENT_REASONS_SQL} AS document,
      EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = f.sha256) AS carried
    FROM source_files f WHERE path = ? AND parent_file_id IS NULL AND sha256 IS NOT NULL AND NOT (status = 'skipped' AND reason = 'symlink')`);
  // The document a link of the dump opens, as the system resolves it (every link on the way, and
  // `..` after a link, as the folder the link names: never the text of the link read as a path,
  // which `hop/../x.pdf` makes another file than the one a reader opens; red team AA, AA-08).
  // Resolving reads no file, only the links; a target out of the dump, or no document, is none.
  const realRoot = dumpRoot === undefined ? null : realRootOf(dumpRoot);
  type LinkedFile = { path: string; size: number | null; sha256: string; document: number; carried: number };
  const linkedDocument = (link: { path: string }): LinkedFile | null => {
    const inside = realRoot === null ? null : linkTargetInDump(realRoot, dumpRoot!, link.path);
    if (inside === null || inside === '' || inside === 'outside') return null;
    return (documentAt.get(inside) as LinkedFile | undefined) ?? null;
  };
  const verifiedDocumentNames = new Set(db.prepare(`SELECT normalized_name FROM attachments WHERE strength = 'verified-content' AND is_message = 0 AND normalized_name IS NOT NULL
    UNION SELECT o.normalized_name FROM attachment_other_names o JOIN attachments a ON a.id = o.attachment_id WHERE a.strength = 'verified-content' AND a.is_message = 0`).pluck().all() as string[]);
  // Names that read alike without being the same (red team 14, finding 01: a forged
  // "contrаct.pdf", Cyrillic "а", beside the verified "contract.pdf" had no red flag): by
  // skeleton, the names of every attachment a red flag can be raised against (verified content,
  // content fixed but for its whitespace, the parts of forwarded messages: red team 15, F-DOC-2),
  // those of all attachments and those of documents alone.
  const bySkeleton = (documentsOnly: boolean): Map<string, string[]> => {
    const map = new Map<string, string[]>();
    // (every name of a part, the other names it declares too: red team Y, Y-16)
    const which = `(a.strength IN ('verified-content', 'covered-except-whitespace') OR f.parent_file_id IS NOT NULL) ${documentsOnly ? 'AND a.is_message = 0' : ''}`;
    const names = db.prepare(`SELECT a.normalized_name FROM attachments a JOIN messages m ON m.id = a.message_id JOIN source_files f ON f.id = m.file_id
        WHERE ${which} AND a.normalized_name IS NOT NULL
      UNION SELECT o.normalized_name FROM attachment_other_names o JOIN attachments a ON a.id = o.attachment_id JOIN messages m ON m.id = a.message_id JOIN source_files f ON f.id = m.file_id
        WHERE ${which} ORDER BY 1`).pluck().all() as string[];
    for (const name of names) {
      const key = nameSkeleton(name);
      map.set(key, [...(map.get(key) ?? []), name]);
    }
    return map;
  };
  const verifiedSkeletons = bySkeleton(false);
  const verifiedDocumentSkeletons = bySkeleton(true);
  // (every mail file of the dump is asked: no skeleton is made when no verified email carried a document)
  const namesReadingLike = (name: string, skeletons: Map<string, string[]>): string[] =>
    skeletons.size === 0 ? [] : (skeletons.get(nameSkeleton(name)) ?? []).filter((other) => other !== name);
  const FROM_ATTACHMENTS = 'FROM attachments a JOIN messages m ON m.id = a.message_id JOIN verdicts v ON v.message_id = m.id JOIN source_files f ON f.id = m.file_id';
  const attachmentsSql = (where: string): string => `SELECT a.id AS aid, a.sha256, a.size, a.normalized_name, a.filename, a.strength, a.folded_sha256, a.blanks_kept_sha256, a.name_unsigned, v.verdict, m.message_id, m.date,
      m.from_header, m.id AS mid, f.path, f.kind, m.idx, f.parent_file_id IS NOT NULL AS derived
    ${FROM_ATTACHMENTS} WHERE ${where} ORDER BY f.path, m.idx, a.part_index`;
  const withBytes = db.prepare(attachmentsSql('a.sha256 = ?'));
  // The attachments of a name (@name) whose bytes are not a document's (@sha256): the first
  // `limit`, how many in all, or every one, for a test the query cannot make. Not those of an
  // email whose signature proves the document's own bytes: two files of one name in one verified
  // email flagged each other's copies as forgery candidates, both being proven (red team Y, Y-11).
  const namedOtherBytes = (where: string) => {
    // (by any name the part declares: red team Y, Y-16)
    const named = `${where} AND (a.normalized_name = @name OR a.id IN (SELECT attachment_id FROM attachment_other_names WHERE normalized_name = @name)) AND a.sha256 <> @sha256
      AND NOT EXISTS (SELECT 1 FROM attachments s WHERE s.message_id = a.message_id AND s.sha256 = @sha256 AND s.strength = 'verified-content')`;
    // (@lineEnds: the document's text with its line ends folded, when it is to be compared so)
    const otherText = `${named} AND (@lineEnds IS NULL OR a.blanks_kept_sha256 IS NULL OR a.blanks_kept_sha256 <> @lineEnds)`;
    const first = db.prepare(`${attachmentsSql(otherText)} LIMIT @limit`);
    const count = db.prepare(`SELECT count(*) ${FROM_ATTACHMENTS} WHERE ${otherText}`).pluck();
    const every = db.prepare(attachmentsSql(named));
    const anyText = db.prepare(`SELECT EXISTS (SELECT 1 ${FROM_ATTACHMENTS} WHERE ${named} AND a.blanks_kept_sha256 IS NOT NULL)`).pluck();
    return {
      first: (name: string, sha256: string, limit: number, lineEnds: string | null): AttachmentRow[] =>
        limit > 0 ? (first.all({ name, sha256, limit, lineEnds }) as AttachmentRow[]) : [],
      count: (name: string, sha256: string, lineEnds: string | null): number => count.get({ name, sha256, lineEnds }) as number,
      every: (name: string, sha256: string): Iterable<AttachmentRow> => every.iterate({ name, sha256 }) as Iterable<AttachmentRow>,
      /** whether any of them is text not sent in base64, whose copies are compared with their line ends folded */
      anyText: (name: string, sha256: string): boolean => anyText.get({ name, sha256 }) === 1,
    };
  };
  const verifiedNamed = namedOtherBytes("a.strength = 'verified-content'");
  const verifiedDocumentsNamed = namedOtherBytes("a.strength = 'verified-content' AND a.is_message = 0");
  // Attachments of verified emails whose signature fixes all but their whitespace (red team 14,
  // finding 09: a forged budget-q1.csv with a row added beside a relaxed-signed one had no flag).
  const exceptWhitespaceNamed = namedOtherBytes("a.strength = 'covered-except-whitespace' AND a.is_message = 0 AND v.verdict = 'verified'");
  // An attachment of a forwarded message, whose bytes a verified email's signature fixes (it
  // covers the forwarded message whole): a document of its name with other bytes is a red flag
  // too, though a match with it stays seen-in-unverified-email (red team 14, finding 10).
  const forwardedNamed = namedOtherBytes(`a.strength <> 'verified-content' AND a.is_message = 0 AND EXISTS (
      SELECT 1 FROM messages pm JOIN attachments o ON o.message_id = pm.id JOIN verdicts pv ON pv.message_id = pm.id
      WHERE pm.file_id = f.parent_file_id AND o.is_message = 1 AND o.sha256 = m.sha256 AND o.strength = 'verified-content' AND pv.verdict = 'verified')`);
  const passingDomains = db.prepare("SELECT domain FROM signatures WHERE message_id = ? AND outcome = 'pass' AND domain IS NOT NULL ORDER BY sig_index");
  type AttachmentRow = {
    aid: number; sha256: string; size: number; normalized_name: string | null; filename: string | null; strength: string; folded_sha256: string | null; blanks_kept_sha256: string | null; name_unsigned: number; verdict: string;
    message_id: string | null; date: string | null; from_header: string | null; mid: number; path: string; kind: string; idx: number; derived: number;
  };
  // the label every report gives the message (messageLabel), and whether it is shown quoted
  const labelled = (row: { path: string; kind: string; idx: number; derived: number }): { message: string; messageQuoted?: true } => {
    const label = { path: row.path, index: row.idx, format: row.kind === 'mbox' ? 'mbox' : 'eml', derived: row.derived !== 0 };
    return { message: messageLabel(label), ...(labelQuoted(label) ? { messageQuoted: true } : {}) };
  };
  const signersOf = (mid: number): string[] => [...new Set((passingDomains.all(mid) as Array<{ domain: string }>).map((r) => r.domain))];
  // the verified message whose covered message/rfc822 attachment is this (embedded) message
  const carrierOf = db.prepare(`SELECT pf.path, pf.kind, pm.idx, pf.parent_file_id IS NOT NULL AS derived, pm.id AS mid, pm.message_id, pm.date, o.strength
    FROM messages m JOIN source_files f ON f.id = m.file_id
      JOIN messages pm ON pm.file_id = f.parent_file_id
      JOIN attachments o ON o.message_id = pm.id AND o.sha256 = m.sha256 AND o.is_message = 1
      JOIN verdicts v ON v.message_id = pm.id JOIN source_files pf ON pf.id = pm.file_id
    WHERE m.id = ? AND v.verdict = 'verified' AND o.strength IN ('verified-content', 'covered-except-whitespace')
    ORDER BY o.strength DESC, pf.path, pm.idx LIMIT 1`);
  const carrier = (mid: number): DocumentCarrier | null => {
    const c = carrierOf.get(mid) as { path: string; kind: string; idx: number; derived: number; mid: number; message_id: string | null; date: string | null; strength: string } | undefined;
    return c ? { ...labelled(c), messageId: c.message_id, date: c.date, signers: signersOf(c.mid), strength: c.strength } : null;
  };
  const match = (a: AttachmentRow): DocumentMatch => {
    const carriedBy = a.verdict === 'verified' ? null : carrier(a.mid);
    return {
      ...labelled(a),
      messageId: a.message_id,
      date: a.date,
      from: a.from_header,
      signers: signersOf(a.mid),
      verdict: a.verdict,
      filename: a.filename,
      strength: a.strength,
      ...(carriedBy ? { carrier: carriedBy } : {}),
    };
  };
  const otherNameOf = db.prepare('SELECT name FROM attachment_other_names WHERE attachment_id = ? AND normalized_name = ? ORDER BY rowid LIMIT 1').pluck();
  // `name`: the attachment's name (normalized) under which it was found
  const conflictWith = (a: AttachmentRow, kind: ConflictKind, name: string): NameConflict => {
    const otherName = a.normalized_name === name ? undefined : (otherNameOf.get(a.aid, name) as string | undefined);
    return {
      ...match(a),
      attachmentSha256: a.sha256,
      attachmentSize: a.size,
      ...(a.name_unsigned ? { nameUnsigned: true as const } : {}),
      ...(otherName !== undefined ? { otherName } : {}),
      ...kind,
    };
  };
  // Matches are a function of the bytes alone, and name conflicts of the bytes and the name (and of
  // whether the file is a document or was read as mail: namedAlike differs): each is worked out
  // and stored once, and every copy refers to it (schema 18, red team W2, W2-02).
  const storedMatches = db.prepare('SELECT status FROM document_matches WHERE sha256 = ?').pluck();
  const storeMatches = db.prepare('INSERT INTO document_matches (sha256, status, matches_json) VALUES (?, ?, ?)');
  const storedConflicts = db.prepare('SELECT id FROM document_name_conflicts WHERE key = ?').pluck();
  // (whether each set of conflicts stored by this pass holds a red flag)
  const redFlagIn = new Map<number, boolean>();
  const storeConflicts = db.prepare('INSERT INTO document_name_conflicts (key, name_conflicts_json, name_conflicts_total) VALUES (?, ?, ?)');
  const insert = db.prepare('INSERT INTO document_files (file_id, sha256, size, normalized_name, conflicts_id) VALUES (?, ?, ?, ?, ?)');
  let documents = 0;
  let verified = 0;
  let redFlagged = 0;
  /**
   * `readPath`: where the bytes are, when not at `path` (a link of the dump: its target);
   * `archive`: the path of the zip whose entry it is, which no file of the dump is at.
   */
  type FileRow = { id: number; path: string; size: number | null; sha256: string; readPath?: string; archive?: string | null };
  const nameOf = (doc: FileRow): string | null => normalizeFileName(doc.archive ? zipEntryFileName(doc.path, doc.archive) : (doc.path.split('/').pop() ?? ''));
  const statusOf = (doc: FileRow): DocumentStatus => {
    const stored = storedMatches.get(doc.sha256) as DocumentStatus | undefined;
    if (stored) return stored;
    const matches = doc.size !== null && doc.size < MIN_MATCHED_SIZE ? [] : (withBytes.all(doc.sha256) as AttachmentRow[]);
    const status: DocumentStatus = matches.some((a) => a.strength === 'verified-content')
      ? 'verified-by-email'
      : matches.length
        ? 'seen-in-unverified-email'
        : 'no-email-match';
    storeMatches.run(doc.sha256, status, JSON.stringify(matches.map(match)));
    return status;
  };
  const settle = (doc: FileRow, namedAlike: ReturnType<typeof namedOtherBytes>, skeletons: Map<string, string[]>, kind: 'document' | 'mail'): void => {
    documents++;
    const name = nameOf(doc);
    const status = statusOf(doc);
    if (status === 'verified-by-email') verified++;
    const key = `${kind} ${doc.sha256} ${name ?? ''}`;
    const stored = storedConflicts.get(key) as number | undefined;
    if (stored !== undefined) {
      if (redFlagIn.get(stored)) redFlagged++;
      insert.run(doc.id, doc.sha256, doc.size, name, stored);
      return;
    }
    let ownFolds: Folds | null | undefined;
    // (an entry of a zip is read again from its archive before this pass: zip-entry-folds.ts)
    const readFolds = (root: string): Folds | null => (doc.archive ? (entryFolds.get(doc.id) ?? null) : foldedSha256sOfFile(join(root, doc.readPath ?? doc.path), doc.sha256));
    const folds = (): Folds | null => (ownFolds ??= dumpRoot === undefined ? null : readFolds(dumpRoot));
    const differsBeyondWhitespace = (a: AttachmentRow): boolean => a.folded_sha256 === null || folds()?.foldedSha256 !== a.folded_sha256;
    // (an attachment recorded before its blanks were kept, by an older leakcheck, is never said to differ in them)
    const blanksMoved = (a: AttachmentRow): boolean => a.blanks_kept_sha256 !== null && folds()!.blanksKeptSha256 !== a.blanks_kept_sha256;
    // Every conflicting attachment is counted; the first NAME_CONFLICTS_KEPT are kept.
    const kept: Array<{ a: AttachmentRow; kind: ConflictKind; name: string }> = [];
    let total = 0;
    // the attachments of these names whose bytes a verified email fixes whole
    // A text attachment not sent in base64 (7bit, quoted-printable) went on the wire with CRLF
    // line ends whatever the file had, and without its last one: the sender's own file, or one
    // saved from a mailbox stored with LF, is the same text with other line ends, which is no
    // conflict (red team Y, Y-14: it was, against a simple-signed email, and not a relaxed one).
    const fixedWhole = (names: string[], kind: ConflictKind): void => {
      for (const n of names) {
        for (const query of [namedAlike, forwardedNamed]) {
          const lineEnds = query.anyText(n, doc.sha256) ? (folds()?.blanksKeptSha256 ?? null) : null;
          total += query.count(n, doc.sha256, lineEnds);
          for (const a of query.first(n, doc.sha256, NAME_CONFLICTS_KEPT - kept.length, lineEnds)) kept.push({ a, kind, name: n });
        }
      }
    };
    // those it fixes but for their whitespace, when this document differs from one beyond
    // whitespace, or in the blanks inside its lines alone
    const fixedButWhitespace = (names: string[], kind: ConflictKind): void => {
      for (const n of names) {
        for (const a of exceptWhitespaceNamed.every(n, doc.sha256)) {
          const found = differsBeyondWhitespace(a) ? { ...kind, exceptWhitespace: true as const } : blanksMoved(a) ? { ...kind, exceptWhitespace: true as const, blanksMoved: true as const } : null;
          if (found && total++ < NAME_CONFLICTS_KEPT) kept.push({ a, kind: found, name: n });
        }
      }
    };
    const same = name ? [name] : [];
    const others = name ? namesReadingLike(name, skeletons) : [];
    // red flags first, then the conflicts on names mail programs make up (NAME_CONFLICTS_KEPT)
    for (const generic of [false, true]) {
      const named = (names: string[]): string[] => names.filter((n) => isGenericFileName(n) === generic);
      fixedWhole(named(same), {});
      fixedWhole(named(others), { readsLike: true });
      fixedButWhitespace(named(same), {});
      fixedButWhitespace(named(others), { readsLike: true });
    }
    const found = kept.map(({ a, kind, name: n }) => conflictWith(a, kind, n));
    const flagged = kept.length > 0 && !isGenericFileName(kept[0]!.name);
    if (flagged) redFlagged++;
    // A copy that could not be read again to compare its whitespace was judged on its bytes alone:
    // that judgement is its own, not one for the other copies of its content.
    const ownKey = dumpRoot !== undefined && ownFolds === null ? `file ${doc.id}` : key;
    const id = Number(storeConflicts.run(ownKey, JSON.stringify(found), total).lastInsertRowid);
    redFlagIn.set(id, flagged);
    insert.run(doc.id, doc.sha256, doc.size, name, id);
  };
  const eachPage = <Row extends FileRow>(query: typeof documentsAfter, each: (doc: Row) => void): void => {
    for (let after = '', page: Row[]; ; after = page.at(-1)!.path) {
      page = query.all(after) as Row[];
      if (!page.length) break;
      for (const doc of page) each(doc);
    }
  };
  db.transaction(() => {
    db.exec('DELETE FROM document_files; DELETE FROM document_matches; DELETE FROM document_name_conflicts');
    eachPage(documentsAfter, (doc) => settle(doc, verifiedNamed, verifiedSkeletons, 'document'));
    // A mail file's name is compared with the attachments that are not messages: forwarded
    // messages are named alike ("message.eml"), and a saved one is no forgery of another.
    const settleMailFile = (doc: FileRow & { carried: number }): void => {
      const name = nameOf(doc);
      if (doc.carried || (name !== null && (verifiedDocumentNames.has(name) || namesReadingLike(name, verifiedDocumentSkeletons).length > 0))) {
        settle(doc, verifiedDocumentsNamed, verifiedDocumentSkeletons, 'mail');
      }
    };
    eachPage(mailFilesAfter, settleMailFile);
    // A symbolic link inside the dump to a document of it is that document under the link's name,
    // the name a reader opens it by: a forged contract.pdf linked to bytes stored as
    // .cache/0b7f3e.bin escaped the name conflict (red team Y, Y-18). Nothing is opened: the
    // target's row has its sha256. A link out of the dump stays a bare record.
    eachPage(linksAfter, (link) => {
      const target = linkedDocument(link);
      // (its whitespace compared by reading the target: the link itself is never followed to read)
      if (!target) return;
      const asFile = { id: link.id, path: link.path, size: target.size, sha256: target.sha256, readPath: target.path };
      if (target.document) settle(asFile, verifiedNamed, verifiedSkeletons, 'document');
      else settleMailFile({ ...asFile, carried: target.carried });
    });
  })();
  return { documents, verified, redFlagged };
}

export type Folds = ReturnType<WhitespaceFolds['digest']>;

/**
 * The file name of the zip entry whose row is at `path`, in the archive at `archive`
 * (`scans.zip!dir/contract.pdf` names contract.pdf): without what process-zip.ts adds after it
 * to tell rows apart (`#entry-3`, `#derived-2`), which an entry's own name cannot hold (its `#`
 * is written `%23`: sanitizeEntryName).
 */
export function zipEntryFileName(path: string, archive: string): string {
  return (zipEntryInside(path, archive).split('/').pop() ?? '').split('#')[0]!;
}

/** The part of a zip entry's row path after `archive!`, without the `#derived-N` a clash with a file of the dump adds (derived-paths.ts). */
export function zipEntryInside(path: string, archive: string): string {
  return (path.startsWith(`${archive}!`) ? path.slice(archive.length + 1) : path).replace(/#derived-\d+$/, '');
}

/**
 * The whitespace-folded sha256s of a document of the dump (whitespace-fold.ts), read in pieces
 * through the read-only open every reader uses; null when it cannot be read, or when its bytes
 * are no longer those the walk hashed (`sha256`).
 */
function foldedSha256sOfFile(absPath: string, sha256: string): Folds | null {
  let fd: number;
  try {
    fd = openEvidenceSync(absPath);
  } catch {
    return null;
  }
  try {
    if (!statEvidenceSync(fd).isFile()) return null;
    const folded = new WhitespaceFolds();
    const whole = createHash('sha256');
    for (let position = 0; ; ) {
      const chunk = readHeadSync(fd, 1024 * 1024, position);
      if (chunk.length === 0) break;
      folded.update(chunk);
      whole.update(chunk);
      position += chunk.length;
    }
    return whole.digest('hex') === sha256 ? folded.digest() : null;
  } catch {
    return null;
  } finally {
    closeEvidenceSync(fd);
  }
}

export interface DocumentRecord {
  path: string;
  sha256: string;
  size: number | null;
  status: DocumentStatus;
  matches: DocumentMatch[];
  /** the first NAME_CONFLICTS_KEPT name conflicts */
  nameConflicts: NameConflict[];
  /** how many name conflicts there are in all */
  nameConflictsTotal: number;
  /** the document is a symbolic link of the dump, to this file of it (as the link is written): its bytes are that file's */
  symlinkTo?: string;
  /**
   * The file is read as email too (a saved .eml, a zip of mail): its own verdict as a message, or
   * its messages' by verdict. A match proves only that an email carried these bytes; a forged
   * email forwarded inside a verified one was listed verified-by-email with nothing saying that,
   * as an email, it is unsigned (red team Y, Y-03).
   */
  asEmail?: EmailVerdicts;
}

export interface EmailVerdicts {
  /** how many messages leakcheck read in the file (its entries' too, for a zip) */
  messages: number;
  /** how many of them have each verdict */
  verdicts: Record<string, number>;
  /** the message's reasons, when the file holds one */
  reasons?: string[];
}

/**
 * `withRedFlags`: documents with a name conflict that is a red flag; `withGenericNameConflicts`:
 * those whose name conflicts are all on names mail programs make up (notes, not red flags).
 */
export type DocumentCounts = Record<DocumentStatus, number> & { total: number; withRedFlags: number; withGenericNameConflicts: number };

export function documentCounts(db: Db): DocumentCounts {
  const row = db.prepare(`SELECT count(*) AS total,
      count(*) FILTER (WHERE m.status = 'verified-by-email') AS verified,
      count(*) FILTER (WHERE m.status = 'seen-in-unverified-email') AS seen,
      count(*) FILTER (WHERE m.status = 'no-email-match') AS none
    FROM document_files d JOIN document_matches m ON m.sha256 = d.sha256`).get() as { total: number; verified: number; seen: number; none: number };
  // Each set of conflicts is read once, however many copies share it, and one at a time (up to a
  // hundred conflicts each, for as many documents as the dump holds); which are red flags is
  // decided when read (markGenericNames).
  const sets = db.prepare(`SELECT c.name_conflicts_json AS conflicts, count(*) AS copies FROM document_files d JOIN document_name_conflicts c ON c.id = d.conflicts_id
    WHERE c.name_conflicts_json <> '[]' GROUP BY c.id`).iterate() as Iterable<{ conflicts: string; copies: number }>;
  let withRedFlags = 0;
  let withGenericNameConflicts = 0;
  for (const set of sets) {
    if (markGenericNames(JSON.parse(set.conflicts) as NameConflict[]).some(isRedFlag)) withRedFlags += set.copies;
    else withGenericNameConflicts += set.copies;
  }
  return { total: row.total, 'verified-by-email': row.verified, 'seen-in-unverified-email': row.seen, 'no-email-match': row.none, withRedFlags, withGenericNameConflicts };
}

/**
 * The documents in path order, one at a time: with D copies of a document carried by M emails
 * the whole list is D × M matches, which no reader should hold at once (red team W2, W2-02).
 * `withRedFlags`: only documents with a name conflict that is a red flag (isRedFlag).
 */
export function* iterateDocuments(db: Db, filter: { status?: DocumentStatus; withRedFlags?: boolean } = {}): Generator<DocumentRecord> {
  const where = [filter.status ? 'd.status = @status' : null, filter.withRedFlags ? "d.name_conflicts_json <> '[]'" : null].filter((w) => w !== null);
  // the file's own messages, and those of the entries of a zip (not its forwarded messages: those are other emails)
  const ownVerdicts = db.prepare(`SELECT v.verdict, count(*) AS n, min(v.reasons_json) AS reasons FROM source_files f JOIN messages m ON m.file_id = f.id JOIN verdicts v ON v.message_id = m.id
    WHERE f.id = @id OR (f.parent_file_id = @id AND f.kind <> 'embedded') GROUP BY v.verdict ORDER BY v.verdict`);
  const asEmail = (id: number): EmailVerdicts | undefined => {
    const rows = ownVerdicts.all({ id }) as Array<{ verdict: string; n: number; reasons: string }>;
    const messages = rows.reduce((sum, r) => sum + r.n, 0);
    if (!messages) return undefined;
    return { messages, verdicts: Object.fromEntries(rows.map((r) => [r.verdict, r.n])), ...(messages === 1 ? { reasons: JSON.parse(rows[0]!.reasons) as string[] } : {}) };
  };
  const rows = db.prepare(`SELECT d.file_id, f.path, f.reason, f.detail, d.sha256, d.size, d.status, d.matches_json, d.name_conflicts_json, d.name_conflicts_total FROM documents d
    JOIN source_files f ON f.id = d.file_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY f.path`);
  for (const r of rows.iterate(...(filter.status ? [{ status: filter.status }] : [])) as Iterable<{
    file_id: number; path: string; reason: string | null; detail: string | null; sha256: string; size: number | null; status: DocumentStatus; matches_json: string; name_conflicts_json: string; name_conflicts_total: number;
  }>) {
    const nameConflicts = markGenericNames(JSON.parse(r.name_conflicts_json) as NameConflict[]);
    if (filter.withRedFlags && !nameConflicts.some(isRedFlag)) continue;
    const email = asEmail(r.file_id);
    yield {
      path: r.path,
      sha256: r.sha256,
      size: r.size,
      status: r.status,
      matches: JSON.parse(r.matches_json) as DocumentMatch[],
      nameConflicts,
      nameConflictsTotal: r.name_conflicts_total,
      ...(email ? { asEmail: email } : {}),
      ...(r.reason === 'symlink' && r.detail ? { symlinkTo: r.detail.replace(/^symlink to /, '') } : {}),
    };
  }
}

