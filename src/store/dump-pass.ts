import Database from 'better-sqlite3';
import { hash } from 'node:crypto';
import { conflictingCopies, verifiedCopiesDiffer } from '../checks/dump/conflicting-copies.ts';
import { DumpDates } from '../checks/dump/future-date.ts';
import { SelectorSpans } from '../checks/dump/selector-timeline.ts';
import { profileOutliers, SenderTally } from '../checks/dump/sender-profile.ts';
import { AccusedParents, BoundedParentCopies, mayAccuseParents, ParentClasses, parentIds, replyFindings } from '../checks/dump/threads.ts';
import { senderKey, type DumpCopy, type DumpFinding, type DumpMessage, type PartsNotInFile } from '../checks/dump/types.ts';
import type { Finding } from '../checks/types.ts';
import type { VisibleFields } from '../read/message-traits.ts';
import { applyDumpFindings, CONTRADICTED_BY_COPY } from '../verdict/findings-from-outside.ts';
import type { Verdict } from '../verdict/reasons.ts';
import type { Db } from './open-store.ts';

/** The page cache of the pass's reading connection, for its database and for its temporary one, in KiB. */
const READER_CACHE_KIB = 4096;

/**
 * The second pass: compares every message with the others and settles the final verdicts.
 * It is recomputed whole on every run, from each message's own verdict, so that adding or
 * removing one message is reflected everywhere it matters.
 *
 * Memory does not grow with the dump. Loading every message at once cost about 3 KB a message
 * (225 MB for 70,000, the size of dump issue 8 names), so the messages are read as streams in
 * the order each check needs, through a second, read-only connection (one connection cannot
 * write while it reads a stream), and each finding is written as it is found. The streams come
 * from one copy of what the checks see, made in the dump's order into a temporary table on disk
 * (never in the dump) and indexed by Message-ID and by sender, so that no stream sorts:
 * - copies of one message: read grouped by Message-ID, one group held at a time;
 * - threads: the replies in pages, each page's parents looked up by Message-ID, then the copies
 *   of each parent some reply found dated after it, each given one finding (AccusedParents);
 * - sender habits, selector spans and the dump's latest dates: gathered in one pass ordered by
 *   sender (of the habits, only the counts are kept, sender by sender), then each message
 *   compared with them in a second.
 * What stays in memory is one group of copies of the same message, one page of replies, and
 * small tallies per sender and per selector, and per class of accused parent copies (the gravest
 * reply, a count and ten names). The findings are the ones the checks give over the
 * whole list of messages (src/checks/dump), in the same order for each message.
 */
export function runDumpPass(db: Db): { findings: number; raised: number } {
  const reader = new Database(db.name, { readonly: true, fileMustExist: true });
  try {
    reader.pragma('busy_timeout = 5000');
    // on disk, in the system's temporary directory: in memory it would grow with the dump
    reader.pragma('temp_store = FILE');
    // It reads each row once, in order, and its temporary table's index one key at a time: a page
    // cache does little for it, and at the end of a run it adds to everything else. SQLite's
    // default here (16 MB for the database and 16 for the temporary one) put the pass over
    // 200,000 messages at 198 MiB of RSS, 4 MB each at 175-178 MiB, taking 3.9-4.4 s against
    // 4.2 s; at 70,000, 14-36 MiB less in the same time (forty-fourth round, docs/performance.md).
    reader.pragma(`cache_size = -${READER_CACHE_KIB}`);
    reader.pragma(`temp.cache_size = -${READER_CACHE_KIB}`);
    // one sender whichever form its domain is written in (élysée.example, xn--lyse-9oad.example):
    // the index is on that form, so that the pass by sender streams without sorting
    reader.function('sender_key', { deterministic: true }, (address: unknown) => (typeof address === 'string' ? senderKey(address) : null));
    reader.exec(`CREATE TEMP TABLE dump AS ${DUMP_MESSAGES} ORDER BY ${DUMP_ORDER};
      CREATE INDEX temp.dump_message_id ON dump(canonical_message_id);
      CREATE INDEX temp.dump_sender ON dump(sender_key(from_address));`);
    const insert = db.prepare("INSERT INTO findings (message_id, code, severity, text, evidence_json, scope) VALUES (?, ?, ?, ?, ?, 'dump')");
    let findings = 0;
    const write = (found: readonly DumpFinding[]): void => {
      for (const { messageId, finding: f } of found) insert.run(messageId, f.code, f.severity, f.text, JSON.stringify(f.evidence));
      findings += found.length;
    };
    let raised = 0;
    db.transaction(() => {
      db.prepare("DELETE FROM findings WHERE scope = 'dump'").run();
      // in the order of DUMP_CHECKS, which is the order of each message's findings
      findCopies(reader, write);
      findThreads(reader, db, write);
      findSenderAndDateOutliers(reader, write);
      raised = settleVerdicts(db);
    })();
    return { findings, raised };
  } finally {
    reader.close();
  }
}

/**
 * What a check sees of a message, and the order of the dump (path, then place in the file). The
 * temporary copy holds these; what only the copies checks compare (COPY_COLUMNS) is read for
 * the messages that share a Message-ID, from the tables themselves: most of a dump has no copy,
 * and the attachments' list took a fifth of the pass to gather for every message.
 */
const MESSAGE_COLUMNS = `m.id, f.path, f.kind, m.idx, m.sha256, m.canonical_message_id, m.from_address, m.date, m.date_zone_known, m.date_offset_min,
  m.mailer, m.body_sha256, m.visible_sha256, m.text_sha256, m.subject, m.mailing_list, m.in_reply_to,
  m.references_json, m.first_stamp_at, v.message_verdict,
  (SELECT json_group_array(json_array(s.domain, s.selector, s.outcome)) FROM signatures s
    WHERE s.message_id = m.id AND s.domain IS NOT NULL AND s.selector IS NOT NULL) AS signatures_json,
  CASE WHEN v.message_verdict = 'verified' THEN (SELECT json_group_array(json_array(s.domain, s.selector, s.aligned, s.signed_headers)) FROM signatures s
    WHERE s.message_id = m.id AND s.domain IS NOT NULL AND s.selector IS NOT NULL AND s.sig_index IN (SELECT value FROM json_each(v.proven_by_json)))
    ELSE '[]' END AS proofs_json`;
const COPY_COLUMNS = `m.visible_fields_json,
  CASE WHEN m.parts_error IS NULL THEN (SELECT json_group_array(json_array(a.content_type, a.disposition, a.filename, a.sha256) ORDER BY a.part_index)
    FROM attachments a WHERE a.message_id = m.id) END AS parts_json,
  (SELECT min(fi.code) FROM findings fi WHERE fi.message_id = m.id AND fi.code IN ('body-stored-apart', 'attachment-removed-by-client', 'message-rebuilt-by-converter', 'body-not-in-file')) AS not_in_file`;
const FROM_TABLES = 'FROM messages m JOIN source_files f ON f.id = m.file_id JOIN verdicts v ON v.message_id = m.id';
const DUMP_MESSAGES = `SELECT ${MESSAGE_COLUMNS} ${FROM_TABLES}`;
/** Every message, with everything any check reads (CopyRow): what the checks over a whole list are tested on. */
export const MESSAGES = `SELECT ${MESSAGE_COLUMNS}, ${COPY_COLUMNS} ${FROM_TABLES}`;
export const DUMP_ORDER = 'f.path, m.idx';

export interface MessageRow {
  id: number;
  path: string;
  kind: string | null;
  idx: number;
  sha256: string;
  canonical_message_id: string | null;
  from_address: string | null;
  date: string | null;
  date_zone_known: number | null;
  date_offset_min: number | null;
  mailer: string | null;
  body_sha256: string | null;
  visible_sha256: string | null;
  text_sha256: string | null;
  subject: string | null;
  mailing_list: string | null;
  in_reply_to: string | null;
  references_json: string | null;
  first_stamp_at: string | null;
  message_verdict: Verdict;
  signatures_json: string;
  proofs_json: string;
}

export interface CopyRow extends MessageRow {
  visible_fields_json: string | null;
  parts_json: string | null;
  not_in_file: PartsNotInFile | null;
}

/** (most messages have no attachment: their parts are hashed once, not once a message and stream) */
const NO_PARTS = hash('sha256', '[]', 'hex');

export function toDumpMessage(r: MessageRow): DumpMessage {
  return {
    id: r.id,
    where: r.kind === 'mbox' ? `${r.path}#${r.idx}` : r.path,
    sha256: r.sha256,
    messageId: r.canonical_message_id,
    fromAddress: r.from_address,
    date: r.date,
    dateZoneKnown: r.date_zone_known !== 0,
    dateOffsetMinutes: r.date_offset_min,
    mailer: r.mailer,
    bodySha256: r.body_sha256,
    visibleSha256: r.visible_sha256,
    textSha256: r.text_sha256,
    subject: r.subject,
    mailingList: r.mailing_list,
    inReplyTo: r.in_reply_to,
    references: r.references_json ? (JSON.parse(r.references_json) as string[]) : [],
    firstStampAt: r.first_stamp_at,
    verdict: r.message_verdict,
    signatures: (JSON.parse(r.signatures_json) as Array<[string, string, string]>).map(([domain, selector, outcome]) => ({
      domain,
      selector: selector.toLowerCase(),
      outcome,
    })),
    proofs: (JSON.parse(r.proofs_json) as Array<[string, string, number, string]>).map(([domain, selector, aligned, signedHeaders]) => ({
      domain,
      selector: selector.toLowerCase(),
      aligned: aligned === 1,
      signedHeaders: signedHeaders.split(':').map((h) => h.trim().toLowerCase()).filter(Boolean),
    })),
  };
}

/** The attachments' decoded contents alone (the fourth of each listed part), sorted, as one sha256. */
const contentsOf = (partsJson: string): string =>
  hash('sha256', JSON.stringify((JSON.parse(partsJson) as Array<[unknown, unknown, unknown, string]>).map((part) => part[3]).sort()), 'hex');

export function toDumpCopy(r: CopyRow): DumpCopy {
  return {
    ...toDumpMessage(r),
    partsSha256: r.parts_json === null ? null : r.parts_json === '[]' ? NO_PARTS : hash('sha256', r.parts_json, 'hex'),
    contentsSha256: r.parts_json === null ? null : r.parts_json === '[]' ? NO_PARTS : contentsOf(r.parts_json),
    visibleFields: r.visible_fields_json ? (JSON.parse(r.visible_fields_json) as VisibleFields) : null,
    partsNotInFile: r.not_in_file,
  };
}

/** The temporary copy, in the dump's order (its rowid) unless ordered by an indexed column first. */
function* streamMessages(reader: Db, where: string, orderBy = 'rowid'): Generator<DumpMessage> {
  for (const row of reader.prepare(`SELECT * FROM temp.dump ${where} ORDER BY ${orderBy}`).iterate() as IterableIterator<MessageRow>) yield toDumpMessage(row);
}

/** Consecutive messages with the same key, as arrays: the stream must be ordered by the key. */
function* runsOf<M extends DumpMessage>(messages: Iterable<M>, key: (m: M) => string): Generator<M[]> {
  let run: M[] = [];
  for (const m of messages) {
    if (run.length && key(run[0]!) !== key(m)) {
      yield run;
      run = [];
    }
    run.push(m);
  }
  if (run.length) yield run;
}

function findCopies(reader: Db, write: (found: readonly DumpFinding[]) => void): void {
  // only Message-IDs held by more than one message: a message alone has no copy to compare with
  // (what only these checks compare is read from the tables, for these messages alone)
  const query = reader.prepare(`SELECT d.*, ${COPY_COLUMNS} FROM temp.dump d JOIN messages m ON m.id = d.id
    WHERE d.canonical_message_id IN (SELECT canonical_message_id FROM temp.dump WHERE canonical_message_id IS NOT NULL
      GROUP BY canonical_message_id HAVING count(*) > 1)
    ORDER BY d.canonical_message_id, d.rowid`);
  const copies = (function* (): Generator<DumpCopy> {
    for (const row of query.iterate() as IterableIterator<CopyRow>) yield toDumpCopy(row);
  })();
  // (each check's findings are for copies the other leaves alone: unverified ones, verified ones)
  for (const group of runsOf(copies, (m) => m.messageId!)) if (group.length > 1) write([...conflictingCopies(group), ...verifiedCopiesDiffer(group)]);
}

/** Replies handled per page: the page's parents are looked up in one query. */
const REPLY_PAGE = 512;

function findThreads(reader: Db, db: Db, write: (found: readonly DumpFinding[]) => void): void {
  // (read on the writing connection, which is free while the reader streams the replies)
  const parentsQuery = db.prepare(`${DUMP_MESSAGES} WHERE m.canonical_message_id IN (SELECT value FROM json_each(?)) ORDER BY m.canonical_message_id, ${DUMP_ORDER}`);
  const accused = new AccusedParents();
  const handle = (page: DumpMessage[]): void => {
    // (In-Reply-To as well, even when it is the reply's own Message-ID: the missing-parent check asks for it)
    const wanted = [...new Set(page.flatMap((reply) => [...parentIds(reply), ...(reply.inReplyTo ? [reply.inReplyTo] : [])]))];
    // every copy's class, for replies that can accuse, and the copies kept for those that cannot
    const every = new Map<string, ParentClasses>();
    const kept = new Map<string, BoundedParentCopies>();
    for (const row of parentsQuery.iterate(JSON.stringify(wanted)) as IterableIterator<MessageRow>) {
      const id = row.canonical_message_id!;
      let classes = every.get(id);
      if (!classes) every.set(id, (classes = new ParentClasses()));
      let copies = kept.get(id);
      if (!copies) kept.set(id, (copies = new BoundedParentCopies()));
      const m = toDumpMessage(row);
      classes.add(m);
      copies.add(m);
    }
    for (const reply of page) {
      const accuses = mayAccuseParents(reply);
      write(replyFindings(reply, (id) => (accuses ? every.get(id)?.representatives : kept.get(id)?.classes.representatives) ?? [], accused));
    }
  };
  let page: DumpMessage[] = [];
  const replies = streamMessages(reader, "WHERE in_reply_to IS NOT NULL OR (references_json IS NOT NULL AND references_json <> '[]')");
  for (const reply of replies) {
    page.push(reply);
    if (page.length >= REPLY_PAGE) {
      handle(page);
      page = [];
    }
  }
  if (page.length) handle(page);
  // each accused copy's finding, once every reply is read (streamed by the reader: the writer writes them)
  const copiesQuery = reader.prepare('SELECT * FROM temp.dump WHERE canonical_message_id = ? ORDER BY rowid');
  const copiesOf = function* (id: string): Generator<DumpMessage> {
    for (const row of copiesQuery.iterate(id) as IterableIterator<MessageRow>) yield toDumpMessage(row);
  };
  for (const found of accused.findings(copiesOf)) write([found]);
}

/**
 * Sender habits, selector spans and the dump's latest dates, in two passes over the dump ordered
 * by sender: the first counts each sender's habits (only the counts are kept, sender by sender;
 * a sender's messages, most of a dump for its owner's sent mail, are never held) and gathers the
 * spans and dates, which do not depend on the order; the second compares each message with
 * them. (Apart, the three took four passes.) Each message's findings keep the order of
 * DUMP_CHECKS: sender, selector, date.
 */
function findSenderAndDateOutliers(reader: Db, write: (found: readonly DumpFinding[]) => void): void {
  const bySender = (): Generator<DumpMessage> => streamMessages(reader, '', 'sender_key(from_address), rowid');
  const habitsOf = new Map<string, NonNullable<ReturnType<SenderTally['habits']>>>();
  const spans = new SelectorSpans();
  const dates = new DumpDates();
  let sender: string | null = null;
  let tally = new SenderTally();
  const settle = (): void => {
    const habits = tally.habits();
    if (sender !== null && habits) habitsOf.set(sender, habits);
  };
  for (const m of bySender()) {
    spans.add(m);
    dates.add(m);
    const key = senderKey(m.fromAddress);
    if (key === null) continue;
    if (key !== sender) {
      settle();
      sender = key;
      tally = new SenderTally();
    }
    tally.add(m);
  }
  settle();
  for (const m of bySender()) {
    const key = senderKey(m.fromAddress);
    const habits = key === null ? undefined : habitsOf.get(key);
    write([...(habits ? profileOutliers(m, habits) : []), ...spans.outliers(m), ...dates.lateFindings(m)]);
  }
}

/** Messages whose verdict is settled per query: their red flags are read together. */
const VERDICT_PAGE = 500;

/**
 * Every message gets back the verdict it earned on its own; then those with red flags from the
 * comparison (only an unverified message can be raised), and verified ones a verified copy
 * contradicts (their explanation says so), are settled, a page at a time. Returns how many
 * verdicts the comparison changed.
 */
function settleVerdicts(db: Db): number {
  db.prepare('UPDATE verdicts SET verdict = message_verdict, reasons_json = message_reasons_json, explanation = message_explanation').run();
  const flaggedAfter = db.prepare(`SELECT DISTINCT f.message_id FROM findings f JOIN verdicts v ON v.message_id = f.message_id
    WHERE f.scope = 'dump' AND (CASE WHEN v.message_verdict = 'verified' THEN f.code = '${CONTRADICTED_BY_COPY}' ELSE f.severity = 'red-flag' END)
    AND f.message_id > ? ORDER BY f.message_id LIMIT ${VERDICT_PAGE}`);
  const flagsOf = db.prepare(`SELECT f.message_id, f.code, f.severity, f.text, v.message_verdict, v.message_reasons_json, v.message_explanation
    FROM findings f JOIN verdicts v ON v.message_id = f.message_id
    WHERE f.scope = 'dump' AND f.message_id IN (SELECT value FROM json_each(?)) ORDER BY f.message_id, f.id`);
  const update = db.prepare('UPDATE verdicts SET verdict = ?, reasons_json = ?, explanation = ? WHERE message_id = ?');
  let raised = 0;
  let after = 0;
  for (;;) {
    const ids = (flaggedAfter.all(after) as Array<{ message_id: number }>).map((r) => r.message_id);
    if (!ids.length) return raised;
    after = ids.at(-1)!;
    const rows = flagsOf.all(JSON.stringify(ids)) as Array<{
      message_id: number; code: string; severity: Finding['severity']; text: string;
      message_verdict: Verdict; message_reasons_json: string; message_explanation: string;
    }>;
    for (const [messageId, own] of Map.groupBy(rows, (r) => r.message_id)) {
      const first = own[0]!;
      const base = { verdict: first.message_verdict, reasons: JSON.parse(first.message_reasons_json) as string[], explanation: first.message_explanation };
      const final = applyDumpFindings(base, own.map((r) => ({ code: r.code, severity: r.severity, text: r.text, evidence: {} })));
      if (final.verdict !== base.verdict) raised++;
      update.run(final.verdict, JSON.stringify(final.reasons), final.explanation, messageId);
    }
  }
}
