"""Who opens the report inside Telegram: the Mini App's `initData`, checked as Telegram's
documentation for Mini Apps says.

Telegram signs the data it hands a Mini App: every field but `hash` (`signature` included),
as `key=value` lines sorted by key, is the data-check string; its HMAC-SHA-256 under the key
HMAC-SHA-256("WebAppData", bot token) is `hash`, in hexadecimal. Data older than a day is
refused (a leaked copy stops opening the report), as is data from the future beyond a
minute of clock skew. The page sends it as `Authorization: tma <initData>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from bot.core.i18n import _
from bot.report.layout import document, text
from bot.report.style import CSS_HASH

MAX_AGE = timedelta(days=1)
SKEW = timedelta(minutes=1)
SCHEME = "tma"


def sign(fields: dict[str, str], token: str) -> str:
    """The `hash` Telegram computes for these fields (all of them but `hash`)."""
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def init_data_user(init_data: str, token: str, now: datetime) -> int | None:
    """The Telegram user id that signed `init_data`, if Telegram signed it for this bot less
    than a day before `now`; None for anything else (forged, stale, malformed)."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    fields = dict(pairs)
    given = fields.pop("hash", "")
    if len(fields) + 1 != len(pairs) or not given:  # a repeated field is not Telegram's
        return None
    if not hmac.compare_digest(given.encode(), sign(fields, token).encode()):
        return None
    try:
        signed_at = datetime.fromtimestamp(int(fields["auth_date"]), tz=now.tzinfo)
        user = json.loads(fields["user"])
    except (KeyError, ValueError, OverflowError, OSError):
        return None
    if not now - MAX_AGE <= signed_at <= now + SKEW:
        return None
    user_id = user.get("id") if isinstance(user, dict) else None
    return user_id if type(user_id) is int else None


def authorization_data(header: str) -> str | None:
    """The initData of an `Authorization: tma <initData>` header, if it is one."""
    scheme, _, data = header.partition(" ")
    return data.strip() or None if scheme.lower() == SCHEME else None


# The page inside Telegram: a shell, its script (served from here: the policy allows
# nothing else), and the report it fetches with the initData in the Authorization header.
SCRIPT = """(function () {
  var main = document.querySelector("main");
  var data = new URLSearchParams(location.hash.slice(1)).get("tgWebAppData");
  var query = new URLSearchParams(location.search);
  if (!data) { main.textContent = main.getAttribute("data-missing"); return; }
  var address = "/app/report/" + encodeURIComponent(query.get("article") || "latest") +
    "?lang=" + encodeURIComponent(query.get("lang") || document.documentElement.lang);
  fetch(address, {headers: {Authorization: "tma " + data}, credentials: "omit"})
    .then(function (answer) { return answer.text(); })
    .then(function (page) {
      var found = new DOMParser().parseFromString(page, "text/html").querySelector("main");
      if (found) { main.replaceWith(found); }
    })
    .catch(function () { main.textContent = main.getAttribute("data-failed"); });
})();
"""
# Telegram's web clients show Mini Apps in a frame; its apps in a web view (no framing).
FRAMED_BY = "https://web.telegram.org"
APP_POLICY = (
    f"default-src 'none'; script-src 'self'; connect-src 'self'; style-src '{CSS_HASH}'; "
    f"img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors {FRAMED_BY}"
)


def shell_page() -> str:
    """/app: what the Mini App opens, in the current language, before its report comes."""
    title = _("Agora report")
    missing = _("Open this page from Agora's button in Telegram (/report).")
    failed = _("The report could not be loaded. Try again in a moment.")
    return document(title, "").replace(
        "<main>",
        '<main data-missing="{}" data-failed="{}"><p class="muted">{}</p>'
        '<script src="/app/app.js"></script>'.format(
            text(missing), text(failed), text(_("Loading…"))
        ),
        1,
    )


UNSIGNED, NO_ARTICLE, NO_CHATS = "unsigned", "no article", "no chats"


def app_refusal(why: str) -> str:
    """What the Mini App shows instead of a report: UNSIGNED (no initData Telegram signed
    for this bot in the last day), NO_ARTICLE, or NO_CHATS (the person administers none)."""
    if why == UNSIGNED:
        reason = _("This page opens only from Agora's button in Telegram, for a day: open it "
                   "again from /report.")
    elif why == NO_ARTICLE:
        reason = _("There is no such article.")
    else:
        reason = _("You administer none of the chats where this article is discussed.")
    title = _("Agora report")
    return document(title, f"<h1>{text(title)}</h1><p>{text(reason)}</p>")
