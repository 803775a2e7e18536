import { WgsegError } from '../core/errors';
import { Session } from '../session';
import { openTuningCache } from '../tuning-cache';
import { loadModel } from './files';
import { type CliIo, withStatus } from './io';

/**
 * `wgseg tune`: measures every candidate kernel variant of every node that has a choice, on this
 * adapter (tune 'full': the cache is not read), prints one line per node (candidates with their
 * best ms, the choice) and writes the choices to the tuning cache that later sessions read.
 */
export async function tuneCommand(
  cmd: { model: string; shapes: Record<string, number[]>; precision?: 'f32' | 'f16' },
  io: CliIo,
): Promise<void> {
  const g = await loadModel(cmd.model);
  for (const name of Object.keys(cmd.shapes))
    if (!g.inputs.includes(name))
      throw new WgsegError(
        'BAD_INPUT',
        `${cmd.model}: --shape ${name}: no such input (inputs: ${g.inputs.join(', ')})`,
      );
  const cache = await openTuningCache();
  const s = await withStatus(io, `tuning ${cmd.model} (every variant of every node with a choice is measured)`, () =>
    Session.create(g, { tune: 'full', tuningCache: cache, inputShapes: cmd.shapes, precision: cmd.precision }),
  );
  try {
    if (!s.optimizedGraph)
      throw new WgsegError(
        'BAD_INPUT',
        `${cmd.model}: input dims are not all known (${s.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join('; ')}): give them with --shape <name>=<d0>,<d1>,...`,
      );
    io.out(`# adapter: ${s.rt.info.adapter}`);
    for (const c of s.tuning) {
      const times = c.candidates
        .map((v) => `${v} ${c.times[v] === undefined ? '-' : `${c.times[v].toFixed(3)} ms`}`)
        .join(', ');
      io.out(`${c.node} ${c.op}: ${times} -> ${c.choice} (${c.source})`);
    }
    const tuned = s.tuning.filter((c) => c.candidates.length > 1).length;
    await cache.save();
    io.out(`# ${tuned} of ${s.tuning.length} nodes with variants had a choice; cache: ${cache.where}`);
  } finally {
    s.dispose();
  }
}
