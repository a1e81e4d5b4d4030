"""Progress bars for a comparison: one bar for the rows, one for the epochs of the current row."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class RunProgress:
    """Rich progress bars on ``console`` (stderr by default), or silence when ``enabled`` is False."""

    def __init__(self, total_rows: int, *, enabled: bool = True, console: Console | None = None):
        self.enabled = enabled
        if not enabled:
            return
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=True,  # nothing left behind on stderr, so an error stays one line
        )
        self._rows = self._progress.add_task("rows", total=total_rows)
        self._epochs = self._progress.add_task("", total=1, visible=False)

    def __enter__(self) -> RunProgress:
        if self.enabled:
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self._progress.stop()

    def say(self, text: str) -> None:
        """Print one line above the bars (stderr), kept after they vanish."""
        if self.enabled:
            self._progress.console.print(f"neurotwin: {text}", highlight=False)

    def start_row(self, label: str) -> None:
        if self.enabled:
            self._progress.update(self._epochs, description=f"  {label}", completed=0, visible=True)

    def epoch(self, done: int, total: int, info: dict) -> None:
        """The :data:`~neurotwin.learners.base.Progress` callback handed to ``Learner.fit``."""
        if self.enabled:
            stage = info.get("stage", "train")
            label = self._progress.tasks[self._epochs].description.split(" [")[0]
            self._progress.update(
                self._epochs, description=f"{label} [{stage}]", completed=done, total=total
            )

    def end_row(self) -> None:
        if self.enabled:
            self._progress.update(self._epochs, visible=False)
            self._progress.advance(self._rows)
