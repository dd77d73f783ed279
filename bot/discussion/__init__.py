"""The discussion: opinions people write, their rules (`opinions`), their listing in pages
(`listing`), the CSV export of answers and opinions (`export`), and forgetting a person
(`privacy`). Imports the rooms below it (`bot.core`, `bot.engine`, `bot.insights`, `bot.digests`:
forgetting a person blanks the digests' excerpts of their opinions) and `storage`.
"""
