import { byKeyRank } from '../keys/key-order.ts';
import { parseKeyRecord } from '../keys/parse-key.ts';
import { keyNameParts, normalizeKeyName, type KeyAnswer, type KeyRecord, type KeySighting, type KeySourceKind } from '../keys/types.ts';
import type { CompromisedEntry, CompromisedList } from '../keys/compromised.ts';
import type { KeyStoreFileRecord } from '../keys/import/key-store-file.ts';
import type { Db } from './open-store.ts';

/**
 * Where a key record stands as evidence: a live DNS answer, an archive's record, a file someone
 * supplied, a record that exists but was revoked (empty p=), or a definite "no such record".
 */
export type KeyProvenance = 'dns' | 'archive' | 'file' | 'revoked' | 'absent';

export interface NewKey {
  name: string;
  txt: string;
  source: KeySourceKind;
  origin: string;
  originSha256?: string | null;
  firstSeen?: string | null;
  lastSeen?: string | null;
  fetchedAt?: string | null;
  dnsAnswer?: unknown;
}

export interface StoredKey {
  id: number;
  name: string;
  domain: string;
  selector: string;
  provenance: KeyProvenance;
  source: KeySourceKind;
  origin: string;
  originSha256: string | null;
  txt: string;
  keyType: string | null;
  bits: number | null;
  fingerprint: string | null;
  parseError: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  fetchedAt: string | null;
  addedAt: string;
}

/** One entry of a key-archive list, the shape `keys import` reads with first-seen and last-seen dates. */
export interface ArchiveEntry {
  domain: string;
  selector: string;
  value: string;
  firstSeenAt: string | null;
  lastSeenAt: string | null;
  source: string;
}

/**
 * Usable records before revoked ones; then in the order shared with ARC's candidates (byKeyRank),
 * never by the store's insertion order (id), which credited the same key in two files to the
 * file given first (red team 28, H-04).
 */
const byRank = (a: StoredKey, b: StoredKey): number => Number(a.provenance === 'revoked') - Number(b.provenance === 'revoked') || byKeyRank(a, b);

/** The key store: every key record leakcheck knows, with where it came from. */
export class KeyStore {
  /** Records the fingerprints of a --compromised list: they stay compromised for every later run. */
  recordCompromised(list: CompromisedList, at: string): void {
    this.addCompromised([...list.fingerprints].map((fingerprint) => ({ fingerprint, listPath: list.path, listSha256: list.sha256 })), at);
  }

  /** Records compromised fingerprints, each with the list that named it; returns how many were new. */
  addCompromised(entries: CompromisedEntry[], at: string): number {
    const insert = this.db.prepare('INSERT OR IGNORE INTO compromised_keys (fingerprint, list_path, list_sha256, added_at) VALUES (?, ?, ?, ?)');
    return this.db.transaction(() => entries.reduce((added, e) => added + insert.run(e.fingerprint, e.listPath, e.listSha256, at).changes, 0))();
  }

  /** Every fingerprint a --compromised list ever named here, with the list it first came from. */
  compromisedFingerprints(): Map<string, string> {
    return new Map(this.compromisedEntries().map((e) => [e.fingerprint, e.listPath]));
  }

  compromisedEntries(): CompromisedEntry[] {
    const rows = this.db.prepare('SELECT fingerprint, list_path, list_sha256 FROM compromised_keys ORDER BY fingerprint').all() as Array<Record<string, string>>;
    return rows.map((r) => ({ fingerprint: r['fingerprint']!, listPath: r['list_path']!, listSha256: r['list_sha256']! }));
  }

  private readonly db: Db;
  private readonly statements;

  constructor(db: Db) {
    this.db = db;
    this.statements = {
      insert: db.prepare(`INSERT OR IGNORE INTO keys (name, domain, selector, provenance, source, origin, origin_sha256, txt, key_type,
        bits, fingerprint, fingerprint_md5, parse_error, first_seen, last_seen, fetched_at, dns_answer_json, added_at)
        VALUES (@name, @domain, @selector, @provenance, @source, @origin, @originSha256, @txt, @keyType, @bits, @fingerprint,
        @fingerprintMd5, @parseError, @firstSeen, @lastSeen, @fetchedAt, @dnsAnswer, @addedAt)`),
      byName: db.prepare('SELECT * FROM keys WHERE name = ? ORDER BY id'),
      log: db.prepare('INSERT INTO key_lookups (name, looked_up_at, status, detail, answer_json) VALUES (?, ?, ?, ?, ?)'),
    };
  }

  /** Adds a key record; returns false when the same record from the same origin is already stored. */
  addKey(key: NewKey, addedAt = new Date().toISOString()): boolean {
    const name = normalizeKeyName(key.name);
    const parts = keyNameParts(name);
    if (!parts) throw new Error(`${key.name} is not a DKIM key name (<selector>._domainkey.<domain>)`);
    const parsed = parseKeyRecord(key.txt);
    const info = this.statements.insert.run({
      name,
      ...parts,
      provenance: parsed.revoked ? 'revoked' : key.source,
      source: key.source,
      origin: key.origin,
      originSha256: key.originSha256 ?? null,
      txt: key.txt,
      keyType: parsed.keyType,
      bits: parsed.bits,
      fingerprint: parsed.fingerprint,
      fingerprintMd5: parsed.fingerprintMd5,
      parseError: parsed.revoked ? null : parsed.error,
      firstSeen: key.firstSeen ?? null,
      lastSeen: key.lastSeen ?? null,
      fetchedAt: key.fetchedAt ?? null,
      dnsAnswer: key.dnsAnswer === undefined ? null : JSON.stringify(key.dnsAnswer),
      addedAt,
    });
    return info.changes > 0;
  }

  /** Adds DNS's definite "no such record" for a name; false when the same is already stored. */
  addAbsent(key: { name: string; origin: string; fetchedAt: string | null; dnsAnswer?: unknown }, addedAt: string): boolean {
    const name = normalizeKeyName(key.name);
    const parts = keyNameParts(name);
    if (!parts) return false;
    return this.statements.insert.run({
      name, ...parts, provenance: 'absent', source: 'dns', origin: key.origin, originSha256: null, txt: '',
      keyType: null, bits: null, fingerprint: null, fingerprintMd5: null, parseError: null, firstSeen: null, lastSeen: null,
      fetchedAt: key.fetchedAt, dnsAnswer: key.dnsAnswer === undefined ? null : JSON.stringify(key.dnsAnswer), addedAt,
    }).changes > 0;
  }

  /** Stores a live lookup: logged always, and kept as key records (or an `absent` record) when definite. */
  recordLookup(answer: KeyAnswer, at: string): void {
    const store = this.db.transaction(() => {
      const detail = answer.status === 'found' ? null : answer.detail;
      this.statements.log.run(answer.name, at, answer.status, detail, JSON.stringify(answer));
      const parts = keyNameParts(answer.name);
      if (!parts) return;
      if (answer.status === 'found') {
        for (const record of answer.records) {
          this.addKey({ name: answer.name, txt: record.txt, source: 'dns', origin: record.origin, fetchedAt: at, dnsAnswer: answer }, at);
        }
      } else if (answer.status === 'absent') {
        this.addAbsent({ name: answer.name, origin: 'system resolver', fetchedAt: at, dnsAnswer: answer }, at);
      }
    });
    store();
  }

  /**
   * What the store knows about a name, as a key lookup answers: usable keys before revoked records,
   * files before archives before DNS. Only records with the same text are one candidate (the
   * highest-ranked one speaks for it, with its own origin and dates): two records of one key that
   * differ in anything (h=, s=, t=, or a tag mailauth reads otherwise) can allow different
   * signatures, so each is a candidate of its own, and verifyDkim applies the strictest of them.
   * Every candidate also carries where its key (by fingerprint) was seen with dates, each with its
   * own origin, for the key-lifetime check. Null when nothing is known. Records of equal rank are
   * ordered by their origin as the outputs name it (byRank), never by when they entered the store.
   */
  answerFor(rawName: string): KeyAnswer | null {
    const name = normalizeKeyName(rawName);
    const rows = (this.statements.byName.all(name) as Array<Record<string, unknown>>).map(toStoredKey);
    if (!rows.length) return null;
    const keys = rows.filter((r) => r.provenance !== 'absent');
    if (!keys.length) {
      const latest = rows[rows.length - 1]!;
      return { status: 'absent', name, detail: `no key record (DNS checked ${latest.fetchedAt ?? 'earlier'})` };
    }
    keys.sort(byRank);
    const sightings = new Map<string, KeySighting[]>();
    for (const key of keys) {
      if (!key.fingerprint || (!key.firstSeen && !key.lastSeen)) continue;
      const list = sightings.get(key.fingerprint) ?? [];
      list.push({ source: key.source, origin: key.origin, firstSeen: key.firstSeen, lastSeen: key.lastSeen });
      sightings.set(key.fingerprint, list);
    }
    const distinct = new Map<string, KeyRecord>();
    for (const key of keys) {
      if (distinct.has(key.txt)) continue;
      const seen = key.fingerprint ? sightings.get(key.fingerprint) : undefined;
      distinct.set(key.txt, {
        txt: key.txt,
        source: key.source,
        origin: key.origin,
        fetchedAt: key.fetchedAt,
        firstSeen: key.firstSeen,
        lastSeen: key.lastSeen,
        ...(seen ? { seenWithDates: seen } : {}),
      });
    }
    return { status: 'found', name, records: [...distinct.values()] };
  }

  list(domain?: string): StoredKey[] {
    return this.rows(domain).map(toStoredKey);
  }

  private rows(domain?: string): Array<Record<string, unknown>> {
    const rows = domain
      ? this.db.prepare('SELECT * FROM keys WHERE domain = ? ORDER BY name, id').all(domain.toLowerCase())
      : this.db.prepare('SELECT * FROM keys ORDER BY name, id').all();
    return rows as Array<Record<string, unknown>>;
  }

  /** Key names that signatures in the database asked for and no key record answers. */
  namesWithoutKey(): string[] {
    return (this.db.prepare(`SELECT DISTINCT s.key_name AS name FROM signatures s
      WHERE s.key_name IS NOT NULL AND NOT EXISTS (SELECT 1 FROM keys k WHERE k.name = s.key_name AND k.provenance != 'absent')
      ORDER BY s.key_name`).all() as Array<{ name: string }>).map((r) => r.name);
  }

  /**
   * Every key name the stored results asked the store for: each DKIM signature's, and each ARC
   * set's seal and message signature's (ARC is checked through the same key lookup), sorted.
   */
  namesAskedFor(): string[] {
    const dkim = this.db.prepare('SELECT DISTINCT key_name FROM signatures WHERE key_name IS NOT NULL').pluck().all() as string[];
    const arcName = (signer: 'seal' | 'ams'): string =>
      `json_extract(i.value, '$.${signer}Selector') || '._domainkey.' || json_extract(i.value, '$.${signer}Domain')`;
    const arc = this.db.prepare(`SELECT ${arcName('seal')} FROM arc_results a, json_each(a.instances_json, '$.instances') i
      UNION SELECT ${arcName('ams')} FROM arc_results a, json_each(a.instances_json, '$.instances') i`).pluck().all() as Array<string | null>;
    const names = new Set(dkim);
    for (const name of arc) if (name !== null) names.add(normalizeKeyName(name));
    return [...names].sort();
  }

  /**
   * What a colleague needs to re-run offline to the same verdicts (red team 10, finding 06):
   * - `records`: every key record with its provenance, origin and dates, and every compromised
   *   fingerprint (`compromised`): the key-store file `keys export` writes, which `keys import`
   *   reads back whole, and `verify --keys` for the key names the dump asks for;
   * - `map`: every key and revoked record as our JSON map, what any reader of key maps takes,
   *   which can carry neither provenance nor compromised status. The records of compromised keys
   *   stay in it: a signature that fails with such a key is still evidence of tampering, and
   *   without the key a re-run would call it unverifiable;
   * - `archive`: the records an archive gave, as a key-archive list with their first-seen and
   *   last-seen dates and their archive's name (`keys import` reads them back as archive records).
   *   With `archiveApart` (they are handed over in that list) they are left out of the map: a
   *   `--keys` map outranks the archives, so the colleague's signatures were decided with the
   *   map's dateless copies (red team 11, finding 06).
   */
  exportBundle(options: { archiveApart?: boolean } = {}): { records: KeyStoreFileRecord[]; compromised: CompromisedEntry[]; map: Record<string, string[]>; archive: ArchiveEntry[] } {
    const records: KeyStoreFileRecord[] = [];
    const map: Record<string, string[]> = {};
    const archive: ArchiveEntry[] = [];
    for (const row of this.rows()) {
      const key = toStoredKey(row);
      const answer = row['dns_answer_json'];
      const absent = key.provenance === 'absent';
      records.push({
        domain: key.domain, selector: key.selector, value: absent ? null : key.txt, provenance: key.source, origin: key.origin,
        originSha256: key.originSha256, firstSeenAt: key.firstSeen, lastSeenAt: key.lastSeen, fetchedAt: key.fetchedAt,
        dnsAnswer: typeof answer === 'string' ? (JSON.parse(answer) as unknown) : null,
      });
      if (absent) continue;
      if (key.source === 'archive') {
        archive.push({ domain: key.domain, selector: key.selector, value: key.txt, firstSeenAt: key.firstSeen, lastSeenAt: key.lastSeen, source: key.origin });
        if (options.archiveApart) continue;
      }
      const texts = (map[key.name] ??= []);
      if (!texts.includes(key.txt)) texts.push(key.txt);
    }
    return { records, compromised: this.compromisedEntries(), map, archive };
  }
}

function toStoredKey(row: Record<string, unknown>): StoredKey {
  const s = (k: string): string | null => (row[k] === null || row[k] === undefined ? null : String(row[k]));
  return {
    id: Number(row['id']),
    name: String(row['name']),
    domain: String(row['domain']),
    selector: String(row['selector']),
    provenance: String(row['provenance']) as KeyProvenance,
    source: String(row['source']) as KeySourceKind,
    origin: String(row['origin']),
    originSha256: s('origin_sha256'),
    txt: String(row['txt']),
    keyType: s('key_type'),
    bits: row['bits'] === null ? null : Number(row['bits']),
    fingerprint: s('fingerprint'),
    parseError: s('parse_error'),
    firstSeen: s('first_seen'),
    lastSeen: s('last_seen'),
    fetchedAt: s('fetched_at'),
    addedAt: String(row['added_at']),
  };
}
