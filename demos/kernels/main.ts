import { benchCase, cases, RUNS } from '../../bench/cases';
import { kernels } from '../../src/index';

const status = document.getElementById('status')!;
const rows = document.getElementById('rows') as HTMLTableSectionElement;
const button = document.getElementById('run') as HTMLButtonElement;
// ?only=conv,resize keeps the cases whose name contains one of the words; ?runs=N times N runs (default 7).
// The browser test runs a small subset: a software adapter takes minutes for all of them.
const params = new URLSearchParams(location.search);
const only = params.get('only')?.split(',').filter(Boolean);
const runs = Number(params.get('runs') ?? RUNS);

// One runtime for every click: its pipelines and pooled buffers are reused, not leaked per run.
let runtime: Promise<kernels.Runtime> | null = null;

button.onclick = async () => {
  button.disabled = true;
  rows.textContent = '';
  try {
    const rt = await (runtime ??= kernels.Runtime.create());
    status.textContent = `adapter: ${rt.info.adapter} (timestamp-query: ${rt.info.timestamps}, shader-f16: ${rt.info.f16})`;
    for (const c of cases.filter((c) => !only || only.some((w) => c.name.includes(w)))) {
      const r = await benchCase(rt, c, runs);
      const tr = rows.insertRow();
      for (const v of [r.kernel, r.medianMs.toFixed(2), `${r.rate.toFixed(2)} ${r.unit}`])
        tr.insertCell().textContent = v;
    }
    (window as unknown as { benchDone: boolean }).benchDone = true;
  } catch (e) {
    runtime = null;
    status.textContent = String(e);
    status.className = 'error';
  } finally {
    button.disabled = false;
  }
};
