import { readFileSync } from 'node:fs';
import { analyzeMessage } from '../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../src/keys/key-lookup.ts';
const raw = readFileSync(process.argv[2]!);
const a = await analyzeMessage({ raw, format: 'eml' }, offlineFileLookup('/tmp/leakcheck-bench/bench-keys.json'));
console.log(a.verdict.verdict, a.verdict.reasons, a.repairs, a.signatures.map((s) => s.outcome), a.findings.map((f) => f.code));
