"""Documented problems that several of shop's JSON handlers answer with."""

from __future__ import annotations

from kernel.problems import problem_spec

NOT_FOUND = problem_spec("Not found, or not yours to see")
CONFLICT = problem_spec("The order's state does not allow this")
