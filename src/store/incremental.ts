import { realpathSync } from 'node:fs';
import type { MessageAnalysis } from '../analyze/analyze-message.ts';
import type { DiscoveredFile } from '../discover/types.ts';
import { normalizeKeyName } from '../keys/types.ts';
import type { Db } from './open-store.ts';
import type { FileChange } from './write.ts';

/**
 * Why a file is (or is not) read again on a re-run. Unchanged evidence whose verdicts cannot have
 * moved is not re-read: a re-run after importing a few keys touches only the messages that were
 * waiting for them. `unchanged-skipped` is the same for a file that held no message (a loose
 * document keeps its sha256).
 */
export type FileState = 'new' | 'changed' | 'retry' | 'new-context' | 'new-keys' | 'unchanged' | 'confirm-by-hash' | 'unchanged-skipped';

export interface PreviousFile {
  size: number | null;
  mtimeMs: number | null;
  sha256: string | null;
}

/** A file modified within this long of its analysis may have changed without its mtime showing it. */
const RACY_MS = 2_000;

export interface FileStateOptions {
  /**
   * `verify --rehash`: size and mtime vouch for nothing. Every recorded file is read again and
   * its sha256 compared with the record; the analysis is kept only if the bytes are the same.
   */
  rehash?: boolean;
}

/** An ARC set's key name as the query below forms it from the stored instance (SQLite's lower() folds ASCII only). */
const arcName = (signer: 'seal' | 'ams'): string =>
  `lower(json_extract(i.value, '$.${signer}Selector') || '._domainkey.' || rtrim(json_extract(i.value, '$.${signer}Domain'), '.'))`;

/**
 * Every key name the stored results can wait for (see waitingForKeys below): each signature's
 * `key_name`, and each ARC set's seal and message-signature names, as that query forms them and as
 * the lookup and the manifest do (normalizeKeyName). A key record under any other name changes
 * no stored analysis.
 */
export function namesResultsWaitFor(db: Db): string[] {
  const rows = db.prepare(`SELECT key_name FROM signatures WHERE key_name IS NOT NULL
    UNION SELECT ${arcName('seal')} FROM arc_results a, json_each(a.instances_json, '$.instances') i
    UNION SELECT ${arcName('ams')} FROM arc_results a, json_each(a.instances_json, '$.instances') i
    UNION SELECT json_extract(i.value, '$.sealSelector') || '._domainkey.' || json_extract(i.value, '$.sealDomain') FROM arc_results a, json_each(a.instances_json, '$.instances') i
    UNION SELECT json_extract(i.value, '$.amsSelector') || '._domainkey.' || json_extract(i.value, '$.amsDomain') FROM arc_results a, json_each(a.instances_json, '$.instances') i`)
    .pluck().all() as Array<string | null>;
  return [...new Set(rows.flatMap((name) => (name === null ? [] : [name, normalizeKeyName(name)])))];
}

/** The same names for one analysis about to be stored. */
export function namesAnalysisWaitsFor(analysis: MessageAnalysis): string[] {
  const names: string[] = [];
  for (const sig of analysis.signatures) if (sig.keyName !== null) names.push(sig.keyName);
  for (const instance of analysis.arc.instances) {
    for (const [selector, domain] of [[instance.sealSelector, instance.sealDomain], [instance.amsSelector, instance.amsDomain]] as const) {
      if (selector === null || domain === null) continue;
      const joined = `${selector}._domainkey.${domain}`;
      names.push(joined, `${selector}._domainkey.${domain.replace(/\.+$/, '')}`.replace(/[A-Z]+/g, (m) => m.toLowerCase()));
    }
  }
  return names;
}

export function fileStateChecker(
  db: Db,
  context: string,
  options: FileStateOptions = {},
): (file: DiscoveredFile) => { state: FileState; previous: PreviousFile | null } {
  // Only a file's own row: a row found inside another file (`a.eml#attachment-1`) under the same
  // path is no record of this file, and a file that appears there is new, not that row changed.
  const byPath = db.prepare(
    'SELECT id, size, mtime_ms, sha256, status, reason, analyzed_at, analysis_context, last_key_id FROM source_files WHERE path = ? AND parent_file_id IS NULL',
  );
  // Asked first: on a re-run where no key came since a file's analysis (the usual case), this
  // one seek answers for the file, and the join below is not made (20 µs a file, 1.4 s of a
  // re-run over 70,000 unchanged files). Asked per file, not once per run: a key fetched during
  // the run counts for the files walked after it, as it does for the join.
  // "Since" is by key record id against the highest id the store held when the file was written
  // (source_files.last_key_id), not by clock: keys.added_at and analyzed_at come from whatever
  // clock each run had, and a key imported on a clock ten minutes behind was never "since"
  // (red team 28, H-01). A file analysed before the store recorded that (null) counts every key.
  const keyAddedSince = db.prepare("SELECT 1 FROM keys WHERE id > ? AND provenance != 'absent' LIMIT 1");
  // A signature of the file, or of a message found inside it at any depth (a zip entry, a
  // forwarded message: their rows hang under the file's, and only the file is read again), whose
  // analysis a key record added since can change: one that did not verify, when its key name has
  // gained any usable record; one that verified, when its own key (same name and fingerprint) has
  // gained a record, which may carry dates (the key's known lifetime), a stricter record of the key,
  // or a higher-ranked source for it. Another key under its name cannot change a signature that
  // verified: every candidate is tried, and the one that verifies it is kept. An ARC chain that did
  // not validate waits the same way for the keys of its seals and message signatures (an ARC-only
  // message, or one whose DKIM failure a trusted sealer explains, kept its first verdict).
  const waitingForKeys = db.prepare(`WITH RECURSIVE tree(id) AS (
      SELECT @file UNION SELECT f.id FROM source_files f JOIN tree ON f.parent_file_id = tree.id)
    SELECT 1 FROM tree JOIN messages m ON m.file_id = tree.id
    WHERE EXISTS (SELECT 1 FROM signatures s WHERE s.message_id = m.id AND s.key_name IS NOT NULL AND EXISTS (
        SELECT 1 FROM keys k WHERE k.name = s.key_name AND k.provenance != 'absent' AND k.id > @since
          AND (s.outcome != 'pass' OR s.key_fingerprint IS NULL OR k.fingerprint = s.key_fingerprint)))
      OR EXISTS (SELECT 1 FROM arc_results a, json_each(a.instances_json, '$.instances') i
        WHERE a.message_id = m.id AND a.result != 'pass' AND a.result != 'none' AND EXISTS (
          SELECT 1 FROM keys k WHERE k.name IN (${arcName('seal')}, ${arcName('ams')}) AND k.provenance != 'absent' AND k.id > @since))
      -- a chain that passed, given another record of a key that validated it: the strictest
      -- record of a key applies to ARC as to DKIM, so the result may change (red team 28, H-05)
      OR EXISTS (SELECT 1 FROM arc_results a, json_each(a.instances_json, '$.instances') i
        WHERE a.message_id = m.id AND a.result = 'pass' AND EXISTS (
          SELECT 1 FROM keys k WHERE k.provenance != 'absent' AND k.id > @since AND (
            (k.name = ${arcName('seal')} AND k.fingerprint = json_extract(i.value, '$.sealKey.fingerprint'))
            OR (k.name = ${arcName('ams')} AND k.fingerprint = json_extract(i.value, '$.amsKey.fingerprint')))))
    LIMIT 1`);
  // A first run on a fresh database knows no file: no need to ask for each one. (The walk yields
  // every path once, so a file written during this run is never looked up again.)
  if (!db.prepare('SELECT 1 FROM source_files LIMIT 1').get()) return () => ({ state: 'new', previous: null });
  return (file) => {
    const row = byPath.get(file.relPath) as
      | {
          id: number; size: number | null; mtime_ms: number | null; sha256: string | null; status: string; reason: string | null;
          analyzed_at: string | null; analysis_context: string | null; last_key_id: number | null;
        }
      | undefined;
    if (!row) return { state: 'new', previous: null };
    const previous = { size: row.size, mtimeMs: row.mtime_ms, sha256: row.sha256 };
    const racy = (analyzedAt: string): boolean => file.mtimeMs >= Date.parse(analyzedAt) - RACY_MS;
    const state = ((): FileState => {
      if (row.size !== file.size || row.mtime_ms !== file.mtimeMs) return 'changed';
      // A regular file that held no message (a loose document, a picture, notes): the same trust
      // in size and mtime keeps its kind and its sha256, unless this leakcheck might sniff it
      // differently or it was written in the moment it was looked at. (Only what sniffing a
      // regular file concluded from it: a symlink or a device recorded before is looked at again.)
      if (row.status === 'skipped') {
        const sniffed = row.reason === 'not-email' || row.reason === 'binary' || row.reason === 'empty';
        return sniffed && row.analyzed_at && row.analysis_context === context && !racy(row.analyzed_at) && !options.rehash ? 'unchanged-skipped' : 'retry';
      }
      if (row.status !== 'ok' || !row.analyzed_at) return 'retry';
      if (row.analysis_context !== context) return 'new-context';
      const lastKeyId = row.last_key_id ?? 0;
      if (keyAddedSince.get(lastKeyId) && waitingForKeys.get({ file: row.id, since: lastKeyId })) return 'new-keys';
      // Written in the same moment it was analysed: size and mtime cannot vouch for it (the
      // "racily clean" case), so its hash decides.
      if (racy(row.analyzed_at) || options.rehash) return 'confirm-by-hash';
      return 'unchanged';
    })();
    return { state, previous };
  };
}

/**
 * The rows found inside other files (forwarded messages, zip entries) that a fresh run on the dump
 * as it is now would put at another path (`DerivedPaths.wouldMove`): a file of the dump named like
 * one appeared, or one that had pushed it aside went. The file that holds such a row must be read
 * again, even unchanged, or the database would depend on its history: the row would keep a path
 * a file of the dump now has, which that file's own row would take over.
 */
export function displacedDerivedRows(db: Db, wouldMove: (path: string) => boolean): number[] {
  const rows = db.prepare('SELECT id, path FROM source_files WHERE parent_file_id IS NOT NULL').all() as Array<{ id: number; path: string }>;
  return rows.filter((r) => wouldMove(r.path)).map((r) => r.id);
}

/** The file of the dump that holds the row recorded at `path` (found inside it, or deeper), or null when no such row is. */
export function fileHoldingRow(db: Db): (path: string) => string | null {
  const holder = db.prepare(`WITH RECURSIVE up(id, parent, path) AS (
      SELECT id, parent_file_id, path FROM source_files WHERE path = ? AND parent_file_id IS NOT NULL
      UNION ALL SELECT f.id, f.parent_file_id, f.path FROM source_files f JOIN up ON f.id = up.parent)
    SELECT path FROM up WHERE parent IS NULL`).pluck();
  return (path) => (holder.get(path) as string | undefined) ?? null;
}

/** Whether a file with no record joined the dump since the last completed walk: its custody entry, or null. */
export type AdditionCheck = (path: string, previous: PreviousFile | null, now: PreviousFile) => FileChange | null;

/**
 * A file of the dump with no record is an addition when the last run to complete a walk of the
 * dump walked this same folder (`root`, or another name for it) and could have seen the file:
 * it was not there then, so it joined the evidence afterwards, and the chain of custody says so.
 * Nothing is recorded:
 * - before any walk completed (a first run, or one resumed before any run completed): nothing
 *   tells a file added from a file not reached yet;
 * - when the last completed walk was of another folder (a sub-folder checked on its own, another
 *   dump): it removed this folder's records, and the files it did not walk are not new;
 * - for a file below a directory that walk could not list (or look at): it may have been there.
 * A dump moved or renamed since its last completed walk gets no additions recorded until a walk
 * of it at its new place completes: a missed addition is a gap in the record, a file of the
 * original evidence called an addition would discredit it.
 */
export function additionsSince(db: Db, lastWalk: LastWalk | null): AdditionCheck {
  if (!lastWalk?.sameFolder) return () => null;
  const unseenBelow = db.prepare(`SELECT 1 FROM source_files WHERE path = ? AND status = 'error' AND parent_file_id IS NULL`).pluck();
  // (the top folder's own row is ".": a walk that could not list it saw nothing below it)
  if (unseenBelow.get('.') !== undefined) return () => null;
  const underUnseenDirectory = (path: string): boolean => {
    for (let slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
      if (unseenBelow.get(path.slice(0, slash)) !== undefined) return true;
    }
    return false;
  };
  return (path, previous, now) => (previous === null && !underUnseenDirectory(path) ? { path, change: 'added', old: null, new: now } : null);
}

/** The folder the last completed run walked, and whether it is the one at `root`. */
export interface LastWalk {
  root: string;
  sameFolder: boolean;
}

export function lastCompletedWalk(db: Db, root: string): LastWalk | null {
  const last = db.prepare(`SELECT dump_root AS root FROM runs WHERE status = 'completed' ORDER BY id DESC LIMIT 1`).get() as { root: string } | undefined;
  return last ? { root: last.root, sameFolder: sameFolder(last.root, root) } : null;
}

/** The same folder, through any symlinks in either name (a name that no longer resolves only matches itself). */
function sameFolder(a: string, b: string): boolean {
  const real = (path: string): string => {
    try {
      return realpathSync.native(path);
    } catch {
      return path;
    }
  };
  return a === b || real(a) === real(b);
}

/**
 * What a re-read found different from a file's record, as a chain-of-custody entry: its size, its
 * mtime, or its bytes (when both readings have a sha256). Whatever the file has become (a message
 * file now a PDF, a document now a link), a difference is recorded.
 */
export function changeSince(path: string, previous: PreviousFile | null, now: PreviousFile): FileChange | null {
  if (!previous) return null;
  const bytesDiffer = previous.sha256 !== null && now.sha256 !== null && previous.sha256 !== now.sha256;
  if (previous.size === now.size && previous.mtimeMs === now.mtimeMs && !bytesDiffer) return null;
  return { path, change: 'changed', old: previous, new: now };
}

/**
 * A file read and hashed before that this run could not read, as a chain-of-custody entry
 * (`unconfirmed`), or null. Only while what can still be seen of it says nothing changed: its
 * size and mtime as recorded (`now`), or nothing at all when not even lstat could look at it
 * (null). Such a file keeps its analysis: neither its bytes nor its verdict are known to have
 * moved, and an error row in their place deleted the verdict of evidence that may be intact
 * (red team 28, G-03). A file never hashed had no analysis to keep.
 */
export function unconfirmedSince(path: string, previous: PreviousFile | null, now: { size: number | null; mtimeMs: number | null } | null, why: string): FileChange | null {
  if (!previous?.sha256) return null;
  if (now && (now.size !== previous.size || now.mtimeMs !== previous.mtimeMs)) return null;
  return { path, change: 'unconfirmed', old: previous, new: { size: now?.size ?? null, mtimeMs: now?.mtimeMs ?? null, sha256: null }, detail: why };
}
