"""Rendering a run's progress events: a compile line, a bar that stays, a summary line."""

from __future__ import annotations

import contextlib
import sys
import time

from tqdm import tqdm

from ..train import Progress


def _duration(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)} min {secs:.0f} s" if minutes else f"{secs:.1f} s"


class RunProgress:
    """The ``progress`` callback of :func:`amaml.train.run` for a terminal.

    Compilation is its own phase (a line with its duration); the bar stays on screen and
    the run ends with one summary line: updates, time and final meta-loss.
    """

    def __init__(self, quiet: bool = False, leave: bool = True):
        self.quiet, self.leave = quiet, leave
        self.bar: tqdm | None = None
        self.compile_started: float | None = None

    def __call__(self, event: Progress) -> None:
        if event.phase == "compile":
            self.compile_started = time.perf_counter()
            if not self.quiet:
                print(f"{event.label}: compiling the meta-update ...", end="", file=sys.stderr, flush=True)
        elif event.phase == "train" and self.bar is None:
            if not self.quiet and self.compile_started is not None:
                print(f" {_duration(time.perf_counter() - self.compile_started)}", file=sys.stderr, flush=True)
            self.bar = tqdm(
                initial=event.step,
                total=event.total,
                desc=event.label,
                unit="update",
                leave=self.leave,
                disable=self.quiet,
            )
        elif event.phase == "train":
            self.bar.update(event.step - self.bar.n)
            self.bar.set_postfix(meta_loss=f"{event.meta_loss:.4g}", refresh=False)  # tqdm throttles the redraw
        elif event.phase == "done":
            self.close()
            loss = "" if event.meta_loss is None else f", final meta-loss {event.meta_loss:.4g}"
            print(
                f"{event.label}: {event.step} of {event.total} meta-updates done"
                + (
                    f", {_duration(event.seconds)} of training{loss}"
                    if event.meta_loss is not None
                    else " (nothing left to train)"
                )
            )
            self.compile_started = None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextlib.contextmanager
def point_progress(total: int, desc: str, quiet: bool):
    """A progress bar over measurement points; yields ``progress(text)``, called once per point."""
    bar = tqdm(total=total, desc=desc, unit="point", disable=quiet)

    def progress(text):
        bar.set_postfix_str(text, refresh=False)
        bar.update(1)

    try:
        yield progress
    finally:
        bar.close()
