import { describe, expect, it } from 'vitest';
import { dkimResultsIn } from '../../src/verify/arc.ts';

/*
 * What a sealer recorded (its ARC-Authentication-Results) is read as RFC 8601 has it: results cut
 * at the semicolons outside quoted strings and comments, comments nested. The record echoes values
 * the sender chose, a quoted envelope sender among them: read with a plain split, it recorded a
 * pass the sealer never saw (red team 27, D-04).
 */
describe('the dkim= results a sealer recorded', () => {
  it('reads each result with its domain (header.d), the domain of header.i, its selector and header.b', () => {
    expect(dkimResultsIn('i=1; mx.google.com; dkim=pass header.i=@example.com header.s=sel1 header.b=abc; spf=pass smtp.mailfrom=a@example.com')).toEqual([
      { result: 'pass', domain: null, identityDomain: 'example.com', selector: 'sel1', b: 'abc' },
    ]);
    expect(dkimResultsIn('i=1; mx.example; dkim=neutral (body hash did not verify) header.d=Example.COM')).toEqual([{ result: 'neutral', domain: 'example.com' }]);
  });

  it('finds no result inside a quoted string or a comment, however nested', () => {
    const quoted = 'i=1; mx.google.com; dkim=fail header.i=@victim.example header.s=s1; spf=pass smtp.mailfrom="x;dkim=pass header.d=victim.example;"@attacker.example';
    expect(dkimResultsIn(quoted)).toEqual([{ result: 'fail', domain: null, identityDomain: 'victim.example', selector: 's1' }]);
    const nested = 'i=1; mx.google.com; dkim=fail header.d=victim.example; spf=pass (google.com: (a) ; dkim=pass header.d=victim.example) smtp.mailfrom=x@attacker.example';
    expect(dkimResultsIn(nested)).toEqual([{ result: 'fail', domain: 'victim.example' }]);
    expect(dkimResultsIn('i=1; mx; spf=pass smtp.mailfrom="a\\"; dkim=pass header.d=victim.example"@x.example')).toEqual([]);
  });
});
