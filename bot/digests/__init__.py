"""The daily digest, from its schedule to its last message.

- `schedule`: when digests go (a job per subscribed chat, catch-up after a restart, retries,
  chats that became supergroups), and delivery: compose, record, queue, in one transaction;
- `compose`: what a chat's digest says on a day (a function of the database, no Telegram);
- `text`: the numbers and text blocks, pure functions;
- `chart`: the chart's description and its drawing (by the sender, just before it goes out);
- `deliver`: the composed digest queued in the outbox.

The command that sets it up is handlers/digest.py; the sender (bot.engine.sending) sends it.
"""
