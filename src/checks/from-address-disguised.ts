import { BLANK_CHARACTER, collapseUnseenRuns, INVISIBLE_CHARACTER, VARIATION_SELECTOR } from '../read/blank-characters.ts';
import { escapeControls } from './check-support.ts';
import type { MessageCheck } from './types.ts';

const PLAIN_LOCAL_PART = /^[\x21-\x3f\x41-\x7e]*$/;

const codePoint = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * The From address's local part holds what no reader sees or reads for what it is: blank-looking
 * or invisible characters, or a character that reads as "@" (NFKC folds "﹫" and "＠" to it).
 * Both address readers accept them, so `ceo﹫bank.example` + 330 soft hyphens + `@evil.example`
 * is an address at evil.example, and a signature by evil.example verifies it. What the reader is
 * shown is "ceo@bank.example", with the padding pushing the real domain out of view. A warning,
 * never a red flag: the signature does prove that evil.example sent it; the reader must be told
 * that evil.example is who that is. Reports also count the padding and keep the domain whole
 * (src/report/shown-from.ts).
 */
export const auditFromAddressDisguised: MessageCheck = ({ meta }) => {
  const address = meta.fromAddress;
  if (!address) return [];
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  // printable ASCII without blanks or "@": nothing here is unseen or reads as "@" (most mail)
  if (PLAIN_LOCAL_PART.test(local)) return [];
  let blankLooking = 0;
  let invisible = 0;
  const readAsAt = new Set<string>();
  for (const ch of local) {
    if (BLANK_CHARACTER.test(ch)) blankLooking++;
    // (a variation selector too: no address needs one, and `a` with one reads as `a`)
    else if (INVISIBLE_CHARACTER.test(ch) || VARIATION_SELECTOR.test(ch)) invisible++;
    else if (ch.normalize('NFKC').includes('@')) readAsAt.add(codePoint(ch));
  }
  if (!blankLooking && !invisible && !readAsAt.size) return [];
  const holds = [
    blankLooking ? `${blankLooking} blank-looking character${blankLooking === 1 ? '' : 's'}` : '',
    invisible ? `${invisible} invisible character${invisible === 1 ? '' : 's'}` : '',
    readAsAt.size ? `${readAsAt.size === 1 ? 'a character' : 'characters'} that read${readAsAt.size === 1 ? 's' : ''} as "@" (${[...readAsAt].join(', ')})` : '',
  ].filter(Boolean);
  return [
    {
      code: 'from-address-disguised',
      severity: 'warning',
      text:
        `The From address ${escapeControls(collapseUnseenRuns(local, true), 200)}@${escapeControls(domain, 1000)} holds, before its "@", ${holds.join(' and ')}: ` +
        `a reader can take it for another address, or not see its domain. The message is from the domain ${escapeControls(domain, 1000)}, and that is all a signature by it proves.`,
      evidence: { fromAddress: address, domain, blankLooking, invisible, readAsAt: [...readAsAt] },
    },
  ];
};
