// A fixed-row-height virtual list: only the rows in view (plus a few) are in the DOM, so a
// list of many thousands of series scrolls and re-renders on each poll without freezing.

import { useEffect, useRef, useState, type ReactNode } from "react";
import { visibleRange } from "../seriesList";

export function VirtualRows<T>({
  items,
  rowHeight,
  height,
  render,
  rowKey,
}: {
  items: T[];
  rowHeight: number;
  /** CSS height of the scrolling box. */
  height: string;
  render: (item: T, index: number) => ReactNode;
  rowKey: (item: T) => string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewport(el.clientHeight));
    ro.observe(el);
    setViewport(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const { start, end } = visibleRange(scrollTop, viewport, rowHeight, items.length);
  return (
    <div
      ref={box}
      className="virtual"
      style={{ height, overflowY: "auto", position: "relative" }}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      role="rowgroup"
    >
      <div style={{ height: items.length * rowHeight, position: "relative" }}>
        {items.slice(start, end).map((item, i) => (
          <div
            key={rowKey(item)}
            className="vrow"
            role="row"
            style={{ position: "absolute", top: (start + i) * rowHeight, height: rowHeight, left: 0, right: 0 }}
          >
            {render(item, start + i)}
          </div>
        ))}
      </div>
    </div>
  );
}
