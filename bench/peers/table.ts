// npx vite-node bench/peers/table.ts -- bench/results/<file>.json [--markdown]: the table of a saved run.
import { readFileSync } from 'node:fs';
import { formatTable, markdownTable, type Row } from './harness';

const [file] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!file) throw new Error('usage: vite-node bench/peers/table.ts -- <rows.json> [--markdown]');
const rows = JSON.parse(readFileSync(file, 'utf8')) as Row[];
console.log(process.argv.includes('--markdown') ? markdownTable(rows) : formatTable(rows));
