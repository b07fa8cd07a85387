"""Problems found in a course file, each with its source line; rendered `file:line: message`."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import CourseError


@dataclass
class Problems:
    origin: str
    items: list[tuple[int, str]] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.items.append((line, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def lines(self) -> list[str]:
        # stable sort: problems on the same line keep the order they were found in
        return [f"{self.origin}:{line}: {message}" for line, message in sorted(self.items, key=lambda i: i[0])]

    def raise_if_any(self) -> None:
        if self.items:
            raise CourseError(
                f"{self.origin}: {len(self.items)} problem(s) in the course file; nothing was written",
                "fix every line listed above in the file (or the event's radius defaults) and import again",
                details="\n".join(self.lines()),
            )
