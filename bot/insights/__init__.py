"""Insights: what the answers say, as numbers and as words.

Wilson intervals and whether a lead is real (`intervals`), verdicts that do not overclaim
(`verdicts`), where each question stands (`standings`) and its results block
(`results_text`), cross-tabs (`crosstab`, told by `crosstab_text`), and opinion groups found
by clustering (`clustering`, `opinion_groups`, told by `groups_text`; their inputs and one
at a time: `group_inputs`). Pure computations and their texts, refusals included: imports
`bot.core` and `storage` only.
"""
