import { jsonText } from '../../report/json-text.ts';
import { parseTags } from '../parse-key.ts';
import { normalizeKeyName } from '../types.ts';
import type { IgnoredRecord, ImportedKey } from './types.ts';

export interface KeyNameParts {
  name: string;
  selector: string;
  domain: string;
}

const DOMAINKEY = '._domainkey.';

/**
 * Splits '<selector>._domainkey.<domain>' (any case, trailing dot allowed) at its first
 * "._domainkey.". Returns why not, as a sentence fragment, when the name is not a key name.
 */
export function splitKeyName(raw: string): KeyNameParts | string {
  const name = normalizeKeyName(raw);
  const quoted = jsonText(raw);
  if (name === '') return 'empty key name';
  if (/\s/.test(name)) return `key name ${quoted} contains white space`;
  const at = name.indexOf(DOMAINKEY);
  if (at <= 0 || at + DOMAINKEY.length >= name.length) {
    return `${quoted} is not a DKIM key name: it has no "._domainkey." between a selector and a domain (expected <selector>._domainkey.<domain>)`;
  }
  if (name.split('.').some((label) => label === '')) return `key name ${quoted} has an empty label`;
  return { name, selector: name.slice(0, at), domain: name.slice(at + DOMAINKEY.length) };
}

/**
 * Why a TXT record is not a DKIM key record, or null when it is one. A key record needs a
 * p= tag (empty p= is a revoked key, and is kept); a v= tag, when present, must say DKIM.
 * The v= test keeps DMARC records (v=DMARC1; p=none) out of zone files' keys.
 */
export function notDkimKeyReason(txt: string): string | null {
  const tags = parseTags(txt);
  if (!tags.has('p')) return 'TXT record without a p= tag (not a DKIM key)';
  const v = tags.get('v');
  if (v !== undefined && !/^dkim/i.test(v)) return `TXT record with v=${v} (not a DKIM key)`;
  return null;
}

/** What makes two records of a file the same key record: the second is ignored. */
export const keyIdentity = (key: ImportedKey): string => JSON.stringify([key.name, key.txt, key.provenance, key.origin, key.firstSeen, key.lastSeen]);

/**
 * Collects a file's keys and ignored records in file order. A key repeated exactly (same name,
 * TXT, origin and dates) is kept once; the repeat is listed as ignored.
 */
export class KeyCollector {
  readonly keys: ImportedKey[] = [];
  readonly ignored: IgnoredRecord[] = [];
  readonly #seen = new Map<string, string>();

  add(key: ImportedKey): void {
    const id = keyIdentity(key);
    const first = this.#seen.get(id);
    if (first !== undefined) {
      this.ignored.push({ where: key.where, why: `same key as ${first}` });
      return;
    }
    this.#seen.set(id, key.where);
    this.keys.push(key);
  }

  ignore(where: string, why: string): void {
    this.ignored.push({ where, why });
  }
}

/** 'null', 'a list', 'an object', 'a number'…: for "must be a string, not …" messages. */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
