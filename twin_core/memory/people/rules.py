"""Rules that find promises and facts in one message, without any language model.

A promise is the speaker's own firm future act toward the other person: a first-person
subject, a future (or, where the language says the future with the present tense, a
present plus a date), and an act from a list ("send", "call", "pay", ...). Sentences
that only look like one are left alone: questions ("shall I call you?"), negations
("I won't call"), hedges ("maybe I'll call"), conditions ("if I can, I'll call") and
reports of the past ("I sent it").

A fact is something the speaker states about themselves, in a fixed form per kind
("my birthday is on 3 May", "ich bin allergisch gegen Nüsse", "vivo en Sevilla").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo

from twin_core.memory.people.dates import DATE_EXPRESSION, Due, find_due, resolve
from twin_core.memory.people.language import LANGUAGES, detect

FLAGS = re.IGNORECASE | re.UNICODE
_A = r"(?:'|’)"  # an apostrophe, typed either way


@dataclass(frozen=True, slots=True)
class FoundCommitment:
    sentence: str
    action: str
    due: Due | None
    confidence: float


@dataclass(frozen=True, slots=True)
class FoundFact:
    kind: str
    value: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Extraction:
    language: str
    commitments: list[FoundCommitment]
    facts: list[FoundFact]


# -- promises ------------------------------------------------------------------------

# verb as written -> the act's name
_EN_ACTS = {
    "send": "send",
    "share": "send",
    "forward": "send",
    "mail": "send",
    "upload": "send",
    "call": "call",
    "ring": "call",
    "phone": "call",
    "text": "write",
    "email": "write",
    "e-mail": "write",
    "write": "write",
    "message": "write",
    "ping": "write",
    "bring": "bring",
    "return": "return",
    "give": "give",
    "lend": "give",
    "pay": "pay",
    "transfer": "pay",
    "venmo": "pay",
    "check": "check",
    "look into": "check",
    "get back": "reply",
    "let you know": "tell",
    "tell": "tell",
    "confirm": "tell",
    "update": "tell",
    "book": "book",
    "reserve": "book",
    "buy": "buy",
    "get": "buy",
    "pick": "pick up",
    "drop": "drop off",
    "fix": "do",
    "finish": "do",
    "review": "do",
    "sign": "do",
    "prepare": "do",
    "organise": "do",
    "organize": "do",
    "order": "buy",
    "help": "help",
    "handle": "do",
    "take care": "do",
    "come by": "visit",
    "come over": "visit",
    "stop by": "visit",
    "remind": "remind",
    "print": "do",
    "invite": "invite",
    "follow up": "reply",
    "sort out": "do",
    "make": "do",
}
_DE_ACTS = {
    "schick": "send",
    "schicke": "send",
    "schicken": "send",
    "sende": "send",
    "senden": "send",
    "leite": "send",
    "weiterleiten": "send",
    "ruf": "call",
    "rufe": "call",
    "anrufen": "call",
    "zurückrufen": "call",
    "bring": "bring",
    "bringe": "bring",
    "bringen": "bring",
    "vorbeibringen": "bring",
    "zahl": "pay",
    "zahle": "pay",
    "zahlen": "pay",
    "überweise": "pay",
    "überweisen": "pay",
    "zurückzahlen": "pay",
    "melde": "reply",
    "melden": "reply",
    "kümmere": "do",
    "kümmern": "do",
    "gebe": "give",
    "geb": "give",
    "geben": "give",
    "zurückgeben": "return",
    "kaufe": "buy",
    "kaufen": "buy",
    "besorge": "buy",
    "besorgen": "buy",
    "hole": "pick up",
    "hol": "pick up",
    "holen": "pick up",
    "abholen": "pick up",
    "buche": "book",
    "buchen": "book",
    "reserviere": "book",
    "reservieren": "book",
    "schreibe": "write",
    "schreib": "write",
    "schreiben": "write",
    "prüfe": "check",
    "prüfen": "check",
    "checke": "check",
    "erledige": "do",
    "erledigen": "do",
    "mache": "do",
    "mach": "do",
    "machen": "do",
    "sag": "tell",
    "sage": "tell",
    "sagen": "tell",
    "bestätige": "tell",
    "bestätigen": "tell",
    "leihe": "give",
    "leihen": "give",
    "vorbeikommen": "visit",
    "komme": "visit",
    "kommen": "visit",
    "teile": "send",
    "teilen": "send",
    "lese": "check",
    "lesen": "check",
    "bestelle": "buy",
    "bestellen": "buy",
    "helfe": "help",
    "helfen": "help",
    "fahre": "visit",
    "kläre": "do",
    "klären": "do",
    "frage": "tell",
    "fragen": "tell",
}
_ES_ACTS = {
    "enviar": "send",
    "mandar": "send",
    "pasar": "send",
    "compartir": "send",
    "reenviar": "send",
    "llamar": "call",
    "escribir": "write",
    "devolver": "return",
    "pagar": "pay",
    "transferir": "pay",
    "traer": "bring",
    "llevar": "bring",
    "avisar": "tell",
    "confirmar": "tell",
    "decir": "tell",
    "comprar": "buy",
    "reservar": "book",
    "revisar": "check",
    "mirar": "check",
    "preparar": "do",
    "hacer": "do",
    "dar": "give",
    "prestar": "give",
    "buscar": "pick up",
    "recoger": "pick up",
    "ayudar": "help",
    "encargar": "do",
    "pedir": "buy",
    "terminar": "do",
    "acabar": "do",
    "llamarte": "call",
    "escribirte": "write",
    "mandarte": "send",
    "enviarte": "send",
}
_ES_FUTURE = {
    "enviaré": "send",
    "mandaré": "send",
    "pasaré": "send",
    "compartiré": "send",
    "llamaré": "call",
    "escribiré": "write",
    "devolveré": "return",
    "pagaré": "pay",
    "transferiré": "pay",
    "traeré": "bring",
    "llevaré": "bring",
    "avisaré": "tell",
    "confirmaré": "tell",
    "diré": "tell",
    "compraré": "buy",
    "reservaré": "book",
    "revisaré": "check",
    "miraré": "check",
    "prepararé": "do",
    "haré": "do",
    "daré": "give",
    "prestaré": "give",
    "buscaré": "pick up",
    "recogeré": "pick up",
    "ayudaré": "help",
    "encargaré": "do",
}
_ES_PRESENT = {
    "envío": "send",
    "mando": "send",
    "paso": "send",
    "reenvío": "send",
    "llamo": "call",
    "escribo": "write",
    "devuelvo": "return",
    "pago": "pay",
    "transfiero": "pay",
    "traigo": "bring",
    "llevo": "bring",
    "aviso": "tell",
    "confirmo": "tell",
    "digo": "tell",
    "compro": "buy",
    "reservo": "book",
    "reviso": "check",
    "miro": "check",
    "preparo": "do",
    "hago": "do",
    "doy": "give",
    "presto": "give",
    "busco": "pick up",
    "recojo": "pick up",
    "encargo": "do",
}
_FR_INFINITIVE = {
    "envoyer": "send",
    "transférer": "send",
    "partager": "send",
    "appeler": "call",
    "rappeler": "call",
    "écrire": "write",
    "rendre": "return",
    "payer": "pay",
    "rembourser": "pay",
    "apporter": "bring",
    "ramener": "bring",
    "confirmer": "tell",
    "dire": "tell",
    "acheter": "buy",
    "réserver": "book",
    "vérifier": "check",
    "regarder": "check",
    "préparer": "do",
    "faire": "do",
    "donner": "give",
    "prêter": "give",
    "chercher": "pick up",
    "récupérer": "pick up",
    "aider": "help",
    "occuper": "do",
    "passer": "visit",
    "commander": "buy",
    "finir": "do",
    "terminer": "do",
}
_FR_FUTURE = {
    "enverrai": "send",
    "transférerai": "send",
    "partagerai": "send",
    "appellerai": "call",
    "rappellerai": "call",
    "écrirai": "write",
    "rendrai": "return",
    "paierai": "pay",
    "payerai": "pay",
    "rembourserai": "pay",
    "apporterai": "bring",
    "ramènerai": "bring",
    "confirmerai": "tell",
    "dirai": "tell",
    "achèterai": "buy",
    "réserverai": "book",
    "vérifierai": "check",
    "regarderai": "check",
    "préparerai": "do",
    "ferai": "do",
    "donnerai": "give",
    "prêterai": "give",
    "chercherai": "pick up",
    "récupérerai": "pick up",
    "aiderai": "help",
    "occuperai": "do",
    "passerai": "visit",
}
_FR_PRESENT = {
    "envoie": "send",
    "transfère": "send",
    "appelle": "call",
    "rappelle": "call",
    "écris": "write",
    "rends": "return",
    "paie": "pay",
    "paye": "pay",
    "rembourse": "pay",
    "apporte": "bring",
    "ramène": "bring",
    "confirme": "tell",
    "dis": "tell",
    "achète": "buy",
    "réserve": "book",
    "vérifie": "check",
    "prépare": "do",
    "fais": "do",
    "donne": "give",
    "prête": "give",
    "récupère": "pick up",
    "occupe": "do",
    "passe": "visit",
    "regarde": "check",
    "commande": "buy",
    "finis": "do",
    "termine": "do",
}


def _words(table: dict[str, str]) -> str:
    return "|".join(sorted((re.escape(w) for w in table), key=len, reverse=True))


_EN_ADVERBS = (
    r"(?:(?:definitely|totally|just|quickly|also|then|first|still|really|surely|"
    r"certainly|absolutely|happily|gladly|make sure to|be sure to|make sure i|"
    r"go ahead and|go and)\s+)*"
)
_COMMIT_EN = re.compile(
    rf"\b(?:i|we)(?:{_A}ll|{_A}m going to|{_A}re going to|{_A}m gonna| will| shall|"
    r" am going to| are going to| am gonna| promise(?: to| i"
    + _A
    + r"ll| i will)?)\s+"
    + _EN_ADVERBS
    + rf"(?P<verb>{_words(_EN_ACTS)})\b",
    FLAGS,
)
_COMMIT_EN_LET = re.compile(
    r"\blet me (?P<verb>send|call|check|get back|look into|transfer|pay|forward|book)\b", FLAGS
)
_COMMIT_EN_PROGRESSIVE = re.compile(
    r"\b(?:i" + _A + r"m|i am|we" + _A + r"re|we are) (?P<verb>sending|calling|bringing|paying|"
    r"dropping|picking|booking|returning)\b",
    FLAGS,
)
_PROGRESSIVE_ACTS = {
    "sending": "send",
    "calling": "call",
    "bringing": "bring",
    "paying": "pay",
    "dropping": "drop off",
    "picking": "pick up",
    "booking": "book",
    "returning": "return",
}

_DE_PRESENT_VERBS = _words({k: v for k, v in _DE_ACTS.items() if not k.endswith("en")})
_COMMIT_DE_WERDE = re.compile(
    r"\b(?:ich|wir) (?:werde|werd|werden)\b[^.!?;]{0,60}?\b(?P<verb>"
    + _words({k: v for k, v in _DE_ACTS.items() if k.endswith("en")})
    + r")\b",
    FLAGS,
)
_DE_PLURAL_VERBS = _words({k: v for k, v in _DE_ACTS.items() if k.endswith("en")})
_COMMIT_DE_PRESENT = re.compile(
    rf"\bich (?P<verb>{_DE_PRESENT_VERBS})\b|\b(?P<verb2>{_DE_PRESENT_VERBS}) ich\b|"
    rf"\bwir (?P<verb3>{_DE_PLURAL_VERBS})\b|\b(?P<verb4>{_DE_PLURAL_VERBS}) wir\b",
    FLAGS,
)
_DE_DONE_ALONE = re.compile(
    r"\b(?:ich kümmere mich|ich melde mich|mach ich|wird gemacht|versprochen)\b", FLAGS
)

_ES_PRONOUNS = r"(?:(?:te|le|os|les|se|lo|la|los|las|me)\s+)*"
_COMMIT_ES_VOY = re.compile(
    rf"\b{_ES_PRONOUNS}(?:voy|vamos) a (?P<verb>{_words(_ES_ACTS)})(?:te|le|lo|la|los|las|se)*\b",
    FLAGS,
)
_COMMIT_ES_FUTURE = re.compile(rf"\b(?P<verb>{_words(_ES_FUTURE)})(?!\w)", FLAGS)
_COMMIT_ES_PRESENT = re.compile(
    r"\b(?:te|le|os|les|se)\s+(?:(?:lo|la|los|las)\s+)?(?P<verb>"
    + _words(_ES_PRESENT)
    + r")(?!\w)",
    FLAGS,
)

_FR_PRONOUNS = r"(?:(?:te|t'|t’|vous|lui|leur|le|la|les|l'|l’|en|m'|m’)\s*)*"
_COMMIT_FR_VAIS = re.compile(
    rf"\b(?:je|on|nous) {_FR_PRONOUNS}(?:vais|va|allons) {_FR_PRONOUNS}"
    rf"(?P<verb>{_words(_FR_INFINITIVE)})\b",
    FLAGS,
)
_COMMIT_FR_FUTURE = re.compile(
    rf"(?:\bje |\bj'|\bj’){_FR_PRONOUNS}(?P<verb>{_words(_FR_FUTURE)})\b", FLAGS
)
_COMMIT_FR_PRESENT = re.compile(rf"\bje {_FR_PRONOUNS}(?P<verb>{_words(_FR_PRESENT)})\b", FLAGS)
_FR_DONE_ALONE = re.compile(r"\bje m(?:'|’)en occupe\b", FLAGS)

_NEGATION = {
    "en": re.compile(
        rf"\b(?:won{_A}t|will not|wont|never|not|can{_A}t|cannot|couldn{_A}t|don{_A}t|"
        r"didn" + _A + r"t|no way)\b",
        FLAGS,
    ),
    "de": re.compile(r"\b(?:nicht|nie|niemals|kein|keine|keinen|nichts)\b", FLAGS),
    "es": re.compile(r"\b(?:no|nunca|jamás|tampoco)\b", FLAGS),
    "fr": re.compile(rf"\b(?:ne|n{_A}|pas|jamais|plus rien)\b|\bn{_A}", FLAGS),
}
_HEDGE = {
    "en": re.compile(
        r"\b(?:maybe|might|probably|perhaps|possibly|hopefully|try to|should be able|"
        r"may|could|would|i think i|i guess)\b",
        FLAGS,
    ),
    "de": re.compile(
        r"\b(?:vielleicht|wahrscheinlich|eventuell|evtl|versuche|versuch|würde|könnte|"
        r"glaube ich|mal sehen)\b",
        FLAGS,
    ),
    "es": re.compile(
        r"\b(?:quizás|quizá|tal vez|a lo mejor|igual|intentaré|intento|probablemente|"
        r"podría|creo que)\b",
        FLAGS,
    ),
    "fr": re.compile(
        r"\b(?:peut-être|probablement|essaierai|essaie|essayer|pourrais|pourrait|"
        r"je crois|je pense)\b",
        FLAGS,
    ),
}
_CONDITION = {
    "en": re.compile(r"\b(?:if|unless|in case|whether)\b", FLAGS),
    "de": re.compile(r"\b(?:wenn|falls|ob)\b", FLAGS),
    "es": re.compile(r"\b(?:si|en caso de que)\b", FLAGS),
    "fr": re.compile(r"\b(?:si|s'il|s’il|au cas où)\b", FLAGS),
}
_REPORTED = re.compile(
    r"\b(?:said|told you|promised|sagte|gesagt|versprochen hatte|dije|dijiste|"
    r"prometí|j'avais dit|j’avais dit|avais promis)\b",
    FLAGS,
)
_SENTENCE_END = re.compile(r"(?<=[!?])\s+|(?<=[^\d\s.][.])\s+|\n+", re.UNICODE)


def sentences(text: str) -> Iterator[tuple[str, bool]]:
    """Each sentence of `text`, and whether it is a question. A full stop after a
    number ("am 3. Mai") does not end one."""
    for part in _SENTENCE_END.split(text):
        sentence = part.strip()
        if sentence:
            yield sentence, sentence.endswith("?") or sentence.startswith("¿")


_SOON = re.compile(
    r"\b(?:as soon as|right away|later|sobald|gleich|nachher|später|sofort|en cuanto|luego|"
    r"ahora mismo|enseguida|dès que|tout de suite|plus tard|tout à l'heure|tout à l’heure)\b",
    FLAGS,
)
_CLAUSE_BREAK = re.compile(r"[,;:]|\s(?:but|aber|pero|mais|and then)\s", FLAGS)


def _clause(sentence: str, at: int) -> str:
    """The part of `sentence` around position `at` between commas (or a "but"): a
    "not" in another clause ("Don't worry, I'll call") says nothing of this one."""
    start = 0
    end = len(sentence)
    for match in _CLAUSE_BREAK.finditer(sentence):
        if match.end() <= at:
            start = match.end()
        elif match.start() >= at:
            end = match.start()
            break
    return sentence[start:end]


def _promise(sentence: str, language: str) -> tuple[str, int, float] | None:
    """(act, where the promise starts, confidence) when `sentence` makes one in
    `language`."""
    has_date = DATE_EXPRESSION.search(sentence) is not None or _SOON.search(sentence) is not None
    if language == "en":
        for pattern, acts, needs_date in (
            (_COMMIT_EN, _EN_ACTS, False),
            (_COMMIT_EN_LET, _EN_ACTS, False),
            (_COMMIT_EN_PROGRESSIVE, _PROGRESSIVE_ACTS, True),
        ):
            match = pattern.search(sentence)
            if match and (has_date or not needs_date):
                return acts[match.group("verb").casefold()], match.start(), 0.85
    elif language == "de":
        match = _COMMIT_DE_WERDE.search(sentence)
        if match:
            return _DE_ACTS[match.group("verb").casefold()], match.start(), 0.85
        match = _COMMIT_DE_PRESENT.search(sentence)
        if match and (has_date or _DE_DONE_ALONE.search(sentence)):
            verb = next(v for v in match.groups() if v).casefold()
            return _DE_ACTS[verb], match.start(), 0.8
        match = _DE_DONE_ALONE.search(sentence)
        if match:
            return "do", match.start(), 0.7
    elif language == "es":
        match = _COMMIT_ES_VOY.search(sentence)
        if match:
            return _ES_ACTS[match.group("verb").casefold()], match.start(), 0.85
        match = _COMMIT_ES_FUTURE.search(sentence)
        if match:
            return _ES_FUTURE[match.group("verb").casefold()], match.start(), 0.8
        match = _COMMIT_ES_PRESENT.search(sentence)
        if match and has_date:
            return _ES_PRESENT[match.group("verb").casefold()], match.start(), 0.8
    elif language == "fr":
        match = _COMMIT_FR_VAIS.search(sentence)
        if match:
            return _FR_INFINITIVE[match.group("verb").casefold()], match.start(), 0.85
        match = _COMMIT_FR_FUTURE.search(sentence)
        if match:
            return _FR_FUTURE[match.group("verb").casefold()], match.start(), 0.8
        match = _COMMIT_FR_PRESENT.search(sentence)
        if match and has_date:
            return _FR_PRESENT[match.group("verb").casefold()], match.start(), 0.8
        match = _FR_DONE_ALONE.search(sentence)
        if match:
            return "do", match.start(), 0.7
    return None


def find_commitments(
    text: str, sent_at: datetime, zone: tzinfo, language: str
) -> list[FoundCommitment]:
    found: list[FoundCommitment] = []
    languages = [language] if language else list(LANGUAGES)
    for sentence, question in sentences(text):
        if question:
            continue
        for lang in languages:
            promise = _promise(sentence, lang)
            if promise is None:
                continue
            act, start, confidence = promise
            before = sentence[:start]
            clause = _clause(sentence, start)
            if (
                _NEGATION[lang].search(clause)
                or _HEDGE[lang].search(clause)
                or _CONDITION[lang].search(before)
                or _REPORTED.search(before)
            ):
                break
            due = find_due(sentence, sent_at, zone, lang)
            found.append(FoundCommitment(sentence, act, due, confidence))
            break
    return found


# -- facts ---------------------------------------------------------------------------

_VALUE = r"(?P<value>[^,.;!?\n]{2,60}?)"
_END = (
    r"\s*(?=$|[,.;:!?()\n]|\s(?:and|und|y|et|but|aber|pero|mais|since|seit|desde|depuis|now|"
    r"jetzt|ahora|maintenant|at|in|with|from|last|these|this|next|for|bei|mit|im|"
    r"an der|an einer|an dem|am|con|en|este|esta|avec|à|au|cette|ce|depuis|especially|besonders|sobre todo|surtout|"
    r"so|also|también|aussi|too|auch|so|ya|déjà|already|schon)\b)"
)
_DATE_VALUE = (
    r"(?P<value>\d{1,2}(?:st|nd|rd|th|\.|er)?(?:\s+(?:of|de))?\s+[^\W\d_]+"
    r"|[^\W\d_]+\s+\d{1,2}(?:st|nd|rd|th)?\b|\d{1,2}[./]\d{1,2}\.?)"
)
_NAME = r"(?P<value>[A-ZÀ-ÖØ-Þ][\w'’-]+(?:\s[A-ZÀ-ÖØ-Þ][\w'’-]+)?)"


def _fact(kind: str, pattern: str, confidence: float = 0.85) -> tuple[str, re.Pattern[str], float]:
    return kind, re.compile(pattern, re.UNICODE | re.IGNORECASE), confidence


def _named(kind: str, pattern: str) -> tuple[str, re.Pattern[str], float]:
    # A name is capitalized; only the lead-in ignores case.
    return kind, re.compile(r"(?i:" + pattern + r")" + _NAME, re.UNICODE), 0.85


_PARTNER_EN = r"\bmy (?:wife|husband|girlfriend|boyfriend|partner|fianc[ée]e?)(?:'s name)?(?: is called| is named| is|,)\s+"
_PARTNER_DE = r"\b(?:meine (?:frau|freundin|partnerin|verlobte)|mein (?:mann|freund|partner|verlobter))(?: heißt| heisst|,)\s+"
_PARTNER_ES = (
    r"\bmi (?:esposa|esposo|mujer|marido|novia|novio|pareja|prometida|prometido)(?: se llama|,)\s+"
)
_PARTNER_FR = r"\b(?:ma femme|mon mari|ma copine|mon copain|ma compagne|mon compagnon|ma fiancée|mon fiancé|mon partenaire|ma partenaire)(?: s'appelle| s’appelle|,)\s+"

FACT_RULES: dict[str, list[tuple[str, re.Pattern[str], float]]] = {
    "en": [
        _fact("birthday", rf"\bmy birthday is (?:on )?(?:the )?{_DATE_VALUE}"),
        _named("partner", _PARTNER_EN),
        _fact(
            "allergy",
            rf"\bi(?:'m| am) (?:very |really |deathly |severely )?allergic to {_VALUE}{_END}",
        ),
        _fact("job", rf"\bi (?:now )?work (?:as an?|at|for) {_VALUE}{_END}"),
        _fact("job", rf"\bmy (?:new )?job is {_VALUE}{_END}", 0.75),
        _fact("city", rf"\bi (?:now )?(?:live|am living|'m living) in {_VALUE}{_END}"),
        _fact("city", rf"\bi(?:'ve| have)? (?:just )?moved to {_VALUE}{_END}"),
        _fact("diet", r"\bi(?:'m| am) (?:a )?(?P<value>vegetarian|vegan|pescatarian)\b"),
        _fact("likes", rf"\bmy favou?rite \w+ is {_VALUE}{_END}", 0.7),
        _fact(
            "likes",
            rf"\bi (?:really )?(?:love|adore) (?!you\b|it\b|that\b|this\b|them\b|him\b|her\b){_VALUE}{_END}",
            0.6,
        ),
        _fact(
            "dislikes",
            rf"\bi (?:really )?(?:hate|can't stand|can’t stand|don't like|don’t like) (?!you\b|it\b|that\b|this\b|them\b|when\b){_VALUE}{_END}",
            0.6,
        ),
    ],
    "de": [
        _fact("birthday", rf"\bmein geburtstag ist (?:am )?{_DATE_VALUE}"),
        _fact("birthday", rf"\bich habe (?:am )?{_DATE_VALUE} geburtstag\b"),
        _named("partner", _PARTNER_DE),
        _fact("allergy", rf"\bich bin (?:stark |sehr )?allergisch (?:gegen|auf) {_VALUE}{_END}"),
        _fact("allergy", rf"\bich habe eine {_VALUE}allergie\b"),
        _fact("job", rf"\b(?:ich arbeite|arbeite ich) (?:jetzt )?(?:als|bei) {_VALUE}{_END}"),
        _fact("city", rf"\b(?:ich (?:wohne|lebe)|(?:wohne|lebe) ich) (?:jetzt )?in {_VALUE}{_END}"),
        _fact("city", rf"\bich bin (?:jetzt )?nach {_VALUE} gezogen\b"),
        _fact(
            "diet",
            r"\b(?:ich bin|bin ich) (?:jetzt )?(?P<value>vegetarier(?:in)?|veganer(?:in)?|vegan)\b",
        ),
        _fact("likes", rf"\bmein (?:lieblings\w+) ist {_VALUE}{_END}", 0.7),
        _fact("likes", rf"\bich liebe (?!dich\b|es\b|das\b|euch\b){_VALUE}{_END}", 0.6),
        _fact("dislikes", rf"\bich hasse (?!dich\b|es\b|das\b|euch\b|wenn\b){_VALUE}{_END}", 0.6),
    ],
    "es": [
        _fact("birthday", rf"\bmi cumpleaños es (?:el )?{_DATE_VALUE}"),
        _named("partner", _PARTNER_ES),
        _fact("allergy", rf"\bsoy (?:muy )?alérgic[oa] a(?:l)? {_VALUE}{_END}"),
        _fact("allergy", rf"\btengo alergia a(?:l)? {_VALUE}{_END}"),
        _fact("job", rf"\btrabajo (?:ahora )?(?:como|en|para) {_VALUE}{_END}"),
        _fact("city", rf"\b(?:ahora )?vivo (?:ahora )?en {_VALUE}{_END}"),
        _fact("city", rf"\bme (?:he )?(?:mudé|mudado) a {_VALUE}{_END}"),
        _fact("diet", r"\bsoy (?P<value>vegetarian[oa]|vegan[oa])\b"),
        _fact("likes", rf"\bmi \w+ favorit[oa] es {_VALUE}{_END}", 0.7),
        _fact("likes", rf"\bme encanta(?:n)? (?!que\b){_VALUE}{_END}", 0.6),
        _fact("dislikes", rf"\bodio (?!que\b){_VALUE}{_END}", 0.6),
    ],
    "fr": [
        _fact("birthday", rf"\bmon anniversaire (?:est|c'est|c’est) (?:le )?{_DATE_VALUE}"),
        _named("partner", _PARTNER_FR),
        _fact(
            "allergy",
            rf"\bje suis (?:très )?allergique (?:à la |à l'|à l’|aux |au |à ){_VALUE}{_END}",
        ),
        _fact("job", rf"\bje travaille (?:maintenant )?(?:comme|chez|pour) {_VALUE}{_END}"),
        _fact(
            "city", rf"\b(?:j'habite|j’habite|je vis) (?:maintenant )?(?:à|a|au|en) {_VALUE}{_END}"
        ),
        _fact("city", rf"\bj(?:'|’)ai déménagé (?:à|a|au|en) {_VALUE}{_END}"),
        _fact("diet", r"\bje suis (?P<value>végétarien(?:ne)?|végan(?:e)?|vegan(?:e)?)\b"),
        _fact("likes", rf"\bmon \w+ préféré (?:est|c'est|c’est) {_VALUE}{_END}", 0.7),
        _fact("likes", rf"\bj(?:'|’)adore (?!ça\b|ca\b|te\b|toi\b){_VALUE}{_END}", 0.6),
        _fact(
            "dislikes",
            rf"\bje déteste (?!ça\b|ca\b|te\b|toi\b|quand\b|que\b|qu){_VALUE}{_END}",
            0.6,
        ),
    ],
}
SINGLE_VALUED = frozenset({"birthday", "partner", "job", "city", "diet"})
"""Kinds a person has one of at a time: a newer statement supersedes the older."""
FACT_KINDS = ("birthday", "partner", "allergy", "job", "city", "diet", "likes", "dislikes")


def find_facts(text: str, sent_at: datetime, zone: tzinfo, language: str) -> list[FoundFact]:
    found: list[FoundFact] = []
    languages = [language] if language else list(LANGUAGES)
    for sentence, question in sentences(text):
        if question:
            continue
        for lang in languages:
            for kind, pattern, confidence in FACT_RULES[lang]:
                match = pattern.search(sentence)
                if match is None or _HEDGE[lang].search(sentence[: match.start()]):
                    continue
                clause = _clause(sentence, match.start())
                if _NEGATION[lang].search(clause) and not _allows_negation(clause):
                    continue
                value = " ".join(match.group("value").split()).strip(" '\"")
                value = re.sub(
                    r"^(?:a|an|the|ein|eine|einer|un|una|une|le|la|el|los|las|les|des|die|der|das)\s+|^l['’]",
                    "",
                    value,
                    flags=FLAGS,
                )
                if kind == "birthday":
                    day = resolve(value, sent_at.astimezone(zone), lang)
                    if day is None:
                        continue
                    value = day.strftime("%m-%d")
                if value and not any(f.kind == kind and f.value == value for f in found):
                    found.append(FoundFact(kind, value, confidence))
    return found


def _allows_negation(sentence: str) -> bool:
    """ "I don't like olives" is a fact although it says "not"."""
    return re.search(r"\bdon['’]t like\b|\bcan['’]t stand\b", sentence, FLAGS) is not None


def extract(text: str, sent_at: datetime, zone: tzinfo) -> Extraction:
    """Promises and facts the rules find in one message."""
    language = detect(text)
    return Extraction(
        language,
        find_commitments(text, sent_at, zone, language),
        find_facts(text, sent_at, zone, language),
    )
