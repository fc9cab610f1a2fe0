"""Which replies are phatic, so they may be reused with another contact."""

from __future__ import annotations

import unicodedata

import pytest

from twin_core.memory.phatic import (
    MAX_CHARS,
    SAMPLE_NOT_PHATIC,
    SAMPLE_PHATIC,
    VOCABULARY,
    is_phatic,
    phatic_units,
)

PHATIC = [
    # English
    "thanks",
    "Thanks!",
    "thank you so much!!",
    "THANK YOU",
    "thx",
    "ty",
    "cheers mate",
    "hi",
    "hey there",
    "Good morning!",
    "good night",
    "gn 😴",
    "bye!",
    "see ya",
    "talk soon",
    "ok",
    "OK.",
    "okay",
    "k",
    "kk",
    "alright",
    "sounds good",
    "Sounds good, see you!",
    "sure",
    "got it",
    "cool",
    "cool cool cool",
    "perfect, thanks",
    "no worries",
    "np",
    "you're welcome",
    "you’re welcome",
    "on my way",
    "omw!",
    "take care",
    "have fun!",
    "have a great weekend",
    "haha ok thanks!",
    "lol",
    "lmao",
    "hahahaha",
    "hehe",
    "I'm good, thanks! And you?",
    "thank you, you too",
    "love you too ❤️",
    "xoxo",
    "congrats!! 🎉",
    "oh no, so sorry to hear that",
    # stretched letters
    "thaaanks",
    "okkk",
    "sooo goood",
    "byeeee",
    "heyyy",
    "yesss",
    "coooool",
    "thank youuuu",
    # emoji and emoticons
    "👍",
    "👍🏽",
    "❤️",
    "😂😂",
    "🙏",
    "🤷\u200d♀️",
    ":)",
    ":-)))",
    ":D",
    "xD",
    "XDDD",
    "<3",
    ":P",
    "^_^",
    "¯\\_(ツ)_/¯",
    "ok 👍",
    "thanks 🙏🙏",
    # German
    "Danke!",
    "vielen Dank",
    "danke schön 😊",
    "alles klar, bis später",
    "Tschüß",
    "tschuss",
    "gute Nacht",
    "passt schon",
    "kein Problem",
    # Spanish
    "¡gracias!",
    "muchas gracias",
    "jajaja",
    "jajaja vale",
    "de nada",
    "buenas noches",
    "está bien",
    "esta bien",
    "nos vemos",
    # French
    "merci",
    "Merci beaucoup !",
    "d'accord, à bientôt",
    "ça marche",
    "ca marche",
    "mdr",
    "de rien",
    "bonne nuit",
    # Italian
    "grazie mille",
    "ahahah",
    "va bene, ci vediamo",
    "prego",
    "buonanotte",
    # Portuguese
    "obrigado!",
    "obrigada 😘",
    "kkkkk",
    "rsrs valeu",
    "tudo bem?",
    "por nada",
    "beleza",
    # Dutch
    "dank je wel",
    "bedankt!",
    "prima, tot straks",
    "doei",
    "graag gedaan",
    # Russian
    "спасибо",
    "спасибо)))",
    "Спасибо большое!",
    "ок",
    "хахаха, круто",
    "спокойной ночи",
    "пока",
    "всё хорошо",
    "все хорошо",
    # Chinese
    "谢谢",
    "謝謝",
    "哈哈哈",
    "好的",
    "好的，谢谢！",
    "好的好的",
    "收到",
    "没问题",
    "晚安",
    "hhhh",
    # Japanese
    "ありがとう",
    "ありがとうございます！",
    "了解",
    "了解です",
    "ありがとう（笑）",
    "おやすみなさい😴",
    "www",
    "お疲れ様です",
    # Korean
    "ㅋㅋㅋ",
    "ㅎㅎ",
    "감사합니다",
    "고마워요~",
    "ㅋㅋ 알겠어요",
    "ㅋㅋㅋ감사합니다",
    "잘 자",
    "ㅇㅋ",
    # Thai
    "ขอบคุณครับ",
    "สวัสดีค่ะ",
    # several languages in one reply
    "ok merci",
    "ok谢谢",
    "thanks ありがとう",
    "ok спасибо",
    # fullwidth and stylised letters read as the letters they are
    "ＯＫ",
    "ｔｈａｎｋｓ",
    # zero-width characters are removed, not counted
    "o\u200bk",
    "thanks\u200d",
]

NOT_PHATIC = [
    # information after, before or between phatic words
    "ok the code is 4472",
    "thanks, the code is 4472",
    "haha the key is under the flowerpot",
    "the key is under the flowerpot haha",
    "yes, the key is under the flowerpot",
    "thanks for the bank details",
    "not great. Jenny got the cancer diagnosis last week",
    "sure, I'll pay you back",
    "see you tomorrow",
    "see you at Luigi's",
    "see you at 7",
    "ok see you at seven",
    "thanks Jenny",
    "hi Jenny",
    "ok Paul",
    "haha she said yes",
    "lol they broke up",
    "thanks, I'll transfer it on Friday",
    "good night, the alarm code is in the drawer",
    "ok I'm at the hospital",
    # bare answers carry what was asked
    "no",
    "nope",
    "maybe",
    "right",
    "later",
    "tomorrow",
    "morning",
    # digits in any script, with or without phatic words
    "4472",
    "ok 4472",
    "haha 4472",
    "4472 thanks",
    "thanks ４４７２",
    "４４７２",
    "ok ٤٤٧٢",
    "ok ①",
    "ok Ⅳ",
    "thanks²",
    "1️⃣",
    "12:30",
    # numbers written as words are not vocabulary
    "four four seven two",
    "ok four",
    "thanks, one two three",
    "门密码是四四七二",
    "好的，密码是四四七二",
    "好的密码是四四七二",
    "谢谢四四七二",
    "我的银行卡号是六二二二",
    "暗証番号は四四七二です",
    "비밀번호는 사칠칠이",
    # plans in other languages
    "bis morgen",
    "hasta mañana",
    "à demain",
    "a domani",
    "até amanhã",
    "tot morgen",
    "до завтра",
    "明天见",
    "また明日",
    "내일 봐",
    "Das Passwort ist Sonnenblume",
    "пароль котик",
    # invisible characters must not help
    "4\u200b4\u200b7\u200b2",
    "o\u200bk the co\u200bde is 4\u200b472",
    "ok\U000e0063\U000e006f\U000e0064\U000e0065",  # tag characters spell "code"
    "👍\ufe0f\ufe0f\ufe0f",  # a run of variation selectors
    "👍\U000e0101\U000e0102",
    "👍🏻🏼",
    "o\u0335k",  # a combining mark NFKC does not compose
    "ok\ufe0f",
    "thanks\x00",
    "ok\x1b[K",
    "ok\x1b]0;title\x07",
    # homoglyphs: Cyrillic о inside Latin "ok", Greek "οκ"
    "оk",
    "tһanks",
    "οκ",
    # emoji that say something, other symbols
    "✈️🇯🇵",
    "🏠🔑🌷",
    "🍕",
    "😷",
    "ok 💰",
    "€€€",
    "ok $",
    "thanks →",
    # too long, however phatic
    "ok " * 50,
    "ok " * 13,
    "谢谢" * 50,
    "😂" * (MAX_CHARS + 1),
    "haha" * 21,
    # nothing to go on
    "",
    " ",
    "\n\t",
    "\u200b",
    "!!!",
    "?",
    "...",
    # scripts without vocabulary here
    "ευχαριστώ",
    "شكرا",
    "תודה",
    "धन्यवाद",
    # scripts without spaces match whole phrases, not characters: "谢谢" is, "谢" is not
    "谢",
    "谢谢谢",
    "明",
]


@pytest.mark.parametrize("text", PHATIC)
def test_phatic_replies_are_recognised(text: str) -> None:
    assert is_phatic(text), phatic_units(text)


@pytest.mark.parametrize("text", NOT_PHATIC)
def test_replies_with_anything_else_are_not_phatic(text: str) -> None:
    assert not is_phatic(text), phatic_units(text)
    assert phatic_units(text) is None


def test_tables_are_large_enough() -> None:
    assert len(PHATIC) >= 80
    assert len(NOT_PHATIC) >= 80


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("haha ok thanks!", ["haha", "ok", "thanks"]),
        ("Sounds good, see you!", ["sounds good", "see you"]),
        ("thank you so much 🙏", ["thank you so much", "🙏"]),
        ("thaaanks", ["thaaanks"]),
        ("好的，谢谢！", ["好的", "谢谢"]),
        ("ありがとう（笑）", ["ありがとう", "笑"]),
        ("спасибо)))", ["спасибо", ")))"]),
        ("❤️ <3", ["❤", "<3"]),
        ("ok the code is 4472", None),
        ("thanks Jenny", None),
    ],
)
def test_units_explain_the_decision(text: str, units: list[str] | None) -> None:
    assert phatic_units(text) == units


@pytest.mark.parametrize(
    ("word", "phatic"),
    [
        ("good", True),
        ("goood", True),
        ("god", False),  # a letter fewer is another word
        ("cool", True),
        ("cooool", True),
        ("col", False),
        ("okkkk", True),
        ("спасибооо", True),
        ("ありがとう", True),
        ("ありがと", False),
    ],
)
def test_held_letters_match_but_missing_letters_do_not(word: str, phatic: bool) -> None:
    assert is_phatic(word) is phatic


@pytest.mark.parametrize("secret", [t for t in SAMPLE_NOT_PHATIC if t])
@pytest.mark.parametrize("wrap", ["haha {}", "{} haha", "thanks! {}", "{} thanks", "ok {} 👍"])
def test_phatic_words_around_a_secret_do_not_make_it_phatic(secret: str, wrap: str) -> None:
    assert not is_phatic(wrap.format(secret))


@pytest.mark.parametrize("secret", [t for t in SAMPLE_NOT_PHATIC if t])
@pytest.mark.parametrize("invisible", ["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e"])
def test_invisible_characters_inside_a_secret_do_not_make_it_phatic(
    secret: str, invisible: str
) -> None:
    assert not is_phatic(invisible.join(secret))


def test_a_phatic_word_repeated_past_the_limits_is_not_phatic() -> None:
    assert is_phatic(" ".join(["ok"] * 12))
    assert not is_phatic(" ".join(["ok"] * 13))
    assert not is_phatic("thanks " * 50)


def test_samples_for_the_benchmark() -> None:
    assert 50 <= len(SAMPLE_PHATIC) <= 80
    assert 50 <= len(SAMPLE_NOT_PHATIC) <= 80
    assert [t for t in SAMPLE_PHATIC if not is_phatic(t)] == []
    assert [t for t in SAMPLE_NOT_PHATIC if is_phatic(t)] == []


REQUIRED_LANGUAGES = ["en", "de", "es", "fr", "it", "pt", "nl", "ru", "zh", "ja", "ko"]


@pytest.mark.parametrize("language", REQUIRED_LANGUAGES)
def test_every_language_has_a_vocabulary(language: str) -> None:
    assert len([line for line in VOCABULARY[language].splitlines() if line.strip()]) >= 40


@pytest.mark.parametrize(
    ("language", "phrase"),
    [
        (language, line.strip())
        for language, block in VOCABULARY.items()
        for line in block.splitlines()
        if line.strip()
    ],
)
def test_every_vocabulary_phrase_is_phatic_on_its_own(language: str, phrase: str) -> None:
    assert is_phatic(phrase), (language, phrase)
    assert not any(unicodedata.category(char).startswith("N") for char in phrase)
