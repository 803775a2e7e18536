/**
 * Fails (exit 1) when the relative imports of our TypeScript form a cycle, and prints each cycle as
 * `a.ts -> b.ts -> a.ts`. Every kind of import counts: `import`, `import type`, `export ... from`,
 * `import('./x')` (as a call or as a type). Type-only cycles count too: they are still two modules
 * that each need the other to be understood.
 *
 *   npx vite-node scripts/check-cycles.ts [dir ...]   (default: src bench tools demos scripts test)
 *
 * A specifier without an extension resolves to `<spec>.ts`, then `<spec>/index.ts`; `.js` is read as
 * `.ts`; anything that is not a .ts file (`?url`, `?raw`, .wgsl, packages) is not followed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const DIRS = process.argv.slice(2).filter((a) => a !== '--');
const roots = DIRS.length ? DIRS : ['src', 'bench', 'tools', 'demos', 'scripts', 'test'];

interface Edge {
  to: string;
  typeOnly: boolean;
}

function listTs(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listTs(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveSpec(from: string, spec: string): string | undefined {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return undefined;
  const base = resolve(dirname(from), spec.replace(/[?#].*$/, ''));
  const tries = base.endsWith('.ts')
    ? [base]
    : base.endsWith('.js')
      ? [base.slice(0, -3) + '.ts']
      : [base + '.ts', join(base, 'index.ts')];
  return tries.find((p) => existsSync(p) && statSync(p).isFile());
}

/** The module specifiers a file names, each with whether only types come from it. */
function importsOf(file: string): { spec: string; typeOnly: boolean }[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: { spec: string; typeOnly: boolean }[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const typeOnly =
        !!c &&
        (c.isTypeOnly ||
          (!c.name &&
            !!c.namedBindings &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.length > 0 &&
            c.namedBindings.elements.every((e) => e.isTypeOnly)));
      found.push({ spec: n.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      const typeOnly =
        n.isTypeOnly ||
        (!!n.exportClause &&
          ts.isNamedExports(n.exportClause) &&
          n.exportClause.elements.length > 0 &&
          n.exportClause.elements.every((e) => e.isTypeOnly));
      found.push({ spec: n.moduleSpecifier.text, typeOnly });
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      found.push({ spec: n.argument.literal.text, typeOnly: true });
    } else if (
      ts.isCallExpression(n) &&
      n.expression.kind === ts.SyntaxKind.ImportKeyword &&
      n.arguments.length > 0 &&
      ts.isStringLiteralLike(n.arguments[0])
    ) {
      found.push({ spec: n.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return found;
}

/** The import graph of every .ts file under the roots, and of every .ts file they reach. */
function buildGraph(files: string[]): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  const todo = [...files];
  while (todo.length) {
    const f = todo.pop()!;
    if (graph.has(f)) continue;
    const edges: Edge[] = [];
    for (const { spec, typeOnly } of importsOf(f)) {
      const to = resolveSpec(f, spec);
      if (!to) continue;
      const same = edges.find((e) => e.to === to);
      if (same) same.typeOnly &&= typeOnly;
      else edges.push({ to, typeOnly });
      if (!graph.has(to)) todo.push(to);
    }
    graph.set(f, edges);
  }
  return graph;
}

/** Strongly connected components (Tarjan), iterative so deep chains cannot overflow the stack. */
function components(graph: Map<string, Edge[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1];
      const edges = graph.get(top.v)!;
      if (top.i < edges.length) {
        const w = edges[top.i++].to;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        out.push(comp);
      }
    }
  }
  return out;
}

/** Within one component: for each edge u -> v, the shortest way back v ~> u, so every edge that
 * takes part in a cycle is shown in one. Cycles are rotated to start at their smallest path and
 * printed once. */
function cyclesOf(comp: string[], graph: Map<string, Edge[]>): string[][] {
  const inComp = new Set(comp);
  const seen = new Set<string>();
  const cycles: string[][] = [];
  for (const u of [...comp].sort()) {
    for (const { to: v } of graph.get(u)!) {
      if (!inComp.has(v)) continue;
      const prev = new Map<string, string | null>([[v, null]]);
      const queue = [v];
      while (queue.length && !prev.has(u)) {
        const x = queue.shift()!;
        for (const { to } of graph.get(x)!) {
          if (inComp.has(to) && !prev.has(to)) {
            prev.set(to, x);
            queue.push(to);
          }
        }
      }
      if (!prev.has(u)) continue;
      const path: string[] = []; // v, ..., u
      for (let x: string | null = u; x !== null && u !== v; x = prev.get(x)!) path.unshift(x);
      const cycle = [u, ...path.slice(0, -1)];
      const at = cycle.indexOf([...cycle].sort()[0]);
      const rotated = [...cycle.slice(at), ...cycle.slice(0, at)];
      const key = rotated.join('\n');
      if (!seen.has(key)) {
        seen.add(key);
        cycles.push(rotated);
      }
    }
  }
  return cycles;
}

const files = roots.flatMap((d) => listTs(resolve(ROOT, d)));
const graph = buildGraph(files);
const rel = (p: string) => relative(ROOT, p);
const typeOnlyEdge = (a: string, b: string) => graph.get(a)!.find((e) => e.to === b)!.typeOnly;
let count = 0;
for (const comp of components(graph)) {
  const selfLoop = comp.length === 1 && graph.get(comp[0])!.some((e) => e.to === comp[0]);
  if (comp.length < 2 && !selfLoop) continue;
  for (const cycle of cyclesOf(comp, graph)) {
    count++;
    const ring = [...cycle, cycle[0]];
    const typeOnly = cycle.some((a, i) => typeOnlyEdge(a, ring[i + 1]));
    console.log(`${ring.map(rel).join(' -> ')}${typeOnly ? '  (through a type-only import)' : ''}`);
  }
}
if (count) {
  console.error(`check-cycles: ${count} import cycle(s) among ${graph.size} modules (${roots.join(', ')})`);
  process.exit(1);
}
console.log(`check-cycles: no import cycles among ${graph.size} modules (${roots.join(', ')})`);
