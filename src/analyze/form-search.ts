import type { HeaderField } from '../read/headers.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';
import type { ArcVerification } from '../verify/arc.ts';
import type { Repair, RepairVariant } from './repair-variants.ts';

/** A form of the message, and the ARC chain's result on it. */
export interface SealedForm {
  variant: RepairVariant;
  arc: ArcVerification;
}

/** Repairs of how the message was stored, not of what it says: a form with only these is the message as found. */
const STORAGE_REPAIRS: ReadonlySet<Repair> = new Set(['crlf', 'strip-leading-bytes']);
const isAsFound = (variant: RepairVariant): boolean => variant.repairs.every((r) => STORAGE_REPAIRS.has(r));

/**
 * How much work the search for the form a message was signed in may take: passes of one
 * signature over the whole message. Every form is verified under every signature, and a message
 * stored with bare LFs and four `>From ` lines has twenty forms: two hundred DKIM-Signature
 * fields anyone can add on top of a genuine 2 MB message (one that fails under every form
 * suffices) took its analysis past the time limit, and the genuine signature's proof was lost
 * (red team BB, BB-05). 64 passes try every form of a message signed twice, or once and sealed by
 * ARC. The first two forms (the message as found, and with its `>From ` quoting undone, which
 * a message cut out of an mbox needs) are always tried, whatever they cost.
 */
export const FORM_SEARCH_PASSES = 64;
/** ...or this many bytes, for a small message: a search that costs under a second is never cut short. */
export const FORM_SEARCH_FLOOR_BYTES = 256 * 1024 * 1024;
const FORMS_ALWAYS_TRIED = 2;
/** A signature's header hash and key operation, in bytes hashed: an Ed25519 verification takes 130 µs here, about 64 KB of SHA-256 with canonicalization. */
const SIGNATURE_COST = 64 * 1024;

export class FormSearchBudget {
  #left: number;
  #lastCost = 0;
  #forms = 0;
  #cut = false;

  constructor(messageBytes: number) {
    this.#left = Math.max(FORM_SEARCH_PASSES * messageBytes, FORM_SEARCH_FLOOR_BYTES);
  }

  /**
   * A form verified, its body `bodyBytes` long: each distinct body hash the DKIM signatures ask
   * for (canonicalization, algorithm, `l=`: alike, they are computed once) is a pass over what it
   * covers, each ARC-Message-Signature a pass over the body, and each signature costs its header
   * hash and its key operation besides (SIGNATURE_COST).
   */
  spend(bodyBytes: number, signatures: readonly Pick<DkimSignatureResult, 'tags'>[], fields: readonly HeaderField[]): void {
    const hashes = new Map<string, number>();
    for (const { tags } of signatures) {
      const covered = tags.bodyLength === null ? bodyBytes : Math.min(tags.bodyLength, bodyBytes);
      hashes.set(`${tags.canonicalization.split('/')[1]} ${tags.algorithm} ${tags.bodyLength}`, covered);
    }
    const sealed = fields.filter((f) => f.name === 'arc-message-signature').length;
    this.#lastCost = [...hashes.values()].reduce((a, b) => a + b, 0) + sealed * bodyBytes + (signatures.length + sealed) * SIGNATURE_COST + bodyBytes;
    this.#left -= this.#lastCost;
    this.#forms++;
  }

  /** Whether another form would take the search past its budget. */
  spent(): boolean {
    return this.#forms >= FORMS_ALWAYS_TRIED && this.#left < this.#lastCost;
  }

  /** The search stops: `cut` says whether a form was left untried (one is made to know, and let go). */
  cutShort(rest: Iterator<RepairVariant>): void {
    const next = rest.next();
    if (next.done) return;
    this.#cut = true;
    next.value.release?.();
  }

  get cut(): boolean {
    return this.#cut;
  }
}

/**
 * The forms the analysis may read again: the best so far and, for a message with ARC sets, the
 * form as found and the first other form under which the chain passes (arcOverForms,
 * failureUnderneath read them here). Every form's copy is given back as soon as it has lost (red
 * team BB, BB-04: all were kept to the end), and the two ARC forms' too: they are made again for
 * the rare reading that needs their bytes (read). Kept with their copies, a forged 50 MB message
 * sealed by ARC, stored with bare LFs, a `>From ` line and NUL padding, had four forms alive
 * beside it at once, 360 MB. (The best form's copy is given back while other forms are tried:
 * see analyzeForms.) Only the message's own storage repairs make a form "as found", and one form
 * has only those.
 */
export class FormsKept {
  readonly #kept: SealedForm[] = [];
  readonly #best: () => RepairVariant | undefined;

  constructor(best: () => RepairVariant | undefined) {
    this.#best = best;
  }

  get asFound(): SealedForm | undefined {
    return this.#kept.find((k) => isAsFound(k.variant));
  }

  get firstPass(): SealedForm | undefined {
    return this.#kept.find((k) => !isAsFound(k.variant) && k.arc.result === 'pass');
  }

  consider(form: SealedForm): void {
    // (a message without ARC sets is judged on its best form alone)
    const sealed = form.arc.instances.length > 0;
    if (sealed && (isAsFound(form.variant) ? !this.asFound : form.arc.result === 'pass' && !this.firstPass)) this.#kept.push(form);
    this.lost(form.variant);
  }

  /** Gives back a form's copy unless it is the best. */
  lost(variant: RepairVariant): void {
    if (variant !== this.#best()) variant.release?.();
  }

  /** `use` given the bytes of a form, made again for it if they were given back, and given back after. */
  async read<T>(variant: RepairVariant, use: (bytes: Buffer) => Promise<T>): Promise<T> {
    if (!variant.released) return use(variant.bytes);
    variant.restore!();
    try {
      return await use(variant.bytes);
    } finally {
      variant.release!();
    }
  }
}
