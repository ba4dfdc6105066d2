import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { keyFileName } from '../../src/keys/key-file-name.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import { DEMO_KEYS } from '../helpers/cli.ts';
import { demoMessage, signWithFixtureKey } from '../hostile/sign.ts';

/*
 * Red team 27, C-05: explanations named a key file by the path it was given with, so the same
 * keys at two places explained the same verdicts differently (exports of one dump never compared
 * equal between two analysts), and a published report showed the analyst's folders. They name it
 * as the manifest does.
 */
describe('a key file is named by its file name in explanations', () => {
  it('whatever folders it was given with, Windows ones included', () => {
    expect(keyFileName('/home/jane/cases/source-x/keys.json')).toBe('keys.json');
    expect(keyFileName('keys.json')).toBe('keys.json');
    expect(keyFileName('C:\\cases\\source-x\\keys.json')).toBe('keys.json');
    expect(keyFileName('\\\\server\\share\\keys.json')).toBe('keys.json');
  });

  it('in the explanation of a verified message', async () => {
    expect(DEMO_KEYS).toMatch(/^\/.+\/fixtures\/demo-keys\.json$/);
    const raw = Buffer.from(await signWithFixtureKey(demoMessage({ id: 'key-file-name' })), 'latin1');
    const a = await analyzeMessage({ raw, format: 'eml' }, offlineFileLookup(DEMO_KEYS));
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.explanation).toContain('from file demo-keys.json');
    expect(a.verdict.explanation).not.toContain('fixtures/');
    // the signature's own record keeps the path as given: the analyst's note of where the key was
    expect(a.signatures[0]!.key?.origin).toBe(DEMO_KEYS);
  });
});
