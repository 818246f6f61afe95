"""Public query API: read runs and their history back from a trackwell server."""

from trackwell.api._artifacts import ArtifactNotFoundError
from trackwell.api._public import Api, Run, RunNotFoundError, Runs

__all__ = ["Api", "ArtifactNotFoundError", "Run", "RunNotFoundError", "Runs"]
