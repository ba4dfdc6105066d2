/**
 * The database schema, as an ordered list of migrations. A database records its version in
 * `PRAGMA user_version` and is marked as ours by `PRAGMA application_id`, so a foreign SQLite
 * file is recognised and never overwritten. docs/schema.md documents every table.
 */
export const APPLICATION_ID = 0x4c4b4348; // "LKCH"

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
];

export const SCHEMA_VERSION = MIGRATIONS.length;
