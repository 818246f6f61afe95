"""Public query API: read runs and their history back from a trackwell server."""

from trackwell.api._public import Api, Run, RunNotFoundError, Runs
from trackwell.api._sweeps import Sweep

__all__ = ["Api", "Run", "RunNotFoundError", "Runs", "Sweep"]
