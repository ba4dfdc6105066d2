/**
 * A file name (or a display name: display-name.ts) in the order a screen draws it, where a
 * right-to-left override reverses it:
 * "\u202Efdp.tcartnoc" is drawn as "contract.pdf" by every bidi-aware file manager and mail
 * program, and "invoice\u202Efdp.exe" as "invoiceexe.pdf" (the old trick that passes a program
 * off as a document). Read in stored order, with the control dropped as invisible, the first
 * was "fdp.tcartnoc", a name of its own (red team 15, F-DOC-4).
 *
 * Only what the explicit controls force is applied: an override (RLO U+202E, LRO U+202D) sets
 * the direction of every character up to its PDF (U+202C) or the end of the name; embeddings
 * (LRE, RLE) and isolates (LRI, RLI, FSI, closed by PDI U+2069) nest, and keep the order of
 * their Latin letters, as the Unicode bidi algorithm does. The letters of right-to-left scripts
 * (Hebrew, Arabic) are left in stored order: reordering them is the full algorithm, and no
 * letter of theirs reads as a Latin one. The controls themselves are kept; normalizeFileName
 * drops them afterwards with the other invisible characters.
 */
export function inDisplayOrder(name: string): string {
  if (!BIDI_CONTROL.test(name)) return name;
  const graphemes = [...(segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' })).segment(name)].map((s) => s.segment);
  let at = 0;
  /** The run from `at` to the control that closes it (or the end), in display order. */
  const run = (reversed: boolean, closers: ReadonlySet<string>, depth: number): string[] => {
    const units: string[] = [];
    while (at < graphemes.length) {
      const g = graphemes[at++]!;
      if (closers.has(g)) {
        units.push(g);
        break;
      }
      // an isolate's end closes the overrides and embeddings opened inside it too
      if (g === '\u2069' && closers === POP_FORMATTING) {
        at--;
        break;
      }
      // Past the bidi algorithm's deepest level, a control opens nothing (its "overflow" rule):
      // a hostile name of 10,000 overrides would otherwise exhaust the stack.
      const opens = depth < MAX_DEPTH ? OPENERS.get(g) : undefined;
      // A nested run moves as one piece: its own direction orders what is inside it.
      units.push(opens ? g + run(opens.reversed, opens.closers, depth + 1).join('') : g);
    }
    return reversed ? units.reverse() : units;
  };
  return run(false, NO_CLOSER, 0).join('');
}

/** Made at the first name that needs it: ICU's grapheme rules cost each thread about 14 ms to load. */
let segmenter: Intl.Segmenter | undefined;
/** max_depth of the Unicode bidi algorithm (UAX #9, BD2): the deepest explicit level. */
const MAX_DEPTH = 125;
/** The explicit directional controls: embeddings, overrides, isolates and the two that close them. */
export const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;
const NO_CLOSER: ReadonlySet<string> = new Set();
const POP_FORMATTING: ReadonlySet<string> = new Set(['\u202c']);
const POP_ISOLATE: ReadonlySet<string> = new Set(['\u2069']);
const OPENERS: ReadonlyMap<string, { reversed: boolean; closers: ReadonlySet<string> }> = new Map([
  ['\u202e', { reversed: true, closers: POP_FORMATTING }], // RLO
  ['\u202d', { reversed: false, closers: POP_FORMATTING }], // LRO
  ['\u202a', { reversed: false, closers: POP_FORMATTING }], // LRE
  ['\u202b', { reversed: false, closers: POP_FORMATTING }], // RLE
  ['\u2066', { reversed: false, closers: POP_ISOLATE }], // LRI
  ['\u2067', { reversed: false, closers: POP_ISOLATE }], // RLI
  ['\u2068', { reversed: false, closers: POP_ISOLATE }], // FSI
]);
