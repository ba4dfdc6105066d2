/**
 * What the two inventory implementations (the fast one and the mailparser one) share: their
 * options and how a part's name and disposition are normalized, so that both describe a part
 * in exactly the same words.
 */

export interface InventoryOptions {
  /** the inventory stops (with an error) after this many parts; default 1000 */
  maxParts?: number;
  /** a part nested deeper than this (in MIME multipart levels) stops the inventory; default 100 */
  maxDepth?: number;
  /** embedded messages larger than this are hashed but not kept; default 64 MiB */
  maxEmbeddedBytes?: number;
}

export const DEFAULT_MAX_PARTS = 1000;
export const DEFAULT_MAX_DEPTH = 100;
export const DEFAULT_MAX_EMBEDDED_BYTES = 64 * 1024 * 1024;

/** Lower-case, Unicode NFC, whitespace runs collapsed to one space, trimmed; null when nothing is left. */
export function normalizeFileName(name: string | null | undefined): string | null {
  if (name === null || name === undefined) return null;
  const normalized = name.normalize('NFC').toLowerCase().replace(/\s+/gu, ' ').trim();
  return normalized === '' ? null : normalized;
}

/** Content-Disposition as recorded: any value other than inline counts as attachment (RFC 2183 section 2.8). */
export function normalizeDisposition(value: string | undefined): 'attachment' | 'inline' | null {
  if (value === undefined || value.trim() === '') return null;
  return value.trim().toLowerCase() === 'inline' ? 'inline' : 'attachment';
}

/** Content-Transfer-Encoding as recorded: comments dropped, lower-case; null when nothing is left. */
export function normalizeTransferEncoding(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const encoding = value.replace(/\([^)]*\)/g, '').trim().toLowerCase();
  return encoding === '' ? null : encoding;
}
