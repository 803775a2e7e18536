import { WgsegError } from '../core/errors';
import type { Graph } from '../graph/ir';
import { readSafetensors, type NamedTensor } from '../import/safetensors';
import { Session, type SessionOptions } from '../session';

/**
 * A seed architecture built in code (src/models/*.ts) plus its named parameters. Parameter names
 * are those of the matching PyTorch module's state_dict(), so weights saved with
 * `safetensors.torch.save_file(model.state_dict(), path)` load as they are.
 */
export class Model {
  constructor(
    readonly graph: Graph,
    /** parameter name -> shape, in state_dict order */
    readonly params: Map<string, number[]>,
    /** state_dict entries the inference graph does not need (BatchNorm num_batches_tracked...) */
    readonly unused: Set<string> = new Set(),
  ) {}

  /**
   * Load weights (safetensors bytes, or tensors already read). Lists every missing, unexpected and
   * mis-shaped tensor. `partial`: tensors the file lacks are not an error; those parameters keep
   * their architecture-defined initial value (an STN's identity transform, FCN's bilinear
   * upsampling) or stay unloaded, which `session()` then refuses.
   */
  load(
    weights: Uint8Array | Map<string, NamedTensor>,
    source = 'weights.safetensors',
    opts: { partial?: boolean } = {},
  ): this {
    const file = weights instanceof Uint8Array ? readSafetensors(weights, source) : weights;
    const missing: string[] = [],
      shapes: string[] = [],
      extra: string[] = [];
    for (const [name, shape] of this.params) {
      const t = file.get(name);
      if (!t) {
        if (!opts.partial) missing.push(name);
      } else if (t.shape.join() !== shape.join()) shapes.push(`${name} [${t.shape}] (model wants [${shape}])`);
    }
    for (const name of file.keys()) if (!this.params.has(name) && !this.unused.has(name)) extra.push(name);
    if (missing.length || shapes.length || extra.length) {
      const list = (what: string, xs: string[]) =>
        xs.length ? [`${what} (${xs.length}): ${xs.slice(0, 12).join(', ')}${xs.length > 12 ? ', ...' : ''}`] : [];
      const parts = [...list('missing', missing), ...list('mis-shaped', shapes), ...list('unexpected', extra)];
      throw new WgsegError('BAD_INPUT', `${source}: weights do not fit ${this.graph.source}: ${parts.join('; ')}`);
    }
    for (const name of this.params.keys()) {
      const t = file.get(name);
      if (t) this.graph.values.get(name)!.data = Float32Array.from(t.data);
    }
    return this;
  }

  /** Parameters that still have no data (neither loaded nor initialised by the architecture). */
  get unloaded(): string[] {
    return [...this.params.keys()].filter((n) => !this.graph.values.get(n)!.data);
  }

  async session(opts: SessionOptions = {}): Promise<Session> {
    const u = this.unloaded;
    if (u.length)
      throw new WgsegError(
        'BAD_INPUT',
        `${this.graph.source}: ${u.length} parameters have no weights (${u.slice(0, 8).join(', ')}${u.length > 8 ? ', ...' : ''}); call model.load(safetensors) first`,
      );
    return Session.create(this.graph, opts);
  }
}
