import type { ContainerKind } from '../discover/types.ts';

/**
 * One message cut out of its container. `raw` is the message exactly as stored, minus only the
 * container's own framing (the mbox `From ` separator line, the emlx byte count and plist),
 * so that its sha256 identifies the evidence as found. Repairs such as undoing mboxrd quoting
 * are tried later, by the verifier, and recorded there.
 */
export interface RawMessage {
  /** position inside the container; 0 for single-message files */
  index: number;
  /** byte offset of the first byte of `raw` inside the container file */
  offset: number;
  raw: Buffer;
  format: ContainerKind;
  /** mbox only: the `From ` separator line, without its line ending */
  envelope?: string;
}

/** A container that could not be read completely; what was read before the problem still counts. */
export class ReadError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'ReadError';
  }
}
