"""Which category a complaint belongs to, and why (one named rule per category).

Each category in the routing file is a rule. A rule scores on four kinds of evidence:

* an explicit category from the hotline log (``category_hint``): decisive, score 100;
* each configured keyword found in the subject or text (``routing.segment``): 1 per word;
* the channel (``email``/``hotline``) being one the rule lists: 1;
* the sender's mail domain being one the rule lists: 2.

``match = "best"`` (the default) takes the highest score, ties going to the rule written
first; ``match = "first"`` takes the first rule in file order with any evidence. A channel
alone is not enough to match. The explanation names the rule and the words that made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.directory import Category, RoutingConfig
from routing.segment import SegmentedText

HINT_SCORE = 100
DOMAIN_SCORE = 2


@dataclass(frozen=True)
class Facts:
    """What the rules look at, as plain values."""

    subject: str
    text: str
    channel: str
    sender_email: str | None = None
    category_hint: str | None = None


@dataclass(frozen=True)
class RuleHit:
    category: str
    score: int
    words: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default=())

    def explain(self) -> str:
        return f"matched rule {self.category} on " + "; ".join(self.reasons)


def match(config: RoutingConfig, facts: Facts) -> tuple[RuleHit | None, list[RuleHit]]:
    """The winning rule (or None) and every rule that had evidence, for the timeline."""
    hint = _by_hint(config, facts.category_hint)
    if hint is not None:
        return hint, [hint]
    segmented = SegmentedText(f"{facts.subject}\n{facts.text}")
    hits = [h for key, cat in config.categories.items()
            if (h := _score(key, cat, facts, segmented)) is not None]
    if not hits:
        return None, []
    if config.clock.match == "first":
        return hits[0], hits
    best = max(h.score for h in hits)
    return next(h for h in hits if h.score == best), hits


def _by_hint(config: RoutingConfig, hint: str | None) -> RuleHit | None:
    if not hint:
        return None
    wanted = hint.strip().lower()
    for key, cat in config.categories.items():
        if wanted in {key.lower(), cat.label_zh.lower(), cat.label_en.lower()}:
            return RuleHit(key, HINT_SCORE, (), (f"explicit category {hint!r} from the log",))
    return None


def _score(key: str, cat: Category, facts: Facts, text: SegmentedText) -> RuleHit | None:
    words = tuple(k for k in cat.keywords if text.contains(k))
    reasons = [f"words {', '.join(words)}"] if words else []
    score = len(words)
    domain = (facts.sender_email or "").rsplit("@", 1)[-1].lower()
    if domain and domain in {d.lower() for d in cat.sender_domains}:
        score += DOMAIN_SCORE
        reasons.append(f"sender domain {domain}")
    if score == 0:
        return None
    if facts.channel in cat.channels:
        score += 1
        reasons.append(f"channel {facts.channel}")
    return RuleHit(key, score, words, tuple(reasons))
