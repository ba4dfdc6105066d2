import { parseTags, repeatedTagNames } from '../keys/parse-key.ts';

/**
 * The tags of a DKIM-Signature as we read them ourselves. mailauth's lenient mode leaves out
 * of its results the signatures it cannot process (unknown algorithm, missing d= or s=), and a
 * forensic report must still account for them, so every DKIM-Signature header is read here too.
 */
export interface SignatureTags {
  version: string | null;
  algorithm: string | null;
  canonicalization: string;
  domain: string | null;
  selector: string | null;
  /** h=, lower-case, in order, duplicates kept (oversigning) */
  signedHeaders: string[];
  /** l=, when present and numeric */
  bodyLength: number | null;
  /** t= and x=, as Unix seconds */
  timestamp: number | null;
  expiration: number | null;
  identity: string | null;
  /** b= without whitespace: the link to mailauth's result for this header */
  b: string;
  bh: string | null;
  /** tag names that appear more than once: RFC 6376 section 3.2 makes the whole list invalid */
  duplicateTags: string[];
  /**
   * a=, c= and q=, when their value is written with capitals (`a=RSA-SHA256`). RFC 6376 section
   * 3.2 makes values case-sensitive unless a tag says otherwise, and these three do not; mailauth
   * folds them, as OpenDKIM does, and dkimpy rejects the signature.
   */
  valuesWithCapitals: string[];
}

const seconds = (value: string | undefined): number | null =>
  value !== undefined && /^\d{1,12}$/.test(value.trim()) ? Number(value.trim()) : null;

export function readSignatureTags(headerValue: string): SignatureTags {
  const tags = parseTags(headerValue);
  const duplicateTags = repeatedTagNames(headerValue);
  const h = tags.get('h');
  const l = tags.get('l');
  return {
    version: tags.get('v') ?? null,
    algorithm: tags.get('a')?.toLowerCase() ?? null,
    canonicalization: (tags.get('c') ?? 'simple/simple').toLowerCase(),
    domain: tags.get('d')?.toLowerCase() ?? null,
    selector: tags.get('s') ?? null,
    signedHeaders: h ? h.split(':').map((n) => n.trim().toLowerCase()).filter(Boolean) : [],
    bodyLength: l !== undefined && /^\d{1,76}$/.test(l.trim()) ? Number(l.trim()) : null,
    timestamp: seconds(tags.get('t')),
    expiration: seconds(tags.get('x')),
    identity: tags.get('i') ?? null,
    b: (tags.get('b') ?? '').replace(/\s+/g, ''),
    bh: tags.get('bh')?.replace(/\s+/g, '') ?? null,
    duplicateTags,
    valuesWithCapitals: ['a', 'c', 'q'].filter((name) => /[A-Z]/.test(tags.get(name) ?? '')),
  };
}
