// Generates openapi/generated/types.json: the schema type graph of every API type, read from the
// .d.ts files of the kubernetes-types package with the TypeScript compiler API.
//
//   node scripts/generate-type-graph.mjs [--check]
//
// --check exits 1 when the committed file differs from what would be generated (for CI).
//
// What TypeScript cannot say (patch strategies, merge keys, list types) lives in the hand-written
// openapi/patch-metadata.ts; this graph only carries shapes, required-ness and descriptions.
import ts from 'typescript';
import { readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const typesRoot = dirname(require.resolve('kubernetes-types/package.json'));
const outFile = join(root, 'openapi', 'generated', 'types.json');

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

// kubernetes-types flattens IntOrString into `number | string`; upstream has a definition for it.
const SYNTHETIC = {
  [INT_OR_STRING]: {
    type: 'string',
    format: 'int-or-string',
    description: 'IntOrString is a type that can hold an int32 or a string. When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type. This allows you to have, for example, a JSON field that can accept a name or number.',
  },
};

// Facts about aliases and empty interfaces that the .d.ts files erase (all upstream string formats
// and open objects live here, so the runtime never has to guess).
const SCALAR_FORMATS = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': 'date-time',
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': 'date-time',
};
/** Empty interfaces that hold any JSON value rather than an arbitrary object. */
const ANY_VALUE = new Set(['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON']);
/** TypeScript has one number type; upstream's few floating-point fields are listed here. */
const FLOAT_FIELDS = new Set([
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps.maximum',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps.minimum',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps.multipleOf',
]);

/** "core/v1.d.ts" -> "io.k8s.api.core.v1", following upstream's Go package paths. */
function packagePrefix(file) {
  const rel = relative(typesRoot, file).split(sep).join('/').replace(/\.d\.ts$/, '');
  switch (rel) {
    case 'meta/v1': return 'io.k8s.apimachinery.pkg.apis.meta.v1';
    case 'api/resource': return 'io.k8s.apimachinery.pkg.api.resource';
    case 'runtime': return 'io.k8s.apimachinery.pkg.runtime';
    case 'version': return 'io.k8s.apimachinery.pkg.version';
    case 'apiextensions/v1': return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';
    default: return `io.k8s.api.${rel.replace('/', '.')}`;
  }
}

function dtsFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...dtsFiles(path));
    else if (entry.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

const files = dtsFiles(typesRoot);
const program = ts.createProgram(files, { noEmit: true, strict: true });
const checker = program.getTypeChecker();

function docOf(node) {
  const text = ts.getJSDocCommentsAndTags(node)
    .filter(ts.isJSDoc)
    .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
    .join('\n');
  return text.trim() || undefined;
}

/** The definition name a type reference points at, through imports. */
function referencedName(typeName) {
  let symbol = checker.getSymbolAtLocation(typeName);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const decl = symbol?.declarations?.[0];
  if (!decl) throw new Error(`unresolved type ${typeName.getText()}`);
  return `${packagePrefix(decl.getSourceFile().fileName)}.${symbol.name}`;
}

/**
 * Encodes a type as a compact string: "string" | "integer" | "number" | "boolean" | "any" |
 * "<definition name>" | "[]<type>" | "map[string]<type>" (the Go spelling keeps it readable).
 */
function encode(node, fieldKey) {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword: return 'string';
    case ts.SyntaxKind.NumberKeyword: return FLOAT_FIELDS.has(fieldKey) ? 'number' : 'integer';
    case ts.SyntaxKind.BooleanKeyword: return 'boolean';
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
    case ts.SyntaxKind.ObjectKeyword: return 'any';
    case ts.SyntaxKind.LiteralType:
      if (ts.isStringLiteral(node.literal)) return 'string';
      if (node.literal.kind === ts.SyntaxKind.TrueKeyword || node.literal.kind === ts.SyntaxKind.FalseKeyword) return 'boolean';
      return 'integer';
    case ts.SyntaxKind.ParenthesizedType: return encode(node.type, fieldKey);
    case ts.SyntaxKind.ArrayType: return `[]${encode(node.elementType, fieldKey)}`;
    case ts.SyntaxKind.UnionType: {
      const kinds = new Set(node.types.map((t) => encode(t, fieldKey)));
      if (kinds.size === 1) return [...kinds][0];
      if (kinds.size === 2 && kinds.has('integer') && kinds.has('string')) return INT_OR_STRING;
      return 'any';
    }
    case ts.SyntaxKind.TypeLiteral: {
      const index = node.members.find(ts.isIndexSignatureDeclaration);
      if (index && node.members.length === 1) return `map[string]${encode(index.type, fieldKey)}`;
      return 'any';
    }
    case ts.SyntaxKind.TypeReference: {
      const name = node.typeName.getText();
      if ((name === 'Array' || name === 'ReadonlyArray') && node.typeArguments?.length === 1) {
        return `[]${encode(node.typeArguments[0], fieldKey)}`;
      }
      if (name === 'Record' && node.typeArguments?.length === 2) return `map[string]${encode(node.typeArguments[1], fieldKey)}`;
      return referencedName(node.typeName);
    }
    default:
      throw new Error(`unsupported type syntax ${ts.SyntaxKind[node.kind]} at ${fieldKey}`);
  }
}

function propertyName(name) {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  throw new Error(`unsupported property name ${name.getText()}`);
}

function literalOf(member) {
  const t = member?.type;
  return t && ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : undefined;
}

const definitions = { ...SYNTHETIC };
const kinds = [];

for (const file of files) {
  const source = program.getSourceFile(file);
  const prefix = packagePrefix(file);
  for (const stmt of source.statements) {
    if (ts.isInterfaceDeclaration(stmt)) {
      const name = `${prefix}.${stmt.name.text}`;
      const def = {};
      const description = docOf(stmt);
      if (description) def.description = description;
      const members = stmt.members.filter(ts.isPropertySignature);
      if (members.length === 0) {
        if (ANY_VALUE.has(name)) def.type = 'any';
        else { def.type = 'object'; def.open = true; }
        definitions[name] = def;
        continue;
      }
      const properties = {};
      for (const m of [...members].sort((a, b) => cmp(propertyName(a.name), propertyName(b.name)))) {
        const field = propertyName(m.name);
        const prop = { type: encode(m.type, `${name}.${field}`) };
        if (!m.questionToken) prop.required = true;
        const doc = docOf(m);
        if (doc) prop.description = doc;
        properties[field] = prop;
      }
      def.properties = properties;
      definitions[name] = def;
      const kind = literalOf(members.find((m) => propertyName(m.name) === 'kind'));
      const apiVersion = literalOf(members.find((m) => propertyName(m.name) === 'apiVersion'));
      if (kind && apiVersion) {
        const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
        kinds.push([group, version, kind, name]);
      }
    } else if (ts.isTypeAliasDeclaration(stmt)) {
      const name = `${prefix}.${stmt.name.text}`;
      const def = {};
      const description = docOf(stmt);
      if (description) def.description = description;
      const encoded = encode(stmt.type, name);
      if (encoded === 'string' || encoded === 'integer' || encoded === 'boolean' || encoded === 'number') def.type = encoded;
      else def.type = 'any';
      if (SCALAR_FORMATS[name]) def.format = SCALAR_FORMATS[name];
      definitions[name] = def;
    }
  }
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Check every reference resolves, so the runtime can trust the graph.
for (const [name, def] of Object.entries(definitions)) {
  for (const [field, prop] of Object.entries(def.properties ?? {})) {
    const target = prop.type.replace(/^(\[\]|map\[string\])+/, '');
    if (target.includes('.') && !definitions[target]) throw new Error(`${name}.${field}: dangling reference ${target}`);
  }
}

kinds.sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]) || cmp(a[2], b[2]));

// One definition header per line and one property per line: compact, yet diffs stay readable.
function render() {
  const lines = ['{', '"generatedFrom": ' + JSON.stringify(`kubernetes-types@${JSON.parse(readFileSync(join(typesRoot, 'package.json'), 'utf8')).version}`) + ',', '"kinds": ['];
  kinds.forEach((k, i) => lines.push(JSON.stringify(k) + (i < kinds.length - 1 ? ',' : '')));
  lines.push('],', '"definitions": {');
  const names = Object.keys(definitions).sort(cmp);
  names.forEach((name, i) => {
    const { properties, ...rest } = definitions[name];
    const tail = i < names.length - 1 ? ',' : '';
    if (!properties) {
      lines.push(`${JSON.stringify(name)}: ${JSON.stringify(rest)}${tail}`);
      return;
    }
    const head = JSON.stringify(rest).slice(0, -1);
    lines.push(`${JSON.stringify(name)}: ${head}${head.length > 1 ? ',' : ''}"properties": {`);
    const fields = Object.keys(properties);
    fields.forEach((f, j) => lines.push(`  ${JSON.stringify(f)}: ${JSON.stringify(properties[f])}${j < fields.length - 1 ? ',' : ''}`));
    lines.push(`}}${tail}`);
  });
  lines.push('}', '}');
  return lines.join('\n') + '\n';
}

const text = render();
if (process.argv.includes('--check')) {
  let current = '';
  try { current = readFileSync(outFile, 'utf8'); } catch { /* missing counts as stale */ }
  if (current !== text) {
    console.error(`${relative(root, outFile)} is stale: run node scripts/generate-type-graph.mjs`);
    process.exit(1);
  }
} else {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, text);
  console.log(`${relative(root, outFile)}: ${Object.keys(definitions).length} definitions, ${kinds.length} kinds, ${text.length} bytes`);
}
