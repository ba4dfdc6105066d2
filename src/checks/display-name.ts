import { BLANK_LOOKING } from '../read/blank-characters.ts';
import { firstValue } from '../read/headers.ts';
import { readUtf8 } from '../read/message-meta.ts';
import { escapeControls } from './check-support.ts';
import { readAddressList } from './address-syntax.ts';
import type { MessageCheck } from './types.ts';

/** Something a reader takes for an address: local part, @, a dotted domain; blanks end it. */
const ADDRESS_CHAR = String.raw`[^${BLANK_LOOKING}<>"'(),;:@[\]\\]`;
const ADDRESS_LIKE = new RegExp(`${ADDRESS_CHAR}+@${ADDRESS_CHAR}+\\.${ADDRESS_CHAR}{2,}`, 'gu');
const MAX_SHOWN = 10;
/** Far longer than any display name; the pattern is quadratic on a long run without an @. */
const MAX_READ = 2_048;

/**
 * The display name of the From field spells an address that is not one of the field's own:
 * `"ceo@bank.example" <x@evil.example>`. Mail programs show the name, often alone; a signature
 * proves only the address (its domain), which the forger controls. The field is read as the
 * reader sees it (RFC 2047 decoded, UTF-8 read as such), so an encoded word that decodes to an
 * address counts too. A warning, never a red flag: some senders and list servers write an
 * address into the name themselves, and the signature still proves who sent the message.
 */
export const auditDisplayNameAddress: MessageCheck = ({ headers, meta }) => {
  const raw = firstValue(headers, 'from');
  if (!raw || !meta.from || !meta.from.includes('@')) return [];
  // the field's own mailboxes as the reader sees them (UTF-8 decoded), like meta.from
  const own = new Set(readAddressList(readUtf8(raw).text).addresses);
  if (meta.fromAddress) own.add(meta.fromAddress);
  const others = [...new Set([...meta.from.slice(0, MAX_READ).matchAll(ADDRESS_LIKE)].map((m) => m[0].toLowerCase()))].filter((a) => !own.has(a));
  if (!others.length) return [];
  const shown = others.slice(0, MAX_SHOWN);
  return [
    {
      code: 'display-name-address',
      severity: 'warning',
      text:
        `The From field's display name reads as ${shown.length === 1 ? 'the address' : 'the addresses'} ${shown.map((a) => escapeControls(a)).join(', ')}, but the message is from ${meta.fromAddress === null ? 'an address that cannot be read' : escapeControls(meta.fromAddress)}: ` +
        'a mail program that shows the name alone shows an address the message is not from, and any signature proves only the real one.',
      evidence: { displayedAddresses: shown, fromAddress: meta.fromAddress },
    },
  ];
};
