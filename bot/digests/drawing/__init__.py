"""The chart that goes with a daily digest: one PNG page per few questions, made for a phone.

- `render`: `render_chart`, the pages drawn (bars, intervals, trend curves);
- `panels`: what a chart shows (`ChartQuestion`, `ChartLabels`), laid out and paginated;
- `lettering`: text measured, wrapped and drawn from FreeType bitmaps;
- `style`: measures and colours;
- `png`: the PNG encoder.

What a digest's chart says is decided in bot.digests.chart; the sender draws it just before
sending it.
"""
