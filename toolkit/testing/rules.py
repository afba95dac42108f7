"""What a contract check reports: one outcome per rule, named as a plugin author reads it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class Broken(Exception):
    """Raised by a rule: the message says what the plugin did and what the rule wants."""


class NotChecked(Exception):
    """Raised by a rule that cannot run here (say, the sink declares no search)."""


@dataclass(frozen=True)
class Outcome:
    rule: str
    problem: str | None = None
    """None when the rule holds."""
    skipped: str | None = None
    """Why the rule was not checked (it does not apply to this plugin)."""

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class Report:
    plugin: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def broken(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.problem is not None]

    def run(self, rule: str, check: Callable[[], None]) -> None:
        """Run one rule; an unexpected exception breaks it, named with its type."""
        try:
            check()
        except Broken as exc:
            self.outcomes.append(Outcome(rule, problem=str(exc)))
        except NotChecked as exc:
            self.outcomes.append(Outcome(rule, skipped=str(exc)))
        except Exception as exc:
            self.outcomes.append(Outcome(rule, problem=f"raised {type(exc).__name__}: {exc}"))
        else:
            self.outcomes.append(Outcome(rule))


def expect(condition: bool, problem: str) -> None:
    if not condition:
        raise Broken(problem)
