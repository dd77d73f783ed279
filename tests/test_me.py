"""/me: where a person stands, chat by chat, in private: their group, the questions where they
side with the leading answer and those where they do not, and the opinion the people outside
their group agree with most; nobody else named."""

from __future__ import annotations

from tests.support.botapi import FakeBotAPI
from tests.support.camps import CAMP_B, group_with_polls, rate, two_camps, vote_as
from tests.support.harness import Agora

NBSP, NNBSP = "\u00a0", "\u202f"
async def test_me_shows_a_person_where_they_stand_and_names_nobody(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, _admin, polls = await group_with_polls(agora, api, -100950)
    camp_a, camp_b = await two_camps(agora, api, polls)
    zoe = api.user(3000, "Zoé")
    await vote_as(agora, polls, zoe, {**CAMP_B, 0: [0]})  # with camp A on question 1 only
    await agora.command(group, camp_a[0], "/avis Un avis du premier camp")
    await agora.command(group, camp_b[0], "/avis Un avis du second camp")
    await agora.command(group, zoe, "/avis L’avis de Zoé")
    await rate(agora, "Un avis du premier camp", camp_a[1:5], 1)
    await rate(agora, "Un avis du second camp", camp_b[1:4], 1)
    await rate(agora, "Un avis du second camp", camp_a[5:8], -1)
    await rate(agora, "L’avis de Zoé", camp_a[1:9], 1)  # her own: never shown to her

    [pointer] = await agora.command(group, zoe, "/moi")
    assert pointer["text"] == (
        f"Demandez-moi en privé{NBSP}: /moi montre où vous en êtes, à vous seulement."
    )
    private = api.private_chat(zoe)
    answer = await agora.command(private, zoe, "/moi")
    text = "\n".join(m["text"] for m in answer)
    assert text.startswith(
        f"🧭 Où vous en êtes\nCe message n’est visible que par vous{NBSP}: personne d’autre n’y "
        "est nommé, les autres n’y comptent que comme des nombres.\n\nDébat — Crise à la tête "
        f"d’OpenAI{NBSP}: le limogeage de Sam Altman sème le chaos\n"
    )
    # Zoé's answers are camp B's but for question 1: she is in the smaller group, of 11.
    assert f"Groupes d’opinion{NBSP}: vous êtes dans le groupe 2 sur 2 (11 personnes)." in text
    assert "Avec la réponse en tête à la question 1." in text
    # 15 of the 26 voters chose camp A's answer: 57.7 %.
    assert (
        f"Question 2{NBSP}: vous avez répondu «{NBSP}Injustifié{NBSP}»{NNBSP}; la réponse en tête "
        f"est «{NBSP}Justifié{NBSP}» (57,7{NBSP}%)."
    ) in text
    assert [line[:10] for line in text.splitlines() if line.startswith("Question")] == [
        "Question 2", "Question 3", "Question 4",
    ]
    # Outside her group (camp A's raters), the first camp's opinion; never her own, although
    # more people agreed with it; the second camp's is what camp A disagreed with.
    assert text.endswith(
        f"Hors de votre groupe, l’avis le plus approuvé{NBSP}: «{NBSP}Un avis du premier "
        f"camp{NBSP}» (👍 4 · 👎 0 · 0 sans avis)"
    )
    for name in ("Alpha", "Beta", "Ada"):  # nobody else is named
        assert name not in text


async def test_me_without_answers_or_groups_and_with_hidden_results(
    agora: Agora, api: FakeBotAPI
) -> None:
    bob = api.user(12, "Bob", language_code="en")
    private = api.private_chat(bob)
    [nothing] = await agora.command(private, bob, "/me")
    assert nothing["text"] == (
        "You have not answered any poll yet. Once you have, /me shows you where you stand, "
        "chat by chat."
    )
    # A group with too few voters for groups, and a group whose results are hidden.
    small = api.group(-100951, "Small")
    hidden = api.group(-100952, "Hidden")
    admin = api.user(10, "Ada", language_code="en")
    for chat, command in ((small, "/poll"), (hidden, "/poll hidden")):
        api.set_admin(chat["id"], admin)
        await agora.command(chat, admin, "/lang en")
        sent = await agora.command(chat, admin, command)
        polls = [m["poll"] for m in sent if "poll" in m]
        await vote_as(agora, polls, bob, {0: [2], 1: [0]})
        await vote_as(agora, polls, api.user(13, "Eve"), {0: [2], 1: [1]})
    await agora.command(small, api.user(13, "Eve"), "/opinion Eve thinks so")
    await rate(agora, "Eve thinks so", [api.user(20 + n, f"R{n}") for n in range(3)], 1)
    answer = await agora.command(private, bob, "/me")
    text = "\n".join(m["text"] for m in answer)
    assert text.startswith("🧭 Where you stand\n")
    latest, earlier = text.split("\n\n")[1:]  # the most recently answered chat first
    assert latest == (
        "Hidden — Crisis at the top of OpenAI: Sam Altman's firing sparks chaos\n"
        "Its results stay hidden until the polls close: nothing to compare yet."
    )
    assert earlier.startswith("Small — ")
    assert "Opinion groups" not in earlier  # two voters: no groups there
    # Question 1: both chose the same; question 2: a tie, so no leading answer to compare.
    assert "\nWith the leading answer on question 1.\n" in earlier
    assert "Question 2" not in earlier
    assert earlier.endswith(
        "The opinion most agreed with there: “Eve thinks so” (👍 3 · 👎 0 · 0 passed)"
    )
    assert "Eve" not in earlier.replace("Eve thinks so", "")
