"""Joins the laid-out parts of a large decision report into one PDF, part by part.

qpdf (pikepdf's ``pages.extend``) keeps every object it copies, and the part each came from,
until it writes the whole: 2.2 GB for the 270 parts of a report of 10,000 proposals (issue
11). This writer holds one part at a time. It opens a part, lays the page numbers over its
pages, writes every object the pages reach under numbers of its own, and closes the part.
What it keeps from part to part is small: each object's offset, each page's number, the
named destinations and the headings.

pikepdf still reads each part and writes each object's text (``unparse``); only the object
numbers in that text are replaced. The front part gives the catalog: its metadata, output
intent and embedded files (PDF/A-3b) come as they are, with the page tree, the outline and
the named destinations of the whole in place of its own. The file identifier is the MD5 of
everything written before it, so the same parts give the same bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import closing
from typing import IO, Any

# A string (whose text is never renumbered), a hex string, or an indirect reference. qpdf's
# ``unparse`` escapes every parenthesis inside a literal string.
_TOKEN = re.compile(rb"\((?:[^\\()]|\\.)*\)|<[0-9A-Fa-f]*>|(?<![\w.])(\d+) (\d+) R\b", re.S)
# The attributes a page may take from the page tree above it (ISO 32000-1, 7.7.3.4).
_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


class _Writer:
    """A PDF file written object by object, with its cross-reference table at the end."""

    def __init__(self, out: IO[bytes], version: str) -> None:
        self._out = out
        self._digest = hashlib.md5(usedforsecurity=False)
        self._at = 0
        self.offsets: list[int] = [0]  # by object number; number 0 heads the free list
        # A binary comment line: PDF/A asks for one (ISO 19005-1, 6.1.2).
        self._emit(b"%PDF-" + version.encode("ascii") + b"\n%\xe2\xe3\xcf\xd3\n")

    def reserve(self) -> int:
        self.offsets.append(-1)
        return len(self.offsets) - 1

    def put(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[number] = self._at
        tail = b"" if stream is None else b"\nstream\n" + stream + b"\nendstream"
        self._emit(b"%d 0 obj\n%b%b\nendobj\n" % (number, body, tail))

    def finish(self, root: int, info: int | None) -> None:
        missing = [number for number, at in enumerate(self.offsets) if at < 0]
        if missing:
            raise RuntimeError(f"objects {missing[:5]} were numbered but never written")
        identifier = self._digest.hexdigest().encode("ascii")
        start = self._at
        table = [b"xref\n0 %d\n0000000000 65535 f\r\n" % len(self.offsets)]
        table.extend(b"%010d 00000 n\r\n" % at for at in self.offsets[1:])
        self._emit(b"".join(table))
        info_entry = b"" if info is None else b" /Info %d 0 R" % info
        self._emit(
            b"trailer\n<< /Size %d /Root %d 0 R%b /ID [ <%b> <%b> ] >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(self.offsets), root, info_entry, identifier, identifier, start)
        )

    def _emit(self, data: bytes) -> None:
        self._out.write(data)
        self._digest.update(data)
        self._at += len(data)


class _Copier:
    """One source PDF's objects, written under the writer's numbers as they are reached."""

    def __init__(self, writer: _Writer, pdf: Any) -> None:
        self._writer = writer
        self._pdf = pdf
        self._numbers: dict[tuple[int, int], int] = {}
        self._queue: deque[tuple[int, int]] = deque()

    def alias(self, obj: Any, number: int) -> None:
        """``obj`` is written elsewhere as ``number``: references to it point there."""
        self._numbers[obj.objgen] = number

    def take(self, obj: Any) -> int:
        """The number of the indirect ``obj``, queued to be written."""
        return self._number(obj.objgen)

    def text(self, obj: Any) -> bytes:
        """A direct object's text, its references renumbered (and queued)."""
        return self._renumber(obj.unparse(resolved=True))

    def drain(self) -> None:
        """Writes every queued object and everything they reach."""
        import pikepdf

        while self._queue:
            objgen = self._queue.popleft()
            obj = self._pdf.get_object(objgen)
            number = self._numbers[objgen]
            if isinstance(obj, pikepdf.Stream):
                raw = obj.read_raw_bytes()
                obj.stream_dict.Length = len(raw)
                self._writer.put(number, self.text(obj.stream_dict), raw)
            else:
                self._writer.put(number, self.text(obj))

    def _number(self, objgen: tuple[int, int]) -> int:
        number = self._numbers.get(objgen)
        if number is None:
            number = self._numbers[objgen] = self._writer.reserve()
            self._queue.append(objgen)
        return number

    def _renumber(self, text: bytes) -> bytes:
        def replace(match: re.Match[bytes]) -> bytes:
            if match.group(1) is None:
                return match.group(0)
            return b"%d 0 R" % self._number((int(match.group(1)), int(match.group(2))))

        return _TOKEN.sub(replace, text)


class _Overlays:
    """The pages of the page-number documents, one after another. qpdf reads a copied page
    from its document when the part it was copied into is written: a document is closed
    (``release``) only once the part that took its last page has been written."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._paths = iter(paths)
        self._current: Any = None
        self._next = 0
        self._retired: list[Any] = []

    def next(self) -> Any:
        import pikepdf

        # By index: an iterator over pikepdf's pages starts again wherever it is asked.
        while self._current is None or self._next >= len(self._current.pages):
            path = next(self._paths, None)
            if path is None:
                raise RuntimeError("fewer page numbers than pages")
            if self._current is not None:
                self._retired.append(self._current)
            self._current = pikepdf.open(path)
            self._next = 0
        self._next += 1
        return self._current.pages[self._next - 1]

    def release(self) -> None:
        while self._retired:
            self._retired.pop().close()

    def close(self) -> None:
        self.release()
        if self._current is not None:
            self._current.close()


def join(
    paths: Sequence[str],
    numbers: Sequence[str],
    headings: Sequence[tuple[int, str, int]],
    target: IO[bytes],
) -> None:
    """Writes the PDFs at ``paths`` (the first gives the catalog) as one PDF to ``target``.

    Every page but the first gets the next page of the documents at ``numbers`` laid over it;
    the outline is made from ``headings`` (pages counted from 0 in the whole).
    """
    import pikepdf

    writer: _Writer | None = None
    page_numbers: list[int] = []
    destinations: dict[bytes, tuple[bytes, bytes]] = {}
    tree = outline = names = root = 0
    info: int | None = None
    with closing(_Overlays(numbers)) as overlays:
        for index, path in enumerate(paths):
            with pikepdf.open(path) as pdf:
                if writer is None:
                    writer = _Writer(target, str(pdf.pdf_version))
                    tree, outline, names = writer.reserve(), writer.reserve(), writer.reserve()
                copier = _Copier(writer, pdf)
                copier.alias(pdf.Root.Pages, tree)
                for page in pdf.pages:
                    if page_numbers:  # the cover has no page number
                        name = f"/PageNumber{len(page_numbers)}"
                        _lay_over(page, overlays.next(), name)
                    _inherit(page.obj)
                    page.obj.Parent = pdf.Root.Pages
                    page_numbers.append(copier.take(page.obj))
                for key, text, destination in _destinations(pdf):
                    destinations.setdefault(key, (text, copier.text(destination)))
                if index == 0:
                    root, info = _catalog(pdf, copier, outline, names)
                copier.drain()
            overlays.release()
    if writer is None:
        raise ValueError("nothing to join")
    kids = b" ".join(b"%d 0 R" % number for number in page_numbers)
    writer.put(tree, b"<< /Type /Pages /Count %d /Kids [ %b ] >>" % (len(page_numbers), kids))
    pairs = b" ".join(b"%b %b" % destinations[key] for key in sorted(destinations))
    writer.put(names, b"<< /Names [ %b ] >>" % pairs)
    _write_outline(writer, outline, headings, page_numbers)
    writer.finish(root, info)


def _lay_over(page: Any, overlay: Any, name: str) -> None:
    """``overlay`` (a page of another PDF) drawn over ``page`` as the form ``name``.
    pikepdf's ``add_overlay`` names it at random, and the same data must give the same bytes;
    the name differs from page to page because WeasyPrint's pages share one resource
    dictionary."""
    from pikepdf import Name, Rectangle

    form = overlay.as_form_xobject()
    page.add_resource(form, Name.XObject, Name(name))
    placed = page.calc_form_xobject_placement(form, Name(name), Rectangle(page.trimbox))
    # Streams of their own around the page's content, not merged into it (``add_overlay``
    # coalesces them): merging would read every page's content.
    page.contents_add(b"q\n", prepend=True)
    page.contents_add(b"Q\n")
    page.contents_add(placed)


def _inherit(page: Any) -> None:
    """The attributes ``page`` inherits, set on it: its parent will be the new page tree."""
    node = page.get("/Parent")
    while node is not None:
        for key in _INHERITED:
            if key not in page and key in node:
                page[key] = node[key]
        node = node.get("/Parent")


def _destinations(pdf: Any) -> Iterator[tuple[bytes, bytes, Any]]:
    """The named destinations of ``pdf`` (a name tree: pairs in /Names, or /Kids): each
    name's bytes (a name tree is sorted by them), its text and the destination."""
    names = pdf.Root.get("/Names")
    tree = None if names is None else names.get("/Dests")
    nodes = [] if tree is None else [tree]
    while nodes:
        node = nodes.pop()
        pairs = node.get("/Names")
        if pairs is not None:
            for at in range(0, len(pairs) - 1, 2):
                yield bytes(pairs[at]), pairs[at].unparse(), pairs[at + 1]
        nodes.extend(reversed(list(node.get("/Kids", []))))


def _catalog(pdf: Any, copier: _Copier, outline: int, names: int) -> tuple[int, int | None]:
    """The front part's catalog, pointing at the whole's outline and named destinations."""
    import pikepdf

    root = pdf.Root
    root.Outlines = pdf.make_indirect(pikepdf.Dictionary())
    copier.alias(root.Outlines, outline)
    if "/Names" not in root:
        root.Names = pikepdf.Dictionary()
    root.Names.Dests = pdf.make_indirect(pikepdf.Dictionary())
    copier.alias(root.Names.Dests, names)
    info = pdf.trailer.get("/Info")
    return copier.take(root), None if info is None or not info.is_indirect else copier.take(info)


def _write_outline(
    writer: _Writer, number: int, headings: Sequence[tuple[int, str, int]], pages: Sequence[int]
) -> None:
    """The headings as an outline: each under the last heading of a lower level before it,
    every item open."""
    import pikepdf

    children: dict[int, list[int]] = {number: []}
    parent: dict[int, int] = {}
    item_of: dict[int, tuple[int, str, int]] = {}
    open_items: list[tuple[int, int]] = []
    for heading in headings:
        item = writer.reserve()
        while open_items and open_items[-1][0] >= heading[0]:
            open_items.pop()
        above = open_items[-1][1] if open_items else number
        children[above].append(item)
        children[item] = []
        parent[item] = above
        item_of[item] = heading
        open_items.append((heading[0], item))

    position = {item: at for kids in children.values() for at, item in enumerate(kids)}
    sizes: dict[int, int] = {}
    for item in reversed([number, *item_of]):  # an item's children come after it
        sizes[item] = sum(1 + sizes[child] for child in children[item])
    for item, (_level, label, page) in item_of.items():
        siblings = children[parent[item]]
        at = position[item]
        entries = [
            b"/Title " + pikepdf.String(label).unparse(),
            b"/Parent %d 0 R" % parent[item],
            b"/Dest [ %d 0 R /Fit ]" % pages[page],
        ]
        if at > 0:
            entries.append(b"/Prev %d 0 R" % siblings[at - 1])
        if at + 1 < len(siblings):
            entries.append(b"/Next %d 0 R" % siblings[at + 1])
        entries.extend(_ends(children[item], sizes[item]))
        writer.put(item, b"<< " + b" ".join(entries) + b" >>")
    ends = b" ".join(_ends(children[number], sizes[number]))
    writer.put(number, b"<< /Type /Outlines %b >>" % ends)


def _ends(children: Sequence[int], count: int) -> list[bytes]:
    if not children:
        return []
    return [b"/First %d 0 R" % children[0], b"/Last %d 0 R" % children[-1], b"/Count %d" % count]
