import { canonicalMessageId } from '../read/message-id.ts';
import { byCodeUnits } from './code-unit-order.ts';
import type { Verdict } from '../verdict/reasons.ts';
import type { Db } from './open-store.ts';
import { inReadSnapshot } from './read-snapshot.ts';
import type { RunState } from './run-state.ts';

/** One message with everything known about it, as every report and export reads it. */
export interface MessageRecord {
  id: number;
  path: string;
  index: number;
  offset: number;
  format: string;
  /** found inside another file (a zip entry, a forwarded message): its path is one leakcheck made */
  derived: boolean;
  /** for a derived message: the path of the file (or entry, or message) that holds it */
  container: string | null;
  size: number;
  sha256: string;
  messageId: string | null;
  from: string | null;
  fromAddress: string | null;
  date: string | null;
  /** false when `date` was read from a Date naming no readable zone, as -0000 (MessageMeta.dateZoneKnown) */
  dateZoneKnown: boolean | null;
  dateHeader: string | null;
  subject: string | null;
  judgedAt: string | null;
  repairs: string[];
  verdict: Verdict;
  reasons: string[];
  explanation: string;
  signatures: SignatureRecord[];
  arc: { result: string; reason: string | null; instances: unknown[] };
  findings: Array<{ code: string; severity: string; text: string; evidence: Record<string, unknown> }>;
  /** read with `findingsShown`: the findings beyond it, counted by code (in the order of their first), none otherwise */
  findingsNotRead?: Array<{ code: string; count: number }>;
}

export interface SignatureRecord {
  index: number;
  domain: string | null;
  selector: string | null;
  algorithm: string | null;
  canonicalization: string | null;
  signedHeaders: string[];
  bodyLength: number | null;
  keyType: string | null;
  keyBits: number | null;
  keySource: string | null;
  keyOrigin: string | null;
  keyFingerprint: string | null;
  keyLookup: string;
  result: string;
  outcome: string;
  comment: string | null;
  aligned: boolean;
  headerSignatureValid: boolean | null;
  timestamp: number | null;
  expiration: number | null;
  identity: string | null;
  keyName: string | null;
  keyProvenance: string | null;
  keyFirstSeen: string | null;
  keyLastSeen: string | null;
  keyCompromised: string | null;
  bodyBytesSigned: number | null;
  bodyBytesTotal: number | null;
}

export interface MessageFilter {
  verdict?: Verdict | undefined;
  /** only these database ids */
  ids?: number[] | undefined;
}

interface MessageRow {
  id: number; path: string; idx: number; byte_offset: number; format: string; derived: number; container: string | null; size: number; sha256: string;
  message_id: string | null; from_header: string | null; from_address: string | null; date: string | null; date_zone_known: number | null;
  date_header: string | null; subject: string | null; judged_at: string | null; repairs_json: string;
  verdict: Verdict; reasons_json: string; explanation: string;
}

/** Messages read per query: what iterateMessages holds at once (its `pageSize`, there for tests). */
const MESSAGE_PAGE = 500;

const SIGNATURE_COLUMNS = `message_id, sig_index, domain, selector, algorithm, canonicalization, signed_headers, body_length,
  key_type, key_bits, key_source, key_origin, key_fingerprint, key_lookup, result, outcome, comment, aligned,
  header_signature_valid, sig_timestamp, sig_expiration, identity, key_name, key_provenance, key_first_seen, key_last_seen,
  key_compromised, body_bytes_signed, body_bytes_total`;

/** Findings read per query, at most (one message's are read together, whatever their number, unless capped). */
const FINDINGS_PAGE = 5000;

/** How a reader takes the findings of each message (iterateMessages). */
export interface FindingsReading {
  /** read only the first this many findings of each message, in the order they were written, and count the rest by code */
  findingsShown?: number | undefined;
  /** findings read per query (there for tests) */
  findingsPage?: number | undefined;
}

/**
 * Messages in a stable order (path, then position in the container), so that two exports of the
 * same evidence are byte-identical. Streams: a page of messages is read at a time, after the last
 * one of the page before (the path index gives that order without a sort), and the signatures and
 * ARC results of a whole page are read in one query each, its findings in as few queries as keep
 * each under FINDINGS_PAGE rows. Measured on 70,000 messages: all rows read up front, then three
 * queries per message, held 70 MB of rows and took 5.2 s; by pages, 0.35 s for the messages and
 * 3 µs a message for their signatures instead of 38. A page's findings read at once grew with
 * theirs: 500 messages with a thousand findings each (red team BB, BB-07) held 1.3 GB in the
 * export. A reader that shows them (the HTML report) caps them per message with `findingsShown`,
 * so that what it holds does not depend on any message's findings. The pages are read inside one
 * read transaction, so a verify committing meanwhile cannot give an export half of one state and
 * half of another.
 */
export function iterateMessages(db: Db, filter: MessageFilter = {}, pageSize = MESSAGE_PAGE, reading: FindingsReading = {}): Generator<MessageRecord> {
  // the ids of a page go in as one JSON array: one statement whatever the page's size
  const inPage = 'message_id IN (SELECT value FROM json_each(?))';
  const sigs = db.prepare(`SELECT ${SIGNATURE_COLUMNS} FROM signatures WHERE ${inPage} ORDER BY message_id, sig_index`);
  const arcs = db.prepare(`SELECT message_id, result, reason, instances_json FROM arc_results WHERE ${inPage}`);
  const shown = reading.findingsShown === undefined ? null : Math.max(0, Math.floor(reading.findingsShown));
  const findingsPage = Math.max(1, Math.floor(reading.findingsPage ?? FINDINGS_PAGE));
  const counts = db.prepare(`SELECT message_id, count(*) AS n FROM findings WHERE ${inPage} GROUP BY message_id`);
  // each message's first finding not read (its findings_message index gives it without reading the others)
  const cut = `coalesce((SELECT c.id FROM findings c WHERE c.message_id = p.value ORDER BY c.id LIMIT 1 OFFSET ${shown ?? 0}), 9e18)`;
  const findings = shown === null
    ? db.prepare(`SELECT message_id, code, severity, text, evidence_json FROM findings WHERE ${inPage} ORDER BY message_id, id`)
    : db.prepare(`SELECT f.message_id, f.code, f.severity, f.text, f.evidence_json FROM json_each(?) p JOIN findings f ON f.message_id = p.value AND f.id < ${cut}
        ORDER BY f.message_id, f.id`);
  const notRead = db.prepare(`SELECT f.message_id, f.code, count(*) AS n, min(f.id) AS first FROM json_each(?) p JOIN findings f ON f.message_id = p.value AND f.id >= ${cut}
    GROUP BY f.message_id, f.code ORDER BY f.message_id, first`);
  const pages = messagePages(db, filter, pageSize);
  return inReadSnapshot(db, function* () {
    for (const rows of pages()) {
      const ids = JSON.stringify(rows.map((r) => r.id));
      const sigsOf = groupRows(sigs.all(ids) as Array<Record<string, unknown> & { message_id: number }>, (r) => r.message_id);
      const arcOf = new Map((arcs.all(ids) as Array<{ message_id: number; result: string; reason: string | null; instances_json: string }>).map((a) => [a.message_id, a]));
      const countOf = new Map((counts.all(ids) as Array<{ message_id: number; n: number }>).map((c) => [c.message_id, shown === null ? c.n : Math.min(c.n, shown)]));
      const notReadOf = shown === null ? new Map<number, Array<{ message_id: number; code: string; n: number }>>()
        : groupRows(notRead.all(ids) as Array<{ message_id: number; code: string; n: number }>, (r) => r.message_id);
      // the page's messages in runs whose findings fit in one query (a message over it, alone)
      for (let start = 0; start < rows.length;) {
        let end = start;
        let held = 0;
        while (end < rows.length && (end === start || held + (countOf.get(rows[end]!.id) ?? 0) <= findingsPage)) held += countOf.get(rows[end++]!.id) ?? 0;
        const run = rows.slice(start, end);
        start = end;
        const findingsOf = held
          ? groupRows(findings.all(JSON.stringify(run.map((r) => r.id))) as Array<{ message_id: number; code: string; severity: string; text: string; evidence_json: string }>, (r) => r.message_id)
          : new Map<number, never[]>();
        for (const row of run) {
          const arcRow = arcOf.get(row.id);
          yield {
            ...toListing(row),
            signatures: (sigsOf.get(row.id) ?? []).map(toSignature),
            arc: arcRow
              ? { result: arcRow.result, reason: arcRow.reason, instances: (JSON.parse(arcRow.instances_json) as { instances: unknown[] }).instances }
              : { result: 'none', reason: null, instances: [] },
            findings: (findingsOf.get(row.id) ?? []).map(toFinding),
            ...(shown === null ? {} : { findingsNotRead: (notReadOf.get(row.id) ?? []).map((r) => ({ code: r.code, count: r.n })) }),
          };
          // (what was yielded is the caller's: the run's rows go with it)
          findingsOf.delete(row.id);
        }
      }
    }
  });
}

/** A findings row as the readers take it. */
const toFinding = (f: { code: string; severity: string; text: string; evidence_json: string }): MessageRecord['findings'][number] => ({
  code: f.code,
  severity: f.severity,
  text: f.text,
  evidence: JSON.parse(f.evidence_json) as Record<string, unknown>,
});

/** Findings read per query by iterateFindings. */
const REST_PAGE = 1000;

/**
 * The findings of one message after its first `skip`, in the order they were written, a page at a
 * time: for a reader that took the first with `findingsShown` and must write every one (the
 * export), so that it never holds one message's findings whole.
 */
export function* iterateFindings(db: Db, messageId: number, skip: number): Generator<MessageRecord['findings'][number]> {
  const first = db.prepare('SELECT id, code, severity, text, evidence_json FROM findings WHERE message_id = ? ORDER BY id LIMIT ? OFFSET ?');
  const after = db.prepare('SELECT id, code, severity, text, evidence_json FROM findings WHERE message_id = ? AND id > ? ORDER BY id LIMIT ?');
  let rows = first.all(messageId, REST_PAGE, skip) as Array<{ id: number; code: string; severity: string; text: string; evidence_json: string }>;
  while (rows.length) {
    for (const f of rows) yield toFinding(f);
    rows = after.all(messageId, rows.at(-1)!.id, REST_PAGE) as typeof rows;
  }
}

/** A message as a list shows it: its own row and verdict, without signatures, ARC or findings. */
export type MessageListing = Omit<MessageRecord, 'signatures' | 'arc' | 'findings' | 'findingsNotRead'>;

/**
 * The same messages in the same order as iterateMessages, without their evidence: for a list
 * that shows a line a message (the HTML report's table), a third of the reading. A type of its
 * own, so that no caller can mistake a listing for a message with no signatures.
 */
export function iterateMessageListings(db: Db, filter: MessageFilter = {}, pageSize = MESSAGE_PAGE): Generator<MessageListing> {
  const pages = messagePages(db, filter, pageSize);
  return inReadSnapshot(db, function* () {
    for (const rows of pages()) for (const row of rows) yield toListing(row);
  });
}

/** The message rows matching `filter`, a page at a time, each page after the last row of the one before. */
function messagePages(db: Db, filter: MessageFilter, pageSize: number): () => Generator<MessageRow[]> {
  const conditions: string[] = [];
  const args: Array<string | number> = [];
  if (filter.verdict) {
    // (`+`: pages walk the files in order; by the index on verdict, SQLite sorted every message of
    // that verdict for each page, and an export of 70,000 verified messages took 7.4 s, not 1.9)
    conditions.push('+v.verdict = ?');
    args.push(filter.verdict);
  }
  if (filter.ids) {
    conditions.push(`m.id IN (${filter.ids.map(() => '?').join(',') || 'NULL'})`);
    args.push(...filter.ids);
  }
  const page = db.prepare(`SELECT m.id, f.path, m.idx, m.byte_offset, m.format, f.parent_file_id IS NOT NULL AS derived, pf.path AS container, m.size, m.sha256, m.message_id, m.from_header,
      m.from_address, m.date, m.date_zone_known, m.date_header, m.subject, m.judged_at, m.repairs_json, v.verdict, v.reasons_json, v.explanation
    FROM source_files f JOIN messages m ON m.file_id = f.id JOIN verdicts v ON v.message_id = m.id LEFT JOIN source_files pf ON pf.id = f.parent_file_id
    WHERE f.path >= ? AND (f.path > ? OR m.idx > ?) ${conditions.map((c) => `AND ${c}`).join(' ')}
    ORDER BY f.path, m.idx LIMIT ${Math.max(1, Math.floor(pageSize))}`);
  return function* () {
    let after = { path: '', idx: -1 };
    for (;;) {
      const rows = page.all(after.path, after.path, after.idx, ...args) as MessageRow[];
      if (rows.length === 0) return;
      yield rows;
      const last = rows[rows.length - 1]!;
      after = { path: last.path, idx: last.idx };
    }
  };
}

function toListing(row: MessageRow): MessageListing {
  return {
    id: row.id,
    path: row.path,
    index: row.idx,
    offset: row.byte_offset,
    format: row.format,
    derived: row.derived === 1,
    container: row.container,
    size: row.size,
    sha256: row.sha256,
    messageId: row.message_id,
    from: row.from_header,
    fromAddress: row.from_address,
    date: row.date,
    dateZoneKnown: row.date === null ? null : row.date_zone_known !== 0,
    dateHeader: row.date_header,
    subject: row.subject,
    judgedAt: row.judged_at,
    repairs: JSON.parse(row.repairs_json) as string[],
    verdict: row.verdict,
    reasons: JSON.parse(row.reasons_json) as string[],
    explanation: row.explanation,
  };
}

/** Rows of a page's query by the row they belong to (a message, a file), in the query's order. */
export function groupRows<T>(rows: readonly T[], owner: (row: T) => number): Map<number, T[]> {
  const byOwner = new Map<number, T[]>();
  for (const row of rows) {
    const id = owner(row);
    const group = byOwner.get(id);
    if (group) group.push(row);
    else byOwner.set(id, [row]);
  }
  return byOwner;
}

/** How an argument of `leakcheck show` can name a message. */
export type MessageReading = 'sha256' | 'path' | 'path#index' | 'Message-ID';

/** A message an argument of `show` names, and every reading of the argument that names it. */
export interface MessageMatch {
  id: number;
  readings: MessageReading[];
}

/**
 * The messages a user can mean by one argument of `leakcheck show`, in path order: the argument
 * is read every way it can be, and every message one reading names is a match. Several matches
 * mean the argument is ambiguous, and the caller lists them.
 * - `sha256`: 64 hex digits, the sha256 of the message's raw bytes (any case);
 * - `path`: a path relative to the dump root, exactly as given, blanks included;
 * - `path#index`: the message at that position in the file at that path (an mbox);
 * - `Message-ID`: with or without its angle brackets. Only this reading ignores blanks around the
 *   argument: a Message-ID has none (RFC 5322 `msg-id`: the blanks around it in the header are
 *   folding whitespace, not part of it), so they are the shell's or a copy-paste's. A message
 *   whose field holds that msg-id with a comment around it (`<id@host> (Sent copy)`) has it too.
 * Until red team 10 (finding 05) the argument was trimmed and the first reading that matched
 * won: `show 'invoice.eml '` showed the evidence of `invoice.eml`, and a file named like a
 * Message-ID hid the message that has it.
 */
export function findMessages(db: Db, argument: string): MessageMatch[] {
  const found = new Map<number, MessageReading[]>();
  const pathJoin = 'SELECT m.id FROM messages m JOIN source_files f ON f.id = m.file_id';
  const read = (reading: MessageReading, sql: string, ...params: Array<string | number>): void => {
    for (const { id } of db.prepare(sql).all(...params) as Array<{ id: number }>) {
      const readings = found.get(id) ?? [];
      if (!readings.includes(reading)) readings.push(reading);
      found.set(id, readings);
    }
  };
  if (/^[0-9a-f]{64}$/i.test(argument)) read('sha256', 'SELECT id FROM messages WHERE sha256 = ?', argument.toLowerCase());
  read('path', `${pathJoin} WHERE f.path = ?`, argument);
  const indexed = /^([^]*)#(\d+)$/.exec(argument);
  if (indexed) read('path#index', `${pathJoin} WHERE f.path = ? AND m.idx = ?`, indexed[1]!, Number(indexed[2]));
  const bare = argument.trim().replace(/^<|>$/g, '');
  const msgId = canonicalMessageId(argument);
  if (bare) read('Message-ID', `${pathJoin} WHERE m.message_id = ? OR m.message_id = ? OR m.canonical_message_id = ?`, `<${bare}>`, bare, msgId ?? `<${bare}>`);
  const inPathOrder = db.prepare(`${pathJoin} WHERE m.id IN (SELECT value FROM json_each(?)) ORDER BY f.path, m.idx`).all(JSON.stringify([...found.keys()])) as Array<{ id: number }>;
  return inPathOrder.map(({ id }) => ({ id, readings: found.get(id)! }));
}

function toSignature(row: Record<string, unknown>): SignatureRecord {
  const str = (key: string): string | null => (row[key] === null || row[key] === undefined ? null : String(row[key]));
  const num = (key: string): number | null => (row[key] === null || row[key] === undefined ? null : Number(row[key]));
  return {
    index: Number(row['sig_index']),
    domain: str('domain'),
    selector: str('selector'),
    algorithm: str('algorithm'),
    canonicalization: str('canonicalization'),
    signedHeaders: (str('signed_headers') ?? '').split(':').filter(Boolean),
    bodyLength: num('body_length'),
    keyType: str('key_type'),
    keyBits: num('key_bits'),
    keySource: str('key_source'),
    keyOrigin: str('key_origin'),
    keyFingerprint: str('key_fingerprint'),
    keyLookup: String(row['key_lookup']),
    result: String(row['result']),
    outcome: String(row['outcome']),
    comment: str('comment'),
    aligned: row['aligned'] === 1,
    headerSignatureValid: row['header_signature_valid'] === null ? null : row['header_signature_valid'] === 1,
    timestamp: num('sig_timestamp'),
    expiration: num('sig_expiration'),
    identity: str('identity'),
    keyName: str('key_name'),
    keyProvenance: str('key_provenance'),
    keyFirstSeen: str('key_first_seen'),
    keyLastSeen: str('key_last_seen'),
    keyCompromised: str('key_compromised'),
    bodyBytesSigned: num('body_bytes_signed'),
    bodyBytesTotal: num('body_bytes_total'),
  };
}

/** How many of the files not read completely a summary names (the manifest names them all). */
export const UNREAD_LISTED = 100;

export interface DumpSummary {
  run: { id: number; startedAt: string; finishedAt: string | null; status: string; dumpRoot: string; toolVersion: string } | null;
  messages: number;
  verdicts: Record<Verdict, number>;
  topReasons: Array<{ code: string; count: number }>;
  files: {
    total: number;
    withMessages: number;
    skipped: number;
    errors: number;
    /** the files set aside as holding no email (status skipped), by reason */
    skippedByReason: Array<{ reason: string; count: number }>;
    /** the files that could not be read completely (status error or partial), by reason */
    errorsByReason: Array<{ reason: string; count: number }>;
    /**
     * Those files themselves, by path, the first UNREAD_LISTED: a report must say which emails
     * were never verified, and where they are, not only how many (red team 28, G-05)
     */
    unread: Array<{ path: string; status: string; reason: string; detail: string | null }>;
    /**
     * Files read without error whose row carries a note, by reason: archives that still hold
     * something unread, a limit stopped (`zip-limits`), or with bytes no listed entry covers
     * (`unlisted-bytes`), whose messages are counted, where what was not read must be said too;
     * archives with entries whose local header describes them otherwise than the central
     * directory read (`local-header-mismatch`); an mbox whose Content-Length the reader overruled
     * (`content-length-overruled`).
     */
    readWithNotes: Array<{ reason: string; count: number }>;
    /** Those files themselves, by path, the first UNREAD_LISTED, with their notes: what a count alone does not say */
    noted: Array<{ path: string; reason: string; detail: string | null }>;
  };
  suspicious: Array<{ path: string; index: number; format: string; derived: boolean; subject: string | null; from: string | null; fromAddress: string | null; reasons: string[]; explanation: string }>;
  /**
   * Verified messages with a finding that qualifies the proof (QUALIFYING): what the signature
   * leaves unproven (an unsigned Subject, a display name that reads as another address). A summary that
   * listed only the suspicious ones let such a message read as proven whole (red team K, K-07).
   * `total` counts them all; `messages` lists the first VERIFIED_WITH_WARNINGS_LISTED by path.
   */
  verifiedWithWarnings: {
    total: number;
    messages: Array<{ path: string; index: number; format: string; derived: boolean; subject: string | null; from: string | null; fromAddress: string | null; warnings: Array<{ code: string; severity: string; text: string }> }>;
  };
  custody: CustodySummary;
  /** the last run's state as the readers tell it (`lastRunState`): `report` sets it, where the lock can be seen */
  runState?: RunState;
}

export const VERIFIED_WITH_WARNINGS_LISTED = 500;

/**
 * The chain of custody across runs (`file_changes`): how often the dump was found different from
 * what an earlier run recorded, the latest changes, and what the last run re-read to check.
 */
export interface CustodySummary {
  /**
   * changes recorded over every run: files changed, files removed, files added after a completed
   * walk, and files read before that a run could not read (unconfirmed, their analysis kept)
   */
  changed: number;
  removed: number;
  added: number;
  unconfirmed: number;
  /** the last run's own findings: changes, and files re-read whose sha256 matched (`--rehash`) */
  lastRun: {
    id: number;
    changed: number;
    removed: number;
    added: number;
    unconfirmed: number;
    confirmed: number;
    rehash: boolean;
    /**
     * The changes of the walk the last run finished: its own, and those of the runs interrupted
     * since the last completed one, which it resumed (runs `fromRun` to `id`). A change found by
     * an interrupted run is not found again by the run that resumes it: its file's record is new.
     */
    walk: { fromRun: number; changed: number; removed: number; added: number; unconfirmed: number };
  } | null;
  /** the most recent changes, newest first (all of them: the `file_changes` table) */
  recent: CustodyChange[];
}

export interface CustodyChange {
  runId: number;
  path: string;
  change: 'added' | 'changed' | 'removed' | 'unconfirmed';
  /** null for a file added */
  old: { size: number | null; mtimeMs: number | null; sha256: string | null } | null;
  /** null for a file removed; for a file unconfirmed, what could still be seen of it (no sha256) */
  new: { size: number | null; mtimeMs: number | null; sha256: string | null } | null;
  /** for a file unconfirmed: why it could not be read; else null */
  detail: string | null;
  noticedAt: string;
}

/** Whether a summary has a chain of custody to show: changes recorded, or a last run that checked (`--rehash`). */
export const hasCustodyToShow = (custody: CustodySummary): boolean => changesRecorded(custody) > 0 || custody.lastRun?.rehash === true;

/** Every change a summary counts, of each kind. */
export const changesRecorded = (counts: { changed: number; removed: number; added: number; unconfirmed: number }): number => counts.changed + counts.removed + counts.added + counts.unconfirmed;

/** As many changes as a summary lists; the database keeps all. */
export const RECENT_CHANGES = 50;

export function custodySummary(db: Db, limit = RECENT_CHANGES): CustodySummary {
  const totals = db.prepare(`SELECT ${CHANGE_COUNTS} FROM file_changes`).get() as Record<string, number | null>;
  const run = db.prepare('SELECT id, options_json, counts_json FROM runs ORDER BY id DESC LIMIT 1').get() as
    | { id: number; options_json: string | null; counts_json: string | null }
    | undefined;
  let lastRun: CustodySummary['lastRun'] = null;
  if (run) {
    const counts = (run.counts_json ? JSON.parse(run.counts_json) : {}) as Record<string, unknown>;
    const options = (run.options_json ? JSON.parse(run.options_json) : {}) as Record<string, unknown>;
    const inRun = db.prepare(`SELECT ${CHANGE_COUNTS} FROM file_changes WHERE run_id = ?`).get(run.id) as Record<string, number | null>;
    const fromRun = db.prepare(`SELECT min(id) FROM runs WHERE id > (SELECT coalesce(max(id), 0) FROM runs WHERE status = 'completed' AND id < ?)`).pluck().get(run.id) as number;
    const inWalk = db.prepare(`SELECT ${CHANGE_COUNTS} FROM file_changes WHERE run_id BETWEEN ? AND ?`).get(fromRun, run.id) as Record<string, number | null>;
    lastRun = {
      id: run.id,
      changed: inRun['changed'] ?? 0,
      removed: inRun['removed'] ?? 0,
      added: inRun['added'] ?? 0,
      unconfirmed: inRun['unconfirmed'] ?? 0,
      confirmed: typeof counts['confirmed'] === 'number' ? counts['confirmed'] : 0,
      rehash: options['rehash'] === true,
      walk: { fromRun, changed: inWalk['changed'] ?? 0, removed: inWalk['removed'] ?? 0, added: inWalk['added'] ?? 0, unconfirmed: inWalk['unconfirmed'] ?? 0 },
    };
  }
  const recent = (db.prepare(`SELECT ${CHANGE_COLUMNS} FROM file_changes ORDER BY id DESC LIMIT ?`).all(limit) as Array<Record<string, unknown>>).map(toCustodyChange);
  return { changed: totals['changed'] ?? 0, removed: totals['removed'] ?? 0, added: totals['added'] ?? 0, unconfirmed: totals['unconfirmed'] ?? 0, lastRun, recent };
}

/**
 * The changes recorded for the file a message was read from, or for the file holding that one (a
 * zip, a message that forwarded it), oldest first: the message's own chain of custody.
 */
export function fileChangesOf(db: Db, messageId: number): CustodyChange[] {
  return (db.prepare(`WITH RECURSIVE holder(id, parent) AS (
      SELECT f.id, f.parent_file_id FROM messages m JOIN source_files f ON f.id = m.file_id WHERE m.id = ?
      UNION SELECT f.id, f.parent_file_id FROM source_files f JOIN holder h ON f.id = h.parent)
    SELECT ${CHANGE_COLUMNS} FROM file_changes WHERE path IN (SELECT path FROM source_files WHERE id IN (SELECT id FROM holder))
    ORDER BY id`).all(messageId) as Array<Record<string, unknown>>).map(toCustodyChange);
}

/** One MIME part of a message as `show` lists it: what it is, its bytes' hash, and what the verdict proves of it. */
export interface AttachmentListing {
  partIndex: number;
  filename: string | null;
  contentType: string;
  size: number;
  sha256: string;
  transferEncoding: string | null;
  isMessage: boolean;
  /** `verified-content`, `covered-except-whitespace`, `covered-ambiguous-decoding`, `not-covered` or `unverified` (docs/documents.md) */
  strength: string;
  /** a signature covers its bytes, but none that does fixes its file name (AttachmentRecord) */
  nameUnsigned: boolean;
  /** the other names the part declares, which other readers save it under (red team Y, Y-16) */
  otherNames: string[];
}

export function attachmentsOf(db: Db, messageId: number): AttachmentListing[] {
  return (db.prepare(`SELECT part_index, filename, content_type, size, sha256, transfer_encoding, is_message, strength, name_unsigned,
      (SELECT json_group_array(name) FROM (SELECT name FROM attachment_other_names WHERE attachment_id = a.id ORDER BY rowid)) AS other_names
    FROM attachments a WHERE message_id = ? ORDER BY part_index`).all(messageId) as Array<Record<string, unknown>>).map((r) => ({
    partIndex: Number(r['part_index']),
    filename: r['filename'] === null ? null : String(r['filename']),
    contentType: String(r['content_type']),
    size: Number(r['size']),
    sha256: String(r['sha256']),
    transferEncoding: r['transfer_encoding'] === null ? null : String(r['transfer_encoding']),
    isMessage: r['is_message'] === 1,
    strength: String(r['strength']),
    nameUnsigned: r['name_unsigned'] === 1,
    otherNames: JSON.parse(String(r['other_names'])) as string[],
  }));
}

/** Every change recorded, oldest first: the whole chain of custody (`leakcheck custody`). */
export function* iterateFileChanges(db: Db): Generator<CustodyChange> {
  for (const row of db.prepare(`SELECT ${CHANGE_COLUMNS} FROM file_changes ORDER BY id`).iterate() as Iterable<Record<string, unknown>>) yield toCustodyChange(row);
}

/** A run as the chain of custody shows it: when, by what, with which options, and what it counted. */
export interface RunRecordSummary {
  id: number;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  toolVersion: string;
  commandLine: string;
  options: Record<string, unknown>;
  counts: Record<string, unknown> | null;
}

export function listRuns(db: Db): RunRecordSummary[] {
  return (db.prepare(`SELECT id, started_at, finished_at, status, tool_version, command_line, options_json, counts_json FROM runs ORDER BY id`).all() as Array<Record<string, unknown>>).map(
    (r) => ({
      id: Number(r['id']),
      startedAt: String(r['started_at']),
      finishedAt: (r['finished_at'] as string | null) ?? null,
      status: String(r['status']),
      toolVersion: String(r['tool_version']),
      commandLine: String(r['command_line']),
      options: JSON.parse(String(r['options_json'] ?? '{}')) as Record<string, unknown>,
      counts: r['counts_json'] ? (JSON.parse(String(r['counts_json'])) as Record<string, unknown>) : null,
    }),
  );
}

const CHANGE_COLUMNS = 'run_id, path, change, old_size, old_mtime_ms, old_sha256, new_size, new_mtime_ms, new_sha256, noticed_at, detail';
const CHANGE_COUNTS = `sum(change = 'changed') AS changed, sum(change = 'removed') AS removed, sum(change = 'added') AS added,
  sum(change = 'unconfirmed') AS unconfirmed`;

function toCustodyChange(r: Record<string, unknown>): CustodyChange {
  const reading = (side: 'old' | 'new'): CustodyChange['old'] => ({
    size: (r[`${side}_size`] as number | null) ?? null,
    mtimeMs: (r[`${side}_mtime_ms`] as number | null) ?? null,
    sha256: (r[`${side}_sha256`] as string | null) ?? null,
  });
  return {
    runId: Number(r['run_id']),
    path: String(r['path']),
    change: r['change'] === 'removed' || r['change'] === 'added' || r['change'] === 'unconfirmed' ? r['change'] : 'changed',
    old: r['change'] === 'added' ? null : reading('old'),
    new: r['change'] === 'removed' ? null : reading('new'),
    detail: (r['detail'] as string | null) ?? null,
    noticedAt: String(r['noticed_at']),
  };
}

export function summarize(db: Db, filter: MessageFilter = {}): DumpSummary {
  const run = db.prepare(`SELECT id, started_at AS startedAt, finished_at AS finishedAt, status, dump_root AS dumpRoot,
    tool_version AS toolVersion FROM runs ORDER BY id DESC LIMIT 1`).get() as DumpSummary['run'] | undefined;
  const where = filter.verdict ? 'WHERE verdict = ?' : '';
  const args = filter.verdict ? [filter.verdict] : [];
  const verdicts: Record<Verdict, number> = { verified: 0, unverifiable: 0, suspicious: 0 };
  for (const row of db.prepare(`SELECT verdict, count(*) AS n FROM verdicts ${where} GROUP BY verdict`).all(...args) as Array<{ verdict: Verdict; n: number }>) {
    verdicts[row.verdict] = row.n;
  }
  const reasonCounts = new Map<string, number>();
  for (const row of db.prepare(`SELECT reasons_json FROM verdicts ${where}`).all(...args) as Array<{ reasons_json: string }>) {
    for (const code of JSON.parse(row.reasons_json) as string[]) reasonCounts.set(code, (reasonCounts.get(code) ?? 0) + 1);
  }
  const files = db.prepare(`SELECT count(*) AS total, sum(status IN ('ok','partial')) AS withMessages,
    sum(status = 'skipped') AS skipped, sum(status IN ('error','partial')) AS errors FROM source_files`).get() as Record<string, number | null>;
  // (an email too large or unreadable is no "not email": the two are counted apart)
  const byReason = (statuses: string): Array<{ reason: string; count: number }> =>
    (db.prepare(`SELECT reason, count(*) AS count FROM source_files WHERE status IN (${statuses}) GROUP BY reason ORDER BY count DESC, reason`).all() as Array<{ reason: string | null; count: number }>)
      .map((r) => ({ reason: r.reason ?? 'unknown', count: r.count }));
  const unread = (db.prepare(`SELECT path, status, reason, detail FROM source_files WHERE status IN ('error','partial') ORDER BY path LIMIT ${UNREAD_LISTED}`).all() as Array<{ path: string; status: string; reason: string | null; detail: string | null }>)
    .map((r) => ({ ...r, reason: r.reason ?? 'unknown' }));
  const readWithNotes = db.prepare(`SELECT reason, count(*) AS count FROM source_files WHERE status = 'ok' AND reason IS NOT NULL
    GROUP BY reason ORDER BY count DESC, reason`).all() as Array<{ reason: string; count: number }>;
  const noted = db.prepare(`SELECT path, reason, detail FROM source_files WHERE status = 'ok' AND reason IS NOT NULL ORDER BY path LIMIT ${UNREAD_LISTED}`)
    .all() as Array<{ path: string; reason: string; detail: string | null }>;
  const suspicious = filter.verdict && filter.verdict !== 'suspicious' ? [] : (db.prepare(`SELECT ${LISTED_COLUMNS},
      v.reasons_json, v.explanation FROM verdicts v JOIN messages m ON m.id = v.message_id JOIN source_files f ON f.id = m.file_id
      WHERE v.verdict = 'suspicious' ORDER BY f.path, m.idx`).all() as Array<Record<string, unknown>>).map((r) => ({
    ...listedMessage(r),
    reasons: JSON.parse(String(r['reasons_json'])) as string[],
    explanation: String(r['explanation']),
  }));
  return {
    run: run ?? null,
    messages: verdicts.verified + verdicts.unverifiable + verdicts.suspicious,
    verdicts,
    topReasons: [...reasonCounts].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || byCodeUnits(a.code, b.code)),
    files: {
      total: files['total'] ?? 0,
      withMessages: files['withMessages'] ?? 0,
      skipped: files['skipped'] ?? 0,
      errors: files['errors'] ?? 0,
      skippedByReason: byReason("'skipped'"),
      errorsByReason: byReason("'error','partial'"),
      unread,
      readWithNotes,
      noted,
    },
    suspicious,
    verifiedWithWarnings: filter.verdict && filter.verdict !== 'verified' ? { total: 0, messages: [] } : verifiedWithWarnings(db),
    custody: custodySummary(db),
  };
}

/** A message as the summaries list it: where it is and what it says it is (`m` messages, `f` its file). */
const LISTED_COLUMNS = `f.path, m.idx AS "index", m.format, f.parent_file_id IS NOT NULL AS derived, m.subject, m.from_header AS "from", m.from_address`;

function listedMessage(r: Record<string, unknown>): { path: string; index: number; format: string; derived: boolean; subject: string | null; from: string | null; fromAddress: string | null } {
  return {
    path: String(r['path']),
    index: Number(r['index']),
    format: String(r['format']),
    derived: r['derived'] === 1,
    subject: (r['subject'] as string | null) ?? null,
    from: (r['from'] as string | null) ?? null,
    fromAddress: (r['from_address'] as string | null) ?? null,
  };
}

/**
 * The findings that qualify a proof: warnings and red flags, and `visible-headers-unsigned`, an
 * info finding that names the Subject, Date or other shown header the From domain's signature
 * does not cover (the other info findings are context: a relay's own header, a thread's parent).
 */
const QUALIFYING_SEVERITIES = ['warning', 'red-flag'] as const;
const QUALIFYING_CODES = ['visible-headers-unsigned'] as const;
const QUALIFYING = `(severity IN (${QUALIFYING_SEVERITIES.map((s) => `'${s}'`).join(', ')}) OR code IN (${QUALIFYING_CODES.map((c) => `'${c}'`).join(', ')}))`;

/** QUALIFYING for a finding already read, so that a report's rows agree with its summary. */
export function qualifiesProof(finding: { code: string; severity: string }): boolean {
  return (QUALIFYING_SEVERITIES as readonly string[]).includes(finding.severity) || (QUALIFYING_CODES as readonly string[]).includes(finding.code);
}

function verifiedWithWarnings(db: Db): DumpSummary['verifiedWithWarnings'] {
  const which = `FROM verdicts v JOIN messages m ON m.id = v.message_id JOIN source_files f ON f.id = m.file_id
    WHERE v.verdict = 'verified' AND EXISTS (SELECT 1 FROM findings x WHERE x.message_id = m.id AND ${QUALIFYING})`;
  const total = (db.prepare(`SELECT count(*) AS n ${which}`).get() as { n: number }).n;
  const rows = db.prepare(`SELECT ${LISTED_COLUMNS},
      (SELECT json_group_array(json_object('code', x.code, 'severity', x.severity, 'text', x.text))
        FROM (SELECT code, severity, text FROM findings WHERE message_id = m.id AND ${QUALIFYING} ORDER BY id) x) AS warnings_json
      ${which} ORDER BY f.path, m.idx LIMIT ${VERIFIED_WITH_WARNINGS_LISTED}`).all() as Array<Record<string, unknown>>;
  return {
    total,
    messages: rows.map((r) => ({
      ...listedMessage(r),
      warnings: JSON.parse(String(r['warnings_json'])) as Array<{ code: string; severity: string; text: string }>,
    })),
  };
}
