/*
 * Reading what a sealer recorded in its ARC-Authentication-Results (RFC 8601): a small module of
 * its own, without mailauth, since the verdict reads it too, on every thread.
 */

/**
 * One dkim= result a sealer recorded: pass, fail, neutral…, with what the record says of the
 * signature it is about. header.d is the signing domain (d=); header.i is the signing identity
 * (the AUID, i=), which may be a subdomain of d= (RFC 8601 section 2.7.1, RFC 6376 section 3.5),
 * and is kept apart: Gmail and Google Groups record header.i alone (red team L, L-03).
 */
export interface SealerSawDkim {
  result: string;
  /** header.d, lower-cased; null when the record gives none */
  domain: string | null;
  /** the domain of header.i, lower-cased */
  identityDomain?: string;
  selector?: string | null;
  /** header.b: the first characters of the signature's b= (RFC 6008), which tie the record to one signature */
  b?: string;
}

/**
 * The dkim= entries of an (ARC-)Authentication-Results value (RFC 8601 resinfo). The value is
 * cut at the semicolons outside quoted strings and comments, and comments (which nest) are
 * dropped: values the sender chose are echoed there, a quoted envelope sender such as
 * `"x;dkim=pass header.d=victim.example;"@attacker.example` included, and read with a plain split
 * it recorded a pass the sealer never saw (red team 27, D-04).
 */
export function dkimResultsIn(authResults: string): SealerSawDkim[] {
  const found: SealerSawDkim[] = [];
  for (const part of resultParts(authResults)) {
    const m = /^\s*dkim\s*=\s*([a-z]+)/i.exec(part);
    if (!m) continue;
    const property = (name: string): string | undefined => new RegExp(`header\\.${name}\\s*=\\s*"?([^\\s;"]+)`, 'i').exec(part)?.[1];
    const d = property('d');
    const identityDomain = /@([^@]+)$/.exec(property('i') ?? '')?.[1];
    const selector = property('s');
    const b = property('b');
    found.push({
      result: m[1]!.toLowerCase(),
      domain: d ? d.toLowerCase() : null,
      ...(identityDomain ? { identityDomain: identityDomain.toLowerCase() } : {}),
      ...(selector ? { selector: selector.toLowerCase() } : {}),
      ...(b ? { b } : {}),
    });
  }
  return found;
}

/** The resinfo parts of an Authentication-Results value: split at ";" outside quoted strings and comments, comments blanked. */
function resultParts(value: string): string[] {
  const parts: string[] = [];
  let part = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quoted) {
      part += ch;
      if (ch === '\\') part += value[++i] ?? '';
      else if (ch === '"') quoted = false;
    } else if (depth > 0) {
      if (ch === '\\') i++;
      else if (ch === '(') depth++;
      else if (ch === ')') depth--;
      if (depth === 0) part += ' ';
    } else if (ch === '(') {
      depth = 1;
    } else if (ch === '"') {
      quoted = true;
      part += ch;
    } else if (ch === ';') {
      parts.push(part);
      part = '';
    } else {
      part += ch;
    }
  }
  parts.push(part);
  return parts;
}
