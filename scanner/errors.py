"""One error hierarchy; every error can say, for a person, what went wrong."""

from __future__ import annotations

from collections.abc import Sequence

from scanner.models import Diagnostic


class TrustscanError(Exception):
    """The root of every error trustscan raises on purpose."""

    exit_code = 2

    def diagnostics(self) -> list[str]:
        """Lines to show the user, most important first."""
        return [str(self)]


class InputError(TrustscanError):
    """The input (lockfile, policy, options) is not usable; all problems at once."""

    def __init__(self, problems: Sequence[Diagnostic]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def diagnostics(self) -> list[str]:
        return [str(p) for p in self.problems]

    @classmethod
    def single(cls, file: str, line: int | None, message: str) -> InputError:
        return cls([Diagnostic(file, line, message)])


class UsageError(TrustscanError):
    """The command line asks for something that cannot be done."""


class FetchError(TrustscanError):
    """A registry request failed after retries; `reason` is shown to the user."""

    exit_code = 3

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        super().__init__(f"{url}: {reason}")


class ArchiveRejected(FetchError):
    """A distribution archive was refused: malformed, oversized, a bomb, or hostile."""


class DigestMismatch(FetchError):
    """A document whose sha256 differs from the digest the index declared for it."""


class NotServed(FetchError):
    """A file the index lists answered 404 or 410: it will be as absent next time."""


class TooLarge(FetchError):
    """A body over its size bound: the same immutable file will be as large next time."""


class StoreError(TrustscanError):
    """The local evidence store cannot be opened or written."""
