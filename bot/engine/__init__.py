"""The engine: how updates enter, how they are handled, and how what they decide goes out.

Receiving (`polling`, `webhook`, `inbox`, and `dispatcher`, which handles the inbox chat by
chat, through `handling` and `reading`), reaching the database and Telegram at start-up
(`startup`), the unit of work (`transaction`) and what it queues (`outbox`, and `effects`:
what a call records once sent), sending (`sending/`: flood limits, lanes, the sender),
admission control, group administrators, the lease that picks the sending instance, and
metrics. It imports `bot.core` and `storage` only: of a digest it knows the rows
(`storage.digests`) and the effect that marks one sent, never how one is composed; of a
poll, the row to record.
"""
