/**
 * Text shortened to at most `max` UTF-16 units, the last of them an ellipsis. Never between the
 * two halves of a character beyond U+FFFF (an emoji, a musical symbol): half of one is printed
 * as "�", which reads as damage in the evidence that is not there.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
