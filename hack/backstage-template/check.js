// Run portal/template.yaml the way Backstage does, with the packages Backstage runs it with (package-lock.json):
//
//   node check.js schema                  the published JSON Schema of a Template (scaffolder.backstage.io/v1beta3)
//                                         and the catalog schemas it refers to ($ref Entity), by $id
//   node check.js run TEMPLATE.json DIR ANSWERS.json
//       1. the catalog's own validator of the kind (templateEntityV1beta3Validator, as the catalog ingests it)
//       2. the form, page by page, as the scaffolder's Stepper builds it: `ui:*` keys taken out of the schema,
//          react-jsonschema-form's default form state (experimental_defaultFormStateBehavior allOf:
//          populateDefaults), what the team types (ANSWERS, merged over the page's defaults), and the page's
//          validation on submit (@rjsf/validator-ajv8)
//       3. each fetch:template:file step: its input rendered as the workflow runner renders step inputs
//          (nunjitsu renderValue, json coercion, over {parameters}), then its file (relative to DIR) rendered
//          with {values} as the action does
//     prints {valid, validationError, pages: [{title, errors}], parameters, files: {targetPath: text}}
'use strict';
const fs = require('fs');
const path = require('path');
const { createTemplateRenderer } = require('nunjitsu');
const { getDefaultFormState } = require('@rjsf/utils');
const { customizeValidator } = require('@rjsf/validator-ajv8');
const { templateEntityV1beta3Validator } = require('@backstage/plugin-scaffolder-common');

function packageFile(name, relative) {
  // The schemas are modules of the packages' dist, outside what their `exports` name.
  const root = path.dirname(require.resolve(`${name}/package.json`));
  return require(path.join(root, relative)).default;
}

function schemas() {
  const template = packageFile('@backstage/plugin-scaffolder-common', 'dist/Template.v1beta3.schema.json.cjs.js');
  const catalog = ['Entity', 'EntityEnvelope', 'EntityMeta', 'shared/common'].map((name) =>
    packageFile('@backstage/catalog-model', `dist/schema/${name}.schema.json.cjs.js`),
  );
  return [template, ...catalog];
}

// The scaffolder's extractSchemaFromStep (plugin-scaffolder-react, next/lib/schema): `ui:*` keys are the uiSchema.
function withoutUi(node) {
  if (Array.isArray(node)) return node.map(withoutUi);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([k]) => !k.startsWith('ui:')).map(([k, v]) => [k, withoutUi(v)]));
}

function merged(base, over) {
  if (over === null || typeof over !== 'object' || Array.isArray(over)) return over;
  const out = { ...(base && typeof base === 'object' && !Array.isArray(base) ? base : {}) };
  for (const [k, v] of Object.entries(over)) out[k] = merged(out[k], v);
  return out;
}

function render(input, context, renderer) {
  // NunjucksWorkflowRunner.render: every string of a step's input rendered, its JSON value kept.
  return JSON.parse(JSON.stringify(input), (_key, value) => {
    if (typeof value !== 'string') return value;
    try {
      return renderer.renderValue(value, context, { coercion: 'json' });
    } catch {
      return value;
    }
  });
}

async function run(templateFile, dir, answersFile) {
  const template = JSON.parse(fs.readFileSync(templateFile, 'utf8'));
  const answers = JSON.parse(fs.readFileSync(answersFile, 'utf8'));
  const report = { valid: false, validationError: null, pages: [], parameters: {}, files: {} };
  try {
    report.valid = await templateEntityV1beta3Validator.check(template);
  } catch (error) {
    report.validationError = String(error);
  }
  const validator = customizeValidator();
  let state = {};
  for (const page of template.spec.parameters) {
    const schema = withoutUi(page);
    delete schema.title;
    const defaults = getDefaultFormState(validator, schema, state, schema, false, { allOf: 'populateDefaults' });
    const own = Object.fromEntries(Object.entries(answers).filter(([k]) => k in (schema.properties || {})));
    state = merged(defaults, own);
    const { errors } = validator.validateFormData(state, schema);
    report.pages.push({ title: page.title, errors: errors.map((e) => e.stack) });
  }
  report.parameters = state;
  const renderer = createTemplateRenderer({ allowRegexExecution: true });
  for (const step of template.spec.steps) {
    if (step.action !== 'fetch:template:file') continue;
    const input = render(step.input, { parameters: state }, renderer);
    const text = fs.readFileSync(path.resolve(dir, input.url), 'utf8');
    report.files[input.targetPath] = renderer.render(text, { values: input.values });
  }
  console.log(JSON.stringify(report));
}

const [command, ...args] = process.argv.slice(2);
if (command === 'schema') {
  console.log(JSON.stringify(schemas()));
} else if (command === 'run' && args.length === 3) {
  run(...args).catch((error) => {
    console.error(error);
    process.exit(2);
  });
} else {
  console.error('usage: node check.js schema | node check.js run TEMPLATE.json DIR ANSWERS.json');
  process.exit(2);
}
