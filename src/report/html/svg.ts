/**
 * SVG primitives every chart shares: the accessible <svg> frame, data marks
 * (class `m` plus a colour class from styles.ts), axes and scales. Charts are
 * drawn in a fixed coordinate space (`viewBox`) and scale with the page.
 */
import { h, type Child, type Markup } from './markup.js';

export const CHART_WIDTH = 960;

export interface ChartFrame {
  /** Unique in the page: used for ids. */
  readonly id: string;
  readonly height: number;
  readonly width?: number;
  /** Read by screen readers, shown as a tooltip. */
  readonly title: string;
  readonly description: string;
}

export function chart(frame: ChartFrame, ...children: Child[]): Markup {
  const width = frame.width ?? CHART_WIDTH;
  return h(
    'svg',
    {
      class: 'chart',
      id: frame.id,
      viewBox: `0 0 ${width} ${frame.height}`,
      width,
      height: frame.height,
      role: 'img',
      'aria-labelledby': `${frame.id}-t ${frame.id}-d`,
    },
    h('title', { id: `${frame.id}-t` }, frame.title),
    h('desc', { id: `${frame.id}-d` }, frame.description),
    children,
  );
}

/** A data mark: a bar, with an optional tooltip. Zero-sized bars are left out. */
export function bar(x: number, y: number, width: number, height: number, colour: string, tooltip?: string): Markup | null {
  if (!(width > 0 && height > 0)) return null;
  return h('rect', { class: `m ${colour}`, x, y, width, height }, tooltip === undefined ? null : h('title', {}, tooltip));
}

export function line(x1: number, y1: number, x2: number, y2: number, className: string): Markup {
  return h('line', { class: className, x1, y1, x2, y2 });
}

export function label(x: number, y: number, content: string, className = 'lbl', anchor: 'start' | 'middle' | 'end' = 'start'): Markup {
  return h('text', { class: className, x, y, 'text-anchor': anchor }, content);
}

export interface Tick {
  readonly value: number;
  readonly text: string;
}

/** About `count` round ticks for counts, from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.max(0, Math.floor(Math.log10(raw)));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

/** Maps [0, max] onto [from, to] (to < from for a y axis). */
export function linear(max: number, from: number, to: number): (value: number) => number {
  return (value) => from + ((to - from) * value) / (max || 1);
}

/** Maps [min, max] (both > 0) logarithmically onto [from, to]; values outside (a 0 s task) stick to the ends. */
export function logarithmic(min: number, max: number, from: number, to: number): (value: number) => number {
  const lo = Math.log10(Math.max(min, 1e-3));
  const hi = Math.max(Math.log10(Math.max(max, 1e-3)), lo + 1e-9);
  return (value) => {
    const v = Math.min(Math.max(Math.log10(Math.max(value, 1e-3)), lo), hi);
    return from + ((to - from) * (v - lo)) / (hi - lo);
  };
}

/** Horizontal grid lines with their values at the left, for a y axis. */
export function yGrid(ticks: readonly Tick[], y: (v: number) => number, x1: number, x2: number): Markup[] {
  return ticks.map((t) => h('g', {}, line(x1, y(t.value), x2, y(t.value), 'grid'), label(x1 - 6, y(t.value) + 4, t.text, 'lbl', 'end')));
}

/** Vertical grid lines with their values below, for an x axis. */
export function xGrid(ticks: readonly Tick[], x: (v: number) => number, y1: number, y2: number): Markup[] {
  return ticks.map((t) => h('g', {}, line(x(t.value), y1, x(t.value), y2, 'grid'), label(x(t.value), y2 + 14, t.text, 'lbl', 'middle')));
}
