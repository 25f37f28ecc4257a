"""Which page of a long list to show: one rule for every paged list (proposals, ranking,
decisions, progress, consensus, the matrix's window, the audit log). Pure."""

from __future__ import annotations

from dataclasses import dataclass

# No list has this many pages (50 million rows at 50 a page): a larger number asked for is
# taken as this one before it becomes a query's OFFSET, which a database refuses past 2**63.
MOST_PAGES = 1_000_000


def asked_page(page: int | None) -> int:
    """A page number as asked for (a link, a typed URL), within 1..``MOST_PAGES``."""
    return min(max(page or 1, 1), MOST_PAGES)


@dataclass(frozen=True)
class Window:
    page: int  # 1-based, within 1..pages
    pages: int  # at least 1, even for an empty list
    offset: int  # of the page's first item

    @property
    def first(self) -> int:
        """The 1-based number of the page's first item."""
        return self.offset + 1


def window(total: int, page: int | None, per: int) -> Window:
    """The page to show of ``total`` items, ``per`` a page: a page past either end shows the
    nearest one (a stale link or a typed number never answers an error)."""
    pages = max(1, -(-total // per))
    page = min(max(page or 1, 1), pages)
    return Window(page, pages, (page - 1) * per)
