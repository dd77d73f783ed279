"""Insights: what the answers say, as numbers and as words.

Wilson intervals and whether a lead is real (`intervals`), verdicts that do not overclaim
(`verdicts`), a question's results block (`results_text`), cross-tabs (`crosstab`), and
opinion groups found by clustering (`clustering`, `opinion_groups`). Pure computations and
their texts: imports `bot.core` and `storage` only.
"""
