"""Sweeps, the pure part shared by client and server: the W&B config schema (``validate``),
search strategies (grid, random, Optuna-backed bayes: ``search_for``) and hyperband early
termination (``hyperband_stops``). No I/O here: the server's controller feeds them runs."""

from trackwell.sweeps._hyperband import Stop, hyperband_stops
from trackwell.sweeps._params import DISTRIBUTIONS, Param
from trackwell.sweeps._schema import Hyperband, Metric, SweepConfig, SweepConfigError, validate
from trackwell.sweeps._search import (
    FAILED,
    IN_FLIGHT,
    GridSearch,
    RandomSearch,
    Search,
    SweepRun,
    get_path,
    search_for,
)

__all__ = ["DISTRIBUTIONS", "FAILED", "IN_FLIGHT", "GridSearch", "Hyperband", "Metric", "Param", "RandomSearch",
           "Search", "Stop", "SweepConfig", "SweepConfigError", "SweepRun", "get_path", "hyperband_stops",
           "search_for", "validate"]
