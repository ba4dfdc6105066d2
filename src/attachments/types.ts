/**
 * The attachment inventory of one message: what its MIME parts are, byte for byte.
 *
 * A DKIM body hash covers the attachments of a message as they are encoded in its body, so the
 * decoded content of an attachment of a verified message is proven to have existed when the
 * message was signed. Its sha256 lets a loose document of the dump be matched to it.
 */

import type { WalkedLeaf } from './mime-walk.ts';

/** One attachment-like or inline part of a message, as `inventoryParts` lists it. */
export interface MimePartRecord {
  /** 1-based position among the inventoried parts of the message, in order of appearance */
  partIndex: number;
  /**
   * The IMAP-style MIME part number ("2", "1.2.2") that mailsplit (the splitter inside
   * mailparser) gives the part; null when the part is the body of a non-multipart message.
   * `partsWithinSignedLength` finds the part in the message by this number.
   */
  partId: string | null;
  /** declared media type, lower-case ("application/pdf"); mailsplit's default when none is declared */
  contentType: string;
  /** file name, RFC 2231 and RFC 2047 decoded (from Content-Disposition filename, else Content-Type name) */
  filename: string | null;
  /**
   * The other names readers may give the part, when it declares more than one that differ
   * (otherNamesOf: `name=` beside `filename=`, `filename=` beside `filename*=`, two
   * Content-Disposition fields): a loose document is compared with each. Absent when none.
   */
  otherNames?: string[];
  /** `filename` as a reader takes it (normalizeFileName: invisible characters dropped, NFKC, lower-case, blanks collapsed); null if empty */
  normalizedName: string | null;
  /** decoded size in bytes */
  size: number;
  /** sha256 of the decoded content, lower-case hex */
  sha256: string;
  /**
   * sha256 of the decoded content with its whitespace folded as a relaxed signature leaves it
   * unfixed (whitespace-fold.ts): for named parts not in base64, which such a signature may cover
   * all but the whitespace of; absent otherwise
   */
  foldedSha256?: string;
  /**
   * The same, with the blanks inside lines kept (only line ends and empty lines at the end
   * folded): a loose copy equal to the attachment under foldedSha256 but not under this one
   * differs in the spaces and tabs of its lines, which in tab-separated data moves values to
   * other columns (red team 15, F-DOC-3)
   */
  blanksKeptSha256?: string;
  /**
   * The part is base64 that decoders read to different bytes: data after its "=" padding, or
   * characters outside the alphabet and whitespace (content-decode.ts, Base64Agreement). Its
   * sha256 is mailparser's decoding, one of several; a signature fixes the text, not the bytes
   * a reader saves (red team Y, Y-07). Absent otherwise.
   */
  base64Ambiguous?: true;
  /** Content-Disposition: 'inline', 'attachment', or null when absent; any other value counts as 'attachment' (RFC 2183 section 2.8) */
  disposition: 'attachment' | 'inline' | null;
  /** Content-Transfer-Encoding as declared, lower-case; null when absent */
  transferEncoding: string | null;
  /** Content-ID without angle brackets, null when absent */
  contentId: string | null;
  /** the part is a message/rfc822 (a forwarded message) */
  isMessage: boolean;
  /**
   * For message/rfc822 parts only: the decoded bytes of the embedded message, exactly as they
   * were signed inside the parent, ready to be verified as a message in its own right. Undefined
   * when the part is larger than the cap (`tooLarge` is then set).
   */
  embedded?: Buffer;
  /** message/rfc822 part larger than `maxEmbeddedBytes`: hashed and measured, but `embedded` is not kept */
  tooLarge?: boolean;
}

/**
 * What `inventoryParts` returns. `parts` holds every part whose content was read to its end.
 * `error` is null when the whole message was parsed; otherwise it says why parsing stopped
 * (a malformed message, a limit) and `parts` holds what was inventoried before that. A part
 * whose content was cut off by the error is left out.
 */
export interface PartInventory {
  parts: MimePartRecord[];
  error: string | null;
  /**
   * The MIME walk (mime-walk.ts) the fast inventory made of the message, for the reader-text
   * fingerprint (message-traits.ts) to read the same parts without walking the message again.
   * Absent when mailparser made the inventory. Never stored, never posted to the main thread.
   */
  walked?: readonly WalkedLeaf[];
}

/** DKIM body canonicalization (the part of c= after the slash). */
export type BodyCanonicalization = 'simple' | 'relaxed';
