import { keyFileName } from '../keys/key-file-name.ts';
import { byCodeUnits } from '../store/code-unit-order.ts';
import { jsonText } from './json-text.ts';
import { KeyStore } from '../store/key-store.ts';
import type { Db } from '../store/open-store.ts';
import { inReadSnapshot } from '../store/read-snapshot.ts';
import { lastRunState, type RunState } from '../store/run-state.ts';

/** Files read per query. */
const FILE_PAGE = 500;
/** The text held before it is handed on: what the manifest holds at once, however many messages a file has. */
const PIECE_CHARS = 256 * 1024;

interface FileRow { id: number; path: string; kind: string | null; status: string; reason: string | null; size: number | null; sha256: string | null }
interface MessageRow {
  file_id: number; idx: number; byte_offset: number; size: number; sha256: string; message_id: string | null; verdict: string;
  reasons_json: string; repairs_json: string;
}

/**
 * A run's options without the machine's own facts: the number of analysis threads (`--jobs`, or
 * the cores) changes no verdict, and made the manifests of the same results differ from one
 * machine to another (red team 10, finding 09).
 */
function machineFree(options: Record<string, unknown>): Record<string, unknown> {
  const { workers: _workers, ...rest } = options;
  return rest;
}


/**
 * What the verdicts rest on beside the bytes, taken from the database rather than from the last
 * run's options (red team 10, finding 09: the manifest said `"key_files": []` and
 * `"compromised_list": null` after a plain re-run or a `keys import`, while its verdicts needed
 * keys of the store and a compromised list given to an earlier run):
 * - `used`: every record of the key store for a key name that a DKIM signature or an ARC set of
 *   the dump asked for: every record a lookup of that name answers with (verification applies
 *   the strictest of them, and their archive dates bound the key's lifetime), however it came
 *   (`--keys`, `keys import`, DNS, an earlier run). Each with its name, fingerprint, type and
 *   size, provenance, origin (a file's name without its folders, which differ from machine to
 *   machine; an archive's name; the resolver), the sha256 of the file it was imported from, the
 *   dates an archive saw it, whether it is listed as compromised, and the record itself. When it
 *   entered the store is left out: the same keys make the same entries. Identical entries (one
 *   file imported from two folders) are one.
 * - `compromised`: every fingerprint (sha256 or md5) a `--compromised` list gave the database.
 * Both sorted, so that the same keys give the same text on any machine.
 */

function keysBehindVerdicts(db: Db): { used: Array<Record<string, unknown>>; compromised: string[] } {
  const records = db.prepare(`SELECT k.name, k.fingerprint, k.key_type AS type, k.bits, k.provenance, k.source, k.origin, k.origin_sha256,
      k.first_seen, k.last_seen, EXISTS (SELECT 1 FROM compromised_keys c WHERE c.fingerprint IN (k.fingerprint, k.fingerprint_md5)) AS compromised, k.txt
    FROM keys k WHERE k.name IN (SELECT value FROM json_each(?))`).all(JSON.stringify(new KeyStore(db).namesAskedFor())) as Array<Record<string, unknown>>;
  const used = new Map<string, Record<string, unknown>>();
  for (const k of records) {
    const entry = {
      name: k['name'],
      fingerprint: k['fingerprint'],
      type: k['type'],
      bits: k['bits'],
      provenance: k['provenance'],
      origin: k['source'] === 'file' ? keyFileName(String(k['origin'])) : k['origin'],
      origin_sha256: k['origin_sha256'],
      first_seen: k['first_seen'],
      last_seen: k['last_seen'],
      compromised: k['compromised'] === 1,
      record: k['provenance'] === 'absent' ? null : k['txt'],
    };
    used.set(JSON.stringify(entry), entry);
  }
  const compromised = db.prepare('SELECT fingerprint FROM compromised_keys ORDER BY fingerprint').pluck().all() as string[];
  return { used: [...used].sort(([a], [b]) => byCodeUnits(a, b)).map(([, entry]) => entry), compromised };
}

/**
 * The manifest: every file of the dump with its size, sha256 and status, every message with its
 * sha256, verdict and reason codes, what produced them (versions, the last run's options and key
 * files by hash) and the keys and compromised fingerprints they rest on. It is deterministic (no
 * clock time, no locale, no thread count, stable order) so that a third party who re-runs
 * leakcheck on the same evidence with the same keys can compare manifests byte for byte. When
 * each run happened is in the database's `runs` table.
 *
 * Written as it is read, in pieces whose concatenation is exactly `jsonText(manifest, 2)`
 * (JSON.stringify, with the characters a terminal acts on escaped) and a newline: built whole,
 * the manifest of a 70,000-message dump took the process to 295 MB, and it grows with the dump.
 * Files are read a page at a time (by path, from the path index), each page's messages in one
 * query read a row at a time in the files' order, all inside one read transaction, and the text is
 * handed on every PIECE_CHARS, within a file's list of messages too.
 */
export function manifestText(db: Db, options: { pageSize?: number; runState?: RunState } = {}): Generator<string> {
  const pageSize = Math.max(1, Math.floor(options.pageSize ?? FILE_PAGE));
  return inReadSnapshot(db, () => manifestPieces(db, pageSize, options.runState ?? lastRunState(db, db.name)));
}

function* manifestPieces(db: Db, pageSize: number, runState: RunState): Generator<string> {
  const run = db.prepare(`SELECT dump_root, tool_version, mailauth_version, libraries_json, node_version, sqlite_version, options_json, key_files_json,
      compromised_json FROM runs WHERE status = 'completed' ORDER BY id DESC LIMIT 1`).get() as Record<string, string> | undefined;
  const verdicts: Record<string, number> = { verified: 0, unverifiable: 0, suspicious: 0 };
  // (a verdict besides the three, from a hand-edited database, is counted after them, in the
  // order of the first message stored with it, as it always was)
  const counted = db.prepare(`SELECT v.verdict, count(*) AS n FROM messages m JOIN verdicts v ON v.message_id = m.id
    GROUP BY v.verdict ORDER BY min(m.file_id * 4294967296 + m.idx)`).all() as Array<{ verdict: string; n: number }>;
  let messages = 0;
  for (const { verdict, n } of counted) {
    verdicts[verdict] = n;
    messages += n;
  }
  const files = (db.prepare('SELECT count(*) AS n FROM source_files').get() as { n: number }).n;
  const keyFiles = run ? (JSON.parse(run['key_files_json']!) as Array<{ path: string; sha256: string }>) : [];
  const head = {
    manifest_version: 1,
    produced_by: run
      ? {
          tool: 'leakcheck',
          tool_version: run['tool_version'],
          mailauth_version: run['mailauth_version'],
          libraries: run['libraries_json'] ? (JSON.parse(run['libraries_json']) as Record<string, string>) : null,
          node_version: run['node_version'],
          sqlite_version: run['sqlite_version'],
          options: machineFree(JSON.parse(run['options_json']!) as Record<string, unknown>),
          key_files: keyFiles.map((k) => ({ name: keyFileName(k.path), sha256: k.sha256 })).sort((a, b) => byCodeUnits(a.sha256, b.sha256)),
          compromised_list: run['compromised_json'] ? (JSON.parse(run['compromised_json']) as { sha256: string } | null)?.sha256 ?? null : null,
        }
      : null,
    dump_root: run?.['dump_root'] ?? null,
    // (a run cut short left verdicts that the passes across the dump have not finished: red team V, V-03)
    last_run_state: runState.state === 'none' ? null : runState.state,
    counts: { files, messages, verdicts },
    keys: keysBehindVerdicts(db),
  };
  // `files` is the last member: the head's own text, reopened, then the files one by one, each
  // indented as JSON.stringify would indent it at that depth (a newline inside a JSON string is
  // always escaped, so every raw newline is layout)
  const headText = jsonText(head, 2);
  yield `${headText.slice(0, -2)},\n  "files": `;
  if (files === 0) {
    yield '[]\n}\n';
    return;
  }
  yield '[';
  const page = db.prepare(`SELECT id, path, kind, status, reason, size, sha256 FROM source_files WHERE path > ? ORDER BY path LIMIT ${pageSize}`);
  // The messages of a page's files, in the files' order, read one at a time: a page held them all
  // at once, and a page of one mbox of 200,000 messages took 629 MB (red team W2, W2-04).
  const messagesOf = db.prepare(`SELECT m.file_id, m.idx, m.byte_offset, m.size, m.sha256, m.message_id, v.verdict, v.reasons_json, m.repairs_json
    FROM source_files f JOIN messages m ON m.file_id = f.id JOIN verdicts v ON v.message_id = m.id
    WHERE f.path > ? AND f.path <= ? ORDER BY f.path, m.idx`);
  let after = '';
  let first = true;
  let text = '';
  for (;;) {
    const rows = page.all(after) as FileRow[];
    if (rows.length === 0) break;
    const messages = (messagesOf.iterate(after, rows.at(-1)!.path) as IterableIterator<MessageRow>)[Symbol.iterator]();
    let next = messages.next();
    for (const f of rows) {
      // the entry as jsonText writes it whole, its messages spliced in one by one, indented as the
      // file list's members are
      const entry = jsonText({ path: f.path, size: f.size, sha256: f.sha256, kind: f.kind, status: f.status, reason: f.reason, messages: [] }, 2);
      const open = entry.slice(0, -'[]\n}'.length);
      text += `${first ? '' : ','}\n    ${open.replaceAll('\n', '\n    ')}`;
      first = false;
      let count = 0;
      for (; !next.done && next.value.file_id === f.id; next = messages.next()) {
        const m = next.value;
        const message = { index: m.idx, offset: m.byte_offset, size: m.size, sha256: m.sha256, message_id: m.message_id, verdict: m.verdict, reasons: JSON.parse(m.reasons_json) as string[], repairs: JSON.parse(m.repairs_json) as string[] };
        text += `${count++ ? ',' : '['}\n        ${jsonText(message, 2).replaceAll('\n', '\n        ')}`;
        if (text.length >= PIECE_CHARS) {
          yield text;
          text = '';
        }
      }
      text += count ? '\n      ]\n    }' : '[]\n    }';
    }
    yield text;
    text = '';
    after = rows[rows.length - 1]!.path;
  }
  yield '\n  ]\n}\n';
}
