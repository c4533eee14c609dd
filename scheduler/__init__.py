"""APScheduler 3 wiring: wake at every deadline and scheduled post; the services do the rest."""

from scheduler.timekeeper import Timekeeper

__all__ = ["Timekeeper"]
