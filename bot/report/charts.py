"""The report's charts, in plain SVG drawn on the server: a share's bar with its 95 % interval,
and a chat's share of the voters. Inline in the page (nothing to fetch), coloured by the
page's stylesheet (light and dark), stretched to the width they are given."""

from __future__ import annotations

from html import escape


def _x(share: float) -> str:
    """A share in [0, 1] as a coordinate of the 0 to 100 wide drawing."""
    return f"{min(max(share, 0.0), 1.0) * 100:.2f}"


def share_bar(share: float, low: float, high: float, label: str) -> str:
    """A bar for `share`, a whisker from `low` to `high`; `label` says it to screen readers."""
    left, right, end = _x(low), _x(high), _x(share)
    return (
        f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(label)}">'
        '<rect class="track" x="0" y="2" width="100" height="6"/>'
        f'<rect class="share" x="0" y="2" width="{end}" height="6"/>'
        f'<line class="interval" x1="{left}" y1="5" x2="{right}" y2="5" '
        'vector-effect="non-scaling-stroke"/>'
        f'<line class="interval" x1="{left}" y1="1" x2="{left}" y2="9" '
        'vector-effect="non-scaling-stroke"/>'
        f'<line class="interval" x1="{right}" y1="1" x2="{right}" y2="9" '
        'vector-effect="non-scaling-stroke"/>'
        "</svg>"
    )


def part_bar(part: int, whole: int, label: str) -> str:
    """A thin bar: a chat's part of the busiest chat's voters."""
    share = part / whole if whole else 0.0
    return (
        f'<svg class="part" viewBox="0 0 100 4" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(label)}">'
        f'<rect class="share" x="0" y="0" width="{_x(share)}" height="4"/></svg>'
    )
