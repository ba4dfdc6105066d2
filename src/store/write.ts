import type { MessageAnalysis } from '../analyze/analyze-message.ts';
import { normalizeFileName } from '../attachments/inventory.ts';
import { shellCommandLine } from './command-line.ts';
import { namesAnalysisWaitsFor } from './incremental.ts';
import type { KeysSeen } from './keys-seen.ts';
import type { Db } from './open-store.ts';

export interface RunRecord {
  startedAt: string;
  dumpRoot: string;
  /** the command as typed: the program, then each argument as the process received it */
  argv: readonly string[];
  /** the working directory, which relative arguments are relative to */
  cwd: string;
  toolVersion: string;
  mailauthVersion: string;
  /** the versions of the other packages that decide verdicts (version.ts, LIBRARY_VERSIONS) */
  libraries: Readonly<Record<string, string>>;
  nodeVersion: string;
  sqliteVersion: string;
  options: Record<string, unknown>;
  keyFiles: Array<{ path: string; sha256: string }>;
  /**
   * the --compromised list given to this run (path, sha256, fingerprints), and how many
   * fingerprints the key store holds from every list given so far (knownInStore), which is what
   * the run applied
   */
  compromised: { path: string | null; sha256: string | null; count: number; knownInStore: number } | null;
}

export interface FileRecord {
  path: string;
  kind: string | null;
  /** ok: every message read; partial: some read before an error; skipped: no message; error: unreadable */
  status: 'ok' | 'partial' | 'skipped' | 'error' | 'in-progress';
  reason: string | null;
  detail: string | null;
  size: number | null;
  mtimeMs: number | null;
  sha256: string | null;
  /** what the analysis depended on besides the bytes (tool version, compromised list): a change re-analyses */
  analysisContext?: string | null;
  /** for a message found inside another file (a forwarded message, a zip entry): where */
  parent?: { path: string; messageIndex: number | null } | null;
}

export interface FileChange {
  path: string;
  /**
   * added: a file of the dump that a completed walk of it did not find (old is null); removed:
   * new is null; unconfirmed: a file read before that this run could not read, its size and
   * mtime as recorded or unknown (new has them, and no sha256), its analysis kept
   */
  change: 'added' | 'changed' | 'removed' | 'unconfirmed';
  old: { size: number | null; mtimeMs: number | null; sha256: string | null } | null;
  new: { size: number | null; mtimeMs: number | null; sha256: string | null } | null;
  /** for a file unconfirmed: why it could not be read */
  detail?: string | null;
}

export interface StoredMessage {
  index: number;
  offset: number;
  format: string;
  envelope: string | null;
  analysis: MessageAnalysis;
}

/** The kind on the row of an entry the walk could not look at (DiscoveryEntry.unexamined). */
export const UNEXAMINED = 'unexamined';

const json = (value: unknown): string => JSON.stringify(value);
const bool = (value: boolean | null): number | null => (value === null ? null : value ? 1 : 0);

/** All writes to the database go through here, each file's results in one transaction. */
export class StoreWriter {
  private readonly db: Db;
  private readonly statements;
  /** The key records the analyses written are known to have seen (`last_key_id`): see `KeysSeen`. */
  private keysSeen: () => number;

  constructor(db: Db) {
    this.db = db;
    const highestKey = db.prepare('SELECT COALESCE(max(id), 0) FROM keys').pluck();
    this.keysSeen = () => highestKey.get() as number;
    this.statements = {
      begin: db.prepare('BEGIN'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      insertRun: db.prepare(`INSERT INTO runs (started_at, status, dump_root, command_line, tool_version, mailauth_version,
        node_version, sqlite_version, options_json, key_files_json, compromised_json, libraries_json, argv_json, cwd)
        VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      finishRun: db.prepare('UPDATE runs SET finished_at = ?, status = ?, counts_json = ? WHERE id = ?'),
      // last_key_id: the key records this analysis is not older than (src/store/incremental.ts
      // asks for key records with a higher id, never for later clock times; see keysSeen).
      upsertFile: db.prepare(`INSERT INTO source_files (path, kind, status, reason, detail, size, mtime_ms, sha256, message_count, run_id,
          analyzed_at, analysis_context, last_key_id)
        VALUES (@path, @kind, @status, @reason, @detail, @size, @mtimeMs, @sha256, @messageCount, @runId, @analyzedAt, @analysisContext,
          @lastKeyId)
        ON CONFLICT(path) DO UPDATE SET kind = excluded.kind, status = excluded.status, reason = excluded.reason,
          detail = excluded.detail, size = excluded.size, mtime_ms = excluded.mtime_ms, sha256 = excluded.sha256,
          message_count = excluded.message_count, run_id = excluded.run_id, analyzed_at = excluded.analyzed_at,
          analysis_context = excluded.analysis_context, last_key_id = excluded.last_key_id
        RETURNING id`),
      deleteChildren: db.prepare('DELETE FROM source_files WHERE parent_file_id = ?'),
      rowAtPath: db.prepare('SELECT id, parent_file_id AS parentId, size, mtime_ms AS mtimeMs, sha256 FROM source_files WHERE path = ?'),
      deleteFile: db.prepare('DELETE FROM source_files WHERE id = ?'),
      // The file of the dump that holds a row (a forwarded message's, an archive entry's), through
      // every row between: its analysis is forgotten, so that the next look at it reads it again.
      forgetRootAnalysis: db.prepare(`WITH RECURSIVE up(id, parent) AS (
          SELECT id, parent_file_id FROM source_files WHERE id = ?
          UNION ALL SELECT f.id, f.parent_file_id FROM source_files f JOIN up ON f.id = up.parent)
        UPDATE source_files SET analyzed_at = NULL WHERE id IN (SELECT id FROM up WHERE parent IS NULL)`),
      setParent: db.prepare('UPDATE source_files SET parent_file_id = (SELECT id FROM source_files WHERE path = ?) WHERE id = ?'),
      parentMessage: db.prepare('SELECT m.id FROM messages m JOIN source_files f ON f.id = m.file_id WHERE f.path = ? AND m.idx = ?'),
      setParentMessage: db.prepare('UPDATE messages SET parent_message_id = ? WHERE file_id = ?'),
      insertAttachment: db.prepare(`INSERT INTO attachments (message_id, part_index, part_id, content_type, filename, normalized_name, size,
        sha256, disposition, transfer_encoding, is_message, too_large, strength, folded_sha256, blanks_kept_sha256, name_unsigned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertOtherName: db.prepare('INSERT INTO attachment_other_names (attachment_id, name, normalized_name) VALUES (?, ?, ?)'),
      deleteMessages: db.prepare('DELETE FROM messages WHERE file_id = ?'),
      fileIdByPath: db.prepare('SELECT id FROM source_files WHERE path = ?'),
      addMessageCount: db.prepare('UPDATE source_files SET message_count = message_count + ? WHERE id = ?'),
      finishFile: db.prepare(`UPDATE source_files SET status = ?, reason = ?, detail = ?, sha256 = ?, analysis_context = ?, analyzed_at = ?,
          last_key_id = ?
        WHERE path = ?`),
      insertMessage: db.prepare(`INSERT INTO messages (file_id, idx, byte_offset, size, sha256, format, envelope, message_id,
        from_header, from_address, from_domain, subject, date_header, date, judged_at, judged_at_source, repairs_json, run_id,
        body_sha256, visible_sha256, in_reply_to, references_json, date_offset_min, mailer, parts_error, text_sha256,
        visible_fields_json, mailing_list, canonical_message_id, first_stamp_at, date_zone_known)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertSignature: db.prepare(`INSERT INTO signatures (message_id, sig_index, domain, selector, algorithm, canonicalization,
        signed_headers, body_length, sig_timestamp, sig_expiration, identity, key_name, key_type, key_bits, key_source, key_origin,
        key_fingerprint, key_fingerprint_md5, key_record, key_lookup, result, outcome, comment, aligned, header_signature_valid,
        body_bytes_signed, body_bytes_total, warnings_json, key_provenance, key_first_seen, key_last_seen, key_compromised)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertChange: db.prepare(`INSERT INTO file_changes (run_id, path, change, old_size, old_mtime_ms, old_sha256, new_size,
        new_mtime_ms, new_sha256, noticed_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      completeChange: db.prepare('UPDATE file_changes SET new_size = ?, new_mtime_ms = ?, new_sha256 = ? WHERE id = ?'),
      // (an unconfirmed file has no new sha256 either, and never will: its entry is complete)
      unfinishedChange: db.prepare(`SELECT id FROM file_changes WHERE path = ? AND change IN ('changed', 'added') AND new_sha256 IS NULL
        AND new_size IS ? AND new_mtime_ms IS ? ORDER BY id DESC LIMIT 1`).pluck(),
      insertArc: db.prepare('INSERT INTO arc_results (message_id, result, reason, instances_json) VALUES (?, ?, ?, ?)'),
      insertFinding: db.prepare('INSERT INTO findings (message_id, code, severity, text, evidence_json) VALUES (?, ?, ?, ?, ?)'),
      // The message's own verdict is kept beside the final one, which the cross-dump pass may raise.
      insertVerdict: db.prepare(`INSERT INTO verdicts (message_id, verdict, reasons_json, explanation, proven_by_json, message_verdict,
        message_reasons_json, message_explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    };
  }

  beginRun(run: RunRecord): number {
    const info = this.statements.insertRun.run(
      run.startedAt, run.dumpRoot, shellCommandLine(run.argv), run.toolVersion, run.mailauthVersion, run.nodeVersion,
      run.sqliteVersion, json(run.options), json(run.keyFiles), json(run.compromised), json(run.libraries), json(run.argv), run.cwd,
    );
    return Number(info.lastInsertRowid);
  }

  /** Runs still marked running belong to processes that died (the run lock is ours now). */
  markStaleRunsInterrupted(): void {
    this.db.prepare("UPDATE runs SET status = 'interrupted' WHERE status = 'running'").run();
  }

  finishRun(runId: number, status: 'completed' | 'interrupted' | 'failed', counts: unknown): void {
    this.statements.finishRun.run(new Date().toISOString(), status, json(counts), runId);
  }

  /**
   * Has the files holding these rows (found inside them) read again by the next look at them: in
   * this run's walk, or, if this run stops first, the next run's. Forgotten in one transaction
   * before the walk, so that no row is ever deleted while its file still counts as analysed.
   */
  rereadFilesHolding(rowIds: readonly number[]): void {
    if (rowIds.length === 0) return;
    this.db.transaction(() => {
      for (const id of rowIds) this.statements.forgetRootAnalysis.run(id);
    })();
  }

  /** Files and messages written since the open batch began; null when no batch is open. */
  private batch: { files: number; messages: number } | null = null;

  #writes = 0;
  /** the first write that failed: every later one fails with it (abandonBatch) */
  #failed: { error: unknown } | null = null;
  #removed = 0;

  /** Files of the dump recorded as removed through this writer (their rows gone with them). */
  get removed(): number {
    return this.#removed;
  }

  /** Writes of files and messages made through this writer (a run that made none changed no verdict's input). */
  get writes(): number {
    return this.#writes;
  }

  /**
   * Writes one file's results into the open batch: files are committed together, in one
   * transaction per 256 files or 2,000 messages, which keeps a 70,000-file run from paying for
   * 70,000 commits. A batch is all or nothing, so a run killed at any moment leaves whole files
   * only, and a re-run redoes the lost batch.
   */
  queueFile(runId: number, file: FileRecord, messages: StoredMessage[]): void {
    this.queueFiles(runId, [{ record: file, messages }]);
  }

  /**
   * Writes files that must be committed together: a message file and the forwarded messages
   * found inside it. A re-run skips a file whose row says it was analysed, so a file committed
   * in one batch and its children in the next would, if the run died in between, leave the
   * children out of the database for good.
   */
  queueFiles(runId: number, files: ReadonlyArray<{ record: FileRecord; messages: StoredMessage[] }>, change: FileChange | null = null): void {
    if (files.length === 0) return;
    let messages = 0;
    for (const f of files) messages += f.messages.length;
    // (all of them before the first row: a file's last_key_id covers the messages found inside it)
    this.bringInKeys(files.flatMap((f) => f.messages));
    this.inBatch(() => {
      for (const f of files) this.saveFile(runId, f.record, f.messages);
      // in the same batch as the file's new rows: once those are committed, a re-run sees the
      // file as unchanged, and a change recorded only afterwards would be lost with a killed run
      if (change) this.recordChange(runId, change);
    }, messages, files.length);
  }

  /**
   * A container with many messages (a 2 GB mbox) is written as it is read, so that its analyses
   * never pile up in memory: `beginFile` marks it in progress and drops what it held before,
   * `appendMessages` adds messages, `finishFile` records how reading ended. A run killed in
   * between leaves it "in-progress", which the next run reads again from the start.
   *
   * A change of the file (or its addition to the dump) is recorded here, with the row that
   * replaces the record it is a change from: recorded only at the end, it was lost with a run
   * killed in between, whose successor finds the in-progress row and nothing to compare it with
   * (red team 8, 08). Its sha256 is not known yet: `finishFile` completes it. Returns the
   * change's id, for that.
   */
  beginFile(runId: number, file: FileRecord, change: FileChange | null = null): number | null {
    let changeId: number | null = null;
    this.inBatch(() => {
      this.saveFile(runId, { ...file, status: 'in-progress' as FileRecord['status'] }, []);
      if (change) changeId = this.recordChange(runId, change);
    }, 0, 1);
    return changeId;
  }

  appendMessages(runId: number, path: string, messages: StoredMessage[]): void {
    // (finishFile records the file's last_key_id after these)
    this.bringInKeys(messages);
    this.inBatch(() => {
      const fileId = (this.statements.fileIdByPath.get(path) as { id: number }).id;
      for (const message of messages) this.insertMessage(runId, fileId, message);
      this.statements.addMessageCount.run(messages.length, fileId);
    }, messages.length, 1);
  }

  /**
   * The change a killed run began for this file (`beginFile`) and never completed, if the file
   * still has the size and mtime it recorded: the run reading it again completes it.
   */
  unfinishedChange(path: string, size: number | null, mtimeMs: number | null): number | null {
    return (this.statements.unfinishedChange.get(path, size, mtimeMs) as number | undefined) ?? null;
  }

  /**
   * From now on, files are recorded as analysed with the key store as `seen` saw it. `bringIn`
   * puts into the store, before a file's results are written, the `--keys` records of the key
   * names they carry: a name recorded but never asked for (an ARC set not validated, a signature
   * not checked) would otherwise get its records after the file was written, and every later run
   * would take them as added since and analyse the file again.
   */
  analysedWithKeys(seen: KeysSeen, bringIn?: (names: Iterable<string>) => void): void {
    this.keysSeen = () => seen.upTo;
    if (bringIn) this.bringInKeys = (messages) => bringIn(messages.flatMap((m) => namesAnalysisWaitsFor(m.analysis)));
  }

  private bringInKeys: (messages: StoredMessage[]) => void = () => {};

  /** `begun`: the change `beginFile` recorded, given its new size, mtime and sha256 here; else `changed` is recorded now. */
  finishFile(file: FileRecord, changed: { runId: number; change: FileChange } | null = null, begun: number | null = null): void {
    this.inBatch(() => {
      this.statements.finishFile.run(file.status, file.reason, file.detail, file.sha256, file.analysisContext ?? null, new Date().toISOString(), this.keysSeen(), file.path);
      if (begun !== null) this.statements.completeChange.run(file.size, file.mtimeMs, file.sha256, begun);
      else if (changed) this.recordChange(changed.runId, changed.change);
    }, 0, 1);
  }

  /**
   * The rows are written at once, into a transaction left open until the batch is full. Results
   * used to wait in memory for the commit instead: a batch of parsed analyses outlived the main
   * thread's young generation, and copying them out of it was a quarter of that thread's time.
   * A write that fails takes its whole batch back with it, as a failed commit would.
   */
  private inBatch(write: () => void, messages: number, files: number): void {
    if (this.#failed) throw this.#failed.error;
    if (!this.batch) {
      this.statements.begin.run();
      this.batch = { files: 0, messages: 0 };
    }
    try {
      write();
    } catch (err) {
      this.abandonBatch(err);
      throw err;
    }
    this.#writes++;
    this.batch.files += files;
    this.batch.messages += messages;
    if (this.batch.files >= 256 || this.batch.messages >= 2_000) this.flush();
  }

  /** Commits the open batch, if any. */
  flush(): void {
    if (!this.batch) return;
    try {
      this.statements.commit.run();
    } catch (err) {
      this.abandonBatch(err);
      throw err;
    }
    this.batch = null;
  }

  /**
   * A batch taken back takes with it rows that files still being read rely on: the row an mbox's
   * messages are appended to (beginFile). A later write went on as if it were there, and a full
   * disk ended the run as "unexpected error: TypeError" when another file's write failed first.
   * So every write after a failed one fails with the same error: the run stops on it, and what is
   * committed stays consistent.
   */
  private abandonBatch(error: unknown): void {
    this.#failed ??= { error };
    this.batch = null;
    // SQLite may have rolled back already (a full disk, an I/O error).
    if (this.db.inTransaction) this.statements.rollback.run();
  }

  recordChange(runId: number, change: FileChange): number {
    return Number(this.statements.insertChange.run(
      runId, change.path, change.change, change.old?.size ?? null, change.old?.mtimeMs ?? null, change.old?.sha256 ?? null,
      change.new?.size ?? null, change.new?.mtimeMs ?? null, change.new?.sha256 ?? null, new Date().toISOString(), change.detail ?? null,
    ).lastInsertRowid);
  }

  /**
   * After a complete walk: files recorded before but no longer in the dump are recorded as
   * removed. Files below a directory this walk could not list (`unlisted`) were not reached, and
   * keep their rows and verdicts; a directory recorded as unlistable before, listed now, was no
   * file of the dump and leaves without a custody entry (red team 28, G-03). So does an entry the
   * walk could not look at (kind `unexamined`): nothing of it was on record but its name, and
   * most often it leaves because it turns out to be a directory, once its own can be searched.
   */
  removeMissing(runId: number, seen: ReadonlySet<string>, unlisted: ReadonlySet<string> = new Set()): void {
    // Streamed, only the missing kept: every file's row at once was 15 MB at 70,000 files. Files
    // found inside other files leave with their parent (ON DELETE CASCADE).
    const gone: Array<{ id: number; path: string; kind: string | null; detail: string | null; size: number | null; mtime_ms: number | null; sha256: string | null }> = [];
    const known = this.db.prepare('SELECT id, path, kind, detail, size, mtime_ms, sha256 FROM source_files WHERE parent_file_id IS NULL');
    const unreached = (path: string): boolean => {
      if (unlisted.has('.')) return true;
      for (let slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) if (unlisted.has(path.slice(0, slash))) return true;
      return false;
    };
    for (const f of known.iterate() as Iterable<(typeof gone)[number]>) if (!seen.has(f.path) && !unreached(f.path)) gone.push(f);
    // (rows of schema 12 and before have no kind for such a directory: its detail says it)
    const noFileOnRecord = (f: (typeof gone)[number]): boolean =>
      f.kind === 'directory' || f.kind === UNEXAMINED || (f.kind === null && (f.detail ?? '').startsWith('directory cannot be listed'));
    let removed = 0;
    this.db.transaction(() => {
      for (const f of gone) {
        if (!noFileOnRecord(f)) {
          this.recordChange(runId, { path: f.path, change: 'removed', old: { size: f.size, mtimeMs: f.mtime_ms, sha256: f.sha256 }, new: null });
          removed++;
        }
        this.db.prepare('DELETE FROM source_files WHERE id = ?').run(f.id);
      }
    })();
    this.#removed += removed;
  }

  /**
   * Replaces everything known about one source file: re-running updates, never duplicates. Called
   * alone, it is a transaction of its own. Inside a batch it is part of the batch's transaction,
   * without a savepoint: a savepoint has SQLite copy aside every page the inserts change, which
   * cost a run of 2,000 single-message files 6 % of its time (0.18 s) for a rollback nothing asks for.
   */
  saveFile(runId: number, file: FileRecord, messages: StoredMessage[]): void {
    if (this.db.inTransaction) this.replaceFile(runId, file, messages);
    else this.db.transaction(() => this.replaceFile(runId, file, messages))();
  }

  private replaceFile(runId: number, file: FileRecord, messages: StoredMessage[]): void {
    this.clearPathOfOthers(runId, file);
    const { id: fileId } = this.statements.upsertFile.get({
      ...file,
      analysisContext: file.analysisContext ?? null,
      analyzedAt: new Date().toISOString(),
      messageCount: messages.length,
      runId,
      lastKeyId: this.keysSeen(),
    }) as { id: number };
    // What this file held last time (its messages, and the files found inside it) is replaced.
    this.statements.deleteMessages.run(fileId);
    this.statements.deleteChildren.run(fileId);
    for (const message of messages) this.insertMessage(runId, fileId, message);
    if (file.parent) {
      this.statements.setParent.run(file.parent.path, fileId);
      if (file.parent.messageIndex !== null) {
        const parent = this.statements.parentMessage.get(file.parent.path, file.parent.messageIndex) as { id: number } | undefined;
        if (parent) this.statements.setParentMessage.run(parent.id, fileId);
      }
    }
  }

  /**
   * A path held by another row is freed before the upsert, which would otherwise take that row
   * over, keeping its id and parent: a file of the dump and a row found inside a file
   * (`a.eml#attachment-1`) share one space of paths (`#` and `!` are legal in names).
   * - A file of the dump where such a row is: the row steps aside, and the file holding it is read
   *   again, which puts the row where a fresh run would (`…#derived-2`). Normally done before the
   *   walk (`rereadFilesHolding`); this is for a file that appeared during the run.
   * - Such a row where a file of the dump was recorded: the row's path was given because no file
   *   of the dump has it now (`DerivedPaths.claim`), so the file is gone, and recorded so, here,
   *   since the walk's removal of missing files only looks at files' own rows.
   * - Such a row where another was: the rows the file being written held were deleted with its
   *   own, and a path a row of another file of the dump holds is not given, so that file is gone,
   *   and its rows go with it.
   */
  private clearPathOfOthers(runId: number, file: FileRecord): void {
    const held = this.statements.rowAtPath.get(file.path) as
      | { id: number; parentId: number | null; size: number | null; mtimeMs: number | null; sha256: string | null }
      | undefined;
    if (!held) return;
    if (held.parentId === null) {
      if (!file.parent) return; // the same file written again
      this.recordChange(runId, { path: file.path, change: 'removed', old: { size: held.size, mtimeMs: held.mtimeMs, sha256: held.sha256 }, new: null });
      this.#removed++;
    } else if (!file.parent) {
      this.statements.forgetRootAnalysis.run(held.id);
    }
    this.statements.deleteFile.run(held.id);
  }

  private insertMessage(runId: number, fileId: number, message: StoredMessage): void {
    const a = message.analysis;
    const s = this.statements;
    const info = s.insertMessage.run(
      fileId, message.index, message.offset, a.size, a.sha256, message.format, message.envelope, a.meta.messageId,
      a.meta.from, a.meta.fromAddress, a.meta.fromDomain, a.meta.subject, a.meta.dateHeader, a.meta.date,
      a.judgedAt, a.judgedAtSource, json(a.repairs), runId, a.traits.bodySha256, a.traits.visibleSha256, a.traits.inReplyTo,
      json(a.traits.references), a.traits.dateOffsetMinutes, a.traits.mailer, a.partsError, a.traits.textSha256,
      json(a.traits.visibleFields), a.traits.mailingList, a.meta.canonicalMessageId, a.traits.firstStampAt,
      a.meta.dateZoneKnown === null ? null : Number(a.meta.dateZoneKnown),
    );
    const messageId = Number(info.lastInsertRowid);
    for (const sig of a.signatures) {
      const t = sig.tags;
      const k = sig.key;
      s.insertSignature.run(
        messageId, sig.index, t.domain, t.selector, t.algorithm, t.canonicalization, t.signedHeaders.join(':'), t.bodyLength,
        t.timestamp, t.expiration, t.identity, sig.keyName, k?.keyType ?? null, k?.bits ?? null, k?.source ?? null,
        k?.origin ?? null, k?.fingerprint ?? null, k?.fingerprintMd5 ?? null, k?.txt ?? null, sig.keyLookup, sig.result,
        sig.outcome, sig.comment, bool(sig.aligned), bool(sig.headerSignatureValid), sig.bodyBytesSigned, sig.bodyBytesTotal,
        json(sig.warnings), k ? (k.revoked ? 'revoked' : k.source) : null, k?.firstSeen ?? null, k?.lastSeen ?? null,
        k?.compromised ?? null,
      );
    }
    s.insertArc.run(messageId, a.arc.result, a.arc.reason, json({ instances: a.arc.instances, sealerSawDkim: a.arc.sealerSawDkim }));
    for (const p of a.parts) {
      const attachmentId = s.insertAttachment.run(messageId, p.partIndex, p.partId, p.contentType, p.filename, p.normalizedName, p.size, p.sha256, p.disposition,
        p.transferEncoding, p.isMessage ? 1 : 0, p.tooLarge ? 1 : 0, p.strength, p.foldedSha256 ?? null, p.blanksKeptSha256 ?? null, p.nameUnsigned ? 1 : 0).lastInsertRowid;
      // (otherNamesOf keeps only names that normalize to something)
      for (const name of p.otherNames ?? []) s.insertOtherName.run(attachmentId, name, normalizeFileName(name));
    }
    for (const f of a.findings) s.insertFinding.run(messageId, f.code, f.severity, f.text, json(f.evidence));
    const v = a.verdict;
    s.insertVerdict.run(messageId, v.verdict, json(v.reasons), v.explanation, json(v.provenBy), v.verdict, json(v.reasons), v.explanation);
  }
}
