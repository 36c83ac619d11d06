"""One record per engine iteration: what it computed and how long it took.

The engine writes measured records (``Engine.trace``), the simulator predicted ones
(``SimResult.timeline``), so calibration and the sim-versus-real check compare like with like.
"""
from __future__ import annotations

from dataclasses import dataclass

from .cost_model import IterationShape


@dataclass
class IterationRecord:
    start: float            # seconds (engine: perf_counter; simulator: from 0)
    seconds: float
    shape: IterationShape
