/**
 * The database schema, as an ordered list of migrations. A database records its version in
 * `PRAGMA user_version` and is marked as ours by `PRAGMA application_id`, so a foreign SQLite
 * file is recognised and never overwritten. docs/schema.md documents every table.
 */
export const APPLICATION_ID = 0x4c4b4348; // "LKCH"

/** The SQL function a migration reads a stored Message-ID's msg-id with (canonicalMessageId). */
export const CANONICAL_MESSAGE_ID_FUNCTION = 'leakcheck_canonical_message_id';

// A migration must not count on the lookup indexes (src/store/lookup-indexes.ts) being there: a
// first run killed before it built them leaves a database without them, until its next run. One
// that changes them says IF EXISTS, and LOOKUP_INDEXES follows (its test compares the two).
export const MIGRATIONS: readonly string[] = [
  // 1: the first schema
  `
  CREATE TABLE runs (
    id               INTEGER PRIMARY KEY,
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    status           TEXT NOT NULL,
    dump_root        TEXT NOT NULL,
    command_line     TEXT NOT NULL,
    tool_version     TEXT NOT NULL,
    mailauth_version TEXT NOT NULL,
    node_version     TEXT NOT NULL,
    sqlite_version   TEXT NOT NULL,
    options_json     TEXT NOT NULL,
    key_files_json   TEXT NOT NULL,
    counts_json      TEXT
  );

  CREATE TABLE source_files (
    id            INTEGER PRIMARY KEY,
    path          TEXT NOT NULL UNIQUE,
    kind          TEXT,
    status        TEXT NOT NULL,
    reason        TEXT,
    detail        TEXT,
    size          INTEGER,
    mtime_ms      REAL,
    sha256        TEXT,
    message_count INTEGER NOT NULL DEFAULT 0,
    run_id        INTEGER NOT NULL REFERENCES runs(id)
  );

  CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    file_id          INTEGER NOT NULL REFERENCES source_files(id) ON DELETE CASCADE,
    idx              INTEGER NOT NULL,
    byte_offset      INTEGER NOT NULL,
    size             INTEGER NOT NULL,
    sha256           TEXT NOT NULL,
    format           TEXT NOT NULL,
    envelope         TEXT,
    message_id       TEXT,
    from_header      TEXT,
    from_address     TEXT,
    from_domain      TEXT,
    subject          TEXT,
    date_header      TEXT,
    date             TEXT,
    judged_at        TEXT,
    judged_at_source TEXT NOT NULL,
    repairs_json     TEXT NOT NULL,
    run_id           INTEGER NOT NULL REFERENCES runs(id),
    UNIQUE (file_id, idx)
  );
  CREATE INDEX messages_sha256 ON messages(sha256);
  CREATE INDEX messages_message_id ON messages(message_id);

  CREATE TABLE signatures (
    id                     INTEGER PRIMARY KEY,
    message_id             INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    sig_index              INTEGER NOT NULL,
    domain                 TEXT,
    selector               TEXT,
    algorithm              TEXT,
    canonicalization       TEXT,
    signed_headers         TEXT NOT NULL,
    body_length            INTEGER,
    sig_timestamp          INTEGER,
    sig_expiration         INTEGER,
    identity               TEXT,
    key_name               TEXT,
    key_type               TEXT,
    key_bits               INTEGER,
    key_source             TEXT,
    key_origin             TEXT,
    key_fingerprint        TEXT,
    key_fingerprint_md5    TEXT,
    key_record             TEXT,
    key_lookup             TEXT NOT NULL,
    result                 TEXT NOT NULL,
    outcome                TEXT NOT NULL,
    comment                TEXT,
    aligned                INTEGER NOT NULL,
    header_signature_valid INTEGER,
    body_bytes_signed      INTEGER,
    body_bytes_total       INTEGER,
    warnings_json          TEXT NOT NULL,
    UNIQUE (message_id, sig_index)
  );
  CREATE INDEX signatures_key ON signatures(domain, selector);

  CREATE TABLE arc_results (
    message_id     INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    result         TEXT NOT NULL,
    reason         TEXT,
    instances_json TEXT NOT NULL
  );

  CREATE TABLE findings (
    id            INTEGER PRIMARY KEY,
    message_id    INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    code          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    text          TEXT NOT NULL,
    evidence_json TEXT NOT NULL
  );
  CREATE INDEX findings_message ON findings(message_id);

  CREATE TABLE verdicts (
    message_id     INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    verdict        TEXT NOT NULL,
    reasons_json   TEXT NOT NULL,
    explanation    TEXT NOT NULL,
    proven_by_json TEXT NOT NULL
  );
  CREATE INDEX verdicts_verdict ON verdicts(verdict);

  CREATE TABLE dns_cache (
    name         TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    records_json TEXT NOT NULL,
    detail       TEXT,
    fetched_at   TEXT NOT NULL
  );
  `,
  // 2: the key store. Keys become first-class evidence with provenance; the DNS cache of
  // version 1 is carried over as `dns` keys and `absent` records, and every live lookup is logged.
  `
  CREATE TABLE keys (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    domain          TEXT NOT NULL,
    selector        TEXT NOT NULL,
    provenance      TEXT NOT NULL,
    source          TEXT NOT NULL,
    origin          TEXT NOT NULL,
    origin_sha256   TEXT,
    txt             TEXT NOT NULL,
    key_type        TEXT,
    bits            INTEGER,
    fingerprint     TEXT,
    fingerprint_md5 TEXT,
    parse_error     TEXT,
    first_seen      TEXT,
    last_seen       TEXT,
    fetched_at      TEXT,
    dns_answer_json TEXT,
    added_at        TEXT NOT NULL,
    UNIQUE (name, source, origin, txt)
  );
  CREATE INDEX keys_name ON keys(name);
  CREATE INDEX keys_fingerprint ON keys(fingerprint);

  CREATE TABLE key_lookups (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    looked_up_at TEXT NOT NULL,
    status      TEXT NOT NULL,
    detail      TEXT,
    answer_json TEXT NOT NULL
  );

  INSERT INTO key_lookups (name, looked_up_at, status, detail, answer_json)
    SELECT name, fetched_at, status, detail, records_json FROM dns_cache;
  INSERT OR IGNORE INTO keys (name, domain, selector, provenance, source, origin, txt, fetched_at, dns_answer_json, added_at)
    SELECT c.name, substr(c.name, instr(c.name, '._domainkey.') + 12), substr(c.name, 1, instr(c.name, '._domainkey.') - 1),
      CASE WHEN c.status = 'absent' THEN 'absent' ELSE 'dns' END, 'dns', 'system resolver',
      COALESCE(json_extract(r.value, '$.txt'), ''), c.fetched_at, c.records_json, c.fetched_at
    FROM dns_cache c LEFT JOIN json_each(c.records_json) r
    WHERE c.status IN ('found', 'absent') AND instr(c.name, '._domainkey.') > 0;
  DROP TABLE dns_cache;

  ALTER TABLE source_files ADD COLUMN analyzed_at TEXT;
  ALTER TABLE source_files ADD COLUMN analysis_context TEXT;
  ALTER TABLE signatures ADD COLUMN key_provenance TEXT;
  ALTER TABLE signatures ADD COLUMN key_first_seen TEXT;
  ALTER TABLE signatures ADD COLUMN key_last_seen TEXT;
  ALTER TABLE signatures ADD COLUMN key_compromised TEXT;
  ALTER TABLE runs ADD COLUMN compromised_json TEXT;
  `,
  // 3: what the cross-dump checks compare (normalised content hashes, thread links, sender
  // habits), findings that come from comparing messages, and the per-message verdict kept apart
  // from the final one so that the cross-dump pass can be re-run.
  `
  ALTER TABLE messages ADD COLUMN body_sha256 TEXT;
  ALTER TABLE messages ADD COLUMN visible_sha256 TEXT;
  ALTER TABLE messages ADD COLUMN in_reply_to TEXT;
  ALTER TABLE messages ADD COLUMN references_json TEXT;
  ALTER TABLE messages ADD COLUMN date_offset_min INTEGER;
  ALTER TABLE messages ADD COLUMN mailer TEXT;
  CREATE INDEX messages_from ON messages(from_address);
  ALTER TABLE findings ADD COLUMN scope TEXT NOT NULL DEFAULT 'message';
  ALTER TABLE verdicts ADD COLUMN message_verdict TEXT;
  ALTER TABLE verdicts ADD COLUMN message_reasons_json TEXT;
  ALTER TABLE verdicts ADD COLUMN message_explanation TEXT;
  UPDATE verdicts SET message_verdict = verdict, message_reasons_json = reasons_json, message_explanation = explanation;
  `,
  // 4: the chain of custody across runs: a file that changed or disappeared between runs is
  // recorded, with what was known of it before.
  `
  CREATE TABLE file_changes (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    path       TEXT NOT NULL,
    change     TEXT NOT NULL,
    old_size   INTEGER,
    old_mtime_ms REAL,
    old_sha256 TEXT,
    new_size   INTEGER,
    new_mtime_ms REAL,
    new_sha256 TEXT,
    noticed_at TEXT NOT NULL
  );
  `,
  // 5: documents and attachments. Messages found inside other messages (message/rfc822) and
  // inside zip archives get source_files rows of their own, children of the file that holds them.
  `
  ALTER TABLE source_files ADD COLUMN parent_file_id INTEGER REFERENCES source_files(id) ON DELETE CASCADE;
  CREATE INDEX source_files_parent ON source_files(parent_file_id);
  ALTER TABLE messages ADD COLUMN parent_message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL;
  ALTER TABLE messages ADD COLUMN parts_error TEXT;
  CREATE TABLE attachments (
    id                INTEGER PRIMARY KEY,
    message_id        INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    part_index        INTEGER NOT NULL,
    part_id           TEXT,
    content_type      TEXT NOT NULL,
    filename          TEXT,
    normalized_name   TEXT,
    size              INTEGER NOT NULL,
    sha256            TEXT NOT NULL,
    disposition       TEXT,
    transfer_encoding TEXT,
    is_message        INTEGER NOT NULL,
    too_large         INTEGER NOT NULL,
    strength          TEXT NOT NULL
  );
  CREATE INDEX attachments_message ON attachments(message_id);
  CREATE INDEX attachments_sha256 ON attachments(sha256);
  CREATE INDEX attachments_name ON attachments(normalized_name);
  CREATE TABLE documents (
    file_id             INTEGER PRIMARY KEY REFERENCES source_files(id) ON DELETE CASCADE,
    sha256              TEXT NOT NULL,
    size                INTEGER,
    normalized_name     TEXT,
    status              TEXT NOT NULL,
    matches_json        TEXT NOT NULL,
    name_conflicts_json TEXT NOT NULL
  );
  `,
  // 6: a re-run asks, for every unchanged file, whether a usable key was added since the file's
  // analysis; by this index that is one seek, not a scan of the key store per file.
  `
  CREATE INDEX keys_added_at ON keys(added_at);
  `,
  // 7: what the copies of one message are compared on, as a reader sees them: the text decoded
  // from its transfer encoding and charset, each visible header decoded, and the mailing list a
  // copy came through. Analyses stored before have none of it, and the comparison would fall
  // back to raw bytes for them (a Sent copy stored quoted-printable then looks altered), so
  // every file is read again on the next run, as after an upgrade of leakcheck.
  `
  ALTER TABLE messages ADD COLUMN text_sha256 TEXT;
  ALTER TABLE messages ADD COLUMN visible_fields_json TEXT;
  ALTER TABLE messages ADD COLUMN mailing_list TEXT;
  UPDATE source_files SET analysis_context = NULL;
  `,
  // 8: keys known to be forgeable stay known. A run with --compromised records the list's
  // fingerprints here, and every later run treats them as compromised too: before, a plain re-run
  // without the flag silently turned their messages back to "verified".
  `
  CREATE TABLE compromised_keys (
    fingerprint TEXT PRIMARY KEY,
    list_path   TEXT NOT NULL,
    list_sha256 TEXT NOT NULL,
    added_at    TEXT NOT NULL
  );
  `,
  // 9: a named attachment not in base64 keeps the hash of its content with whitespace folded as a
  // relaxed signature leaves it unfixed, so that a loose document of its name is compared with
  // what the signature proves of it (red team 14, finding 09). Every file is read again on the
  // next run, as after an upgrade of leakcheck.
  `
  ALTER TABLE attachments ADD COLUMN folded_sha256 TEXT;
  UPDATE source_files SET analysis_context = NULL;
  `,
  // 10: the same hash with the blanks inside lines kept, so that a loose copy whose spaces and
  // tabs moved (a value moved to another column of tab-separated data, which a relaxed signature
  // cannot see) is told apart from a copy saved with other line endings (red team 15, F-DOC-3).
  // Every file is read again on the next run.
  `
  ALTER TABLE attachments ADD COLUMN blanks_kept_sha256 TEXT;
  UPDATE source_files SET analysis_context = NULL;
  `,
  // 11: the versions of the packages besides mailauth that decide verdicts (the Public Suffix
  // List's tldts, the MIME libraries, yauzl), as each run found them (red team 28, H-03); null
  // for runs made before.
  `
  ALTER TABLE runs ADD COLUMN libraries_json TEXT;
  `,
  // 12: "a key added since this file was analysed" was decided by the wall clock (keys.added_at
  // against source_files.analyzed_at), so a clock behind or ahead between two runs left messages
  // waiting for keys the store holds, for ever (red team 28, H-01). A file's analysis now records
  // the highest keys.id the store held when it was written; key records are never deleted, so
  // their ids only grow, and a record added since has a higher id whatever the clocks said. Rows
  // analysed before have none, and every key record counts as added since for them: the next
  // run reads again the files a key can change, which also heals a database a skewed clock left
  // stale. The index on keys.added_at served the clock comparison only.
  `
  ALTER TABLE source_files ADD COLUMN last_key_id INTEGER;
  DROP INDEX IF EXISTS keys_added_at;
  `,
  // 13: the command of a run, so that it can be told and replayed exactly: command_line joined
  // argv with spaces, which loses where an argument ends and, pasted into a shell, runs what a
  // file's name holds (red team 28, H-08). The arguments as a JSON array, and the working
  // directory the relative ones are relative to; command_line is now shell-quoted where needed.
  `
  ALTER TABLE runs ADD COLUMN argv_json TEXT;
  ALTER TABLE runs ADD COLUMN cwd TEXT;
  `,
  // 14: why a file of the dump could not be confirmed (red team 28, G-03): a file read before
  // that a later run cannot read keeps its analysis, and custody records it \`unconfirmed\` with
  // the system's word for the failure ("EACCES: permission denied"), which no other row keeps:
  // the file's own row is left as the run that read it wrote it. Null for every other entry.
  `
  ALTER TABLE file_changes ADD COLUMN detail TEXT;
  `,
  // 15: copies and threads are matched by the msg-id a Message-ID holds, not by the field's text: a
  // forged copy whose Message-ID carried a comment, or no angle brackets, was never compared with
  // its proven twin (red team 30, M-04). message_id stays the field as written. Rows stored before
  // get the msg-id of their stored field (the function is the reader's own, given to SQLite by
  // openStore); every file is also read again on the next run, as the In-Reply-To and References
  // of a row, and its From address, were read otherwise before (M-02).
  `
  ALTER TABLE messages ADD COLUMN canonical_message_id TEXT;
  UPDATE messages SET canonical_message_id = ${CANONICAL_MESSAGE_ID_FUNCTION}(message_id);
  CREATE INDEX messages_canonical_message_id ON messages(canonical_message_id);
  UPDATE source_files SET analysis_context = NULL;
  `,
  // 16: when each message was first delivered, by its own trace (the bottom-most server stamp, as
  // the timeline check reads it), so that the thread check accuses an unproven Date only when the
  // message's own trace bears it out: a reply from a PC whose calendar date was wrong, which its
  // Received stamps put an hour after its parent, was called fabricated (red team R, R-05). Null
  // for rows stored before; every file is read again on the next run, which fills it in.
  `
  ALTER TABLE messages ADD COLUMN first_stamp_at TEXT;
  UPDATE source_files SET analysis_context = NULL;
  `,
  // 17: a Date with no zone, or one no table here reads (`CET`), is stored too, read as -0000,
  // with date_zone_known 0: the dump's checks had no Date for it, and a forged parent written
  // without a zone escaped reply-before-parent and date-after-dump (red team R, R-02). Every Date
  // stored before named a readable zone; every file is read again, which stores the others.
  `
  ALTER TABLE messages ADD COLUMN date_zone_known INTEGER;
  UPDATE messages SET date_zone_known = 1 WHERE date IS NOT NULL;
  UPDATE source_files SET analysis_context = NULL;
  `,
  // 18: a document's matches are the emails that carry its bytes, the same for every loose copy
  // of those bytes; its name conflicts are the same for every copy of one name. Each row kept
  // them whole, so D copies of a document carried by M emails stored D × M entries: 1,000 and
  // 1,000 made a 249 MB database from a 5.7 MB dump (red team W2, W2-02). They are now stored
  // once per content (and per content and name) and shared; `documents` stays, as a view with
  // the columns it had, for every query written against it. A document keeps its first 100 name
  // conflicts and the count of all: a name many emails sent with other bytes (`image001.png`),
  // against many loose files of it, still made every pair. Rows stored before are carried over.
  `
  ALTER TABLE documents RENAME TO documents_17;
  CREATE TABLE document_matches (
    sha256       TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    matches_json TEXT NOT NULL
  );
  CREATE TABLE document_name_conflicts (
    id                   INTEGER PRIMARY KEY,
    key                  TEXT NOT NULL UNIQUE,
    name_conflicts_json  TEXT NOT NULL,
    name_conflicts_total INTEGER NOT NULL
  );
  CREATE TABLE document_files (
    file_id         INTEGER PRIMARY KEY REFERENCES source_files(id) ON DELETE CASCADE,
    sha256          TEXT NOT NULL,
    size            INTEGER,
    normalized_name TEXT,
    conflicts_id    INTEGER NOT NULL REFERENCES document_name_conflicts(id)
  );
  CREATE INDEX document_files_conflicts ON document_files(conflicts_id);
  INSERT OR IGNORE INTO document_matches (sha256, status, matches_json) SELECT sha256, status, matches_json FROM documents_17 ORDER BY file_id;
  INSERT INTO document_name_conflicts (key, name_conflicts_json, name_conflicts_total) SELECT 'file ' || file_id, name_conflicts_json, json_array_length(name_conflicts_json) FROM documents_17 ORDER BY file_id;
  INSERT INTO document_files (file_id, sha256, size, normalized_name, conflicts_id)
    SELECT d.file_id, d.sha256, d.size, d.normalized_name, c.id FROM documents_17 d JOIN document_name_conflicts c ON c.key = 'file ' || d.file_id;
  DROP TABLE documents_17;
  CREATE VIEW documents AS
    SELECT d.file_id, d.sha256, d.size, d.normalized_name, m.status, m.matches_json, c.name_conflicts_json, c.name_conflicts_total
    FROM document_files d JOIN document_matches m ON m.sha256 = d.sha256 JOIN document_name_conflicts c ON c.id = d.conflicts_id;
  `,
  // 19: a part whose bytes a signature covers while none that does fixes its file name (a
  // single-part message named by a Content-Disposition its h= leaves out): the name is the
  // forger's to change, and a renamed genuine document escaped the name-conflict red flag (red
  // team Y, Y-02). Every file is read again on the next run, which sets it.
  `
  ALTER TABLE attachments ADD COLUMN name_unsigned INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX attachments_name_unsigned ON attachments(name_unsigned) WHERE name_unsigned = 1;
  UPDATE source_files SET analysis_context = NULL;
  `,
  // 20: the other names a part declares (Content-Type name= beside Content-Disposition
  // filename=, filename= beside filename*=, two Content-Disposition fields), which other readers
  // save it under: a forged file of such a name had no red flag (red team Y, Y-16). A table, not
  // a list in a column, so that the documents pass finds a part by any of its names through an
  // index. Every file is read again on the next run, which fills it.
  `
  CREATE TABLE attachment_other_names (
    attachment_id   INTEGER NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    normalized_name TEXT NOT NULL
  );
  CREATE INDEX attachment_other_names_attachment ON attachment_other_names(attachment_id);
  CREATE INDEX attachment_other_names_name ON attachment_other_names(normalized_name);
  UPDATE source_files SET analysis_context = NULL;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
