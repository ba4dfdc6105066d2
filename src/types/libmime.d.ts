// libmime ships no types and the registry mirror has no @types/libmime; we use one function.
declare module 'libmime' {
  /** Decodes RFC 2047 encoded words in a header value. */
  export function decodeWords(value: string): string;
  const libmime: { decodeWords(value: string): string };
  export default libmime;
}
