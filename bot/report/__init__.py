"""The report: one read-only web page per article for whoever runs Agora, served by the bot.

What an article's report shows, read from the tallies and totals (`figures`) and from the
results' history (`history`: the days and each leader's last days, shown by `days`), the
opinion groups found in the background (`groups`), drawn as HTML with its charts in plain SVG
(`page`, `charts`, `style`), its results as CSV (`downloads`), the Mini App (`miniapp`,
`inside`), and the aiohttp server that guards it with a token (`server`). Imports
`bot.core`, `bot.engine`, `bot.insights`, `bot.digests`, `bot.discussion` and `storage`;
started by `bot.app`, its history recorded by `bot.leadership`.
"""
