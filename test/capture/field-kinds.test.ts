// The capture's per-frame classes declare no bare fields (session 44). With the ES2022 target a bare declaration
// (`x: T;`) or a constructor parameter property compiles to a class field whose first value is undefined: V8 then
// keeps it as a generic field, and TurboFan checks what it holds at every read (the sink's and the expander's typed
// arrays' maps, the points' sink, clock and small integers: ~19 instructions a departure, ~10 an arrival and ~9 a
// REPEAT or SCOPY on the writer thread, callgrind of bench/capture-cost). Each field starts with a value of its kind
// or is `declare`d and set by the constructor. The writer thread runs FrameLayout's and RecordExpander's source text
// (capture/writer-thread), which this reads as it does.
import { expect, it } from 'vitest';
import { AsyncChunkSink } from '../../src/capture/async-sink.js';
import { DepartureTemplate } from '../../src/capture/epb-records.js';
import { FrameLayout } from '../../src/capture/frame-layout.js';
import { CaptureGate, RingPoint, WriterPoint } from '../../src/capture/point.js';
import { RecordExpander } from '../../src/capture/record-expander.js';

/** The names of the class fields `cls`'s source declares without a value (`name;` at the class body's level). */
function bareFields(cls: abstract new (...args: never[]) => unknown): string[] {
  const src = cls.toString();
  // The class body's own lines: the first member's indentation (methods and fields alike).
  const lines = src.split('\n').slice(1);
  const indent = /^(\s+)\S/.exec(lines.find((l) => l.trim() !== '' && !l.trim().startsWith('//') && !l.trim().startsWith('/*') && !l.trim().startsWith('*')) ?? '')?.[1] ?? '';
  const out: string[] = [];
  for (const l of lines) {
    if (!l.startsWith(indent) || /^\s/.test(l.slice(indent.length))) continue;
    const m = /^(?:static\s+)?(#?[A-Za-z_$][\w$]*)\s*;\s*$/.exec(l.slice(indent.length));
    if (m) out.push(m[1]!);
  }
  // A parameter property (`private readonly x: T` in the constructor's parameters) is compiled to a bare field too,
  // which the search above finds; also catch a transpiler that assigns it without declaring it.
  const ctor = /constructor\s*\(([^)]*)\)/.exec(src)?.[1] ?? '';
  for (const p of ctor.split(',')) if (/\b(private|protected|public|readonly)\b/.test(p)) out.push(p.trim());
  return out;
}

it.each([
  ['RingPoint', RingPoint],
  ['WriterPoint', WriterPoint],
  ['CaptureGate', CaptureGate],
  ['DepartureTemplate', DepartureTemplate],
  ['AsyncChunkSink (its fields a frame reads)', AsyncChunkSink],
  ['FrameLayout', FrameLayout],
  ['RecordExpander', RecordExpander],
] as const)('%s has no bare fields (each starts with a value of its kind)', (name, cls) => {
  const bare = bareFields(cls as never);
  if (cls === AsyncChunkSink) {
    // The sink's fields that no frame reads may stay bare (set once in the constructor; read at hand-overs and finish).
    const hot = ['buf', 'view', 'pos', 'u8', 'i32', 'f64', 'slotBase', 'chunkStart', 'outBytes', 'vStart', 'fastMax', 'limit', 'slotSize'];
    expect(bare.filter((f) => hot.includes(f)), name).toEqual([]);
  } else if (cls === FrameLayout) {
    // `L` is generic on purpose (see FrameLayout's constructor: the writer thread never reads it).
    expect(bare.filter((f) => f !== 'L' && !/\bL:/.test(f)), name).toEqual([]);
  } else expect(bare, name).toEqual([]);
});

it('finds a bare field and a parameter property (the check can fail)', () => {
  class Bare {
    x!: number;
    constructor(private readonly y: number) {
      this.x = y;
    }
    sum(): number {
      return this.x + this.y;
    }
  }
  expect(bareFields(Bare)).toContain('x');
  expect(bareFields(Bare).length).toBe(2);
});
