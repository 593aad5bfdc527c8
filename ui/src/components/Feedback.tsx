// The seam for operator feedback (true/false positive buttons come with the AutoML work):
// a page renders <FeedbackSlot> where the buttons belong; a later module registers a
// component with registerFeedback() and every slot of that kind shows it. Empty until then.

import type { ComponentType } from "react";
import type { Alert, SeriesDetail } from "../api";

export type FeedbackTarget =
  | { kind: "alert"; alert: Alert }
  | { kind: "series"; series: SeriesDetail; time?: string };

const registry: ComponentType<{ target: FeedbackTarget }>[] = [];

export function registerFeedback(component: ComponentType<{ target: FeedbackTarget }>): void {
  registry.push(component);
}

export function FeedbackSlot({ target }: { target: FeedbackTarget }) {
  return (
    <div className="feedback-slot" data-feedback-kind={target.kind}>
      {registry.map((C, i) => (
        <C key={i} target={target} />
      ))}
    </div>
  );
}
