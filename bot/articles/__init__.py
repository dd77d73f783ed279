"""Articles while the bot runs: starting an article file from its text (`scaffold`),
reloading the library when the folder changes (`reload`), and announcing a new article to
the chats that follow the latest one (`announcements`). Imports `bot.core`, `bot.engine` and
`storage`. What an article is (its file, validated) lives in `bot.core.content`.
"""
