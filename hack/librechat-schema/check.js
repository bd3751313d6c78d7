// Validate librechat.yaml documents the way LibreChat does at startup: configSchema.strict().
// Beyond strict (which only rejects unknown top-level and endpoints keys), fail on any key the schema
// would silently drop anywhere: every path of the input must survive parsing with its value.
//
//   node check.js FILE...   prints one JSON report per file: {file, ok, configVersion, errors, dropped}
'use strict';
const fs = require('fs');
const yaml = require('js-yaml');
const { configSchema, Constants } = require('librechat-data-provider');

function droppedPaths(input, parsed, path, out) {
  if (Array.isArray(input)) {
    if (!Array.isArray(parsed)) { out.push(path || '.'); return out; }
    input.forEach((item, i) => droppedPaths(item, parsed[i], `${path}[${i}]`, out));
    return out;
  }
  if (input !== null && typeof input === 'object') {
    if (parsed === null || typeof parsed !== 'object') { out.push(path || '.'); return out; }
    for (const key of Object.keys(input)) {
      const child = path ? `${path}.${key}` : key;
      if (!(key in parsed)) out.push(child);
      else droppedPaths(input[key], parsed[key], child, out);
    }
    return out;
  }
  if (input !== parsed) out.push(`${path} (value changed: ${JSON.stringify(input)} -> ${JSON.stringify(parsed)})`);
  return out;
}

let failed = false;
for (const file of process.argv.slice(2)) {
  const doc = yaml.load(fs.readFileSync(file, 'utf8'));
  const result = configSchema.strict().safeParse(doc);
  const report = { file, ok: result.success, configVersion: Constants.CONFIG_VERSION, errors: [], dropped: [] };
  if (!result.success) {
    report.errors = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  } else {
    report.dropped = droppedPaths(doc, result.data, '', []);
    report.ok = report.dropped.length === 0;
  }
  failed = failed || !report.ok;
  console.log(JSON.stringify(report));
}
process.exit(failed ? 1 : 0);
