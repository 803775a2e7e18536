// The demo page's own script (a file, not inline, so the page runs under a strict
// Content-Security-Policy): it shows each view's ready / frame / error events under it and wires the
// buttons. It only listens and sets attributes; the widget is wgseg-widget.js, loaded by its own tag.
interface ViewEventDetail {
  model?: string;
  adapter?: string;
  message?: string;
  frames?: number;
  fps?: number;
  ms?: { prep: number; model: number; composite: number };
}

for (const type of ['ready', 'frame', 'error']) {
  document.addEventListener(type, (ev) => {
    const el = ev.target as HTMLElement,
      d = (ev as CustomEvent<ViewEventDetail>).detail;
    const log = el.id ? document.querySelector<HTMLElement>(`.log[data-for="${el.id}"]`) : null;
    if (!log || !d || el.localName !== 'wgseg-view') return;
    if (type === 'ready') log.dataset.ready = `ready: ${d.model} · ${d.adapter}`;
    if (type === 'frame' && d.ms)
      log.dataset.frame = `frame ${d.frames}: prep ${d.ms.prep.toFixed(1)} ms · model ${d.ms.model.toFixed(1)} ms · composite ${d.ms.composite.toFixed(1)} ms${d.fps ? ` · ${d.fps.toFixed(1)} fps` : ''}`;
    if (type === 'error') log.dataset.frame = `error: ${d.message}`;
    log.textContent = [log.dataset.ready, log.dataset.frame].filter(Boolean).join('\n');
  });
}

for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-mode]')) {
  b.addEventListener('click', () => {
    const v = document.getElementById('still')!;
    v.setAttribute('mode', b.dataset.mode!);
    if (b.dataset.bg) v.setAttribute('background', b.dataset.bg);
  });
}
