"""Menu: list (or speak) the choices, wait for one, remember its label and go where it leads.

``{"choices": [{"key": "1", "label": "Track a parcel", "next": "track"}], "variable":
"delivery_need", "retries": 2}``: a choice is picked by its key (digits, spoken digits) or label.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engagement.selfservice.definition import MENU_KEY, NAME, FlowDef, StepDef
from engagement.selfservice.models import StepKind
from engagement.selfservice.session import Mode, Turn
from engagement.selfservice.steps.base import FlowRun, StepCheck, WaitingStep
from engagement.selfservice.words import AGENT_CHOICE_VOICE, MENU_HINT_TEXT, NOT_AN_OPTION, match_choice


class Menu(WaitingStep):
    kind = StepKind.MENU
    allowed_options = frozenset({"choices", "variable", "retries"})

    def check_options(self, step: StepDef, check: StepCheck) -> None:
        options = step.options
        choices = options.get("choices")
        if not isinstance(choices, list) or not choices:
            check.add('A menu needs choices: [{"key": "1", "label": "…", "next": "step"}].')
        else:
            self._check_choices(choices, check)
        if "variable" in options and (not isinstance(options["variable"], str) or not NAME.match(options["variable"])):
            check.add("variable: lower-case letters, digits and _.")
        check.retries(options)

    @staticmethod
    def _check_choices(choices: list[Any], check: StepCheck) -> None:
        seen_keys: set[str] = set()
        seen_labels: set[str] = set()
        for number, choice in enumerate(choices, start=1):
            if not isinstance(choice, Mapping) or set(choice) - {"key", "label", "next"}:
                check.add(f"Choice {number} is an object with key, label and next only.")
                continue
            key, label = choice.get("key"), choice.get("label")
            if not isinstance(key, str) or not MENU_KEY.match(key):
                check.add(f"Choice {number}: the key is a digit 1-9 (or two digits, or #).")
            elif key in seen_keys:
                check.add(f"Choice {number}: the key {key!r} is used twice.")
            seen_keys.add(str(key))
            if not isinstance(label, str) or not label.strip():
                check.add(f"Choice {number} needs a label.")
            elif label.strip().lower() in seen_labels:
                check.add(f"Choice {number}: the label {label!r} is used twice.")
            else:
                seen_labels.add(label.strip().lower())
            check.target(choice.get("next"), f"Choice {number}'s next")

    def option_targets(self, options: Mapping[str, Any]) -> list[str]:
        choices = options.get("choices")
        if not isinstance(choices, list):
            return []
        return [str(choice["next"]) for choice in choices if isinstance(choice, Mapping) and choice.get("next")]

    def prompt(self, run: FlowRun, step: StepDef, prompt: str) -> None:
        choices = self.choices(step)
        if run.mode == Mode.VOICE:
            spoken = " ".join(f"For {c['label']}, press {c['key']}." for c in choices)
            run.say(f"{prompt} {spoken} {AGENT_CHOICE_VOICE}".strip())
        else:
            listed = "\n".join(f"{c['key']}. {c['label']}" for c in choices)
            run.say(f"{prompt}\n{listed}\n{MENU_HINT_TEXT}".strip())
        run.turn.expect = {"kind": "menu", "choices": [str(c["key"]) for c in choices] + ["0"]}

    def answer(self, run: FlowRun, flow: FlowDef, step: StepDef, norm: str) -> Turn:
        choices = self.choices(step)
        key = match_choice(norm, [(str(c["key"]), str(c["label"])) for c in choices])
        if key is None:
            return run.retry(flow, step, NOT_AN_OPTION)
        choice = next(c for c in choices if str(c["key"]) == key)
        run.answers[str(step.options.get("variable") or step.key.replace("-", "_"))] = str(choice["label"])
        return self.answered(run, flow, str(choice["next"]))

    @staticmethod
    def choices(step: StepDef) -> list[Mapping[str, Any]]:
        return [c for c in step.options.get("choices", []) if isinstance(c, Mapping)]
