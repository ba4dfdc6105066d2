import type { CompromisedEntry } from '../compromised.ts';
import type { KeySourceKind } from '../types.ts';

/** The key-file formats `leakcheck keys import` reads, told apart by content. */
export type KeyFileFormat = 'json-map' | 'archive-list' | 'zone' | 'key-store';

/** One DKIM key record found in an imported file, with where it came from. */
export interface ImportedKey {
  /** '<selector>._domainkey.<domain>', lower-case, no trailing dot */
  name: string;
  /** lower-case, no trailing dot */
  domain: string;
  /** lower-case (selectors are case-insensitive in DNS) */
  selector: string;
  /** the TXT record, its strings joined */
  txt: string;
  provenance: KeySourceKind;
  /** for 'file': the file's path; for 'archive': the archive's name (entry.source, else the file's base name) */
  origin: string;
  /** ISO 8601, from an archive (or a key-store file) only */
  firstSeen: string | null;
  lastSeen: string | null;
  /*
   * A key-store file (`keys export`) keeps what the exporting store recorded: the sha256 of the
   * record's own origin file, when a live lookup was made and its answer, and the definite "no
   * such record" answers of DNS (`absent`, with an empty txt).
   */
  originSha256?: string | null;
  fetchedAt?: string | null;
  dnsAnswer?: unknown;
  absent?: boolean;
  /** 'line 12' or 'entry 3' — for messages */
  where: string;
}

export interface IgnoredRecord {
  where: string;
  why: string;
}

export interface ParsedKeyFile {
  format: KeyFileFormat;
  keys: ImportedKey[];
  ignored: IgnoredRecord[];
  /** the fingerprints a key-store file lists as compromised */
  compromised?: CompromisedEntry[];
}

/**
 * A file that cannot be imported. The message names the file and, when it is about one part
 * of it, the line or entry: "<path>: line 12: unterminated quoted string".
 */
export class KeyImportError extends Error {
  override name = 'KeyImportError';
  /** the file's path as given */
  readonly file: string;
  /** 'line 12', 'entry 3 ("s._domainkey.example.com")', or null when about the whole file */
  readonly where: string | null;
  /** the message without the file and place */
  readonly detail: string;

  constructor(file: string, where: string | null, detail: string) {
    super(where === null ? `${file}: ${detail}` : `${file}: ${where}: ${detail}`);
    this.file = file;
    this.where = where;
    this.detail = detail;
  }
}
