"""Public query API: read runs, their history, files and projects back from a trackwell server;
change and delete runs."""

from trackwell.api._api import Api
from trackwell.api._artifacts import ArtifactNotFoundError
from trackwell.api._files import File
from trackwell.api._projects import Project, Projects
from trackwell.api._run import Run, RunNotFoundError, Runs
from trackwell.api._sweeps import Sweep

__all__ = ["Api", "ArtifactNotFoundError", "File", "Project", "Projects", "Run", "RunNotFoundError", "Runs", "Sweep"]
