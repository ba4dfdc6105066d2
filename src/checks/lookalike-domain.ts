import { firstValue } from '../read/headers.ts';
import { readUtf8 } from '../read/message-meta.ts';
import { readDomain, showDomain } from '../verify/domain-names.ts';
import type { MessageCheck } from './types.ts';

/** Scripts whose letters pass for Latin ones (а, е, о, р, с, х; ο, ν; օ, ս, ...). */
const LOOKALIKE_SCRIPTS: ReadonlyArray<[string, RegExp]> = [
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
];
const LATIN = /\p{Script=Latin}/u;
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A From domain written in Unicode is shown to the reader as written, and a signature by its
 * A-label (xn--…) proves that name, which may only look like another: `bаnk.example` with a
 * Cyrillic "а" is not `bank.example`, and a message from it can be verified. Every such domain
 * gets a finding that names its A-label; a warning when a label mixes Latin with a script whose
 * letters pass for Latin ones, or is written all in such a script under an ASCII top-level
 * domain (as browsers judge IDN spoofs); info otherwise (genuine IDN mail: münchen.example).
 * A From whose bytes are not UTF-8 names no one domain: author-domain-not-shown-name says so.
 */
export const auditLookalikeDomain: MessageCheck = ({ headers, meta }) => {
  const domain = meta.fromDomain;
  const raw = firstValue(headers, 'from');
  if (!domain || !raw || !NON_ASCII.test(domain) || !readUtf8(raw).utf8) return [];
  const read = readDomain(domain, true);
  const aLabel = read.aLabel;
  const labels = domain.split('.');
  const asciiTld = !NON_ASCII.test(labels[labels.length - 1] ?? '');
  const lookalike = labels.flatMap((label) => {
    const scripts = LOOKALIKE_SCRIPTS.filter(([, pattern]) => pattern.test(label)).map(([name]) => name);
    if (!scripts.length) return [];
    const mixed = LATIN.test(label);
    return mixed || asciiTld ? [{ label, scripts, mixedWithLatin: mixed }] : [];
  });
  return [
    {
      code: 'from-domain-lookalike',
      severity: lookalike.length ? 'warning' : 'info',
      text:
        `The From domain ${showDomain(read)} is written in Unicode: what a signature by it proves is its DNS name (the A-label, xn--…), not the name as it reads.` +
        (lookalike.length
          ? ` It uses ${[...new Set(lookalike.flatMap((l) => l.scripts))].join(' and ')} letters${lookalike.some((l) => l.mixedWithLatin) ? ' mixed with Latin ones' : ' under an ASCII top-level domain'}, which can pass for another domain written in Latin letters.`
          : ''),
      evidence: { domain, aLabel, lookalikeLabels: lookalike },
    },
  ];
};
