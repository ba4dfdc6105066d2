/*
 * Reading what a sealer recorded in its ARC-Authentication-Results (RFC 8601): a small module of
 * its own, without mailauth, since the verdict reads it too, on every thread.
 */

/** One dkim= result a sealer recorded: pass, fail, neutral…, for the signing domain (header.d or the domain of header.i) and selector (header.s) it names. */
export interface SealerSawDkim {
  result: string;
  domain: string | null;
  selector?: string | null;
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
    const d = /header\.d\s*=\s*([^\s;]+)/i.exec(part)?.[1] ?? /header\.i\s*=\s*[^\s;@]*@([^\s;]+)/i.exec(part)?.[1] ?? null;
    const selector = /header\.s\s*=\s*([^\s;]+)/i.exec(part)?.[1];
    found.push({ result: m[1]!.toLowerCase(), domain: d ? d.toLowerCase() : null, ...(selector ? { selector: selector.toLowerCase() } : {}) });
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
