"""PII redaction (issue 14): quality on the labelled synthetic set, throughput against a plain
regex scan, and its cost on the chat path.

    DATABASE_URL=… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/redaction.py [--messages 4000]
        [--rounds 3] [--quality] [--breakdown] [--chat] [--chat-messages 400] [--force]

- ``--quality``: recall, precision and F2 per kind on the labelled synthetic set
  (``cea.common.pii.corpus``, seed 14), and the card numbers left in clear after redaction;
- throughput (always): ``redact_text`` with the default policy over two sets of messages —
  the labelled set (every message has numbers, most have personal data) and a chat mix (nine in
  ten everyday chat lines in five languages, one in ten from the labelled set) — in messages/s,
  against the floor: the same messages through one precompiled regex scan for card-like digit
  runs (``findall``), which is what the cheapest possible card check costs. Rounds alternate
  which goes first; the best round of each is kept;
- ``--breakdown``: the time each detector takes over the labelled set;
- ``--chat``: a visitor's chat message to the agent's socket (bench/routing.py's harness, uvicorn,
  1 worker), p50/p99, with the platform as it is and with redaction switched off in the server
  (``bench/redaction_off_asgi.py``, bench only), messages from the chat mix. Writes the chat
  bench's rows (prefixed ``rbench``): refuses a database whose name lacks "bench" unless --force.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: bench/ is sys.path[0], where bench/records.py would shadow the ``records`` app.
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import machine, setup_django

# The chat server on loopback: plain HTTP (no redirect to HTTPS in stack mode), and room for all
# the visitors' sockets from one address.
SERVER_ENV = {"CEA_SSL_REDIRECT": "0", "CEA_WEBCHAT_CONNECTIONS_PER_IP": "1000"}

# The floor: one scan for runs of 13–19 digits with optional single spaces or dashes.
CARD_LIKE = re.compile(r"(?<!\d)(?:\d[ \-]?){12,18}\d(?!\d)")

EVERYDAY = (
    "Hi, where is my order? It was supposed to arrive yesterday.",
    "Thanks, that's all I needed!",
    "Can I change the delivery address?",
    "My parcel 48213377 is late, it says out for delivery since Monday.",
    "I was charged twice for the same order, €59.90 each time.",
    "ok",
    "Is the shop open on Sunday at 10:30?",
    "The app keeps crashing when I open my account page.",
    "Bonjour, je n'ai pas reçu ma commande du 12/03.",
    "Merci beaucoup pour votre aide !",
    "Est-ce que je peux payer en trois fois ?",
    "Mon colis est bloqué depuis 5 jours.",
    "Hallo, meine Bestellung ist noch nicht angekommen.",
    "Vielen Dank, schönen Tag noch!",
    "Kann ich die Rechnung als PDF bekommen?",
    "Die Lieferung sollte am 14.03.2024 kommen.",
    "Hola, ¿cuándo llega mi pedido?",
    "Gracias por la ayuda.",
    "Quiero cambiar mi tarifa, pago 35 euros al mes.",
    "Hallo, mijn pakket is nog niet bezorgd.",
    "Bedankt voor de snelle reactie!",
    "Kan ik mijn abonnement opzeggen per 1 april?",
    "I'd like to speak to someone about my bill please",
    "yes", "no, the other one", "2 of them", "still waiting...",
)  # fmt: skip


def chat_mix(labelled: list[str], size: int, seed: int = 14) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(labelled) if rng.random() < 0.1 else rng.choice(EVERYDAY) for _ in range(size)]


def rate(call, messages: list[str]) -> float:
    started = time.perf_counter()
    for text in messages:
        call(text)
    return len(messages) / (time.perf_counter() - started)


def throughput(name: str, messages: list[str], rounds: int) -> dict:
    from cea.common.pii import DEFAULT_POLICY, redact_text

    def redact(text: str) -> str:
        return redact_text(text, policy=DEFAULT_POLICY)

    floor, measured = [], []
    for number in range(rounds):
        pair = [("floor", CARD_LIKE.findall), ("redact", redact)]
        for label, call in pair if number % 2 == 0 else reversed(pair):
            (floor if label == "floor" else measured).append(rate(call, messages))
    best_floor, best = max(floor), max(measured)
    chars = sum(len(m) for m in messages) / len(messages)
    print(
        f"{name:<34} {len(messages):>6} msgs, {chars:5.0f} chars avg   redact_text {best:>9,.0f} msgs/s"
        f" ({1e6 / best:6.1f} µs/msg)   floor {best_floor:>10,.0f} msgs/s   ratio {best_floor / best:6.1f}x the time"
    )
    return {"set": name, "redact_per_s": round(best), "floor_per_s": round(best_floor), "ratio": best_floor / best}


def breakdown(messages: list[str]) -> None:
    from cea.common.pii import detect

    parts = {
        "emails": detect._emails,
        "ibans": detect._ibans,
        "cards": detect._cards,
        "cvvs by cue": detect._cvvs_by_cue,
        "national ids": lambda text: detect._national_ids(text, []),
        "phones": lambda text: detect._phones(text, []),
    }
    print("\nDetectors over the labelled set (µs per message, best of 3):")
    for label, detector in parts.items():
        best = min(_seconds(lambda text, d=detector: list(d(text)), messages) for _ in range(3))
        print(f"  {label:<14} {best / len(messages) * 1e6:8.1f}")


def _seconds(call, messages: list[str]) -> float:
    started = time.perf_counter()
    for text in messages:
        call(text)
    return time.perf_counter() - started


def quality(size: int) -> None:
    from cea.common.pii.corpus import generate_corpus
    from cea.common.pii.quality import evaluate, quality_table

    result = evaluate(generate_corpus(size=size, seed=14))
    print(f"\nQuality on the labelled synthetic set ({result.messages} messages, seed 14):")
    print(quality_table(result))
    print(f"Card numbers left in clear after redaction: {result.cards_leaked}")
    for kind, value, _text in result.misses[:10]:
        print(f"  missed {kind.value}: {value!r}")
    for kind, value, _text in result.false_alarms[:10]:
        print(f"  taken for {kind.value}: {value!r}")


def chat(messages: list[str], count: int) -> dict:
    """The chat path with and without redaction, servers one after the other, twice (ABBA)."""
    import asyncio
    import math

    from django.db import connection

    from bench.common import Server, free_port, server_commands
    from bench.records import FLOOR_PATH, api_token
    from bench.routing import MESSAGES_PER_VISITOR, chat_part, prepare_chat, timings
    from cea.accounts.services import api_token_revoke
    from cea.common.pii import redact_text

    found: dict[str, list[int]] = {"on": [], "off": [], "layer": [], "changed_on": [], "changed_off": []}
    sent_on: list[str] = []  # the chat-mix messages the servers with redaction were sent
    token, plaintext = api_token()
    try:
        for mode in ("on", "off", "off", "on"):
            visitors = max(1, math.ceil(count / 2 / MESSAGES_PER_VISITOR))
            site_key, session, chats = prepare_chat(visitors)
            connection.close()
            port = free_port()
            command = server_commands(port)["uvicorn (1 worker)"]
            if mode == "off":
                command = [
                    "bench.redaction_off_asgi:application" if part == "cea.asgi:application" else part
                    for part in command
                ]
            offset = len(found["on"]) + len(found["off"])
            headers = {"Authorization": f"Bearer {plaintext}"}
            with Server(f"uvicorn (redaction {mode})", command, port, FLOOR_PATH, headers, env=SERVER_ENV) as server:
                try:
                    result = asyncio.run(
                        chat_part(
                            port, messages=count // 2, rounds=1, site_key=site_key, session=session, chats=chats,
                            body_of=lambda n, o=offset: f"{messages[(o + n) % len(messages)]} #{o + n}",
                            # Redacted where the platform redacts its ingest (issue 14's wiring), else as sent.
                            shown_as=lambda body: {body, redact_text(body)},
                        )
                    )  # fmt: skip
                except Exception:
                    print(server.output(), file=sys.stderr)
                    raise
            if mode == "on":
                sent_on.extend(messages[(offset + n) % len(messages)] for n in range(len(result["changed"])))
            found[mode].extend(result["delivery"])
            found[f"changed_{mode}"].extend(result["changed"])
            found["layer"].extend(result["layer"])
    finally:
        api_token_revoke(token=token)
    on, off, layer = timings(found["on"]), timings(found["off"]), timings(found["layer"])
    print("\nChat message, visitor's ws/webchat/ → agent's ws/context/ (uvicorn, 1 worker), chat-mix bodies; ms")
    print(f"{'measure':<40} {'n':>5} {'p50':>7} {'p99':>7}")
    for label, measured, samples in (
        ("with redaction (the platform)", on, found["on"]),
        ("redaction switched off (bench only)", off, found["off"]),
        ("channel-layer round trip (floor)", layer, found["layer"]),
    ):
        print(f"{label:<40} {len(samples):>5} {measured.p50_ms:>7.2f} {measured.p99_ms:>7.2f}")
    print(f"with / without: p50 {on.p50_ms / off.p50_ms:.2f}x, p99 {on.p99_ms / off.p99_ms:.2f}x")
    would = sum(redact_text(m) != m for m in sent_on)
    print(
        f"Messages the agent saw redacted: {sum(found['changed_on'])} of {len(found['changed_on'])} with redaction"
        f" ({would} of as many chat-mix messages have personal data), {sum(found['changed_off'])}"
        f" of {len(found['changed_off'])} with it switched off"
    )
    return {"chat_on_p50_ms": on.p50_ms, "chat_on_p99_ms": on.p99_ms, "chat_off_p50_ms": off.p50_ms,
            "chat_off_p99_ms": off.p99_ms}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=4000, help="messages in each throughput set")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quality", action="store_true", help="recall, precision and F2 per kind")
    parser.add_argument("--quality-messages", type=int, default=2000)
    parser.add_argument("--breakdown", action="store_true", help="time per detector")
    parser.add_argument("--chat", action="store_true", help="the chat path with and without redaction")
    parser.add_argument("--chat-messages", type=int, default=400)
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench' (--chat)")
    args = parser.parse_args()
    setup_django()

    from bench.records import commit
    from cea.common.pii.corpus import generate_corpus

    print(f"CEA redaction — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}")
    print(f"Machine: {machine()}; Python {sys.version.split()[0]}")
    labelled = [m.text for m in generate_corpus(size=args.messages, seed=14)]
    mix = chat_mix(labelled, args.messages)
    print("\nThroughput, default policy; floor: one regex scan for card-like digit runs over the same messages")
    summary = [
        throughput("labelled set", labelled, args.rounds),
        throughput("chat mix (1 in 10 labelled)", mix, args.rounds),
    ]
    if args.breakdown:
        breakdown(labelled)
    if args.quality:
        quality(args.quality_messages)
    result: dict = {"throughput": summary}
    if args.chat:
        from bench.common import guard_database

        guard_database(force=args.force)
        result["chat"] = chat(mix, args.chat_messages)
    print(f"\nMachine after: {machine()}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
