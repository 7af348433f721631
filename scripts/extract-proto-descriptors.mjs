#!/usr/bin/env node
// Development script (not part of the build): regenerates server/protobuf/k8s-messages.json, the
// field-number table that server/protobuf/decode.ts uses to read kubectl's protobuf request bodies.
//
//   node scripts/extract-proto-descriptors.mjs [--kubectl PATH] [--out PATH] [--openapi PATH]
//
// Go binaries built with gogo-protobuf register each generated.proto as a gzip-compressed
// FileDescriptorProto, so a kubectl binary carries the exact schema it encodes with. We scan the
// binary for gzip members, inflate each one, keep the ones that decode as a FileDescriptorProto of a
// package we need, and flatten them into a compact table. The gogo field options survive in those
// descriptors, and they tell us what the descriptor alone cannot: whether the Go field is a pointer
// (only written when set) or a value (always written, so a zero means "unset").
//
// --openapi points at an upstream OpenAPI v2 document (swagger.json). When given, every message with
// a matching definition is compared by field name with the definition's properties and mismatches
// are printed: that is how the JSON-name exceptions handled in decode.ts (inlined embedded structs,
// a few odd proto names) were found. Fields one side lacks can also be plain version skew.
import { readFileSync, writeFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { option } from './lib/cli.mjs';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs');
const descriptor = require('protobufjs/ext/descriptor');

const args = process.argv.slice(2);
const opt = (name, dflt) => option(args, name, dflt);
const kubectlPath = opt('--kubectl', '/usr/lib/google-cloud-sdk/bin/kubectl.1.33');
const outPath = opt('--out', new URL('../server/protobuf/k8s-messages.json', import.meta.url).pathname);
const openapiPath = opt('--openapi', undefined);

// GA versions of every k8s.io/api group, plus the few pre-GA versions kubectl still sends, plus the
// apimachinery packages they reference. Alpha/beta versions would double the table for nothing.
const wantedFile = (name) =>
  /^k8s\.io\/api\/[a-z0-9]+\/v[0-9]+\/generated\.proto$/.test(name) ||
  [
    'k8s.io/api/authentication/v1beta1/generated.proto', // SelfSubjectReview from `auth whoami` on 1.27
    'k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto',
    'k8s.io/apimachinery/pkg/runtime/generated.proto',
    'k8s.io/apimachinery/pkg/util/intstr/generated.proto',
    'k8s.io/apimachinery/pkg/api/resource/generated.proto',
  ].includes(name);

// gogoproto extension numbers on FieldOptions (github.com/gogo/protobuf/gogoproto/gogo.proto).
const GOGO_NULLABLE = 65001;

const SCALARS = {
  1: 'double', 2: 'float', 3: 'int64', 4: 'uint64', 5: 'int32', 6: 'fixed64', 7: 'fixed32', 8: 'bool',
  9: 'string', 12: 'bytes', 13: 'uint32', 15: 'sfixed32', 16: 'sfixed64', 17: 'sint32', 18: 'sint64',
};
const TYPE_MESSAGE = 11;
const TYPE_ENUM = 14;
const LABEL_REPEATED = 3;

function findDescriptors(bin) {
  // Go writes gzip headers with no optional fields (FLG=0), so the deflate stream starts at byte 10;
  // inflating raw deflate stops at the member's end, where gunzip would run into the next member.
  const magic = Buffer.from([0x1f, 0x8b, 0x08, 0x00]);
  const files = new Map();
  for (let i = bin.indexOf(magic); i >= 0; i = bin.indexOf(magic, i + 4)) {
    let fd, raw;
    try {
      raw = inflateRawSync(bin.subarray(i + 10, i + 10 + (8 << 20)));
      fd = descriptor.FileDescriptorProto.decode(raw);
    } catch {
      continue;
    }
    if (typeof fd.name === 'string' && wantedFile(fd.name)) files.set(fd.name, { fd, raw });
  }
  return files;
}

// protobufjs drops extension fields it has no schema for, so the gogo options are read from the raw
// FieldOptions bytes. Re-encoding the decoded options would lose them, hence the raw pass.
function gogoOptionsByField(fileBytes) {
  const result = new Map(); // "pkg.Msg.field" -> { nullable }
  const walkMessage = (buf, prefix) => {
    const r = protobuf.Reader.create(buf);
    let name = '';
    const fields = [];
    const nested = [];
    while (r.pos < r.len) {
      const tag = r.uint32();
      if ((tag & 7) !== 2) { r.skipType(tag & 7); continue; }
      const b = r.bytes();
      if (tag >>> 3 === 1) name = Buffer.from(b).toString('utf8');
      else if (tag >>> 3 === 2) fields.push(b);
      else if (tag >>> 3 === 3) nested.push(b);
    }
    const full = `${prefix}.${name}`;
    for (const f of fields) {
      const fr = protobuf.Reader.create(f);
      let fname = '';
      const info = {};
      while (fr.pos < fr.len) {
        const tag = fr.uint32();
        if (tag >>> 3 === 1 && (tag & 7) === 2) fname = fr.string();
        else if (tag >>> 3 === 8 && (tag & 7) === 2) {
          const o = protobuf.Reader.create(fr.bytes());
          while (o.pos < o.len) {
            const ot = o.uint32();
            if (ot >>> 3 === GOGO_NULLABLE && (ot & 7) === 0) info.nullable = o.bool();
            else o.skipType(ot & 7);
          }
        } else fr.skipType(tag & 7);
      }
      result.set(`${full}.${fname}`, info);
    }
    for (const n of nested) walkMessage(n, full);
  };
  const r = protobuf.Reader.create(fileBytes);
  let pkg = '';
  const messages = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 2 && (tag & 7) === 2) pkg = r.string();
    else if (tag >>> 3 === 4 && (tag & 7) === 2) messages.push(r.bytes());
    else r.skipType(tag & 7);
  }
  for (const m of messages) walkMessage(m, pkg);
  return result;
}

function buildTable(files) {
  const messages = {};
  const mapEntries = new Map(); // entry full name -> "map<K,V>"
  const all = [];
  const collect = (msg, prefix) => {
    const full = `${prefix}.${msg.name}`;
    if (msg.options?.mapEntry) {
      const typeOf = (f) => (f.type === TYPE_MESSAGE ? f.typeName.replace(/^\./, '') : SCALARS[f.type]);
      const [k, v] = [msg.field.find((f) => f.number === 1), msg.field.find((f) => f.number === 2)];
      mapEntries.set(full, `map<${typeOf(k)},${typeOf(v)}>`);
      return;
    }
    all.push([full, msg]);
    for (const n of msg.nestedType ?? []) collect(n, full);
  };
  const gogo = new Map();
  for (const { fd, raw } of files.values()) {
    for (const m of fd.messageType ?? []) collect(m, fd.package);
    for (const [k, v] of gogoOptionsByField(raw)) gogo.set(k, v);
  }
  for (const [full, msg] of all.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    messages[full] = [...msg.field]
      .sort((a, b) => a.number - b.number)
      .map((f) => {
        if (f.type === TYPE_ENUM) throw new Error(`${full}.${f.name}: enums are not expected in Kubernetes APIs`);
        const ref = f.typeName?.replace(/^\./, '');
        const type = f.type === TYPE_MESSAGE ? (mapEntries.get(ref) ?? ref) : SCALARS[f.type];
        if (!type) throw new Error(`${full}.${f.name}: unsupported field type ${f.type}`);
        const g = gogo.get(`${full}.${f.name}`) ?? {};
        let label = g.nullable === false ? 'v' : 'o';
        if (f.label === LABEL_REPEATED) label = 'r';
        return [f.number, f.name, type, label];
      });
  }
  return messages;
}

function checkAgainstOpenAPI(messages, doc) {
  const defs = doc.definitions ?? {};
  const propsOf = (name) => (messages[name] ?? []).map(([, field]) => field);
  let checked = 0;
  const problems = [];
  for (const name of Object.keys(messages)) {
    const def = defs[`io.${name.replace(/^k8s\.io\./, 'k8s.')}`];
    if (!def?.properties) continue;
    checked++;
    const ours = new Set(propsOf(name));
    // apiVersion/kind of top-level kinds travel in the envelope, not in the message.
    for (const k of ['apiVersion', 'kind']) if (!def.properties[k]) ours.delete(k);
    const theirs = new Set(Object.keys(def.properties).filter((p) => (p !== 'apiVersion' && p !== 'kind') || ours.has(p)));
    const missing = [...theirs].filter((p) => !ours.has(p));
    const extra = [...ours].filter((p) => !theirs.has(p));
    if (missing.length || extra.length) problems.push(`${name}: openapi-only [${missing}] proto-only [${extra}]`);
  }
  console.log(`openapi check: ${checked} messages compared, ${problems.length} differ`);
  for (const p of problems) console.log(`  ${p}`);
}

const bin = readFileSync(kubectlPath);
const files = findDescriptors(bin);
const messages = buildTable(files);
let version = '';
try {
  version = JSON.parse(execFileSync(kubectlPath, ['version', '--client', '-o', 'json'], { encoding: 'utf8' }))
    .clientVersion.gitVersion;
} catch {
  // the table is still usable; the header just lacks the exact version
}
if (openapiPath) checkAgainstOpenAPI(messages, JSON.parse(readFileSync(openapiPath, 'utf8')));

const header = {
  comment:
    'GENERATED by scripts/extract-proto-descriptors.mjs from the gzip-compressed FileDescriptorProtos embedded ' +
    'in a kubectl binary; do not edit by hand. messages: full name -> fields [number, name, type, label]. ' +
    'name: the proto field name (the JSON name, bar the exceptions in decode.ts). type: scalar, message full name, ' +
    'or map<key,value>. label: o = Go pointer (written only when set), v = Go value (always written; zero means ' +
    'unset), r = repeated.',
  source: `${kubectlPath.split('/').pop()} ${version}`.trim(),
  files: files.size,
};
const lines = Object.entries(messages).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
const text =
  `{${Object.entries(header).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',\n')},\n` +
  `"messages":{\n${lines.join(',\n')}\n}}\n`;
writeFileSync(outPath, text);
console.log(`wrote ${outPath}: ${files.size} files, ${lines.length} messages, ${text.length} bytes`);
