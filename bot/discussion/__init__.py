"""The discussion: opinions people write, their rules (`opinions`), their listing in pages
(`listing`), the CSV export of answers and opinions (`export`), and forgetting a person
(`privacy`). Imports `bot.core`, `bot.engine` and `storage`; not the digests or insights'
callers above it.
"""
