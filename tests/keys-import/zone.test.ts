import { describe, expect, it } from 'vitest';
import { ED_P, ED_TXT, expectImportError, fixtureDir, parse, RSA_P, RSA_TXT } from './fixtures.ts';

const write = fixtureDir();

const P1 = RSA_P.slice(0, 120);
const P2 = RSA_P.slice(120);

describe('zone: zone-file lines and dig output', () => {
  it('reads `name ttl class TXT "…"` with an absolute name, recording the file and the line', () => {
    const f = write('one.zone', `\n; a comment\ns1._domainkey.Example.COM. 3600 IN TXT "${RSA_TXT}"\n`);
    const { format, keys, ignored } = parse(f);
    expect(format).toBe('zone');
    expect(ignored).toEqual([]);
    expect(keys).toEqual([
      {
        name: 's1._domainkey.example.com',
        domain: 'example.com',
        selector: 's1',
        txt: RSA_TXT,
        provenance: 'file',
        origin: f.path,
        firstSeen: null,
        lastSeen: null,
        where: 'line 3',
      },
    ]);
  });

  it('reads dig output: headers and the question line are comments; strings are joined without quotes', () => {
    const dig = [
      '',
      '; <<>> DiG 9.18.28-1~deb12u2-Debian <<>> txt s1._domainkey.example.com',
      ';; global options: +cmd',
      ';; Got answer:',
      ';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242',
      ';; flags: qr rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1',
      '',
      ';; OPT PSEUDOSECTION:',
      '; EDNS: version: 0, flags:; udp: 1232',
      ';; QUESTION SECTION:',
      ';s1._domainkey.example.com.\tIN\tTXT',
      '',
      ';; ANSWER SECTION:',
      `s1._domainkey.example.com. 300\tIN\tTXT\t"v=DKIM1; k=rsa; " "p=${P1}" "${P2}"`,
      '',
      ';; Query time: 20 msec',
      ';; SERVER: 127.0.0.53#53(127.0.0.53) (UDP)',
      ';; MSG SIZE  rcvd: 468',
      '',
    ].join('\n');
    const { keys, ignored } = parse(write('dig.txt', dig));
    expect(ignored).toEqual([]);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ name: 's1._domainkey.example.com', txt: RSA_TXT, where: 'line 14' });
    expect(keys[0]?.txt).not.toContain('"');
  });

  it('reads parenthesised multi-line records, with comments inside, and CRLF line endings', () => {
    const text = [
      '$ORIGIN example.com.',
      's1._domainkey IN TXT ( "v=DKIM1; k=rsa; "   ; the tags',
      `\t"p=${P1}"`,
      `\t"${P2}" )  ; ----- DKIM key s1 for example.com`,
      `s2._domainkey IN TXT ("${ED_TXT}")`,
      '',
    ].join('\r\n');
    const { keys, ignored } = parse(write('multi.zone', text));
    expect(ignored).toEqual([]);
    expect(keys.map((k) => [k.name, k.txt, k.where])).toEqual([
      ['s1._domainkey.example.com', RSA_TXT, 'line 2'],
      ['s2._domainkey.example.com', ED_TXT, 'line 5'],
    ]);
  });

  it('undoes \\" and \\DDD escapes inside strings', () => {
    const f = write('escapes.zone', `s1._domainkey.example.com. TXT "v=DKIM1\\059 k=ed25519\\; n=say \\"hi\\" \\\\o/; p=${ED_P}"\n`);
    expect(parse(f).keys[0]?.txt).toBe(`v=DKIM1; k=ed25519; n=say "hi" \\o/; p=${ED_P}`);
  });

  it('resolves $ORIGIN, relative names and @, and accepts $TTL', () => {
    const text = [
      '$TTL 1h',
      '$ORIGIN example.com.',
      `s1._domainkey 300 IN TXT "${RSA_TXT}"`,
      `s2._domainkey.example.org. IN TXT "${ED_TXT}"`,
      '$ORIGIN _domainkey.example.net.',
      `s3 TXT "${ED_TXT}"`,
      '$ORIGIN s4._domainkey.example.net.',
      `@ IN 60 TXT "${RSA_TXT}"`,
      '$ORIGIN example.net.',
      '$ORIGIN sub',
      `s5._domainkey TXT "${RSA_TXT}"`,
    ].join('\n');
    const { keys } = parse(write('origin.zone', text));
    expect(keys.map((k) => [k.name, k.selector, k.domain])).toEqual([
      ['s1._domainkey.example.com', 's1', 'example.com'],
      ['s2._domainkey.example.org', 's2', 'example.org'],
      ['s3._domainkey.example.net', 's3', 'example.net'],
      ['s4._domainkey.example.net', 's4', 'example.net'],
      ['s5._domainkey.sub.example.net', 's5', 'sub.example.net'],
    ]);
  });

  it('takes a relative name as written when there is no $ORIGIN', () => {
    const f = write('no-origin.txt', `s1._domainkey.example.com IN TXT "${RSA_TXT}"\n`);
    expect(parse(f).keys[0]?.name).toBe('s1._domainkey.example.com');
  });

  it('gives an indented record the previous owner; ttl and class in either order, any case; TYPE16', () => {
    const text = [
      `s1._domainkey.example.com. IN 300 txt "${RSA_TXT}"`,
      `    300 IN TXT "${ED_TXT}"`,
      `\tTXT "v=DKIM1; p="`,
      `s2._domainkey.example.com. in TYPE16 "${ED_TXT}"`,
      `  s3._domainkey.example.com. TXT "${ED_TXT}"`,
    ].join('\n');
    const { keys } = parse(write('owners.zone', text));
    expect(keys.map((k) => [k.name, k.txt])).toEqual([
      ['s1._domainkey.example.com', RSA_TXT],
      ['s1._domainkey.example.com', ED_TXT],
      ['s1._domainkey.example.com', 'v=DKIM1; p='],
      ['s2._domainkey.example.com', ED_TXT],
      ['s3._domainkey.example.com', ED_TXT],
    ]);
  });

  it('accepts unquoted TXT strings', () => {
    const f = write('unquoted.zone', `s1._domainkey.example.com. TXT k=ed25519\\; p=${ED_P}\n`);
    expect(parse(f).keys[0]?.txt).toBe(`k=ed25519;p=${ED_P}`);
  });

  it('lists other record types and TXT records that are not DKIM keys as ignored, with reasons', () => {
    const text = [
      '$ORIGIN example.com.',
      '$TTL 3600',
      '@ IN SOA ns1 hostmaster (',
      '      2024010101 ; serial',
      '      7200 3600 1209600 3600 )',
      '@ IN NS ns1',
      '@ IN MX 10 mx',
      'www IN A 192.0.2.1',
      'www IN AAAA 2001:db8::1',
      '@ IN TXT "v=spf1 include:_spf.example.com -all"',
      '_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:d@example.com"',
      '_domainkey IN TXT "o=~; r=postmaster@example.com"',
      `s1._domainkey IN TXT "${RSA_TXT}"`,
      'old._domainkey IN TXT "v=DKIM1; k=rsa; p="',
      'ftp IN CNAME www',
      '$INCLUDE other.zone',
      '$GENERATE 1-10 host$ A 192.0.2.$',
      'just some words',
    ].join('\n');
    const { keys, ignored } = parse(write('full.zone', text));
    expect(keys.map((k) => [k.name, k.where])).toEqual([
      ['s1._domainkey.example.com', 'line 13'],
      ['old._domainkey.example.com', 'line 14'],
    ]);
    expect(ignored).toEqual([
      { where: 'line 3', why: 'SOA record (not TXT)' },
      { where: 'line 6', why: 'NS record (not TXT)' },
      { where: 'line 7', why: 'MX record (not TXT)' },
      { where: 'line 8', why: 'A record (not TXT)' },
      { where: 'line 9', why: 'AAAA record (not TXT)' },
      { where: 'line 10', why: 'TXT record without a p= tag (not a DKIM key)' },
      { where: 'line 11', why: 'TXT record with v=DMARC1 (not a DKIM key)' },
      { where: 'line 12', why: 'TXT record without a p= tag (not a DKIM key)' },
      { where: 'line 15', why: 'CNAME record with no TXT record at its target in this file' },
      { where: 'line 16', why: '$INCLUDE not followed (import the included file by itself)' },
      { where: 'line 17', why: 'unsupported directive $GENERATE' },
      { where: 'line 18', why: 'not a DNS record (no record type found)' },
    ]);
  });

  it('imports a key reached through a CNAME under the name that was asked (dig follows CNAMEs)', () => {
    const text = [
      ';; ANSWER SECTION:',
      's1._domainkey.example.com. 300 IN CNAME s1.domainkey.u123.wl.provider.net.',
      `s1.domainkey.u123.wl.provider.net. 300 IN TXT "${RSA_TXT}"`,
      'selector1._domainkey.contoso.com. 300 IN CNAME selector1-contoso-com._domainkey.contoso.onmicrosoft.com.',
      `selector1-contoso-com._domainkey.contoso.onmicrosoft.com. 300 IN TXT "${ED_TXT}"`,
    ].join('\n');
    const { keys, ignored } = parse(write('cname.txt', text));
    expect(ignored).toEqual([]);
    expect(keys.map((k) => [k.name, k.where])).toEqual([
      ['s1._domainkey.example.com', 'line 3 (named by the CNAME at line 2)'],
      ['selector1-contoso-com._domainkey.contoso.onmicrosoft.com', 'line 5'],
      ['selector1._domainkey.contoso.com', 'line 5 (named by the CNAME at line 4)'],
    ]);
  });

  it('keeps a record repeated in the file once (dig run twice into one file)', () => {
    const line = `s1._domainkey.example.com. 300 IN TXT "${RSA_TXT}"`;
    const { keys, ignored } = parse(write('twice.txt', `${line}\n;; again\n${line.replace('300', '299')}\n`));
    expect(keys).toHaveLength(1);
    expect(ignored).toEqual([{ where: 'line 3', why: 'same key as line 1' }]);
  });
});

describe('zone: errors name the file and the line', () => {
  it.each([
    ['an unterminated quote', `s0._domainkey.example.com. TXT "${ED_TXT}"\ns1._domainkey.example.com. IN TXT "${RSA_TXT}\n`, 'line 2', /^unterminated quoted string/],
    ['an unterminated quote inside parentheses', `s1._domainkey.example.com. IN TXT (\n  "v=DKIM1; k=rsa; "\n  "p=${P1}\n  ${P2}" )\n`, 'line 3', /^unterminated quoted string/],
    ['a parenthesis never closed', `$ORIGIN example.com.\ns1._domainkey IN TXT ( "v=DKIM1; k=rsa; "\n  "p=${RSA_P}"\n\n`, 'line 2', /^'\(' is never closed \(unbalanced parenthesis at end of file\)$/],
    ['a stray closing parenthesis', `s1._domainkey.example.com. IN TXT "${RSA_TXT}" )\n`, 'line 1', /^'\)' without a matching '\('/],
    ['a \\DDD escape above 255', `s1._domainkey.example.com. TXT "v=DKIM1\\300 p=${ED_P}"\n`, 'line 1', /^bad escape \\300/],
    ['a \\D escape with one digit', `s1._domainkey.example.com. TXT "v=DKIM1\\5; p=${ED_P}"\n`, 'line 1', /three decimal digits/],
    ['a TXT record with no string', `; keys\n\ns1._domainkey.example.com. 300 IN TXT\n`, 'line 3', /^TXT record without any string$/],
    ['a TXT string of stray bytes', `s1._domainkey.example.com. TXT "p=${ED_P}; n=\\255"\n`, 'line 1', /not UTF-8/],
    ['a key whose name has no ._domainkey.', `example.com. 300 IN TXT "v=spf1 -all"\nexample.com. 300 IN TXT "${RSA_TXT}"\n`, 'line 2', /^"example\.com" is not a DKIM key name: it has no "\._domainkey\."/],
    ['a relative key name and no $ORIGIN', `default._domainkey IN TXT ( "v=DKIM1; h=sha256; k=rsa; " "p=${RSA_P}" )  ; ----- DKIM key default for example.com\n`, 'line 1', /not a DKIM key name.*; the name is relative and the file sets no \$ORIGIN/],
    ['@ and no $ORIGIN', `@ IN TXT "${RSA_TXT}"\n`, 'line 1', /"@" stands for the \$ORIGIN, but the file sets none/],
    ['an indented first record', `   IN TXT "${RSA_TXT}"\n`, 'line 1', /has no owner name/],
    ['$ORIGIN without a name', `$ORIGIN\ns1._domainkey TXT "${RSA_TXT}"\n`, 'line 1', /^\$ORIGIN needs a domain name$/],
  ])('%s', (_what, text, where, detail) => {
    expectImportError(write('bad.zone', text), where, detail);
  });
});
