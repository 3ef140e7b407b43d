"""A matplotlib figure as an ``<svg>`` element of the report page: text as text, no base64.

    markup = svg.inline(fig)    # put it in the page as it is

matplotlib writes a standalone file: every letter a glyph outline (``svg.fonttype: path``), an id
on every artist, the same font list on every label, and indentation. Inside an HTML page most of
that is weight: the page already gives the SVG its namespaces, and only ids that something
refers to are needed. What the reader sees is unchanged: the same shapes at the same places,
text in DejaVu Sans where the reader has it and in their sans-serif font where not.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping
from html import escape

import matplotlib
from matplotlib.figure import Figure

FONT = re.compile(r"font-family: ([^;\"]+)(?:; )?")
REFERENCE = re.compile(r'(?:href="#|url\(#)([^")]+)')


def inline(fig: Figure, titles: Mapping[str, str] | None = None) -> str:
    """``fig`` as an ``<svg>`` element, the same for the same figure.

    ``titles`` maps an artist's gid (``artist.set_gid``) to the text a reader sees on hovering
    over it: an SVG ``<title>`` in the artist's group. Ids and style rules carry a prefix made
    from the figure's own digest, so several figures share one page without one's ids or
    styles reaching into another's.
    """
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue().decode()
    for gid, title in (titles or {}).items():
        group = f'<g id="{gid}">'
        svg = svg.replace(group, f'<g id="{gid}"><title>{escape(title)}</title>', 1)
    svg = svg[svg.index("<svg") :]  # an XML declaration and DOCTYPE have no place in HTML
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    svg = re.sub(r' xmlns(:xlink)?="[^"]*"', "", svg).replace("xlink:href=", "href=")
    svg = _compact(_referenced_ids_only(svg))
    root = "f" + hashlib.sha256(svg.encode()).hexdigest()[:8]
    svg = re.sub(r'(\bid="|\bhref="#|url\(#)', rf"\g<1>{root}-", svg)
    return _scoped_styles(svg, root)


def _referenced_ids_only(svg: str) -> str:
    """Drop every id nothing in the figure refers to (matplotlib names each artist)."""
    referenced = set(REFERENCE.findall(svg))
    return re.sub(r' id="([^"]+)"', lambda m: m.group(0) if m.group(1) in referenced else "", svg)


def _compact(svg: str) -> str:
    """No indentation between elements and no line breaks inside path data."""
    svg = re.sub(r">\s+<", "><", svg)
    return re.sub(r"\s*\n\s*", " ", svg).strip()


def _scoped_styles(svg: str, root: str) -> str:
    """The root gets the id ``root``; matplotlib's ``*{...}`` rule and the font list its labels
    share become rules under that id, written once."""
    # never drawn smaller than its natural size (the page scrolls a wide figure, not shrinks
    # its text), and at most a quarter larger: as wide as its column allows between the two
    width = re.search(r'<svg [^>]*width="([\d.]+)([a-z]*)"', svg)
    least = ""
    if width:
        size, unit = float(width[1]), width[2]
        least = f' style="min-width: {size:g}{unit}; width: min(100%, {1.25 * size:.1f}{unit})"'

    svg = svg.replace("<svg ", f'<svg id="{root}"{least} ', 1)
    rules = f"#{root} *{{"
    families = set(FONT.findall(svg))
    if len(families) == 1:
        svg = FONT.sub("", svg)
        rules = f"#{root} text{{font-family: {families.pop()}}}" + rules
    return svg.replace('<style type="text/css">*{', f'<style type="text/css">{rules}', 1)
