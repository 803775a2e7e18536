import type { Runtime } from '../../gpu/runtime';
import type { Graph } from '../../graph/ir';
import { Session } from '../../session';

/**
 * Sessions of one graph by input shape, least recently used dropped past `max`: a Session plans
 * one shape at a time, and re-planning (shape inference, fusion, weight upload) costs about as
 * much as a small inference, so the OCR pipeline keeps a plan per det size and per rec batch shape.
 */
export class ShapeSessions {
  private readonly byKey = new Map<string, Promise<Session>>();

  constructor(
    private readonly rt: Runtime,
    private readonly graph: Graph,
    private readonly max: number,
  ) {}

  get(dims: number[]): Promise<Session> {
    const key = dims.join('x');
    let s = this.byKey.get(key);
    if (s) this.byKey.delete(key);
    else {
      const made = Session.create(this.graph, { device: this.rt, inputShapes: { [this.graph.inputs[0]]: dims } });
      made.catch(() => this.byKey.get(key) === made && this.byKey.delete(key)); // a failed plan is not kept
      s = made;
    }
    this.byKey.set(key, s); // most recent last
    while (this.byKey.size > this.max) {
      const [oldest, old] = this.byKey.entries().next().value!;
      this.byKey.delete(oldest);
      old.then(
        (x) => x.dispose(),
        () => {},
      );
    }
    return s;
  }

  dispose(): void {
    for (const s of this.byKey.values())
      s.then(
        (x) => x.dispose(),
        () => {},
      );
    this.byKey.clear();
  }
}
