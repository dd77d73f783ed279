"""The report's charts, in plain SVG drawn on the server: a share's bar with its 95 % interval,
a chat's share of the voters, a bar per day, a share's line over the last days. Inline in
the page (nothing to fetch), coloured by the page's stylesheet (light and dark), stretched
to the width they are given."""

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


def day_bars(values: list[int | None], labels: list[str], name: str) -> str:
    """A bar per day (None: a day the history does not know, left empty), on the series' own
    scale; each bar's `labels` entry is its tooltip, `name` says the chart to screen readers."""
    highest = max((value for value in values if value), default=0)
    bars = []
    for slot, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = 36.0 * value / highest if value and highest else 0.0
        if value is None:
            bars.append(
                f'<rect class="unknown" x="{slot * 10 + 1}" y="38" width="8" height="2">'
                f"<title>{escape(label)}</title></rect>"
            )
            continue
        bars.append(
            f'<rect class="share" x="{slot * 10 + 1}" y="{40 - max(height, 0.5):.2f}" '
            f'width="8" height="{max(height, 0.5):.2f}"><title>{escape(label)}</title></rect>'
        )
    return (
        f'<svg class="days" viewBox="0 0 {len(values) * 10} 40" preserveAspectRatio="none" '
        f'role="img" aria-label="{escape(name)}">{"".join(bars)}</svg>'
    )


def trend_line(points: list[tuple[int, float]], days: int, label: str) -> str:
    """A share over the last `days` days (day offsets, 0 today; shares in [0, 1]): on its
    own scale, at least 20 points tall so that noise stays small, a dot on today's share."""
    shares = [share for _, share in points]
    middle, height = (min(shares) + max(shares)) / 2, max(max(shares) - min(shares), 0.2)

    def at(offset: int, share: float) -> str:
        x = 100 * (offset + days - 1) / (days - 1)
        y = 10 - (share - middle) / height * 16
        return f"{x:.2f},{y:.2f}"

    line = " ".join(at(offset, share) for offset, share in points)
    last = at(*points[-1]).split(",")
    return (
        f'<svg class="trend" viewBox="-2 -2 104 24" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(label)}"><line class="track-line" x1="0" y1="20" x2="100" '
        'y2="20" vector-effect="non-scaling-stroke"/>'
        f'<polyline class="spark" points="{line}" vector-effect="non-scaling-stroke"/>'
        f'<line class="dot" x1="{last[0]}" y1="{last[1]}" x2="{last[0]}" y2="{last[1]}" '
        'vector-effect="non-scaling-stroke"/></svg>'
    )
