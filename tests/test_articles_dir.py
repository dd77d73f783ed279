"""ARTICLES_DIR: articles beside the packaged ones, `check` on them, retired articles."""

from __future__ import annotations

import re
from pathlib import Path

from bot.core.content import ContentError
from bot.core.library import packaged_articles, read_folder, scan
from tests.support.articles import article_text, write_article
from tests.support.botapi import FakeBotAPI
from tests.test_cli import run_bot


def test_the_folder_adds_articles_beside_the_packaged_ones(tmp_path: Path) -> None:
    write_article(tmp_path, "a", "ai-act-2026", source_date="2026-03-01")
    write_article(tmp_path, "b", "old-news", source_date="2020-01-01")
    found = scan(tmp_path)
    assert found.errors == ()
    ids = [a.id for a in found.library.articles]
    assert ids == ["ai-act-2026", "openai-board-2023-11", "old-news"]
    assert found.library.latest is not None
    assert found.library.latest.id == "ai-act-2026"


def test_a_missing_folder_is_no_article_and_no_error(tmp_path: Path) -> None:
    found = scan(tmp_path / "nowhere")
    assert [a.id for a in found.library.articles] == ["openai-board-2023-11"]
    assert found.errors == ()


def test_an_id_clash_names_both_files_and_keeps_the_first(tmp_path: Path) -> None:
    write_article(tmp_path, "first", "same-id")
    write_article(tmp_path, "second", "same-id")
    write_article(tmp_path, "packaged-clash", "openai-board-2023-11")
    found = scan(tmp_path)
    assert sorted(a.id for a in found.library.articles) == ["openai-board-2023-11", "same-id"]
    assert found.library.get("same-id").path == tmp_path / "first.toml"  # type: ignore[union-attr]
    assert found.library.get("openai-board-2023-11").packaged  # type: ignore[union-attr]
    errors = "\n".join(found.errors)
    assert (
        f"{tmp_path / 'second.toml'}: id: 'same-id' is already used by {tmp_path / 'first.toml'}"
        in errors
    )
    assert "packaged-clash.toml: id: 'openai-board-2023-11' is already used by " in errors
    assert "openai-board-2023-11.toml (packaged)" in errors


def test_retired_articles_are_loaded_but_not_listed_nor_latest(tmp_path: Path) -> None:
    write_article(tmp_path, "gone", "gone-news", source_date="2030-01-01", retired=True)
    library = scan(tmp_path).library
    assert library.get("gone-news") is not None
    assert [a.id for a in library.listed] == ["openai-board-2023-11"]
    assert library.latest is not None
    assert library.latest.id == "openai-board-2023-11"


def test_bad_input_is_refused_with_file_and_field(tmp_path: Path) -> None:
    base = article_text("bad")
    cases = {
        "long-question": re.sub(r'text\.fr = "[^"]*"', f'text.fr = "{"q" * 301}"', base, count=1),
        "long-option": base.replace('"Justifié", ', f'"{"o" * 101}", ', 1),
        "no-neutral": base.replace('"Une affaire surmédiatisée", "Sans opinion"', '"Bof"'),
        "bad-retired": base.replace('id = "bad"', 'id = "bad"\nretired = "yes"'),
    }
    for name, text in cases.items():
        (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
    found = read_folder(tmp_path)
    messages = {path.stem: str(result) for path, result in found.items()}
    assert all(isinstance(result, ContentError) for result in found.values())
    assert messages["long-question"] == (
        "long-question.toml: questions[1].text.fr: 301 characters, at most 300 allowed"
    )
    assert messages["long-option"] == (
        "long-option.toml: questions[2].options.fr[1]: 101 characters, at most 100 allowed"
    )
    assert messages["no-neutral"] == (
        "no-neutral.toml: questions[1].options.fr: the neutral option 'Sans opinion' is missing"
    )
    assert messages["bad-retired"] == (
        "bad-retired.toml: retired: expected a boolean (true or false)"
    )
    assert [a.id for a in scan(tmp_path).library.articles] == ["openai-board-2023-11"]
    assert len(packaged_articles()) == 1


def test_check_names_every_bad_file_and_fails(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    write_article(folder, "good", "good-news")
    write_article(folder, "twin", "good-news")
    (folder / "broken.toml").write_text("id = [", encoding="utf-8")
    result = run_bot("check", cwd=tmp_path, ARTICLES_DIR=str(folder))
    assert result.returncode == 2
    assert f"ok: good-news (6 questions) — {folder / 'good.toml'}" in result.stdout
    assert "ok: openai-board-2023-11 (6 questions) — openai-board-2023-11.toml (packaged)" in (
        result.stdout
    )
    errors = result.stderr.splitlines()
    assert f"error: {folder / 'broken.toml'}: not valid TOML" in errors[0]
    assert errors[1] == (
        f"error: {folder / 'twin.toml'}: id: 'good-news' is already used by "
        f"{folder / 'good.toml'}; this file is left out"
    )
    (folder / "broken.toml").unlink()
    (folder / "twin.toml").unlink()
    assert run_bot("check", cwd=tmp_path, ARTICLES_DIR=str(folder)).returncode == 0


async def test_a_retired_article_is_hidden_but_its_results_stay(
    api: FakeBotAPI, articles_dir: Path, settings, clock
) -> None:
    from tests.support.harness import start_agora

    write_article(articles_dir, "old", "old-news", source_date="2020-01-01", retired=True)
    write_article(articles_dir, "next", "next-news", source_date="2026-11-01")
    alice = api.user(1001, "Alice", language_code="fr")
    chat = api.private_chat(alice)
    async with start_agora(api, settings, clock) as agora:
        [listing] = await agora.command(chat, alice, "/articles")
        assert "next-news" in listing["text"]
        assert "openai-board-2023-11" in listing["text"]
        assert "old-news" not in listing["text"]
        # Still there for whoever names it: its polls, results and opinions stay reachable.
        [chosen] = await agora.command(chat, alice, "/article old-news")
        assert "Article old-news" in chosen["text"]
        [results] = await agora.command(chat, alice, "/resultats")
        assert "Article old-news" in results["text"]
        [unknown] = await agora.command(chat, alice, "/article nope")
        assert unknown["text"] == (
            "Aucun article «\u00a0nope\u00a0». Consultez la liste avec /articles."
        )
