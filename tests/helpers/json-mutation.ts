import { pick, randInt, type Rng } from '../../src/fuzz/mutate.ts';

/**
 * `text` with up to two random edits, for the tests that hold a one-pass JSON reader to the
 * whole reading: a token of `inserts` put in, a few characters cut, a slice of the text repeated
 * elsewhere, or one character replaced by any ASCII one. A third of the texts are left as they
 * are, so that valid files are compared too.
 */
export function mutateJsonText(text: string, rng: Rng, inserts: readonly string[]): string {
  let out = text;
  for (let edits = randInt(rng, 3); edits > 0; edits--) {
    const at = randInt(rng, out.length + 1);
    const kind = randInt(rng, 4);
    if (kind === 0) out = out.slice(0, at) + pick(rng, inserts) + out.slice(at);
    else if (kind === 1) out = out.slice(0, at) + out.slice(at + 1 + randInt(rng, 3));
    else if (kind === 2) {
      const from = randInt(rng, out.length);
      out = out.slice(0, at) + out.slice(from, from + randInt(rng, 20)) + out.slice(at);
    } else out = out.slice(0, at) + String.fromCharCode(randInt(rng, 128)) + out.slice(at + 1);
  }
  return out;
}
