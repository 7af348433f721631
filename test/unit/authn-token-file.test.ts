import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaticTokenAuthenticator, parseGoCsv } from '../../server/auth/authn/token-file.js';

describe('static token file (--token-auth-file)', () => {
  test('token,user,uid with an optional quoted groups column and extra columns', () => {
    const auth = StaticTokenAuthenticator.fromCsv([
      'abc,alice,1001,"dev,ops"',
      '',
      'def,bob,1002',
      'ghi,carol,1003,admins,ignored,columns',
    ].join('\n'));
    expect(auth.authenticate('abc')).toEqual({ name: 'alice', uid: '1001', groups: ['dev', 'ops', 'system:authenticated'] });
    expect(auth.authenticate('def')).toEqual({ name: 'bob', uid: '1002', groups: ['system:authenticated'] });
    expect(auth.authenticate('ghi')).toEqual({ name: 'carol', uid: '1003', groups: ['admins', 'system:authenticated'] });
    expect(auth.authenticate('nope')).toBeUndefined();
    expect(auth.authenticate('')).toBeUndefined();
  });

  test('a record with fewer than 3 columns refuses the file, as upstream', () => {
    expect(() => StaticTokenAuthenticator.fromCsv('abc,alice,1\nshort,row\n', '/etc/tokens.csv'))
      .toThrow("token file '/etc/tokens.csv' must have at least 3 columns (token, user name, user uid), found 2");
  });

  test('no comment syntax: a "#" line is a record like any other (Go csv without Comment)', () => {
    expect(() => StaticTokenAuthenticator.fromCsv('# tokens\nabc,alice,1\n')).toThrow(/found 1/);
    const auth = StaticTokenAuthenticator.fromCsv('#abc,alice,1\n');
    expect(auth.authenticate('#abc')?.name).toBe('alice');
  });

  test('duplicate tokens warn and the last wins; empty tokens are skipped with a warning', () => {
    const auth = StaticTokenAuthenticator.fromCsv('abc,alice,1\nabc,bob,2\n,nobody,3\n', 'f.csv');
    expect(auth.authenticate('abc')?.name).toBe('bob');
    expect(auth.warnings).toEqual([
      "duplicate token has been found in token file 'f.csv', record number '2'",
      "empty token has been found in token file 'f.csv', record number '3'",
    ]);
  });

  test('callers cannot mutate the stored user', () => {
    const auth = StaticTokenAuthenticator.fromCsv('abc,alice,1,dev\n');
    auth.authenticate('abc')!.groups.push('system:masters');
    expect(auth.authenticate('abc')!.groups).toEqual(['dev', 'system:authenticated']);
  });

  test('Go csv quoting: doubled quotes, CRLF, newlines inside quotes, no leading-space trimming', () => {
    expect(parseGoCsv('a,"b ""q"" c",d\r\ne,f,g\r\n')).toEqual([['a', 'b "q" c', 'd'], ['e', 'f', 'g']]);
    expect(parseGoCsv('a,"x\ny",z\n')).toEqual([['a', 'x\ny', 'z']]);
    expect(parseGoCsv('a, b,c')).toEqual([['a', ' b', 'c']]);
    expect(parseGoCsv('a,,\n')).toEqual([['a', '', '']]);
    expect(() => parseGoCsv('a,b"c,d')).toThrow('bare " in non-quoted field');
    expect(() => parseGoCsv('a,"b"c,d')).toThrow('extraneous or missing " in quoted-field');
    expect(() => parseGoCsv('a,"unterminated')).toThrow('extraneous or missing " in quoted-field');
  });

  test('fromFile reads the CSV from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podium-tokens-'));
    try {
      const path = join(dir, 'tokens.csv');
      writeFileSync(path, 'secret-token,admin,admin-uid,"system:masters"\n');
      expect(StaticTokenAuthenticator.fromFile(path).authenticate('secret-token'))
        .toEqual({ name: 'admin', uid: 'admin-uid', groups: ['system:masters', 'system:authenticated'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
