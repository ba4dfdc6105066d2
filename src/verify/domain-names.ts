import { domainToASCII, domainToUnicode } from 'node:url';
import { boundedMemo } from '../bounded-memo.ts';
import { escapeControls } from '../checks/check-support.ts';
import { readUtf8 } from '../read/message-meta.ts';

/**
 * A domain of the From field (or a d=), as a reader sees it and as DNS names it.
 *
 * The rule, and why (this is where leakcheck decides alignment, for every signature):
 * - The field's bytes are read as UTF-8 (RFC 6532) when they are valid UTF-8. When they are
 *   not, a domain with 8-bit bytes names no one domain (mail programs guess a charset, each its
 *   own), and is never aligned: no reading of such bytes is "repaired" into alignment.
 * - DNS, and so d= (RFC 6376 requires the A-label there), names a domain by its A-label:
 *   `domainToASCII` (UTS #46, as browsers do) gives it. An empty result is no valid domain
 *   name, and is never aligned; nor is one with an xn-- label that does not decode.
 * - UTS #46 maps more than it converts: fullwidth and other compatibility letters
 *   (`ｅｘａｍｐｌｅ.com` → `example.com`), ideographic full stops, soft hyphens, ... A mail
 *   program shows the From domain as written, so a signature by example.com under a From that
 *   reads `ｅｘａｍｐｌｅ.com` would prove a name the reader never saw. A forensic verdict
 *   proves what is shown: a domain counts only when each of its labels, as written, is its
 *   A-label or its U-label (`domainToUnicode` of the A-label), up to letter case and Unicode
 *   canonical equivalence (NFC), which DNS and Unicode treat as the same text and which mailauth
 *   applies too. Anything else mapped is `mapped`: never aligned, and a finding says why.
 * - Aligned is then DMARC relaxed alignment of the A-labels (mailauth's getAlignment: the same
 *   Organizational Domain, Public Suffix List), which reads A-labels as it reads U-labels.
 */
export interface ReadDomain {
  /** as written (lower-cased), UTF-8 decoded when its field's bytes are valid UTF-8 */
  written: string;
  /** the A-label form (what DNS and d= name), or null when there is none (see problem) */
  aLabel: string | null;
  /** the U-label form of aLabel, for showing, or null */
  uLabel: string | null;
  /** why it can never be aligned, or null when it can */
  problem: 'not-utf8' | 'invalid' | 'mapped' | null;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The domains already read, by `utf8` and text: a dump names the same few domains in message
 * after message (From, d=, the ARC seals), and UTS #46 processing, there and back, was 1.6 % of
 * the analysis. Bounded: emptied when full. The answers are frozen, since they are shared.
 */
const readDomains = boundedMemo(4096, (key: string): Readonly<ReadDomain> => Object.freeze(readDomainOnce(key.slice(1), key[0] === 'u')));

/** Reads a domain (see ReadDomain) from text already decoded as far as it can be: `utf8` tells whether its bytes were valid UTF-8. */
export function readDomain(domain: string, utf8: boolean): Readonly<ReadDomain> {
  return readDomains(`${utf8 ? 'u' : 'b'}${domain}`);
}

function readDomainOnce(domain: string, utf8: boolean): ReadDomain {
  const written = domain.toLowerCase().replace(/\.$/, '');
  if (NON_ASCII.test(written) && !utf8) return { written, aLabel: null, uLabel: null, problem: 'not-utf8' };
  const aLabel = domainToASCII(written);
  if (!aLabel) return { written, aLabel: null, uLabel: null, problem: 'invalid' };
  const uLabel = domainToUnicode(aLabel);
  const labels = written.split('.');
  const aLabels = aLabel.split('.');
  const uLabels = uLabel.split('.');
  // An xn-- label that does not decode is no A-label. Node 22 says so (domainToASCII gives "")
  // and Node 24 hands the label back unchanged, so the test is made here, or the same From
  // would be aligned on one supported Node and not on the other.
  if (aLabels.some((label, i) => label.startsWith('xn--') && (!uLabels[i] || uLabels[i] === label))) {
    return { written, aLabel: null, uLabel: null, problem: 'invalid' };
  }
  const same = labels.length === aLabels.length && labels.every((label, i) => label === aLabels[i] || label.normalize('NFC') === uLabels[i]);
  return { written, aLabel, uLabel, problem: same ? null : 'mapped' };
}

/** A signature's d= as a domain: tag values were read as latin1, and are UTF-8 decoded the same way. */
export function readSigningDomain(d: string): ReadDomain {
  const { text, utf8 } = readUtf8(d);
  return readDomain(text, utf8);
}

/** A domain for texts: as written, with its A-label beside a U-label ("münchen.example (xn--mnchen-3ya.example)"). */
export function showDomain(domain: ReadDomain): string {
  const written = escapeControls(domain.written, 255);
  switch (domain.problem) {
    case 'not-utf8':
      return `${written} (8-bit bytes that are not UTF-8: no one domain name)`;
    case 'invalid':
      return `${written} (not a valid domain name)`;
    case 'mapped':
      return `${written} (which IDNA maps to ${domain.aLabel}${domain.uLabel !== domain.aLabel ? `, ${domain.uLabel}` : ''}, a name it does not show)`;
    default:
      return domain.aLabel !== domain.written ? `${written} (${domain.aLabel})` : written;
  }
}

/**
 * The one form in which two domains of one dump are compared (a From domain, a d=, a
 * Message-ID's domain): the A-label, lower case, without a trailing dot. A From written
 * `élysée.example` and d=xn--lyse-9oad.example are one DNS name (RFC 5890, RFC 6376 §3.5), and
 * compared as written they would not be (red team S, S-01). A domain that can never be aligned
 * (8-bit bytes, invalid, mapped to a name it does not show) keeps its written form, which no
 * A-label equals, so it matches only itself, as alignment does.
 */
export function canonicalDomain(domain: string): string {
  const read = readDomain(domain, true);
  return read.problem === null && read.aLabel ? read.aLabel : read.written;
}

/** A signing domain for texts: its U-label with the A-label beside it when it is an IDN ("münchen.example (xn--mnchen-3ya.example)"). */
export function showSigningDomain(d: string): string {
  const signer = readSigningDomain(d);
  if (signer.problem !== null || !signer.uLabel || signer.uLabel === signer.aLabel) return showDomain(signer);
  return `${escapeControls(signer.uLabel, 255)} (${signer.aLabel})`;
}
