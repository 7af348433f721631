// Static bearer tokens from a CSV file, as kube-apiserver's --token-auth-file
// (upstream's tokenfile.NewCSV): `token,user,uid[,"group1,group2"][,ignored…]`.
// The file is read with Go's encoding/csv defaults: no comment lines, no trimming of
// leading spaces, blank lines skipped, quotes only around a whole field.
import { readFileSync } from 'node:fs';
import { logger } from '../../../apimachinery/log.js';
import type { UserInfo } from '../types.js';
import { withAuthenticatedGroup } from './groups.js';

const log = logger('token-file');

/** A Go encoding/csv ParseError, worded as Go prints it. */
export class CsvParseError extends Error {}

/**
 * Splits text into records as Go's csv.Reader with FieldsPerRecord=-1 does. Kept to the
 * subset the token file needs: ',' separator, RFC 4180 quoting, \r\n or \n line ends.
 */
export function parseGoCsv(text: string): string[][] {
  const records: string[][] = [];
  const s = text.replace(/\r\n/g, '\n');
  let i = 0;
  let line = 1;
  while (i < s.length) {
    // An empty line is no record at all (not a record with one empty field).
    if (s[i] === '\n') { i++; line++; continue; }
    const record: string[] = [];
    const recordLine = line;
    for (;;) {
      let field = '';
      if (s[i] === '"') {
        const fieldLine = line;
        let col = 0;
        i++;
        for (;;) {
          if (i >= s.length) {
            throw new CsvParseError(`record on line ${recordLine}; parse error on line ${fieldLine}, column ${col}: extraneous or missing " in quoted-field`);
          }
          const c = s[i];
          if (c === '"') {
            if (s[i + 1] === '"') { field += '"'; i += 2; continue; }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
          col++;
        }
        if (i < s.length && s[i] !== ',' && s[i] !== '\n') {
          throw new CsvParseError(`parse error on line ${line}, column ${col + 2}: extraneous or missing " in quoted-field`);
        }
      } else {
        const start = i;
        while (i < s.length && s[i] !== ',' && s[i] !== '\n') i++;
        field = s.slice(start, i);
        const quote = field.indexOf('"');
        if (quote >= 0) throw new CsvParseError(`parse error on line ${line}, column ${quote + 1}: bare " in non-quoted field`);
      }
      record.push(field);
      if (i < s.length && s[i] === ',') { i++; continue; }
      if (i < s.length && s[i] === '\n') { i++; line++; }
      break;
    }
    records.push(record);
  }
  return records;
}

export class StaticTokenAuthenticator {
  /** What loading noticed and upstream only logs (empty and duplicate tokens). */
  readonly warnings: string[] = [];

  private constructor(private readonly tokens: Map<string, UserInfo>) {}

  static fromFile(path: string): StaticTokenAuthenticator {
    return StaticTokenAuthenticator.fromCsv(readFileSync(path, 'utf8'), path);
  }

  /** Throws on malformed CSV and on a record with fewer than 3 columns, as upstream refuses to start. */
  static fromCsv(text: string, path = '<inline>'): StaticTokenAuthenticator {
    const tokens = new Map<string, UserInfo>();
    const warnings: string[] = [];
    let recordNum = 0;
    for (const record of parseGoCsv(text)) {
      if (record.length < 3) {
        throw new Error(`token file '${path}' must have at least 3 columns (token, user name, user uid), found ${record.length}`);
      }
      recordNum++;
      const [token, name, uid] = record;
      if (token === '') {
        warnings.push(`empty token has been found in token file '${path}', record number '${recordNum}'`);
        continue;
      }
      if (tokens.has(token)) warnings.push(`duplicate token has been found in token file '${path}', record number '${recordNum}'`);
      // Go's strings.Split: an empty groups column yields one empty group, as upstream.
      const groups = record.length >= 4 ? record[3].split(',') : [];
      tokens.set(token, { name, uid, groups });
    }
    for (const w of warnings) log.warn(w);
    const auth = new StaticTokenAuthenticator(tokens);
    auth.warnings.push(...warnings);
    return auth;
  }

  /** The user the token names (plus system:authenticated), or undefined for an unknown token. */
  authenticate(token: string): UserInfo | undefined {
    const user = this.tokens.get(token);
    if (!user) return undefined;
    return withAuthenticatedGroup({ ...user, groups: [...user.groups] });
  }
}
