"""Datasets · TinyTalks build — generate the synthetic question–answer pairs, deterministically.

Connection map
    Prerequisites : the Python standard library, and ``atomic_write`` from tinytorch-foundation
    Teaches       : building an evaluation set that measures generalisation: templates
                    whose answers follow from the question, closed sets of facts that all
                    appear in training, and splits that hold out question *instances*
                    (a new phrasing of a known fact, a new pairing of known numbers),
                    never whole skills
    Unlocks       : the files ``tinytorch.datasets.load_tinytalks`` reads (Module 10's
                    trade-off study, Milestone 5)

Run from anywhere, and commit the result (running it twice gives identical bytes):

    python packages/tinytorch-foundation/scripts/generate_tinytalks.py

Three levels, each a set of skills; every skill has a few phrasings (templates):

* greetings — reply to a person by name ("hi, i am anna." -> "hello, anna!"), and fixed
  small talk ("how are you?" -> "i am fine, thanks!");
* facts — colours of things, capitals, opposites, animal sounds, baby animals: closed
  sets, each fact asked in several phrasings;
* reasoning — addition and subtraction of small numbers, comparisons, the numbers after
  and before, doubling, even or odd, first and last letters, word lengths, spelling.

Splitting. Questions that share a *key* (the same fact, the same pair of numbers, the
same name or word) form a group; a seeded hash holds out at most one phrasing of a group
for test and one for validation, and at least one always stays in training. So every
test question asks something training has shown in other words, and the model has to
generalise across phrasings — or compute the answer — rather than recall the line.

No randomness from ``random`` (its algorithms may change between Python versions): every
choice comes from SHA-256 of the item, so the output is identical everywhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tinytorch.files import atomic_write

SEED = "tinytalks-v1"
HOLDOUT_RATE = 0.1  # expected share of each split held out for test (and for validation)
SPLITS = ("train", "validation", "test")
LEVELS = ("greetings", "facts", "reasoning")
HEADER = "level\tskill\tquestion\tanswer"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = PACKAGE_ROOT / "src" / "tinytorch" / "datasets" / "data" / "tinytalks"


@dataclass(frozen=True)
class Pair:
    """One question with its answer; ``key`` groups the phrasings of the same question."""

    level: str
    skill: str
    key: str
    question: str
    answer: str


def unit(text: str) -> float:
    """A number in [0, 1) fixed by ``text`` (and the seed): our only source of chance."""
    digest = hashlib.sha256(f"{SEED}|{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# ----------------------------------------------------------------------------- level 1
# The tables below are data, laid out for reading; the formatter leaves them alone.
# fmt: off

NAMES = (
    "anna ben carla dan eva finn gina hugo ida jack kim leo mia ned olga paul rosa sam tina "
    "umar vera will yuri zoe alex bella chen dora eli fay gus hana ivan jill kai lara max "
    "nina omar pia"
).split()

# (skill, reply with {n} for the name, phrasings)
NAMED_GREETINGS = (
    ("hello", "hello, {n}!", ("hi, i am {n}.", "hello, my name is {n}.", "hey, i'm {n}.")),
    ("morning", "good morning, {n}!", ("good morning, i am {n}.", "morning! my name is {n}.")),
    ("night", "good night, {n}!", ("good night from {n}.", "it is late, {n} is going to bed.")),
    ("thanks", "you are welcome, {n}!", ("thank you, this is {n}.", "thanks a lot, i'm {n}.")),
    ("bye", "goodbye, {n}!", ("bye, this is {n}.", "see you later, i am {n}.")),
)

SMALL_TALK = (
    ("i am fine, thanks!", ("how are you?", "how are you today?", "how are you doing?",
                           "how do you feel?", "are you well?")),
    ("i am tinytalks.", ("what is your name?", "who are you?", "what are you called?",
                        "tell me your name.")),
    ("i answer questions.", ("what do you do?", "what can you do?", "what is your job?",
                            "what are you for?")),
    ("it is nice to talk.", ("do you like to talk?", "is it fun to talk?",
                            "do you enjoy talking?", "do you like chatting?")),
    ("hello!", ("hello!", "hi!", "hey!", "hello there!", "hi there!", "greetings!")),
    ("goodbye!", ("bye!", "goodbye!", "see you!", "bye bye!", "see you soon!")),
)

# fmt: on


def greetings() -> Iterator[Pair]:
    for skill, reply, phrasings in NAMED_GREETINGS:
        for n in NAMES:
            for template in phrasings:
                yield Pair("greetings", skill, n, template.format(n=n), reply.format(n=n))
    for reply, phrasings in SMALL_TALK:
        for question in phrasings:
            yield Pair("greetings", "small talk", reply, question, reply)


# ----------------------------------------------------------------------------- level 2
# fmt: off

COLOURS = {
    "sky": "blue", "sea": "blue", "grass": "green", "leaf": "green", "frog": "green",
    "lime": "green", "snow": "white", "milk": "white", "cloud": "white", "salt": "white",
    "coal": "black", "crow": "black", "ink": "black", "banana": "yellow", "lemon": "yellow",
    "sun": "yellow", "tomato": "red", "cherry": "red", "strawberry": "red", "blood": "red",
    "carrot": "orange", "pumpkin": "orange", "chocolate": "brown", "mud": "brown",
    "bear": "brown", "grape": "purple", "plum": "purple", "pig": "pink", "flamingo": "pink",
    "elephant": "grey", "mouse": "grey",
}
COLOUR_TEMPLATES = (
    "what colour is the {x}?", "what color is the {x}?", "tell me the colour of the {x}.",
    "the {x} is what colour?", "which colour is the {x}?",
)

CAPITALS = {
    "france": "paris", "spain": "madrid", "italy": "rome", "germany": "berlin",
    "japan": "tokyo", "china": "beijing", "egypt": "cairo", "kenya": "nairobi",
    "peru": "lima", "chile": "santiago", "cuba": "havana", "greece": "athens",
    "norway": "oslo", "sweden": "stockholm", "finland": "helsinki", "poland": "warsaw",
    "austria": "vienna", "ireland": "dublin", "portugal": "lisbon", "russia": "moscow",
    "canada": "ottawa", "brazil": "brasilia", "australia": "canberra", "turkey": "ankara",
    "iran": "tehran", "thailand": "bangkok", "vietnam": "hanoi", "ghana": "accra",
    "morocco": "rabat", "hungary": "budapest", "denmark": "copenhagen", "india": "new delhi",
    "argentina": "buenos aires", "mexico": "mexico city",
}
CAPITAL_TEMPLATES = (
    "what is the capital of {x}?", "which city is the capital of {x}?",
    "name the capital of {x}.", "the capital of {x} is?", "what city is the capital of {x}?",
)

OPPOSITE_PAIRS = (
    ("hot", "cold"), ("big", "small"), ("up", "down"), ("left", "right"), ("fast", "slow"),
    ("happy", "sad"), ("day", "night"), ("light", "dark"), ("open", "closed"), ("wet", "dry"),
    ("hard", "soft"), ("full", "empty"), ("early", "late"), ("rich", "poor"), ("tall", "short"),
    ("thick", "thin"), ("loud", "quiet"), ("strong", "weak"), ("clean", "dirty"), ("in", "out"),
    ("win", "lose"), ("push", "pull"), ("good", "bad"), ("first", "last"), ("buy", "sell"),
    ("near", "far"), ("top", "bottom"), ("true", "false"), ("north", "south"), ("east", "west"),
)
OPPOSITE_TEMPLATES = (
    "what is the opposite of {x}?", "give me the opposite of {x}.",
    "the opposite of {x} is?", "what word means the opposite of {x}?",
)

SOUNDS = {
    "cow": "moo", "dog": "woof", "cat": "meow", "duck": "quack", "sheep": "baa",
    "pig": "oink", "lion": "roar", "snake": "hiss", "horse": "neigh", "owl": "hoot",
    "bee": "buzz", "frog": "ribbit", "mouse": "squeak", "crow": "caw", "wolf": "howl",
    "dove": "coo", "goat": "maa", "donkey": "hee-haw", "turkey": "gobble", "chick": "cheep",
}
SOUND_TEMPLATES = (
    "what does a {x} say?", "what sound does a {x} make?", "which noise does a {x} make?",
    "how does a {x} sound?",
)

BABIES = {
    "cat": "kitten", "dog": "puppy", "cow": "calf", "sheep": "lamb", "horse": "foal",
    "duck": "duckling", "pig": "piglet", "goat": "kid", "frog": "tadpole", "bear": "cub",
    "kangaroo": "joey", "swan": "cygnet", "hen": "chick", "deer": "fawn", "owl": "owlet",
    "goose": "gosling", "eagle": "eaglet", "lion": "cub",
}
BABY_TEMPLATES = (
    "what is a baby {x} called?", "what do we call a young {x}?", "a baby {x} is called a?",
    "name a baby {x}.",
)

# fmt: on


def facts() -> Iterator[Pair]:
    relations = (
        ("colours", COLOURS, COLOUR_TEMPLATES),
        ("capitals", CAPITALS, CAPITAL_TEMPLATES),
        (
            "opposites",
            {**dict(OPPOSITE_PAIRS), **{b: a for a, b in OPPOSITE_PAIRS}},
            OPPOSITE_TEMPLATES,
        ),
        ("animal sounds", SOUNDS, SOUND_TEMPLATES),
        ("baby animals", BABIES, BABY_TEMPLATES),
    )
    for skill, table, templates in relations:
        for x, answer in table.items():
            for template in templates:
                yield Pair("facts", skill, x, template.format(x=x), answer)


# ----------------------------------------------------------------------------- level 3
# fmt: off

WORDS = (
    "cat dog sun sky cup hat pen box map egg bus car fox owl bee pig cow ant bed red "
    "tree fish bird frog milk book ship star moon rain snow lamp door ball cake duck "
    "apple lemon horse mouse river cloud chair table house bread tiger zebra sheep "
    "garden yellow rabbit planet orange pencil"
).split()

ARITHMETIC = {
    "addition": ("what is {a} plus {b}?", "add {a} and {b}.", "what is the sum of {a} and {b}?",
                 "{a} + {b} = ?"),
    "subtraction": ("what is {a} minus {b}?", "take {b} away from {a}.", "{a} - {b} = ?"),
}
COMPARE = {
    "bigger": ("which is bigger, {a} or {b}?", "which number is larger: {a} or {b}?"),
    "smaller": ("which is smaller, {a} or {b}?", "which number is less: {a} or {b}?"),
}
NEIGHBOURS = {
    "after": ("what comes after {n}?", "what number follows {n}?", "count on one from {n}."),
    "before": ("what comes before {n}?", "what number is just before {n}?",
               "count back one from {n}."),
}
DOUBLE = ("what is double {n}?", "what is twice {n}?", "what is {n} times two?")
PARITY = ("is {n} even or odd?", "is {n} an odd or an even number?", "odd or even: {n}?")
LETTERS = {
    "first letter": ("what is the first letter of {w}?", "which letter does {w} start with?",
                     "{w} begins with which letter?"),
    "last letter": ("what is the last letter of {w}?", "which letter does {w} end with?",
                    "{w} ends with which letter?"),
}
LENGTH = ("how many letters are in {w}?", "how long is the word {w}?",
          "count the letters in {w}.")
SPELL = ("spell {w}.", "how do you spell {w}?", "please spell the word {w}.")

# fmt: on


def reasoning() -> Iterator[Pair]:
    def make(skill: str, key: str, templates: tuple[str, ...], answer: str, **slots: object):
        for template in templates:
            yield Pair("reasoning", skill, key, template.format(**slots), answer)

    for a in range(10):
        for b in range(10):
            yield from make("addition", f"{a}+{b}", ARITHMETIC["addition"], str(a + b), a=a, b=b)
            if a >= b:
                yield from make(
                    "subtraction", f"{a}-{b}", ARITHMETIC["subtraction"], str(a - b), a=a, b=b
                )
            if a != b:
                for skill, templates in COMPARE.items():
                    answer = max(a, b) if skill == "bigger" else min(a, b)
                    yield from make(skill, f"{skill} {a} {b}", templates, str(answer), a=a, b=b)
    for n in range(31):
        yield from make("after", f"after {n}", NEIGHBOURS["after"], str(n + 1), n=n)
        if n > 0:
            yield from make("before", f"before {n}", NEIGHBOURS["before"], str(n - 1), n=n)
        if n <= 20:
            yield from make("double", f"double {n}", DOUBLE, str(2 * n), n=n)
        yield from make("parity", f"parity {n}", PARITY, "even" if n % 2 == 0 else "odd", n=n)
    for w in WORDS:
        yield from make("first letter", f"first {w}", LETTERS["first letter"], w[0], w=w)
        yield from make("last letter", f"last {w}", LETTERS["last letter"], w[-1], w=w)
        yield from make("word length", f"length {w}", LENGTH, str(len(w)), w=w)
        yield from make("spelling", f"spell {w}", SPELL, " ".join(w), w=w)


# ----------------------------------------------------------------------------- splits


def all_pairs() -> list[Pair]:
    """Every pair, checked: no question asked twice, no empty text, no tabs or newlines."""
    pairs = [*greetings(), *facts(), *reasoning()]
    seen: dict[str, str] = {}
    for p in pairs:
        for text in (p.question, p.answer):
            if not text or text != text.strip() or any(c in text for c in "\t\n\r"):
                raise ValueError(f"generate_tinytalks: bad text {text!r} in {p}")
        if p.question in seen:
            raise ValueError(f"generate_tinytalks: question asked twice: {p.question!r}")
        seen[p.question] = p.answer
    return pairs


def split_pairs(pairs: list[Pair]) -> dict[str, list[Pair]]:
    """Hold out at most one phrasing per group for test and one for validation.

    A group of g phrasings gives one of them to test with probability 0.1·g (so about
    10% of all pairs end up in test), likewise for validation, and always keeps at
    least one phrasing in training. Which phrasing, and whether, is decided by hashes.
    """
    groups: dict[tuple[str, str], list[Pair]] = {}
    for p in pairs:
        groups.setdefault((p.skill, p.key), []).append(p)
    assigned: dict[Pair, str] = {}
    for (skill, key), members in groups.items():
        order = sorted(members, key=lambda p: unit(p.question))
        size = len(order)
        take_test = size >= 2 and unit(f"test|{skill}|{key}") < HOLDOUT_RATE * size
        take_val = size >= 2 + take_test and unit(f"val|{skill}|{key}") < HOLDOUT_RATE * size
        for i, p in enumerate(order):
            if take_test and i == 0:
                assigned[p] = "test"
            elif take_val and i == int(take_test):
                assigned[p] = "validation"
            else:
                assigned[p] = "train"
    return {split: [p for p in pairs if assigned[p] == split] for split in SPLITS}


def tsv(pairs: list[Pair]) -> bytes:
    lines = [HEADER, *(f"{p.level}\t{p.skill}\t{p.question}\t{p.answer}" for p in pairs)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def build() -> dict[str, bytes]:
    """File name -> bytes of everything shipped: three TSV splits and a manifest."""
    splits = split_pairs(all_pairs())
    files = {f"{split}.tsv": tsv(pairs) for split, pairs in splits.items()}
    manifest = {
        "name": "TinyTalks",
        "version": 1,
        "generator": "scripts/generate_tinytalks.py",
        "seed": SEED,
        "columns": HEADER.split("\t"),
        "splits": {
            split: {
                "file": f"{split}.tsv",
                "pairs": len(pairs),
                "sha256": hashlib.sha256(files[f"{split}.tsv"]).hexdigest(),
                "levels": {level: sum(p.level == level for p in pairs) for level in LEVELS},
            }
            for split, pairs in splits.items()
        },
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return files


def summary(files: dict[str, bytes]) -> str:
    manifest = json.loads(files["manifest.json"])
    rows = [f"{'split':<12}" + "".join(f"{level:>11}" for level in LEVELS) + f"{'total':>8}"]
    for split, info in manifest["splits"].items():
        cells = "".join(f"{info['levels'][level]:>11}" for level in LEVELS)
        rows.append(f"{split:<12}{cells}{info['pairs']:>8}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate the TinyTalks question-answer files.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    files = build()
    for name, data in files.items():
        with atomic_write(args.out / name) as file:  # readers see the old file or the new one
            file.write(data)
    print(f"wrote {len(files)} files to {args.out}")
    print(summary(files))


if __name__ == "__main__":
    main()
