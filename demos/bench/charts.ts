// SVG charts of the bench page: grouped bars of median ms per model, and wgseg's per-node timeline.
import type { NodeTiming } from '../../src/index';

const NS = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(
  parent: Element,
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  parent.append(e);
  return e;
}

export interface Bar {
  model: string;
  engine: string;
  ms: number;
  /** peer median / wgseg median (null for wgseg itself) */
  ratio: number | null;
}

/** One group per model, one bar per engine, scaled to the slowest engine of that model. */
export function drawChart(svg: SVGSVGElement, bars: Bar[]): void {
  svg.textContent = '';
  const width = svg.clientWidth || 900,
    label = 190,
    barH = 14,
    gap = 10;
  const models = [...new Set(bars.map((b) => b.model))];
  let y = 4;
  for (const m of models) {
    const group = bars.filter((b) => b.model === m);
    const max = Math.max(...group.map((b) => b.ms));
    el(svg, 'text', { x: 0, y: y + barH - 2 }, m);
    for (const b of group) {
      const w = Math.max(1, ((width - label - 260) * b.ms) / max);
      const r = el(svg, 'rect', { x: label, y, width: w, height: barH - 2, class: `bar engine-${b.engine}` });
      el(r, 'title', {}, `${b.engine}: ${b.ms.toFixed(2)} ms`);
      const ratio = b.ratio === null ? '' : ` · ${b.ratio.toFixed(2)}x wgseg`;
      el(svg, 'text', { x: label + w + 6, y: y + barH - 3 }, `${b.engine} ${b.ms.toFixed(1)} ms${ratio}`);
      y += barH;
    }
    y += gap;
  }
  svg.setAttribute('height', String(y));
}

const COLORS = ['#2a7de1', '#e0832b', '#3aa55d', '#b84fd1', '#d43f3a', '#888', '#1aa3a3', '#c7a116'];

/** Nodes laid end to end on a time axis (width ~ ms), coloured by op; the op legend under it. */
export function drawTimeline(svg: SVGSVGElement, nodes: NodeTiming[]): void {
  svg.textContent = '';
  if (!nodes.length) return svg.setAttribute('height', '0');
  const width = svg.clientWidth || 900,
    total = nodes.reduce((a, n) => a + n.ms, 0) || 1;
  const ops = [...new Set(nodes.map((n) => n.op))];
  const color = (op: string) => COLORS[ops.indexOf(op) % COLORS.length];
  let x = 0;
  for (const n of nodes) {
    const w = (width * n.ms) / total;
    const r = el(svg, 'rect', { x, y: 0, width: Math.max(w, 0.5), height: 28, fill: color(n.op), class: 'node' });
    el(r, 'title', {}, `${n.node} (${n.op}): ${n.ms.toFixed(3)} ms, ${n.dispatches.map((d) => d.name).join(', ')}`);
    x += w;
  }
  // the op legend with each op's share of the time
  let lx = 0;
  for (const op of ops) {
    const ms = nodes.filter((n) => n.op === op).reduce((a, n) => a + n.ms, 0);
    el(svg, 'rect', { x: lx, y: 38, width: 10, height: 10, fill: color(op) });
    const t = `${op} ${((100 * ms) / total).toFixed(0)}%`;
    el(svg, 'text', { x: lx + 14, y: 47 }, t);
    lx += 24 + t.length * 7;
  }
  svg.setAttribute('height', '56');
}
