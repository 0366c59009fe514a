"""The scheduler: runs the deadline sweeps, the score refresh and the visit reminders on timers, in
its own thread.

``shoubanping scheduler`` runs one in production; ``serve`` runs one in-process in embedded mode.
Sweeps are safe with several schedulers running at once (see workflow/sweeps.py).
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from workflow.scoring import runs
from workflow.settings import Settings
from workflow.sweeps import sweep
from workflow.visits import sweep as visit_sweep

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings):
        self.sessions = sessions
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self):
        return sweep(self.sessions, self.settings)

    def refresh_scores(self) -> list[str]:
        return runs.refresh(self.sessions, self.settings)

    def remind_visits(self):
        return visit_sweep.sweep(self.sessions, self.settings.timezone)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        next_scores = time.monotonic()  # the drafts are brought up to date at start, then periodically
        next_visits = time.monotonic()
        tick = min(self.settings.sweep_interval_seconds, self.settings.score_refresh_seconds,
                   self.settings.visit_sweep_seconds)
        while not self._stop.wait(tick):
            try:
                self.run_once()
            except Exception:  # a failed sweep is retried at the next tick
                log.exception("deadline sweep failed")
            if time.monotonic() >= next_scores:
                next_scores = time.monotonic() + self.settings.score_refresh_seconds
                try:
                    self.refresh_scores()
                except Exception:
                    log.exception("score refresh failed")
            if time.monotonic() >= next_visits:
                next_visits = time.monotonic() + self.settings.visit_sweep_seconds
                try:
                    self.remind_visits()
                except Exception:
                    log.exception("visit reminders failed")
