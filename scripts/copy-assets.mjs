// Copies the non-TypeScript files the build needs (Lua scripts, generated tables) into dist/.
import { chmodSync, cpSync, existsSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';

const roots = ['server', 'openapi', 'apimachinery', 'node-agent', 'controllers'];
const wanted = /\.(lua|json|proto|bin)$/;
function walk(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path);
    else if (wanted.test(entry)) {
      const target = join('dist', path);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
    }
  }
}
for (const r of roots) if (existsSync(r)) walk(r);

// tsc writes files 0644; npx runs the package's own bin only if it is executable.
chmodSync('dist/cmd/podium.js', 0o755);
