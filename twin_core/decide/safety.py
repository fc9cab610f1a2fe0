"""The safety gate: what never goes out on its own, decided in code, not asked of a model.

`check(incoming, draft)` flags a contact's message (and the twin's draft answering it)
that touches money or payment details, passwords or codes, addresses or travel plans,
health, legal matters, a new commitment on the owner's behalf, a request to change the
twin, or that tries to steer the twin (prompt injection: ignore your rules, reveal other
conversations, run commands, send to others). A flagged draft is never auto-sent; the
owner sees the flags in words on the card.

Rules, in the languages the importers meet (English, German, Spanish, French, Italian,
Portuguese, Dutch), run on a normalized copy of the text: case-folded, accents and
invisible characters removed, lookalike letters (Cyrillic "а", fullwidth "ｐ") read as
the Latin ones they pass for, and letters spaced or dotted apart ("p a s s w o r d")
joined, so the plain tricks of hiding a word do not hide it from the gate. Patterns
are written accent-free for that reason.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


class Concern(enum.StrEnum):
    MONEY = "money"
    CREDENTIALS = "credentials"
    PLACES = "places"
    HEALTH = "health"
    LEGAL = "legal"
    COMMITMENT = "commitment"
    TWIN_CHANGE = "twin_change"
    INJECTION = "injection"


MEANING = {
    Concern.MONEY: "money or payment details",
    Concern.CREDENTIALS: "a password, code or login",
    Concern.PLACES: "an address or travel plans",
    Concern.HEALTH: "health",
    Concern.LEGAL: "a legal matter",
    Concern.COMMITMENT: "a new commitment on your behalf",
    Concern.TWIN_CHANGE: "a request to change how the twin behaves",
    Concern.INJECTION: "an attempt to give the twin instructions",
}


@dataclass(frozen=True, slots=True)
class Flag:
    concern: Concern
    where: str
    """`message` (the contact's words) or `draft` (the twin's answer)."""
    matched: str

    def describe(self) -> str:
        whose = "their message" if self.where == "message" else "the draft"
        return f'{whose} involves {MEANING[self.concern]} ("{self.matched}")'


@dataclass(frozen=True, slots=True)
class Verdict:
    flags: tuple[Flag, ...]

    @property
    def safe(self) -> bool:
        return not self.flags

    @property
    def concerns(self) -> list[Concern]:
        return sorted({f.concern for f in self.flags})

    def describe(self) -> str:
        if self.safe:
            return "the safety gate found nothing sensitive"
        return "safety gate: " + "; ".join(f.describe() for f in self.flags[:4])


# -- normalization ----------------------------------------------------------------------

_LOOKALIKE = str.maketrans(
    {
        # Cyrillic and Greek letters that pass for Latin ones.
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
        "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x",
        "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d",
    }
)  # fmt: skip
_SPACED = re.compile(r"\b(?:[a-z][ .\-_*]){3,}[a-z]\b")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The text as the gate reads it (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LOOKALIKE)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(
        c for c in text if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
    )
    text = _SPACED.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group(0)), text)
    return _SPACES.sub(" ", text).strip()


# -- rules ------------------------------------------------------------------------------
# Each concern: word patterns (joined into one regex with word boundaries) and, where a
# shape says it better than a word, raw patterns (IBANs, card numbers, one-time codes).


def _words(*patterns: str) -> str:
    return r"\b(?:" + "|".join(patterns) + r")\b"


_MONEY = _words(
    # en
    r"money", r"pay(?:s|ing|ment|ments|pal|ed)?", r"paid", r"lend", r"loan", r"borrow\w*",
    r"owe[sd]?", r"debt", r"cash", r"bank(?: account| details| transfer)?", r"iban", r"swift",
    r"bic", r"routing number", r"credit card", r"debit card", r"card number", r"cvv", r"cvc",
    r"invoice", r"refund", r"venmo", r"zelle", r"wire (?:me|transfer|the)", r"transfer",
    r"bitcoin", r"crypto", r"wallet", r"gift ?cards?", r"salary", r"rent money", r"deposit",
    r"bucks", r"dollars?", r"euros?", r"pounds? sterling", r"invest\w*", r"tax(?:es)?",
    r"send me \d+", r"\d+ ?grand",
    # de
    r"geld\w*", r"zahl\w*", r"bezahl\w*", r"uberweis\w*", r"leih\w*", r"schulde\w*",
    r"kredit\w*", r"konto\w*", r"bankverbindung", r"rechnung", r"bargeld", r"kohle",
    r"steuer\w*", r"kaution", r"miete",
    # es
    r"dinero", r"pag(?:o|a|ar|ame|aste|ue)", r"prest(?:a|ar|amo|ame)\w*", r"te debo", r"me debes",
    r"deuda", r"transferencia", r"cuenta bancaria", r"tarjeta", r"factura", r"efectivo",
    r"plata", r"ingres(?:o|ar|ame|a)", r"bizum", r"alquiler", r"impuestos?",
    # fr
    r"argent", r"pai(?:e|ement|er)", r"pay(?:e|er|ez)", r"me preter", r"un pret", r"dette",
    r"virement", r"compte bancaire", r"carte bancaire", r"carte bleue", r"rib",
    r"facture", r"especes", r"fric", r"thune", r"loyer", r"rembours\w*",
    # it, pt, nl
    r"soldi", r"pagamento", r"prestito", r"bonifico", r"conto corrente", r"dinheiro",
    r"pagar", r"emprestimo", r"transferencia bancaria", r"geld lenen", r"betal\w*",
    r"rekeningnummer", r"lening",
)  # fmt: skip
_MONEY_SHAPES = (
    r"[$€£¥]\s?\d|\d\s?(?:[$€£¥]|eur|usd|gbp|chf)\b",
    r"\b[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){3,7}\b",  # an IBAN
    r"\b(?:\d{4}[ -]?){3}\d{4}\b",  # a card number
)

_CREDENTIALS = _words(
    # en
    r"passwords?", r"passcode", r"pw", r"pwd", r"passwd", r"pass ?phrase", r"pin(?: code| number)?",
    r"login",
    r"log ?in details", r"credentials?", r"username", r"one[- ]time (?:code|password)",
    r"otp", r"2fa", r"two[- ]factor", r"verification code", r"security code",
    r"(?:sms|auth|access|login|reset|confirmation|door|gate|garage|alarm|entry|wifi|bank|"
    r"safe|lock|pin|security|verification|\d-digit) codes?",
    r"(?:what'?s|whats|send me|give me|tell me|forward|read(?: me)?) (?:\w+ ){0,2}codes?\b",
    r"codes? (?:is|was|for|to|you got|they \w+|from|that|i sent)",
    r"api key", r"token", r"secret key", r"private key", r"seed phrase", r"recovery phrase",
    r"security question", r"social security", r"ssn", r"passport number",
    # de
    r"passwort\w*", r"kennwort", r"zugangsdaten", r"geheimzahl", r"bestatigungscode",
    r"sicherheitscode", r"anmeldedaten", r"tan-?nummer", r"der code", r"den code",
    # es
    r"contrasena", r"la clave", r"codigo", r"datos de acceso",
    # fr
    r"mot de passe", r"mdp", r"identifiants?", r"code (?:de verification|secret|pin|recu)",
    r"le code",
    # it, pt, nl
    r"parola d'ordine", r"codice", r"senha", r"wachtwoord", r"inloggegevens",
)  # fmt: skip
_CREDENTIAL_SHAPES = (
    r"\b\d{3}[ -]?\d{3}\b(?=.*\b(?:code|codigo|otp|pin)\b)",
    r"\b(?:code|codigo|otp|pin)\b.*\b\d{3}[ -]?\d{3}\b",
)

_PLACES = _words(
    # en
    r"address", r"home address", r"where (?:do )?you live", r"where are you staying",
    r"zip code", r"postcode", r"postal code", r"street", r"avenue", r"apartment number",
    r"flight", r"flights", r"boarding", r"airport", r"fly(?:ing)? (?:out|to|home|back)",
    r"(?:leave|leaving|drop off) (?:the|my|our) keys?", r"train (?:ticket|leaves?|station)",
    r"(?:which|what) station", r"platform \d+", r"hotel", r"itinerary",
    r"travel(?:l?ing)?", r"vacation", r"holiday", r"trip (?:to|next|on|in)",
    r"(?:upcoming|next) trip", r"staying (?:in|at)",
    r"where (?:are|r) (?:you|u|ya)(?: guys| all| two)? (?:staying|living|going|headed|flying)",
    r"abroad", r"train ticket", r"booking",
    r"away from home", r"house (?:empty|keys?)", r"alarm code", r"gate code", r"location",
    r"coordinates", r"live location", r"pin (?:your|the) location",
    # de
    r"adresse", r"anschrift", r"wohnst du", r"strasse", r"postleitzahl", r"flug\w*",
    r"reise\w*", r"urlaub", r"hotel\w*", r"verreis\w*", r"standort", r"wohnung",
    r"wo (?:ubernachtest|schlafst|wohnt ihr|seid ihr untergebracht)",
    # es
    r"direccion", r"donde vives", r"calle", r"codigo postal", r"vuelo\w*", r"viaj\w*",
    r"vacaciones", r"aeropuerto", r"ubicacion", r"domicilio", r"te (?:alojas|quedas)",
    r"os (?:alojais|quedais)", r"donde (?:duermes|estas alojad[oa])",
    # fr
    r"adresse", r"ou (?:tu )?habites?", r"rue", r"vol", r"vols", r"voyage\w*", r"aeroport",
    r"vacances", r"localisation", r"domicile", r"billet", r"ou (?:tu )?(?:loges|dors|sejournes)",
    # it, pt, nl
    r"indirizzo", r"dove abiti", r"volo", r"viaggio", r"endereco", r"onde moras", r"voo",
    r"viagem", r"adres", r"waar woon je", r"vlucht", r"reis",
)  # fmt: skip
_PLACE_SHAPES = (
    r"\b\d{1,4},? (?:[a-z]+ ){0,3}(?:street|st|road|rd|avenue|ave|lane|blvd|drive)\b",
    r"\b(?:[a-z]+(?:strasse|str|weg|platz|gasse))\.? \d{1,4}\b",
    r"\b(?:calle|avenida|rue|via|rua) [a-z ]{2,30}\d{1,4}\b",
    r"\b[a-z]{2}\d{2,4}\b(?=.*\b(?:flight|flug|vuelo|vol|volo|voo|gate)\b)",
)

_HEALTH = _words(
    # en
    r"doctor", r"hospital", r"sick", r"illness", r"diagnos\w+", r"cancer", r"surgery",
    r"pregnan\w+", r"therapy", r"therapist", r"medication", r"meds", r"prescription",
    r"symptoms?", r"covid", r"positive test", r"depress\w*", r"anxiety", r"blood test",
    r"er visit", r"emergency room", r"injur\w+", r"disease", r"mental health", r"clinic",
    r"pills", r"std", r"hiv", r"miscarriage", r"rehab", r"test results", r"results came back",
    r"icu", r"intensive care", r"antidepressants?", r"antibiotics", r"chemo\w*", r"biopsy",
    r"mri", r"x-?rays?", r"blood pressure", r"diabet\w+", r"ambulance", r"paramedics?",
    r"overdose", r"suicid\w*", r"self-?harm", r"panic attacks?", r"sick leave", r"fever",
    r"the flu", r"allerg\w+", r"migraines?", r"(?:broke|broken|fractured) (?:my|his|her|a) \w+",
    # de
    r"arzt", r"arztin", r"krank\w*", r"krankenhaus", r"diagnose", r"schwanger\w*",
    r"medikament\w*", r"therapie", r"operation", r"notaufnahme", r"rezept", r"krebs",
    r"intensivstation", r"blutwerte", r"befund", r"fieber", r"antidepressiva",
    # es
    r"medico", r"enferm\w+", r"hospital", r"diagnostico", r"embarazad\w+", r"cirugia",
    r"medicamento\w*", r"terapia", r"sintomas?", r"urgencias", r"receta", r"uci",
    r"resultados de (?:la|las|los) (?:prueba|pruebas|analisis)", r"antidepresivos", r"fiebre",
    # fr
    r"medecin", r"malade", r"maladie", r"hopital", r"enceinte", r"chirurgie",
    r"medicaments?", r"ordonnance", r"therapie", r"urgences", r"docteur", r"reanimation",
    r"resultats (?:d'analyses?|des analyses|du test)", r"antidepresseurs", r"fievre",
    # it, pt, nl
    r"ospedale", r"malato", r"incinta", r"doente", r"gravida", r"ziekenhuis", r"ziek",
    r"dokter", r"zwanger",
)  # fmt: skip

_LEGAL = _words(
    # en
    r"lawyer", r"attorney", r"sue (?:you|him|her|them|me|us)", r"suing", r"lawsuit",
    r"court (?:date|case|order|hearing)", r"(?:in|to) court", r"contract",
    r"sign (?:this|the|here)", r"signature", r"notary", r"police", r"arrest\w*", r"custody",
    r"divorce", r"settlement", r"testify", r"subpoena", r"legal\w*", r"nda", r"will and",
    r"power of attorney", r"visa application",
    # de
    r"anwalt", r"anwaltin", r"gericht", r"klage\w*", r"verklag\w*", r"vertrag\w*",
    r"unterschr\w+", r"polizei", r"scheidung", r"notar",
    # es
    r"abogad\w+", r"demanda\w*", r"juicio", r"tribunal", r"contrato", r"firma\w*",
    r"policia", r"divorcio", r"notario", r"denuncia\w*",
    # fr
    r"avocat\w*", r"proces", r"tribunal", r"contrat", r"signe[rz]?", r"signature",
    r"plainte", r"divorce", r"notaire", r"gendarme\w*",
    # it, pt, nl
    r"avvocato", r"contratto", r"advogado", r"processo", r"contrato", r"advocaat",
    r"rechtbank", r"politie",
)  # fmt: skip

_COMMITMENT = _words(
    # en: a request for the owner's time, help or promise
    r"(?:can|could|would|will) you (?:please |maybe |still )?(?:pick|lend|help|cover|come|"
    r"bring|drive|sign|take|do|watch|host|babysit|meet|make it|be there|join|organi[sz]e|"
    r"handle|look after|feed|walk|promise|marry|fill in|stand in|go with)",
    r"would you be able to", r"are you (?:in|coming|able to)", r"promise (?:me|you)",
    r"vouch", r"be my (?:reference|witness|guarantor|plus one|date)",
    r"give me a (?:ride|lift)", r"introduce me", r"put in a good word", r"cover for me",
    r"i promise", r"i'll be there", r"count me in", r"i will pay", r"i'll pay", r"rsvp",
    r"save the date", r"confirm (?:for|that you)", r"sign (?:you|me) up", r"book (?:it|a)",
    r"commit\w*", r"deadline",
    # de
    r"kannst du (?:mich|mir|uns|morgen|am|kommen|helfen|abholen)", r"konntest du",
    r"kommst du", r"versprich\w*", r"ich verspreche", r"bist du dabei", r"zusag\w*",
    r"bin dabei",
    # es
    r"puedes (?:venir|ayudar\w*|recoger\w*|prestar\w*|traer\w*|hacer\w*)",
    r"podrias", r"vienes", r"prometes?", r"te lo prometo", r"cuento contigo",
    r"me confirmas",
    # fr
    r"tu peux (?:venir|m'aider|me|nous|passer|garder)", r"pourrais[- ]tu",
    r"tu viens", r"promets?", r"je te promets", r"tu confirmes", r"je compte sur toi",
    # it, pt, nl
    r"puoi venire", r"prometti", r"podes vir", r"prometes", r"kun je komen", r"beloof",
)  # fmt: skip
_DRAFT_COMMITMENT = _words(
    r"i(?:'ll| will) (?:be there|come|do it|pay|bring|pick|lend|take care|sign|help|host|"
    r"drive|cover|join|babysit|organi[sz]e|send you)",
    r"i promise", r"count me in", r"deal", r"it's a date", r"sure,? i can", r"yes,? i can",
    r"see you (?:at|on|tomorrow|tonight)", r"i(?:'m| am) in",
    r"ich komme", r"ich mache das", r"abgemacht", r"ich verspreche",
    r"alli estare", r"cuenta conmigo", r"te lo prometo", r"vale,? voy",
    r"j'y serai", r"je viens", r"compte sur moi", r"je te promets", r"c'est promis",
)  # fmt: skip

_TWIN_CHANGE = _words(
    r"(?:your|the) (?:settings?|policy|policies|rules|config\w*|mode|prompt|instructions)",
    r"(?:turn|switch) (?:on|off) (?:auto|the bot|the twin|the assistant)",
    r"auto[- ]?(?:reply|send|mode|approve)", r"(?:stop|start) (?:asking|checking|drafting)",
    r"(?:change|update|disable|enable|modify|reset) your (?!mind)\w+",
    r"from now on", r"whitelist", r"allowlist",
    r"tell your (?:bot|assistant|twin|ai)",
    r"(?:your|the) (?:bot|assistant|twin|ai) (?:should|must)",
    r"always (?:say yes|agree|reply|answer|approve|accept)",
    r"never (?:ask|tell|check with) (?:him|her|them|sam|the owner)", r"add me (?:to|as)",
    r"make me (?:an? )?admin",
    r"treat me as", r"without (?:asking|approval|checking)",
    r"dein(?:e|en)? (?:einstellungen|regeln|anweisungen)", r"ab (?:jetzt|sofort)",
    r"ohne (?:zu fragen|nachzufragen|freigabe)", r"schalte\w* \w+ (?:ab|aus|an|ein)",
    r"tus? (?:reglas|ajustes|instrucciones|configuracion)", r"a partir de ahora",
    r"de ahora en adelante", r"sin (?:preguntar|aprobacion)",
    r"(?:des)?activa (?:el|la|tu|tus) (?:modo|bot|respuestas?|envio)\w*",
    r"tes (?:regles|reglages|parametres|instructions)", r"a partir de maintenant",
    r"desormais", r"sans (?:demander|validation)",
    r"(?:des)?active[rz]? (?:le|la|ton|tes) (?:mode|bot|reponses?|envoi)\w*",
    r"d'ora in poi", r"a partir de agora", r"vanaf nu",
)  # fmt: skip

_INJECTION = _words(
    # en
    r"ignore (?:all |any |the |your |my |previous |prior |above |earlier )*(?:instructions?|"
    r"rules?|prompts?|guidelines|messages?|directions)",
    r"disregard (?:all |any |the |your |previous |prior |above )*\w+",
    r"forget (?:all |any |your |the |previous )*(?:instructions|rules|prompt|guidelines)",
    r"forget (?:everything|all)(?: you(?:'ve| have| were)? (?:been )?told| above| before)?",
    r"you are (?:now )?(?:dan|an? unfiltered \w+|in \w+ mode)",
    r"(?:contents?|dump) of (?:your |the )?(?:memory|database|inbox|history|context)",
    r"output all (?:\w+ )?data", r"(?:reply|respond|answer) (?:only|just) with",
    r"(?:send|text|message|email) (?!me\b|us\b)\w+ (?:a message|a text|an email|saying)",
    r"system prompt", r"developer mode", r"system ?:", r"(?:system|admin|safety) override",
    r"override (?:\w+ )?(?:safety|rules|instructions|settings)", r"the owner (?:says|said|wants)",
    r"jailbreak", r"dan mode", r"you are now",
    r"act as", r"pretend (?:to be|you are)", r"roleplay as", r"new instructions?",
    r"(?:as an?|you are an?) (?:ai|language model|assistant|bot|llm)",
    r"are you (?:an? )?(?:ai|bot)",
    r"(?:reveal|show|tell|give|send|forward|share|print|dump|list|leak|paste|repeat)"
    r"(?: me| us)? (?:\w+ ){0,3}(?:other|his|her|their|all (?:your|the)|previous|private|every)"
    r"(?: \w+){0,2} (?:conversations?|chats?|messages|history|contacts|dms)",
    r"your (?:chats?|conversations?|messages|dms) with",
    r"(?:your|his|her|their) other (?:chats?|conversations?|dms|people)",
    r"someone else'?s (?:chats?|messages|conversations?)", r"what did \w+ (?:tell|write to) you",
    r"what (?:has|have) \w+ (?:told|written) you",
    r"who else (?:do you|are you) (?:talk|text|writ)\w*",
    r"(?:run|execute|eval) (?:this |the |these |the following )?(?:commands?|code|scripts?|shell)",
    r"rm -rf", r"sudo", r"curl (?:-|https?)", r"bash -c", r"powershell",
    r"(?:send|forward|text|message|email) (?:this|that|it|the following) to(?! me\b| us\b)",
    r"(?:send|forward|text|message|email) (?:a message )?to (?:everyone|all your contacts)",
    r"on behalf of", r"all your contacts",
    # de
    r"ignorier\w* (?:\w+ ){0,4}(?:anweisungen|regeln|nachrichten|befehle)",
    r"vergiss (?:\w+ ){0,3}(?:anweisungen|regeln)", r"du bist (?:jetzt|nun)", r"tu so als",
    r"(?:zeig|sag|schick|leite)\w* (?:mir )?(?:\w+ ){0,3}(?:chats?|nachrichten|verlauf|gesprache)",
    r"was hat \w+ (?:gesagt|geschrieben)", r"vergiss (?:alles|alle)", r"antworte nur mit",
    r"fuhr\w* (?:diesen )?befehl", r"schick\w* das an",
    # es
    r"ignora\w* (?:\w+ ){0,4}(?:instrucciones|reglas|mensajes|ordenes)",
    r"olvida\w* (?:\w+ ){0,3}(?:instrucciones|reglas)", r"ahora eres", r"finge (?:ser|que)",
    r"(?:muestra|ensena|dime|manda|reenvia)\w* (?:\w+ ){0,3}"
    r"(?:chats?|mensajes|conversaciones|historial)",
    r"que (?:te )?(?:dijo|escribio) \w+", r"olvida(?:te de)? todo", r"responde solo con",
    r"ejecuta\w*", r"envia(?:le)? esto a",
    # fr
    r"ignore[rz]? (?:\w+ ){0,4}(?:instructions|regles|consignes|messages)",
    r"oublie[rz]? (?:\w+ ){0,3}(?:instructions|regles|consignes)", r"tu es maintenant",
    r"fais comme si", r"oublie tout", r"reponds (?:uniquement|seulement) (?:par|avec)",
    r"(?:montre|donne|envoie|transfere|dis)[- ]?(?:moi)? (?:\w+ ){0,2}"
    r"(?:ses|leurs|tes|les|d'autres|autres) (?:conversations|messages|discussions|historique)",
    r"qu'est-ce que \w+ (?:t'a|a) (?:dit|ecrit)", r"execute[rz]?", r"envoie (?:ca|ceci) a",
    # it, pt, nl
    r"ignora (?:\w+ ){0,3}istruzioni", r"ignore (?:\w+ ){0,3}instrucoes",
    r"negeer (?:\w+ ){0,3}instructies", r"mostrami (?:\w+ ){0,3}(?:chat|messaggi)",
)  # fmt: skip

_INJECTION_SHAPES = (
    r"(?:^|\s)/(?:approve|auto|edit|forget|export|merge|resume|teach|reject|why|cancel)\b",
    r"\[/?(?:system|inst|admin)\]",
    r"<\|",
    r"###",
    r"\$\(",
    r"<script",
    r"`{3}",
)

_RULES: tuple[tuple[Concern, tuple[re.Pattern[str], ...]], ...] = tuple(
    (concern, tuple(re.compile(p) for p in patterns))
    for concern, patterns in (
        (Concern.INJECTION, (_INJECTION, *_INJECTION_SHAPES)),
        (Concern.TWIN_CHANGE, (_TWIN_CHANGE,)),
        (Concern.CREDENTIALS, (_CREDENTIALS, *_CREDENTIAL_SHAPES)),
        (Concern.MONEY, (_MONEY, *_MONEY_SHAPES)),
        (Concern.PLACES, (_PLACES, *_PLACE_SHAPES)),
        (Concern.HEALTH, (_HEALTH,)),
        (Concern.LEGAL, (_LEGAL,)),
        (Concern.COMMITMENT, (_COMMITMENT,)),
    )
)
_DRAFT_RULES = tuple(
    (c, (*patterns, re.compile(_DRAFT_COMMITMENT)) if c is Concern.COMMITMENT else patterns)
    for c, patterns in _RULES
    if c is not Concern.INJECTION
)


def _scan(
    text: str, where: str, rules: Iterable[tuple[Concern, tuple[re.Pattern[str], ...]]]
) -> list[Flag]:
    plain = normalize(text)
    flags: list[Flag] = []
    for concern, patterns in rules:
        for pattern in patterns:
            found = pattern.search(plain)
            if found:
                flags.append(Flag(concern, where, found.group(0).strip()[:40]))
                break
    return flags


def check(incoming: str, draft: str = "") -> Verdict:
    """Flag what must not go out without the owner: in the contact's `incoming`
    message(s) every concern, in the twin's `draft` all but injection."""
    return Verdict(tuple(_scan(incoming, "message", _RULES) + _scan(draft, "draft", _DRAFT_RULES)))
