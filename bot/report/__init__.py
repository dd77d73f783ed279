"""The report: one read-only web page per article for whoever runs Agora, served by the bot.

What an article's report shows, read from the tallies and totals (`figures`), drawn as HTML
with its charts in plain SVG (`page`, `charts`, `style`), its results as CSV (`downloads`),
and the aiohttp server that guards it with a token (`server`). Imports `bot.core`,
`bot.engine`, `bot.insights`, `bot.discussion` and `storage`; started by `bot.app`.
"""
