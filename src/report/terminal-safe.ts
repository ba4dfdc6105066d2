/**
 * Text from a message must not drive the terminal: an escape sequence in a Subject could
 * rewrite the screen or hide a line. Control characters become visible \xNN escapes.
 */
export function terminalSafe(text: string | null | undefined, max = 200): string {
  if (!text) return '';
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}
