// Parse AsyncAPI documents with the official @asyncapi/parser; print one JSON result per file.
import { Parser } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';

const parser = new Parser();
const out = [];
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(readFileSync(file, 'utf8'));
  const pick = (severity) => diagnostics.filter((d) => d.severity === severity)
    .map((d) => `${d.code}: ${d.message} at /${d.path.join('/')}`);
  out.push({ file, parsed: document !== undefined, errors: pick(0), warnings: pick(1) });
}
console.log(JSON.stringify(out));
