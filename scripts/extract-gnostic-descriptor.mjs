#!/usr/bin/env node
// Development script (not part of the build): regenerates openapi/gnostic-openapiv2.json, the
// message table openapi/v2-protobuf.ts encodes `GET /openapi/v2` protobuf replies with.
//
//   node scripts/extract-gnostic-descriptor.mjs [--kubectl PATH] [--out PATH] [--print]
//
// kubectl 1.27/1.28 decode that reply as gnostic's `openapi.v2.Document`, and the binary carries the
// exact schema it decodes with. Unlike the gogo-generated k8s.io packages (gzip members, see
// scripts/extract-proto-descriptors.mjs), gnostic is built with protoc-gen-go v2, which embeds the
// FileDescriptorProto *uncompressed* (the `rawDesc` byte slice). So we look for its first bytes —
// field 1 (name) = "openapiv2/OpenAPIv2.proto" — and find where it ends by walking top-level fields:
// protoc serializes in ascending field-number order, so the first tag that is out of order, unknown,
// or of the wrong wire type is the start of whatever the linker put next. A full decode plus a check
// that every referenced type resolves guards against cutting it short.
// --print dumps the table in a readable form instead of writing it.
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { option } from './lib/cli.mjs';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs');
const descriptor = require('protobufjs/ext/descriptor');

const args = process.argv.slice(2);
const opt = (name, dflt) => option(args, name, dflt);
const kubectlPath = opt('--kubectl', '/usr/lib/google-cloud-sdk/bin/kubectl.1.27');
const outPath = opt('--out', new URL('../openapi/gnostic-openapiv2.json', import.meta.url).pathname);
const FILE_NAME = 'openapiv2/OpenAPIv2.proto';
const PACKAGE = 'openapi.v2';

const SCALARS = {
  1: 'double', 2: 'float', 3: 'int64', 4: 'uint64', 5: 'int32', 6: 'fixed64', 7: 'fixed32', 8: 'bool',
  9: 'string', 12: 'bytes', 13: 'uint32', 15: 'sfixed32', 16: 'sfixed64', 17: 'sint32', 18: 'sint64',
};
const TYPE_MESSAGE = 11;
const LABEL_REPEATED = 3;
// FileDescriptorProto field number -> wire type (descriptor.proto); source_code_info (9) is
// stripped by protoc-gen-go but allowed anyway.
const FILE_FIELDS = { 1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 8: 2, 9: 2, 10: 0, 11: 0, 12: 2, 14: 0 };

function rawDescriptorLength(bin, start) {
  const r = protobuf.Reader.create(bin.subarray(start, start + (4 << 20)));
  let last = 0;
  let end = 0;
  while (r.pos < r.len) {
    let tag;
    try {
      tag = r.uint32();
    } catch {
      break;
    }
    const [num, wire] = [tag >>> 3, tag & 7];
    if (FILE_FIELDS[num] !== wire || num < last) break;
    try {
      r.skipType(wire);
    } catch {
      break;
    }
    last = num;
    end = r.pos;
  }
  return end;
}

function findDescriptor(bin) {
  const name = Buffer.from(FILE_NAME);
  const prefix = Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  for (let i = bin.indexOf(prefix); i >= 0; i = bin.indexOf(prefix, i + 1)) {
    const raw = bin.subarray(i, i + rawDescriptorLength(bin, i));
    try {
      const fd = descriptor.FileDescriptorProto.decode(raw);
      if (fd.package === PACKAGE && fd.messageType?.length) return fd;
    } catch {
      // a stray copy of the name string; keep looking
    }
  }
  throw new Error(`${FILE_NAME} not found in ${kubectlPath}`);
}

// Table: message -> { f: [[number, name, type, label, oneof?]] }; label o = singular, r = repeated.
// Oneof members carry the oneof's name, which is what protobufjs needs to rebuild the message.
function buildTable(fd) {
  if (fd.enumType?.length) throw new Error('gnostic enums are not expected');
  const messages = {};
  for (const msg of fd.messageType) {
    if (msg.nestedType?.length || msg.enumType?.length) throw new Error(`${msg.name}: nested types not expected`);
    const oneofs = (msg.oneofDecl ?? []).map((o) => o.name);
    messages[msg.name] = [...msg.field]
      .sort((a, b) => a.number - b.number)
      .map((f) => {
        const ref = f.typeName?.replace(/^\./, '');
        let type = SCALARS[f.type];
        if (f.type === TYPE_MESSAGE) type = ref.startsWith(`${PACKAGE}.`) ? ref.slice(PACKAGE.length + 1) : ref;
        if (!type) throw new Error(`${msg.name}.${f.name}: unsupported field type ${f.type}`);
        const row = [f.number, f.name, type, f.label === LABEL_REPEATED ? 'r' : 'o'];
        // protobufjs puts a default 0 on the prototype, so only an own oneofIndex is real. proto3
        // `optional` would show up as a synthetic oneof; gnostic has none, but skip them anyway.
        if (Object.hasOwn(f, 'oneofIndex') && !f.proto3Optional) row.push(oneofs[f.oneofIndex]);
        return row;
      });
  }
  for (const [name, fields] of Object.entries(messages)) {
    for (const [, fname, type] of fields) {
      if (!Object.values(SCALARS).includes(type) && !messages[type] && type !== 'google.protobuf.Any') {
        throw new Error(`${name}.${fname}: unresolved type ${type}`);
      }
    }
  }
  return messages;
}

const fd = findDescriptor(readFileSync(kubectlPath));
const messages = buildTable(fd);
if (args.includes('--print')) {
  for (const [name, fields] of Object.entries(messages)) {
    console.log(name);
    for (const f of fields) console.log(`  ${f.join(' ')}`);
  }
  process.exit(0);
}
let version = '';
try {
  version = JSON.parse(execFileSync(kubectlPath, ['version', '--client', '-o', 'json'], { encoding: 'utf8' }))
    .clientVersion.gitVersion;
} catch {
  // the table is still usable; the header just lacks the exact version
}
const header = {
  comment:
    'GENERATED by scripts/extract-gnostic-descriptor.mjs from the uncompressed FileDescriptorProto of gnostic ' +
    `${FILE_NAME} embedded in a kubectl binary; do not edit by hand. messages (package ${PACKAGE}): name -> ` +
    'fields [number, name, type, label, oneof?]. type: scalar, message name within the package, or ' +
    'google.protobuf.Any. label: o = singular, r = repeated. oneof: the containing oneof, if any.',
  source: `${kubectlPath.split('/').pop()} ${version}`.trim(),
  file: fd.name,
  package: fd.package,
  syntax: fd.syntax ?? 'proto2',
};
const lines = Object.entries(messages).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
const text =
  `{${Object.entries(header).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',\n')},\n` +
  `"messages":{\n${lines.join(',\n')}\n}}\n`;
writeFileSync(outPath, text);
console.log(`wrote ${outPath}: ${lines.length} messages, ${text.length} bytes`);
