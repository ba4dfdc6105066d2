import type { Repair } from '../analyze/repair-variants.ts';

/**
 * What each repair did to the stored bytes, in words: the one text that the verdict's explanation
 * and every report give (docs/verdicts.md, "Repairs", says the same at length).
 */
export const REPAIR_TEXT: Readonly<Record<Repair, string>> = {
  crlf: 'line endings restored to CRLF, from bare LFs or, in a file with no LF, CRs alone (DKIM is computed over CRLF; Unix mailboxes store LF, classic Mac OS stored CR)',
  'strip-leading-bytes': 'a byte-order mark or blank lines before the first header removed',
  'strip-trailing-padding': 'NUL or DOS end-of-file (0x1A) bytes ending the file removed (padding left by disk images, file-recovery tools and some writers; no mail program shows them)',
  crcrlf: 'line ends CR CR LF made CR LF (a CRLF file written again through a text-mode writer doubles every CR)',
  'smtp-end-dot': 'the line holding only "." that ends a message sent over SMTP or fetched over POP3 removed (left in by a script that saved the transfer as it came; no mail program shows it)',
  'smtp-dot-unstuff': 'the "." that SMTP and POP3 put before each line beginning with "." removed (dot-stuffing, which every mail program undoes, left in by a script that saved the transfer as it came)',
  'mboxrd-unquote': 'mbox ">From " quoting undone',
  'mbox-unquote-some': 'mbox ">From " quoting undone on some lines only, kept on the others (an mboxo file; the lines are in the finding mbox-quoting-mixed)',
  'gateway-subject-tag': 'the tag a recipient\'s mail gateway puts before the Subject of outside mail ("[EXTERNAL]" and the like) removed: the Subject shown carries it, the author signed the Subject without it',
};

/** A repair in words; a code from a newer leakcheck, read from its database, as it is. */
export const describeRepair = (repair: string): string => (REPAIR_TEXT as Record<string, string>)[repair] ?? repair;
