/**
 * The reason and finding codes are a public contract (docs/verdicts.md): every code the verdict
 * can give must be documented, and the catalogue must agree with what decideVerdict emits.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/checks/types.ts';
import { decideVerdict } from '../../src/verdict/decide.ts';
import type { VerdictInput } from '../../src/verdict/types.ts';
import { REASONS } from '../../src/verdict/reasons.ts';
import type { ArcVerification } from '../../src/verify/arc.ts';
import type { DkimSignatureResult, KeyUsed, SignatureOutcome } from '../../src/verify/dkim.ts';
import { readSignatureTags } from '../../src/verify/signature-tags.ts';
import { strongKey } from '../checks/support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

const VERDICTS_DOC = read('docs/verdicts.md');
const CHECKS_DOC = existsSync(join(ROOT, 'docs/checks.md')) ? read('docs/checks.md') : '';
const documented = (code: string, doc = `${VERDICTS_DOC}\n${CHECKS_DOC}`): boolean => doc.includes(`\`${code}\``);

/** Finding codes written in the source: every kebab-case literal on a line that sets `code:`. */
function findingCodesInSource(): Set<string> {
  const codes = new Set<string>();
  for (const dir of ['src/checks', 'src/checks/dump', 'src/verdict', 'src/analyze']) {
    for (const file of readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.ts'))) {
      for (const line of read(join(dir, file)).split('\n')) {
        if (!/\bcode:/.test(line)) continue;
        for (const m of line.matchAll(/'([a-z0-9]+(?:-[a-z0-9]+)+)'/g)) codes.add(m[1]!);
      }
    }
  }
  return codes;
}

/** The members of the SignatureOutcome union, read from its declaration. */
function signatureOutcomes(): string[] {
  const source = read('src/verify/dkim.ts');
  const decl = /export type SignatureOutcome =([^;]+);/.exec(source)?.[1] ?? '';
  return [...decl.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!);
}

describe('docs/verdicts.md documents every reason code', () => {
  it.each(Object.keys(REASONS))('reason `%s`', (code) => {
    expect(documented(code, VERDICTS_DOC), `${code} is in REASONS but not documented as \`${code}\` in docs/verdicts.md`).toBe(true);
  });
});

describe('every finding code is documented', () => {
  const fromSource = findingCodesInSource();
  const required = [
    'header-injected',
    'header-unsigned-instance',
    'body-content-after-l',
    'expiry-not-judged',
    'dkim-broken-by-intermediary',
    'dkim-fail-superseded',
  ];

  it('the source scan finds the codes the checks are known to use', () => {
    for (const code of required) expect(fromSource, code).toContain(code);
  });

  it.each([...new Set([...required, ...fromSource])].sort())('finding `%s`', (code) => {
    expect(documented(code), `${code} is used in src/ but documented in neither docs/verdicts.md nor docs/checks.md`).toBe(true);
  });
});

/**
 * A red-flag finding becomes a reason of the verdict under its own code, and every summary (the
 * terminal's "Most frequent reasons", the Markdown and HTML reason tables) explains a reason
 * with its catalogue sentence: one with no sentence showed a code and nothing else.
 */
describe('every finding that can be a red flag is a catalogue reason, with its sentence', () => {
  // from both documents' finding tables: the verdict adds red flags of its own, documented in
  // docs/verdicts.md, and arc-body-modified had no sentence (red team U, U-01)
  const redFlagCodes = [...new Set([...`${CHECKS_DOC}\n${VERDICTS_DOC}`.matchAll(/^\| `([a-z0-9-]+)` \| [^|]*red-flag/gm)].map((m) => m[1]!))];
  it('reads the red-flag codes from the tables of docs/checks.md and docs/verdicts.md', () => {
    expect(redFlagCodes).toEqual(expect.arrayContaining(['header-injected', 'received-hops-backwards', 'conflicting-copy', 'reply-before-parent', 'arc-body-modified']));
  });
  it.each(redFlagCodes)('`%s`', (code) => {
    const def = (REASONS as Record<string, { verdict: string; text: string } | undefined>)[code];
    expect(def?.verdict, `${code} can be a red flag, so it needs an entry in REASONS`).toBe('suspicious');
    expect(def!.text.length).toBeGreaterThan(40);
  });
});

describe('docs/verdicts.md lists every signature outcome', () => {
  const outcomes = signatureOutcomes();
  it('reads the outcomes from src/verify/dkim.ts', () => {
    expect(outcomes).toEqual(expect.arrayContaining(['pass', 'body-modified', 'signature-mismatch', 'key-not-found', 'from-not-signed']));
  });
  it.each(outcomes)('outcome `%s`', (outcome) => {
    expect(documented(outcome, VERDICTS_DOC)).toBe(true);
  });
});

describe('what decideVerdict emits agrees with the catalogue', () => {
  const key = (overrides: Partial<KeyUsed>): KeyUsed => strongKey({ txt: 'v=DKIM1; k=rsa; p=AAAA', fingerprint: 'f'.repeat(64), fingerprintMd5: 'm'.repeat(32), ...overrides });
  const KEYS: Array<KeyUsed | null> = [
    null,
    key({}),
    key({ bits: 512, strong: false }),
    key({ revoked: true, keyType: null, bits: null, strong: false, fingerprint: null }),
    key({ compromised: 'listed in compromised.txt' }),
    key({ keyType: 'ed25519', bits: 256 }),
  ];
  const OUTCOMES = signatureOutcomes() as SignatureOutcome[];
  const signature = (index: number, outcome: SignatureOutcome, k: KeyUsed | null, lookup: DkimSignatureResult['keyLookup'], h: string, alg: string): DkimSignatureResult => ({
    index,
    tags: readSignatureTags(`v=1; a=${alg}; c=relaxed/relaxed; d=example.com; s=sel; h=${h}; bh=AAAA; b=QUJD${index}`),
    result: outcome === 'pass' ? 'pass' : 'neutral',
    comment: null,
    outcome,
    keyName: 'sel._domainkey.example.com',
    key: k,
    keyLookup: lookup,
    aligned: true,
    headerSignatureValid: null,
    bodyBytesSigned: null,
    bodyBytesTotal: null,
    warnings: [],
  });
  const ARCS: ArcVerification[] = [
    { result: 'none', reason: null, instances: [], sealerSawDkim: [] },
    { result: 'pass', reason: 'i=1', instances: [], sealerSawDkim: [{ result: 'pass', domain: 'example.com' }] },
    { result: 'fail', reason: 'bad seal', instances: [], sealerSawDkim: [] },
  ];
  const finding = (code: string, severity: Finding['severity']): Finding => ({ code, severity, text: code, evidence: { signature: '#1 d=example.com s=sel' } });
  const FINDINGS: Finding[][] = [
    [],
    [finding('header-injected', 'red-flag')],
    [finding('body-content-after-l', 'red-flag')],
    [finding('header-unsigned-instance', 'info')],
  ];

  function* inputs(): Generator<VerdictInput> {
    yield { signatures: [], arc: ARCS[0]!, findings: [], repairs: [], parseError: 'no header fields found' };
    for (const arc of ARCS) {
      for (const findings of FINDINGS) {
        yield { signatures: [], arc, findings, repairs: [], parseError: null };
        for (const outcome of OUTCOMES) {
          for (const k of KEYS) {
            for (const lookup of ['found', 'absent', 'error', 'not-needed'] as const) {
              for (const alg of ['rsa-sha256', 'rsa-sha1']) {
                const one = signature(0, outcome, k, lookup, 'from:to:subject', alg);
                yield { signatures: [one], arc, findings, repairs: [], parseError: null };
                // the same beside a second, genuine signature covering more
                const other = signature(1, 'pass', key({}), 'found', 'from:to:subject:date', 'rsa-sha256');
                yield { signatures: [other, { ...one, index: 0 }], arc, findings, repairs: ['crlf'], parseError: null };
              }
            }
          }
        }
      }
    }
  }

  it('every reason is a catalogue code or a documented red-flag finding, and catalogue reasons match the verdict', () => {
    const seen = new Set<string>();
    let decisions = 0;
    for (const input of inputs()) {
      const decision = decideVerdict(input);
      decisions++;
      expect(decision.reasons.length, JSON.stringify(input)).toBeGreaterThan(0);
      const redFlags = new Set(input.findings.filter((f) => f.severity === 'red-flag').map((f) => f.code));
      for (const reason of decision.reasons) {
        seen.add(reason);
        if (reason in REASONS) {
          const definition = REASONS[reason as keyof typeof REASONS];
          expect(definition.verdict, `${reason} given with verdict ${decision.verdict}`).toBe(decision.verdict);
        } else {
          expect(redFlags.has(reason), `${reason} is neither in REASONS nor a red-flag finding of the input`).toBe(true);
          expect(decision.verdict).toBe('suspicious');
          expect(documented(reason), `${reason} is not documented`).toBe(true);
        }
      }
      for (const f of decision.findings) expect(documented(f.code), `${f.code} is not documented`).toBe(true);
    }
    expect(decisions).toBeGreaterThan(1000);
    // the enumeration reaches every rule
    for (const code of ['dkim-verified', 'dkim-body-modified', 'dkim-signature-mismatch', 'header-injected', 'unsigned', 'key-too-weak', 'arc-only', 'message-unparseable']) {
      expect(seen, code).toContain(code);
    }
  });
});
