"""The outbox's sending side: the calls that handlers, digests and announcements queued,
made once their transaction has committed.

- `sender`: the loop that picks the next call (per-chat lanes, priorities, flood limits);
- `lanes`: its memory of the pending rows, a lane per chat;
- `flood`: Telegram's limits (a group's minute, the bot's second);
- `delivery`: one row's journey, claim to mark, and what each refusal of Telegram's does;
- `calls`: a row made into a Bot API request (parse mode, chart pages, documents);
- `outcomes`: what a sent or dropped call records (a poll's ids, a digest's completion or
  failure): the one drop path, which cancelling a digest takes too;
- `coalescer`: the claims and marks of many calls in few transactions.

Handlers queue through bot.engine.outbox (→ storage.outbox), with the typed effects of
bot.engine.effects.
"""
